"""Every user-visible key exists in both languages, and every key the code uses is defined."""
import re
from pathlib import Path

from core.i18n import TEXT, t

REPO = Path(__file__).resolve().parent.parent


def test_every_entry_has_zh_and_en():
    for key, entry in TEXT.items():
        assert entry.get("zh") and entry.get("en"), key
        assert re.search(r"[\u4e00-\u9fff]", entry["zh"]), f"{key}: zh text has no Chinese"


def test_every_key_used_in_code_is_defined():
    used = set()
    for folder in ("pages", "ui", "layers"):
        for p in (REPO / folder).rglob("*.py"):
            text = p.read_text(encoding="utf-8")
            used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", text))
            for a, b in re.findall(r"""\bpage\(\s*["']([a-z_]+\.[a-z0-9_.]+)["'](?:\s*,\s*["']([a-z_]+\.[a-z0-9_.]+)["'])?""", text):
                used |= {k for k in (a, b) if k}
    used |= set(re.findall(r'"(nav\.[a-z_]+)"', (REPO / "app.py").read_text(encoding="utf-8")))
    missing = sorted(k for k in used if k not in TEXT)
    assert not missing, missing


def test_status_and_basemap_keys_cover_catalog_and_options():
    from layers import catalog
    from ui import mapview

    for spec in catalog.LAYERS:
        assert f"map.status.{spec.status}" in TEXT
    for b in mapview.BASEMAPS:
        assert f"basemap.{b}" in TEXT


def test_format_and_fallback():
    assert t("data.replace.saved", "en", name="x", n=3) == "Saved: x (3 features). The map and indicators now use it."
    assert t("nav.map", "fr") == t("nav.map", "zh")

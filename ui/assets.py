"""Offline map assets: copy Leaflet (PyPI xstatic-leaflet) and Leaflet.draw 1.0.4 (shipped as
static files by PyPI django-leaflet, installed --no-deps) into ./static/vendor/.

Streamlit serves ./static at /app/static/ (``enableStaticServing`` in .streamlit/config.toml),
so the folium map inside the streamlit-folium iframe loads Leaflet from the dashboard's own
server and never from a CDN. Run by ``make`` (``python -m ui.assets``); idempotent.
"""
from __future__ import annotations

import filecmp
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENDOR = REPO / "static" / "vendor"
URL_PREFIX = "/app/static/vendor"

LEAFLET_FILES = ["leaflet.js", "leaflet.css", "images/layers.png", "images/layers-2x.png",
                 "images/marker-icon.png", "images/marker-icon-2x.png", "images/marker-shadow.png"]


DRAW_FILES = ["leaflet.draw.js", "leaflet.draw.css", "images/spritesheet.png",
              "images/spritesheet-2x.png", "images/spritesheet.svg"]


def _leaflet_src() -> Path:
    import xstatic.pkg.leaflet as xl

    return Path(xl.BASE_DIR)


def _draw_src() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("leaflet")  # django-leaflet's package folder (not imported)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("django-leaflet is not installed: pip install --no-deps -r requirements-nodeps.txt")
    return Path(list(spec.submodule_search_locations)[0]) / "static" / "leaflet" / "draw"


def _sources():
    yield "leaflet", _leaflet_src(), LEAFLET_FILES
    yield "leaflet-draw", _draw_src(), DRAW_FILES


def install(vendor: Path = VENDOR) -> list[Path]:
    """Copy the assets when missing or different; return the files written."""
    written = []
    for name, src_root, files in _sources():
        for rel in files:
            src, dst = src_root / rel, vendor / name / rel
            if dst.is_file() and filecmp.cmp(src, dst, shallow=False):
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            written.append(dst)
    return written


def missing(vendor: Path = VENDOR) -> list[str]:
    return [f"{name}/{rel}" for name, _, files in _sources() for rel in files
            if not (vendor / name / rel).is_file()]


if __name__ == "__main__":
    files = install()
    print(f"[ui.assets] {len(files)} file(s) copied to {VENDOR}" if files
          else f"[ui.assets] up to date ({VENDOR})")
    sys.exit(0)

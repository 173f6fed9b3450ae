"""Offline map assets: copy Leaflet (PyPI xstatic-leaflet, pinned) into ./static/vendor/.

Streamlit serves ./static at /app/static/ (``enableStaticServing`` in .streamlit/config.toml),
so the folium map inside the streamlit-folium iframe loads Leaflet from the dashboard's own
server and never from a CDN. Run by ``make`` (``python -m layers.assets``); idempotent.
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


def _leaflet_src() -> Path:
    import xstatic.pkg.leaflet as xl

    return Path(xl.BASE_DIR)


def install(vendor: Path = VENDOR) -> list[Path]:
    """Copy the assets when missing or different; return the files written."""
    written = []
    src_root = _leaflet_src()
    for rel in LEAFLET_FILES:
        src, dst = src_root / rel, vendor / "leaflet" / rel
        if dst.is_file() and filecmp.cmp(src, dst, shallow=False):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        written.append(dst)
    return written


def missing(vendor: Path = VENDOR) -> list[str]:
    return [rel for rel in LEAFLET_FILES if not (vendor / "leaflet" / rel).is_file()]


if __name__ == "__main__":
    files = install()
    print(f"[layers.assets] {len(files)} file(s) copied to {VENDOR}" if files
          else f"[layers.assets] up to date ({VENDOR})")
    sys.exit(0)

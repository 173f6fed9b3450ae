"""A vector layer's geometry served once per data build as a static file: the geometry array of a
FeatureCollection, coordinates rounded to ``GEO_DECIMALS``, is written to
``static/cache/geo/<sha256 of its content>.json`` (``split_geometry``, ``geometry_file``), which
Streamlit serves at ``/app/static/cache/geo/…`` (localhost); the page's script then carries only the
escaped properties and the map's JS fetches the geometry (``ui.map_vectors.FetchedGeoJson``). Files
nobody asked for in ``GEO_KEEP_DAYS`` are pruned; when the folder cannot be written,
``geometry_url`` says so with None and the layer is embedded after all.
"""
from __future__ import annotations

import hashlib
import json
import os
import time

from ui.assets import REPO

# A layer's geometry goes to static/cache/geo/<sha256 of its content>.json (served by Streamlit at
# /app/static/cache/geo/…, localhost) and the map's JS fetches it; the page's script carries only
# the (escaped) properties. A rerun then sends a few KB instead of ~1 MB, folium renders it in a
# few ms, and the browser keeps the file (content-addressed: a new build means a new name).
GEO_DIR = REPO / "static" / "cache" / "geo"
GEO_URL = "/app/static/cache/geo"
GEO_DECIMALS = 5  # ~1 m: far below a screen pixel at any zoom the province map is used at
GEO_KEEP_DAYS = 30  # files nobody asked for in this long are pruned


def split_geometry(fc: dict) -> tuple[list[dict], str, str]:
    """(properties per feature, geometry array as compact JSON, its SHA-256) of a
    FeatureCollection; coordinates rounded to ``GEO_DECIMALS``."""
    def rnd(c):
        if isinstance(c, (list, tuple)):
            if c and isinstance(c[0], (int, float)):
                return [round(float(v), GEO_DECIMALS) for v in c]
            return [rnd(x) for x in c]
        return c

    geoms = [{"type": f["geometry"]["type"], "coordinates": rnd(f["geometry"]["coordinates"])}
             if f["geometry"].get("type") != "GeometryCollection" else f["geometry"] for f in fc["features"]]
    data = json.dumps(geoms, separators=(",", ":"))
    return [f["properties"] for f in fc["features"]], data, hashlib.sha256(data.encode()).hexdigest()[:24]


def geometry_file(data: str, digest: str, root=None) -> str:
    """Write the geometry file when missing (atomically); its URL under /app/static."""
    root = GEO_DIR if root is None else root
    path = root / f"{digest}.json"
    if not path.is_file():
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".{digest}.{os.getpid()}.tmp"
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, path)
        _prune(root)
    return f"{GEO_URL}/{digest}.json"


def geometry_url(data: str, digest: str) -> str | None:
    """``geometry_file``'s URL, or None when the static folder cannot be written."""
    try:
        return geometry_file(data, digest)
    except OSError:
        return None


def _prune(root) -> None:
    cutoff = time.time() - GEO_KEEP_DAYS * 86400
    for p in root.glob("*.json"):
        try:
            if p.stat().st_atime < cutoff and p.stat().st_mtime < cutoff:
                p.unlink()
        except OSError:
            pass

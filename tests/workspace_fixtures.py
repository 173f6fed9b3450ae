"""Files for the workspace tests, made in code with rasterio/geopandas (no mocks):
a 30 m CLCD-coded land cover in the project's Albers CRS around three demo parks near Lanzhou
(兰州新区 P01, 白银高新区 P02, 兰州经开区 P09), its four quadrant tiles, and an OSM XML extract."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyproj
import rasterio
from affine import Affine

from core.crs import EQUAL_AREA

LANZHOU_BOX = (103.45, 35.95, 104.45, 36.75)  # lon/lat, holds P01, P02, P09


def clcd_codes(height: int, width: int) -> np.ndarray:
    """CLCD codes 1-9 in blocks of a few km (deterministic), a nodata (0) border of 20 pixels."""
    r = np.arange(height)[:, None] // 97
    c = np.arange(width)[None, :] // 89
    codes = (1 + (r * 7 + c * 3) % 9).astype("uint8")
    codes[:20, :] = 0
    codes[:, :20] = 0
    return codes


def grid(box=LANZHOU_BOX, res: float = 30.0, crs=EQUAL_AREA):
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    xs, ys = np.meshgrid(np.linspace(box[0], box[2], 21), np.linspace(box[1], box[3], 21))
    x, y = tr.transform(xs.ravel(), ys.ravel())
    x0, y1 = math.floor(min(x) / res) * res, math.ceil(max(y) / res) * res
    width = int(math.ceil((max(x) - x0) / res))
    height = int(math.ceil((y1 - min(y)) / res))
    return Affine(res, 0, x0, 0, -res, y1), width, height


def write_tif(path: Path, data: np.ndarray, transform: Affine, crs=EQUAL_AREA, nodata=0) -> Path:
    profile = dict(driver="GTiff", width=data.shape[1], height=data.shape[0], count=1, dtype=data.dtype.name,
                   transform=transform, tiled=True, blockxsize=256, blockysize=256, compress="deflate")
    if crs is not None:
        profile["crs"] = pyproj.CRS(crs).to_wkt()
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return Path(path)


def clcd_landcover(path: Path, box=LANZHOU_BOX, crs=EQUAL_AREA, nodata=0, shift: int = 0) -> Path:
    """The land cover (``shift`` rolls the code pattern: a second "year" on the same grid)."""
    t, w, h = grid(box, crs=crs)
    codes = clcd_codes(h, w)
    if shift:
        inner = codes[20:, 20:]
        codes[20:, 20:] = 1 + (inner.astype(int) - 1 + shift) % 9
    return write_tif(path, codes, t, crs=crs, nodata=nodata)


def quadrant_tiles(src: Path, folder: Path, crs_override=None) -> list[Path]:
    """Split ``src`` into four tiles on the same grid; ``crs_override`` writes the last one in
    another CRS (to test the refusal)."""
    folder.mkdir(parents=True, exist_ok=True)
    with rasterio.open(src) as ds:
        data, t, nodata, crs = ds.read(1), ds.transform, ds.nodata, ds.crs
    h, w = data.shape
    out = []
    for i, (r0, r1, c0, c1) in enumerate(((0, h // 2, 0, w // 2), (0, h // 2, w // 2, w),
                                          (h // 2, h, 0, w // 2), (h // 2, h, w // 2, w))):
        tt = t @ Affine.translation(c0, r0)
        tile_crs = crs_override if (crs_override is not None and i == 3) else crs
        out.append(write_tif(folder / f"tile_{i}.tif", data[r0:r1, c0:c1].copy(), tt, crs=tile_crs, nodata=nodata))
    return out


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="tests">
{nodes}
 <way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="motorway"/><tag k="name" v="G30"/></way>
 <way id="2"><nd ref="3"/><nd ref="4"/><tag k="highway" v="trunk"/></way>
 <way id="3"><nd ref="5"/><nd ref="6"/><tag k="railway" v="rail"/></way>
 <node id="7" lat="{st_lat}" lon="{st_lon}" version="1"><tag k="railway" v="station"/><tag k="name" v="站"/></node>
</osm>
"""


def osm_near(lon: float, lat: float, path: Path, empty: bool = False) -> Path:
    """An OSM XML file with a motorway, a trunk road, a railway and a station a few km from a point
    (``empty``: the same ways without any transport tag)."""
    pts = {1: (lon - 0.05, lat + 0.06), 2: (lon + 0.05, lat + 0.06), 3: (lon - 0.05, lat - 0.09),
           4: (lon + 0.05, lat - 0.09), 5: (lon + 0.12, lat - 0.05), 6: (lon + 0.12, lat + 0.05)}
    nodes = "\n".join(f' <node id="{i}" lat="{y}" lon="{x}" version="1"/>' for i, (x, y) in pts.items())
    text = OSM_XML.format(nodes=nodes, st_lat=lat + 0.03, st_lon=lon - 0.08)
    if empty:
        text = (text.replace('k="highway" v="motorway"', 'k="building" v="yes"')
                .replace('k="highway" v="trunk"', 'k="building" v="yes"')
                .replace('k="railway" v="rail"', 'k="landuse" v="grass"')
                .replace('k="railway" v="station"', 'k="amenity" v="bench"'))
    path.write_text(text, encoding="utf-8")
    return path


def workspace_store(tmp_path: Path, monkeypatch, location=None):
    """A fresh store in ``tmp_path`` (or at ``location``: a DuckDB file or a PostgreSQL URL, see the
    ``store_at`` fixture) whose import and workspace folders are in ``tmp_path`` (yields it, closed
    afterwards): the body of the workspace tests' ``store`` fixture."""
    from storage.store import Store

    monkeypatch.setenv("GANSU_IMPORT_DIR", str(tmp_path / "import"))
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "workspace"))
    s = Store(location or tmp_path / "store.duckdb")
    yield s
    s.close()


def page_store(tmp_path: Path, monkeypatch, location=None):
    """A fresh store (in ``tmp_path``, or at ``location`` as for ``workspace_store``), workspace and
    import folder for page tests (AppTest), Streamlit's caches and the background jobs forgotten
    before and after (yields the store, closed afterwards)."""
    import streamlit as st

    from storage.store import Store
    from ui import jobs

    location = location or tmp_path / "store.duckdb"
    monkeypatch.setenv("GANSU_STORE", str(location))
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "workspace"))
    monkeypatch.setenv("GANSU_IMPORT_DIR", str(tmp_path / "import"))
    (tmp_path / "import").mkdir(exist_ok=True)
    st.cache_resource.clear()
    st.cache_data.clear()
    jobs.clear()
    s = Store(location)
    yield s
    st.cache_resource.clear()
    st.cache_data.clear()
    jobs.clear()
    s.close()

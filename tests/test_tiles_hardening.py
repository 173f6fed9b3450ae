"""Hardening of the map tiles (layers/tiles.py, ui/tileserver.py): defects a review found, each
shown on real files through the real code paths (rio-tiler, GDAL, a real uvicorn server; no mocks),
now fixed:

- A GCJ-02 tile at a low zoom picks its overview from the spacing of the tile's top row (latitude
  85° at zoom 0, where a UTM or Albers grid folds): it reads the raster at full resolution, where
  the plain tile reads the coarsest overview (a 470 Mpx land cover read whole for one tile).
- A continuous raster whose nodata is NaN (registration accepts it) cannot be drawn: every tile
  that holds a nodata cell or reaches past the raster raises IndexError in the colour ramp.
- A tile of a dataset removed to the recycle bin inside the re-check interval is a server error
  (500: its COG moved), not a refusal.
- A tile number too long for Python's int parser is a server error (500), not a client error.
"""
from __future__ import annotations

import io

import numpy as np
import pyproj
import pytest
import rasterio
from PIL import Image
from rasterio.enums import Resampling

from core.crs import EQUAL_AREA
from layers import tiles
from storage import accounts, raster_register
from storage import workspace as ws
from storage.accounts import Principal
from tests import workspace_fixtures as wf
from ui import tileserver

SHELL = Principal("shell", "admin", None, "shell")
ROOT = Principal("root", "admin", None, "password")
BASE, FINE_OVR, COARSE_OVR = 1, 2, 3  # the code each level of the layered raster holds
RGB = {BASE: (255, 0, 0), FINE_OVR: (0, 255, 0), COARSE_OVR: (0, 0, 255)}
COLORS = {c: "#%02x%02x%02x" % v for c, v in RGB.items()}


def _layered(path, crs):
    """A 500 m raster over most of Gansu whose levels hold different codes: full resolution 1,
    overviews 2, 4, 8 → 2, overviews 16, 32, 64 → 3 (each level built, then the base rewritten):
    the colour of a tile pixel tells which level was read."""
    t, w, h = wf.grid((96.0, 33.0, 106.0, 41.0), res=500.0, crs=crs)
    wf.write_tif(path, np.full((h, w), FINE_OVR, np.uint8), t, crs=crs)
    with rasterio.open(path, "r+") as ds:
        ds.build_overviews([2, 4, 8], Resampling.nearest)
    with rasterio.open(path, "r+") as ds:
        ds.write(np.full((h, w), COARSE_OVR, np.uint8), 1)
        ds.build_overviews([16, 32, 64], Resampling.nearest)
    with rasterio.open(path, "r+") as ds:
        ds.write(np.full((h, w), BASE, np.uint8), 1)
    return path


def _colours(png: bytes) -> set:
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).reshape(-1, 4)
    return {tuple(v) for v in a[a[:, 3] > 0][:, :3].tolist()}


@pytest.mark.parametrize("crs, z", [("EPSG:32648", 0), ("EPSG:32648", 1), ("albers", 0)])
def test_a_gcj_tile_at_a_low_zoom_reads_an_overview_not_the_full_resolution(tmp_path, crs, z):
    """At zoom 0 a tile pixel is ~125 km on the ground over Gansu: the plain tile (rio-tiler) reads
    the coarsest overview (code 3). The GCJ-02 tile must read a level at least as coarse as the
    tile's pixels too; it reads the full-resolution raster (code 1; zoom 1 on UTM: a fine overview)."""
    path = _layered(tmp_path / "layered.tif", EQUAL_AREA if crs == "albers" else crs)
    x, y = tiles.tile_of(101.0, 37.0, z)
    plain = tiles.render_tile(path, z, x, y, colors=COLORS)
    assert _colours(plain) == {RGB[COARSE_OVR]}  # rio-tiler: the coarsest overview
    shifted = tiles.render_tile(path, z, x, y, colors=COLORS, gcj=True)
    assert _colours(shifted) == {RGB[COARSE_OVR]}, "the GCJ-02 tile read a finer level than its pixels need"


def test_ramp_tiles_of_a_criterion_raster_with_nan_nodata_are_drawn(tmp_path, monkeypatch):
    """A criterion raster with nodata = NaN is registered (a COG written); its tiles, plain and
    GCJ-02, must draw: values on the ramp, NaN cells and the area past the raster transparent."""
    from indicators import measures

    store = next(wf.workspace_store(tmp_path, monkeypatch))
    t, w, h = wf.grid((103.6, 36.4, 103.7, 36.5))
    vals = np.tile(np.linspace(1000.0, 2000.0, w, dtype="float32"), (h, 1))
    vals[: h // 2, :] = np.nan  # the northern half: no data
    src = tmp_path / "ghi.tif"
    with rasterio.open(src, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=EQUAL_AREA,
                       transform=t, nodata=np.nan) as ds:
        ds.write(vals, 1)
    d = raster_register.register_raster(store, src, "criterion",
                                        params=measures.PARSERS["criterion"]("x:nan_ghi:mean:higher:kWh/m2")[1])
    z = tiles.native_zoom(d.display_path)
    lon, lat = pyproj.Transformer.from_crs(EQUAL_AREA, "EPSG:4326", always_xy=True).transform(*(t * (w / 2, h / 2)))
    for gcj in (False, True):
        png = tiles.render_tile(d.display_path, z, *tiles.tile_of(lon, lat, z), ramp="viridis",
                                stretch=(1000.0, 2000.0), gcj=gcj)
        alpha = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))[..., 3]
        assert (alpha == 255).any() and (alpha == 0).any()


@pytest.fixture()
def app(tmp_path, monkeypatch):
    """The tile routes on a real server over a store with an account and a registered land cover;
    access re-checked every hour (a request inside the interval)."""
    from tests.test_tiles import serve

    store = next(wf.workspace_store(tmp_path, monkeypatch))
    accounts.add(store, "root", "pw-root-1234567", "admin", actor=SHELL)
    d = raster_register.register_landcover(store, [wf.clcd_landcover(tmp_path / "lc.tif")], legend="clcd", actor=SHELL)
    monkeypatch.setattr(tileserver, "RECHECK_S", 3600.0)
    monkeypatch.setattr(tileserver, "_STORE", [])
    monkeypatch.delenv("GANSU_ANONYMOUS_VIEW", raising=False)
    tileserver.use_store(store)
    with serve(tileserver.routes()) as base:
        yield Client(base), store, d
    tileserver.revoke("root")
    store.close()


class Client:
    """GET against the real server: the status code."""

    def __init__(self, base: str):
        self.base = base

    def get(self, path: str):
        from tests.test_tiles import _get

        return _Resp(_get(self.base, path, 0, 0, 0)[0])


class _Resp:
    def __init__(self, status: int):
        self.status_code = status


def _tile_url(template: str, z: int, x, y) -> str:
    return template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def test_a_tile_of_a_dataset_removed_to_the_bin_is_refused_not_a_server_error(app):
    """Removed (its folder, COG included, moved to the recycle bin) inside the re-check interval: the
    tile must be refused (403/404/410), not fail with 500."""
    client, store, d = app
    url = tileserver.grant(d.id, d.display_path, ROOT, colors=COLORS)
    z = tiles.native_zoom(d.display_path)
    x, y = tiles.tile_of(103.68, 36.45, z)
    assert client.get(_tile_url(url, z, x, y)).status_code == 200
    ws.remove(store, d.id, actor=ROOT)
    status = client.get(_tile_url(url, z, x, y)).status_code
    assert status in (403, 404, 410), status


def test_a_tile_number_too_long_to_parse_is_a_client_error(app):
    """x with 5,000 digits (beyond Python's int-from-string limit): a 4xx, not a 500 with a traceback
    in the server's log, for anybody, before any grant is looked at."""
    client, _store, _d = app
    status = client.get("/tiles/not-a-grant/1/" + "9" * 5000 + "/0.png").status_code
    assert 400 <= status < 500, status

"""Map tiles from the user's rasters: the COG written at registration (``layers.cog``), a tile's
pixels against the raster's classes at their centres (``layers.tiles``, also shifted to GCJ-02),
and the tile service's grants (``ui.tileserver``) through a real HTTP server (uvicorn): a tile of a
dataset its viewer may not see is refused."""
from __future__ import annotations

import contextlib
import io
import math
import socket
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pyproj
import pytest
import rasterio
from PIL import Image

from core import crs as ccrs
from layers import cog, tiles
from storage import accounts, raster_register
from storage.accounts import Principal
from tests import workspace_fixtures as wf

COLORS = {1: "#fae39c", 2: "#446f33", 3: "#33a02c", 4: "#abd37b", 5: "#1ee8ff", 6: "#4e82ea", 7: "#e0a040",
          8: "#dc1c14", 9: "#888888"}  # code 9 gets a colour; the test removes some to check transparency
SHELL = Principal("shell", "admin", None, "shell")


def _rgb(h):
    return tuple(int(h[i:i + 2], 16) for i in (1, 3, 5))


def _pixel_lonlat(z, x, y, px, py):
    """WGS84 lon/lat of the centre of pixel (px, py) of tile z/x/y (Web Mercator)."""
    n = 2 ** z * tiles.TILE
    gx, gy = x * tiles.TILE + px + 0.5, y * tiles.TILE + py + 0.5
    lon = gx / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * gy / n))))
    return lon, lat


@pytest.fixture(scope="module")
def landcover(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiles")
    src = wf.clcd_landcover(d / "lc.tif")
    out = cog.write_cog(src, d / "cog.tif", classes=True)
    return src, out


@pytest.fixture(scope="module")
def speckled(tmp_path_factory):
    """Codes 0-9 drawn per 30 m pixel (a class edge at every pixel: any blending shows)."""
    d = tmp_path_factory.mktemp("tiles_fine")
    t, w, h = wf.grid()
    codes = np.random.default_rng(11).integers(0, 10, size=(h, w)).astype("uint8")
    src = wf.write_tif(d / "fine.tif", codes, t)
    return src, cog.write_cog(src, d / "cog.tif", classes=True)


def test_the_cog_has_every_pixel_tiles_and_overviews(landcover):
    src, out = landcover
    with rasterio.open(src) as a, rasterio.open(out) as b:
        assert (a.read(1) == b.read(1)).all() and a.transform == b.transform and b.nodata == 0
        assert b.profile["tiled"] and b.profile["blockxsize"] == cog.BLOCK and b.overviews(1)[:2] == [2, 4]
    assert cog.tile_ready(out) and not cog.tile_ready(src)  # the source: 256-px blocks, no overviews


@pytest.mark.parametrize("gcj, fine", [(False, False), (True, False), (False, True), (True, True)])
def test_tile_pixels_match_the_raster_classes_at_their_centres(landcover, speckled, gcj, fine):
    """At the native zoom, 400 sampled pixels of a tile near P01 have the colour of the raster's class
    under their centre (nearest), or are transparent where the raster has nodata or a code without
    a colour; shifted to GCJ-02, the same holds at the WGS84 point under the GCJ-02 pixel."""
    src, out = speckled if fine else landcover
    colors = {k: v for k, v in COLORS.items() if k != 9}  # code 9: no colour -> transparent
    z = tiles.native_zoom(out) + (2 if fine else 0)  # speckled: 30 m pixels seen ~4 tile pixels wide
    with rasterio.open(src) as ds:
        data = ds.read(1)
        to_ds = pyproj.Transformer.from_crs("EPSG:4326", ds.crs, always_xy=True)
        inv = ~ds.transform
        lon0, lat0 = 103.68, 36.45
        x, y = tiles.tile_of(*(ccrs.wgs84_to_gcj02(lon0, lat0) if gcj else (lon0, lat0)), z)
        png = tiles.render_tile(out, z, x, y, colors=colors, gcj=gcj)
        img = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
        rng = np.random.default_rng(5)
        checked = disagree = transparent = 0
        for px, py in rng.integers(0, tiles.TILE, size=(400, 2)):
            lon, lat = _pixel_lonlat(z, x, y, px, py)
            if gcj:
                lon, lat = (float(np.ravel(v)[0]) for v in ccrs.gcj02_to_wgs84(np.array([lon]), np.array([lat])))
            cx, cy = to_ds.transform(lon, lat)
            col, row = (int(math.floor(v)) for v in inv @ (cx, cy))
            code = int(data[row, col])
            r, g, b, a = img[py, px]
            checked += 1
            if code in colors:
                disagree += (a != 255) or (r, g, b) != _rgb(colors[code])
            else:
                transparent += 1
                disagree += a != 0
    assert checked == 400 and transparent < 400
    # nearest resampling across a reprojection (GDAL's approximate transformer: ≤ 1/8 source pixel):
    # a centre within a hair of a class edge may land either side (≤ 1 % of samples on the blocks,
    # ≤ 3 % on the speckle); every other pixel is its class's colour
    assert disagree <= (12 if fine else 4), disagree


def test_a_tile_outside_the_raster_is_none(landcover):
    _, out = landcover
    assert tiles.render_tile(out, 12, *tiles.tile_of(80.0, 30.0, 12), colors=COLORS) is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(routes):
    """``routes`` on a real uvicorn server in a thread; yields its base URL (waits on the server's
    own started state)."""
    import uvicorn
    from starlette.applications import Starlette

    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes), host="127.0.0.1", port=_free_port(),
                                           log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        th.join(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        th.join(10)


@pytest.fixture()
def service(tmp_path, monkeypatch):
    """The tile routes on a real uvicorn server over a store with accounts and a registered land
    cover; every request re-checks access (RECHECK_S = 0)."""
    from ui import tileserver

    store = next(wf.workspace_store(tmp_path, monkeypatch))
    accounts.add(store, "root", "pw-root-1234567", "admin", actor=SHELL)
    accounts.add(store, "vera", "pw-vera-1234567", "viewer", actor=SHELL)
    d = raster_register.register_landcover(store, [wf.clcd_landcover(tmp_path / "lc.tif")], legend="clcd", actor=SHELL)
    monkeypatch.setattr(tileserver, "RECHECK_S", 0.0)
    monkeypatch.delenv("GANSU_ANONYMOUS_VIEW", raising=False)
    tileserver.use_store(store)
    with serve(tileserver.routes()) as base:
        yield tileserver, store, d, base
    store.close()


def _get(base, template, z, x, y):
    url = base + template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


def test_a_tile_of_a_dataset_the_viewer_may_not_see_is_refused(service):
    ts, store, d, base = service
    z = tiles.native_zoom(d.display_path)
    x, y = tiles.tile_of(103.68, 36.45, z)
    vera = Principal("vera", "viewer", None, "password")
    url = ts.grant(d.id, d.display_path, vera, colors=COLORS)
    assert url == ts.grant(d.id, d.display_path, vera, colors=COLORS)  # stable while it lives
    status, kind, body = _get(base, url, z, x, y)
    assert status == 200 and kind == "image/png" and Image.open(io.BytesIO(body)).size == (256, 256)
    # a guessed or forged token, a tile number off the grid
    assert _get(base, "/tiles/not-a-grant/{z}/{x}/{y}.png", z, x, y)[0] == 403
    assert _get(base, url, 3, 8, 0)[0] == 400
    # an anonymous visitor on a server with accounts: refused unless anonymous viewing is on
    anon = ts.grant(d.id, d.display_path, None, colors=COLORS)
    status, _, body = _get(base, anon, z, x, y)
    assert status == 403 and "refused" in body.decode() and "无权" in body.decode()
    # the account disabled by an admin: its grant is refused and dropped
    accounts.set_disabled(store, "vera", True, actor=SHELL)
    assert _get(base, url, z, x, y)[0] == 403
    accounts.set_disabled(store, "vera", False, actor=SHELL)
    assert _get(base, url, z, x, y)[0] == 403  # dropped: the page must ask again
    url = ts.grant(d.id, d.display_path, vera, colors=COLORS)
    assert _get(base, url, z, x, y)[0] == 200
    # signed out: every grant of the account goes
    assert ts.revoke("vera") == 1 and _get(base, url, z, x, y)[0] == 403
    # the dataset deleted (to the recycle bin): refused
    url = ts.grant(d.id, d.display_path, Principal("root", "admin", None, "password"), colors=COLORS)
    assert _get(base, url, z, x, y)[0] == 200
    store.delete_dataset(d.id, actor=Principal("root", "admin", None, "password"))
    assert _get(base, url, z, x, y)[0] == 403


def test_anonymous_viewing_allowed_serves_tiles_and_outside_tiles_are_blank(service, monkeypatch):
    ts, store, d, base = service
    monkeypatch.setenv("GANSU_ANONYMOUS_VIEW", "1")
    z = tiles.native_zoom(d.display_path)
    anon = ts.grant(d.id, d.display_path, None, colors=COLORS)
    assert _get(base, anon, z, *tiles.tile_of(103.68, 36.45, z))[0] == 200
    status, kind, body = _get(base, anon, z, *tiles.tile_of(80.0, 30.0, z))  # the raster does not reach it
    assert status == 200 and body == ts.blank_png()
    assert np.asarray(Image.open(io.BytesIO(body)).convert("RGBA"))[..., 3].max() == 0


def test_a_criterion_raster_gets_a_cog_and_ramp_tiles_and_a_refusal_leaves_no_folder(tmp_path, monkeypatch):
    """A continuous raster registered as a siting criterion gets a COG with AVERAGE overviews (its
    values kept) and is drawn with a colour ramp over the stretch given (low end → first colour,
    high end → last, nodata transparent); a registration the store refuses (a viewer) leaves no
    folder behind."""
    from indicators import measures

    def parse(kind, value):
        return measures.PARSERS[kind](value)[1]

    store = next(wf.workspace_store(tmp_path, monkeypatch))
    t, w, h = wf.grid((103.6, 36.4, 103.7, 36.5))
    vals = np.tile(np.linspace(1000.0, 2000.0, w, dtype="float32"), (h, 1))
    vals[:5, :] = -9999.0
    src = tmp_path / "ghi.tif"
    with rasterio.open(src, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=wf.EQUAL_AREA,
                       transform=t, nodata=-9999.0) as ds:
        ds.write(vals, 1)
    d = raster_register.register_raster(store, src, "criterion", params=parse("criterion", "x:tiles_ghi:mean:higher:kWh/m2"))
    with rasterio.open(d.display_path) as c:
        assert c.nodata == -9999.0 and np.array_equal(c.read(1), vals) and c.profile["tiled"]
    z = tiles.native_zoom(d.display_path)
    x, y = tiles.tile_of(103.65, 36.45, z)
    img = np.asarray(Image.open(io.BytesIO(tiles.render_tile(d.display_path, z, x, y, ramp="viridis",
                                                             stretch=(1000.0, 2000.0)))).convert("RGBA"))
    # along the tile's middle row the values rise west to east: inside the raster the colour moves
    # from the ramp's first stop to its last; outside it, transparent
    alpha = img[128, :, 3]
    cols = np.nonzero(alpha == 255)[0]
    assert len(cols) > 50 and set(np.unique(alpha)) == {0, 255}
    stops = np.array(tiles.RAMPS["viridis"], float)
    to_ds = pyproj.Transformer.from_crs("EPSG:4326", wf.EQUAL_AREA, always_xy=True)
    for px in cols[5:-5:max(1, len(cols) // 10)]:  # the colour of the value under each centre, by hand
        cx, _ = to_ds.transform(*_pixel_lonlat(z, x, y, px, 128))
        col = (cx - t.c) / t.a - 0.5  # fractional column of the centre: values are linear in it
        v = 1000.0 + 1000.0 * col / (w - 1)
        f = (v - 1000.0) / 1000.0 * (len(stops) - 1)
        k = min(int(f), len(stops) - 2)
        want = stops[k] + (stops[k + 1] - stops[k]) * (f - k)
        assert np.abs(img[128, px, :3] - want).max() <= 3, (px, img[128, px, :3], want)
    viewer = Principal("vera", "viewer", None, "password")
    accounts.add(store, "root", "pw-root-1234567", "admin", actor=SHELL)
    accounts.add(store, "vera", "pw-vera-1234567", "viewer", actor=SHELL)
    before = set(p.name for p in (tmp_path / "workspace").iterdir())
    with pytest.raises(Exception):
        raster_register.register_raster(store, src, "criterion", params=parse("criterion", "x:tiles_ghi2:mean:higher:kWh/m2"),
                                        actor=viewer)
    assert set(p.name for p in (tmp_path / "workspace").iterdir()) == before
    store.close()


def test_gansu_workspace_tiles_gives_an_old_dataset_its_cog(tmp_path, monkeypatch, capsys):
    """A land cover registered before map tiles (its map copy a small display copy) gets its COG
    from ``gansu workspace tiles``: the record points at it (logged), the display copy goes, a
    second run has nothing to do; an unknown id is refused in both languages."""
    from cli import workspace_cli
    from core.errors import InputError
    from storage import audit

    monkeypatch.setenv("GANSU_STORE", str(tmp_path / "store.duckdb"))
    store = next(wf.workspace_store(tmp_path, monkeypatch))
    d = raster_register.register_landcover(store, [wf.clcd_landcover(tmp_path / "lc.tif")], legend="clcd")
    folder = tmp_path / "workspace" / d.id
    (folder / "cog.tif").unlink()  # as registered before map tiles: a small display copy only
    with rasterio.open(d.raster_path) as src:
        prof = {**src.profile, "width": 64, "height": 64, "transform": src.transform * src.transform.scale(
            src.width / 64, src.height / 64), "tiled": False}
        prof.pop("blockxsize", None), prof.pop("blockysize", None)
        with rasterio.open(folder / "display.tif", "w", **prof) as dst:
            dst.write(src.read(1, out_shape=(64, 64)), 1)
    store.update_dataset_display(d.id, str(folder / "display.tif"), actor=SHELL)
    store.close()
    assert workspace_cli.main(["tiles"]) == 0
    assert "1 dataset(s) given map tiles" in capsys.readouterr().out
    from storage.store import Store
    from storage import workspace as ws

    s = Store(tmp_path / "store.duckdb")
    try:
        again = ws.get(s, d.id)
        assert again.display_path == str(folder / "cog.tif") and cog.tile_ready(again.display_path)
        assert not (folder / "display.tif").exists()
        with rasterio.open(again.display_path) as c, rasterio.open(d.raster_path) as src:
            assert (c.read(1) == src.read(1)).all()
        assert len(audit.rows(s, action="dataset_display")) == 2  # the test's own, then the command's
        assert raster_register.build_map_tiles(s, actor=SHELL) == []  # nothing left to do
        with pytest.raises(InputError) as e:
            raster_register.build_map_tiles(s, ["nope"], actor=SHELL)
        assert "no raster dataset with id nope" in e.value.en and "没有编号为 nope" in e.value.zh
    finally:
        s.close()


def test_a_derived_raster_is_seen_while_every_dataset_it_comes_from_stays(service):
    """A verdict of two years is granted on both years' datasets: served while both are registered,
    refused once either goes (to the recycle bin)."""
    ts, store, d, base = service
    other = raster_register.register_landcover(store, [wf.clcd_landcover(store.path.parent / "lc2.tif", shift=2)],
                                               legend="clcd", actor=SHELL)
    root = Principal("root", "admin", None, "password")
    url = ts.grant((d.id, other.id), d.display_path, root, colors=COLORS)
    z = tiles.native_zoom(d.display_path)
    x, y = tiles.tile_of(103.68, 36.45, z)
    assert _get(base, url, z, x, y)[0] == 200
    store.delete_dataset(other.id, actor=root)
    assert _get(base, url, z, x, y)[0] == 403

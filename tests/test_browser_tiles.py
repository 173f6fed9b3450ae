"""Real browser, network off: a 30 m land cover registered with the command line reaches the Map as
256-pixel PNG tiles from the dashboard's own server at zoom 15, whose pixels are the raster's
classes at their centres (sampled), and the view stays put when a layer is toggled. One browser
run for the module (tests/browser/tiles_check.py)."""
import math

import numpy as np
import pyproj
import pytest
import rasterio
from PIL import Image

from layers import tiles
from tests.browser import harness
from ui import map_legends

pytestmark = harness.needs_chromium()


@pytest.fixture(scope="module")
def report(dataset):
    r = harness.run_check("tiles_check.py")
    assert r["register_rc"] == 0, r["register_err"]
    return r


def _lonlat(z, x, y, px, py):
    n = 2 ** z * tiles.TILE
    gx, gy = x * tiles.TILE + px + 0.5, y * tiles.TILE + py + 0.5
    return gx / n * 360.0 - 180.0, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * gy / n))))


def test_the_land_cover_arrives_as_png_tiles_from_localhost_at_zoom_15(report):
    got = report["tiles"]
    assert len(got) >= 4 and report["external"] == []
    for t in got:
        assert t["url"].startswith("http://127.0.0.1:") and "/tiles/" in t["url"] and "/15/" in t["url"]
        assert t["status"] == 200 and t["type"] == "image/png"
        assert Image.open(t["file"]).size == (256, 256)


def test_tile_pixels_are_the_raster_classes_at_their_centres(report):
    colors = dict(map_legends.landcover_colors("clcd"))
    rgb = {tuple(int(h[i:i + 2], 16) for i in (1, 3, 5)): c for c, h in colors.items()}
    rng = np.random.default_rng(2)
    checked = disagree = 0
    with rasterio.open(report["raster"]) as ds:
        data = ds.read(1)
        to_ds = pyproj.Transformer.from_crs("EPSG:4326", ds.crs, always_xy=True)
        inv = ~ds.transform
        for t in report["tiles"]:
            z, x, y = (int(v) for v in t["url"].split("?")[0].removesuffix(".png").split("/")[-3:])
            img = np.asarray(Image.open(t["file"]).convert("RGBA"))
            for px, py in rng.integers(0, tiles.TILE, size=(100, 2)):
                cx, cy = to_ds.transform(*_lonlat(z, x, y, px, py))
                col, row = (int(math.floor(v)) for v in inv @ (cx, cy))
                if not (0 <= row < ds.height and 0 <= col < ds.width):
                    continue
                code = int(data[row, col])
                r, g, b, a = img[py, px]
                checked += 1
                if code in colors:
                    disagree += a != 255 or rgb.get((r, g, b)) != code
                else:
                    disagree += a != 0
    assert checked >= 300
    # at zoom 15 a 30 m pixel spans ~6 tile pixels: a centre within a hair of a class edge may land
    # either side (GDAL's approximate warp, ≤ 1/8 pixel); ≤ 1 % of samples
    assert disagree <= checked // 100, (disagree, checked)


def test_the_view_stays_when_a_layer_is_toggled(report):
    b, a = report["view_before_toggle"], report["view_after_toggle"]
    assert b[2] == a[2] == 15 and report["zones_checked"] is not None
    # a fraction of a screen pixel at zoom 15 (~4.8 m at this latitude: 1e-5 degrees is ~1 m)
    assert abs(a[0] - b[0]) < 2e-5 and abs(a[1] - b[1]) < 2e-5, (b, a)

"""The display copy of a registered land cover when the raster does not end on a whole display
pixel (found by bench/bench_workspace.py: 25000 columns, factor 13, last sample past the edge)."""
from __future__ import annotations

import numpy as np
import rasterio
from affine import Affine

from storage import raster_scan
from tests import workspace_fixtures as wf


def test_display_copy_of_a_raster_not_a_multiple_of_the_factor(tmp_path):
    h, w = 7, 2049  # factor 2: display 1025 columns, the last sample (2049) is past the last column
    data = (1 + (np.arange(h * w).reshape(h, w) % 9)).astype("uint8")
    src = wf.write_tif(tmp_path / "wide.tif", data, Affine(30, 0, 0, 0, -30, 6_000_000), nodata=0)
    out = tmp_path / "display.tif"
    scan = raster_scan.scan_raster(src, 0, out)
    assert scan["factor"] == 2
    with rasterio.open(out) as d:
        disp = d.read(1)
    rows = np.minimum(np.arange(4) * 2 + 1, h - 1)
    cols = np.minimum(np.arange(1025) * 2 + 1, w - 1)
    assert disp.shape == (4, 1025)
    np.testing.assert_array_equal(disp, data[rows][:, cols])
    assert sum(scan["codes"].values()) == h * w

"""The land degradation verdict per pixel (SDG 15.3.1 land-cover sub-indicator) as a GeoTIFF:
1 improved, 0 stable, −1 degraded, −32768 no data (Trends.Earth's coding), on the grid of the two
land-cover years, written band-block by band-block (never the whole raster in memory). The Targets
page draws it as tiles of its COG (``layers.cog``, ``ui.tileserver``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio

from core.errors import InputError
from indicators import ldn
from indicators.landchange import check_grid
from layers.legends import Legend, get_legend
from zonal.rastersource import LandcoverRaster

NODATA = -32768
ROWS = 512  # rows per band read (times the width: the memory used)


def write_verdict(raster_from, raster_to, legend: str | Legend, out_path, matrix=None, reclass=None,
                  rows: int = ROWS) -> dict[str, int]:
    """Write the verdict raster; returns the pixel counts {"improved", "stable", "degraded", "nodata"}."""
    legend = get_legend(legend)
    matrix = ldn.load_matrix() if matrix is None else matrix
    reclass = ldn.load_reclass() if reclass is None else reclass
    check_grid([raster_from, raster_to], [Path(raster_from).name, Path(raster_to).name])
    max_code = max(legend.codes)
    if max_code > 65535 or min(legend.codes) < 0:
        raise InputError("图例代码须在 0–65535 之间", "legend codes must lie in 0–65535")
    index, m7 = ldn.verdict_lut(legend, reclass, matrix, max_code)
    counts = {"improved": 0, "stable": 0, "degraded": 0, "nodata": 0}
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    with LandcoverRaster(raster_from, legend) as a, LandcoverRaster(raster_to, legend) as b:
        profile = dict(driver="GTiff", width=a.width, height=a.height, count=1, dtype="int16", nodata=NODATA,
                       crs=a.crs.to_wkt(), transform=a.transform, tiled=True, blockxsize=256, blockysize=256,
                       compress="deflate")
        nod = (a.nodata_codes(), b.nodata_codes())
        with rasterio.open(tmp, "w", **profile) as dst:
            for r0 in range(0, a.height, rows):
                r1 = min(a.height, r0 + rows)
                ca, cb = a.read(r0, r1, 0, a.width).astype(np.int64), b.read(r0, r1, 0, b.width).astype(np.int64)
                ia, ib = _classes(ca, index, nod[0]), _classes(cb, index, nod[1])
                ok = (ia >= 0) & (ib >= 0)
                v = np.full(ca.shape, NODATA, dtype=np.int16)
                v[ok] = m7[ia[ok], ib[ok]]
                for k, name in ((1, "improved"), (0, "stable"), (-1, "degraded")):
                    counts[name] += int(np.count_nonzero(v[ok] == k))
                counts["nodata"] += int(ok.size - np.count_nonzero(ok))
                dst.write(v, 1, window=rasterio.windows.Window(0, r0, a.width, r1 - r0))
    tmp.replace(out_path)
    return counts


def _classes(codes: np.ndarray, index: np.ndarray, nodata: set[int]) -> np.ndarray:
    """UNCCD class position per cell (−1: no data: a nodata code, a masked cell, a code outside the legend)."""
    out = np.full(codes.shape, -1, dtype=np.int8)
    inside = (codes >= 0) & (codes < len(index))
    out[inside] = index[codes[inside]]
    for c in nodata:
        out[codes == c] = -1
    return out

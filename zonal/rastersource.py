"""The land-cover raster as the exact zonal engine reads it: ``LandcoverRaster`` (an open GeoTIFF or
checked VRT with its CRS, nodata codes and pixel areas, read window by window) and ``MASKED``, the
code of cells hidden by an internal mask band. Cells with the raster's nodata (or a legend's
nodata code, or outside the raster) are excluded by the callers and reported.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyproj
import rasterio
from rasterio.windows import Window

from core.errors import InputError
from layers.legends import Legend
from layers.readers.raster import check_dataset, open_raster
from zonal.pixelarea import PixelArea, check_pixel_area


class LandcoverRaster:
    """An open land-cover raster (use as a context manager) with its nodata and pixel areas."""

    def __init__(self, path, legend: Legend | None = None, pixel_area: str = "ground"):
        self.path = Path(path)
        self.legend = legend
        self.pixel_area = check_pixel_area(pixel_area)
        self._ds = None

    def __enter__(self):
        try:
            self._ds = open_raster(self.path)  # a GeoTIFF or a checked VRT: GDAL never guesses
        except rasterio.errors.RasterioIOError as exc:
            raise InputError(f"无法打开土地覆盖栅格 {self.path}：{exc}",
                             f"cannot open land-cover raster {self.path}: {exc}") from exc
        ds = self._ds
        if ds.crs is None:
            ds.close()
            raise InputError(f"土地覆盖栅格 {self.path.name} 没有坐标参考系；请先指定（如 gdal_edit -a_srs）",
                             f"land-cover raster {self.path.name} has no CRS; assign one (e.g. with gdal_edit -a_srs)")
        try:
            check_dataset(ds, self.path.name)
        except InputError:
            ds.close()
            raise
        self.crs = pyproj.CRS.from_user_input(ds.crs.to_wkt())
        self.transform = ds.transform
        self.width, self.height = ds.width, ds.height
        self.dtype = np.dtype(ds.dtypes[0])
        self.nodata = ds.nodata
        self.uses_mask = ds.nodata is None and rasterio.enums.MaskFlags.per_dataset in ds.mask_flag_enums[0]
        self.area = PixelArea(self.crs, self.transform, self.width, self.height, self.pixel_area)
        return self

    def __exit__(self, *exc):
        self._ds.close()

    @property
    def block_rows(self) -> int:
        """Rows of one internal block of the file (reads in whole blocks decode each block once)."""
        return self._ds.block_shapes[0][0]

    def read(self, row0: int, row1: int, col0: int, col1: int) -> np.ndarray:
        """Codes of a window as an index array; masked cells get code ``MASKED``."""
        win = Window(col0, row0, col1 - col0, row1 - row0)
        data = self._ds.read(1, window=win)
        if self.uses_mask:
            m = self._ds.read_masks(1, window=win) == 0
            data = data.astype(np.int64)
            data[m] = MASKED
        return data

    def nodata_codes(self) -> set[int]:
        codes = {MASKED}
        if self.nodata is not None and float(self.nodata).is_integer():
            codes.add(int(self.nodata))
        if self.legend is not None:
            codes |= set(self.legend.nodata)
        return codes


MASKED = -(2**40)  # sentinel code for cells hidden by an internal mask band

"""Cloud-optimised GeoTIFFs (COG) for the map's tiles: ``write_cog`` copies a checked raster (a
GeoTIFF or the workspace's own mosaic VRT, opened through ``gdal_safety.open_raster``) with GDAL's
COG driver — 512-pixel tiles, DEFLATE, overviews down to one tile, MODE resampling for classes
(a class map stays a class map at every zoom), AVERAGE for continuous values — and ``tile_ready``
says whether a file can be served as tiles at every zoom (tiled, with overviews or small).

A tile at any zoom then reads a handful of 512-pixel blocks of the right overview (~10–30 ms),
where a striped file without overviews reads every strip it crosses (seconds at a province view:
rio-tiler#819). The COG stays in the raster's own CRS; the tile service warps each tile to Web
Mercator (``layers.tiles``).
"""
from __future__ import annotations

import os
from pathlib import Path

from core.errors import InputError

BLOCK = 512
TILES_NAME = "cog.tif"  # a dataset's COG in its workspace folder


def write_cog(src: str | Path, out: str | Path, *, classes: bool, name: str | None = None) -> Path:
    """Write ``src`` as a COG at ``out`` (through a temporary file: a failure leaves nothing)."""
    import rasterio.errors
    import rasterio.shutil

    from layers.readers.gdal_safety import open_raster  # start-up time: layers.readers loads every reader

    out = Path(out)
    tmp = out.with_name(out.stem + ".tmp.tif")
    with open_raster(src, name) as ds:
        try:
            rasterio.shutil.copy(ds, tmp, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=BLOCK,
                                 OVERVIEW_RESAMPLING="MODE" if classes else "AVERAGE",
                                 RESAMPLING="NEAREST" if classes else "BILINEAR",
                                 NUM_THREADS="2", BIGTIFF="IF_SAFER")
            os.replace(tmp, out)
        except (rasterio.errors.RasterioError, OSError) as e:  # unreadable blocks, a full disk …
            shown = name or Path(src).name
            raise InputError(f"无法为 {shown} 生成地图瓦片（COG）：{e}", f"could not write the map tiles (COG) of {shown}: {e}") from e
        finally:
            tmp.unlink(missing_ok=True)
    return out


def tile_ready(path: str | Path) -> bool:
    """Tiled with overviews (or no larger than two blocks each way): every zoom reads few blocks."""
    import rasterio

    with rasterio.open(path) as ds:
        small = ds.width <= 2 * BLOCK and ds.height <= 2 * BLOCK
        return small or (ds.profile.get("tiled", False) and bool(ds.overviews(1)))

"""Check a land-cover GeoTIFF before the Targets page keeps or reads it.

``validate_geotiff`` takes the uploaded bytes (checked in memory, before anything is written to
disk) or a path on the server, and raises ``InputError`` (English + Chinese) naming the problem:
not a TIFF, unreadable, truncated, no CRS, rotated, not integer classes, more pixels than a
request may read or a header with no data behind it (``indicators.landcover.check_dataset``,
limits in ``layers.limits``), or no nodata value (pixels outside the data would silently become
a land-cover class: IGBP code 0 is water).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from indicators.errors import InputError
from indicators.landcover import check_dataset
from layers import limits

TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def validate_geotiff(source: bytes | str | Path, name: str | None = None) -> dict:
    """Validate bytes or a file; returns {width, height, dtype, crs, nodata}."""
    import rasterio
    from rasterio.io import MemoryFile

    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = _display(name or "upload.tif")
        if len(data) > limits.MAX_UPLOAD_BYTES:
            raise InputError(f"{name} is too large ({len(data) / 1e6:.1f} MB, limit {limits.MAX_UPLOAD_BYTES / 1e6:.0f} MB)",
                             f"{name} 文件过大（{len(data) / 1e6:.1f} MB，上限 {limits.MAX_UPLOAD_BYTES / 1e6:.0f} MB）")
        head, size = data[:4], len(data)
        opener = lambda: MemoryFile(data).open()  # noqa: E731
    else:
        path = Path(source)
        name = _display(name or path.name)
        with open(path, "rb") as f:
            head = f.read(4)
        size = path.stat().st_size
        opener = lambda: rasterio.open(path)  # noqa: E731
    if head not in TIFF_MAGIC:
        raise InputError(f"{name} is not a GeoTIFF (no TIFF signature)", f"{name} 不是 GeoTIFF 文件（无 TIFF 文件标识）")
    try:
        ds = opener()
    except Exception as e:  # noqa: BLE001 - GDAL: corrupt header, unsupported layout
        msg = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise InputError(f"{name} cannot be opened as a GeoTIFF (corrupt or truncated: {msg})",
                         f"{name} 无法作为 GeoTIFF 打开（文件损坏或不完整：{msg}）") from None
    with ds:
        check_dataset(ds, name, file_size=size)
        masked = ds.nodata is None and any(
            f != rasterio.enums.MaskFlags.all_valid for f in ds.mask_flag_enums[0])
        if ds.nodata is None and not masked:
            raise InputError(
                f"{name} has no nodata value: pixels outside the data would be counted as a land-cover class "
                "(IGBP 0 is water); set it first, e.g. gdal_edit -a_nodata 255 (MODIS) or 0 (CLCD, WorldCover)",
                f"{name} 未设置无数据值（nodata）：数据范围外的像元会被当作某一地类（IGBP 0 为水体）；"
                "请先设置，如 gdal_edit -a_nodata 255（MODIS）或 0（CLCD、WorldCover）")
        _read_corner_blocks(ds, name)
        return {"width": ds.width, "height": ds.height, "dtype": ds.dtypes[0], "crs": ds.crs.to_string(),
                "nodata": ds.nodata}


def _read_corner_blocks(ds, name: str) -> None:
    """Decode the first and the last block: a truncated file fails here, not in a later job."""
    from rasterio.windows import Window

    bh, bw = ds.block_shapes[0]
    last_r = ((ds.height - 1) // bh) * bh
    last_c = ((ds.width - 1) // bw) * bw
    for r, c in {(0, 0), (last_r, last_c)}:
        win = Window(c, r, min(bw, ds.width - c), min(bh, ds.height - r))
        try:
            block = ds.read(1, window=win)
        except Exception as e:  # noqa: BLE001 - GDAL read error: data missing behind the header
            msg = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
            raise InputError(f"{name} is truncated or corrupt: its pixel data cannot be read ({msg})",
                             f"{name} 文件不完整或已损坏：像元数据无法读取（{msg}）") from None
        np.asarray(block)


def _display(name: str) -> str:
    """A file name for messages only (never a path we open)."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:120] or "upload.tif"

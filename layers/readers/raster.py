"""Land-cover rasters: the checks before the Targets page keeps an upload, the CLI reads a file or
the engine opens one (``check_dataset`` runs on every open, ``validate_geotiff`` on uploads and on
the CLI's ``--landcover`` files, so both refuse the same rasters with the same message).

``validate_geotiff`` takes the uploaded bytes (checked in memory, before anything is written to
disk) or a path on the server, and raises ``InputError`` (English + Chinese) naming the problem:
not a TIFF, unreadable, truncated, no CRS, rotated, not integer classes, more pixels than a
request may read or a header with no data behind it (``check_dataset``,
limits in ``core.limits``), or no nodata value (pixels outside the data would silently become
a land-cover class: IGBP code 0 is water).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from core.errors import InputError
from core import limits

TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def check_dataset(ds, name: str, file_size: int | None = None) -> None:
    """Refuse a land-cover raster the engine cannot use safely, with a bilingual InputError:
    no CRS, a rotated/sheared transform, non-integer values, more pixels than a request may read
    (``core.limits.MAX_RASTER_PIXELS``), a header declaring far more pixels than the file holds
    (forged or truncated), or an internal block too large to decode within the memory limit."""
    from core import limits

    if ds.crs is None:
        raise InputError(f"土地覆盖栅格 {name} 没有坐标参考系；请先指定（如 gdal_edit -a_srs）",
                         f"land-cover raster {name} has no CRS; assign one (e.g. with gdal_edit -a_srs)")
    t = ds.transform
    if t.b != 0 or t.d != 0:
        raise InputError(f"土地覆盖栅格 {name} 的地理变换含旋转（倾斜）参数；请先重投影为正北朝上的格网（gdalwarp -r near）",
                         f"land-cover raster {name} has a rotated (sheared) geotransform; warp it to a north-up "
                         "grid first (gdalwarp -r near)")
    if t.a == 0 or t.e == 0 or not all(math.isfinite(v) for v in tuple(t)[:6]):
        raise InputError(f"土地覆盖栅格 {name} 的地理变换无效（像元大小为 0 或非有限值）",
                         f"land-cover raster {name} has no usable geotransform (pixel size 0 or not finite)")
    if not np.issubdtype(np.dtype(ds.dtypes[0]), np.integer):
        raise InputError(f"土地覆盖栅格 {name} 的数据类型为 {ds.dtypes[0]}；类别代码须为整数",
                         f"land-cover raster {name} has {ds.dtypes[0]} values; class codes must be integers")
    w, h = int(ds.width), int(ds.height)
    pixels = w * h
    if pixels > limits.MAX_RASTER_PIXELS:
        raise InputError(
            f"土地覆盖栅格 {name} 声明 {w} × {h} = {pixels:.3g} 个像元，超过单次请求可读取的上限"
            f"（{limits.MAX_RASTER_PIXELS:.3g}，GANSU_MAX_RASTER_PIXELS）；请先裁剪到甘肃范围",
            f"land-cover raster {name} declares {w} × {h} = {pixels:.3g} pixels, more than one request may read "
            f"({limits.MAX_RASTER_PIXELS:.3g}, GANSU_MAX_RASTER_PIXELS); clip it to Gansu first")
    if file_size is None:
        try:
            file_size = Path(ds.name).stat().st_size
        except (OSError, ValueError):
            file_size = None
    if file_size is not None and pixels >= 1_000_000 and file_size < limits.MIN_BYTES_PER_MPIXEL * pixels / 1e6:
        raise InputError(
            f"土地覆盖栅格 {name}：文件头声明 {w} × {h} 个像元，但文件仅有 {file_size} 字节（文件头伪造或文件不完整）",
            f"land-cover raster {name}: the header declares {w} × {h} pixels but the file holds only "
            f"{file_size} bytes (forged header or truncated file)")
    bh, bw = ds.block_shapes[0]
    block = int(bh) * int(bw) * np.dtype(ds.dtypes[0]).itemsize
    if block > limits.MAX_BLOCK_BYTES:
        raise InputError(
            f"土地覆盖栅格 {name} 的内部块为 {bw} × {bh} 像元（一次解码 {block / 2**20:.0f} MB，上限 "
            f"{limits.MAX_BLOCK_BYTES / 2**20:.0f} MB，GANSU_MAX_COMPUTE_MB）；请重新分块（gdal_translate -co TILED=YES）",
            f"land-cover raster {name} stores {bw} × {bh} pixels per internal block ({block / 2**20:.0f} MB decoded at "
            f"once, limit {limits.MAX_BLOCK_BYTES / 2**20:.0f} MB, GANSU_MAX_COMPUTE_MB); re-tile it "
            "(gdal_translate -co TILED=YES)")


def validate_geotiff(source: bytes | str | Path, name: str | None = None) -> dict:
    """Validate uploaded bytes (a GeoTIFF) or a raster file (a GeoTIFF, or any raster GDAL opens
    when the name does not end in .tif/.tiff); returns {width, height, dtype, crs, nodata}."""
    import rasterio
    from rasterio.io import MemoryFile

    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = _display(name or "upload.tif")
        if len(data) > limits.MAX_UPLOAD_BYTES:
            raise InputError(f"{name} 文件过大（{len(data) / 1e6:.1f} MB，上限 {limits.MAX_UPLOAD_BYTES / 1e6:.0f} MB）",
                             f"{name} is too large ({len(data) / 1e6:.1f} MB, limit {limits.MAX_UPLOAD_BYTES / 1e6:.0f} MB)")
        head, size = data[:4], len(data)
        opener = lambda: MemoryFile(data).open()  # noqa: E731
    else:
        path = Path(source)
        name = _display(name or path.name)
        with open(path, "rb") as f:
            head = f.read(4)
        size = path.stat().st_size
        opener = lambda: rasterio.open(path)  # noqa: E731
    if head not in TIFF_MAGIC and (isinstance(source, (bytes, bytearray, memoryview))
                                   or Path(source).suffix.lower() in (".tif", ".tiff")):
        raise InputError(f"{name} 不是 GeoTIFF 文件（无 TIFF 文件标识）", f"{name} is not a GeoTIFF (no TIFF signature)")
    try:
        ds = opener()
    except Exception as e:  # noqa: BLE001 - GDAL: corrupt header, unsupported layout
        msg = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise InputError(f"{name} 无法作为 GeoTIFF 打开（文件损坏或不完整：{msg}）",
                         f"{name} cannot be opened as a GeoTIFF (corrupt or truncated: {msg})") from None
    with ds:
        check_dataset(ds, name, file_size=size)
        check_nodata(ds, name)
        _read_corner_blocks(ds, name)
        return {"width": ds.width, "height": ds.height, "dtype": ds.dtypes[0], "crs": ds.crs.to_string(),
                "nodata": ds.nodata}


def check_nodata(ds, name: str) -> None:
    """Refuse a raster without a nodata value or mask (pixels outside the data would silently
    become a land-cover class: IGBP code 0 is water)."""
    import rasterio

    masked = ds.nodata is None and any(
        f != rasterio.enums.MaskFlags.all_valid for f in ds.mask_flag_enums[0])
    if ds.nodata is None and not masked:
        raise InputError(
            f"{name} 未设置无数据值（nodata）：数据范围外的像元会被当作某一地类（IGBP 0 为水体）；"
            "请先设置，如 gdal_edit -a_nodata 255（MODIS）或 0（CLCD、WorldCover）",
            f"{name} has no nodata value: pixels outside the data would be counted as a land-cover class "
            "(IGBP 0 is water); set it first, e.g. gdal_edit -a_nodata 255 (MODIS) or 0 (CLCD, WorldCover)")


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
            raise InputError(f"{name} 文件不完整或已损坏：像元数据无法读取（{msg}）",
                             f"{name} is truncated or corrupt: its pixel data cannot be read ({msg})") from None
        np.asarray(block)


def _display(name: str) -> str:
    """A file name for messages only (never a path we open)."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:120] or "upload.tif"

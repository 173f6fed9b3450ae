"""Land-cover rasters: the checks before the Targets page keeps an upload, the CLI reads a file or
the engine opens one (``check_dataset`` runs on every open, ``validate_geotiff`` on uploads and on
the CLI's ``--landcover`` files, so both refuse the same rasters with the same message).

``validate_geotiff`` takes the uploaded bytes (checked in memory, before anything is written to
disk) or a path on the server, and raises ``InputError`` (English + Chinese) naming the problem:
not a TIFF (an XML virtual raster under a ``.tif`` name is named as such: GDAL never guesses the
driver of a user's file, ``gdal_safety``), a VRT that reads anything but GeoTIFF tiles, unreadable, truncated, no CRS, rotated, not integer classes, more pixels than a
request may read or a header with no data behind it (``check_dataset``,
limits in ``core.limits``), or no nodata value (pixels outside the data would silently become
a land-cover class: IGBP code 0 is water).
"""
from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

from core import limits
from core.errors import InputError
from layers.readers.gdal_safety import (VrtSource, default_vrt_roots, file_head, kind_of, not_geotiff, open_raster,
                                        open_upload, read_vrt)
from layers.readers.gdal_safety import display as _display


def check_dataset(ds, name: str, file_size: int | None = None, *, categorical: bool = True) -> None:
    """Refuse a land-cover raster the engine cannot use safely, with a bilingual InputError:
    no CRS, a rotated/sheared transform, non-integer values, more pixels than a request may read
    (``core.limits.MAX_RASTER_PIXELS``), a header declaring far more pixels than the file holds
    (forged or truncated), or an internal block too large to decode within the memory limit.

    Tile-aware for a VRT (a mosaic of tiles, e.g. a national WorldCover/CLCD tile set): its XML is
    checked first (``gdal_safety.read_vrt``: a plain mosaic of files, no ``/vsi…`` or URL source);
    the tiled engine (``zonal.tiled``) reads it one source tile at a time, so the pixel limit
    applies to the largest source tile (what one task reads), not to the virtual raster; the
    forged-header check compares the declared pixels with the sizes of the distinct source files;
    the sources must cover at least ``MIN_VRT_COVERAGE`` of the declared grid and the whole mosaic
    stays under ``MAX_MOSAIC_PIXELS`` (registration reads every pixel once). A missing source file
    is refused. A single GeoTIFF keeps the whole-file pixel limit: split a larger one into tiles
    and mosaic them with a VRT (``gdalbuildvrt``)."""
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
    check_invertible(ds, name)
    check_no_overview_file(ds, name)
    if categorical and not np.issubdtype(np.dtype(ds.dtypes[0]), np.integer):  # a criterion may be continuous
        raise InputError(f"土地覆盖栅格 {name} 的数据类型为 {ds.dtypes[0]}；类别代码须为整数",
                         f"land-cover raster {name} has {ds.dtypes[0]} values; class codes must be integers")
    w, h = int(ds.width), int(ds.height)
    pixels = w * h
    info = read_vrt(ds.name, name) if getattr(ds, "driver", None) == "VRT" else None
    if info is not None:
        _check_vrt(info.sources, name, pixels, w, h)
        file_size = None  # checked against the sources above
    elif pixels > limits.MAX_RASTER_PIXELS:
        raise InputError(
            f"土地覆盖栅格 {name} 声明 {w} × {h} = {pixels:.3g} 个像元，超过单次请求可读取的上限"
            f"（{limits.MAX_RASTER_PIXELS:.3g}，GANSU_MAX_RASTER_PIXELS）；请先裁剪到甘肃范围，"
            "或切分为图幅并用 VRT 镶嵌（gdalbuildvrt）",
            f"land-cover raster {name} declares {w} × {h} = {pixels:.3g} pixels, more than one request may read "
            f"({limits.MAX_RASTER_PIXELS:.3g}, GANSU_MAX_RASTER_PIXELS); clip it to Gansu first, or split it "
            "into tiles mosaicked by a VRT (gdalbuildvrt)")
    elif file_size is None:
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


def check_no_overview_file(ds, name: str) -> None:
    """Refuse a raster whose metadata names an overview file (GDAL's ``OVERVIEWS`` domain,
    ``OVERVIEW_FILE``): GDAL would open that file — or XML given in its place — with every driver.
    Rasters are opened without overviews anyway (``gdal_safety.NO_OVERVIEWS``); this says so."""
    try:
        named = ds.tags(ns="OVERVIEWS")
    except Exception:  # noqa: BLE001 - a driver without metadata domains
        named = {}
    if named:
        raise InputError(f"土地覆盖栅格 {name} 的元数据指定了外部概视图文件（OVERVIEWS 域，{', '.join(sorted(named))[:60]}）："
                         "GDAL 会读取其中指定的文件，已拒绝。请去掉该元数据（如 gdal_translate 重新写出）",
                         f"land-cover raster {name} names an external overview file in its metadata (OVERVIEWS domain, "
                         f"{', '.join(sorted(named))[:60]}): GDAL would read the file named there, so it is refused. "
                         "Remove that metadata (e.g. write it out again with gdal_translate)")


def check_invertible(ds, name: str) -> None:
    """Every pixel must have a place on the Earth: a raster in a CRS that cannot be inverted
    everywhere (a geostationary satellite's full disk, ``+proj=geos``, whose corners look into
    space) is refused before PROJ/GEOS meet infinite coordinates. Checked on an 11 × 11 grid of
    points and 41 points along each edge of the raster."""
    bad, geos, crs_name = _uninvertible_points(ds.crs.to_wkt(), int(ds.width), int(ds.height),
                                               tuple(ds.transform)[:6])
    if bad == 0:
        return
    what_zh = "地球静止卫星视角（+proj=geos，全圆盘的角落对着太空）" if geos else f"坐标系 {crs_name}"
    what_en = ("a geostationary satellite view (+proj=geos; the corners of a full disk look into space)" if geos
               else f"CRS {crs_name}")
    raise InputError(f"土地覆盖栅格 {name} 使用{what_zh}，其中部分像元无法换算为经纬度（{bad} 个采样点落在地球之外）；"
                     "请先重投影到地图投影（如 gdalwarp -t_srs EPSG:4326）并裁剪到甘肃",
                     f"land-cover raster {name} is in {what_en}: some of its pixels have no longitude/latitude "
                     f"({bad} sample points fall off the Earth); warp it to a map projection first (e.g. gdalwarp "
                     "-t_srs EPSG:4326) and clip it to Gansu")


@functools.lru_cache(maxsize=64)  # a raster is opened once per task: the answer depends only on these
def _uninvertible_points(wkt: str, w: int, h: int, transform: tuple) -> tuple[int, bool, str]:
    """(points off the Earth, geostationary?, CRS name) of an 11 × 11 grid and 41 points per edge."""
    import pyproj

    crs_ = pyproj.CRS.from_user_input(wkt)
    if crs_.is_geographic:
        return 0, False, crs_.name
    a, _, c, _, e, f = transform
    edge = np.linspace(0, 1, 41)
    cols = np.concatenate([edge * w, edge * w, np.zeros(41), np.full(41, w), *[np.linspace(0, w, 11)] * 11])
    rows = np.concatenate([np.zeros(41), np.full(41, h), edge * h, edge * h,
                           *[np.full(11, r) for r in np.linspace(0, h, 11)]])
    xs = c + cols * a
    ys = f + rows * e
    op = crs_.coordinate_operation
    geos = "geostationary" in ((op.method_name if op is not None else "") + crs_.to_wkt()).lower()
    try:
        with np.errstate(all="ignore"):
            lon, lat = pyproj.Transformer.from_crs(crs_, 4326, always_xy=True).transform(xs, ys, errcheck=False)
        bad = int((~(np.isfinite(lon) & np.isfinite(lat))).sum())
    except Exception:  # noqa: BLE001 - PROJ cannot build or run the inverse at all
        bad = len(xs)
    return bad, geos, crs_.name


def vrt_sources(ds_or_path) -> list[VrtSource] | None:
    """Sources of band 1 of a VRT (``None`` when the file is not XML); a VRT holding anything but a
    plain mosaic of files raises InputError (``gdal_safety.read_vrt``)."""
    path = Path(getattr(ds_or_path, "name", ds_or_path))
    try:
        head = file_head(path)
    except OSError:
        return None
    return read_vrt(path).sources if kind_of(head) == "xml" else None


def _check_vrt(sources: list[VrtSource], name: str, pixels: int, w: int, h: int) -> None:
    """The VRT part of ``check_dataset``: per-tile pixel limit, sources present, their bytes, the
    share of the grid they cover, the whole mosaic's pixels."""
    biggest = max(sources, key=lambda s: s.width * s.height, default=None)
    if biggest is not None and biggest.width * biggest.height > limits.MAX_RASTER_PIXELS:
        n = biggest.width * biggest.height
        tile = _display(biggest.path)
        raise InputError(
            f"土地覆盖镶嵌 {name} 的图幅 {tile} 为 {biggest.width} × {biggest.height} = {n:.3g} 个像元，超过单个任务可读取的"
            f"上限（{limits.MAX_RASTER_PIXELS:.3g}，GANSU_MAX_RASTER_PIXELS）；请将其切分为更小的图幅",
            f"land-cover mosaic {name}: tile {tile} has {biggest.width} × {biggest.height} = {n:.3g} pixels, more than "
            f"one task may read ({limits.MAX_RASTER_PIXELS:.3g}, GANSU_MAX_RASTER_PIXELS); split it into smaller tiles")
    sizes: dict[str, int] = {}
    for s in sources:
        try:
            sizes[str(Path(s.path).resolve())] = Path(s.path).stat().st_size
        except OSError:
            tile = _display(s.path)
            raise InputError(f"土地覆盖镶嵌 {name} 的图幅 {tile} 不存在或无法读取",
                             f"land-cover mosaic {name}: tile {tile} is missing or unreadable") from None
    total = sum(sizes.values())  # a file named by many sources holds its bytes once
    if pixels >= 1_000_000 and total < limits.MIN_BYTES_PER_MPIXEL * pixels / 1e6:
        raise InputError(
            f"土地覆盖镶嵌 {name}：声明 {w} × {h} 个像元，但其图幅文件合计仅有 {total} 字节（文件头伪造或图幅不完整）",
            f"land-cover mosaic {name}: it declares {w} × {h} pixels but its tile files hold only {total} bytes "
            "in all (forged header or missing tiles)")
    covered = _covered(sources, w, h)
    if pixels >= 1_000_000 and covered < limits.MIN_VRT_COVERAGE * pixels:
        raise InputError(
            f"土地覆盖镶嵌 {name} 声明 {w} × {h} = {pixels:.3g} 个像元，但其图幅只覆盖其中 {covered:.3g} 个"
            f"（不足 {limits.MIN_VRT_COVERAGE:.0%}）：请按图幅的范围重建 VRT（gdalbuildvrt，不加 -te）",
            f"land-cover mosaic {name} declares {w} × {h} = {pixels:.3g} pixels but its tiles cover only "
            f"{covered:.3g} of them (less than {limits.MIN_VRT_COVERAGE:.0%}): build the VRT over the tiles' extent "
            "(gdalbuildvrt without -te)")
    if pixels > limits.MAX_MOSAIC_PIXELS:
        raise InputError(
            f"土地覆盖镶嵌 {name} 声明 {w} × {h} = {pixels:.3g} 个像元，超过镶嵌的上限"
            f"（{limits.MAX_MOSAIC_PIXELS:.3g}，GANSU_MAX_MOSAIC_PIXELS；登记时每个像元都要读一遍）；请先裁剪到甘肃范围",
            f"land-cover mosaic {name} declares {w} × {h} = {pixels:.3g} pixels, more than a mosaic may hold "
            f"({limits.MAX_MOSAIC_PIXELS:.3g}, GANSU_MAX_MOSAIC_PIXELS; registration reads every pixel once); clip "
            "it to Gansu first")


def _covered(sources: list[VrtSource], w: int, h: int) -> int:
    """Pixels of the w × h grid that some source covers (the same place named twice counts once)."""
    rects = {(s.x, s.y, s.width, s.height) for s in sources}
    return sum(max(0, min(x + rw, w) - max(x, 0)) * max(0, min(y + rh, h) - max(y, 0)) for x, y, rw, rh in rects)


def check_mosaic(path, name: str, *, upload: bool) -> None:
    """The mosaic VRT the workspace writes over tiles it checked one by one (a zip of tiles, tiles
    named together, a nodata override), checked from its XML before any pixel is read, as an
    import-folder VRT is: its tiles cover at least ``MIN_VRT_COVERAGE`` of the grid that holds them
    all (two small tiles far apart would make a mostly empty grid of 10¹² pixels that the
    registration scan reads through) and it stays under ``MAX_MOSAIC_PIXELS``; an upload's mosaic
    also under ``MAX_RASTER_PIXELS`` (what one request may read: an upload is one request)."""
    info = read_vrt(path, name)
    w, h = info.width, info.height
    pixels = w * h
    covered = _covered(info.sources, w, h)
    if pixels >= 1_000_000 and covered < limits.MIN_VRT_COVERAGE * pixels:
        raise InputError(
            f"土地覆盖镶嵌 {name}：容纳全部图幅的格网为 {w} × {h} = {pixels:.3g} 个像元，其图幅只覆盖其中 {covered:.3g} 个"
            f"（不足 {limits.MIN_VRT_COVERAGE:.0%}）：图幅相距过远，镶嵌几乎全空。请只提供同一区域内相邻的图幅",
            f"land-cover mosaic {name}: the grid that holds all its tiles has {w} × {h} = {pixels:.3g} pixels and the "
            f"tiles cover only {covered:.3g} of them (less than {limits.MIN_VRT_COVERAGE:.0%}): tiles that far apart "
            "make an almost empty mosaic. Give adjacent tiles of one area only")
    cap, var = ((limits.MAX_RASTER_PIXELS, "GANSU_MAX_RASTER_PIXELS") if upload and limits.MAX_RASTER_PIXELS < limits.MAX_MOSAIC_PIXELS
                else (limits.MAX_MOSAIC_PIXELS, "GANSU_MAX_MOSAIC_PIXELS"))
    if pixels > cap:
        where_zh, where_en = (("上传的镶嵌即一次请求；请将图幅放入导入目录后在服务器端登记",
                               "an uploaded mosaic is one request; put the tiles in the import folder and register "
                               "them on the server") if var == "GANSU_MAX_RASTER_PIXELS"
                              else ("登记时每个像元都要读一遍；请先裁剪到甘肃范围",
                                    "registration reads every pixel once; clip the tiles to Gansu first"))
        raise InputError(
            f"土地覆盖镶嵌 {name} 为 {w} × {h} = {pixels:.3g} 个像元，超过上限（{cap:.3g}，{var}；{where_zh}）",
            f"land-cover mosaic {name} has {w} × {h} = {pixels:.3g} pixels, more than allowed ({cap:.3g}, {var}; "
            f"{where_en})")


def validate_geotiff(source: bytes | str | Path, name: str | None = None, *, categorical: bool = True) -> dict:
    """Validate uploaded bytes (a GeoTIFF) or a raster file (a GeoTIFF; when the name does not end
    in .tif/.tiff also a VRT mosaic whose tiles lie in the import folder or the VRT's own folder);
    returns {width, height, dtype, crs, nodata}. GDAL never guesses the driver. ``categorical=False``
    (a continuous criterion such as a slope) accepts floating-point values."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = _display(name or "upload.tif")
        if len(data) > limits.MAX_UPLOAD_BYTES:
            raise InputError(f"{name} 文件过大（{len(data) / 1e6:.1f} MB，上限 {limits.MAX_UPLOAD_BYTES / 1e6:.0f} MB）",
                             f"{name} is too large ({len(data) / 1e6:.1f} MB, limit {limits.MAX_UPLOAD_BYTES / 1e6:.0f} MB)")
        head, size = data[:1024], len(data)
        tif = True
        opener = lambda: open_upload(data, name)
    else:
        path = Path(source)
        name = _display(name or path.name)
        head = file_head(path)
        size = path.stat().st_size
        tif = path.suffix.lower() in (".tif", ".tiff")
        opener = lambda: open_raster(path, name, allow_vrt=not tif, vrt_roots=default_vrt_roots(path))
    err = not_geotiff(head, name) if tif else None
    if err is not None:
        raise err
    try:
        ds = opener()
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - GDAL: corrupt header, unsupported layout
        msg = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise InputError(f"{name} 无法作为 GeoTIFF 打开（文件损坏或不完整：{msg}）",
                         f"{name} cannot be opened as a GeoTIFF (corrupt or truncated: {msg})") from None
    with ds:
        check_dataset(ds, name, file_size=size, categorical=categorical)
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

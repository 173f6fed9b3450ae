"""Reading a raster for registration: the facts of each tile (opened without letting GDAL guess
its format, then the raster checks), one pixel grid for the tiles of a mosaic (tiles of different
CRS, pixel size, data type or nodata are refused by name), the mosaic VRT written here, and the
one pass over the raster that counts every code, in windows of bounded memory.
``storage.raster_register`` calls these (and then writes the map's COG: ``layers.cog``).

May import: ``core`` and ``layers`` only.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable
from xml.sax.saxutils import escape

import numpy as np

from core.errors import InputError

Progress = Callable[[int, int], None]


def tile_facts(path: Path, name: str, *, allow_vrt: bool = True, vrt_roots: list[Path] | None = None,
               categorical: bool = True) -> dict:
    """Open a tile without letting GDAL guess its format (``gdal_safety.open_raster``: a GeoTIFF,
    or a plain VRT over GeoTIFFs in ``vrt_roots`` when ``allow_vrt``) and run the raster checks."""
    # start-up time: layers.readers loads every reader (pyogrio, geopandas), imported on first use
    from layers.readers.gdal_safety import open_raster
    from layers.readers.raster import check_dataset

    try:
        ds = open_raster(path, name, allow_vrt=allow_vrt, vrt_roots=vrt_roots)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - GDAL: corrupt header
        msg = (str(e).splitlines() or [type(e).__name__])[0][:160]
        raise InputError(f"{name} 无法作为栅格打开（{msg}）。", f"{name} cannot be opened as a raster ({msg}).") from None
    with ds:
        check_dataset(ds, name, categorical=categorical)
        return {"crs": ds.crs, "transform": ds.transform, "width": ds.width, "height": ds.height,
                "dtype": ds.dtypes[0], "nodata": ds.nodata, "bounds": tuple(ds.bounds),
                "block": ds.block_shapes[0]}


def same_grid(facts: list[dict], names: list[str]) -> None:
    f0 = facts[0]
    for f, n in zip(facts[1:], names[1:]):
        if f["crs"] != f0["crs"]:
            raise InputError(f"图幅的坐标系不一致：{names[0]} 为 {f0['crs'].to_string()}，{n} 为 {f['crs'].to_string()}。"
                             "镶嵌要求所有图幅使用同一坐标系：请先将其重投影到同一坐标系。",
                             f"the tiles are in different CRSs: {names[0]} is {f0['crs'].to_string()}, {n} is "
                             f"{f['crs'].to_string()}. A mosaic needs one CRS: reproject them to one first.")
        a, b = f0["transform"], f["transform"]
        if not (math.isclose(a.a, b.a, rel_tol=1e-9) and math.isclose(a.e, b.e, rel_tol=1e-9)):
            raise InputError(f"图幅像元大小不一致：{names[0]} 为 {abs(a.a):g}，{n} 为 {abs(b.a):g}。",
                             f"the tiles have different pixel sizes: {names[0]} {abs(a.a):g}, {n} {abs(b.a):g}.")
        off_x, off_y = (b.c - a.c) / a.a, (b.f - a.f) / a.e
        if abs(off_x - round(off_x)) > 1e-6 or abs(off_y - round(off_y)) > 1e-6:
            raise InputError(f"图幅 {n} 与 {names[0]} 不在同一像元格网上（偏移不是整像元）。",
                             f"tile {n} is not on the pixel grid of {names[0]} (offset is not a whole number of pixels).")
        if f["dtype"] != f0["dtype"]:
            raise InputError(f"图幅数据类型不一致：{f0['dtype']} 与 {f['dtype']}。",
                             f"the tiles have different data types: {f0['dtype']} and {f['dtype']}.")
        if f["nodata"] != f0["nodata"]:
            raise InputError(f"图幅的无数据值不一致：{f0['nodata']} 与 {f['nodata']}。",
                             f"the tiles have different nodata values: {f0['nodata']} and {f['nodata']}.")


def write_vrt(out: Path, tiles: list[Path], facts: list[dict], nodata: float | None) -> None:
    """A mosaic VRT over tiles on one grid (written here, GDAL reads it); ``nodata`` overrides."""
    a = facts[0]["transform"]
    west = min(f["transform"].c for f in facts)
    north = max(f["transform"].f for f in facts) if a.e < 0 else min(f["transform"].f for f in facts)
    cols = [round((f["transform"].c - west) / a.a) for f in facts]
    rows = [round((f["transform"].f - north) / a.e) for f in facts]
    width = max(c + f["width"] for c, f in zip(cols, facts))
    height = max(r + f["height"] for r, f in zip(rows, facts))
    dtype = {"uint8": "Byte", "int8": "Int8", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32",
             "int32": "Int32", "int64": "Int64", "uint64": "UInt64"}[facts[0]["dtype"]]
    nd = f"<NoDataValue>{nodata:g}</NoDataValue>" if nodata is not None else ""
    srcs = []
    for t, f, c, r in zip(tiles, facts, cols, rows):
        bh, bw = f["block"]
        srcs.append(
            f'<SimpleSource><SourceFilename relativeToVRT="0">{escape(str(t))}</SourceFilename>'
            f'<SourceBand>1</SourceBand><SourceProperties RasterXSize="{f["width"]}" RasterYSize="{f["height"]}" '
            f'DataType="{dtype}" BlockXSize="{bw}" BlockYSize="{bh}"/>'
            f'<SrcRect xOff="0" yOff="0" xSize="{f["width"]}" ySize="{f["height"]}"/>'
            f'<DstRect xOff="{c}" yOff="{r}" xSize="{f["width"]}" ySize="{f["height"]}"/></SimpleSource>')
    xml = (f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">'
           f'<SRS>{escape(facts[0]["crs"].to_wkt())}</SRS>'
           f'<GeoTransform>{west!r}, {a.a!r}, 0, {north!r}, 0, {a.e!r}</GeoTransform>'
           f'<VRTRasterBand dataType="{dtype}" band="1">{nd}{"".join(srcs)}</VRTRasterBand></VRTDataset>')
    tmp = out.with_suffix(".vrt.tmp")
    tmp.write_text(xml, encoding="utf-8")
    os.replace(tmp, out)


SCAN_READ_PIXELS = 4 << 20  # pixels one read of the registration scan asks GDAL for (~4 M)


def scan_windows(w: int, h: int, bh: int, bw: int, budget: int):
    """(row0, row1, col0, col1) windows covering the raster once, row band by row band, none
    larger than ``budget`` pixels: strips of whole blocks' rows when a row of blocks fits, else
    each row band read in column chunks of whole blocks (a raster millions of pixels wide)."""
    bh, bw, w = max(1, bh), max(1, bw), max(1, w)
    if w * bh <= budget:
        rows, cols = max(bh, budget // w // bh * bh), w
    else:
        rows = min(bh, max(1, budget // min(w, bw)))
        cols = max(1, budget // rows)
        cols = cols // bw * bw if cols >= bw else cols
    for r0 in range(0, h, rows):
        for c0 in range(0, w, cols):
            yield r0, min(h, r0 + rows), c0, min(w, c0 + cols)


def scan_raster(path: Path, nodata: float | None, progress: Progress | None = None) -> dict:
    """One pass in windows: pixel count of every code (nodata excluded). Memory: one window of at
    most ``SCAN_READ_PIXELS`` pixels (``scan_windows``). (The map's copy is a COG written after the
    scan: ``layers.cog``.)"""
    import rasterio
    from rasterio.windows import Window

    # layers.readers loads every reader (pyogrio, geopandas): imported on first use, not at start-up time
    from layers.readers.gdal_safety import open_raster

    # every block is read once: GDAL's block cache (5% of RAM by default) would only add memory
    with rasterio.Env(GDAL_CACHEMAX=64), open_raster(path) as src:
        w, h = src.width, src.height
        bh, bw = (max(1, int(v)) for v in src.block_shapes[0])
        dt_ = np.dtype(src.dtypes[0])
        small = dt_.itemsize <= 2 and dt_.kind == "u"
        counts = np.zeros(1 << (8 * dt_.itemsize), dtype=np.int64) if small else {}
        for r0, r1, c0, c1 in scan_windows(w, h, bh, bw, SCAN_READ_PIXELS):
            block = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
            if small:
                counts += np.bincount(block.ravel(), minlength=counts.size)
            else:
                vals, cnt = np.unique(block, return_counts=True)
                for v, c in zip(vals.tolist(), cnt.tolist()):
                    counts[v] = counts.get(v, 0) + c
            if progress and c1 == w:
                progress(r1, h)
        if small:
            codes = {int(c): int(n) for c, n in enumerate(counts) if n}
        else:
            codes = {int(c): int(n) for c, n in counts.items() if n}
        if nodata is not None:
            codes.pop(int(nodata), None) if float(nodata).is_integer() else None
        return {"codes": codes, "width": w, "height": h,
                "bounds": tuple(src.bounds), "crs": src.crs, "res": (abs(src.transform.a), abs(src.transform.e))}

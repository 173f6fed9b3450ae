"""Shapefiles, zipped (uploads, ``.zip`` paths; also in a sub-folder of the zip) or given as a
``.shp`` with its sidecars on disk (CLI, data build). The parts are staged in a private folder;
the user's files are never modified.

Attribute encoding: the ``.cpg`` when present and true (it must name a known encoding that decodes
the ``.dbf``: ``UTF-8``, ``936``, ``CP936``, ``GBK``, ``ANSI 936``, ``GB18030``, ``1252`` …),
otherwise UTF-8 if it decodes, else GB18030 (a superset of GBK). The encoding is given to the
reader explicitly. The ``.prj`` is put in the form GDAL reads right (``prj``: BOM, GBK names,
``Gauss-Kruger`` spellings, WKT2/PROJ strings); one that is not a CRS is ignored with a note (the
user is then asked for a CRS). The staged ``.shp``, ``.shx`` and ``.dbf`` must carry their
signatures (``signature.check_shapefile``) before GDAL opens them.

A zip holding several Shapefiles offers them as layers (named by file; by folder and file when
two share a name); a zip holding a File Geodatabase folder and no Shapefile is read by
``filegdb``.
"""
from __future__ import annotations

import codecs
import os
import re
import shutil
from pathlib import Path, PurePosixPath

from core.errors import UploadError
from core.text import Text
from layers.readers import archive, filegdb, prj as _prj, signature
from layers.readers.ogr import read_ogr

PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def read(source, folder: Path, layer: str | None, notes: list):
    """Registry entry: (frame, layer) of a zipped Shapefile or a ``.shp`` on disk."""
    if source.ext == ".shp":
        if source.path is None:
            raise UploadError("单独的 .shp 文件无法读取：请将 .shp、.shx、.dbf、.prj（及 .cpg）一起打包为 zip 上传。",
                              "a .shp alone cannot be read: zip it together with its .shx, .dbf, .prj (and .cpg).")
        files = {p.name.lower(): p for p in source.path.parent.iterdir()
                 if p.is_file() and p.stem == source.path.stem and p.suffix.lower() in PARTS}
        stems = [source.path.name.lower()[:-4]]
    else:
        if _holds_gdb(source):
            return filegdb.read(source, folder, layer, notes)
        files = archive.extract_all(source, folder)
        stems = sorted({k[:-4] for k in files if k.endswith(".shp")})
        if not stems:
            raise _no_shp(files)
        if len(stems) > 1:
            labels = _labels(stems)
            if layer is None:
                raise _zip_layers_error(labels)
            if layer not in labels:
                raise UploadError(f"压缩包中没有名为“{layer[:80]}”的 Shapefile；可选：{'、'.join(labels[:20])}。",
                                  f"no Shapefile named '{layer[:80]}' in the archive; choose one of: {', '.join(labels[:20])}.")
            stems = [stems[labels.index(layer)]]
    path, encoding = stage(files, stems[0], folder, notes, copy=source.ext == ".shp")
    if encoding and encoding.upper().replace("-", "") != "UTF8":
        notes.append(Text(f"属性编码：{encoding}", f"attribute encoding: {encoding}"))
    gdf, _, more = read_ogr(path, None, encoding)
    notes.extend(more)
    return gdf, (layer if len(stems) == 1 and layer else None)


def _holds_gdb(source) -> bool:
    """A zip with a File Geodatabase folder and no Shapefile."""
    names = archive.member_names(source)
    return not any(n.lower().endswith(".shp") for n in names) and bool(filegdb.gdb_folders(names))


def _labels(stems: list[str]) -> list[str]:
    """Layer names of the Shapefiles of a zip: the file name, or folder/name when two share it."""
    names = [PurePosixPath(s).name for s in stems]
    return [n if names.count(n) == 1 else s for n, s in zip(names, stems)]


def _no_shp(files: dict[str, Path]) -> UploadError:
    """No .shp in the zip: name what is there instead (a table alone …)."""
    names = list(files)
    dbf = [m for m in names if m.endswith(".dbf")]
    if dbf:
        return UploadError(f"压缩包中只有属性表（{PurePosixPath(dbf[0]).name}），没有几何（缺少 .shp 和 .shx）："
                           "属性表没有位置，请一并打包 .shp、.shx、.dbf、.prj。",
                           f"the archive holds only an attribute table ({PurePosixPath(dbf[0]).name}) and no geometry "
                           "(no .shp and .shx): a table has no locations; zip the .shp, .shx, .dbf and .prj together.")
    return UploadError("压缩包中没有 .shp 文件。", "no .shp file in the archive.")


def _zip_layers_error(labels: list[str]) -> UploadError:
    shown = ", ".join(labels[:20])
    return UploadError(f"压缩包中有 {len(labels)} 个 Shapefile：{'、'.join(labels[:20])}；请选择其一（命令行：--layer）。",
                       f"the zip archive holds {len(labels)} Shapefiles: {shown}; choose one with --layer "
                       "(on the page: the layer box).")


def zip_layers(source, folder: Path) -> list[str]:
    if _holds_gdb(source):
        return filegdb.layers(source, folder)
    files = archive.extract_all(source, folder)
    stems = sorted({k[:-4] for k in files if k.endswith(".shp")})
    return _labels(stems) if len(stems) > 1 else []


def stage(files: dict[str, Path], stem: str, folder: Path, notes: list, copy: bool = False) -> tuple[Path, str | None]:
    """Put the parts of one Shapefile under ``folder/upload.*``; returns (.shp path, encoding)."""
    need = {ext: files.get(stem + ext) for ext in (".shp", ".shx", ".dbf")}
    missing = [e for e, p in need.items() if p is None]
    if missing:
        raise UploadError(f"Shapefile 缺少 {', '.join(missing)} 文件。",
                          f"the Shapefile is missing its {', '.join(missing)} part(s).")
    dest = folder / "upload"
    for ext in PARTS:
        src = files.get(stem + ext)
        if src is not None:
            (shutil.copyfile if copy else os.replace)(src, dest.with_suffix(ext))
    signature.check_shapefile({ext: dest.with_suffix(ext) for ext in (".shp", ".shx", ".dbf")})
    prj = dest.with_suffix(".prj")
    if prj.is_file() and not _prj.normalise(prj, notes):
        prj.unlink()  # read as "no CRS": the user is asked to choose one
        notes.append(Text(".prj 文件无法识别（不是有效的坐标系定义），已忽略", "the .prj file is not a valid CRS definition: ignored"))
    dbf = dest.with_suffix(".dbf")
    cpg = dest.with_suffix(".cpg")
    if cpg.is_file():
        declared = cpg.read_bytes()[:64].decode("utf-8-sig", "replace").strip()
        cpg.unlink()  # we pass the encoding ourselves
        enc = codec(declared)
        if enc and decodes(dbf, enc):
            return dest.with_suffix(".shp"), enc
        guess = guess_dbf_encoding(dbf)
        notes.append(Text(f".cpg 声明的编码“{declared[:30]}”{'无法识别' if not enc else '与属性数据不符'}，已按 {guess} 读取",
                          f"the .cpg declares encoding '{declared[:30]}', which is "
                          f"{'unknown' if not enc else 'not what the attributes use'}: read as {guess}"))
        return dest.with_suffix(".shp"), guess
    return dest.with_suffix(".shp"), guess_dbf_encoding(dbf)


_CPG = {"UTF8": "utf-8", "UTF-8": "utf-8", "65001": "utf-8", "936": "gbk", "CP936": "gbk", "GBK": "gbk",
        "GB2312": "gbk", "GB18030": "gb18030", "54936": "gb18030", "1252": "cp1252",
        "LATIN1": "ISO-8859-1", "LATIN-1": "ISO-8859-1", "ISO-8859-1": "ISO-8859-1", "88591": "ISO-8859-1", "950": "big5", "BIG5": "big5"}


def codec(declared: str) -> str | None:
    """Python codec for a .cpg value (``936``, ``CP936``, ``ANSI 936``, ``GBK`` …), or None."""
    key = re.sub(r"\s+", " ", declared.upper().strip())
    key = re.sub(r"^(ANSI|CP|WINDOWS|MS)[ _-]?(?=\d+$)", "", key)  # ANSI 936, CP 936, Windows-1252 -> 936, 1252
    if key in _CPG:
        return _CPG[key]
    if key.isdigit():
        key = f"cp{key}"
    try:
        name = codecs.lookup(key).name
    except (LookupError, ValueError):
        return None
    # GDAL (iconv) does not know Python's spelling "latin-1": Natural Earth's .cpg says ISO-8859-1
    return "ISO-8859-1" if name in ("latin-1", "iso8859-1") else name


def _dbf_text(dbf: Path) -> bytes:
    """The record area of a .dbf (header skipped): the bytes that hold attribute text."""
    raw = dbf.read_bytes()
    hdr = int.from_bytes(raw[8:10], "little") if len(raw) >= 10 else 0
    return raw[hdr:] if 0 < hdr <= len(raw) else raw


def decodes(dbf: Path, codec_: str) -> bool:
    try:
        _dbf_text(dbf).decode(codec_)
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def guess_dbf_encoding(dbf: Path) -> str:
    return "UTF-8" if decodes(dbf, "utf-8") else "GB18030"

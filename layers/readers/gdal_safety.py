"""Opening a land-cover raster without letting GDAL guess what it is.

GDAL picks a driver from a file's content: an XML "virtual raster" (VRT) named ``x.tif`` is read by
the VRT driver, which reads whatever files or URLs it names — raw bytes of any server file
(``VRTRawRasterBand``), other rasters, ``/vsicurl/`` URLs. So every raster we open goes through
here, its first bytes checked before GDAL sees it:

- **uploads** (Data page, Targets page, each tile of a zip): the TIFF signature, then the GTiff
  driver only (``open_upload``, ``open_raster(..., allow_vrt=False)``); XML is refused as a VRT
  whatever the file's name;
- **VRTs** (the import folder, the CLI, the mosaics the workspace writes): read as XML by
  ``read_vrt`` first and refused unless they are a plain mosaic as ``gdalbuildvrt`` writes it —
  sourced bands of ``SimpleSource``/``ComplexSource``/``AveragedSource`` elements over files,
  nothing else (no raw, derived or pansharpened bands, no warped VRT, no ``<Overview>`` or
  ``<MaskBand>`` naming other files, no DOCTYPE/entities; GDAL reads tags and attributes in any
  letter case, so do we); a source must be a plain path (no ``/vsi…``, URL or ``DRIVER:``
  prefix). At registration (``vrt_roots``) every source must also be a GeoTIFF inside the
  allowed folders (the import folder), checked after following links;
- then the VRT driver only (``driver="VRT"``).

Every raster is opened with ``OVERVIEW_LEVEL=NONE`` (``NO_OVERVIEWS``): a GeoTIFF's overviews may
live in a sibling ``.ovr`` file or be named by its ``OVERVIEWS`` metadata (``OVERVIEW_FILE``), which
GDAL opens with every driver — a VRT there would read other files on a reduced-resolution read.
``raster.check_dataset`` also refuses a raster whose metadata names an overview file. (The sources
of an import-folder VRT are opened by GDAL's VRT driver, which may still use *their* overviews on a
reduced-resolution read of the mosaic: the import folder is the operators'; no code path of ours
reads a mosaic below full resolution.)

``core`` sets ``GDAL_VRT_ENABLE_RAWRASTERBAND=NO`` and turns ``/vsicurl/`` off process-wide as a
second line (rasterio's GDAL 3.10 ignores the first; GDAL 3.12 honours it).
"""
from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from core import paths
from core.errors import InputError

TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
# GDAL's open option: no overview is ever read. A GeoTIFF's overviews may come from a sibling file
# (``x.tif.ovr``) or from its ``OVERVIEWS`` metadata (``OVERVIEW_FILE``), opened with every driver —
# a VRT there reads any file; without overviews a reduced-resolution read decodes the pixels themselves
NO_OVERVIEWS = {"OVERVIEW_LEVEL": "NONE"}
MAX_VRT_XML_BYTES = 64 * 2**20  # a VRT is an XML index; a national one of ~3,000 tiles is ~2 MB

# what a plain mosaic VRT may hold (lower case: GDAL compares names without case)
ROOT_CHILDREN = {"srs", "geotransform", "vrtrasterband", "metadata", "blockxsize", "blockysize", "overviewlist"}
BAND_CHILDREN = {"nodatavalue", "hidenodatavalue", "colorinterp", "colortable", "description", "metadata",
                 "categorynames", "offset", "scale", "unittype", "histograms", "gdalrasterattributetable",
                 "overviewlist"}
SOURCES = {"simplesource", "complexsource", "averagedsource"}
SOURCE_CHILDREN = {"sourcefilename", "sourceband", "sourceproperties", "srcrect", "dstrect", "nodata",
                   "usemaskband", "lut", "scaleoffset", "scaleratio", "colortablecomponent", "exponent", "srcmin",
                   "srcmax", "dstmin", "dstmax", "resamplealg"}


@dataclass(frozen=True)
class VrtSource:
    """One source of a VRT band: its file and where it lands in the VRT's pixel grid (DstRect;
    the whole raster when the source has none)."""

    path: str
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class VrtInfo:
    width: int
    height: int
    sources: list[VrtSource]  # band 1 (the land-cover codes)
    files: list[str]  # the source files of every band


def display(name) -> str:
    """A file name for messages only (never a path we open)."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:120] or "upload.tif"


def _shown(text: str) -> str:
    """A source as written in a VRT, for an admin's message: printable, at most 200 characters."""
    return "".join(ch for ch in text if ch.isprintable())[:200]


def kind_of(head: bytes) -> str:
    """``tiff``, ``xml`` (a VRT or any XML) or ``other``, from a file's first bytes."""
    if head[:4] in TIFF_MAGIC:
        return "tiff"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text[:1] == b"<" or head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # XML, also in UTF-16
        return "xml"
    return "other"


def file_head(path, n: int = 1024) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def not_geotiff(head: bytes, name: str) -> InputError | None:
    """The refusal of a file that must be a GeoTIFF (None when it has the TIFF signature)."""
    k = kind_of(head)
    if k == "tiff":
        return None
    if k == "xml":
        return InputError(f"{name} 不是 GeoTIFF：其内容为 XML（GDAL 虚拟栅格 VRT 等），VRT 会读取其中指定的其他文件，"
                          "因此不接受上传的 VRT，请上传 GeoTIFF",
                          f"{name} is not a GeoTIFF: it holds XML (a GDAL virtual raster, VRT, or the like); a VRT "
                          "reads other files named inside it, so an uploaded VRT is refused: upload a GeoTIFF")
    return InputError(f"{name} 不是 GeoTIFF 文件（无 TIFF 文件标识）", f"{name} is not a GeoTIFF (no TIFF signature)")


def open_upload(data: bytes, name: str):
    """Uploaded bytes as a GeoTIFF (in memory, GTiff driver only)."""
    from rasterio.io import MemoryFile

    err = not_geotiff(data[:1024], name)
    if err is not None:
        raise err
    return MemoryFile(data).open(driver="GTiff", **NO_OVERVIEWS)


def default_vrt_roots(vrt: Path) -> list[Path]:
    """Where the sources of a VRT registered from disk may lie: the import folder; for a VRT
    outside it (named on the command line), also the VRT's own folder."""
    root = paths.import_dir()
    p = Path(vrt).resolve()
    return [root] if p == root or root in p.parents else [root, p.parent]


def open_raster(path, name: str | None = None, *, allow_vrt: bool = True, vrt_roots: list[Path] | None = None):
    """A GeoTIFF (GTiff driver only) or, when ``allow_vrt``, a VRT that ``read_vrt`` accepts (and
    whose sources lie in ``vrt_roots``, when given): anything else is refused before GDAL opens it."""
    import rasterio

    path = Path(path)
    name = name or display(path.name)
    try:
        head = file_head(path)
    except OSError as e:
        raise InputError(f"无法读取栅格 {name}（{e.strerror or type(e).__name__}）",
                         f"cannot read raster {name} ({e.strerror or type(e).__name__})") from None
    k = kind_of(head)
    if k == "tiff":
        return rasterio.open(path, driver="GTiff", **NO_OVERVIEWS)
    if k == "xml" and allow_vrt:
        info = read_vrt(path, name)
        if vrt_roots is not None:
            check_sources_inside(info, name, vrt_roots)
        return rasterio.open(path, driver="VRT", **NO_OVERVIEWS)
    if allow_vrt:
        raise InputError(f"{name} 既不是 GeoTIFF（无 TIFF 文件标识）也不是 VRT 镶嵌",
                         f"{name} is neither a GeoTIFF (no TIFF signature) nor a VRT mosaic")
    raise not_geotiff(head, name)


# --- VRT content -----------------------------------------------------------------------------------
def _refuse(name: str, zh: str, en: str) -> InputError:
    return InputError(f"土地覆盖镶嵌 {name} 含有不允许的 VRT 内容：{zh}。只接受由 GeoTIFF 图幅组成的普通镶嵌"
                      "（如 gdalbuildvrt 所写），VRT 不得读取其他文件或网址",
                      f"land-cover mosaic {name} holds VRT content that is not allowed: {en}. Only a plain mosaic of "
                      "GeoTIFF tiles (as gdalbuildvrt writes it) is accepted; a VRT may not read other files or URLs")


def _tag(el) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def _attr(el, key: str, default=None):
    return next((v for k, v in el.attrib.items() if k.lower() == key), default)


def read_vrt(path, name: str | None = None) -> VrtInfo:
    """Parse a VRT and refuse (InputError naming what) anything but a plain mosaic of files."""
    path = Path(path)
    name = name or display(path.name)
    if path.stat().st_size > MAX_VRT_XML_BYTES:
        raise _refuse(name, f"XML 超过 {MAX_VRT_XML_BYTES >> 20} MB", f"XML larger than {MAX_VRT_XML_BYTES >> 20} MB")
    data = path.read_bytes()
    if re.search(rb"<!\s*(DOCTYPE|ENTITY)", data, re.IGNORECASE):
        raise _refuse(name, "<!DOCTYPE>/<!ENTITY> 声明", "a <!DOCTYPE>/<!ENTITY> declaration")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        where = f"{e.position[0]}:{e.position[1]}" if getattr(e, "position", None) else "?"
        raise _refuse(name, f"XML 格式不正确（第 {where} 处）", f"XML that is not well-formed (at {where})") from None
    if _tag(root) != "vrtdataset":
        raise _refuse(name, f"根元素 <{_shown(str(root.tag))}>", f"root element <{_shown(str(root.tag))}>")
    if _attr(root, "subclass"):
        sub = _shown(_attr(root, "subclass"))
        raise _refuse(name, f"数据集类型 subClass={sub}", f"dataset subClass {sub}")
    try:
        w, h = int(_attr(root, "rasterxsize")), int(_attr(root, "rasterysize"))
    except (TypeError, ValueError):
        raise _refuse(name, "缺少或无效的 rasterXSize/rasterYSize", "missing or invalid rasterXSize/rasterYSize") from None
    if w <= 0 or h <= 0:
        raise _refuse(name, "栅格大小为 0", "a raster size of 0")
    band1: list[VrtSource] = []
    files: list[str] = []
    for child in root:
        t = _tag(child)
        if not t:
            continue  # a comment or processing instruction
        if t not in ROOT_CHILDREN:
            raise _refuse(name, f"元素 <{_shown(child.tag)}>", f"element <{_shown(child.tag)}>")
        if t != "vrtrasterband":
            continue
        srcs = _band_sources(child, path, name, w, h)
        files += [s.path for s in srcs]
        if _attr(child, "band", "1").strip() == "1" and not band1:
            band1 = srcs
    return VrtInfo(w, h, band1, files)


def _band_sources(band, vrt: Path, name: str, w: int, h: int) -> list[VrtSource]:
    sub = _attr(band, "subclass")
    if sub and sub.lower() != "vrtsourcedrasterband":
        raise _refuse(name, f"波段类型 subClass={_shown(sub)}", f"band subClass {_shown(sub)}")
    out = []
    for el in band:
        t = _tag(el)
        if not t or t in BAND_CHILDREN:
            continue
        if t not in SOURCES:
            raise _refuse(name, f"波段中的元素 <{_shown(el.tag)}>", f"element <{_shown(el.tag)}> in a band")
        out.append(_source(el, vrt, name, w, h))
    return out


def _source(el, vrt: Path, name: str, w: int, h: int) -> VrtSource:
    fn = []
    for c in el:
        t = _tag(c)
        if t and t not in SOURCE_CHILDREN:
            raise _refuse(name, f"数据源中的元素 <{_shown(c.tag)}>", f"element <{_shown(c.tag)}> in a source")
        if t == "sourcefilename":
            fn.append(c)
    if len(fn) != 1 or not (fn[0].text or "").strip():
        raise _refuse(name, "数据源须有且只有一个 SourceFilename", "a source without exactly one SourceFilename")
    text = fn[0].text.strip()
    relative = (_attr(fn[0], "relativetovrt", "0") or "0").strip() == "1"
    drive = os.name == "nt" and re.match(r"^[A-Za-z]:[\\/]", text)
    if (text.lower().startswith("/vsi") or "://" in text or "\x00" in text
            or (re.match(r"^[A-Za-z][A-Za-z0-9_+.-]*:", text) and not drive)):
        shown = _shown(text)
        raise InputError(f"土地覆盖镶嵌 {name} 的数据源 {shown} 不是本服务器上的文件（GDAL 虚拟路径 /vsi…、网址或驱动前缀）："
                         "已拒绝，未发出任何请求",
                         f"land-cover mosaic {name}: source {shown} is not a file on this server (a GDAL /vsi… path, "
                         "a URL or a driver prefix): refused, no request made")
    p = Path(text)
    if not p.is_absolute():
        if not relative:
            raise _refuse(name, f"相对路径 {_shown(text)} 未标注 relativeToVRT=\"1\"",
                          f"relative path {_shown(text)} without relativeToVRT=\"1\"")
        p = vrt.parent / p
    dst = next((c for c in el if _tag(c) == "dstrect"), None)
    if dst is None:
        return VrtSource(str(p), 0, 0, w, h)  # GDAL lays a source without DstRect over the whole raster
    try:
        x, y, dw, dh = (float(_attr(dst, k, "0")) for k in ("xoff", "yoff", "xsize", "ysize"))
    except ValueError:
        raise _refuse(name, "无效的 DstRect", "an invalid DstRect") from None
    if not all(math.isfinite(v) and abs(v) < 2**53 for v in (x, y, dw, dh)) or dw < 0 or dh < 0:
        raise _refuse(name, "无效的 DstRect", "an invalid DstRect")
    return VrtSource(str(p), int(x), int(y), math.ceil(dw), math.ceil(dh))


def check_sources_inside(info: VrtInfo, name: str, roots: list[Path]) -> None:
    """Every source file (links followed) is a GeoTIFF inside one of ``roots``."""
    roots = [Path(r).resolve() for r in roots]
    where = "、".join(map(str, roots))
    for s in info.files:
        real = Path(s).resolve()
        tile = display(s)
        if not any(real == r or r in real.parents for r in roots):
            raise InputError(f"土地覆盖镶嵌 {name} 的图幅 {tile} 位于导入目录之外（{where}）：VRT 只能引用导入目录中的 GeoTIFF",
                             f"land-cover mosaic {name}: tile {tile} lies outside the import folder "
                             f"({', '.join(map(str, roots))}); a VRT may only name GeoTIFFs inside it")
        try:
            head = file_head(real, 8) if real.is_file() else None
        except OSError:
            head = None
        if head is None:
            raise InputError(f"土地覆盖镶嵌 {name} 的图幅 {tile} 不存在或无法读取",
                             f"land-cover mosaic {name}: tile {tile} is missing or unreadable")
        if kind_of(head) != "tiff":
            raise InputError(f"土地覆盖镶嵌 {name} 的图幅 {tile} 不是 GeoTIFF（无 TIFF 文件标识；不接受嵌套的 VRT）",
                             f"land-cover mosaic {name}: tile {tile} is not a GeoTIFF (no TIFF signature; nested VRTs "
                             "are refused)")

"""A user's file must be what its extension claims — checked on its bytes before any GDAL call.

GDAL picks a driver from the content, so an XML "virtual dataset" named ``parks.geojson`` would be
opened as a VRT and read any server file (or URL) it names. Each format is checked by its
signature instead, and the readers then open it with the driver forced where GDAL allows a prefix
(``GeoJSON:``, ``GPKG:``; see ``gdal_name``); the other drivers are removed process-wide
(``ogr_policy``):

- GeoJSON and TopoJSON: JSON text — an object or array, after an optional UTF-8 BOM and blank
  space; UTF-16/32 text is refused by name (GDAL reads them as UTF-8); a GDAL algorithm pipeline
  (GDALG, JSON too) and Esri JSON are refused by name; a TopoJSON (``"type": "Topology"`` with
  ``arcs``) is told from a GeoJSON by its content, whatever its extension;
- GeoPackage: the SQLite header and the GeoPackage application id (``GPKG``, or ``GP10``/``GP11``
  of GeoPackage 1.0/1.1);
- KML (and the ``.kml`` inside a KMZ): XML whose root element is ``kml`` (no namespace, or a KML
  namespace); OSM XML: root ``osm``; OSM PBF: the ``OSMHeader`` blob;
- Shapefile: ``.shp`` and ``.shx`` with the file code 9994 and version 1000, a ``.dbf`` with a dBASE
  version byte and a plausible header length;
- File Geodatabase: only its own table and index files (``a00000001.gdbtable`` …), each table
  starting with a FileGDB version word (``filegdb``); Excel workbooks: a zip holding
  ``[Content_Types].xml`` and ``xl/workbook.xml`` (``excel``).

A refusal names what the file really is when that is recognisable ("this file is a GDAL virtual
dataset (VRT), not GeoJSON: refused"), in both languages, and never quotes the file's content.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path
from xml.parsers import expat

from core.errors import UploadError
from core.text import Text

HEAD = 1 << 16  # bytes looked at to name the content
XML_HEAD = 1 << 20  # bytes an XML file may spend on its prolog before the root element
KML_NS = frozenset({"", "http://www.opengis.net/kml/2.2", "http://earth.google.com/kml/2.0",
                    "http://earth.google.com/kml/2.1", "http://earth.google.com/kml/2.2"})
GPKG_IDS = (b"GPKG", b"GP10", b"GP11")
SQLITE = b"SQLite format 3\x00"
DBF_VERSIONS = frozenset({0x02, 0x03, 0x04, 0x05, 0x30, 0x31, 0x32, 0x43, 0x63, 0x7B, 0x83, 0x8B, 0x8E, 0xCB, 0xE5,
                          0xF5, 0xFB})

GEOJSON = Text("GeoJSON", "GeoJSON")
TOPOJSON = Text("TopoJSON", "TopoJSON")
GEOPACKAGE = Text("GeoPackage", "a GeoPackage")
KML = Text("KML", "KML")
OSM_XML = Text("OSM 数据（.osm）", "an OSM extract (.osm)")
OSM_PBF = Text("OSM PBF 数据（.osm.pbf）", "an OSM PBF extract (.osm.pbf)")
SHP = {".shp": Text("Shapefile 的 .shp 文件", "a Shapefile .shp part"),
       ".shx": Text("Shapefile 的 .shx 文件", "a Shapefile .shx part"),
       ".dbf": Text("Shapefile 的 .dbf 属性表", "a Shapefile .dbf table")}
CSV = Text("CSV 表格", "a CSV table")

_VIRTUAL_WHY = Text("它会读取其中指定的其他文件或网址", "it reads other files or URLs named inside it")
VRT = Text("GDAL 虚拟数据集（VRT）", "a GDAL virtual dataset (VRT)")
GDALG = Text("GDAL 算法管道（GDALG）", "a GDAL algorithm pipeline (GDALG)")
SERVICE = Text("GDAL 网络服务描述（WFS/WMS 等）", "a GDAL web-service description (WFS, WMS …)")
_VIRTUAL = ((re.compile(rb"<\s*(OGRVRTDataSource|VRTDataset)\b"), VRT),
            (re.compile(rb"\"gdal_streamed_alg\""), GDALG),
            (re.compile(rb"<\s*(OGRWFSDataSource|GDAL_WMS|GDAL_WCS|GDAL_WMTS|OGRAPIFDataSource|OGRPLScenes"
                        rb"|WFS_GetCapabilities)\b"), SERVICE))


_OTHER_JSON = ((re.compile(rb'"geometryType"\s*:\s*"esriGeometry'), Text("Esri JSON（ArcGIS）", "Esri JSON (ArcGIS)")),)
_TOPOLOGY = re.compile(rb'"type"\s*:\s*"Topology"[\s\S]*"arcs"\s*:|"arcs"\s*:[\s\S]*"type"\s*:\s*"Topology"')


class NotWhatItClaims(UploadError):
    """The content is not the format the extension claims (or is a dataset that reads others)."""


def refuse(what: Text | None, fmt: Text, why: Text | None = None) -> NotWhatItClaims:
    """"this file is <what>, not <fmt>: refused" (or "this file is not <fmt> (<why>)")."""
    virtual = what in (VRT, GDALG, SERVICE)
    if what is not None:
        zh = f"该文件是 {what.zh}，不是 {fmt.zh}：已拒绝" + (f"（{_VIRTUAL_WHY.zh}）。" if virtual else "。")
        en = f"this file is {what.en}, not {fmt.en}: refused" + (f" ({_VIRTUAL_WHY.en})." if virtual else ".")
    else:
        zh = f"该文件不是 {fmt.zh}（{why.zh}）：已拒绝。"
        en = f"this file is not {fmt.en} ({why.en}): refused."
    return NotWhatItClaims(zh, en)


def _text_head(head: bytes) -> bytes:
    """The head as UTF-8 bytes (UTF-16/32 with a BOM or with NUL bytes are decoded)."""
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                     (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            return head.decode(enc, "replace").encode("utf-8", "replace")
    if b"\x00" in head[:64] and not head.startswith(SQLITE):
        for enc in ("utf-16-le", "utf-16-be"):
            text = head[: len(head) // 2 * 2].decode(enc, "replace")
            if text.lstrip("\ufeff \t\r\n")[:1] in ("<", "{", "["):
                return text.encode("utf-8", "replace")
    return head.removeprefix(codecs.BOM_UTF8)


def virtual_kind(head: bytes) -> Text | None:
    """VRT, GDALG or a web-service description: a marker near the start of the file (where GDAL
    looks), or an XML root element of a VRT after any amount of prolog."""
    text = _text_head(head[:HEAD])
    for pattern, what in _VIRTUAL:
        if pattern.search(text[:4096]):
            return what
    if text.lstrip()[:1] == b"<" and _root_name(head) in ("OGRVRTDataSource", "VRTDataset"):
        return VRT
    return None


def sniff(head: bytes) -> Text | None:
    """What the bytes are, when recognisable (None otherwise)."""
    what = virtual_kind(head)
    if what is not None:
        return what
    if head.startswith(SQLITE):
        return Text("GeoPackage", "a GeoPackage") if head[68:72] in GPKG_IDS else Text("SQLite 数据库", "an SQLite database")
    if head[:4] == b"\x00\x00\x27\x0a":
        return Text("Shapefile 的 .shp/.shx 文件", "a Shapefile .shp/.shx part")
    for magic, what in ((b"PK\x03\x04", Text("zip 压缩包", "a zip archive")), (b"%PDF", Text("PDF 文档", "a PDF document")),
                        (b"II*\x00", Text("TIFF 图像", "a TIFF image")), (b"MM\x00*", Text("TIFF 图像", "a TIFF image")),
                        (b"\x1f\x8b", Text("gzip 压缩文件", "a gzip archive")),
                        (b"\xd0\xcf\x11\xe0", Text("Office 97-2003 文档", "an Office 97-2003 document"))):
        if head.startswith(magic):
            return what
    if _is_pbf(head):
        return OSM_PBF
    text = _text_head(head).lstrip()
    if text[:1] in (b"{", b"["):
        return Text("JSON 文本", "JSON text")
    if text[:1] == b"<":
        root = _root_name(head)
        if root:
            return Text(f"XML 文档（根元素 <{root}>）", f"an XML document (root element <{root}>)")
    return None


def check_text_table(head: bytes, fmt: Text = CSV) -> None:
    """A text table read by our own code (CSV): only a virtual dataset is refused by name."""
    what = virtual_kind(head)
    if what is not None:
        raise refuse(what, fmt)


def check_geojson(head: bytes, fmt: Text = GEOJSON) -> str:
    """A GeoJSON or TopoJSON text: returns ``"geojson"`` or ``"topojson"`` (by content), else refuses."""
    what = virtual_kind(head)  # first: a virtual dataset is named as such, whatever its encoding
    if what is not None:
        raise refuse(what, fmt)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or (
            b"\x00" in head[:8] and _text_head(head).lstrip()[:1] in (b"{", b"[")):
        raise NotWhatItClaims(f"该文件是 UTF-16/UTF-32 编码的文本，不是 UTF-8 编码的 {fmt.zh}：已拒绝。请另存为 UTF-8 后重试。",
                              f"this file is UTF-16/UTF-32 encoded text, not {fmt.en} in UTF-8: refused. Save it as "
                              "UTF-8 and try again.")
    start = head.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")[:1]
    if start not in (b"{", b"["):
        raise refuse(sniff(head), fmt, Text("不以 JSON 对象开头", "it does not start with a JSON object"))
    for pattern, what in _OTHER_JSON:  # read by GDAL's sniffing before; export them as GeoJSON
        if pattern.search(head[:HEAD]):
            raise NotWhatItClaims(f"该文件是 {what.zh}，不是 {fmt.zh}：已拒绝。请在原软件中导出为 GeoJSON 后重试。",
                                  f"this file is {what.en}, not {fmt.en}: refused. Export it as GeoJSON and try again.")
    return "topojson" if _TOPOLOGY.search(head[:HEAD]) else "geojson"


def check_gpkg(head: bytes) -> None:
    if not head.startswith(SQLITE):
        raise refuse(sniff(head), GEOPACKAGE, Text("没有 SQLite 文件头", "it has no SQLite header"))
    if head[68:72] not in GPKG_IDS:
        raise refuse(Text("SQLite 数据库（应用标识不是 GeoPackage）", "an SQLite database whose application id is not "
                          "GeoPackage's"), GEOPACKAGE)


def check_kml(path: Path) -> None:
    _check_xml(path, "kml", KML_NS, KML)


def check_osm(path: Path) -> None:
    """``.osm`` XML (root ``osm``) or an OSM PBF extract (``.pbf``, ``.osm.pbf``)."""
    with open(path, "rb") as f:
        head = f.read(HEAD)
    if path.name.lower().endswith(".pbf"):
        if not _is_pbf(head):
            raise refuse(sniff(head), OSM_PBF, Text("没有 OSMHeader 数据块", "it has no OSMHeader block"))
        return
    _check_xml(path, "osm", frozenset({""}), OSM_XML)


def check_shapefile(parts: dict[str, Path]) -> None:
    """``parts``: {".shp": path, ".shx": path, ".dbf": path} of one staged Shapefile."""
    for ext in (".shp", ".shx"):
        with open(parts[ext], "rb") as f:
            head = f.read(HEAD)
        if not (len(head) >= 100 and int.from_bytes(head[:4], "big") == 9994
                and int.from_bytes(head[28:32], "little") == 1000):
            raise refuse(sniff(head), SHP[ext], Text("文件代码不是 9994", "its file code is not 9994"))
    with open(parts[".dbf"], "rb") as f:
        head = f.read(HEAD)
    if not (len(head) >= 32 and head[0] in DBF_VERSIONS and int.from_bytes(head[8:10], "little") >= 33):
        raise refuse(sniff(head), SHP[".dbf"], Text("没有 dBASE 文件头", "it has no dBASE header"))


FILEGDB = Text("Esri 文件地理数据库（.gdb）", "an Esri File Geodatabase (.gdb)")
EXCEL = Text("Excel 工作簿（.xlsx）", "an Excel workbook (.xlsx)")
# the files a File Geodatabase folder holds: tables a<8 hex digits> with their indexes, and two markers
GDB_FILE = re.compile(r"^(a[0-9a-f]{8}(\.[A-Za-z0-9_]{1,64})?\.(gdbtable|gdbtablx|gdbindexes|atx|spx|freelist|horizon)"
                      r"|gdb|timestamps)$", re.I)


def check_filegdb(files: dict[str, Path]) -> None:
    """``files``: {name: staged path} of one File Geodatabase folder (only ``GDB_FILE`` names).
    The system catalog ``a00000001.gdbtable`` must be there and every table and table index must
    start with a FileGDB version word (3 or 4, little-endian); nothing in it may be a dataset that
    reads others."""
    names = {n.lower() for n in files}
    if "a00000001.gdbtable" not in names:
        raise refuse(None, FILEGDB, Text("缺少系统表 a00000001.gdbtable", "its system table a00000001.gdbtable is missing"))
    for name, path in files.items():
        with open(path, "rb") as f:
            head = f.read(HEAD)
        what = virtual_kind(head)
        if what is not None:
            raise refuse(what, FILEGDB)
        if name.lower().endswith((".gdbtable", ".gdbtablx")) and int.from_bytes(head[:4], "little") not in (3, 4):
            raise refuse(sniff(head), FILEGDB, Text(f"{name[:60]} 没有 FileGDB 文件头", f"{name[:60]} has no FileGDB header"))


def check_excel(names: list[str] | None, head: bytes) -> None:
    """An .xlsx: a zip (``PK``) whose members include ``[Content_Types].xml`` and
    ``xl/workbook.xml`` (the Office Open XML spreadsheet parts); ``names`` None checks the head only."""
    if not head.startswith(b"PK\x03\x04"):
        raise refuse(sniff(head), EXCEL, Text("不是 zip 容器", "it is not a zip container"))
    if names is None:
        return
    lower = {n.lower() for n in names}
    if "[content_types].xml" not in lower or "xl/workbook.xml" not in lower:
        raise refuse(Text("zip 压缩包", "a zip archive"), EXCEL)


def gdal_name(path: Path, driver: str | None) -> str:
    """What GDAL is asked to open: ``GeoJSON:/abs/path`` / ``GPKG:/abs/path`` forces the driver
    (GDAL knows these prefixes); other formats rely on the removed drivers (``ogr_policy``)."""
    p = str(Path(path).resolve())
    if p.startswith("/vsi") or "://" in p:  # never a virtual file system or a URL
        raise UploadError("文件路径无效。", "invalid file path.")
    return f"{driver}:{p}" if driver in ("GeoJSON", "GPKG", "CSV", "TopoJSON") else p


# --- helpers --------------------------------------------------------------------------------------
def _is_pbf(head: bytes) -> bool:
    """An OSM PBF file starts with a BlobHeader (4-byte length, field 1 = "OSMHeader")."""
    return len(head) >= 15 and 0 < int.from_bytes(head[:4], "big") < 64 * 1024 and head[4:6] == b"\x0a\x09" \
        and head[6:15] == b"OSMHeader"


class _Root(Exception):
    pass


def _root(data: bytes) -> tuple[str, str] | None:
    """(namespace, local name) of the root element; None when not XML. A DOCTYPE raises."""
    found: list[tuple[str, str]] = []

    def start(name, attrs):
        ns, _, local = name.rpartition(" ")
        found.append((ns, local))
        raise _Root

    def doctype(*a):
        raise UploadError("XML 文件含有 DOCTYPE/实体声明（可能读取外部文件），已拒绝。",
                          "the XML file declares a DOCTYPE/entities (could read external files): refused.")

    def parse(blob: bytes) -> None:
        p = expat.ParserCreate(namespace_separator=" ")
        p.StartElementHandler, p.StartDoctypeDeclHandler, p.EntityDeclHandler = start, doctype, doctype
        for i in range(0, len(blob), HEAD):
            p.Parse(blob[i:i + HEAD], False)

    try:
        parse(data)
    except _Root:
        return found[0]
    except (expat.ExpatError, ValueError) as e:  # ValueError: a multi-byte encoding expat refuses (GBK …)
        if isinstance(e, expat.ExpatError) and e.code != expat.errors.codes[expat.errors.XML_ERROR_UNKNOWN_ENCODING]:
            return None
        m = re.match(rb"\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9_.\-]+)[\"'][^>]*\?>", data)
        try:  # an encoding expat does not know (GBK …): decode in Python, parse as UTF-8
            text = data[m.end():].decode(m.group(1).decode(), "replace") if m else None
        except LookupError:
            return None
        if text is None:
            return None
        try:
            parse(text.encode("utf-8"))
        except _Root:
            return found[0]
        except (expat.ExpatError, ValueError):
            return None
    return None


def _root_name(head: bytes) -> str | None:
    try:
        r = _root(head)
    except UploadError:
        return None
    return r[1][:40] if r else None


def _check_xml(path: Path, root: str, namespaces: frozenset, fmt: Text) -> None:
    with open(path, "rb") as f:
        head = f.read(XML_HEAD)
    what = virtual_kind(head)
    if what is not None:
        raise refuse(what, fmt)
    r = _root(head)
    if r is None:
        raise refuse(sniff(head), fmt, Text("不是 XML，或前 1 MB 内没有根元素", "it is not XML, or has no root element "
                                             "in its first 1 MB"))
    ns, local = r
    if local == root and ns in namespaces:
        return
    if local in ("OGRVRTDataSource", "VRTDataset"):
        raise refuse(VRT, fmt)
    raise refuse(Text(f"XML 文档（根元素 <{local[:40]}>" + (f"，命名空间 {ns[:80]}）" if ns else "）"),
                      f"an XML document (root element <{local[:40]}>" + (f", namespace {ns[:80]})" if ns else ")")), fmt)

"""A Shapefile's ``.prj`` as GDAL reads it right. ArcGIS writes ESRI-flavoured WKT1
(``GCS_China_Geodetic_Coordinate_System_2000``, ``PROJECTION["Gauss_Kruger"]`` with a false easting
of 35 500 000 …), which GDAL and PROJ read; what Chinese software and hand edits add, GDAL does
not, so our staged copy is rewritten (the user's file is never touched):

- a UTF-8 BOM is dropped; text in GBK/GB18030 (Chinese names such as ``CGCS2000_3度带_35带``) is
  rewritten as UTF-8 (pyogrio fails on a CRS name that is not UTF-8);
- the projection spelled ``Gauss-Kruger``, ``Gauss Kruger``, ``Gauss_Krueger``, ``Gauss_Krüger`` is
  named ``Gauss_Kruger`` (otherwise PROJ knows no such method and nothing can be reprojected);
- a WKT2 text, a PROJ string or an ``EPSG:`` code (which GDAL's Shapefile driver ignores) is
  written as WKT1 with a note.

Anything pyproj cannot read is not a CRS: the caller drops the file and the user is asked for one.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path

import pyproj

from core.text import Text

_GK = re.compile(r'PROJECTION\s*\[\s*"(Gauss[\s_\-]*Kr(?:u|ü|ue)ger)"', re.I)
_WKT1 = re.compile(r"^\s*(PROJCS|GEOGCS|GEOCCS|COMPD_CS|VERT_CS|LOCAL_CS)\s*\[", re.I)


def normalise(prj: Path, notes: list) -> bool:
    """Rewrite the staged ``.prj`` so GDAL reads it right; False when it is not a CRS at all."""
    raw = prj.read_bytes()[:65536].removeprefix(codecs.BOM_UTF8)
    said: list[Text] = []  # the notes, given only when the .prj turns out to be a CRS
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", "replace")
        said.append(Text(".prj 文件为 GBK/GB18030 编码，已按此读取其中的中文名称",
                         "the .prj file is in GBK/GB18030: its Chinese names read as such"))
    text = text.strip().strip("\x00")
    m = _GK.search(text)
    if m and m.group(1) != "Gauss_Kruger":
        text = _GK.sub('PROJECTION["Gauss_Kruger"', text)
        said.append(Text(f".prj 中的投影名“{m.group(1)[:30]}”按 Gauss_Kruger（高斯-克吕格，横轴墨卡托）读取",
                         f"the .prj names the projection '{m.group(1)[:30]}': read as Gauss_Kruger (Transverse "
                         "Mercator)"))
    try:
        crs_ = pyproj.CRS.from_wkt(text) if _WKT1.match(text) else pyproj.CRS.from_user_input(text)
    except Exception:  # noqa: BLE001 - any parse error means "no usable CRS"
        return False
    if not _WKT1.match(text):  # WKT2, a PROJ string, EPSG:xxxx: GDAL's Shapefile driver reads WKT1 only
        try:
            text = crs_.to_wkt("WKT1_GDAL")
        except Exception:  # noqa: BLE001 - no WKT1 form
            return False
        said.append(Text(f".prj 不是 WKT1 格式，已按其坐标系 {crs_.name[:60]} 读取",
                         f"the .prj is not WKT1: read as the CRS it names, {crs_.name[:60]}"))
    prj.write_text(text, encoding="utf-8")
    notes.extend(said)
    return True

"""GeoJSON (``.geojson``, ``.json``). The bytes must be JSON text (``signature.check_geojson``; a
TopoJSON is told by its content and read by ``topojson``) and GDAL's GeoJSON driver is forced. A
file that is not UTF-8 but GBK/GB18030 (RFC 7946 requires UTF-8; Chinese software still writes
GBK) is decoded in our copy, with a note (``textenc``). GDAL's limit on the size of one JSON object
(``OGR_GEOJSON_MAX_OBJ_SIZE``, 200 MB of parsed objects: a polygon of about a million vertices) is
raised to the memory budget of one computation for our reads (``ogr.read_ogr``).

A legacy ``crs`` member (GDAL honours it, on the collection and on any geometry) may only name a
CRS — ``{"type": "name", "properties": {"name": "EPSG:4490"}}`` — that we understand; otherwise
coordinates are CRS84 by definition (metres labelled as degrees are caught by the final checks
and the user is asked for the CRS). Any other kind is refused before GDAL sees the file: a
``link`` or ``url`` crs makes GDAL fetch its ``href``/``url`` over plain HTTP (a request to any
address the uploader names), and GDAL matches member names without case and after JSON escapes
(``"CRS"``, ``"\\u0063rs"``). So the whole file is searched for such a name; when one is there the
file is parsed as strict JSON and every ``crs`` member checked.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from core.errors import UploadError
from core.text import Text
from layers.readers import signature, textenc
from layers.readers.ogr import read_ogr

# a member name that reads "crs" in any letter case, each letter possibly \u-escaped, in double or
# single quotes (GDAL's JSON parser accepts both): a cheap search over the whole file; a value that
# merely contains "crs" only costs the strict parse below
_C, _R, _S = (rb"(?:" + a + rb"|\\u00" + b + rb")" for a, b in ((b"c", b"[46]3"), (b"r", b"[57]2"), (b"s", b"[57]3")))
_CRS_NAME = re.compile(rb"[\"']" + _C + _R + _S + rb"[\"']", re.IGNORECASE)


def read(source, folder: Path, layer: str | None, notes: list):
    """A GeoJSON (its content checked by the caller, ``topojson.read_any_json``)."""
    path = stage_utf8(source, folder / "upload.geojson", signature.GEOJSON, notes)
    check_crs_member(path, notes)
    gdf, used, more = read_ogr(path, layer, driver="GeoJSON")
    notes.extend(more)
    return gdf, used


def stage_utf8(source, path: Path, fmt: Text, notes: list) -> Path:
    """Our copy of a JSON source, as UTF-8 (GBK decoded with a note); a decoded text is checked
    again as the original was."""
    source.copy_to(path)
    if textenc.json_to_utf8(path, fmt.en, notes):
        with open(path, "rb") as f:
            signature.check_geojson(f.read(signature.HEAD), fmt)
    return path


class NotJSON(UploadError):
    """A file with a ``crs`` member that strict JSON cannot parse."""


def _refused() -> UploadError:
    return UploadError(
        "GeoJSON 的 crs 成员只能以名称给出坐标系：{\"type\": \"name\", \"properties\": {\"name\": \"EPSG:4490\"}}；"
        "其他形式（link、url、EPSG 等）会让服务器读取网址或文件，已拒绝。请删除该成员，或改为按名称给出坐标系。",
        "the GeoJSON 'crs' member may only give a CRS by name: {\"type\": \"name\", \"properties\": {\"name\": "
        "\"EPSG:4490\"}}; any other kind (link, url, EPSG …) would make the server fetch a URL or read a file, so it "
        "is refused. Remove the member, or give the CRS by name.")


def _crs_name(value) -> str:
    """The name of a ``crs`` member of the only kind allowed, else ``_refused()``."""
    if not isinstance(value, dict) or not value:
        raise _refused()
    names = []
    for k, v in value.items():
        kind = k.lower()
        if kind == "type" and isinstance(v, str) and v.lower() == "name":
            continue
        if kind == "properties" and isinstance(v, dict):
            names += [n for pk, n in v.items() if pk.lower() == "name"]
            continue
        raise _refused()
    if not any(k.lower() == "type" for k in value) or len(names) != 1 or not isinstance(names[0], str):
        raise _refused()
    return names[0]


def crs_members(data: bytes) -> tuple[list[str], str | None]:
    """The names of every ``crs`` member of a GeoJSON text (``_refused()`` when one is of another
    kind) and that of the top-level object (None when it has none). Files without a member so named
    are not parsed at all."""
    if not _CRS_NAME.search(data):
        return [], None
    found: list[str] = []

    def hook(pairs):
        obj = {}
        for k, v in pairs:
            if k.lower() == "crs":
                found.append(_crs_name(v))
            obj[k] = None if isinstance(v, list) else v  # coordinates are not kept while parsing
        return obj

    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    try:
        root = json.loads(text, object_pairs_hook=hook)
    except (ValueError, RecursionError) as e:
        where = f"{e.lineno}:{e.colno}" if isinstance(e, json.JSONDecodeError) else "?"
        raise NotJSON(f"该 GeoJSON 含有 crs 成员，但不是有效的 JSON（第 {where} 处）：已拒绝。请另存为标准 GeoJSON 后重试。",
                          f"this GeoJSON has a 'crs' member but is not valid JSON (at {where}): refused. Save it as "
                          "standard GeoJSON and try again.") from None
    top = None
    if isinstance(root, dict):
        top = next((_crs_name(v) for k, v in root.items() if k.lower() == "crs"), None)
    return found, top


def check_crs_member(path: Path, notes: list, fmt: str = "GeoJSON"):
    """Every ``crs`` member of the (UTF-8) file at ``path`` names a CRS we understand; returns the
    CRS of the top-level one (None without)."""
    import pyproj

    names, top = crs_members(Path(path).read_bytes())
    found = None
    for name in dict.fromkeys(names):
        try:
            crs_ = pyproj.CRS.from_user_input(name)
        except Exception:  # noqa: BLE001
            raise UploadError(f"GeoJSON 的 crs 成员声明了无法识别的坐标系“{name[:80]}”。请删除该成员或改为有效的 EPSG 代码。",
                              f"the GeoJSON 'crs' member names a coordinate system that cannot be understood "
                              f"('{name[:80]}'); remove it or use a valid EPSG code.") from None
        if name == top:
            found = crs_
            notes.append(Text(f"{fmt} 声明坐标系 {crs_.to_string()}（crs 成员），已据此读取",
                              f"the {fmt} declares {crs_.to_string()} (its 'crs' member): read with it"))
    return found

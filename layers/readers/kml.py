"""KML and KMZ (Google Earth, 2bulu/Ovital exports). Every folder is a layer to GDAL: all of them
are read (a KML with three folders gives three parks, nested folders included), each row naming
its folder in a ``folder`` column. Any DOCTYPE/ENTITY declaration is refused (external entities,
billion laughs), also in UTF-16/32 files; a KMZ goes through the zip checks first. The root
element must be ``kml`` (``signature.check_kml``): any other XML (an OGR VRT above all) is refused
before GDAL sees it. A KML in GBK/GB18030 — declared (an encoding GDAL's XML parser does not know)
or not (XML then means UTF-8) — is decoded in our copy, with a note (``textenc``), then checked."""
from __future__ import annotations

import codecs
import re
from pathlib import Path, PurePosixPath

from core.errors import UploadError
from layers.readers import archive, signature, textenc
from layers.readers.ogr import read_ogr


def read(source, folder: Path, layer: str | None, notes: list):
    if source.ext == ".kmz":
        files = archive.extract_all(source, folder)
        kmls = sorted((k for k in files if k.endswith(".kml")),
                      key=lambda k: (PurePosixPath(k).name != "doc.kml", k.count("/"), k))
        if not kmls:
            raise UploadError("KMZ 中没有 .kml 文件。", "no .kml file inside the KMZ.")
        path = files[kmls[0]]
    else:
        path = source.copy_to(folder / "upload.kml")
    reject_entities(path)
    if textenc.xml_to_utf8(path, "KML", notes):
        reject_entities(path)
    signature.check_kml(path)
    gdf, used, more = read_ogr(path, layer, policy="all", kind="KML")
    notes.extend(more)
    return gdf, used


def reject_entities(path: Path) -> None:
    """Any DOCTYPE or ENTITY anywhere in the file (also UTF-16/32 encoded) is refused."""
    raw = path.read_bytes()
    texts = [raw]
    for enc in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE) or b"\x00" in raw[:200]:
            try:
                texts.append(raw.decode(enc).encode("utf-8", "replace"))
            except (UnicodeDecodeError, LookupError):
                pass
    if any(re.search(rb"<!\s*(DOCTYPE|ENTITY)", t, re.I) for t in texts):
        raise UploadError("KML 含有 DOCTYPE/实体声明（可能读取外部文件），已拒绝。",
                          "the KML declares a DOCTYPE/entities (could read external files): rejected.")

"""Text encodings of vector files GDAL reads as UTF-8 only (GeoJSON, TopoJSON, KML without a
declared encoding): a file saved in GBK/GB18030 by Chinese software is decoded and rewritten as
UTF-8 in the reader's private copy, with a note saying so. Files are streamed in chunks (a file on
disk may be large), so memory stays at one chunk.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from core.errors import UploadError
from core.text import Text

CHUNK = 1 << 20
# the encodings Chinese software writes, as Python names them
CHINESE = ("gb18030",)  # a superset of GBK and GB2312: decodes both
_DECL = re.compile(rb"^(\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.\-]+)[\"'][^>]*\?>")


def decodes(path: Path, encoding: str) -> bool:
    """The whole file decodes in ``encoding`` (read chunk by chunk)."""
    dec = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                dec.decode(chunk)
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def transcode(src: Path, dest: Path, encoding: str, skip: int = 0, prefix: bytes = b"") -> None:
    """Write ``src`` (from byte ``skip``) decoded from ``encoding`` as UTF-8 to ``dest``, after
    ``prefix``."""
    dec = codecs.getincrementaldecoder(encoding)("strict")
    tmp = dest.with_name(dest.name + ".utf8")
    with open(src, "rb") as f, open(tmp, "wb") as out:
        f.seek(skip)
        out.write(prefix)
        while chunk := f.read(CHUNK):
            out.write(dec.decode(chunk).encode("utf-8"))
        out.write(dec.decode(b"", final=True).encode("utf-8"))
    tmp.replace(dest)


def _not_decodable(fmt: str) -> UploadError:
    return UploadError(f"{fmt} 文件的文字编码无法识别（应为 UTF-8，或 GBK/GB18030）：请另存为 UTF-8 后重试。",
                       f"the {fmt} file's text encoding is not recognised (expected UTF-8, or GBK/GB18030): save it "
                       "as UTF-8 and try again.")


def json_to_utf8(path: Path, fmt: str, notes: list) -> bool:
    """A JSON text (GeoJSON, TopoJSON) in our private copy as UTF-8: one that is not UTF-8 but
    decodes as GB18030 is rewritten, with a note (RFC 7946: GeoJSON is UTF-8). True when it was."""
    return _chinese_to_utf8(path, fmt, notes, Text(f"{fmt} 文件不是 UTF-8 编码（RFC 7946 要求 UTF-8），已按 GB18030（GBK）解码读取",
                                                  f"the {fmt} file is not UTF-8 (RFC 7946 requires it): decoded as GB18030 (GBK)"))


def _chinese_to_utf8(path: Path, fmt: str, notes: list, note: Text) -> bool:
    """``path`` rewritten as UTF-8 when it is not UTF-8 but decodes as GB18030 (then ``note`` is
    added; True); False when it is UTF-8 already; refused when it is neither."""
    if decodes(path, "utf-8"):
        return False
    for enc in CHINESE:
        if decodes(path, enc):
            transcode(path, path, enc)
            notes.append(note)
            return True
    raise _not_decodable(fmt)


def xml_to_utf8(path: Path, fmt: str, notes: list) -> bool:
    """An XML file (KML) in our private copy as UTF-8 when GDAL's parser could not read it: one
    declaring an encoding expat does not know (GBK, GB2312, GB18030, Big5 …), or declaring none
    (XML then means UTF-8) while its bytes are GBK. UTF-16/32 (with a BOM) is left as is (expat
    reads it). True when the file was rewritten."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return False
    m = _DECL.match(head)
    declared = m.group(2).decode("ascii") if m else None
    if declared is not None:
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            raise UploadError(f"{fmt} 声明了无法识别的文字编码“{declared[:30]}”：请另存为 UTF-8 后重试。",
                              f"the {fmt} declares an unknown text encoding '{declared[:30]}': save it as UTF-8 and "
                              "try again.") from None
        if name in ("utf-8", "ascii", "latin-1", "iso8859-1", "utf-16", "utf-16-le", "utf-16-be"):
            if name != "utf-8" or decodes(path, "utf-8"):
                return False  # expat reads these as declared
            declared = None  # declared UTF-8 but is not: treated as undeclared
        else:
            if not decodes(path, name):
                raise UploadError(f"{fmt} 声明的文字编码 {declared[:30]} 与其内容不符：请另存为 UTF-8 后重试。",
                                  f"the {fmt} declares the text encoding {declared[:30]}, which its content is not: "
                                  "save it as UTF-8 and try again.")
            decl = b'<?xml version="1.0" encoding="UTF-8"?>'
            transcode(path, path, name, skip=m.end(), prefix=decl)
            notes.append(Text(f"{fmt} 声明的文字编码为 {declared[:30]}，已转换为 UTF-8 读取",
                              f"the {fmt} declares the text encoding {declared[:30]}: converted to UTF-8 to read it"))
            return True
    return _chinese_to_utf8(path, fmt, notes, Text(f"{fmt} 文件未声明文字编码且不是 UTF-8，已按 GB18030（GBK）解码读取",
                                                  f"the {fmt} file declares no text encoding and is not UTF-8: decoded as GB18030 (GBK)"))

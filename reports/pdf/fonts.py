"""CJK fonts for the PDF: an embedded TrueType CJK font when one is installed (Debian
``fonts-wqy-zenhei``, or the file named by ``GANSU_PDF_FONT``), else reportlab's built-in CID font
STSong-Light (not embedded: the PDF viewer supplies the glyphs). Text is extractable either way."""
from __future__ import annotations

import os
from pathlib import Path

from core.errors import InputError

CID_FONT = "STSong-Light"
TTF_CANDIDATES: tuple[tuple[str, int], ...] = (  # TrueType-flavoured CJK fonts reportlab can embed
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # Debian fonts-wqy-zenhei
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),  # Debian fonts-wqy-microhei
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # Debian fonts-arphic-uming
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),  # Debian fonts-droid-fallback
)
_REGISTERED: dict[str, str] = {}


def pdf_font(preference: str | None = None) -> tuple[str, str]:
    """(reportlab font name, description) of the CJK font for the PDF.

    ``preference``: "cid" forces STSong-Light; a path (.ttf/.ttc[:index]) embeds that file; None
    → ``GANSU_PDF_FONT`` if set, else the first installed ``TTF_CANDIDATES``, else STSong-Light.
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    pref = preference if preference is not None else os.environ.get("GANSU_PDF_FONT") or None
    candidates: list[tuple[str, int]] = []
    if pref and pref.lower() != "cid":
        path, _, idx = pref.partition(":") if not Path(pref).is_file() else (pref, "", "")
        if not Path(path).is_file():
            raise InputError(f"找不到 PDF 字体文件：{path}", f"PDF font file not found: {path}")
        candidates.append((path, int(idx or 0)))
    elif pref is None:
        candidates.extend(c for c in TTF_CANDIDATES if Path(c[0]).is_file())
    for path, idx in candidates:
        key = f"{path}:{idx}"
        if key not in _REGISTERED:
            name = f"CJK-{Path(path).stem}-{idx}"
            try:
                pdfmetrics.registerFont(TTFont(name, path, subfontIndex=idx))
            except Exception as e:  # a CFF-flavoured or broken file: try the next one
                if pref:
                    raise InputError(f"无法嵌入字体 {path}：{e}（需要 TrueType 轮廓字体）",
                                     f"cannot embed font {path}: {e} (TrueType outlines needed)") from None
                continue
            _REGISTERED[key] = name
        return _REGISTERED[key], f"embedded TrueType {Path(path).name}"
    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT, f"{CID_FONT} (Adobe-GB1 CID font, not embedded)"


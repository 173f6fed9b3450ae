"""The A4 document every PDF report of the project is built into: margins, the grey footer with the
report's title and the page number, and the metadata (title, author, subject, the font and the
provenance record's ``inputs_sha256`` in the keywords)."""
from __future__ import annotations

import io
from typing import Any, Mapping

from core.i18n import t
from core.text import DEFAULT_LANG, LANGS
from reports.pdf import sections as S
from reports.pdf.fonts import pdf_font

MARGIN_MM = 14


def setup(lang: str, font: str | None, date) -> tuple[str, str, str, str, Any]:
    """What every report's story starts from: (language, font name, font description, date text, the
    page's paragraph maker ``sections.Page`` at the A4 text width)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    lang = lang if lang in LANGS else DEFAULT_LANG
    fname, fdesc = pdf_font(font)
    return lang, fname, fdesc, S.date_text(date), S.Page(lang, fname, A4[0] - 2 * MARGIN_MM * mm)


def build(story: list, *, lang: str, font: str, font_desc: str, title: str, footer: str, subject: str,
          provenance: Mapping[str, Any] | None = None) -> bytes:
    """The PDF bytes of ``story`` (reportlab flowables) on A4 pages."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    margin = MARGIN_MM * mm

    def on_page(canvas, doc_):
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(margin, 8 * mm, footer[:110])
        canvas.drawRightString(A4[0] - margin, 8 * mm, t("report.page", lang, n=doc_.page))
        canvas.restoreState()

    buf = io.BytesIO()
    keywords = f"font: {font_desc}" + (f"; provenance inputs_sha256: {provenance.get('inputs_sha256', '')}"
                                       if provenance else "")
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=margin + 4, title=title, author="Gansu siting dashboard", subject=subject,
                            keywords=keywords)
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()

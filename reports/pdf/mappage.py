"""The exported map as a page of the PDF report: the PNG of ``reports.mapexport.render_png``
(legend, scale bar, north arrow, title, sources with status badges and date are in the picture)
on an A4 landscape page, with the title, date and sources also as text (searchable, copyable).

``map_page_flowables`` gives the flowables to put the map page into a longer report;
``map_page_pdf`` a one-page PDF of it."""
from __future__ import annotations

import io
from typing import Sequence
from xml.sax.saxutils import escape

from reports.pdf.fonts import pdf_font


def map_page_flowables(png: bytes, *, title: str, date: str, sources: Sequence[tuple[str, str]],
                       font: str, width: float, height: float, sources_label: str = "") -> list:
    from PIL import Image
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Image as RLImage
    from reportlab.platypus import PageBreak, Paragraph

    h_style = ParagraphStyle("mh", fontName=font, fontSize=13, leading=17, spaceAfter=4, wordWrap="CJK")
    s_style = ParagraphStyle("ms", fontName=font, fontSize=7, leading=9, wordWrap="CJK")
    with Image.open(io.BytesIO(png)) as im:
        iw, ih = im.size
    text_h = 40
    k = min(width / iw, (height - text_h) / ih)
    src = "; ".join(f"{n} [{b}]" if b else n for n, b in sources)
    return [PageBreak(), Paragraph(escape(f"{title} · {date}"), h_style),
            RLImage(io.BytesIO(png), width=iw * k, height=ih * k),
            Paragraph(escape(f"{sources_label}: {src}" if sources_label else src), s_style)]


def map_page_pdf(png: bytes, *, title: str, date: str, sources: Sequence[tuple[str, str]] = (),
                 sources_label: str = "", font: str | None = None) -> bytes:
    """One A4 landscape page: the map picture, its title and date, the sources as text."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    fname, fdesc = pdf_font(font)
    page = landscape(A4)
    margin = 10 * mm
    flow = map_page_flowables(png, title=title, date=date, sources=sources, font=fname,
                              width=page[0] - 2 * margin, height=page[1] - 2 * margin - 6, sources_label=sources_label)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=margin, title=title, author="Gansu siting dashboard",
                            keywords=f"font: {fdesc}")
    doc.build(flow[1:])  # no page break before the first page
    return buf.getvalue()

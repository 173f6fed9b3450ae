"""The printable scenario report (A4 PDF), assembled from one function per section
(``sections.py``): title, map, ranking, weights and method, sensitivity, indicators, checklists,
sources. Fonts: ``fonts.py``; the map drawing: ``mapdraw.py``; cell formatting: ``cells.py``.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping, Sequence

import pandas as pd

from core.i18n import t
from reports.pdf import document
from reports.pdf import sections as S
from reports.pdf.fonts import CID_FONT, TTF_CANDIDATES, pdf_font

__all__ = ["scenario_pdf", "pdf_font", "CID_FONT", "TTF_CANDIDATES"]


def scenario_pdf(*, scenario: str, ranking: pd.DataFrame, indicators: pd.DataFrame | None = None,
                 checklists: Mapping[str, Any] | None = None,
                 sources: Sequence[Mapping[str, Any]] = (), province=None, zones=None, parks=None,
                 lang: str = "zh", title: str | None = None, date: _dt.date | str | None = None,
                 weights: Mapping[str, float] | None = None, sensitivity: pd.DataFrame | None = None,
                 zone_field: str | None = None, font: str | None = None,
                 provenance: Mapping[str, Any] | None = None) -> bytes:
    """A printable A4 report of one scenario (PDF bytes).

    ``ranking``: ``siting.rank`` output (weights from its ``attrs`` unless ``weights`` is given);
    ``indicators``: engine rows of the parks (the indicator table's summary columns shown with
    units, ordered as the ranking); ``checklists``: park_id → ``checklist_answers.evaluate_park``
    result (both checklists and the credit check); ``sources``: manifest entries (layer,
    source, licence, year[, status]); ``province``/``zones``/``parks``: GeoDataFrames in any CRS
    for the map (parks matched by ``park_id``); ``sensitivity``: ``siting_sensitivity.sensitivity`` output.
    ``font``: see ``pdf_font``. Every user text is escaped: markup in names prints literally.
    ``provenance``: an ``indicators.provenance`` record → a last "provenance" section, and its
    ``inputs_sha256`` in the PDF's metadata (subject).
    """
    lang, fname, fdesc, date_s, pg = document.setup(lang, font, date)
    title = title or t("report.title", lang)
    ranking = ranking.reset_index(drop=True)
    parks_ = S.Parks.of(ranking)

    story: list[Any] = [
        *S.title_section(pg, title, scenario, date_s),
        *S.map_section(pg, parks_, province, zones, parks, zone_field),
        *S.ranking_section(pg, parks_, ranking),
        *S.compliance_section(pg, parks_, indicators),
        *S.weights_section(pg, ranking, weights),
        *S.sensitivity_section(pg, sensitivity),
        *S.indicators_section(pg, parks_, indicators),
        *S.checklist_section(pg, parks_, checklists),
        *S.sources_section(pg, sources, fdesc),
        *S.provenance_section(pg, provenance),
    ]

    return document.build(story, lang=lang, font=fname, font_desc=fdesc, title=f"{title} — {scenario}",
                          footer=f"{title} · {scenario} · {date_s}", subject=scenario, provenance=provenance)

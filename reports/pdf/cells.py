"""How values read in the PDF: numbers in the indicator table's display format, yes/no,
checklist statuses and reliability in the report's language."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from core.i18n import t
from core.text import Text
from indicators import checklist as _checklist
from indicators import table as _table
from reports.labels import value_text

_FIXED = {"score": "{:.3f}", "rank": "{:.0f}", "rank_from": "{:.0f}", "rank_to": "{:.0f}"}


def fmt_value(v: Any, col: str = "", lang: str = "zh") -> str:
    """One cell: "—" when missing, yes/no, the column's display format, else a sensible default."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return t("report.yes" if v else "report.no", lang)
    if col == "reliability":
        return reliability(v, lang)
    if isinstance(v, (int, np.integer)):
        return f"{v:,}"
    if isinstance(v, (float, np.floating)):
        v = float(v)
        ind = _table.BY_ID.get(col)
        fmt = _FIXED.get(col) or (ind.fmt if ind is not None else "")
        if fmt:
            return fmt.format(v)
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
    return str(v)


def status(s: str, lang: str) -> str:
    """A checklist status ("pass", "fail", …) in ``lang``."""
    return Text(*_checklist.STATUS_LABELS.get(s, (s, s))).pick(lang)


_SHADE_AS = {"incomplete": "missing", "needs_data": "missing", "relaxed": "missing"}  # yellow: to be completed


def status_of(text: str) -> str:
    """The shade ("pass"/"fail"/"missing") of a displayed status ("" if none: not applicable,
    indicative, context values)."""
    for k, (zh, en) in _checklist.STATUS_LABELS.items():
        if text in (zh, en, k):
            k = _SHADE_AS.get(k, k)
            return k if k in ("pass", "fail", "missing") else ""
    return ""


def reliability(v: Any, lang: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
        return "—"
    return str(value_text("reliability", str(v), lang))

"""Column headers, from the indicator table first: ``column_label("lc_forest_km2", "zh")`` →
"森林面积 (km²)".

Where a header comes from, in order: the declared indicator table (``indicators.table``), the
columns siting and the checklist add (their ``COLUMN_LABELS``), the derived ``norm_``/``contrib_``
columns of a ranking, then the translation table (``col.<id>`` keys, e.g. the "columns" sheet's
own headers). An unknown column keeps its id.
"""
from __future__ import annotations

import re

from typing import Iterable, Mapping

import pandas as pd

from core.i18n import TEXT
from core.text import Text
from indicators import checklist as _checklist
from indicators import siting as _siting
from indicators import table as _table

_PREFIXES: tuple[tuple[str, Text, str | None], ...] = (  # prefix, label prefix, unit (None: the indicator's)
    ("norm_", Text("归一化：", "Normalised: "), "0–1"),
    ("contrib_", Text("得分贡献：", "Contribution: "), ""),
)


# coded values shown as words (the data keeps the codes)
VALUE_TEXT: dict[str, dict[str, Text]] = {
    "reliability": {"low": Text("低", "low"), "ok": Text("良好", "ok")},
}


def value_text(col: str, value, lang: str = "zh"):
    """A coded value of ``col`` in words ("low" → "低"); other values unchanged."""
    words = VALUE_TEXT.get(str(col), {})
    try:
        return words[value].pick(lang) if value in words else value
    except TypeError:  # unhashable
        return value


def label_parts(col: str) -> tuple[Text, str] | None:
    """(label, unit) of a column, or None when no table knows it."""
    col = str(col)
    ind = _table.BY_ID.get(col) or _table.measured().get(col)  # measured: the columns of declared inputs
    if ind is not None:
        return ind.text, ind.unit
    for labels in (_siting.COLUMN_LABELS, _checklist.COLUMN_LABELS):
        if col in labels:
            zh, en, unit = labels[col]
            return Text(zh, en), unit
    if m := re.fullmatch(r"acceptability_rank(\d+)", col):  # SMAA (indicators/smaa.py)
        return Text(f"排名第 {m[1]} 的抽样占比", f"Share of draws at rank {m[1]}"), "0–1"
    if col == "confidence":
        return Text("置信因子（按中心权重排名第一的占比）", "Confidence factor (first under its central weights)"), "0–1"
    if col.startswith("central_w_"):
        base = _table.BY_ID.get(col[len("central_w_"):]) or _table.measured().get(col[len("central_w_"):])
        name = base.text if base is not None else Text(col[len("central_w_"):], col[len("central_w_"):])
        return Text(f"中心权重：{name.zh}", f"Central weight: {name.en}"), "0–1"
    for prefix, head, unit in _PREFIXES:
        base = _table.BY_ID.get(col[len(prefix):]) if col.startswith(prefix) else None
        if base is not None:
            return Text(head.zh + base.text.zh, head.en + base.text.en), base.unit if unit is None else unit
    entry = TEXT.get(f"col.{col}")
    if entry is not None:
        return Text(entry["zh"], entry["en"]), ""
    return None


def both(text: Text, lang: str = "zh", bilingual: bool = False) -> str:
    """``text`` in ``lang``, or "中文 English" when ``bilingual`` (and they differ)."""
    if bilingual and text.zh != text.en:
        return f"{text.zh} {text.en}"
    return text.pick(lang)


def column_label(col: str, lang: str = "zh", bilingual: bool = False, with_unit: bool = True) -> str:
    """Header for a column: "森林面积 (km²)", "Forest area (km²)" or "森林面积 Forest area (km²)"."""
    parts = label_parts(str(col))
    if parts is None:
        return str(col)
    text, unit = parts
    out = both(text, lang, bilingual)
    return f"{out} ({unit})" if with_unit and unit else out


def labels_for(columns: Iterable, lang: str = "zh", extra: Mapping[str, Text | str] | None = None,
               bilingual: bool = False, with_unit: bool = True) -> dict:
    """column → header for every column, unique (a repeated header gets its id appended).

    ``extra``: headers for columns no table knows (a ``Text`` or a ready string), checked first.
    """
    extra = extra or {}
    out, seen = {}, {}
    for c in columns:
        e = extra.get(str(c))
        if e is not None:
            head = both(e, lang, bilingual) if isinstance(e, Text) else str(e)
        else:
            head = column_label(str(c), lang, bilingual, with_unit)
        if head in seen and seen[head] != c:
            head = f"{head} [{c}]"
        seen[head] = c
        out[c] = head
    return out


def relabel(df: pd.DataFrame, lang: str = "zh", extra: Mapping[str, Text | str] | None = None,
            bilingual: bool = False, with_unit: bool = True) -> pd.DataFrame:
    """A copy of ``df`` whose column headers are labels (with units) in ``lang``."""
    return df.rename(columns=labels_for(df.columns, lang, extra, bilingual, with_unit))

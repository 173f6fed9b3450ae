"""Every table the UI shows gets its headers here: translated labels with units (Chinese in the
Chinese UI), from the indicator table through ``reports.labels`` — never a raw column id.

    st.dataframe(labelled(df, lang), hide_index=True, placeholder=NA)
    st.data_editor(ed, column_config=column_config(ed.columns, lang), placeholder=NA)   # edits keep the ids

An unknown value reads ``NA`` ("—") everywhere: every ``st.dataframe``/``st.data_editor`` passes
``placeholder=NA`` (the grid otherwise draws "None" in an empty cell; tests/test_missing_values.py
checks every call), ``Styler.format(na_rep=NA)`` for styled tables, ``cell`` for text. Exports
keep empty cells.
"""
from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

from core.text import Text
from indicators import table as ind
from reports.labels import labels_for, relabel

NA = "—"  # what an unknown value reads on every page, in both languages


def cell(value, fmt: str = "{}") -> str:
    """One value as shown: ``NA`` when missing (None, NaN, pd.NA, NaT, ""), else ``fmt`` of it."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return NA
    return fmt.format(value)


def headers(columns: Iterable, lang: str, extra: Mapping[str, Text | str] | None = None) -> dict:
    """column id → displayed header (label + unit in ``lang``); ``extra`` for page-only columns."""
    return labels_for(columns, lang, extra)


def labelled(df: pd.DataFrame, lang: str, extra: Mapping[str, Text | str] | None = None) -> pd.DataFrame:
    """A copy of ``df`` with displayed headers (for ``st.dataframe``/``st.table``)."""
    return relabel(df, lang, extra)


def formats(columns: Iterable, lang: str, extra: Mapping[str, Text | str] | None = None) -> dict[str, str]:
    """Displayed header → the indicator table's display format, for ``Styler.format`` on a
    ``labelled`` frame."""
    heads = headers(columns, lang, extra)
    return {heads[c]: f for c, f in ind.formats(map(str, columns)).items()}


def column_config(columns: Iterable, lang: str, extra: Mapping[str, Text | str] | None = None) -> dict:
    """``column_config`` for ``st.data_editor``: labelled headers while the data keeps its ids."""
    return dict(headers(columns, lang, extra))

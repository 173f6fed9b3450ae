"""Every table the UI shows gets its headers here: translated labels with units (Chinese in the
Chinese UI), from the indicator table through ``reports.labels`` — never a raw column id.

    st.dataframe(labelled(df, lang), hide_index=True)
    st.data_editor(ed, column_config=column_config(ed.columns, lang))   # edits keep the ids
"""
from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

from core.text import Text
from reports.labels import labels_for, relabel


def headers(columns: Iterable, lang: str, extra: Mapping[str, Text | str] | None = None) -> dict:
    """column id → displayed header (label + unit in ``lang``); ``extra`` for page-only columns."""
    return labels_for(columns, lang, extra)


def labelled(df: pd.DataFrame, lang: str, extra: Mapping[str, Text | str] | None = None) -> pd.DataFrame:
    """A copy of ``df`` with displayed headers (for ``st.dataframe``/``st.table``)."""
    return relabel(df, lang, extra)


def formats(columns: Iterable, lang: str, extra: Mapping[str, Text | str] | None = None) -> dict[str, str]:
    """Displayed header → the indicator table's display format, for ``Styler.format`` on a
    ``labelled`` frame."""
    from indicators.table import formats as _formats

    heads = headers(columns, lang, extra)
    return {heads[c]: f for c, f in _formats(map(str, columns)).items()}


def column_config(columns: Iterable, lang: str, extra: Mapping[str, Text | str] | None = None) -> dict:
    """``column_config`` for ``st.data_editor``: labelled headers while the data keeps its ids."""
    return dict(headers(columns, lang, extra))

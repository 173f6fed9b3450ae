"""The one Excel writer: ``excel_bytes({"parks": df, "ranking": ranked}, lang="zh")``.

Headers are labels with units in the chosen language (or zh + en with ``bilingual``), from
``reports.labels``; a last sheet, "columns", defines every column (id, label, unit, definition,
directions, group). Geometry columns are dropped; every text cell and header is
``core.spreadsheet.formula_safe`` (a leading ``'`` before ``= + - @``, tab or CR) and stored as
text, never as a formula (openpyxl would take a string starting with "=" as one).
"""
from __future__ import annotations

import datetime as _dt
import io
import math
import re
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from core.errors import InputError
from core.i18n import t
from core.spreadsheet import formula_safe
from core.text import Text
from indicators import provenance as _prov
from indicators import siting as _siting
from indicators import table as _table
from reports.labels import both, label_parts, labels_for

COLUMNS_SHEET = "columns"  # sheet name, same in both languages (scripts look for it)
INDICATORS_SHEET = COLUMNS_SHEET  # the name older callers use
SOURCES_SHEET = "sources"  # the data a workbook was computed on (same name in both languages)
PROVENANCE_SHEET = "provenance"  # the provenance record (key, value), same name in both languages
SOURCE_KEYS = ("role", "layer", "file", "sha256", "source", "licence", "status", "year")

_SHEET_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def safe_sheet_names(names: Iterable[str]) -> list[str]:
    """Excel-safe, unique (case-insensitive) sheet names of at most 31 characters."""
    out, seen = [], set()
    for i, name in enumerate(names):
        s = _SHEET_BAD.sub("_", str(name)).strip().strip("'").strip() or f"Sheet{i + 1}"
        if s.lower() == "history":
            s = "History_"
        s = s[:31]
        base, k = s, 2
        while s.lower() in seen:
            suffix = f"_{k}"
            s = base[:31 - len(suffix)] + suffix
            k += 1
        seen.add(s.lower())
        out.append(s)
    return out


def cell_value(v: Any) -> Any:
    """A value openpyxl (and the OGR writers) can store: NaN/NA → None, lists joined, no control chars."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, pd.Timestamp):
        return v.tz_convert(None).to_pydatetime() if v.tzinfo else v.to_pydatetime()
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.replace(tzinfo=None) if isinstance(v, _dt.datetime) else v
    if isinstance(v, (list, tuple, set)):
        v = "; ".join(map(str, v))
    if hasattr(v, "geom_type"):
        v = v.wkt
    return ILLEGAL_CHARACTERS_RE.sub("", str(v))


def plain(df: pd.DataFrame, index: bool | str = False) -> pd.DataFrame:
    """The table without geometry columns; ``index`` True (or "auto": when it is named or not a
    plain 0..n-1 range) turns the index into the first column."""
    if index == "auto":
        index = df.index.name is not None or not isinstance(df.index, pd.RangeIndex)
    if index:
        df = df.reset_index()
    geo = getattr(df, "_geometry_column_name", None)
    drop = [c for c in df.columns if c == geo or str(df[c].dtype) == "geometry"]
    return pd.DataFrame(df.drop(columns=drop))


def columns_sheet(sheets: Mapping[str, pd.DataFrame], lang: str = "zh", bilingual: bool = False,
                  extra: Mapping[str, Text | str] | None = None) -> pd.DataFrame:
    """Every indicator of the declared table, plus the other columns found in the sheets: id,
    label, unit, definition, directions (table and siting) and group; headers in ``lang``."""
    siting_dirs = {c: _siting.direction(c) for c in _siting.CRITERIA}
    rows = []
    declared = _table.measured()  # the columns of declared inputs (layers/inputs.py), present in a sheet
    shown = {str(c) for df in sheets.values() for c in plain(df).columns}
    for ind in (*_table.INDICATORS, *(v for k, v in declared.items() if k in shown)):
        rows.append({"id": ind.id, "label": both(ind.text, lang, bilingual), "unit": ind.unit,
                     "description": both(ind.about, lang, bilingual), "direction": ind.direction,
                     "siting_direction": siting_dirs.get(ind.id, ind.direction if ind.id in declared else ""),
                     "kind": ind.group})
    known = set(_table.BY_ID) | set(declared)
    for df in sheets.values():
        for c in plain(df).columns:
            c = str(c)
            if c in known:
                continue
            known.add(c)
            e = (extra or {}).get(c)
            text, unit = (e if isinstance(e, Text) else Text(e, e), "") if e is not None else \
                (label_parts(c) or (Text(c, c), ""))
            rows.append({"id": c, "label": both(text, lang, bilingual), "unit": unit, "description": "",
                         "direction": "", "siting_direction": "", "kind": ""})
    out = pd.DataFrame(rows)
    return out.rename(columns={k: both(Text(t(f"col.{k}", "zh"), t(f"col.{k}", "en")), lang, bilingual)
                               for k in out.columns})


def sources_frame(sources: Iterable[Mapping[str, Any]], lang: str = "zh", bilingual: bool = False) -> pd.DataFrame:
    """The "sources" sheet: one row per dataset or layer the numbers were computed on (role,
    name, file, SHA-256, source, licence, status, year), headers in ``lang``."""
    rows = [{k: s.get(k, "") for k in SOURCE_KEYS} for s in sources]
    out = pd.DataFrame(rows, columns=list(SOURCE_KEYS))
    return out.rename(columns={k: both(Text(t(f"src.col.{k}", "zh"), t(f"src.col.{k}", "en")), lang, bilingual)
                               for k in SOURCE_KEYS})


def excel_bytes(sheets: Mapping[str, pd.DataFrame], lang: str = "zh", bilingual: bool = False,
                indicators_sheet: bool = True, labels: bool = True, index: bool | str = False,
                extra: Mapping[str, Text | str] | None = None,
                sources: Iterable[Mapping[str, Any]] | None = None,
                provenance: Mapping[str, Any] | None = None) -> bytes:
    """An .xlsx workbook: one sheet per table, headers with units in ``lang`` (or zh + en when
    ``bilingual``), plus a "columns" sheet defining every column (``indicators_sheet=False``: none).
    ``labels=False`` keeps the headers as they are (tables already labelled by the caller);
    ``index``: see ``plain``; ``extra``: headers of page-only columns (see ``labels_for``);
    ``sources``: records of the data used (see ``sources_frame``) → a "sources" sheet;
    ``provenance``: an ``indicators.provenance`` record → a "provenance" sheet (key, value)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    if not sheets:
        raise InputError("没有可导出的表格", "nothing to export: no table given")
    tables = []
    for k, v in sheets.items():
        df = plain(v, index)
        heads = list(labels_for(df.columns, lang, extra, bilingual=bilingual).values()) if labels else list(map(str, df.columns))
        tables.append((str(k), df, heads))
    if sources is not None:
        src = sources_frame(sources, lang, bilingual)
        tables.append((SOURCES_SHEET, src, list(map(str, src.columns))))
    if provenance is not None:
        prov = _prov.rows(provenance)
        tables.append((PROVENANCE_SHEET, prov, list(map(str, prov.columns))))
    if indicators_sheet:
        doc = columns_sheet({k: plain(v, index) for k, v in sheets.items()}, lang, bilingual, extra)
        tables.append((COLUMNS_SHEET, doc, list(map(str, doc.columns))))
    names = safe_sheet_names(k for k, _, _ in tables)
    wb = Workbook()
    wb.remove(wb.active)
    for name, (_, df, heads) in zip(names, tables):
        ws = wb.create_sheet(name)
        ws.append([formula_safe(cell_value(h)) for h in heads])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in df.itertuples(index=False, name=None):
            ws.append([formula_safe(cell_value(v)) for v in row])
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text is text: never a formula
        ws.freeze_panes = "A2"
        for j, h in enumerate(heads, start=1):
            width = max([_width(h)] + [_width(v) for v in df.iloc[:200, j - 1]]) if len(df) else _width(h)
            ws.column_dimensions[get_column_letter(j)].width = min(max(8, width + 2), 60)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def header_row(data: bytes, sheet: str) -> list[str]:
    """The header row of one sheet of an .xlsx (for tests and scripts comparing exports)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    return [c.value for c in next(wb[sheet].iter_rows(max_row=1))]


def _width(v: Any) -> int:
    s = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s[:80])

"""An unknown value reads "—" on every page, in both languages, with its reason one click away;
exports keep empty cells; the Siting PDF never wraps a number mid-number.

- AppTest walks every page (Home, Map, Parks, Targets, Siting, Checklist, Data) in Chinese and in
  English with a land cover in use that misses every park (a small raster near Dunhuang, made
  here, registered in a temporary store): no element's text, option, help, table cell, header or
  chart label reads "None", "nan", "NaN", "<NA>" or "NaT", and every dataframe holding an empty
  cell tells the grid to draw "—" (its ``placeholder``; the grid's own default is "None").
- Every ``st.dataframe``/``st.data_editor`` call in ui/ and pages/ passes that placeholder.
- The Parks page's CSV and Excel exports keep unknown cells empty (not "—", "nan" or "None").
- The Siting PDF's indicator table: every number it formats is extracted whole from the PDF.
The browser walk of the same pages is tests/test_browser_missing_values.py.
"""
from __future__ import annotations

import ast
import io
import json
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pypdf
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import reports
from indicators import siting
from indicators import table as ind_table
from storage import raster_register
from storage.store import Store
from reports.pdf.cells import fmt_value
from tests import workspace_fixtures as wf
from ui import jobs
from ui.mdtext import unescape

REPO = Path(__file__).resolve().parent.parent
FAR_BOX = (95.40, 40.30, 95.50, 40.38)  # lon/lat near Dunhuang: > 150 km from the nearest park
NOT_A_VALUE = re.compile(r"(?<![A-Za-z])(None|nan|NaN|<NA>|NaT)(?![A-Za-z])")
PAGES = ("home.py", "map.py", "parks.py", "targets.py", "siting.py", "checklist.py", "data.py")
NA = "—"


# --- a land cover in use that misses every park -------------------------------------------------
@pytest.fixture(scope="module")
def far(dataset, tmp_path_factory):
    d = tmp_path_factory.mktemp("far")
    mp = pytest.MonkeyPatch()
    mp.setenv("GANSU_STORE", str(d / "store.duckdb"))
    mp.setenv("GANSU_WORKSPACE_DIR", str(d / "workspace"))
    mp.setenv("GANSU_IMPORT_DIR", str(d / "import"))
    st.cache_data.clear()
    st.cache_resource.clear()
    jobs.clear()
    lc = wf.clcd_landcover(d / "far_lc.tif", box=FAR_BOX)
    s = Store(d / "store.duckdb")
    raster_register.register_landcover(s, [lc], legend="clcd", year=2020, source="made in code", licence="CC0", use=True)
    s.close()
    yield d
    st.cache_data.clear()
    st.cache_resource.clear()
    jobs.clear()
    mp.undo()


def settled(page: str, lang: str) -> AppTest:
    """The page once no background computation is left: run, wait for the jobs, run again."""
    at = AppTest.from_file(str(REPO / "pages" / page), default_timeout=600)
    at.session_state["lang"] = lang
    at.run()
    while at.get("progress"):
        assert jobs.wait_all(timeout=900), "a background computation did not finish"
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- what an element shows ---------------------------------------------------------------------
def _strings(x) -> list[str]:
    if isinstance(x, str):
        return [x]
    if isinstance(x, (list, tuple)):
        return [s for v in x for s in _strings(v)]
    if isinstance(x, dict):
        return [s for v in x.values() for s in _strings(v)]
    return []


def _frame_texts(df: pd.DataFrame) -> list[str]:
    out = [str(c) for c in df.columns] + [str(n) for n in df.index.names if n is not None]
    for c in df.columns:
        col = df[c]
        if col.dtype.kind in "OSUb" or str(col.dtype) in ("string", "str", "category"):
            out += [str(v) for v in col if isinstance(v, str)]
    return out


def _display_values(el) -> pd.DataFrame | None:
    """The strings a styled dataframe shows (``Styler.format`` output), None when unstyled."""
    raw = el.proto.arrow_data.styler.display_values
    return pa.ipc.open_stream(raw).read_all().to_pandas() if raw else None


def shown(at: AppTest) -> list[tuple[str, str]]:
    """(where, text) for everything a user can read on the page, hidden tabs and expanders too."""
    out: list[tuple[str, str]] = []

    def walk(node, where):
        kind = getattr(node, "type", type(node).__name__)
        for attr in ("label", "help", "options", "body", "message"):
            try:
                out.extend((f"{where}/{kind}.{attr}", s) for s in _strings(getattr(node, attr, None)))
            except Exception:  # an attribute that needs a value the element has not
                pass
        if kind == "dataframe" or kind == "arrow_data_frame":
            df = node.value
            out.extend((f"{where}/dataframe", s) for s in _frame_texts(df))
            config = json.loads(node.proto.columns or "{}")
            out.extend((f"{where}/dataframe header", s) for s in _strings(
                [(v or {}).get("label") for v in config.values()]))
            disp = _display_values(node)
            if disp is not None:
                out.extend((f"{where}/dataframe shown", str(v)) for v in disp.to_numpy().ravel() if isinstance(v, str))
            if df.isna().to_numpy().any():  # the grid draws its placeholder in an empty cell
                out.append((f"{where}/dataframe empty cell", node.proto.placeholder or "None"))
        elif kind == "table":
            out.extend((f"{where}/table", s) for s in _frame_texts(node.value))
        elif kind == "plotly_chart":
            out.extend((f"{where}/chart", s) for s in _strings(json.loads(node.proto.spec)))
        elif kind not in ("file_uploader", "number_input", "date_input", "time_input"):
            try:
                out.extend((f"{where}/{kind}", s) for s in _strings(node.value))
            except Exception:
                pass
        for k, child in (getattr(node, "children", None) or {}).items():
            walk(child, f"{where}/{k}")

    walk(at.main, "main")
    walk(at.sidebar, "sidebar")
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_none_or_nan(far, page, lang):
    at = settled(page, lang)
    texts = shown(at)
    assert len(texts) > 20, "the page showed almost nothing"
    bad = [f"{w}: {s[:160]!r}" for w, s in texts if NOT_A_VALUE.search(s)]
    assert bad == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_parks_page_says_why_a_value_reads_a_dash(far, lang):
    at = settled("parks.py", lang)
    table = at.dataframe[0]
    assert table.proto.placeholder == NA
    shown_ = _display_values(table)
    stock = "碳储量 (t C)" if lang == "zh" else "Carbon stock (t C)"
    assert set(shown_[stock]) == {NA} and len(shown_) >= 14
    reason = "园区位于土地覆盖栅格 far_lc.tif 之外" if lang == "zh" else "park outside the land-cover raster far_lc.tif"
    why = next(e for e in at.expander if e.label.startswith(("为什么", "Why")))  # one click away
    assert sum(reason in unescape(c.value) for c in why.caption) >= 14
    card = {m.label: m for m in at.metric}
    m = card["碳储量 (t C)" if lang == "zh" else "Carbon stock (t C)"]
    assert m.value == NA and reason in m.help  # the card's help says why
    assert any(reason in unescape(i.value) for i in at.info)  # the composition panel says why, no empty chart
    assert not at.get("plotly_chart")


# --- every table tells the grid what to draw in an empty cell -----------------------------------
def test_every_dataframe_call_draws_a_dash_in_an_empty_cell():
    missing = []
    for path in sorted([*(REPO / "ui").glob("*.py"), *(REPO / "pages").glob("*.py"), REPO / "app.py"]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("dataframe", "data_editor") and isinstance(node.func.value, ast.Name) \
                    and node.func.value.id == "st":
                kw = {k.arg: k.value for k in node.keywords}
                if "placeholder" not in kw or ast.unparse(kw["placeholder"]) not in ("tables.NA", "NA", repr(NA)):
                    missing.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert missing == []


# --- exports keep empty cells ------------------------------------------------------------------
def test_exports_keep_unknown_cells_empty(far):
    from indicators import runs
    from layers import catalog
    from ui import report

    s = Store(far / "store.duckdb")
    try:
        inputs = runs.inputs_from_workspace(s, builtin=catalog.read_default)
        df = runs.compute_cached(s, runs.all_parks(s, catalog.read_default("parks_demo")), inputs)
    finally:
        s.close()
    assert df["carbon_stock_tc"].isna().all() and len(df) >= 14  # every park outside the land cover
    df = df.assign(source="default")
    text = reports.csv_bytes(df).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert (back["carbon_stock_tc"] == "").all() and (back["vegetated_share_pct"] == "").all()
    assert not NOT_A_VALUE.search(text) and NA not in text
    wb = openpyxl.load_workbook(io.BytesIO(report.parks_excel(df, "en")))
    sheet = wb.worksheets[0]
    heads = [c.value for c in sheet[1]]
    stock = heads.index("Carbon stock (t C)") + 1
    assert all(sheet.cell(r, stock).value is None for r in range(2, sheet.max_row + 1))
    values = [v for row in sheet.iter_rows(min_row=2, values_only=True) for v in row]
    assert not [v for v in values if isinstance(v, str) and (NOT_A_VALUE.search(v) or v == NA)]


# --- the Siting PDF: numbers on one line ----------------------------------------------------------
def _indicator_rows() -> pd.DataFrame:
    """Four parks with every summary column, six- to eight-digit figures and one unknown row."""
    cols = ind_table.summary_columns()
    rng = np.random.default_rng(7)
    df = pd.DataFrame({c: rng.uniform(1e5, 9e7, 4) for c in cols})
    df["park_id"] = ["P01", "P02", "P03", "P04"]
    df["name"] = ["兰州新区", "白银高新技术产业开发区", "民乐工业园区", "Park with a long English name"]
    df["zone"] = ["中部沿黄河地区生态走廊", "河西祁连山内陆河屏障区", None, "中部沿黄河地区生态走廊"]
    df["reliability"] = ["ok", "low", "", "ok"]
    df["vegetated_share_hint"] = pd.array([True, False, pd.NA, True], dtype="boolean")
    for c in ("vegetated_share_pct", "redline_overlap_pct"):
        df[c] = [12.5, 99.9, np.nan, 0.0]
    df.loc[2, [c for c in cols if c.startswith(("carbon_", "lc_"))]] = np.nan
    return df


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_siting_pdf_prints_every_number_whole(lang):
    ind = _indicator_rows()
    ranked = siting.rank(ind, {"carbon_stock_tc": 1.0}, ["carbon_stock_tc"])
    pdf = reports.scenario_pdf(scenario="s", ranking=ranked, indicators=ind, lang=lang, date="2026-12-05")
    text = "".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    cols = ind_table.summary_columns(ind.columns, exclude=("park_id",))
    numbers = {fmt_value(v, c, lang) for c in cols for v in ind[c]} - {NA}
    numbers = {n for n in numbers if re.search(r"\d", n)}
    assert len(numbers) > 40 and any(len(n) >= 10 for n in numbers)  # e.g. "12,345,678"
    assert sorted(n for n in numbers if n not in text) == []
    assert not NOT_A_VALUE.search(text)

"""CSV/Excel formula injection: a park, dataset, scenario or result-table name, a column name from
an uploaded file, an official-statistics note or the name typed at a failed login (no account
needed) ends up in a spreadsheet an admin opens. A text cell starting with ``= + - @`` (or a tab or
carriage return, also after leading spaces) would be a formula there. Every writer of CSV and
Excel goes through ``reports`` (``core.spreadsheet.formula_safe``): such text gets a leading
``'``; numbers stay numbers (a negative number too), and text that is a plain number ("-24.43")
is left alone — a spreadsheet reads it as that number, never as a formula.

The walk covers every export: the ``reports`` writers, every download button of the pages that
writes CSV or Excel (the bytes the browser would get), and every command line that writes CSV or
Excel. ``test_every_writer_is_walked`` fails when a new writer appears that is not walked here or
that writes CSV/Excel outside ``reports``."""
from __future__ import annotations

import ast
import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from tests.apptest_helpers import capture_downloads, run_page

from core.text import Text

REPO = Path(__file__).resolve().parent.parent
ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=WGS84 +units=m +no_defs"

# names as the store keeps them (control characters become spaces, ends trimmed)
HOSTILE = ['=HYPERLINK("http://127.0.0.1:1/?"&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3",
           "@SUM(1+1)*cmd|' /C calc'!A0"]
# what reaches a writer directly (no store in between): tab, CR and leading spaces too
RAW = HOSTILE + ["\t=1+1", "\r=1+1", "  =1+1", " \t@x", "ok\r=1+1"]  # a CR inside a cell too
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


# --- the check -------------------------------------------------------------------------------------
def starts_formula(v) -> bool:
    """Would a spreadsheet take this text cell as a formula (or DDE)? Plain numbers are numbers."""
    if not isinstance(v, str) or not v:
        return False
    if v[0] in "\t\r":
        return True
    s = v.lstrip()
    return bool(s) and s[0] in "=+-@" and not NUMBER.fullmatch(v)


def check_csv(data: bytes, what: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    bad = [c for r in rows for c in r if starts_formula(c)]
    assert not bad, f"{what}: cells that start a formula: {bad[:5]}"
    return rows


def check_xlsx(data: bytes, what: str) -> dict[str, list[list]]:
    wb = load_workbook(io.BytesIO(data))
    out = {}
    for ws in wb.worksheets:
        cells = [c for row in ws.iter_rows() for c in row]
        formulas = [c.coordinate for c in cells if c.data_type == "f"]
        assert not formulas, f"{what}/{ws.title}: formula cells {formulas[:5]}"
        bad = [c.value for c in cells if starts_formula(c.value)]
        assert not bad, f"{what}/{ws.title}: cells that start a formula: {bad[:5]}"
        out[ws.title] = [[c.value for c in row] for row in ws.iter_rows()]
    return out


def check(name: str, data: bytes) -> None:
    assert data, name
    (check_xlsx if name.endswith(".xlsx") else check_csv)(data, name)


def flat(rows) -> set:
    return {v for r in rows for v in r}


# --- the one function ------------------------------------------------------------------------------
@pytest.mark.parametrize("value,expected", [
    ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("  =1", "'  =1"), (" \n@x", "' \n@x"), ("-", "'-"),
    ("-5", "-5"), ("+3.5", "+3.5"), ("-1e3", "-1e3"), ("-24.43", "-24.43"),  # plain numbers: as they are
    ("P01", "P01"), ("园区=1", "园区=1"), ("", ""), ("'=x", "'=x"),
    (-5, -5), (-2.5, -2.5), (None, None), (True, True),
])
def test_formula_safe(value, expected):
    from core.spreadsheet import formula_safe

    got = formula_safe(value)
    assert got == expected and type(got) is type(expected)


# --- the reports writers, called directly ------------------------------------------------------------
def _hostile_frame() -> pd.DataFrame:
    return pd.DataFrame({"park_id": [f"P{i}" for i in range(len(RAW))], "name": RAW,
                         "area_km2": [-5.0 + i for i in range(len(RAW))], "n": [-3] * len(RAW),
                         "=SUM(A1)": RAW[::-1], "-x": ["-1"] * len(RAW)})


def test_every_reports_writer_neutralises_cells_and_headers(tmp_path):
    import reports
    from reports import table as rtable
    from ui import report as ui_report
    from ui import targets_views

    df = _hostile_frame()
    sources = [{"role": r, "layer": r, "file": r, "sha256": "0" * 64, "source": r, "licence": r,
                "status": r, "year": "2024"} for r in RAW]
    prov = {"datasets": [{"role": "landcover", "name": r, "file": r, "sha256": "0" * 64} for r in RAW],
            "weights": {r: 1.0 for r in RAW}, "extra": {"scenario": RAW[0]}}
    outs = {"csv_bytes.csv": reports.csv_bytes(df)}
    rows = check_csv(outs["csv_bytes.csv"], "csv_bytes")
    assert rows[0][-2:] == ["'=SUM(A1)", "'-x"]  # headers from an uploaded file's columns
    assert "'" + RAW[0] in flat(rows) and "'\t=1+1" in flat(rows) and "'  =1+1" in flat(rows)
    assert [r[2] for r in rows[1:3]] == ["-5.0", "-4.0"] and rows[1][3] == "-3"  # numbers stay numbers
    assert rows[1][5] == "-1"  # text that is a plain number: left as it is
    for name, data in {
        "excel.xlsx": reports.excel_bytes({"parks": df}, "en", sources=sources, provenance=prov,
                                          extra={"=SUM(A1)": Text("=zh", "=en")}),
        "excel_ids.xlsx": reports.excel_bytes({RAW[0]: df}, "zh", labels=False, bilingual=True),
        "parks_excel.xlsx": ui_report.parks_excel(df.assign(source="upload"), "en", sources, prov),
        "workbook.xlsx": targets_views.workbook(
            {"matrix": pd.DataFrame([[1.0, -2.0]], index=pd.Index([RAW[1]], name=RAW[2]), columns=[RAW[0], RAW[3]])},
            "zh"),
    }.items():
        sheets = check_xlsx(data, name)
        outs[name] = data
        if name == "excel.xlsx":
            parks = sheets["parks"]
            assert "'" + RAW[0] in flat(parks) and "'=en" in parks[0]  # a cell and a header
            assert -5.0 in flat(parks) and -3 in flat(parks)  # negative numbers are numbers
    for suffix in (".csv", ".xlsx"):
        for write in (lambda o: rtable.write_table(df, o, lang="en", provenance=prov),
                      lambda o: rtable.write_report(df, o, prov, lang="zh"),
                      lambda o: reports.write_csv(df, o) if o.suffix == ".csv" else None):
            out = tmp_path / f"t{len(outs)}{suffix}"
            if write(out) is None:
                continue
            check(out.name, out.read_bytes())
            outs[out.name] = out.read_bytes()
    assert len(outs) == 10  # csv_bytes, four workbooks, write_table ×2, write_report ×2, write_csv


# --- the pages' download buttons: the bytes a browser would get ------------------------------------------
# download key -> file name, for every download button in ui/ that writes CSV or Excel (see
# test_every_writer_is_walked); "direct" ones are walked above (they need a second land-cover year)
PAGE_DOWNLOADS = {
    "dl_csv": "parks_indicators.csv", "dl_xlsx": "parks_indicators.xlsx",
    "siting_dl_xlsx": "siting_scenario.xlsx",
    "results_csv": "*.csv", "runlog_download": "run_log.csv", "audit_export": "audit_log.csv",
    "targets_dl_progress": "targets_progress.xlsx", "targets_stats_template": "official_stats.csv",
    "targets_dl_proxy": "landcover_proxies.xlsx",
}
DIRECT = {"targets_dl_matrix": "ui.targets_views.workbook",
          # the land-change tab (needs a land-cover series in use): through the walked writers
          "landchange_dl_traj": "reports.csv_bytes", "landchange_dl_deg": "reports.csv_bytes",
          "landchange_dl_matrix": "reports.csv_bytes", "landchange_dl_xlsx": "reports.excel_bytes"}


@pytest.fixture()
def downloads(monkeypatch):
    """The files the page hands to its download buttons, by file name (``apptest_helpers.capture_downloads``)."""
    return capture_downloads(monkeypatch)


def _run(page: str, **state) -> AppTest:
    return run_page(page, "en", timeout=300, **state)


def test_every_page_download_neutralises_hostile_names(store, downloads):
    from indicators import targets as tg
    from storage import accounts, audit, stats_store

    ids = []
    for i, name in enumerate(HOSTILE):
        g = gpd.GeoDataFrame({"n": [name]}, geometry=[shapely.box(104.2 + 0.05 * i, 36.5, 104.23 + 0.05 * i, 36.52)],
                             crs=4326)
        ids += store.add_parks(g, names=[name], source="upload")
    assert list(store.parks()["name"]) == HOSTILE  # the store keeps them as typed
    with pytest.raises(Exception):  # a failed login under a hostile name: no account needed
        accounts.authenticate(store, HOSTILE[0], "wrong", sleep=lambda s: None)
    audit.log(store, HOSTILE[1], "login_failed", "account", HOSTILE[1])
    store.put_result_table(HOSTILE[2], "parks", pd.DataFrame({"=SUM(A1)": HOSTILE, "area_km2": [-1.5, 2, 3, 4]}),
                           actor=accounts.SHELL)
    seed = tg.load_seed_stats()
    stats_store.ensure(store, seed)
    before = stats_store.official_stats(store)
    row = seed.iloc[[0]].assign(source=HOSTILE[0], note=HOSTILE[3], quote=HOSTILE[1], year=2099)
    stats_store.upsert_official_stats(store, row)
    try:
        _run("parks.py", parks_selected=ids[0])
        _run("siting.py", siting_parks=ids[:3], _siting_init=True, siting_name=HOSTILE[3])
        _run("data.py")
        _run("targets.py")
    finally:
        stats_store.replace_official_stats(store, before)
    names = set(downloads)
    for key, fname in PAGE_DOWNLOADS.items():
        assert any(re.fullmatch(fname.replace(".", r"\.").replace("*", ".*"), n) for n in names), (key, sorted(names))
    cells = {}
    for name, data in downloads.items():
        if name.endswith(".csv"):
            cells[name] = flat(check_csv(data, name))
        elif name.endswith(".xlsx"):
            cells[name] = {v for rows in check_xlsx(data, name).values() for v in flat(rows)}
    # the hostile values are there (escaped), not dropped
    assert "'" + HOSTILE[0] in cells["parks_indicators.csv"] and "'" + HOSTILE[0] in cells["parks_indicators.xlsx"]
    assert "'" + HOSTILE[1] in cells["audit_log.csv"]  # typed at a failed login
    assert "'" + HOSTILE[3] in cells["run_log.csv"]  # the scenario name of the siting export
    assert "'" + HOSTILE[2] in cells["siting_scenario.xlsx"]
    assert "'" + HOSTILE[0] in cells["official_stats.csv"] and "'" + HOSTILE[3] in cells["targets_progress.xlsx"]
    result = next(v for k, v in cells.items() if k.endswith(".csv") and "area_km2" in v and "'=SUM(A1)" in v)
    assert "-1.5" in result  # a negative number: as it is


# --- the command lines -----------------------------------------------------------------------------------
def _cli(*args, module="cli", store=None):
    env = {**os.environ, **({"GANSU_STORE": str(store)} if store else {})}
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=600, env=env)


def test_every_command_line_output_neutralises_hostile_names(tmp_path):
    from indicators import targets as tg
    from storage import audit
    from storage.store import Store

    a = np.full((200, 300), 2, np.uint8)
    lc = tmp_path / "lc.tif"
    with rasterio.open(lc, "w", driver="GTiff", width=300, height=200, count=1, dtype="uint8", crs=ALBERS,
                       transform=Affine(30, 0, 0, 0, -30, 4_000_000), nodata=0) as ds:
        ds.write(a, 1)
    units = gpd.GeoDataFrame({"adcode": HOSTILE[:2], "name_zh": HOSTILE[2:]},
                             geometry=[shapely.box(0, 3_994_000, 4500, 4_000_000),
                                       shapely.box(4500, 3_994_000, 9000, 4_000_000)], crs=ALBERS)
    units.to_file(tmp_path / "units.gpkg")
    parks = gpd.GeoDataFrame({"name": HOSTILE[:2]}, geometry=[shapely.box(1000, 3_995_000, 3000, 3_997_000),
                                                              shapely.box(5000, 3_995_000, 7000, 3_997_000)],
                             crs=ALBERS).to_crs(4326)
    parks.to_file(tmp_path / "parks.gpkg")
    stats = tg.load_seed_stats().iloc[[0]].assign(source=HOSTILE[0], note=HOSTILE[3], year=2099)
    stats.to_csv(tmp_path / "stats.csv", index=False)
    store = tmp_path / "s.duckdb"
    s = Store(store)
    audit.log(s, HOSTILE[0], "login_failed", "account", HOSTILE[0])
    audit.log(s, "ok\r=1+1", "login_failed", "account", "ok\r=1+1")  # a CR would start a new row
    s.close()
    outs = []
    for out in ("p.csv", "p.xlsx"):
        r = _cli("parks", "--parks", tmp_path / "parks.gpkg", "--landcover", lc, "--legend", "clcd",
                 "--out", tmp_path / out, "--lang", "en", store=store)
        assert r.returncode == 0, r.stderr[-2000:]
        outs.append(out)
    for out in ("s.csv", "s.xlsx"):  # the siting ranking: the same park names, through the same writers
        r = _cli("siting", "--parks", tmp_path / "parks.gpkg", "--landcover", lc, "--legend", "clcd",
                 "--out", tmp_path / out, "--lang", "en", store=store)
        assert r.returncode == 0, r.stderr[-2000:]
        outs.append(out)
    for out in ("t.csv", "t.xlsx"):
        r = _cli("targets", "--stats", tmp_path / "stats.csv", "--out", tmp_path / out, store=store)
        assert r.returncode == 0, r.stderr[-2000:]
        outs.append(out)
    r = _cli("zonestats", "--units", tmp_path / "units.gpkg", "--landcover", lc, "--legend", "clcd", "--years", lc,
             "--out", tmp_path / "z.csv", "--scheduler", "synchronous", "--no-cache", store=store)
    assert r.returncode == 0, r.stderr[-2000:]
    outs += ["z.csv", "z_years.csv", "z_transitions.csv"]
    for out in ("d.csv", "d.xlsx"):  # land degradation: unit ids and names typed by someone
        r = _cli("degradation", "--units", tmp_path / "units.gpkg", "--landcover-series", f"{lc},{lc}",
                 "--years", "2000,2010", "--legend", "clcd", "--baseline", "2000-2010", "--out", tmp_path / out,
                 "--scheduler", "synchronous", "--no-cache", store=store)
        assert r.returncode == 0, r.stderr[-2000:]
        outs += [out] + (["d_trajectories.csv", "d_trends.csv"] if out.endswith(".csv") else [])
    # the checklist: park names, a not-applicable reason and a greening source typed by someone
    pd.DataFrame({"park_id": ["c1", "c2"], "name": HOSTILE[:2]}).to_csv(tmp_path / "cparks.csv", index=False)
    pd.DataFrame({"park_id": ["c1", "c2"], "criterion": ["coal_decline_pct", "greening_coverage_pct"],
                  "value": ["", "18"], "not_applicable_reason": [HOSTILE[2], ""], "kind": ["", "planned"],
                  "source": ["", HOSTILE[3]], "date": ["", "2024"]}).to_csv(tmp_path / "answers.csv", index=False)
    for out in ("c.csv", "c.xlsx"):
        r = _cli("checklist", "--parks", tmp_path / "cparks.csv", "--inputs", tmp_path / "answers.csv",
                 "--out", tmp_path / out, store=store)
        assert r.returncode == 0, r.stderr[-2000:]
        outs.append(out)
    r = _cli("admin", "audit", "--out", tmp_path / "a.csv", store=store)
    assert r.returncode == 0, r.stderr[-2000:]
    outs.append("a.csv")
    seen = set()
    for out in outs:
        data = (tmp_path / out).read_bytes()
        seen |= flat(check_csv(data, out)) if out.endswith(".csv") else \
            {v for rows in check_xlsx(data, out).values() for v in flat(rows)}
    for h in HOSTILE + ["ok\r=1+1"]:  # each hostile name reached some file, escaped or quoted
        assert ("'" + h if h[0] in "=+-@" else h) in seen, h


# --- nothing writes CSV or Excel outside reports, and every download is walked ----------------------------
ROOMS = ("reports", "ui", "cli", "geodata", "indicators", "layers", "storage", "zonal", "pages", "core")
# writing, not reading: layers/readers/excel.py reads uploads with openpyxl.load_workbook
WRITE_CALL = re.compile(r"\.to_csv\(|\.to_excel\(|csv\.writer|csv\.DictWriter|xlsxwriter|Workbook\(|"
                        r"openpyxl\.Workbook|from openpyxl import .*\bWorkbook\b")
WRITERS = {"reports/csv.py", "reports/excel.py"}
# elsewhere, each with why it is safe
ALLOWED = {
    "cli/admin_cli.py": "formula_safe_frame",  # below reports: the audit CSV goes through core.spreadsheet
    "indicators/provenance.py": "sha256_bytes",  # a table's CSV text hashed, never written to a file
}


def test_every_writer_is_walked():
    found = []
    for path in [REPO / "app.py"] + [p for room in ROOMS for p in sorted((REPO / room).rglob("*.py"))]:
        rel = path.relative_to(REPO).as_posix()
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if WRITE_CALL.search(line) and rel not in WRITERS:
                assert rel in ALLOWED and ALLOWED[rel] in line, f"{rel}:{i} writes CSV/Excel outside reports: {line}"
                found.append(rel)
    assert sorted(set(found)) == sorted(ALLOWED)  # the exceptions are still there (else drop them)
    keys = {}
    for path in sorted((REPO / "ui").glob("*.py")):
        src = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "download_button":
                seg = ast.get_source_segment(src, node)
                if ".csv" in seg or ".xlsx" in seg:
                    key = next(k.value.value for k in node.keywords if k.arg == "key")
                    keys[key] = path.name
    missing = set(keys) - set(PAGE_DOWNLOADS) - set(DIRECT)
    assert not missing, f"CSV/Excel downloads not walked by this test: {sorted(missing)}"
    assert set(PAGE_DOWNLOADS) | set(DIRECT) == set(keys)
    cli_outs = {(p.relative_to(REPO).as_posix()) for room in ("cli", "geodata") for p in (REPO / room).rglob("*.py")
                if '"--out"' in p.read_text(encoding="utf-8")}
    assert cli_outs == {"cli/parks_cli.py", "cli/targets_cli.py", "cli/tiled_cli.py", "cli/checklist_cli.py",
                        "cli/admin_cli.py", "cli/landchange_cli.py"}, cli_outs  # all walked above (siting_cli takes the parks parser's --out)

"""Issue 13: cited official statistics (seed, bases, citations, "—"), the targets CLI, provenance.

Hand-computed answers:
- PM2.5, province, basis 考核口径: 25.8 (2023), 25.7 (2024); target ≤ 25 by 2025 → gap −0.7,
  required (25 − 25.7) / (2025 − 2024) = −0.7 per year, historical (25.7 − 25.8) / 1 = −0.1,
  ratio 0.1 / 0.7 = 0.142857 < 0.5 → off track.
- Good-air days, province, basis 扣除沙尘: 91.6 (2023), 92.7 (2024); target ≥ 93.8 by 2025 →
  required 1.1, historical 1.1 → ratio 1 → on track. Basis 未扣除沙尘: latest 86.4 (2023).
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import pandas as pd
import pytest

from core import paths
from indicators import provenance
from indicators import targets as tg

SHARED = paths.REPO.parent / "shared" / "data" / "official_stats_gansu.csv"
AIR = "good_air_days_pct"
DUST_IN, DUST_OUT = "未扣除沙尘（公报口径）", "扣除沙尘异常超标天"


@pytest.fixture(scope="module")
def targets():
    return tg.load_targets()


@pytest.fixture(scope="module")
def seed():
    return tg.load_seed_stats()


def test_seed_has_all_67_cited_rows(seed):
    assert len(seed) == 67
    for c in ("source", "source_url", "quote", "basis"):
        assert (seed[c].str.len() > 0).all(), c
    assert (seed["origin"] == "seed").all()
    assert set(seed["region"]) >= {"甘肃省", "兰州", "临夏州", "甘南州", "武威"}  # prefecture rows
    raw = list(csv.DictReader(open(tg.OFFICIAL_SEED_CSV, encoding="utf-8")))
    if SHARED.is_file():  # the seed is the shared table, its columns unchanged, plus three
        shared = list(csv.DictReader(open(SHARED, encoding="utf-8")))
        assert [{k: r[k] for k in shared[0]} for r in raw] == shared
    yr = seed[seed["indicator"] == "yellow_river_main_class"]
    assert set(yr["value"]) == {2.0}  # Ⅱ类 → 2 on the targets' scale (class Ⅰ–Ⅴ = 1–5)
    co2 = seed[(seed["indicator"] == "co2_per_gdp_vs2020_pct") & (seed["year"] == 2023)]
    assert co2["value"].tolist() == [-14.61]  # "较2020年累计下降14.61%" = change −14.61 %
    # the seed passes the same validation as an upload
    assert len(tg.validate_stats(seed.astype(str), tg.load_targets())) == 67


def test_good_air_days_2023_has_two_bases_never_mixed(targets, seed):
    y23 = seed[(seed["indicator"] == AIR) & (seed["region"] == "甘肃省") & (seed["year"] == 2023)]
    assert dict(zip(y23["basis"], y23["value"])) == {DUST_IN: 86.4, DUST_OUT: 91.6}
    for basis, latest, year in ((DUST_IN, 86.4, 2023), (DUST_OUT, 92.7, 2024)):
        hist, used = tg.history(seed, AIR, "甘肃省", basis)
        assert used == basis and set(hist["basis"]) == {basis} and hist["year"].is_unique
        pt = tg.progress_table(targets, seed, {AIR: basis}, run_date="2025-03-01")
        row = pt[(pt["indicator"] == AIR) & (pt["region"] == "甘肃省") & (pt["target_year"] == 2025)].iloc[0]
        assert (row["latest_value"], row["latest_year"], row["basis"]) == (latest, year, basis)
        tr = tg.trajectory(targets, seed, AIR, "甘肃省", basis)
        assert tr["basis"] == basis and len(tr["history"]) == len(hist)
    row = tg.progress_table(targets, seed, {AIR: DUST_OUT}, run_date="2025-03-01")
    row = row[(row["indicator"] == AIR) & (row["region"] == "甘肃省") & (row["target_year"] == 2025)].iloc[0]
    assert row["required_per_yr"] == pytest.approx(1.1) and row["historical_per_yr"] == pytest.approx(1.1)
    assert row["status"] == "on_track"
    # the default basis is that of the latest value (2024: 扣除沙尘)
    assert tg.bases(seed, AIR, "甘肃省")[0] == DUST_OUT


def test_no_official_data_and_no_none_or_nan_in_any_cell(targets, seed):
    from ui import targets as ui

    pt = tg.progress_table(targets, seed, run_date="2025-03-01")
    assert set(pt.loc[pt["indicator"] == "desertified_land_treated_pct", "status"]) == {"no_data"}
    for lang in ("zh", "en"):
        view = ui.progress_view(targets, seed, lang)
        row = view[view[view.columns[0]] == ("可治理沙化土地治理率" if lang == "zh" else "Treatable desertified land treated")]
        assert set(row[ui.t("targets.col.status", lang)]) == {ui.t("targets.status.no_data", lang)}
        assert ui.t("targets.status.no_data", "zh") == "无官方数据"
        html = ui.styled_progress(view, lang).to_html()
        for bad in (">None<", ">nan<", ">NaN<", "><NA><"):
            assert bad not in html, bad
        assert ">—<" in html
        text = view.select_dtypes(exclude="number").astype(str)
        assert not text.isin(["None", "nan", "<NA>", ""]).any().any()
        verify = view[ui.t("targets.col.verify", lang)]
        assert (verify == ui.t("targets.verify", lang)).sum() > 0  # seeded rows carry the press mark
    card = ui.source_card(pt[(pt["indicator"] == "pm25_ugm3") & (pt["region"] == "甘肃省")].iloc[0], "en")
    from ui.mdtext import unescape

    shown = unescape(card)  # the card is Markdown: names and quotes are escaped, the link kept
    assert "https://news.43u.com.cn/a/1160014.html" in shown and "25.7" in shown and "verify" in shown


def test_prefecture_rows_are_references_where_data_exists(targets, seed):
    pt = tg.progress_table(targets, seed)
    assert len(pt) == len(targets) and set(pt["region"]) == {"甘肃省"}  # the plan sets province targets only
    ref = tg.reference_table(targets, seed)
    pref = ref[ref["region"] != "甘肃省"]
    assert set(zip(pref["indicator"], pref["region"])) == {
        (i, r) for i, r in zip(seed["indicator"], seed["region"]) if r != "甘肃省"}
    assert set(pref["kind"]) == {"prefecture", "other_base"}  # (兰州's vs-2015 CO2 value: another base year)


def test_targets_cli_csv_one_row_per_target_and_region(tmp_path, targets, store_at):
    """The statistics from the store (on DuckDB: none yet, so the seed; on PostgreSQL a new database,
    seeded on first use): the same rows either way."""
    out = tmp_path / "progress.csv"
    where = tmp_path / "absent.duckdb" if store_at.backend == "duckdb" else store_at("stats")
    env = {"GANSU_STORE": str(where), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "cli", "targets", "--out", str(out), "--date", "2025-03-01"], cwd=paths.REPO,
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out, encoding="utf-8-sig")
    assert list(df.columns) == list(tg.REPORT_COLUMNS)
    targets_rows = df[df["row_kind"] == "target"]
    assert not targets_rows.duplicated(["indicator", "target_year", "region"]).any()
    assert len(targets_rows) == 23 and len(df) == 23 + len(tg.reference_table(targets, tg.load_seed_stats()))
    assert set(df.loc[df["row_kind"] != "target", "status"]) == {"reference"}
    assert set(df["run_date"]) == {"2025-03-01"}
    pm = df[(df["indicator"] == "pm25_ugm3") & (df["region"] == "甘肃省")].iloc[0]
    assert pm["latest_value"] == 25.7 and pm["latest_year"] == 2024
    assert pm["gap"] == pytest.approx(-0.7) and pm["required_per_yr"] == pytest.approx(-0.7)
    assert pm["historical_per_yr"] == pytest.approx(-0.1)
    assert pm["status"] == "off_track" and pm["status_rule"] == "historical ÷ required = 0.14 < 0.5"
    assert pm["years_left"] == 0 and pm["age_years"] == 1 and not pm["stale"]  # run 2025, value 2024
    assert pm["source_url"] == "https://news.43u.com.cn/a/1160014.html"
    d = df[df["indicator"] == "desertified_land_treated_pct"]
    assert set(d["status"]) == {"no_data"} and set(d["status_rule"]) == {"no official data"}
    side = json.loads((tmp_path / "progress.csv.provenance.json").read_text(encoding="utf-8"))
    assert side["tables"]["targets"] == provenance.file_sha256(tg.TARGETS_CSV)
    assert side["tables"]["official_stats"] == provenance.frame_sha256(tg.load_seed_stats())
    assert side["extra"]["run_date"] == "2025-03-01" and side["thresholds"]["stale_years"] == 3
    # --basis switches one indicator's basis; Excel gets the provenance sheet
    xlsx = tmp_path / "progress.xlsx"
    r = subprocess.run([sys.executable, "-m", "cli", "targets", "--seed", "--basis", f"{AIR}={DUST_IN}", "--date", "2025-03-01",
                        "--out", str(xlsx), "--lang", "en"], cwd=paths.REPO, capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    book = pd.read_excel(xlsx, sheet_name=None)
    assert set(book) == {"targets", "provenance", "columns"}
    air = book["targets"][(book["targets"]["Indicator code"] == AIR) & (book["targets"]["Region"] == "甘肃省")]
    assert set(air["Latest official value"]) == {86.4} and set(air["Basis"]) == {DUST_IN}


def test_store_seed_keeps_users_rows_from_an_old_store(store_at, seed):
    from storage import stats_store
    from storage.store import Store

    s = Store(store_at("old"))
    with s.transaction() as cur:  # a store made before issue 13: six columns, the two old seed rows + a user row
        cur.execute("CREATE TABLE official_stats (indicator VARCHAR, region VARCHAR, year INTEGER, value DOUBLE, "
                    "unit VARCHAR, source VARCHAR, updated_at TIMESTAMP)")
        cur.execute("INSERT INTO official_stats VALUES ('forest_coverage_pct', '甘肃省', 2018, 11.33, '%', "
                    "'cnfma.com citing People''s Daily (DOMAIN.md §1)', NULL), "
                    "('pm25_ugm3', '甘肃省', 2024, 24.0, 'µg/m³', 'my yearbook', NULL)")
    stats_store.ensure(s, seed)
    got = stats_store.official_stats(s)
    pm24 = got[(got["indicator"] == "pm25_ugm3") & (got["region"] == "甘肃省") & (got["year"] == 2024)]
    assert pm24[["value", "source", "origin"]].values.tolist() == [[24.0, "my yearbook", "user"]]  # the user wins
    assert len(got) == 67 - 1 + 1  # seed minus the one row the user's row replaces, plus it
    assert not got[got["source"].str.startswith("cnfma.com")].shape[0]  # old seed superseded
    # the user's basis is the default basis of the province's PM2.5 (users' own data wins)
    assert tg.history(got, "pm25_ugm3", "甘肃省")[0]["value"].tolist() == [24.0]
    s.close()


def test_provenance_hashes_stable_and_specific(tmp_path):
    pools = pd.read_csv(paths.TABLES / "carbon_density.csv")
    sinks = pd.read_csv(paths.TABLES / "sink_rates.csv")
    kw = dict(datasets=[{"role": "landcover", "name": "x", "file": "x.tif", "sha256": "ab" * 32}],
              thresholds={"green_threshold_pct": 15.0}, weights={"a": 0.5, "b": 0.5}, pixel_area="ground")
    a = provenance.record(tables={"carbon_pools": pools, "sink_rates": sinks, "targets": tg.TARGETS_CSV}, **kw)
    b = provenance.record(tables={"carbon_pools": pools.copy(), "sink_rates": sinks, "targets": tg.TARGETS_CSV}, **kw)
    assert a["inputs_sha256"] == b["inputs_sha256"] and a["tables"] == b["tables"]
    changed = pools.copy()
    changed.loc[0, "c_above"] = float(changed.loc[0, "c_above"]) + 1.0  # one pool value
    c = provenance.record(tables={"carbon_pools": changed, "sink_rates": sinks, "targets": tg.TARGETS_CSV}, **kw)
    diff = {k for k in a["tables"] if a["tables"][k] != c["tables"][k]}
    assert diff == {"carbon_pools"}
    assert {k for k in a if k not in ("tables", "inputs_sha256", "time") and a[k] != c[k]} == set()
    assert a["inputs_sha256"] != c["inputs_sha256"]
    assert len(a["program"]["git_commit"]) in (40, 7) or a["program"]["git_commit"] == "unknown"
    rows = provenance.rows(a)
    assert {"program.git_commit", "build_id", "tables.carbon_pools", "pixel_area", "weights.a"} <= set(rows["key"])
    assert not rows["value"].isin(["None", "nan", ""]).any()


def test_an_edited_seed_row_becomes_the_users(seed):
    edited = seed.copy()
    i = edited.index[(edited["indicator"] == "pm25_ugm3") & (edited["year"] == 2024) & (edited["region"] == "甘肃省")][0]
    edited.loc[i, "value"] = 25.0
    out = tg.mark_user_edits(edited, seed)
    assert out.loc[i, "origin"] == "user"
    assert (out.drop(index=i)["origin"] == "seed").all()
    # the user's value is now the default basis's latest (users' own data wins)
    assert tg.bases(out, "pm25_ugm3", "甘肃省")[0] == out.loc[i, "basis"]

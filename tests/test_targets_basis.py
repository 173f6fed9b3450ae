"""Targets that know their age and basis: years left from the run date, stale values, restated
publications, bases a target may use, prefecture references, incomparable rows. Hand values on the
cited seed (tables/official_stats_gansu.csv) and on constructed histories.

Hand-computed answers:
- wetland 51.56 (2014), target > 52.73 by 2025: run 2022-05-01 → years left 2025 − 2022 = 3 (not
  2025 − 2014 = 11), required (52.73 − 51.56) / (2025 − 2014) = 0.106364/yr, age 8 → stale;
  run 2026-03-01 → years left −1, "target year passed: 2025 value needed".
- forest coverage 11.33 for 2018 and 2023, one inventory (第九次全国森林资源清查): one point at
  2018; run 2024-06-30 → not met (< 12), one publication → "no trend (one inventory)"; the same two
  rows as two publications → slope 0 → ratio 0 → off track.
- 兰州 CO2 per GDP vs 2020: −14.61 (2023, vs 2020) is the only usable value; −24.43 (2020, vs 2015)
  never. With a 兰州 target ≤ −16 by 2025 and run 2024-06-30: gap −16 − (−14.61) = −1.39,
  required −1.39 / (2025 − 2023) = −0.695/yr, one point → no trend.
- 甘南 grassland 97.14 (2024): a reference (no status, no gap) against the province's 53.5; with a
  甘南 target ≥ 95 by 2030 of its own: met, one point → on track, years left 2030 − 2026 = 4.
"""
from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import paths
from core.errors import InputError
from indicators import targets as tg

FOREST, WETLAND, WATER, AIR = "forest_coverage_pct", "wetland_protection_pct", "surface_water_class3_pct", "good_air_days_pct"
GRASS, CO2 = "grassland_veg_cover_pct", "co2_per_gdp_vs2020_pct"
VS2015, VS2020 = "较2015年累计变化", "较2020年累计变化"
FUNCTIONAL = "达到功能类别要求（68个省级考核断面）"
DUST_IN = "未扣除沙尘（公报口径）"
AIR_1920 = "2019–2020年口径（待核实，可能扣除沙尘）"


@pytest.fixture(scope="module")
def targets():
    return tg.load_targets()


@pytest.fixture(scope="module")
def seed():
    return tg.load_seed_stats()


def hist(*rows):
    return pd.DataFrame(rows, columns=["year", "value", "publication"][:len(rows[0])] if rows else ["year", "value"])


def row(pt, indicator, year, region="甘肃省"):
    r = pt[(pt["indicator"] == indicator) & (pt["target_year"] == year) & (pt["region"] == region)]
    assert len(r) == 1, (indicator, year, region, len(r))
    return r.iloc[0]


# --- years left from the run date; stale values --------------------------------------------------
def test_years_left_are_counted_from_the_run_date_not_the_latest_value():
    h = hist((2014, 51.56))
    p = tg.progress(h, 52.73, 2025, ">", "higher", "2022-05-01")
    assert p.years_left == 3  # 2025 − 2022, not 2025 − 2014 = 11
    assert p.required_per_yr == pytest.approx((52.73 - 51.56) / 11)
    assert p.age_years == 8 and p.stale and p.status == "no_trend"
    p = tg.progress(h, 52.73, 2025, ">", "higher", dt.date(2026, 3, 1))
    assert p.years_left == -1 and p.status == "year_passed" and p.required_per_yr is None
    r = {"status": p.status, "target_year": 2025, "met": p.met, "pace_ratio": None, "stale": p.stale,
         "latest_year": p.latest_year, "age_years": p.age_years, "restated_years": "", "basis": ""}
    zh, en = tg.status_reason(r)
    assert en == "target year passed: 2025 value needed; latest value from 2014, 12 years before the run date (over 3: stale)"
    assert zh.startswith("目标年已过：需要 2025 年数值")
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        tg.run_date_of("5 Dec 2026")


def test_stale_is_more_than_three_years_before_the_run_year():
    h = hist((2022, 10.0), (2023, 10.5))
    assert not tg.progress(h, 12.0, 2030, ">=", "higher", "2026-12-31").stale  # 2026 − 2023 = 3
    p = tg.progress(h, 12.0, 2030, ">=", "higher", "2027-01-01")  # 4 years: stale
    assert p.stale and p.age_years == 4
    assert p.pace_ratio == pytest.approx(0.5 / (1.5 / 7)) and p.status == "on_track"  # 0.5/yr vs 1.5/7 needed
    from ui import targets_views as views

    assert views.status_text("off_track", 2030, True, 2023, 4, "en") == "off track · stale (2023, 4 years old)"
    assert views.status_text("off_track", 2030, True, 2023, 4, "zh") == "进度滞后 · 数据陈旧（2023 年，已 4 年）"
    assert views.status_text("off_track", 2030, False, 2023, 3, "en") == "off track"


def test_seed_progress_on_a_fixed_run_date(targets, seed):
    pt = tg.progress_table(targets, seed, run_date="2026-12-05")
    f25, f30 = row(pt, FOREST, 2025), row(pt, FOREST, 2030)
    assert (f25["years_left"], f30["years_left"]) == (-1, 4)
    assert f25["status"] == "year_passed" and f30["status"] == "no_trend_restated"
    assert (f30["latest_value"], f30["latest_year"], f30["age_years"], f30["stale"]) == (11.33, 2018, 8, True)
    assert f30["required_per_yr"] == pytest.approx((12.7 - 11.33) / (2030 - 2018))
    assert row(pt, "pm25_ugm3", 2025)["status"] == "year_passed"  # latest 2024: the 2025 value is needed
    assert not row(pt, "pm25_ugm3", 2025)["stale"]  # 2026 − 2024 = 2


# --- restated publications -------------------------------------------------------------------------
def test_a_restated_inventory_value_is_one_point_not_a_flat_trend(targets, seed):
    pub = "第九次全国森林资源清查（2014–2018）"
    one = tg.progress(hist((2018, 11.33, pub), (2023, 11.33, pub)), 12.0, 2025, ">=", "higher", "2024-06-30")
    assert one.n_publications == 1 and one.restated and one.historical_per_yr is None
    assert one.status == "no_trend_restated" and one.latest_year == 2018
    two = tg.progress(hist((2018, 11.33, "a"), (2023, 11.33, "b")), 12.0, 2025, ">=", "higher", "2024-06-30")
    assert two.historical_per_yr == pytest.approx(0.0) and two.pace_ratio == pytest.approx(0.0)
    assert two.status == "off_track"  # what the flat "trend" of one restated figure used to read
    pt = tg.progress_table(targets, seed, run_date="2024-06-30")
    f = row(pt, FOREST, 2025)
    assert f["status"] == "no_trend_restated" and f["n_points"] == 1 and f["restated_years"] == "2023"
    assert pd.isna(f["historical_per_yr"]) and f["latest_year"] == 2018
    assert f["source_url"] == "https://www.cnfma.com/site/content/4106.html"  # the newest statement is cited
    from core.i18n import t

    assert t("targets.status.no_trend_restated", "en") == "no trend (one inventory, restated)"
    tr = tg.trajectory(targets, seed, FOREST, "甘肃省")
    assert tr["history"].values.tolist() == [[2018, 11.33]] and tr["trend"].empty


# --- bases: progress uses the target's basis only ------------------------------------------------------
def test_lanzhou_vs_2015_is_never_used_under_the_vs_2020_indicator(targets, seed):
    from ui import targets_views as views

    assert VS2015 not in views.basis_options(seed, CO2, targets)
    assert tg.bases(seed, CO2, "兰州") == [VS2020]
    h, used = tg.history(seed, CO2, "兰州", VS2015)  # asked for, refused: the usable basis instead
    assert used == VS2020 and h["value"].tolist() == [-14.61]
    pt = tg.progress_table(targets, seed, {CO2: VS2015}, run_date="2024-06-30")
    assert set(pt.loc[pt["indicator"] == CO2, "region"]) == {"甘肃省"}
    assert -24.43 not in set(pt["latest_value"].dropna())
    # 兰州 given a vs-2020 target of its own: measured on the vs-2020 value only
    own = pd.concat([targets, targets[targets["indicator"] == CO2].assign(region="兰州")], ignore_index=True)
    r = row(tg.progress_table(own, seed, {CO2: VS2015}, run_date="2024-06-30"), CO2, 2025, "兰州")
    assert (r["latest_value"], r["latest_year"], r["basis"]) == (-14.61, 2023, VS2020)
    assert r["gap"] == pytest.approx(-1.39) and r["required_per_yr"] == pytest.approx(-0.695)
    assert r["status"] == "no_trend" and r["n_bases"] == 1
    ref = tg.reference_table(own, seed, "2024-06-30")
    vs15 = ref[(ref["indicator"] == CO2) & (ref["basis"] == VS2015)].iloc[0]
    assert (vs15["kind"], vs15["value"], vs15["unit"]) == ("other_base", -24.43, "%")  # not "% vs 2020"


def test_functional_class_water_row_is_never_used_for_the_class_iii_target(targets, seed):
    from ui import targets_views as views

    assert FUNCTIONAL not in views.basis_options(seed, WATER, targets)
    pt = tg.progress_table(targets, seed, {WATER: FUNCTIONAL}, run_date="2024-06-30")
    w = row(pt, WATER, 2025)
    assert (w["basis"], w["latest_value"], w["latest_year"]) == ("74个国控断面", 98.6, 2024)
    only = seed[(seed["indicator"] == WATER) & (seed["basis"] == FUNCTIONAL)]
    assert only["value"].tolist() == [95.6]
    w = row(tg.progress_table(targets, only, run_date="2019-06-30"), WATER, 2025)
    assert w["status"] == "not_comparable" and pd.isna(w["gap"]) and pd.isna(w["latest_value"])
    ref = tg.reference_table(targets, seed, "2024-06-30")
    f = ref[ref["basis"] == FUNCTIONAL].iloc[0]
    assert (f["kind"], f["value"], f["year"]) == ("other_measure", 95.6, 2018)
    assert "不等于" in f["reason_zh"] and "not “class III or better”" in f["reason_en"]


def test_air_days_2019_2020_are_a_separate_unverified_basis(seed):
    h, used = tg.history(seed, AIR, "甘肃省", DUST_IN)
    assert h[["year", "value"]].values.tolist() == [[2017, 85.4], [2018, 82.8], [2021, 90.2], [2022, 90.2], [2023, 86.4]]
    h, used = tg.history(seed, AIR, "甘肃省", AIR_1920)
    assert h[["year", "value"]].values.tolist() == [[2019, 93.1], [2020, 93.7]]
    info = tg.basis_info(AIR, AIR_1920)
    assert info.usable and not info.verified
    assert tg.basis_label(AIR, AIR_1920, "en") == f"2019–2020 basis (unverified, possibly dust days excluded) ({AIR_1920})"
    # a store seeded before the basis was corrected reads as the seed says now; users' rows stay
    old = seed.copy()
    is_1920 = (old["indicator"] == AIR) & (old["basis"] == AIR_1920)
    old.loc[is_1920, "basis"] = DUST_IN
    user = old[is_1920].iloc[[0]].assign(origin="user", region="武威")
    got = tg.refresh_seed(pd.concat([old, user], ignore_index=True))
    assert set(got.loc[(got["region"] == "甘肃省") & got["year"].isin([2019, 2020]) & (got["indicator"] == AIR), "basis"]) == {AIR_1920}
    assert got.loc[got["region"] == "武威", "basis"].tolist()[-1] == DUST_IN


# --- prefectures and incomparable rows: references ---------------------------------------------------
def test_gannan_grassland_is_a_reference_without_status(targets, seed):
    pt = tg.progress_table(targets, seed, run_date="2026-12-05")
    assert set(pt["region"]) == {"甘肃省"}
    ref = tg.reference_table(targets, seed, "2026-12-05")
    g = ref[(ref["indicator"] == GRASS) & (ref["region"] == "甘南州")]
    assert len(g) == 1 and (g.iloc[0]["kind"], g.iloc[0]["value"]) == ("prefecture", 97.14)
    assert not {"status", "gap"} & set(ref.columns)
    rep = tg.report_table(targets, seed, run_date="2026-12-05")
    g = rep[(rep["indicator"] == GRASS) & (rep["region"] == "甘南州")].iloc[0]
    assert g["status"] == "reference" and pd.isna(g["gap"]) and pd.isna(g["target_value"])
    # a prefecture with a target of its own is measured against it
    own = pd.concat([targets, pd.DataFrame([{**targets[targets["indicator"] == GRASS].iloc[-1].to_dict(),
                                             "region": "甘南州", "target_value": 95.0}])], ignore_index=True)
    r = row(tg.progress_table(own, seed, run_date="2026-12-05"), GRASS, 2030, "甘南州")
    assert (r["latest_value"], r["met"], r["status"], r["years_left"]) == (97.14, True, "on_track", 4)
    assert not ((tg.reference_table(own, seed, "2026-12-05")["region"] == "甘南州")
                & (tg.reference_table(own, seed, "2026-12-05")["indicator"] == GRASS)).any()


def test_incomparable_wetland_row_has_no_gap(targets, seed):
    pt = tg.progress_table(targets, seed, run_date="2026-12-05")
    for y in (2025, 2030):
        w = row(pt, WETLAND, y)
        assert w["status"] == "not_comparable" and pd.isna(w["gap"]) and pd.isna(w["required_per_yr"])
    ref = tg.reference_table(targets, seed, "2026-12-05")
    w = ref[ref["indicator"] == WETLAND]
    assert len(w) == 1 and (w.iloc[0]["kind"], w.iloc[0]["value"], w.iloc[0]["year"]) == ("incomparable", 51.56, 2014)
    rep = tg.report_table(targets, seed, run_date="2026-12-05")
    assert rep.loc[rep["indicator"] == WETLAND, "gap"].isna().all()
    assert set(rep.loc[rep["indicator"] == WETLAND, "row_kind"]) == {"target", "incomparable"}


def test_every_number_keeps_its_citation_and_texts_stay_text(targets, seed):
    from ui import targets_views as views
    from ui.mdtext import unescape

    rep = tg.report_table(targets, seed, run_date="2026-12-05")
    with_value = rep[rep["latest_value"].notna()]
    for c in ("source_title", "source_url", "quote", "verify"):
        assert (with_value[c].astype(str).str.len() > 0).all(), c
    assert set(with_value.loc[with_value["source_date"] == "", "region"]) == {"天水"}  # the source shows no date
    for lang in ("zh", "en"):
        refs = views.reference_view(targets, seed, lang, "2026-12-05")
        text = refs.select_dtypes(exclude="number").astype(str)
        assert not text.isin(["None", "nan", "<NA>", ""]).any().any()
    hostile = seed.iloc[[0]].assign(region="武威", basis="**x** [a](http://evil.example)", origin="user", quote="![i](http://e/p.png)")
    card = views.source_card(tg.reference_table(targets, hostile, "2026-12-05").iloc[0], "en")
    assert "\\*\\*x\\*\\*" in card and "\\!\\[i\\]" in card and "](http://evil" not in card
    assert "![i](http://e/p.png)" in unescape(card)


# --- the page, both languages ----------------------------------------------------------------------------------
def _walk(node, out):
    out.append(node)
    for c in getattr(node, "children", {}).values():
        _walk(c, out)
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_targets_page_opens_on_progress_with_bases_collapsed(dataset, lang):
    at = AppTest.from_file(str(paths.REPO / "pages" / "targets.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["targets_run_date"] = dt.date(2026, 12, 5)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    status = "Status" if lang == "en" else "状态"
    nodes = _walk(at.main, [])
    frames = [i for i, n in enumerate(nodes) if n.type == "dataframe"]
    progress_at = next(i for i in frames if status in nodes[i].value.columns)
    basis_title = "Basis (one basis per indicator, never mixed)" if lang == "en" else "统计口径（每个指标只用一种口径，不混用）"
    exp_at = next(i for i, n in enumerate(nodes) if n.type == "expander" and n.label == basis_title)
    assert progress_at < exp_at  # progress first
    assert nodes[exp_at].proto.expanded is False  # bases collapsed
    progress = nodes[progress_at].value
    refs_at = next(i for i in frames if ("Kind" if lang == "en" else "类别") in nodes[i].value.columns)
    assert progress_at < refs_at < exp_at  # the reference values follow the progress, before the bases
    refs = nodes[refs_at].value
    for df in (progress, refs):  # text cells: never missing, never "None"/"nan" (numbers: "—" by the styler)
        text = df.select_dtypes(exclude="number")
        assert not text.isna().any().any(), text.columns[text.isna().any()].tolist()
        assert not text.astype(str).isin(["None", "nan", "<NA>", "NaT", ""]).any().any()
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any(re.search(r"\bNone\b|\bnan\b", s) for s in texts)
    region = "Region" if lang == "en" else "地区"
    assert len(progress) == 23 and set(progress[region]) == {"Gansu Province" if lang == "en" else "甘肃省"}
    forest = progress[progress[progress.columns[0]] == ("Forest coverage" if lang == "en" else "森林覆盖率")]
    expected = ({2025: "target year passed: 2025 value needed · stale (2018, 8 years old)",
                 2030: "no trend (one inventory, restated) · stale (2018, 8 years old)"} if lang == "en" else
                {2025: "目标年已过：需要 2025 年数值 · 数据陈旧（2018 年，已 8 年）",
                 2030: "无趋势（同一次清查/发布的重复引用） · 数据陈旧（2018 年，已 8 年）"})
    year_col = "Target year" if lang == "en" else "目标年"
    assert dict(zip(forest[year_col], forest[status])) == expected
    gannan = refs[(refs[region] == "甘南州") & (refs[refs.columns[0]] == ("Grassland comprehensive vegetation coverage"
                                                                          if lang == "en" else "草原综合植被盖度"))]
    assert len(gannan) == 1 and status not in refs.columns
    options = [o for s in at.selectbox if str(s.key).startswith("targets_basis_") for o in s.options]
    assert options and not any("较2015" in o or "功能类别" in o for o in options)
    if lang == "en":
        assert "dust-storm exceedance days excluded (扣除沙尘异常超标天)" in options
        assert any(c.value.startswith("Run date: 2026-12-05.") for c in at.caption)
    else:
        assert "扣除沙尘异常超标天" in options


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_progress_export_carries_states_references_and_citations(targets, seed, lang):
    import io

    import openpyxl

    from ui import targets_progress as page

    data = page.progress_workbook(targets, seed, lang, {}, dt.date(2026, 12, 5), {"run_date": "2026-12-05"})
    wb = openpyxl.load_workbook(io.BytesIO(data))
    sheet = {"zh": ("目标进展", "参考值"), "en": ("progress", "references")}[lang]
    assert set(sheet) | {"report"} <= set(wb.sheetnames)

    def table(name):
        rows = list(wb[name].iter_rows(values_only=True))
        return pd.DataFrame(rows[1:], columns=rows[0])

    prog, refs, rep = table(sheet[0]), table(sheet[1]), table("report")
    status = "Status" if lang == "en" else "状态"
    stale = "stale (2018, 8 years old)" if lang == "en" else "数据陈旧（2018 年，已 8 年）"
    assert prog[status].astype(str).str.contains(stale, regex=False).sum() == 2  # forest 2025 and 2030
    kind = "Kind" if lang == "en" else "类别"
    wet = refs[refs[kind] == ("not comparable, says the source (no gap)" if lang == "en" else "来源称口径不可比（不计算差距）")]
    assert len(wet) == 1 and wet.iloc[0]["Value" if lang == "en" else "数值"] == 51.56
    quote = "Quote" if lang == "en" else "原文引述"
    assert "受到有效保护的湿地占湿地总面积的51.56%" in set(wet[quote])
    heads = list(rep.columns)
    for zh, en in (("行类别", "Row kind"), ("数据陈旧", "Stale"), ("原文引述", "Quote"), ("剩余年数（自运行日期）",
                                                                                      "Years left (from the run date)")):
        assert (zh if lang == "zh" else en) in heads

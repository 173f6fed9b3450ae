"""Targets table, required-pace arithmetic on constructed histories, statistics validation and
the official-statistics store tables."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from indicators import targets as tg
from core.errors import InputError

# DOMAIN.md §1 (2025 → 2030); None = no target that year.
DOMAIN_TARGETS = {
    "forest_coverage_pct": (12, 12.7),
    "forest_stock_100m_m3": (2.8, 3.3),
    "grassland_veg_cover_pct": (53.5, 53.5),
    "wetland_protection_pct": (52.73, 54.35),
    "soil_water_conservation_pct": (61.34, 64.14),
    "desertified_land_treated_pct": (63, 67),
    "pm25_ugm3": (25, None),
    "good_air_days_pct": (93.8, 94),
    "surface_water_class3_pct": (94.6, 95),
    "yellow_river_main_class": (2, 2),
    "polluted_farmland_safe_use_pct": (93, 98),
    "co2_per_gdp_vs2020_pct": (-16, None),
    "co2_per_gdp_vs2005_pct": (None, -65),
}


@pytest.fixture(scope="module")
def targets():
    return tg.load_targets()


def test_targets_table_has_every_domain_target_with_its_years(targets):
    got = {(r.indicator, int(r.target_year)): float(r.target_value) for r in targets.itertuples()}
    expected = {}
    for ind, (v25, v30) in DOMAIN_TARGETS.items():
        if v25 is not None:
            expected[(ind, 2025)] = v25
        if v30 is not None:
            expected[(ind, 2030)] = v30
    assert got == expected
    assert set(targets["region"]) == {"甘肃省"}
    assert (targets["source_doc"] == "甘政办发〔2025〕30号").all()
    seed = open(tg.TARGETS_CSV.parent.parent.parent / "shared" / "seeds" / "gansu_action_plan_and_related_2025.txt",
                encoding="utf-8").read() if (tg.TARGETS_CSV.parent.parent.parent / "shared" / "seeds").is_dir() else None
    for r in targets.itertuples():
        assert r.source_clause and re.search(r"[\u4e00-\u9fff]", r.source_clause)
        if seed:  # every clause (pieces around an ellipsis) is quoted verbatim from the plan
            for part in r.source_clause.replace("，……", "……").split("……"):
                assert part.strip("，") in seed, (r.indicator, part)
    lower = set(targets.loc[targets["direction"] == "lower", "indicator"])
    assert lower == {"pm25_ugm3", "yellow_river_main_class", "co2_per_gdp_vs2020_pct", "co2_per_gdp_vs2005_pct"}
    base = dict(zip(targets["indicator"], targets["base_year"]))
    assert base["co2_per_gdp_vs2020_pct"] == 2020 and base["co2_per_gdp_vs2005_pct"] == 2005
    comp = {(r.indicator, r.target_year): r.comparator for r in targets.itertuples()}
    assert comp[("wetland_protection_pct", 2025)] == ">"  # 超过
    assert comp[("surface_water_class3_pct", 2030)] == "~"  # 左右



def hist(*pairs):
    return pd.DataFrame(pairs, columns=["year", "value"])


# the run dates below put "today" in the latest data year, so years left = target year − latest year
RUN_2020, RUN_2021, RUN_2023 = "2020-06-30", "2021-06-30", "2023-06-30"


def test_required_pace_higher_is_better_on_track_at_risk_off_track():
    # 10 → 12 by 2025 from 2020: required 0.4/yr
    p = tg.progress(hist((2018, 9.2), (2020, 10.0)), 12.0, 2025, ">=", "higher", RUN_2020)  # trend 0.4/yr
    assert p.gap == pytest.approx(2.0) and p.years_left == 5
    assert p.required_per_yr == pytest.approx(0.4)
    assert p.historical_per_yr == pytest.approx(0.4)
    assert p.pace_ratio == pytest.approx(1.0) and p.status == "on_track"
    assert p.projected_value == pytest.approx(12.0)
    p = tg.progress(hist((2016, 9.0), (2020, 10.0)), 12.0, 2025, ">=", "higher", RUN_2020)  # 0.25/yr
    assert p.pace_ratio == pytest.approx(0.625) and p.status == "at_risk"
    p = tg.progress(hist((2010, 9.0), (2020, 10.0)), 12.0, 2025, ">=", "higher", RUN_2020)  # 0.1/yr
    assert p.status == "off_track"
    p = tg.progress(hist((2018, 10.5), (2020, 10.0)), 12.0, 2025, ">=", "higher", RUN_2020)  # wrong way
    assert p.historical_per_yr < 0 and p.pace_ratio < 0 and p.status == "off_track"


def test_least_squares_trend_over_three_points():
    p = tg.progress(hist((2018, 1.0), (2019, 3.0), (2020, 2.0)), 5.0, 2025, ">=", "higher", RUN_2020)
    assert p.historical_per_yr == pytest.approx(0.5)  # slope of (1,3,2)
    assert p.required_per_yr == pytest.approx(0.6)


def test_target_already_met():
    p = tg.progress(hist((2019, 12.5), (2021, 13.0)), 12.0, 2025, ">=", "higher", RUN_2021)
    assert p.met and p.gap == pytest.approx(-1.0) and p.required_per_yr == 0.0
    assert p.status == "on_track"
    # met now but falling fast enough to miss by 2025 → at risk
    p = tg.progress(hist((2019, 14.0), (2021, 12.5)), 12.0, 2025, ">=", "higher", RUN_2021)
    assert p.met and p.projected_value == pytest.approx(9.5) and p.status == "at_risk"
    # met with a single point: on track (no trend to contradict it)
    assert tg.progress(hist((2021, 13.0)), 12.0, 2025, ">=", "higher", RUN_2021).status == "on_track"


def test_decreasing_is_better():
    # PM2.5 30 → 25 µg/m³ by 2025 from 2020: required −1/yr
    p = tg.progress(hist((2016, 38.0), (2020, 30.0)), 25.0, 2025, "<=", "lower", RUN_2020)  # −2/yr
    assert p.gap == pytest.approx(-5.0)
    assert p.required_per_yr == pytest.approx(-1.0)
    assert p.historical_per_yr == pytest.approx(-2.0)
    assert p.pace_ratio == pytest.approx(2.0) and p.status == "on_track"
    p = tg.progress(hist((2016, 31.2), (2020, 30.0)), 25.0, 2025, "<=", "lower", RUN_2020)  # −0.3/yr
    assert p.pace_ratio == pytest.approx(0.3) and p.status == "off_track"
    p = tg.progress(hist((2020, 24.0)), 25.0, 2025, "<=", "lower", RUN_2020)
    assert p.met and p.status == "on_track"
    # relative target: CO2 per GDP −16% vs 2020 (values are % change vs 2020)
    p = tg.progress(hist((2021, -3.0), (2023, -9.0)), -16.0, 2025, "<=", "lower", RUN_2023)
    assert p.required_per_yr == pytest.approx(-3.5) and p.historical_per_yr == pytest.approx(-3.0)
    assert p.pace_ratio == pytest.approx(3 / 3.5) and p.status == "at_risk"


def test_deadline_passed_and_no_data_and_no_trend_and_about():
    # a value after the target year decides it: 11.0 in 2026 misses ≥ 12 by 2025
    assert tg.progress(hist((2026, 11.0)), 12.0, 2025, ">=", "higher", "2027-01-01").status == "missed"
    assert tg.progress(hist((2024, 11.0), (2025, 12.1)), 12.0, 2025, ">=", "higher", "2027-01-01").status == "achieved"
    assert tg.progress(hist(), 12.0, 2025, ">=", "higher").status == "no_data"
    assert tg.progress(hist((2020, 10.0)), 12.0, 2025, ">=", "higher", RUN_2020).status == "no_trend"
    assert tg.progress(hist((2024, 94.6)), 95.0, 2030, "~", "higher").met
    assert not tg.progress(hist((2024, 52.73)), 52.73, 2025, ">", "higher").met  # 超过 is strict


def forest_two_points():
    """The two inventory values of forest coverage (8th: 11.28, 9th: 11.33; years = end of the
    inventory periods), one basis."""
    return tg.normalise_stats(pd.DataFrame({
        "indicator": ["forest_coverage_pct"] * 2, "region": ["甘肃省"] * 2, "year": [2013, 2018],
        "value": [11.28, 11.33], "unit": ["%"] * 2, "source": ["8th inventory", "9th inventory"]}))


def test_progress_table_uses_forest_coverage(targets):
    stats = forest_two_points()  # two inventories: two publications, a real trend
    pt = tg.progress_table(targets, stats, run_date="2018-06-30")
    assert len(pt) == len(targets)
    fc = pt[(pt["indicator"] == "forest_coverage_pct") & (pt["target_year"] == 2025)].iloc[0]
    assert fc["latest_value"] == 11.33 and fc["latest_year"] == 2018
    assert fc["gap"] == pytest.approx(0.67)
    assert fc["required_per_yr"] == pytest.approx(0.67 / 7)
    assert fc["historical_per_yr"] == pytest.approx(0.01)
    assert fc["status"] == "off_track"
    assert (pt.loc[pt["indicator"] != "forest_coverage_pct", "status"] == "no_data").all()
    tr = tg.trajectory(targets, stats, "forest_coverage_pct", "甘肃省")
    assert list(tr["required"]["year"]) == [2018, 2025, 2018, 2030]
    assert tr["trend"]["value"].iloc[-1] == pytest.approx(11.33 + 0.01 * 12)


def csv_frame(text: str) -> pd.DataFrame:
    import io

    return pd.read_csv(io.StringIO(text))


@pytest.mark.parametrize("text, needle", [
    ("indicator,region,year,amount,unit,source\nforest_coverage_pct,甘肃省,2020,11.5,%,x\n", "exactly the columns"),
    ("indicator,region,year,value,unit,source\nforest_coverage_pct,甘肃省,2020,abc,%,x\n", "non-numeric"),
    ("indicator,region,year,value,unit,source\nforest_area,甘肃省,2020,1,%,x\n", "unknown indicator"),
    ("indicator,region,year,value,unit,source\nforest_coverage_pct,甘肃省,20x0,1,%,x\n", "year"),
    ("indicator,region,year,value,unit,source\nforest_coverage_pct,甘肃省,2020,1,%,\n", "empty source"),
    ("indicator,region,year,value,unit,source\nforest_coverage_pct,甘肃省,2020,1,km2,x\n", "unit"),
    ("indicator,region,year,value,unit,source\nforest_coverage_pct,甘肃省,2020,1,%,x\nforest_coverage_pct,甘肃省,2020,2,%,y\n", "duplicate"),
])
def test_invalid_statistics_are_refused_with_bilingual_message(targets, text, needle):
    with pytest.raises(InputError) as e:
        tg.validate_stats(csv_frame(text), targets)
    assert needle in e.value.en
    assert re.search(r"[\u4e00-\u9fff]", e.value.zh)


def test_valid_statistics_map_labels_to_ids_and_fill_units(targets):
    df = tg.validate_stats(csv_frame(
        "Indicator,Region,Year,Value,Unit,Source\n森林覆盖率,甘肃省,2020,11.6,,Gansu yearbook\n"
        "PM2.5 concentration,甘肃省,2020,27,µg/m³,bulletin\n"), targets)
    assert list(df["indicator"]) == ["forest_coverage_pct", "pm25_ugm3"]
    assert list(df["unit"]) == ["%", "µg/m³"]
    assert df["year"].dtype == "int64"


def test_store_seeds_once_and_writes_atomically(tmp_path, targets):
    from storage import stats_store
    from storage.store import Store

    s = Store(tmp_path / "s.duckdb")
    seed = tg.load_seed_stats()
    stats_store.ensure(s, seed)
    stats_store.ensure(s, seed)  # idempotent: not seeded twice
    got = stats_store.official_stats(s)
    assert len(got) == 67 and (got["origin"] == "seed").all()
    stats_store.replace_official_stats(s, seed.iloc[:0])
    stats_store.ensure(s, seed)  # an emptied table stays empty
    assert stats_store.official_stats(s).empty
    new = tg.validate_stats(csv_frame("indicator,region,year,value,unit,source\n"
                                      "pm25_ugm3,甘肃省,2023,28.0,µg/m³,a\n"), targets)
    stats_store.upsert_official_stats(s, new)
    stats_store.upsert_official_stats(s, new.assign(value=27.0))
    got = stats_store.official_stats(s)
    assert len(got) == 1 and got["value"].iloc[0] == 27.0
    # a failing write leaves the table unchanged
    bad = new.assign(year="not a year")
    with pytest.raises(ValueError, match="invalid literal for int.*'not a year'"):
        stats_store.replace_official_stats(s, bad)
    assert stats_store.official_stats(s)["value"].tolist() == [27.0]
    s.close()


def test_ui_import_paths_validate_before_saving(dataset, tmp_path, monkeypatch, targets):
    import numpy as np

    from storage import stats_store
    from storage.store import Store
    from ui import raster_sources, targets as ui

    s = Store(tmp_path / "u.duckdb")
    stats_store.ensure(s, tg.load_seed_stats())
    gb = "indicator,region,year,value,unit,source\n森林覆盖率,甘肃省,2020,11.5,%,甘肃年鉴\n".encode("gb18030")
    assert ui.apply_stats(s, gb, "merge") == 1
    assert len(stats_store.official_stats(s)) == 68
    edited = stats_store.official_stats(s)
    edited.loc[len(edited)] = ["pm25_ugm3", "甘肃省", 2022, 28.0, "µg/m³", np.nan, "test basis", "", "", "", "",
                               None]  # new row without source
    with pytest.raises(InputError, match="empty source"):
        ui.save_edited(s, edited)
    assert len(stats_store.official_stats(s)) == 68  # unchanged
    edited.loc[len(edited) - 1, "source"] = "bulletin"
    assert ui.save_edited(s, edited) == 69
    with pytest.raises(InputError):
        ui.apply_stats(s, b"\xff\xfe\x00garbage", "replace")
    assert len(stats_store.official_stats(s)) == 69
    s.close()
    # server paths (an admin's): only GeoTIFFs, and only under GANSU_RASTER_ROOTS when it is set
    # (else the import folder: tests/test_security_rasters.py)
    tif = tmp_path / "x.tif"
    from tests.hostile import corpus

    tif.write_bytes(corpus.tif())  # a real (small) GeoTIFF: empty files are refused by the check
    monkeypatch.setenv("GANSU_RASTER_ROOTS", str(tmp_path))
    assert raster_sources.check_raster_path(str(tif), admin=True) == tif.resolve()
    with pytest.raises(InputError):
        raster_sources.check_raster_path(str(tmp_path / "x.csv"), admin=True)
    monkeypatch.setenv("GANSU_RASTER_ROOTS", str(tmp_path / "elsewhere"))
    with pytest.raises(InputError, match="not allowed"):
        raster_sources.check_raster_path(str(tif), admin=True)

"""Issue 13: rank stability (seeded Monte Carlo), provenance in every file format, the run log."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pypdf
import pytest

import reports
from indicators import carbon, provenance, siting, siting_stability
from layers.legends import get_legend

# Three parks; hand-checked base ranking with weights carbon 1 : airport distance 1 (both lower is better):
# carbon norm A = (300 − 100)/200 = 1, B = 0.95, C = 0; distance norm A = (22 − 20)/22 = 0.0909, B = 0, C = 1
# → scores A 0.5455, C 0.5, B 0.475 → ranks A 1, C 2, B 3.
PARKS = pd.DataFrame({"park_id": ["A", "B", "C"], "name": ["a", "b", "c"],
                      "carbon_stock_tc": [100.0, 110.0, 300.0], "dist_airport_km": [20.0, 22.0, 0.0],
                      "carbon_sink_tco2_yr": [0.0, 0.0, 335.0],
                      "lc_forest_km2": [0.0, 0.0, 1.0], "lc_grassland_km2": [1.0, 1.1, 0.0]})
W = {"carbon_stock_tc": 1, "dist_airport_km": 1}
CRIT = ["carbon_stock_tc", "dist_airport_km"]


def ranges():
    lg = get_legend("clcd")
    return siting_stability.class_ranges(carbon.load_pools(None, lg), lg), siting_stability.rate_ranges(carbon.load_sink_rates())


def test_rank_stability_is_reproducible_and_flags_unstable_parks():
    dens, rates = ranges()
    a = siting_stability.rank_stability(PARKS, W, CRIT, densities=dens, rates=rates, n=500, seed=7)
    b = siting_stability.rank_stability(PARKS, W, CRIT, densities=dens, rates=rates, n=500, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs == b.attrs and a.attrs["seed"] == 7 and a.attrs["n"] == 500
    assert list(a["park_id"]) == ["A", "C", "B"] and list(a["rank"]) == [1.0, 2.0, 3.0]
    assert not a["stable"].all()  # close scores (0.545 / 0.5 / 0.475): ranks move within ±10% weights
    assert (a["rank_min"] <= a["rank"]).all() and (a["rank"] <= a["rank_max"]).all()
    c = siting_stability.rank_stability(PARKS, W, CRIT, densities=dens, rates=rates, n=500, seed=8)
    assert not c["same_rank_pct"].equals(a["same_rank_pct"])  # another seed, other draws


def test_rank_stability_without_variation_equals_rank():
    # no spread and no density ranges: every draw is the unperturbed ranking (incl. a NaN and a constant)
    df = PARKS.assign(dist_railway_km=[5.0, np.nan, 5.0])
    crit = CRIT + ["dist_railway_km"]
    mc = siting_stability.rank_stability(df, {**W, "dist_railway_km": 2}, crit, n=50, weight_spread=0.0)
    base = siting.rank(df, {**W, "dist_railway_km": 2}, crit)
    assert mc["rank"].equals(base["rank"]) and mc["rank"].isna().sum() == 1  # the park without a distance: set aside
    ranked = mc[mc["rank"].notna()]
    assert (ranked["same_rank_pct"] == 100.0).all() and ranked["stable"].all() and mc.attrs["changed_pct"] == 0.0
    assert (ranked["rank_min"] == ranked["rank"]).all() and mc["same_rank_pct"].isna().sum() == 1


def test_density_draws_stay_within_the_ranges():
    dens, _ = ranges()
    d = siting_stability.triangular(np.random.default_rng(1), dens, 4000)
    for cls, r in dens.iterrows():
        assert d[cls].min() >= r["low"] - 1e-9 and d[cls].max() <= r["high"] + 1e-9
    assert d["forest"].mean() == pytest.approx((140.46 + 223.66 + 296.03) / 3, rel=0.01)  # triangular mean


def _rec(**kw):
    return provenance.record(tables={"carbon_pools": b"x"}, weights={"a": 1.0}, pixel_area="nominal", **kw)


def test_provenance_in_excel_pdf_gpkg_parquet(tmp_path):
    import geopandas as gpd
    import shapely

    rec = _rec()
    xl = reports.excel_bytes({"parks": PARKS}, "en", provenance=rec)
    book = pd.read_excel(io.BytesIO(xl), sheet_name=None)
    assert "provenance" in book
    kv = dict(zip(book["provenance"]["key"], book["provenance"]["value"]))
    assert kv["pixel_area"] == "nominal" and kv["inputs_sha256"] == rec["inputs_sha256"]
    ranked = siting.rank(PARKS, W, CRIT)
    ind = PARKS.assign(carbon_stock_low_tc=[60.0, 70.0, 200.0], carbon_stock_high_tc=[130.0, 140.0, 380.0])
    pdf = reports.scenario_pdf(scenario="s", ranking=ranked, indicators=ind, lang="en", font="cid", provenance=rec)
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Provenance" in text and rec["inputs_sha256"][:32] in text.replace("\n", "")
    flat = text.replace("\n", " ")
    assert "low" in flat and "high" in flat and "380" in flat  # the range columns of the indicators section
    zh = reports.scenario_pdf(scenario="s", ranking=ranked, lang="zh", font="cid", provenance=rec)
    assert "来源与计算记录" in "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(zh)).pages)
    gdf = gpd.GeoDataFrame(PARKS[["park_id", "carbon_stock_tc"]], geometry=[shapely.box(0, 0, 1, 1)] * 3, crs=4326)
    for suffix in (".gpkg", ".parquet"):
        out = reports.write_vector(gdf, tmp_path / f"p{suffix}", provenance=rec)
        assert reports.read_provenance(out) == json.loads(json.dumps(rec))
    data = reports.gpkg_bytes(gdf, provenance=rec)
    (tmp_path / "b.gpkg").write_bytes(data)
    assert reports.read_provenance(tmp_path / "b.gpkg")["inputs_sha256"] == rec["inputs_sha256"]
    # the CLI writer: CSV sidecar, GeoJSON sidecar
    csv = reports.write_table(PARKS, tmp_path / "t.csv", provenance=rec)
    assert json.loads(provenance.sidecar_path(csv).read_text(encoding="utf-8")) == json.loads(json.dumps(rec))


def test_run_log_records_exports_with_provenance(dataset):
    from ui import common, runlog

    rec = _rec()
    before = len(runlog.rows())
    data = runlog.logged("parks_excel", "parks", lambda: b"file", rec)()
    assert data == b"file"
    runlog.log_scenario("方案一", rec)
    log = runlog.rows()
    assert len(log) == before + 2
    top = log.iloc[0]
    assert (top["action"], top["item_type"], top["item_id"]) == ("run_scenario", "scenario", "方案一")
    assert top["actor"] == common.actor() and top["inputs_sha256"] == rec["inputs_sha256"]
    assert json.loads(top["details"])["pixel_area"] == "nominal"
    assert log.iloc[1]["action"] == "run_export" and log.iloc[1]["item_type"] == "parks_excel"
    assert not log.astype(str).isin(["None", "nan"]).any().any()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_siting_page_shows_rank_stability_and_data_page_the_run_log(dataset, lang):
    from tests.apptest_helpers import run_page, shown_headers

    at = run_page("siting.py", lang)
    assert not at.exception, [e.value for e in at.exception]
    stable = "Rank stable" if lang == "en" else "排名稳定"
    mc = next(d for d in at.dataframe if stable in shown_headers(d))
    assert not mc.value.astype(str).isin(["None", "nan", "<NA>"]).any().any()
    assert any(("Monte Carlo" if lang == "en" else "蒙特卡洛") in c.value for c in at.caption)
    first = mc.value.copy()
    at2 = run_page("siting.py", lang)  # same seed, same figures
    assert next(d for d in at2.dataframe if stable in shown_headers(d)).value.equals(first)
    data = run_page("data.py", lang)
    assert not data.exception, [e.value for e in data.exception]
    assert any(s.value == ("Run log (exports and saved scenarios)" if lang == "en" else "运行记录（导出与保存的方案）")
               for s in data.subheader)
    assert data.radio(key="_pixel_area_widget").value == "ground"

"""Siting: normalisation, weighted ranking, red-line exclusion and sensitivity, on constructed
parks whose expected scores are worked out by hand in the comments."""
import math

import numpy as np
import pandas as pd
import pytest

from indicators import siting, siting_sensitivity, siting_value, table
from core.errors import InputError


def parks(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"park_id": [f"p{i + 1}" for i in range(n)], "name": [f"园区{i + 1}" for i in range(n)]}
    return pd.DataFrame({**base, **cols})


# Three parks, two criteria. Carbon stock is at stake: lower is better for siting.
#            stock  sink    norm_stock        norm_sink
#   p1        100    10     (300-100)/200=1    0
#   p2        200    30     0.5                1
#   p3        300    20     0                  0.5
THREE = parks(carbon_stock_tc=[100.0, 200.0, 300.0], carbon_change_tc=[10.0, 30.0, 20.0])
CRIT = ["carbon_stock_tc", "carbon_change_tc"]


def test_criteria_come_from_the_indicator_table():
    assert set(siting.CRITERIA) <= set(table.BY_ID)
    # the default carbon criterion: carbon at stake per hectare, lower is better in the table too
    assert siting.CRITERIA[0] == "carbon_at_stake_tc_per_ha"
    assert siting.direction("carbon_at_stake_tc_per_ha") == table.get("carbon_at_stake_tc_per_ha").direction == -1
    assert siting.direction("carbon_stock_tc") == -1  # chosen by hand: at stake, explicit siting override
    assert table.get("carbon_stock_tc").direction == +1  # the table rates it as an ecosystem value
    assert siting.direction("carbon_change_tc") == table.get("carbon_change_tc").direction == +1
    # the sink of the undeveloped land is at stake, not a benefit: lower is better for siting, per hectare
    assert siting.direction("carbon_sink_tco2_yr") == -1 and table.get("carbon_sink_tco2_yr").direction == +1
    assert siting.direction("carbon_sink_tco2_ha_yr") == table.get("carbon_sink_tco2_ha_yr").direction == -1
    assert siting.CRITERIA[:2] == ("carbon_at_stake_tc_per_ha", "carbon_sink_tco2_ha_yr")
    with pytest.raises(InputError):  # the map's vegetated share is not rankable (not the annex's greening)
        siting.direction("vegetated_share_pct")
    assert "vegetated_share_pct" not in siting.CRITERIA
    assert siting.direction("dist_airport_km") == -1
    assert siting.direction("redline_overlap_pct") == -1
    d = siting.directions_frame(["carbon_stock_tc", *siting.CRITERIA])
    assert d.loc[d["id"] == "carbon_stock_tc", "note_en"].iloc[0]
    assert "per hectare" in d.loc[d["id"] == "carbon_at_stake_tc_per_ha", "note_en"].iloc[0]  # its rationale
    df = THREE.assign(dist_airport_km=[1.0, np.nan, 3.0], dist_railway_km=np.nan, zone="x",
                      carbon_at_stake_tc_per_ha=[1.0, 2.0, 3.0], carbon_sink_tco2_ha_yr=[0.5, 1.0, 0.2])
    assert siting.default_criteria(df.assign(vegetated_share_pct=[1.0, 2.0, 3.0])) == [
        "carbon_at_stake_tc_per_ha", "carbon_sink_tco2_ha_yr", "dist_airport_km"]
    d = siting.directions_frame(siting.CRITERIA)
    assert d["note_en"].str.len().gt(20).all()  # every default criterion says why it points the way it does
    with pytest.raises(InputError):
        siting.normalise(df, ["zone"])


def test_normalise_by_hand():
    n = siting.normalise(THREE, CRIT)
    assert n["carbon_stock_tc"].tolist() == [1.0, 0.5, 0.0]
    assert n["carbon_change_tc"].tolist() == [0.0, 1.0, 0.5]
    assert n.attrs == {"constant": [], "missing": {}}


def test_normalise_constant_and_missing():
    df = parks(carbon_change_tc=[20.0, 20.0, 20.0], dist_airport_km=[10.0, np.nan, 30.0])
    n = siting.normalise(df, ["carbon_change_tc", "dist_airport_km"])
    assert n["carbon_change_tc"].tolist() == [1.0, 1.0, 1.0]  # cannot discriminate: all best
    assert n.attrs["constant"] == ["carbon_change_tc"]
    # distance: lower is better; (30-10)/20 = 1, missing = worst 0, (30-30)/20 = 0
    assert n["dist_airport_km"].tolist() == [1.0, 0.0, 0.0]
    assert n.attrs["missing"] == {"dist_airport_km": ["p2"]}


@pytest.mark.parametrize("weights,order,scores", [
    ({"carbon_stock_tc": 1}, ["p1", "p2", "p3"], [1.0, 0.5, 0.0]),
    ({"carbon_change_tc": 5}, ["p2", "p3", "p1"], [1.0, 0.5, 0.0]),
    # 1:1 → 0.5 each: p1 .5·1+.5·0=.5, p2 .5·.5+.5·1=.75, p3 .5·0+.5·.5=.25
    ({"carbon_stock_tc": 1, "carbon_change_tc": 1}, ["p2", "p1", "p3"], [0.75, 0.5, 0.25]),
    # 3:1 → .75/.25: p1 .75, p2 .375+.25=.625, p3 .125  — the stock weight flips p1 above p2
    ({"carbon_stock_tc": 3, "carbon_change_tc": 1}, ["p1", "p2", "p3"], [0.75, 0.625, 0.125]),
])
def test_weights_change_the_ranking_as_computed_by_hand(weights, order, scores):
    r = siting.rank(THREE, weights, CRIT)
    assert r["park_id"].tolist() == order
    assert r["score"].tolist() == pytest.approx(scores)
    assert r["rank"].tolist() == [1.0, 2.0, 3.0]
    assert sum(r.attrs["weights"].values()) == pytest.approx(1.0)
    contrib = r[[f"contrib_{c}" for c in CRIT]].sum(axis=1)
    assert contrib.tolist() == pytest.approx(scores)


def test_weights_normalised_and_returned():
    r = siting.rank(THREE, {"carbon_stock_tc": 3, "carbon_change_tc": 1}, CRIT)
    assert r.attrs["weights"] == {"carbon_stock_tc": 0.75, "carbon_change_tc": 0.25}
    assert r.attrs["directions"] == {"carbon_stock_tc": -1, "carbon_change_tc": 1}
    assert siting.normalise_weights({"carbon_stock_tc": 2}, CRIT) == {"carbon_stock_tc": 1.0, "carbon_change_tc": 0.0}


@pytest.mark.parametrize("weights,needle", [
    ({"carbon_stock_tc": -1, "carbon_change_tc": 1}, "≥ 0"),
    ({"carbon_stock_tc": 0}, "zero"),
    ({"carbon_stock_tc": float("nan")}, "finite"),
    ({"dist_railway_km": 1}, "not in use"),
])
def test_bad_weights(weights, needle):
    with pytest.raises(InputError) as e:
        siting.rank(THREE, weights, CRIT)
    assert needle in e.value.en and e.value.zh != e.value.en


def test_redline_overlap_excludes_with_reason_and_does_not_distort_the_others():
    # p4 would be the best on sink and would stretch the stock range if it were normalised with
    # the others; excluded parks are left out of the min–max so p1..p3 score exactly as before.
    df = pd.concat([THREE, parks(carbon_stock_tc=[10_000.0], carbon_change_tc=[90.0]).assign(
        park_id="p4", name="<b>x</b> & y")], ignore_index=True)
    df["redline_overlap_km2"] = [0.0, 0.0, 0.0, 0.4217]
    df["redline_overlap_pct"] = [0.0, 0.0, 0.0, 4.217]
    w = {"carbon_stock_tc": 1, "carbon_change_tc": 1}
    r = siting.rank(df, w, CRIT)
    assert r["park_id"].tolist() == ["p2", "p1", "p3", "p4"]
    assert r["score"].iloc[:3].tolist() == pytest.approx([0.75, 0.5, 0.25])
    last = r.iloc[-1]
    assert bool(last["excluded"]) and math.isnan(last["rank"]) and math.isnan(last["score"])
    assert "0.42 km²" in last["exclusion_reason_en"] and "4.22%" in last["exclusion_reason_en"]
    assert "红线" in last["exclusion_reason_zh"] and "0.42 km²" in last["exclusion_reason_zh"]
    assert not r["excluded"].iloc[:3].any()
    assert (r["exclusion_reason_en"].iloc[:3] == "").all()
    # without the hard rule p4 is ranked and the red-line criterion counts
    r2 = siting.rank(df, w, CRIT, exclude_redline=False)
    assert not r2["excluded"].any() and r2["rank"].notna().all()


def test_tiny_overlap_still_excludes_and_reads_non_zero():
    df = THREE.assign(redline_overlap_km2=[0.0, 0.0004, 0.0], redline_overlap_pct=[0.0, 0.004, 0.0])
    r = siting.rank(df, {"carbon_stock_tc": 1}, CRIT)
    row = r.set_index("park_id").loc["p2"]
    assert row["excluded"] and "0.0004 km²" in row["exclusion_reason_en"]
    # only two feasible parks remain: p1 stock 100 → 1, p3 stock 300 → 0
    assert r["park_id"].tolist() == ["p1", "p3", "p2"]
    assert r["rank"].tolist()[:2] == [1.0, 2.0]


def test_no_green_flag_and_no_green_threshold_in_the_ranking():
    r = siting.rank(THREE, {"carbon_stock_tc": 1}, CRIT)
    assert not {"flag_green", "flag_note_zh", "flag_note_en"} & set(r.columns)
    assert "green_threshold_pct" not in r.attrs
    with pytest.raises(TypeError):
        siting.rank(THREE, {"carbon_stock_tc": 1}, CRIT, green_threshold_pct=25)


def test_ties_share_a_rank():
    df = parks(carbon_stock_tc=[100.0, 100.0, 300.0])
    r = siting.rank(df, {"carbon_stock_tc": 1}, ["carbon_stock_tc"])
    assert r["park_id"].tolist() == ["p1", "p2", "p3"]
    assert r["rank"].tolist() == [1.0, 1.0, 3.0]


def test_an_unknown_is_never_neutral_set_aside_or_dropped():
    df = THREE.assign(dist_airport_km=[5.0, np.nan, 25.0])
    crit = CRIT + ["dist_airport_km"]
    # set aside (the default): p2 has no airport distance, so it is not ranked and says why
    r = siting.rank(df, {"dist_airport_km": 1, "carbon_stock_tc": 1}, crit).set_index("park_id")
    assert math.isnan(r.loc["p2", "rank"]) and math.isnan(r.loc["p2", "score"])
    assert r.loc["p2", "cannot_rank_on"] == "dist_airport_km" and not r.loc["p2", "excluded"]
    # p1 and p3 only, min–max over those two: p1 stock 100 → 1, dist 5 → 1: score 1; p3: 0
    assert r.loc[["p1", "p3"], "score"].tolist() == [1.0, 0.0] and r.loc[["p1", "p3"], "rank"].tolist() == [1, 2]
    assert list(r.index) == ["p1", "p3", "p2"] and r.attrs["rankable"] == ["p1", "p3"]
    # a criterion without weight does not set a park aside
    r0 = siting.rank(df, {"carbon_stock_tc": 1}, crit).set_index("park_id")
    assert r0["rank"].notna().all() and (r0["cannot_rank_on"] == "").all() and r0.loc["p2", "missing"] == "dist_airport_km"
    # drop the criterion: every park ranked on the stock alone, the drop reported
    r = siting.rank(df, {"dist_airport_km": 1, "carbon_stock_tc": 1}, crit, unknown="drop-criterion")
    assert r.attrs["dropped"] == ["dist_airport_km"] and r.attrs["weights"]["carbon_stock_tc"] == 1.0
    assert r.set_index("park_id")["score"].to_dict() == {"p1": 1.0, "p2": 0.5, "p3": 0.0}
    with pytest.raises(InputError, match="nothing to rank on"):
        siting.rank(df, {"dist_airport_km": 1}, crit, unknown="drop-criterion")


def test_value_functions_by_hand():
    df = THREE.assign(slope=[5.0, 12.0, 30.0])
    vf = {"carbon_stock_tc": siting_value.parse("threshold:150"),
          "dist_airport_km": siting_value.parse("piecewise:8=1,25=0")}
    df = df.assign(dist_airport_km=df.pop("slope"))
    r = siting.rank(df, {"carbon_stock_tc": 1, "dist_airport_km": 1}, CRIT + ["dist_airport_km"],
                    value_functions=vf).set_index("park_id")
    # stock ≤ 150 (lower is better) → 1: p1 only; distance 5 → 1, 12 → (25-12)/17, 30 → 0
    assert r["norm_carbon_stock_tc"].tolist() == [1.0, 0.0, 0.0]
    assert r["norm_dist_airport_km"].tolist() == pytest.approx([1.0, 13 / 17, 0.0])
    assert r.loc["p2", "score"] == pytest.approx(0.5 * 13 / 17)
    assert r.attrs["value_functions"]["dist_airport_km"] == "piecewise:8=1,25=0"
    with pytest.raises(InputError, match="x ascending"):
        siting_value.parse("piecewise:25=0,8=1")


# Sensitivity near a tie. Two criteria with weights .51 (stock) / .49 (sink):
#            norm_stock  norm_sink    score
#   a           1           0         .51   rank 1
#   c          .5          .5         .50   rank 2 (always .5, whatever the weights)
#   b           0           1         .49   rank 3
# sink +10%: w_k = .49·1.1 = .539, w_s = .461 → b .539, c .5, a .461: a 1→3, b 3→1
# stock −10%: w_s = .459, w_k = .541 → same flip. sink −10% / stock +10%: no change.
TIE = pd.DataFrame({"park_id": ["a", "b", "c"], "name": ["甲园区", "乙园区", "丙园区"],
                    "carbon_stock_tc": [100.0, 200.0, 150.0], "carbon_change_tc": [10.0, 30.0, 20.0]})


def test_sensitivity_detects_a_flip_near_a_tie():
    s = siting_sensitivity.sensitivity(TIE, {"carbon_stock_tc": 0.51, "carbon_change_tc": 0.49}, delta=0.10, criteria=CRIT)
    got = sorted((r.criterion, r.change, r.park_id, r.rank_from, r.rank_to) for r in s.itertuples())
    assert got == [
        ("carbon_change_tc", "+10%", "a", 1.0, 3.0), ("carbon_change_tc", "+10%", "b", 3.0, 1.0),
        ("carbon_stock_tc", "-10%", "a", 1.0, 3.0), ("carbon_stock_tc", "-10%", "b", 3.0, 1.0),
    ]
    row = s[(s.criterion == "carbon_change_tc")].iloc[0]
    assert row.weight_from == pytest.approx(0.49) and row.weight_to == pytest.approx(0.539)
    assert len(s.attrs["tested"]) == 4


def test_sensitivity_far_from_a_tie_is_stable():
    s = siting_sensitivity.sensitivity(TIE, {"carbon_stock_tc": 0.8, "carbon_change_tc": 0.2}, criteria=CRIT)
    assert s.empty and "rank_to" in s.columns


def test_perturb_weights_keeps_proportions():
    w = siting_sensitivity.perturb_weights({"a": 0.5, "b": 0.3, "c": 0.2}, "a", 0.10)
    assert w["a"] == pytest.approx(0.55)
    assert w["b"] / w["c"] == pytest.approx(1.5) and sum(w.values()) == pytest.approx(1.0)
    w = siting_sensitivity.perturb_weights({"a": 0.5, "b": 0.5}, "a", -0.10, mode="absolute")
    assert w == pytest.approx({"a": 0.4, "b": 0.6})


# --- on the real engine's output ----------------------------------------------------------------
def engine_parks(tmp_path):
    """Three parks on a 0.005° IGBP raster made here: a on barren, b on grassland, c on forest +
    grassland touching a red-line polygon; an airport at the raster's south-west corner."""
    import geopandas as gpd
    import rasterio
    import shapely
    from affine import Affine

    from indicators.engine import compute_parks

    arr = np.full((40, 40), 10, dtype="uint8")  # grassland
    arr[:, :20] = 16  # barren west half
    arr[:10, :] = 1  # forest in the north rows
    tif = tmp_path / "lc.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=40, height=40, count=1, dtype="uint8", crs="EPSG:4326",
                       transform=Affine(0.005, 0, 103.0, 0, -0.005, 36.2), nodata=255) as dst:
        dst.write(arr, 1)
    parks_ = gpd.GeoDataFrame({"park_id": ["a", "b", "c"], "name": ["甲园区", "乙园区", "丙园区"]}, crs=4326,
                              geometry=[shapely.box(103.01, 36.01, 103.05, 36.05), shapely.box(103.12, 36.01, 103.16, 36.05),
                                        shapely.box(103.12, 36.14, 103.16, 36.18)])
    red = gpd.GeoDataFrame(geometry=[shapely.box(103.15, 36.17, 103.3, 36.3)], crs=4326)
    air = gpd.GeoDataFrame(geometry=[shapely.Point(103.0, 36.0)], crs=4326)
    return compute_parks(parks_, landcover=tif, legend="igbp", redline=red, transport={"airport": air})


def test_rank_on_engine_output(tmp_path):
    df = engine_parks(tmp_path)
    assert siting.default_criteria(df) == ["carbon_at_stake_tc_per_ha", "carbon_sink_tco2_ha_yr",
                                           "dist_airport_km", "redline_overlap_pct"]
    # the sink per hectare of the land with data: barren 0 t CO2/ha/yr for a; the total over its hectares
    sink = df.set_index("park_id")
    assert sink.loc["b", "carbon_sink_tco2_ha_yr"] == pytest.approx(
        sink.loc["b", "carbon_sink_tco2_yr"] / (sink.loc["b", "lc_grassland_km2"] * 100), rel=1e-9)
    # at stake per ha (province defaults, no zones): barren 0.2 × 0.5 × 16 = 1.6 t C/ha < grassland
    # 2.841 + 0.1 × 85.4 = 11.381 → on carbon alone a (barren) is the better site
    assert df.set_index("park_id").loc["a", "carbon_at_stake_tc_per_ha"] == pytest.approx(1.6, rel=1e-9)
    assert df.set_index("park_id").loc["b", "carbon_at_stake_tc_per_ha"] == pytest.approx(11.381, rel=1e-9)
    assert siting.rank(df, {"carbon_at_stake_tc_per_ha": 1})["park_id"].tolist()[:2] == ["a", "b"]
    r = siting.rank(df, {"carbon_at_stake_tc_per_ha": 1})
    # c overlaps the red line: excluded; a (barren, 1.6 t C/ha at stake) before b (grassland, 11.381)
    assert r["park_id"].tolist() == ["a", "b", "c"]
    assert r["rank"].tolist()[:2] == [1.0, 2.0] and math.isnan(r["rank"].iloc[2])
    assert r["excluded"].tolist() == [False, False, True] and "km²" in r["exclusion_reason_en"].iloc[2]
    # airport distance: a is nearer (lower is better) → a wins on distance alone
    r = siting.rank(df, {"dist_airport_km": 1})
    assert r["park_id"].tolist()[:2] == ["a", "b"]

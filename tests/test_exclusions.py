"""Exclusion layers and the compliance check on hand-computed cases with real GeoDataFrames.

Expected areas and distances are computed independently of the module: areas with pyproj.Geod's
polygon area on the ellipsoid (or in closed form for the buffer ring), distances with Geod.inv.
The reserve cases are drawn in an azimuthal equidistant CRS centred between reserve and park, where
the x axis through the centre is a geodesic: a 300 m gap on it is 300 m on the ellipsoid.
"""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from core.errors import InputError
from indicators.exclusions import EXCLUSION_KINDS, EXCLUSION_LABELS, compliance, exclusion_measures

GEOD = pyproj.Geod(ellps="WGS84")
AEQD = pyproj.CRS.from_proj4("+proj=aeqd +lat_0=36 +lon_0=104 +ellps=WGS84 +units=m +no_defs")
RESERVE = shapely.box(-5000, -1000, -150, 1000)  # its east edge 150 m west of the centre


def _geod_km2(g) -> float:
    return abs(GEOD.geometry_area_perimeter(g)[0]) / 1e6


def _gs(geoms, crs=4326):
    return gpd.GeoSeries(list(geoms), crs=crs)


def _dense(g):
    """Edges every 0.001°: the module (Albers, straight chords) and Geod (geodesic edges) then
    measure the same lon/lat outline to ~1e-8."""
    return shapely.segmentize(g, 0.001)


# --- overlap -------------------------------------------------------------------------------------
def test_park_half_inside_a_red_line_square():
    park = _dense(shapely.box(104.05, 36.02, 104.15, 36.08))
    red = _dense(shapely.box(104.0, 36.0, 104.1, 36.1))  # covers the park's western half
    red_utm = gpd.GeoDataFrame(geometry=_gs([red]).to_crs(32648))  # the red line comes in UTM 48N
    out = exclusion_measures(_gs([park]), red_utm, "redline")
    expected = _geod_km2(park.intersection(red))  # ~30 km²
    assert out["excl_redline_overlap_km2"].iloc[0] == pytest.approx(expected, rel=1e-7)
    assert out["excl_redline_overlap_pct"].iloc[0] == pytest.approx(50.0, abs=1e-6)
    assert out["excl_redline_dist_km"].iloc[0] == 0.0
    assert out["excl_redline_buffer_km2"].iloc[0] == 0.0
    assert out["excl_redline_verdict"].iloc[0] == "conflict"
    assert list(out.columns[:5]) == ["excl_redline_overlap_km2", "excl_redline_overlap_pct", "excl_redline_dist_km",
                                     "excl_redline_buffer_km2", "excl_redline_verdict"]


def test_two_overlapping_layer_polygons_are_counted_once():
    park = _dense(shapely.box(104.05, 36.02, 104.15, 36.08))
    a = _dense(shapely.box(104.0, 36.0, 104.1, 36.05))
    b = _dense(shapely.box(104.08, 36.03, 104.12, 36.2))  # overlaps a and the park
    out = exclusion_measures(_gs([park]), gpd.GeoDataFrame(geometry=_gs([a, b])), "basic_farmland")
    expected = _geod_km2(park.intersection(shapely.union(a, b)))
    separate = _geod_km2(park.intersection(a)) + _geod_km2(park.intersection(b))
    assert separate > expected * 1.05  # counting each polygon would be visibly wrong
    assert out["excl_basic_farmland_overlap_km2"].iloc[0] == pytest.approx(expected, rel=1e-7)
    assert out["excl_basic_farmland_overlap_pct"].iloc[0] == pytest.approx(100 * expected / _geod_km2(park), rel=1e-7)


def test_invalid_layer_geometry_is_repaired_and_said():
    # bow-tie: two triangles meeting at the park's centre; with the park it shares both of them
    x0, y0, x1, y1 = 104.0, 36.0, 104.02, 36.02
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])
    assert not bowtie.is_valid
    park = _dense(shapely.box(x0, y0, x1, y1))  # (a densified bow-tie is not repaired the same way by GEOS)
    out = exclusion_measures(_gs([park]), _gs([bowtie]), "urban_boundary")
    expected = _geod_km2(shapely.make_valid(bowtie))  # about half the park
    assert out["excl_urban_boundary_overlap_km2"].iloc[0] == pytest.approx(expected, rel=1e-6)
    assert out["excl_urban_boundary_overlap_pct"].iloc[0] == pytest.approx(50.0, abs=1e-5)
    assert out["excl_urban_boundary_note_en"].iloc[0] == "1 invalid geometries of the urban development boundary layer repaired"
    assert out["excl_urban_boundary_note_zh"].iloc[0] == "城镇开发边界图层中 1 个无效几何已修复"


# --- distance and buffer ---------------------------------------------------------------------------
def test_park_300_m_from_a_reserve_is_within_a_500_m_buffer():
    park = shapely.box(150, -1000, 2150, 1500)  # 300 m east of the reserve, 500 m taller than it
    out = exclusion_measures(_gs([park], AEQD), _gs([RESERVE], AEQD), "reserve", buffer_m=500)
    to_ll = pyproj.Transformer.from_crs(AEQD, 4326, always_xy=True)
    (lon1, lon2), (lat1, lat2) = to_ll.transform([-150.0, 150.0], [0.0, 0.0])
    gap_m = GEOD.inv(lon1, lat1, lon2, lat2)[2]
    assert gap_m == pytest.approx(300.0, abs=1e-6)
    assert out["excl_reserve_dist_km"].iloc[0] == pytest.approx(gap_m / 1000, rel=1e-6)
    # ring ∩ park: the 200 m × 2000 m strip beside the reserve, plus, above the reserve's corner
    # (-150, 1000), the part of the 500 m disc over x in [150, 350]: ∫_300^500 sqrt(500² − u²) du
    r = 500.0
    disc = lambda u: (u * math.sqrt(r * r - u * u) + r * r * math.asin(u / r)) / 2  # noqa: E731
    expected = (200 * 2000 + disc(500) - disc(300)) / 1e6  # 0.45591 km²
    # the buffer's arcs are inscribed polygons (64 segments a quarter): ~12 m² short here, 2.6e-5
    assert out["excl_reserve_buffer_km2"].iloc[0] == pytest.approx(expected, rel=5e-5)
    assert out["excl_reserve_overlap_km2"].iloc[0] == 0.0
    assert out["excl_reserve_verdict"].iloc[0] == "within_buffer"


def test_buffer_ring_leaves_out_the_part_inside_the_layer():
    straddling = shapely.box(-650, -500, 350, 500)  # 500 m inside the reserve, 500 m outside
    out = exclusion_measures(_gs([straddling], AEQD), _gs([RESERVE], AEQD), "reserve", buffer_m=500)
    row = out.iloc[0]
    assert row["excl_reserve_overlap_km2"] == pytest.approx(0.5, rel=1e-6)
    assert row["excl_reserve_overlap_pct"] == pytest.approx(50.0, rel=1e-6)
    assert row["excl_reserve_buffer_km2"] == pytest.approx(0.5, rel=1e-6)  # all of the outside half, none inside
    assert row["excl_reserve_dist_km"] == 0.0
    assert row["excl_reserve_verdict"] == "conflict"


def test_park_800_m_away_is_clear_and_no_buffer_means_clear():
    far = shapely.box(650, -1000, 2650, 1500)
    near = shapely.box(150, -1000, 2150, 1500)
    out = exclusion_measures(_gs([far, near], AEQD), _gs([RESERVE], AEQD), "reserve", buffer_m=500)
    assert out["excl_reserve_dist_km"].iloc[0] == pytest.approx(0.8, rel=1e-6)
    assert out["excl_reserve_buffer_km2"].iloc[0] == 0.0
    assert list(out["excl_reserve_verdict"]) == ["clear", "within_buffer"]
    # without a buffer, the park 300 m away and one touching the reserve are clear, with no ring (the
    # shared edge, reprojected vertex by vertex, leaves a ~0.001 m² sliver: not a conflict)
    touching = shapely.box(-150, -1000, 1850, 1500)
    out0 = exclusion_measures(_gs([near, touching], AEQD), _gs([RESERVE], AEQD), "reserve")
    assert list(out0["excl_reserve_verdict"]) == ["clear", "clear"]
    assert list(out0["excl_reserve_buffer_km2"]) == [0.0, 0.0]
    assert out0["excl_reserve_dist_km"].iloc[0] == pytest.approx(0.3, rel=1e-6)
    assert out0["excl_reserve_dist_km"].iloc[1] == 0.0
    assert out0["excl_reserve_overlap_km2"].iloc[1] == 0.0


def test_empty_layer_is_clear_with_no_distance_and_a_note():
    park = shapely.box(104.05, 36.02, 104.15, 36.08)
    out = exclusion_measures(_gs([park]), gpd.GeoDataFrame(geometry=_gs([])), "wetland_park", buffer_m=1000)
    row = out.iloc[0]
    assert row["excl_wetland_park_verdict"] == "clear"
    assert np.isnan(row["excl_wetland_park_dist_km"])
    assert row["excl_wetland_park_overlap_km2"] == 0.0 and row["excl_wetland_park_buffer_km2"] == 0.0
    assert row["excl_wetland_park_note_en"] == "wetland park layer is empty (no polygons): not checked, counted as clear"
    assert row["excl_wetland_park_note_zh"] == "湿地公园图层为空（没有面要素），未检查，按无冲突计"


# --- the compliance check ---------------------------------------------------------------------------
def test_compliance_takes_the_worst_verdict_and_names_the_layers():
    parks = _gs([shapely.box(150, -1000, 2150, 1500),   # A: red line overlap and within the reserve buffer
                 shapely.box(150, -4000, 2150, -3000),  # B: 250 m from a second reserve polygon
                 shapely.box(650, 3000, 2650, 4000)],   # C: far from both
                AEQD).to_crs(4326)
    parks.index = ["A", "B", "C"]
    red = gpd.GeoDataFrame(geometry=_gs([shapely.box(2000, 0, 3000, 500)], AEQD))  # 150 m × 500 m of A
    reserve = gpd.GeoDataFrame(geometry=_gs([RESERVE, shapely.box(-5000, -4200, -100, -3500)], AEQD))
    out = compliance(parks, [("redline", red, 0), ("reserve", reserve, 500)])
    assert list(out.index) == ["A", "B", "C"]
    assert list(out["excl_redline_verdict"]) == ["conflict", "clear", "clear"]
    assert list(out["excl_reserve_verdict"]) == ["within_buffer", "within_buffer", "clear"]
    assert list(out["compliance_verdict"]) == ["conflict", "within_buffer", "clear"]
    assert out.loc["A", "excl_redline_overlap_km2"] == pytest.approx(0.075, rel=1e-4)
    assert out.loc["B", "excl_reserve_dist_km"] == pytest.approx(0.25, rel=1e-4)
    assert out.loc["A", "compliance_reason_zh"] == ("冲突：生态保护红线（重叠 0.075 km²，1.50%）；"
                                                     "缓冲区内：自然保护地（相距 0.3 km，缓冲 500 m）")
    assert out.loc["A", "compliance_reason_en"] == ("conflict with ecological protection red line (0.075 km² overlap, "
                                                     "1.50%); within the buffer of protected area (0.3 km away, "
                                                     "buffer 500 m)")
    assert out.loc["B", "compliance_reason_en"] == "within the buffer of protected area (0.25 km away, buffer 500 m)"
    assert out.loc["C", "compliance_reason_zh"] == "无冲突（已检查：生态保护红线、自然保护地）"
    assert out.loc["C", "compliance_reason_en"] == "clear (checked: ecological protection red line, protected area)"


def test_compliance_with_an_empty_layer_says_it_was_not_checked():
    parks = _gs([shapely.box(104.05, 36.02, 104.15, 36.08)])
    red = _gs([shapely.box(104.0, 36.0, 104.1, 36.1)])
    out = compliance(parks, [("redline", red, 0), ("wetland_park", _gs([], 3857), 200)])
    assert out["compliance_verdict"].iloc[0] == "conflict"
    assert out["compliance_reason_en"].iloc[0].endswith("; empty layer, not checked: wetland park")
    assert out["compliance_reason_zh"].iloc[0].endswith("；图层为空、未检查：湿地公园")


def test_same_kind_twice_is_merged_or_refused():
    parks = _gs([shapely.box(150, -1000, 2150, 1500)], AEQD)
    red1 = _gs([shapely.box(2000, 0, 3000, 500)], AEQD)
    red2 = _gs([shapely.box(2000, 0, 3000, 500)], AEQD).to_crs(4326)  # same polygon, another file
    out = compliance(parks, [("redline", red1, 0), ("redline", red2, 0)])
    assert out["excl_redline_overlap_km2"].iloc[0] == pytest.approx(0.075, rel=1e-4)  # once, not twice
    with pytest.raises(InputError, match="different buffers"):
        compliance(parks, [("redline", red1, 0), ("redline", red2, 100)])


def test_kinds_labels_and_input_errors():
    assert EXCLUSION_KINDS == ("redline", "basic_farmland", "urban_boundary", "reserve", "wetland_park", "other")
    assert [EXCLUSION_LABELS[k].zh for k in EXCLUSION_KINDS] == ["生态保护红线", "永久基本农田", "城镇开发边界",
                                                                 "自然保护地", "湿地公园", "其他"]
    park = _gs([shapely.box(104.0, 36.0, 104.1, 36.1)])
    layer = _gs([shapely.box(104.0, 36.0, 104.1, 36.1)])
    with pytest.raises(InputError, match="unknown exclusion kind"):
        exclusion_measures(park, layer, "forest")
    with pytest.raises(InputError, match="non-negative"):
        exclusion_measures(park, layer, "reserve", buffer_m=-5)
    with pytest.raises(InputError, match="protected area layer has no CRS"):
        exclusion_measures(park, gpd.GeoSeries([shapely.box(0, 0, 1, 1)]), "reserve")
    with pytest.raises(InputError, match="at least one exclusion layer"):
        compliance(park, [])


def test_a_park_belongs_inside_the_urban_development_boundary():
    """三区三线: industrial construction belongs inside 城镇开发边界, so the part outside conflicts —
    the other way round from the red line. A 600 m park in UTM with its eastern third outside."""
    import geopandas as gpd
    import shapely

    utm = "EPSG:32648"
    parks = gpd.GeoSeries([shapely.box(500_000, 4_000_000, 500_600, 4_000_600),
                           shapely.box(500_100, 4_000_100, 500_300, 4_000_300)], crs=utm)
    boundary = gpd.GeoDataFrame(geometry=[shapely.box(499_000, 3_999_000, 500_400, 4_001_000)], crs=utm)
    out = exclusion_measures(parks, boundary, "urban_boundary")
    assert out["excl_urban_boundary_verdict"].tolist() == ["conflict", "clear"]
    assert out["excl_urban_boundary_overlap_pct"].tolist() == pytest.approx([400 / 600 * 100, 100.0], rel=1e-6)
    rows = compliance(parks, [("urban_boundary", boundary, 0.0)])
    assert "outside the urban development boundary (33.33% of the park outside it)" in rows["compliance_reason_en"].iloc[0]
    assert rows["compliance_verdict"].tolist() == ["conflict", "clear"]


def test_the_compliance_verdicts_of_a_run_reach_the_siting_pdf():
    """From a run's columns: the red line in use (overlap > 0: conflict) and each exclusion layer's
    verdict, the overall the worst; the Siting PDF prints them in its compliance section."""
    import io

    import pandas as pd
    import pypdf

    import reports
    from indicators import siting
    from indicators.exclusions import verdicts

    ind = pd.DataFrame({"park_id": ["a", "b", "c"], "name": ["Alpha", "Beta", "Gamma"],
                        "redline_overlap_km2": [0.0, 0.0, 0.3], "redline_overlap_pct": [0.0, 0.0, 3.0],
                        "excl_reserve_verdict": ["within_buffer", "clear", "clear"],
                        "excl_urban_boundary_verdict": ["clear", "clear", "conflict"],
                        "dist_airport_km": [10.0, 20.0, 5.0]})
    v = verdicts(ind)
    assert v.columns.tolist() == ["park_id", "redline", "urban_boundary", "reserve", "overall"]
    assert v["overall"].tolist() == ["within_buffer", "clear", "conflict"]
    ranked = siting.rank(ind, {"dist_airport_km": 1}, ["dist_airport_km"])
    pdf = reports.scenario_pdf(scenario="x", ranking=ranked, indicators=ind, lang="en")
    text = " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Compliance check" in text and "urban development boundary" in text
    assert "Beta clear clear clear clear" in text  # every layer clear, and overall
    assert "Alpha clear clear within buffer within buffer" in text

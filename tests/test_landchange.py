"""Land change from a land-cover series (indicators/landchange.py, ldn.py, trend.py, ldn_raster.py,
cli/landchange_cli.py): hand-computed answers.

- Two synthetic CLCD rasters on an equal-area grid (EPSG:6933, 100 m pixels) with known transitions:
  improved / stable / degraded / no-data km² per unit equal a hand sum over the pixels with the
  matrix the tool exports (1e-9 relative), for a unit on pixel edges and one that halves a column
  of pixels; the four add up to the unit's area (no data and the part outside the raster shown).
- On a geographic grid the areas are geodesic (pyproj's Geod on each pixel's polygon).
- A 10-year series with a linear trend gives that Theil–Sen slope exactly.
"""
from __future__ import annotations

import io
import math
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box

from core.errors import InputError
from indicators import landchange as lc
from indicators import ldn, trend
from indicators.ldn_raster import NODATA, write_verdict
from indicators.zonestats import Level
from layers.readers import read_path
from reports.csv import csv_bytes

X0, Y0, PX = 1_000_000.0, 4_000_000.0, 100.0
EA = "EPSG:6933"
# CLCD code -> UNCCD class, written out by hand (the tool goes legend -> canonical -> UNCCD)
CLCD_UNCCD = {1: "cropland", 2: "tree_covered", 3: "grassland", 4: "grassland", 5: "water_body", 6: "other_land",
              7: "other_land", 8: "artificial", 9: "wetland"}


def _write(path, arr, crs=EA, transform=None, nodata=0, **profile):
    transform = transform or from_origin(X0, Y0, PX, PX)
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1, dtype="uint8",
                       crs=crs, transform=transform, nodata=nodata, **profile) as d:
        d.write(arr.astype(np.uint8), 1)
    return str(path)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    d = tmp_path_factory.mktemp("ldn")
    rng = np.random.default_rng(7)
    a = rng.choice([1, 2, 3, 4, 5, 7, 8, 9], size=(12, 12)).astype(np.uint8)
    b = a.copy()
    b[0, :6] = 8
    a[0, :6] = 2  # tree-covered -> artificial: degraded
    a[1, :6] = 7
    b[1, :6] = 2  # other land -> tree-covered: improved
    a[2, :] = 1
    b[2, :] = 4  # cropland -> grassland: degraded in the UNCCD default
    ch = rng.random((12, 12)) < 0.3
    b[ch & (np.arange(12)[:, None] > 3)] = rng.choice([1, 2, 4, 7, 8], size=int((ch & (np.arange(12)[:, None] > 3)).sum()))
    b[11, 8:] = 0  # no data in the second year
    a[10, 10] = 0  # no data in the first year
    return _write(d / "a.tif", a), _write(d / "b.tif", b), a, b


def _units():
    aligned = box(X0, Y0 - 12 * PX, X0 + 6 * PX, Y0)  # columns 0-5, every row
    halved = box(X0 + 6.5 * PX, Y0 - 12 * PX, X0 + 14 * PX, Y0)  # half of column 6, columns 7-11, 2 px outside
    gdf = gpd.GeoDataFrame({"id": ["a", "h"], "parent": ["p", "p"]}, geometry=[aligned, halved], crs=EA)
    return Level("county", ["a", "h"], ["甲", "乙"], ["A", "H"], polygons=gdf)


def _hand(a, b, matrix, cols):
    """(improved, stable, degraded, nodata, area) km² of the pixels in ``cols`` {col: fraction}, plus
    2 px width × 12 rows outside the raster for the halved unit (caller adds)."""
    out = dict(improved=0.0, stable=0.0, degraded=0.0, nodata=0.0)
    px_km2 = PX * PX / 1e6
    for r in range(12):
        for c, f in cols.items():
            if a[r, c] == 0 or b[r, c] == 0:
                out["nodata"] += f * px_km2
                continue
            v = int(matrix.at[CLCD_UNCCD[int(a[r, c])], CLCD_UNCCD[int(b[r, c])]])
            out[{1: "improved", 0: "stable", -1: "degraded"}[v]] += f * px_km2
    return out


def _exported_matrix() -> pd.DataFrame:
    """The matrix as the tool exports it, read back by hand (not by ldn.load_matrix)."""
    df = pd.read_csv(io.BytesIO(csv_bytes(ldn.matrix_table(ldn.load_matrix()))), encoding="utf-8-sig")
    return df.set_index("from")[list(ldn.UNCCD)].astype(int)


def test_verdict_areas_equal_a_hand_sum_and_add_up(pair):
    fa, fb, a, b = pair
    up = lc.unit_pairs(_units(), [], [fa, fb], [2000, 2010], "clcd")
    res = lc.degradation(up, {"baseline": (2000, 2010)})
    m = _exported_matrix()
    expect = {"a": _hand(a, b, m, {c: 1.0 for c in range(6)}),
              "h": _hand(a, b, m, {6: 0.5, **{c: 1.0 for c in range(7, 12)}})}
    expect["h"]["nodata"] += 2 * 12 * PX * PX / 1e6  # the part of the unit outside the raster
    for _, row in res.iterrows():
        e = expect[row["unit_id"]]
        for k in ("improved", "stable", "degraded", "nodata"):
            assert row[f"{k}_km2"] == pytest.approx(e[k], rel=1e-9, abs=1e-12), (row["unit_id"], k)
        total = row[["improved_km2", "stable_km2", "degraded_km2", "nodata_km2"]].sum()
        assert total == pytest.approx(row["area_km2"], rel=1e-12)
        assert row[["improved_pct", "stable_pct", "degraded_pct", "nodata_pct"]].sum() == pytest.approx(100.0, rel=1e-12)
    assert res.loc[res["unit_id"] == "h", "area_km2"].iloc[0] == pytest.approx(7.5 * 12 * 0.01, rel=1e-12)


def test_named_transitions(tmp_path):
    """Same class both years: stable; tree-covered -> artificial: degraded; other land -> tree-covered: improved."""
    a = np.array([[2, 2, 7, 4]], np.uint8)
    b = np.array([[2, 8, 2, 4]], np.uint8)
    fa, fb = _write(tmp_path / "a.tif", a), _write(tmp_path / "b.tif", b)
    poly = gpd.GeoDataFrame(geometry=[box(X0 + k * PX, Y0 - PX, X0 + (k + 1) * PX, Y0) for k in range(4)], crs=EA)
    up = lc.unit_pairs(Level("px", ["same_tree", "tree_art", "other_tree", "same_grass"], list("abcd"), list("abcd"),
                             polygons=poly), [], [fa, fb], [1, 2], "clcd")
    r = lc.degradation(up, {"p": (1, 2)}).set_index("unit_id")
    px = PX * PX / 1e6
    assert r.at["same_tree", "stable_km2"] == pytest.approx(px) and r.at["same_grass", "stable_km2"] == pytest.approx(px)
    assert r.at["tree_art", "degraded_km2"] == pytest.approx(px) and r.at["tree_art", "improved_km2"] == 0
    assert r.at["other_tree", "improved_km2"] == pytest.approx(px) and r.at["other_tree", "degraded_km2"] == 0
    assert r.at["other_tree", "rehabilitated_km2"] == pytest.approx(px)  # barren -> forest


def test_aggregated_level_is_the_sum_of_its_units(pair):
    fa, fb, _, _ = pair
    base = _units()
    prov = Level("province", ["p"], ["省"], ["P"], parent_field="parent")
    up = lc.unit_pairs(base, [prov], [fa, fb], [2000, 2010], "clcd")
    res = lc.degradation(up, {"baseline": (2000, 2010)})
    counties = res[res["level"] == "county"]
    p = res[res["level"] == "province"].iloc[0]
    for c in ("improved_km2", "stable_km2", "degraded_km2", "nodata_km2", "area_km2", "desertified_km2"):
        assert p[c] == pytest.approx(counties[c].sum(), rel=1e-12, abs=1e-15), c


def test_an_edited_matrix_changes_the_verdict(pair):
    fa, fb, a, b = pair
    up = lc.unit_pairs(_units(), [], [fa, fb], [2000, 2010], "clcd")
    m = ldn.load_matrix()
    m.loc["cropland", "grassland"] = 1  # 退耕还草 counted as improvement
    edited = lc.degradation(up, {"b": (2000, 2010)}, matrix=ldn.load_matrix(ldn.matrix_table(m)))
    default = lc.degradation(up, {"b": (2000, 2010)})
    crop_grass = sum(1.0 for c in range(6) if a[2, c] == 1 and b[2, c] == 4) * 0.01  # row 2, unit "a"
    da = default.set_index("unit_id").loc["a"]
    ea = edited.set_index("unit_id").loc["a"]
    assert crop_grass > 0
    assert ea["improved_km2"] - da["improved_km2"] == pytest.approx(crop_grass, rel=1e-9)
    assert da["degraded_km2"] - ea["degraded_km2"] == pytest.approx(crop_grass, rel=1e-9)


def test_bad_matrix_tables_are_refused_in_both_languages():
    t = ldn.matrix_table(ldn.load_matrix())
    t.loc[0, "grassland"] = 2
    with pytest.raises(InputError) as e:
        ldn.load_matrix(t)
    assert "grassland" in e.value.en and "-1–1" in e.value.en and "grassland" in e.value.zh
    with pytest.raises(InputError) as e:
        ldn.load_matrix(ldn.matrix_table(ldn.load_matrix()).iloc[:6])
    assert "water_body" in e.value.en and "缺少" in e.value.zh
    t = ldn.matrix_table(ldn.load_matrix())
    t.loc[t["from"] == "wetland", "wetland"] = -1  # a class kept cannot degrade
    with pytest.raises(InputError) as e:
        ldn.load_matrix(t)
    assert "wetland→wetland is -1" in e.value.en and "对角线" in e.value.zh


def test_geographic_grid_gives_geodesic_areas(tmp_path):
    tr = from_origin(100.0, 40.0, 0.01, 0.01)
    a = np.array([[2, 2], [7, 7]], np.uint8)
    b = np.array([[8, 2], [2, 7]], np.uint8)
    fa = _write(tmp_path / "a.tif", a, "EPSG:4326", tr)
    fb = _write(tmp_path / "b.tif", b, "EPSG:4326", tr)
    poly = gpd.GeoDataFrame(geometry=[box(100.0, 39.98, 100.02, 40.0)], crs="EPSG:4326")
    up = lc.unit_pairs(Level("u", ["u"], ["u"], ["u"], polygons=poly), [], [fa, fb], [1, 2], "clcd")
    r = lc.degradation(up, {"p": (1, 2)}).iloc[0]
    geod = pyproj.Geod(ellps="WGS84")

    def px_km2(row, col):
        w, n = 100.0 + col * 0.01, 40.0 - row * 0.01
        area, _ = geod.polygon_area_perimeter([w, w + 0.01, w + 0.01, w], [n, n, n - 0.01, n - 0.01])
        return abs(area) / 1e6

    assert r["degraded_km2"] == pytest.approx(px_km2(0, 0), rel=1e-9)  # tree -> artificial
    assert r["improved_km2"] == pytest.approx(px_km2(1, 0), rel=1e-9)  # other land -> tree
    assert r["stable_km2"] == pytest.approx(px_km2(0, 1) + px_km2(1, 1), rel=1e-9)
    assert px_km2(0, 0) != pytest.approx(px_km2(1, 0), rel=1e-6)  # rows differ: geodesic, not nominal


def test_ten_year_linear_series_gives_its_theil_sen_slope(tmp_path):
    years = list(range(2011, 2021))
    files = []
    for k, y in enumerate(years):
        arr = np.full((10, 10), 7, np.uint8)  # barren
        arr.flat[: 5 + 3 * k] = 2  # forest grows by 3 px a year
        files.append(_write(tmp_path / f"y{y}.tif", arr))
    poly = gpd.GeoDataFrame(geometry=[box(X0, Y0 - 10 * PX, X0 + 10 * PX, Y0)], crs=EA)
    up = lc.unit_pairs(Level("u", ["u"], ["u"], ["u"], polygons=poly), [], files, years, "clcd")
    traj = lc.trajectories(up)
    f = traj[traj["class"] == "forest"].sort_values("year")
    assert f["area_km2"].tolist() == pytest.approx([(5 + 3 * k) * 0.01 for k in range(10)], rel=1e-12)
    tr = lc.trends(traj).set_index("class")
    assert tr.at["forest", "trend_km2_yr"] == pytest.approx(0.03, rel=1e-12)
    assert tr.at["barren", "trend_km2_yr"] == pytest.approx(-0.03, rel=1e-12)
    # Mann–Kendall by hand: strictly increasing, n = 10: S = 45, Var = 10·9·25/18 = 125
    z = (45 - 1) / math.sqrt(125)
    assert tr.at["forest", "mk_s"] == 45 and tr.at["forest", "mk_p"] == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-12)
    assert tr.at["forest", "n_years"] == 10
    # each unit-year adds up to the unit's area
    per_year = traj.groupby("year")["area_km2"].sum()
    assert np.allclose(per_year.to_numpy(), 1.0, rtol=1e-12)
    # a window: the same slope on any part of a line
    assert lc.trends(traj, (2014, 2018)).set_index("class").at["forest", "trend_km2_yr"] == pytest.approx(0.03, rel=1e-12)


def test_mann_kendall_with_ties_by_hand():
    v = [1.0, 2.0, 2.0, 3.0, 1.0]
    s_hand = sum(np.sign(v[j] - v[i]) for i in range(5) for j in range(i + 1, 5))
    var = (5 * 4 * 15 - (2 * 1 * 9) * 2) / 18  # two groups of two ties
    s, p = trend.mann_kendall(range(5), v)
    assert s == s_hand == 2  # +3 from the first 1, 0, 0, −1 from the 3
    assert p == pytest.approx(math.erfc(((2 - 1) / math.sqrt(var)) / math.sqrt(2)), rel=1e-12)
    assert math.isnan(trend.mann_kendall([1, 2], [1, 2])[1])
    assert trend.theil_sen([2000, 2001, 2003], [1.0, 5.0, 2.0]) == pytest.approx(np.median([4.0, 1 / 3, -1.5]))


def test_grid_mismatch_is_refused_by_name(pair, tmp_path):
    fa, _, a, _ = pair
    other = _write(tmp_path / "shifted_2010.tif", a, transform=from_origin(X0 + 50, Y0, PX, PX))
    with pytest.raises(InputError) as e:
        lc.unit_pairs(_units(), [], [fa, other], [2000, 2010], "clcd", names=["a.tif", "shifted_2010.tif"])
    assert "shifted_2010.tif" in e.value.en and "shifted_2010.tif" in e.value.zh and "transform" in e.value.en


def test_periods_chain_and_non_steps_refused(pair):
    assert lc.chain([(2000, 2010), (2010, 2020)]) == [2000, 2010, 2020]
    assert lc.chain([(2000, 2005), (2010, 2020)]) == [2000, 2005, 2010, 2020]
    with pytest.raises(InputError):
        lc.chain([(2010, 2000)])
    fa, fb, _, _ = pair
    up = lc.unit_pairs(_units(), [], [fa, fb], [2000, 2010], "clcd")
    with pytest.raises(InputError) as e:
        lc.degradation(up, {"x": (2000, 2020)})
    assert "2000–2020" in e.value.en
    with pytest.raises(InputError) as e:
        lc.unit_pairs(_units(), [], [fa, fb], [2000, 2010], "clcd", periods=[(2010, 2000)])
    assert "2010–2000" in e.value.en and "2010–2000" in e.value.zh


def test_a_period_spanning_several_years_in_the_same_pass(tmp_path):
    """A baseline 1→3 of a 3-year series: the direct transition (not the chain 1→2→3), in the one pass
    that also gives the consecutive steps; the trajectories count each year once."""
    a = np.array([[2, 7, 4]], np.uint8)
    b = np.array([[8, 7, 4]], np.uint8)  # year 2: the tree was built on
    c = np.array([[2, 2, 4]], np.uint8)  # year 3: trees again (direct 1→3: stable), barren → tree (improved)
    files = [_write(tmp_path / f"{k}.tif", x) for k, x in enumerate((a, b, c))]
    poly = gpd.GeoDataFrame(geometry=[box(X0, Y0 - PX, X0 + 3 * PX, Y0)], crs=EA)
    up = lc.unit_pairs(Level("u", ["u"], ["u"], ["u"], polygons=poly), [], files, [1, 2, 3], "clcd", periods=[(1, 3)])
    assert up.steps() == [(1, 2), (2, 3), (1, 3)]
    r = lc.degradation(up, {"base": (1, 3), "first": (1, 2)}).set_index("period")
    px = PX * PX / 1e6
    assert r.at["base", "stable_km2"] == pytest.approx(2 * px) and r.at["base", "improved_km2"] == pytest.approx(px)
    assert r.at["base", "degraded_km2"] == 0
    assert r.at["first", "degraded_km2"] == pytest.approx(px)
    traj = lc.trajectories(up)
    assert np.allclose(traj.groupby("year")["area_km2"].sum().to_numpy(), 3 * px, rtol=1e-12)
    f = traj[traj["class"] == "forest"].set_index("year")["area_km2"]
    assert f.tolist() == pytest.approx([px, 0.0, 2 * px])
    back = lc.UnitPairs.from_frame(up.to_frame())
    assert back.periods == [(1, 3)] and back.steps() == up.steps()
    pd.testing.assert_frame_equal(back.pairs.reset_index(drop=True), up.pairs.reset_index(drop=True), check_dtype=False)


def test_verdict_raster_matches_the_pixels_and_its_blocks(pair, tmp_path):
    fa, fb, a, b = pair
    m = _exported_matrix()
    counts = write_verdict(fa, fb, "clcd", tmp_path / "v.tif", rows=5)  # bands of 5 rows: 12 rows cross them
    write_verdict(fa, fb, "clcd", tmp_path / "v_whole.tif")
    with rasterio.open(tmp_path / "v.tif") as s, rasterio.open(tmp_path / "v_whole.tif") as w:
        v = s.read(1)
        assert (v == w.read(1)).all()
        assert s.nodata == NODATA
    for r in range(12):
        for c in range(12):
            want = NODATA if a[r, c] == 0 or b[r, c] == 0 else m.at[CLCD_UNCCD[int(a[r, c])], CLCD_UNCCD[int(b[r, c])]]
            assert v[r, c] == want, (r, c)
    assert counts["nodata"] == int(((a == 0) | (b == 0)).sum())
    assert counts["degraded"] == int((v == -1).sum()) and counts["improved"] == int((v == 1).sum())


def test_cli_writes_the_library_numbers(pair, tmp_path):
    fa, fb, _, _ = pair
    units = tmp_path / "units.gpkg"
    _units().polygons.to_file(units, driver="GPKG")
    out = tmp_path / "deg.csv"
    r = subprocess.run([sys.executable, "-m", "cli", "degradation", "--landcover-series", f"{fa},{fb}",
                        "--years", "2000,2010", "--legend", "clcd", "--units", str(units), "--unit-field", "id",
                        "--baseline", "2000-2010", "--out", str(out), "--out-raster", str(tmp_path / "v.tif")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = pd.read_csv(out, encoding="utf-8-sig", dtype={"unit_id": str})
    read = read_path(str(units), polygons_only=True).gdf.reset_index(drop=True)  # the units as the CLI reads them
    want = lc.degradation(lc.unit_pairs(Level("unit", ["a", "h"], ["a", "h"], ["a", "h"], polygons=read),
                                        [], [fa, fb], [2000, 2010], "clcd"), {"baseline": (2000, 2010)})
    assert got["unit_id"].tolist() == ["a", "h"]
    for c in ("improved_km2", "stable_km2", "degraded_km2", "nodata_km2"):
        assert got[c].to_numpy() == pytest.approx(want[c].to_numpy(), rel=1e-12)
    assert (tmp_path / "deg_matrix.csv").exists() and (tmp_path / "v.tif").exists()
    xl = tmp_path / "deg.xlsx"
    r = subprocess.run([sys.executable, "-m", "cli", "degradation", "--landcover-series", fa, fb, "--years", "2000,2010",
                        "--legend", "clcd", "--units", str(units), "--baseline", "2000-2010", "--out", str(xl)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    head = pd.read_excel(xl, sheet_name="degradation", nrows=0).columns.tolist()
    assert any("退化" in h and "km²" in h for h in head) and "degraded_km2" not in head
    bad = subprocess.run([sys.executable, "-m", "cli", "degradation", "--landcover-series", fa, fb, "--years", "2000,2010",
                          "--legend", "clcd", "--units", str(units), "--baseline", "2000", "--out", str(out)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "YEAR-YEAR" in bad.stderr and "年-年" in bad.stderr


def test_a_nodata_value_that_is_a_legend_code_is_no_data_in_the_table_and_the_raster(tmp_path):
    """A file whose nodata value is 9 (wetland in CLCD): its 9s are no data, not wetland, in both."""
    a = np.array([[2, 9, 4]], np.uint8)
    b = np.array([[8, 9, 4]], np.uint8)
    fa, fb = _write(tmp_path / "a.tif", a, nodata=9), _write(tmp_path / "b.tif", b, nodata=9)
    poly = gpd.GeoDataFrame(geometry=[box(X0, Y0 - PX, X0 + 3 * PX, Y0)], crs=EA)
    up = lc.unit_pairs(Level("u", ["u"], ["u"], ["u"], polygons=poly), [], [fa, fb], [1, 2], "clcd")
    r = lc.degradation(up, {"p": (1, 2)}).iloc[0]
    assert r["nodata_km2"] == pytest.approx(0.01) and r["degraded_km2"] == pytest.approx(0.01)
    counts = write_verdict(fa, fb, "clcd", tmp_path / "v.tif")
    with rasterio.open(tmp_path / "v.tif") as s:
        assert s.read(1).tolist() == [[-1, NODATA, 0]]
    assert counts == {"improved": 0, "stable": 1, "degraded": 1, "nodata": 1}


@pytest.mark.parametrize("crs, codes", [(EA, (0, 1, 2, 4, 7, 8, 9)), ("EPSG:4326", (0, 1, 2, 4, 7, 8, 9)),
                                        ("EPSG:32648", (0, 1, 2, 4, 7, 8, 9)), (EA, tuple(range(0, 40))),
                                        (EA, [(1, 2, 3, 4), (1, 2, 3, 4), tuple(range(100))])])
def test_compact_pair_counting_gives_the_full_pair_codes(tmp_path, monkeypatch, crs, codes):
    """uint8 years are counted on compact pair indices by the compiled counter, all steps of a tile
    in one read (``tilesteps``); the result equals the full pair codes' (PairRaster), also when a
    tile meets more than 256 pairs (40 codes: 1,600 pairs, the step falls back), when only some
    steps do (4, 4 then 100 codes: 1→2 compact, 2→3 and 1→3 fall back), on a geographic grid
    (per-row pixel areas) and on UTM (per-cell pixel areas)."""
    from zonal import tilekernel, tiled, tileplan, tiletask

    rng = np.random.default_rng(3)
    tr = {EA: from_origin(X0, Y0, PX, PX), "EPSG:4326": from_origin(100.0, 40.0, 0.001, 0.001),
          "EPSG:32648": from_origin(500_000.0, 4_400_000.0, 30.0, 30.0)}[crs]
    per_year = codes if isinstance(codes, list) else [codes] * 3
    blocks = dict(tiled=True, blockxsize=16, blockysize=16)  # 48-pixel work tiles read in 16-row bands
    files = [_write(tmp_path / f"{k}.tif", rng.choice(c, size=(90, 70)), crs, tr, **blocks)
             for k, c in enumerate(per_year)]
    monkeypatch.setattr(tilekernel, "BAND_PIXELS", 1)
    with rasterio.open(files[0]) as s:
        b = s.bounds
    w, h = b.right - b.left, b.top - b.bottom
    polys = gpd.GeoSeries([box(b.left + 0.1 * w, b.bottom + 0.13 * h, b.left + 0.77 * w, b.top - 0.05 * h),
                           box(b.left - 0.2 * w, b.bottom + 0.5 * h, b.left + 0.31 * w, b.top + 0.1 * h)], crs=crs)
    kw = dict(extra=[(0, 2)], tile_side=48, split="auto", scheduler="synchronous")
    assert tileplan.plan(polys, files[0], split="auto", tile_side=48, years=files[1:]).split.all()  # tile kernel
    fast = tiled.zonal_transitions(polys, files, [1, 2, 3], **kw)
    monkeypatch.setattr(tiletask, "COMPACT", False)
    full = tiled.zonal_transitions(polys, files, [1, 2, 3], **kw)
    key = ["unit", "year_from", "year_to", "code_from", "code_to"]
    f = fast.pairs.sort_values(key).reset_index(drop=True)
    g = full.pairs.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(f[key], g[key])
    np.testing.assert_allclose(f["area_m2"], g["area_m2"], rtol=1e-12)
    assert set(f["year_from"].astype(str) + f["year_to"].astype(str)) == {"12", "23", "13"}


def test_a_legend_csv_is_used_even_when_named_like_a_built_in(tmp_path):
    """A custom legend file called clcd.csv (code 3 = forest, not shrub) is the legend used by every
    step, not the built-in CLCD: forest → code 3 is stable."""
    legend = tmp_path / "clcd.csv"
    legend.write_text("code,class\n2,forest\n3,forest\n7,barren\n", encoding="utf-8")
    fa = _write(tmp_path / "a.tif", np.array([[2, 7]], np.uint8))
    fb = _write(tmp_path / "b.tif", np.array([[3, 7]], np.uint8))
    poly = gpd.GeoDataFrame(geometry=[box(X0, Y0 - PX, X0 + 2 * PX, Y0)], crs=EA)
    up = lc.unit_pairs(Level("u", ["u"], [None], [None], polygons=poly), [], [fa, fb], [1, 2], str(legend))
    r = lc.degradation(up, {"p": (1, 2)}).iloc[0]
    assert r["stable_km2"] == pytest.approx(0.02) and r["degraded_km2"] == 0
    back = lc.UnitPairs.from_frame(up.to_frame())
    assert lc.degradation(back, {"p": (1, 2)}).iloc[0]["stable_km2"] == pytest.approx(0.02)
    tr = lc.trends(lc.trajectories(up))
    assert set(tr["class"]) >= {"forest", "barren"}  # a unit without a name is kept
    assert tr["trend_km2_yr"].isna().all()  # two years: no trend


def test_years_given_out_of_order_run_forward(pair):
    fa, fb, _, _ = pair
    fwd = lc.degradation(lc.unit_pairs(_units(), [], [fa, fb], [2000, 2010], "clcd"), {"p": (2000, 2010)})
    rev = lc.degradation(lc.unit_pairs(_units(), [], [fb, fa], [2010, 2000], "clcd"), {"p": (2000, 2010)})
    pd.testing.assert_frame_equal(fwd, rev)


def test_verdict_tiles_show_every_verdict_in_its_colour(pair, tmp_path):
    """The Targets page draws the verdict as tiles of its COG (MODE overviews): at the native zoom
    each sampled tile pixel has the colour of the verdict under its centre (−1 degraded included:
    negative codes have colours too), no data transparent."""
    import io
    import math

    from PIL import Image

    from layers import cog, tiles

    fa, fb, _, _ = pair
    counts = write_verdict(fa, fb, "clcd", tmp_path / "v.tif")
    out = cog.write_cog(tmp_path / "v.tif", tmp_path / "v.cog.tif", classes=True)
    colors = {1: "#1a9850", 0: "#ffffbf", -1: "#d73027"}
    rgb = {tuple(int(h[i:i + 2], 16) for i in (1, 3, 5)): k for k, h in colors.items()}
    with rasterio.open(out) as src:
        v = src.read(1)
        to_src = pyproj.Transformer.from_crs("EPSG:4326", src.crs, always_xy=True)
        to_ll = pyproj.Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True)
        inv = ~src.transform
        z = tiles.native_zoom(out) + 2
        x, y = tiles.tile_of(*to_ll.transform(*(src.transform @ (src.width / 2, src.height / 2))), z)
        img = np.asarray(Image.open(io.BytesIO(tiles.render_tile(out, z, x, y, colors=colors))).convert("RGBA"))
        seen, n = set(), 2 ** z * tiles.TILE
        for py in range(2, 256, 4):
            for px in range(2, 256, 4):
                gx, gy = x * tiles.TILE + px + 0.5, y * tiles.TILE + py + 0.5
                lon = gx / n * 360.0 - 180.0
                lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * gy / n))))
                c, r = (math.floor(q) for q in inv @ to_src.transform(lon, lat))
                if not (0 <= r < src.height and 0 <= c < src.width):
                    continue
                code, pix = int(v[r, c]), img[py, px]
                if code in colors:
                    if abs((inv @ to_src.transform(lon, lat))[0] % 1 - 0.5) < 0.45:  # away from a column edge
                        assert pix[3] == 255 and rgb[tuple(int(q) for q in pix[:3])] == code, (px, py, code)
                        seen.add(code)
                else:
                    assert pix[3] == 0
    assert seen == {-1, 0, 1} and counts["degraded"] >= 1


def test_cli_workspace_uses_the_series_in_use_and_the_page_levels(tmp_path):
    """gansu degradation --workspace: the series registered with gansu workspace add-series, the
    default counties read and the prefectures and province summed — the county rows equal a run on
    the same files with --units (the counties), every level adds up."""
    from core import paths as cpaths
    from tests import landchange_fixtures as lf

    files = lf.write_series(tmp_path / "lc")
    env = {**__import__("os").environ, "GANSU_STORE": str(tmp_path / "s.duckdb")}
    add = subprocess.run([sys.executable, "-m", "cli", "workspace", "add-series",
                          *[f"{y}={p}" for y, p in files.items()], "--legend", "clcd", "--use"],
                         capture_output=True, text=True, env=env)
    assert add.returncode == 0, add.stderr
    ws_out, files_out = tmp_path / "ws.csv", tmp_path / "files.csv"
    r = subprocess.run([sys.executable, "-m", "cli", "degradation", "--workspace", "--baseline", "2000-2010",
                        "--reporting", "2010-2020", "--out", str(ws_out)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "cli", "degradation", "--landcover-series",
                        ",".join(str(p) for p in files.values()), "--years", "2000,2010,2020", "--legend", "clcd",
                        "--units", str(cpaths.gpkg_path()), "--layer", "counties", "--unit-field", "adcode",
                        "--baseline", "2000-2010", "--reporting", "2010-2020", "--out", str(files_out)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    w = pd.read_csv(ws_out, encoding="utf-8-sig", dtype={"unit_id": str})
    f = pd.read_csv(files_out, encoding="utf-8-sig", dtype={"unit_id": str})
    wc = w[w["level"] == "county"].set_index(["unit_id", "period"]).sort_index()
    fc = f.set_index(["unit_id", "period"]).sort_index()
    assert len(wc) == len(fc) > 100 and (wc["degraded_km2"] > 0).sum() >= 3
    for c in ("improved_km2", "stable_km2", "degraded_km2", "nodata_km2", "area_km2"):
        np.testing.assert_allclose(wc[c].to_numpy(), fc[c].to_numpy(), rtol=1e-9, err_msg=c)
    prov = w[w["level"] == "province"].set_index("period")
    for c in ("improved_km2", "degraded_km2", "area_km2"):
        np.testing.assert_allclose(prov[c].sort_index().to_numpy(),
                                   wc.groupby("period")[c].sum().sort_index().to_numpy(), rtol=1e-12, err_msg=c)
    assert set(w["level"]) >= {"county", "prefecture", "zone", "province"}

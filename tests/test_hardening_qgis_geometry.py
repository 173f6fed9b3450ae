"""Files a planner's QGIS opens, read right or offered as a choice — the geometry and CRS classes:
layers with a few null geometries or null shape records, GeometryCollections of polygons,
ESRI-flavoured WKT ``.prj`` files as ArcGIS and Chinese software write them, Gauss–Krüger and
lon/lat files with swapped axes (the swap offered), a GeoJSON of 2 million vertices, and the
"outside Gansu" note for polygons cut at the antimeridian. Upload path and command line alike;
see ``test_hardening_qgis`` for the formats. Areas against the closed-form ellipsoid cell
(``cell_km2``): 1e-6 near Gansu.
"""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from affine import Affine

from core import crs
from core.geom import geodesic_area_km2
from layers import readers
from tests.hostile import corpus
from tests.test_hardening_peers import assert_cli_refused, cell_km2, cli, geojson, gpkg, notes_en, notes_zh, put

pytestmark = pytest.mark.slow  # a long file: handed out first (tests/conftest.py)

PEERS = Path(__file__).resolve().parent / "data" / "peers"
LON, LAT = corpus.LON, corpus.LAT
BOX = shapely.box(LON, LAT, LON + 0.03, LAT + 0.02)
BOX_KM2 = cell_km2(LON, LAT, LON + 0.03, LAT + 0.02)
BOX2 = shapely.box(LON + 0.1, LAT, LON + 0.12, LAT + 0.01)
BOX2_KM2 = cell_km2(LON + 0.1, LAT, LON + 0.12, LAT + 0.01)
PARIS = shapely.box(2.35, 48.85, 2.36, 48.86)
PARIS_KM2 = cell_km2(2.35, 48.85, 2.36, 48.86)


def same(a, b, tol: float = 1e-9) -> bool:
    """The same polygon to ``tol`` degrees, whatever its ring's start and orientation."""
    return bool(shapely.hausdorff_distance(a, b) < tol)


@pytest.fixture(scope="module")
def landcover(tmp_path_factory) -> Path:
    """IGBP grassland (10) around Baiyin, nodata 255."""
    p = tmp_path_factory.mktemp("lc") / "lc.tif"
    p.write_bytes(corpus.tif(data=np.full((200, 200), 10, "uint8"), transform=Affine(0.01, 0, 103.5, 0, -0.01, 37.5)))
    return p


# === a few null geometries / null shape records ========================================================
NULL_EN = "row(s) 2, 4 have no geometry (null or empty): skipped, 2 in all"
NULL_ZH = "第 2, 4 行没有几何（空几何），已跳过，共 2 行"


def _null_shapefile() -> dict[str, bytes]:
    g = gpd.GeoDataFrame({"name": ["甲", "空一", "乙", "空二", "巴黎"]}, geometry=[BOX, None, BOX2, None, PARIS], crs=4326)
    parts = corpus.shp_parts(g)
    shp, shx = parts["p.shp"], parts["p.shx"]
    for rec in (1, 3):  # rows 2 and 4 really are null shape records (shape type 0)
        offset = int.from_bytes(shx[100 + 8 * rec:104 + 8 * rec], "big") * 2
        assert int.from_bytes(shp[offset + 8:offset + 12], "little") == 0
    return parts


def test_null_shape_records_skipped_with_a_note_upload():
    res = readers.read_vector("nulls.zip", corpus.zip_bytes(_null_shapefile()))
    assert res.gdf["name"].tolist() == ["甲", "乙", "巴黎"]
    assert NULL_EN in notes_en(res) and NULL_ZH in notes_zh(res)
    assert "note: row(s) 5 lie outside Gansu" in notes_en(res)  # rows keep their number in the file
    np.testing.assert_allclose(crs.equal_area_km2(res.gdf), [BOX_KM2, BOX2_KM2, PARIS_KM2], rtol=1e-6)


def test_null_geometries_geojson_upload():
    fc = json.loads(geojson([BOX, BOX2, BOX2, BOX]))
    fc["features"][1]["geometry"] = None
    fc["features"][3]["geometry"] = {"type": "Polygon", "coordinates": []}  # empty
    res = readers.read_vector("nulls.geojson", json.dumps(fc).encode())
    assert res.gdf["name"].tolist() == ["p1", "p3"] and NULL_EN in notes_en(res)


def test_null_shape_records_skipped_cli(tmp_path, landcover, capsys):
    folder = tmp_path / "shp"
    for name, blob in _null_shapefile().items():
        put(folder, name, blob)
    code, err, got = cli(tmp_path, folder / "p.shp", landcover, capsys)
    assert code == 0, err
    assert NULL_EN in err and NULL_ZH in err and "row(s) 5 lie outside Gansu" in err
    assert got["name"].tolist() == ["甲", "乙", "巴黎"]
    np.testing.assert_allclose(got["area_km2"].to_numpy(float), [BOX_KM2, BOX2_KM2, PARIS_KM2], rtol=1e-6)


# === GeometryCollections holding polygons ============================================================
def _collections() -> bytes:
    left, right = shapely.box(LON + 0.1, LAT, LON + 0.11, LAT + 0.01), shapely.box(LON + 0.11, LAT, LON + 0.12, LAT + 0.01)
    feats = [shapely.GeometryCollection([BOX, shapely.Point(LON, LAT)]),  # a polygon and its label point
             shapely.GeometryCollection([left, right]),  # two halves: their union is BOX2
             PARIS]
    return geojson(feats)


GC_EN = "row(s) 1, 2: geometry collection read as its polygons; 1 point/line part(s) dropped"
GC_ZH = "第 1, 2 行为几何集合，已取其中的面，其余 1 个点/线部分已舍去"


def test_geometry_collections_of_polygons_upload():
    res = readers.read_vector("gc.geojson", _collections())
    assert GC_EN in notes_en(res) and GC_ZH in notes_zh(res)
    assert res.gdf.geom_type.tolist() == ["Polygon", "Polygon", "Polygon"]
    assert shapely.equals(res.gdf.geometry.values[1], BOX2)
    np.testing.assert_allclose(crs.equal_area_km2(res.gdf), [BOX_KM2, BOX2_KM2, PARIS_KM2], rtol=1e-6)


def test_geometry_collections_of_polygons_cli_geojson_and_csv(tmp_path, landcover, capsys):
    code, err, got = cli(tmp_path, put(tmp_path, "gc.geojson", _collections()), landcover, capsys)
    assert code == 0, err
    assert GC_EN in err
    np.testing.assert_allclose(got["area_km2"].to_numpy(float), [BOX_KM2, BOX2_KM2, PARIS_KM2], rtol=1e-6)
    wkt = shapely.GeometryCollection([BOX, shapely.LineString([(LON, LAT), (LON + 1, LAT)])]).wkt
    code, err, got = cli(tmp_path, put(tmp_path, "gc.csv", f'name,wkt\n甲,"{wkt}"\n'.encode()), landcover, capsys)
    assert code == 0, err
    assert "row(s) 1: geometry collection read as its polygons; 1 point/line part(s) dropped" in err
    assert got["area_km2"].iloc[0] == pytest.approx(BOX_KM2, rel=1e-6)


# === ESRI-flavoured WKT .prj ==========================================================================
G2000 = ('GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,'
         '298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')
X80 = ('GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],'
       'UNIT["Degree",0.0174532925199433]]')
B54 = ('GEOGCS["GCS_Beijing_1954",DATUM["D_Beijing_1954",SPHEROID["Krasovsky_1940",6378245.0,298.3]],'
       'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')
W84 = ('GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
       'UNIT["Degree",0.0174532925199433]]')


def _tm(name, geog, fe, cm, proj="Gauss_Kruger", k=1.0):
    """A projected .prj as ArcGIS writes it."""
    return (f'PROJCS["{name}",{geog},PROJECTION["{proj}"],PARAMETER["False_Easting",{fe}],'
            f'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",{cm}],PARAMETER["Scale_Factor",{k}],'
            'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')


QINGYANG = 107.6  # eastern Gansu: in 3° zone 36 (108°E)
# id: (.prj bytes, EPSG the coordinates are written in, EPSG expected as the source CRS or None, west edge)
PRJ = {
    "cgcs2000_geographic": (G2000.encode(), 4490, "EPSG:4490", LON),
    "cgcs2000_gk_zone35_fe35500000": (_tm("CGCS2000_3_Degree_GK_Zone_35", G2000, 35500000.0, 105.0).encode(), 4523,
                                      "EPSG:4523", LON),
    "cgcs2000_gk_zone36_fe36500000": (_tm("CGCS2000_3_Degree_GK_Zone_36", G2000, 36500000.0, 108.0).encode(), 4524,
                                      "EPSG:4524", QINGYANG),
    "cgcs2000_gk_cm105e": (_tm("CGCS2000_3_Degree_GK_CM_105E", G2000, 500000.0, 105.0).encode(), 4544, "EPSG:4544", LON),
    "cgcs2000_6deg_zone18": (_tm("CGCS2000_GK_Zone_18", G2000, 18500000.0, 105.0).encode(), 4496, "EPSG:4496", LON),
    "xian1980_gk_zone35": (_tm("Xian_1980_3_Degree_GK_Zone_35", X80, 35500000.0, 105.0).encode(), 2359, "EPSG:2359",
                           LON),
    "beijing1954_gk_cm105e": (_tm("Beijing_1954_3_Degree_GK_CM_105E", B54, 500000.0, 105.0).encode(), 2432, "EPSG:2432",
                              LON),
    "wgs84_utm48n": (_tm("WGS_1984_UTM_Zone_48N", W84, 500000.0, 105.0, "Transverse_Mercator", 0.9996).encode(), 32648,
                     "EPSG:32648", LON),
    # what Chinese software and hand edits write
    "gbk_chinese_name": (_tm("CGCS2000_3度带_35带", G2000, 35500000.0, 105.0).encode("gbk"), 4523, None, LON),
    "gauss_hyphen_kruger": (_tm("CGCS2000_35", G2000, 35500000.0, 105.0, "Gauss-Kruger").encode(), 4523, None, LON),
    "gauss_krueger": (_tm("CGCS2000_35", G2000, 35500000.0, 105.0, "Gauss_Krueger").encode(), 4523, None, LON),
    "wkt2": (pyproj.CRS.from_epsg(4523).to_wkt().encode(), 4523, "EPSG:4523", LON),
    "proj_string": (b"+proj=tmerc +lat_0=0 +lon_0=105 +k=1 +x_0=35500000 +y_0=0 +ellps=GRS80 +units=m +no_defs",
                    4523, None, LON),
}


def _prj_case(case: str) -> tuple[dict[str, bytes], shapely.Polygon]:
    prj, epsg, _, west = PRJ[case]
    box = shapely.box(west, LAT, west + 0.03, LAT + 0.02)
    local = gpd.GeoSeries([box], crs=4326).to_crs(epsg).values[0]  # written by PROJ from the EPSG definition
    parts = corpus.shp_parts(gpd.GeoDataFrame({"name": ["甲"]}, geometry=[local], crs=epsg))
    parts["p.prj"] = prj
    return parts, box


@pytest.mark.parametrize("case", list(PRJ))
def test_esri_and_chinese_prj_read_right_upload(case):
    parts, box = _prj_case(case)
    res = readers.read_vector("p.zip", corpus.zip_bytes(parts))
    expected = PRJ[case][2]
    if expected:
        assert res.source_crs == expected
    # back where it was: the .prj's parameters equal the EPSG definition the coordinates came from
    assert same(res.gdf.geometry.values[0], box)
    assert "no coordinate reference system" not in notes_en(res)


@pytest.mark.parametrize("case", ["cgcs2000_gk_zone36_fe36500000", "xian1980_gk_zone35", "gbk_chinese_name",
                                  "gauss_hyphen_kruger", "wkt2", "proj_string"])
def test_esri_and_chinese_prj_read_right_cli(case, tmp_path, landcover, capsys):
    parts, box = _prj_case(case)
    folder = tmp_path / "shp"
    for name, blob in parts.items():
        put(folder, name, blob)
    code, err, got = cli(tmp_path, folder / "p.shp", landcover, capsys)
    assert code == 0, err
    x0, y0, x1, y1 = box.bounds
    assert got["area_km2"].iloc[0] == pytest.approx(cell_km2(x0, y0, x1, y1), rel=1e-6)


def test_prj_quirks_are_named_in_notes():
    notes = {c: notes_en(readers.read_vector("p.zip", corpus.zip_bytes(_prj_case(c)[0])))
             for c in ("gbk_chinese_name", "gauss_hyphen_kruger", "wkt2", "proj_string")}
    assert "the .prj file is in GBK/GB18030: its Chinese names read as such" in notes["gbk_chinese_name"]
    assert "the .prj names the projection 'Gauss-Kruger': read as Gauss_Kruger" in notes["gauss_hyphen_kruger"]
    assert "the .prj is not WKT1: read as the CRS it names, CGCS2000 / 3-degree Gauss-Kruger zone 35" in notes["wkt2"]
    assert "the .prj is not WKT1" in notes["proj_string"]


def test_rasterio_box_esri_utm_prj_upload_and_cli(tmp_path, landcover, capsys):
    """rasterio's box.shp: (175000, 2700000)–(250000, 2750000) in an ESRI-WKT UTM 18N .prj."""
    folder = PEERS / "rasterio"
    data = corpus.zip_bytes({p.name: p.read_bytes() for p in sorted(folder.glob("box.*"))})
    res = readers.read_vector("box.zip", data)
    assert res.source_crs == "EPSG:32618" and len(res.gdf) == 1
    t = pyproj.Transformer.from_crs(32618, 4326, always_xy=True)  # the EPSG definition, not the .prj
    corners = np.array(t.transform([175000, 175000, 250000, 250000], [2700000, 2750000, 2750000, 2700000])).T
    assert same(res.gdf.geometry.values[0], shapely.Polygon(corners))
    code, err, got = cli(tmp_path, folder / "box.shp", landcover, capsys)
    assert code == 0, err
    assert got["area_km2"].iloc[0] == pytest.approx(geodesic_area_km2(res.gdf.geometry.values)[0], rel=1e-9)
    # 75 km × 50 km on the UTM grid, 250–325 km west of the central meridian (scale ≈ 1.0006)
    assert got["area_km2"].iloc[0] == pytest.approx(3750, rel=2e-3)


# === swapped axes: offered, and read right when chosen =================================================
GK35 = "EPSG:4523"


def _gk_swapped() -> shapely.Polygon:
    t = pyproj.Transformer.from_crs(4490, GK35, always_xy=True)
    e, n = t.transform([LON, LON + 0.03, LON + 0.03, LON], [LAT, LAT, LAT + 0.02, LAT + 0.02])
    return shapely.Polygon(zip(n, e))  # the surveyors' order: X northing, Y easting


SWAP_EN = 'tick "swap the axes" (command line: --swap-axes)'
SWAP_ZH = "可勾选“交换坐标轴”（命令行：--swap-axes）"


def test_gk_swapped_axes_offered_then_read_when_chosen_upload():
    data = gpkg([_gk_swapped()], GK35)
    with pytest.raises(readers.AxesSwapped) as e:
        readers.read_vector("survey.gpkg", data)
    assert "northing, easting order" in e.value.en and SWAP_EN in e.value.en and SWAP_ZH in e.value.zh
    res = readers.read_vector("survey.gpkg", data, swap_axes=True)
    assert res.source_crs == GK35 and "axes swapped as you chose (X and Y exchanged)" in notes_en(res)
    assert same(res.gdf.geometry.values[0], BOX)
    assert crs.equal_area_km2(res.gdf)[0] == pytest.approx(BOX_KM2, rel=1e-6)


def test_gk_swapped_axes_cli_flag(tmp_path, landcover, capsys):
    path = put(tmp_path, "survey.gpkg", gpkg([_gk_swapped()], GK35))
    code, err, _ = cli(tmp_path, path, landcover, capsys)
    assert_cli_refused(code, err, SWAP_EN, SWAP_ZH)
    code, err, got = cli(tmp_path, path, landcover, capsys, "--swap-axes")
    assert code == 0, err
    assert "axes swapped as you chose" in err and "已按您的选择交换坐标轴" in err
    assert got["area_km2"].iloc[0] == pytest.approx(BOX_KM2, rel=1e-6)
    # no .prj: after the swap the zone prefix (35) names the grid; confirmed with --assume-crs
    folder = tmp_path / "shp"
    for name, blob in corpus.shp_parts(corpus.gdf(["甲"], geoms=[_gk_swapped()], crs=GK35)).items():
        if not name.endswith(".prj"):
            put(folder, name, blob)
    code, err, _ = cli(tmp_path, folder / "p.shp", landcover, capsys, "--swap-axes")
    assert_cli_refused(code, err, "best guess EPSG:4523", "推测 EPSG:4523")
    code, err, got = cli(tmp_path, folder / "p.shp", landcover, capsys, "--swap-axes", "--assume-crs", GK35)
    assert code == 0, err
    assert got["area_km2"].iloc[0] == pytest.approx(BOX_KM2, rel=1e-6)


def test_lat_lon_geojson_and_csv_swap_upload_and_cli(tmp_path, landcover, capsys):
    swapped = geojson([shapely.transform(BOX, lambda xy: xy[:, ::-1].copy())])
    with pytest.raises(readers.AxesSwapped):
        readers.read_vector("latlon.geojson", swapped)
    res = readers.read_vector("latlon.geojson", swapped, swap_axes=True)
    assert shapely.equals(res.gdf.geometry.values[0], BOX)
    csv = b"name,lon,lat,area_km2\nA,36.5,104.2,2\n"
    with pytest.raises(readers.AxesSwapped) as e:
        readers.read_vector("p.csv", csv)
    assert "longitude and latitude look swapped" in e.value.en and SWAP_EN in e.value.en
    sq = readers.read_vector("p.csv", csv, swap_axes=True)
    c = sq.gdf.geometry.values[0].centroid
    assert abs(c.x - 104.2) < 1e-6 and abs(c.y - 36.5) < 1e-6
    assert "longitude and latitude columns swapped as you chose" in notes_en(sq)
    for name, data, km2 in (("latlon.geojson", swapped, BOX_KM2), ("p.csv", csv, 2.0)):
        code, err, got = cli(tmp_path, put(tmp_path, name, data), landcover, capsys, "--swap-axes")
        assert code == 0, err
        assert got["area_km2"].iloc[0] == pytest.approx(km2, rel=1e-6)


def test_gk_swapped_axes_workspace_add_flag(tmp_path, monkeypatch, capsys):
    from cli.__main__ import main as gansu_main

    monkeypatch.setenv("GANSU_STORE", str(tmp_path / "store.duckdb"))
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "ws"))
    path = put(tmp_path, "survey.gpkg", gpkg([_gk_swapped()], GK35))
    capsys.readouterr()
    assert gansu_main(["workspace", "add", str(path), "--role", "parks"]) == 2
    assert "--swap-axes" in capsys.readouterr().err
    assert gansu_main(["workspace", "add", str(path), "--role", "parks", "--swap-axes"]) == 0
    assert "axes swapped as you chose" in capsys.readouterr().err


# === a GeoJSON of 2 million vertices (inside our limits, over GDAL's default object size) ==============
@pytest.fixture(scope="module")
def big_geojson() -> bytes:
    """BOX with 500 000 vertices on each side (2 000 001 in all), 10 decimals: ~62 MB of JSON."""
    n = 500_000
    t = np.arange(n) / n
    x0, y0, x1, y1 = BOX.bounds
    ring = np.concatenate([np.c_[x0 + (x1 - x0) * t, np.full(n, y0)], np.c_[np.full(n, x1), y0 + (y1 - y0) * t],
                           np.c_[x1 - (x1 - x0) * t, np.full(n, y1)], np.c_[np.full(n, x0), y1 - (y1 - y0) * t],
                           [[x0, y0]]])
    coords = ",".join(f"[{a:.10f},{b:.10f}]" for a, b in ring)
    return ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"大园区"},'
            '"geometry":{"type":"Polygon","coordinates":[[' + coords + "]]}}]}").encode()


def test_two_million_vertex_geojson_upload_and_cli(big_geojson, tmp_path, landcover, capsys):
    assert len(big_geojson) > 60e6 and len(big_geojson) < readers.MAX_UPLOAD_BYTES
    res = readers.read_vector("big.geojson", big_geojson)
    assert int(shapely.get_num_coordinates(res.gdf.geometry.values[0])) == 2_000_001
    assert crs.equal_area_km2(res.gdf)[0] == pytest.approx(BOX_KM2, rel=1e-6)
    code, err, got = cli(tmp_path, put(tmp_path, "big.geojson", big_geojson), landcover, capsys)
    assert code == 0, err
    assert got["area_km2"].iloc[0] == pytest.approx(BOX_KM2, rel=1e-6)


# === polygons cut at the antimeridian: "outside Gansu" by their parts ===================================
RUSSIA = (PEERS / "exactextract" / "russia.wkt").read_text().strip().strip('"')
PACIFIC = shapely.Polygon([(179, 35), (-179, 35), (-179, 36), (179, 36)])  # crosses 180° at Gansu's latitudes


def test_russia_cut_at_180_is_outside_gansu_upload_and_cli(tmp_path, landcover, capsys):
    g = shapely.from_wkt(RUSSIA)
    assert g.bounds[0] == -180 and g.bounds[2] == 180  # its bounding box spans the globe
    data = f'name,wkt\nRussia,"{RUSSIA}"\n'.encode()
    res = readers.read_vector("russia.csv", data)
    assert "note: every feature lies outside Gansu" in notes_en(res)
    code, err, got = cli(tmp_path, put(tmp_path, "russia.csv", data), landcover, capsys)
    assert code == 0, err
    assert "every feature lies outside Gansu" in err
    assert got["area_km2"].iloc[0] == pytest.approx(geodesic_area_km2([g])[0], rel=1e-9)


def test_polygon_cut_at_180_at_gansu_latitudes_noted_upload_and_cli(tmp_path, landcover, capsys):
    data = geojson([BOX, PACIFIC], name=["白银", "太平洋"])
    res = readers.read_vector("two.geojson", data)
    assert "row(s) 2 cross the antimeridian (180°): cut there" in notes_en(res)
    assert "note: row(s) 2 lie outside Gansu" in notes_en(res) and "注意：第 2 行位于甘肃省以外" in notes_zh(res)
    code, err, got = cli(tmp_path, put(tmp_path, "two.geojson", data), landcover, capsys)
    assert code == 0, err
    assert "note: --parks (two.geojson): row(s) 2 lie outside Gansu" in err
    assert got["area_km2"].iloc[0] == pytest.approx(BOX_KM2, rel=1e-6)
    # 2° × 1° at 35–36°N; areas far from China follow edges every 0.5° (a parallel to ~1e-5)
    assert got["area_km2"].iloc[1] == pytest.approx(cell_km2(179, 35, 181, 36), rel=1e-4)

"""Issue 14, item 1: classes of input read right or refused with a message naming the real cause,
through both entries of the one reader — the upload path (``readers.read_vector`` on bytes, and
``validate_geotiff`` on raster bytes) and the CLI (``python -m cli parks`` on files on disk).

Real files from other projects' test suites live in tests/data/peers/ (repository, path, commit
and licence of each in tests/data/peers/README.md): Fiona's MultiPatch/TIN Shapefile, TIN and
curve CSVs, ``!test.geojson`` and a zipped File Geodatabase; pyogrio's Natural Earth countries
(180.00000000000006, Antarctica through the pole, ISO-8859-1 .cpg), CurvePolygon and
MultiSurface GeoPackages. The other cases are made in code. Areas are checked against closed-form
ellipsoid formulas computed here (no pyproj), messages against their Chinese and English text.
"""
from __future__ import annotations

import math
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from affine import Affine

from cli.__main__ import main
from core.errors import GansuError, InputError
from layers import readers
from tests.hostile import corpus

PEERS = Path(__file__).resolve().parent / "data" / "peers"
FIONA, PYOGRIO = PEERS / "fiona", PEERS / "pyogrio"
LON, LAT = corpus.LON, corpus.LAT


# --- closed-form areas on the WGS84 ellipsoid (hand formulas, not pyproj) ----------------------
A_WGS84, F_WGS84 = 6378137.0, 1 / 298.257223563
E2 = F_WGS84 * (2 - F_WGS84)
E = math.sqrt(E2)
B2 = A_WGS84 ** 2 * (1 - E2)


def _q(lat_deg: float) -> float:
    s = math.sin(math.radians(lat_deg))
    return s / (1 - E2 * s * s) + math.log((1 + E * s) / (1 - E * s)) / (2 * E)


def cell_km2(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    """Area of the lon/lat rectangle on the ellipsoid (bounded by meridians and parallels), km²."""
    return math.radians(lon1 - lon0) * B2 / 2 * (_q(lat1) - _q(lat0)) / 1e6


# --- helpers -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def landcover(tmp_path_factory) -> Path:
    """IGBP grassland (10) around Baiyin, nodata 255."""
    p = tmp_path_factory.mktemp("lc") / "lc.tif"
    p.write_bytes(corpus.tif(data=np.full((200, 200), 10, "uint8"), transform=Affine(0.01, 0, 103.5, 0, -0.01, 37.5)))
    return p


def put(folder: Path, name: str, data: bytes) -> Path:
    p = folder / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def cli(tmp: Path, parks: Path, landcover: Path, capsys, *extra: str):
    """``python -m cli parks`` in-process: (exit code, stderr, result frame or None)."""
    out = tmp / "out.parquet"
    out.unlink(missing_ok=True)
    capsys.readouterr()
    code = main(["parks", "--parks", str(parks), "--landcover", str(landcover), "--out", str(out), *extra])
    err = capsys.readouterr().err
    return code, err, (gpd.read_parquet(out) if code == 0 else None)


def refused(fn) -> GansuError:
    with pytest.raises(GansuError) as e:
        fn()
    assert not isinstance(e.value, readers.CRSMissing), e.value.en  # never "no CRS" for these
    return e.value


def assert_message(e: GansuError, en: str, zh: str) -> None:
    assert en in e.en, e.en
    assert zh in e.zh, e.zh
    assert "Traceback" not in e.en and "AttributeError" not in e.en and "empty geometry" not in e.en


def assert_cli_refused(code: int, err: str, en: str, zh: str) -> None:
    assert code == 2, err
    assert "error: " in err and "错误：" in err
    assert en in err, err
    assert zh in err, err
    assert "Traceback" not in err


def notes_en(res) -> str:
    return " | ".join(n.en for n in res.notes)


def notes_zh(res) -> str:
    return " | ".join(n.zh for n in res.notes)


def geojson(geoms, crs=4326, **cols) -> bytes:
    return gpd.GeoDataFrame(cols or {"name": [f"p{i + 1}" for i in range(len(geoms))]}, geometry=list(geoms),
                            crs=crs).to_json().encode()


def gpkg(geoms, crs, **cols) -> bytes:
    return corpus.gpkg_bytes(gpd.GeoDataFrame(cols or {"name": [f"p{i + 1}" for i in range(len(geoms))]},
                                              geometry=list(geoms), crs=crs))


# === 1. tables with no geometry column ===========================================================
def _attribute_only_gpkg(tmp: Path) -> bytes:
    from pyogrio.raw import write

    tmp.mkdir(parents=True, exist_ok=True)
    p = tmp / "attrs.gpkg"
    write(p, geometry=None, field_data=[np.array(["兰州新区", "白银"], dtype=object)], fields=["name"],
          driver="GPKG", layer="attrs", geometry_type=None, crs=None)
    return p.read_bytes()


NO_GEOM_EN, NO_GEOM_ZH = "has no geometry column (an attribute table without locations)", "没有几何列（只是属性表，没有位置）"


def test_attribute_only_geopackage_upload(tmp_path):
    e = refused(lambda: readers.read_vector("attrs.gpkg", _attribute_only_gpkg(tmp_path)))
    assert_message(e, NO_GEOM_EN, NO_GEOM_ZH)


def test_attribute_only_geopackage_cli(tmp_path, landcover, capsys):
    path = put(tmp_path, "attrs.gpkg", _attribute_only_gpkg(tmp_path / "m"))
    code, err, _ = cli(tmp_path, path, landcover, capsys)
    assert_cli_refused(code, err, NO_GEOM_EN, NO_GEOM_ZH)


def _dbf_only() -> dict[str, bytes]:
    parts = corpus.shp_parts(corpus.gdf(["园区甲"]))
    return {"p.dbf": parts["p.dbf"]}


def test_dbf_alone_upload_zip_and_bare():
    e = refused(lambda: readers.read_vector("table.zip", corpus.zip_bytes(_dbf_only())))
    assert_message(e, "holds only an attribute table (p.dbf) and no geometry", "只有属性表（p.dbf），没有几何")
    e = refused(lambda: readers.read_vector("p.dbf", _dbf_only()["p.dbf"]))
    assert_message(e, "a .dbf alone is an attribute table without geometry", "只是属性表，没有几何")


def test_dbf_alone_cli(tmp_path, landcover, capsys):
    code, err, _ = cli(tmp_path, put(tmp_path, "table.zip", corpus.zip_bytes(_dbf_only())), landcover, capsys)
    assert_cli_refused(code, err, "holds only an attribute table (p.dbf) and no geometry", "只有属性表（p.dbf），没有几何")
    code, err, _ = cli(tmp_path, put(tmp_path, "p.dbf", _dbf_only()["p.dbf"]), landcover, capsys)
    assert_cli_refused(code, err, "a .dbf alone is an attribute table without geometry", "只是属性表，没有几何")


# A zipped File Geodatabase (Fiona's testopenfilegdb.gdb.zip) is read now, its feature classes
# offered as layers: tests/test_hardening_qgis.py.


BOX = shapely.box(LON, LAT, LON + 0.03, LAT + 0.02)


def _ewkb_csv() -> bytes:
    hexwkb = shapely.to_wkb(shapely.set_srid(BOX, 4490), hex=True, include_srid=True)
    return f"name,geom\n园区甲,{hexwkb}\n".encode()


def test_csv_hex_ewkb_upload():
    res = readers.read_vector("postgis.csv", _ewkb_csv())
    assert res.source_crs == "EPSG:4490" and "CRS from their SRID: EPSG:4490" in notes_en(res)
    assert shapely.equals_exact(res.gdf.geometry.values[0], BOX, tolerance=1e-12)


def test_csv_hex_ewkb_cli(tmp_path, landcover, capsys):
    code, err, got = cli(tmp_path, put(tmp_path, "postgis.csv", _ewkb_csv()), landcover, capsys)
    assert code == 0, err
    assert "CRS from their SRID: EPSG:4490" in err
    assert got["name"].tolist() == ["园区甲"]
    # the rectangle bounded by meridians and parallels, closed form on the ellipsoid
    assert got["area_km2"].iloc[0] == pytest.approx(cell_km2(LON, LAT, LON + 0.03, LAT + 0.02), rel=1e-4)


DMS_CSV = ("name,经度,纬度,area_km2\n"
           "甲,\"104°12'00\"\"E\",\"36°30'00\"\"N\",2\n"
           "乙,104度13分30秒,36度31分12秒,1\n").encode()


def test_csv_degrees_minutes_seconds_upload():
    res = readers.read_vector("dms.csv", DMS_CSV)
    c = res.gdf.geometry.centroid
    np.testing.assert_allclose([c.x.iloc[0], c.y.iloc[0]], [104.2, 36.5], atol=1e-9)
    np.testing.assert_allclose([c.x.iloc[1], c.y.iloc[1]], [104 + 13.5 / 60, 36 + 31.2 / 60], atol=1e-9)


def test_csv_degrees_minutes_seconds_cli(tmp_path, landcover, capsys):
    code, err, got = cli(tmp_path, put(tmp_path, "dms.csv", DMS_CSV), landcover, capsys)
    assert code == 0, err
    np.testing.assert_allclose(got["area_km2"].to_numpy(float), [2.0, 1.0], rtol=2e-3)


def test_dms_parser_hand_values():
    from layers.readers.csv import dms

    assert dms("104°12'36\"E") == pytest.approx(104.21)
    assert dms("S 33 52 10") == pytest.approx(-(33 + 52 / 60 + 10 / 3600))
    assert dms("36,5") == 36.5
    with pytest.raises(ValueError):
        dms("36°75'N")  # 75 minutes


# === 2. surfaces and curves =======================================================================
TIN_EN = "3-D surface (TIN) read as its footprint (union of its faces)"
TIN_ZH = "三维面（TIN），已取各面并集作为平面占地范围"
# Fiona's TIN: faces (0 0 0, 0 0 1, 0 1 0) (vertical: no footprint) and (0 0, 0 1, 1 1): the
# footprint is the triangle (0 0, 0 1, 1 1), half of the 1° cell at the equator (its diagonal is
# a geodesic, nearly the straight lon/lat line at this size)
TIN_KM2 = cell_km2(0, 0, 1, 1) / 2


def _tin_zip() -> bytes:
    return corpus.zip_bytes({f"test_tin{e}": (FIONA / f"test_tin{e}").read_bytes() for e in (".shp", ".shx", ".dbf")})


def test_multipatch_tin_shapefile_upload_fiona_fixture():
    res = readers.read_vector("test_tin.zip", _tin_zip(), assume_crs="EPSG:4326")
    g = res.gdf.geometry.values[0]
    assert g.geom_type == "Polygon" and shapely.equals(g, shapely.Polygon([(0, 0), (0, 1), (1, 1)]))
    assert "row(s) 1: " + TIN_EN in notes_en(res) and TIN_ZH in notes_zh(res)


def test_multipatch_tin_shapefile_cli_fiona_fixture(tmp_path, landcover, capsys):
    folder = tmp_path / "tin"
    folder.mkdir()
    for e in (".shp", ".shx", ".dbf"):
        shutil.copyfile(FIONA / f"test_tin{e}", folder / f"test_tin{e}")
    code, err, got = cli(tmp_path, folder / "test_tin.shp", landcover, capsys, "--assume-crs", "EPSG:4326")
    assert code == 0, err
    assert TIN_EN in err and TIN_ZH in err
    assert got["area_km2"].iloc[0] == pytest.approx(TIN_KM2, rel=2e-3)


def test_tin_and_triangle_wkt_csv_upload_and_cli_fiona_fixture(tmp_path, landcover, capsys):
    data = (FIONA / "test_tin.csv").read_bytes()
    res = readers.read_vector("test_tin.csv", data, assume_crs="EPSG:4326")
    tri = shapely.Polygon([(0, 0), (0, 1), (1, 1)])
    assert all(shapely.equals(g, tri) for g in res.gdf.geometry.values)
    assert "row(s) 2: 3-D surface (Triangle)" in notes_en(res)
    code, err, got = cli(tmp_path, FIONA / "test_tin.csv", landcover, capsys, "--assume-crs", "EPSG:4326")
    assert code == 0, err
    np.testing.assert_allclose(got["area_km2"].to_numpy(float), [TIN_KM2] * 3, rtol=2e-3)


def _tin_wkb(triangles) -> bytes:
    """ISO WKB of a TIN Z: a MultiPolygon Z's bytes with the type codes of TIN (1016) and
    Triangle (1017) written in (the layout is the same)."""
    import struct

    w = bytearray(shapely.to_wkb(shapely.MultiPolygon([shapely.Polygon(t) for t in triangles]),
                                 output_dimension=3, flavor="iso", byte_order=1))
    struct.pack_into("<I", w, 1, 1016)
    pos = 9
    for _ in triangles:
        struct.pack_into("<I", w, pos + 1, 1017)
        rings = struct.unpack_from("<I", w, pos + 5)[0]
        pos += 9
        for _ in range(rings):
            pos += 4 + 24 * struct.unpack_from("<I", w, pos)[0]
    return bytes(w)


def _tin_gpkg(tmp: Path) -> bytes:
    """A GeoPackage holding a terrain TIN over a 0.01° square near Baiyin (two triangles)."""
    from pyogrio.raw import write

    a, b, c, d = (LON, LAT, 5.0), (LON + 0.01, LAT, 5.0), (LON + 0.01, LAT + 0.01, 7.0), (LON, LAT + 0.01, 6.0)
    tmp.mkdir(parents=True, exist_ok=True)
    write(tmp / "tin.gpkg", geometry=np.array([_tin_wkb([[a, b, c], [a, c, d]])], dtype=object),
          field_data=[np.array(["地形"], dtype=object)], fields=["name"], driver="GPKG", layer="tin",
          geometry_type="Unknown", crs="EPSG:4490")
    return (tmp / "tin.gpkg").read_bytes()


SQUARE = shapely.box(LON, LAT, LON + 0.01, LAT + 0.01)


def test_tin_geopackage_upload(tmp_path):
    res = readers.read_vector("tin.gpkg", _tin_gpkg(tmp_path / "m"))
    assert shapely.equals(res.gdf.geometry.values[0], SQUARE)
    assert "row(s) 1: " + TIN_EN in notes_en(res)


def test_tin_geopackage_cli(tmp_path, landcover, capsys):
    code, err, got = cli(tmp_path, put(tmp_path, "tin.gpkg", _tin_gpkg(tmp_path / "m")), landcover, capsys)
    assert code == 0, err
    assert TIN_EN in err and TIN_ZH in err
    assert got["area_km2"].iloc[0] == pytest.approx(cell_km2(LON, LAT, LON + 0.01, LAT + 0.01), rel=1e-4)


# a building as a PolyhedralSurface: a 0.01° × 0.01° roof at 10 m plus four walls
ROOF = [(LON, LAT), (LON + 0.01, LAT), (LON + 0.01, LAT + 0.01), (LON, LAT + 0.01)]


def _building_csv(roof=True) -> bytes:
    faces = []
    if roof:
        faces.append("((" + ", ".join(f"{x} {y} 10" for x, y in ROOF + ROOF[:1]) + "))")
    for (x0, y0), (x1, y1) in zip(ROOF, ROOF[1:] + ROOF[:1]):
        faces.append(f"(({x0} {y0} 0, {x1} {y1} 0, {x1} {y1} 10, {x0} {y0} 10, {x0} {y0} 0))")
    return f'name,wkt\n楼,"POLYHEDRALSURFACE Z ({", ".join(faces)})"\n'.encode()


def test_polyhedral_surface_footprint_upload_and_cli(tmp_path, landcover, capsys):
    res = readers.read_vector("building.csv", _building_csv(), assume_crs="EPSG:4490")
    assert shapely.equals(res.gdf.geometry.values[0], shapely.Polygon(ROOF))
    assert "3-D surface (PolyhedralSurface) read as its footprint" in notes_en(res)
    code, err, got = cli(tmp_path, put(tmp_path, "building.csv", _building_csv()), landcover, capsys,
                         "--assume-crs", "EPSG:4490")
    assert code == 0, err
    assert got["area_km2"].iloc[0] == pytest.approx(cell_km2(LON, LAT, LON + 0.01, LAT + 0.01), rel=1e-4)


WALLS_EN = "is a 3-D surface (PolyhedralSurface) whose faces have no area on the plane"
WALLS_ZH = "是三维面（PolyhedralSurface），其各面投影到平面上没有面积"


def test_walls_only_surface_refused_by_name_upload_and_cli(tmp_path, landcover, capsys):
    data = _building_csv(roof=False)
    assert_message(refused(lambda: readers.read_vector("walls.csv", data, assume_crs="EPSG:4490")), WALLS_EN, WALLS_ZH)
    code, err, _ = cli(tmp_path, put(tmp_path, "walls.csv", data), landcover, capsys, "--assume-crs", "EPSG:4490")
    assert_cli_refused(code, err, WALLS_EN, WALLS_ZH)


R = 0.01  # a circle of radius 0.01° as a CURVEPOLYGON around Baiyin
CIRCLE = (f'name,WKT\n圆,"CURVEPOLYGON(CIRCULARSTRING({LON - R} {LAT}, {LON} {LAT + R}, {LON + R} {LAT}, '
          f'{LON} {LAT - R}, {LON - R} {LAT}))"\n').encode()


def _ellipse_km2() -> float:
    """The circle in degrees is an ellipse on the ground: semi-axes = R° of longitude and of
    latitude at LAT (radii of curvature of the ellipsoid)."""
    s2 = math.sin(math.radians(LAT)) ** 2
    n = A_WGS84 / math.sqrt(1 - E2 * s2)
    m = A_WGS84 * (1 - E2) / (1 - E2 * s2) ** 1.5
    return math.pi * (math.radians(R) * n * math.cos(math.radians(LAT))) * (math.radians(R) * m) / 1e6


def test_curvepolygon_wkt_linearised_upload_and_cli(tmp_path, landcover, capsys):
    res = readers.read_vector("circle.csv", CIRCLE, assume_crs="EPSG:4490")
    assert res.gdf.geometry.values[0].geom_type == "Polygon"
    assert "curved geometries (arcs) linearised" in notes_en(res)
    code, err, got = cli(tmp_path, put(tmp_path, "circle.csv", CIRCLE), landcover, capsys, "--assume-crs", "EPSG:4490")
    assert code == 0, err
    assert got["area_km2"].iloc[0] == pytest.approx(_ellipse_km2(), rel=3e-3)  # a polygon of short chords


@pytest.mark.parametrize("name,kind", [("curvepolygon.gpkg", "Polygon"), ("multisurface.gpkg", "MultiPolygon")])
def test_curved_geopackages_pyogrio_fixtures_upload_and_cli(name, kind, tmp_path, landcover, capsys):
    res = readers.read_vector(name, (PYOGRIO / name).read_bytes())
    assert res.gdf.geom_type.tolist() == [kind]
    assert "every feature lies outside Gansu" in notes_en(res)  # Canada: digitised in QGIS
    code, err, got = cli(tmp_path, PYOGRIO / name, landcover, capsys)
    assert code == 0, err
    assert "every feature lies outside Gansu" in err
    # far from China: the area is geodesic, equal to the upload's geometry measured on the ellipsoid
    from core.geom import geodesic_area_km2

    assert got["area_km2"].iloc[0] == pytest.approx(geodesic_area_km2(res.gdf.geometry.values)[0], rel=1e-9)


def test_multicurve_lines_fiona_fixture_upload_and_cli_as_transport(tmp_path, landcover, capsys):
    data = (FIONA / "curves_line.csv").read_bytes()
    res = readers.read_vector("curves_line.csv", data, polygons_only=False, assume_crs="EPSG:4326")
    assert set(res.gdf.geom_type) == {"MultiLineString"} and len(res.gdf) == 9
    assert "row(s) 2, 3, 6, 8: curved geometries (arcs) linearised" in notes_en(res)
    # as parks: a line, refused by name (not "empty geometry", not "cannot be parsed")
    e = refused(lambda: readers.read_vector("curves_line.csv", data, assume_crs="EPSG:4326"))
    assert_message(e, "row 1 is a multiline geometry; polygons are expected here", "第 1 行是多线几何，此处需要面")
    parks = put(tmp_path, "parks.geojson", geojson([BOX]))
    code, err, _ = cli(tmp_path, parks, landcover, capsys, "--assume-crs", "EPSG:4326",
                       "--transport", f"{FIONA / 'curves_line.csv'}:railway")
    assert code == 0, err
    assert "curved geometries (arcs) linearised" in err


# === 3. coordinates a hair outside ±180/±90 ======================================================
HAIR_EN = "coordinates beyond ±180°/±90° by 5.7e-14° (floating-point rounding) set to the limit"
HAIR_ZH = "有坐标超出 ±180°/±90° 不到 5.7e-14°（浮点舍入），已取边界值"


def _ne_zip() -> bytes:
    return corpus.zip_bytes({p.name: p.read_bytes() for p in sorted(PYOGRIO.glob("naturalearth_lowres.*"))})


@pytest.fixture(scope="module")
def natural_earth():
    return readers.read_vector("naturalearth_lowres.zip", _ne_zip())


def test_natural_earth_hair_beyond_180_upload_pyogrio_fixture(natural_earth):
    res = natural_earth
    assert res.source_crs == "EPSG:4326" and len(res.gdf) == 177
    assert HAIR_EN in notes_en(res) and HAIR_ZH in notes_zh(res)
    assert res.gdf.total_bounds.tolist() == [-180.0, -90.0, 180.0, pytest.approx(83.64513)]
    assert "Côte d'Ivoire" in res.gdf["name"].tolist()  # .cpg ISO-8859-1 honoured
    assert "attribute encoding: ISO-8859-1" in notes_en(res)


def test_natural_earth_hair_beyond_180_cli_pyogrio_fixture(tmp_path, landcover, capsys):
    code, err, got = cli(tmp_path, PYOGRIO / "naturalearth_lowres.shp", landcover, capsys, "--name-field", "name")
    assert code == 0, err
    assert HAIR_EN in err and HAIR_ZH in err and "no coordinate reference system" not in err
    assert len(got) == 177


def test_own_hair_beyond_180_geojson_upload_and_cli(tmp_path, landcover, capsys):
    ring = shapely.Polygon([(179.5, -17), (180.00000000000006, -17), (180.00000000000006, -16), (179.5, -16)])
    data = geojson([ring])
    res = readers.read_vector("edge.geojson", data)
    assert res.gdf.total_bounds[2] == 180.0 and res.source_crs == "EPSG:4326"
    code, err, got = cli(tmp_path, put(tmp_path, "edge.geojson", data), landcover, capsys)
    assert code == 0, err
    assert got["area_km2"].iloc[0] == pytest.approx(cell_km2(179.5, -17, 180, -16), rel=1e-4)


# === 4. antimeridian, poles, far from China ========================================================
def test_antarctica_area_geodesic_natural_earth(natural_earth, tmp_path, landcover, capsys):
    """Antarctica is ~12.3 million km² (Albers for China gave 600 million)."""
    from core.geom import geodesic_area_km2

    i = natural_earth.gdf["name"].tolist().index("Antarctica")
    assert 12.2e6 < geodesic_area_km2(natural_earth.gdf.geometry.values[i:i + 1])[0] < 12.45e6
    code, err, got = cli(tmp_path, PYOGRIO / "naturalearth_lowres.shp", landcover, capsys, "--name-field", "name")
    assert code == 0, err
    ant = got.loc[got["name"] == "Antarctica", "area_km2"].iloc[0]
    assert 12.2e6 < ant < 12.45e6
    china = got.loc[got["name"] == "China", "area_km2"].iloc[0]
    assert 9.0e6 < china < 9.7e6  # Natural Earth low-res China (Albers China, inside its extent)


def test_polar_cap_area_hand_computed_upload_and_cli(tmp_path, landcover, capsys):
    """The ring (-180 -90, 180 -90, 180 -60, -180 -60) holds everything south of 60°S."""
    cap = shapely.box(-180, -90, 180, -60)
    hand = cell_km2(-180, -90, 180, -60)  # 34 415 850 km²
    data = geojson([cap])
    res = readers.read_vector("cap.geojson", data)
    assert "every feature lies outside Gansu" in notes_en(res)
    assert "antimeridian" not in notes_en(res)  # a ring closed along ±180 and the pole is not a crossing
    code, err, got = cli(tmp_path, put(tmp_path, "cap.geojson", data), landcover, capsys)
    assert code == 0, err
    assert got["area_km2"].iloc[0] == pytest.approx(hand, rel=1e-4)


FIJI = shapely.Polygon([(179, -17), (-179, -17), (-179, -16), (179, -16)])  # 2° wide across 180°


def test_antimeridian_polygon_cut_upload():
    res = readers.read_vector("fiji.geojson", geojson([FIJI]))
    g = res.gdf.geometry.values[0]
    assert g.geom_type == "MultiPolygon"
    assert shapely.equals(g, shapely.MultiPolygon([shapely.box(179, -17, 180, -16), shapely.box(-180, -17, -179, -16)]))
    assert "row(s) 1 cross the antimeridian (180°): cut there" in notes_en(res)
    assert "跨越 180° 经线" in notes_zh(res)


def _world_strip_raster() -> bytes:
    """EPSG:4326, lon -180..180, lat -20..-15, 1° pixels: grassland (10) within 1° of ±180°,
    evergreen needleleaf forest (1) everywhere else; nodata 255."""
    data = np.full((5, 360), 1, "uint8")
    data[:, 0] = data[:, -1] = 10
    return corpus.tif(data=data, transform=Affine(1.0, 0, -180.0, 0, -1.0, -15.0))


def _forest_and_grass(frame) -> tuple[float, float]:
    forest = [c for c in frame.columns if c.startswith("lc_") and c.endswith("_km2") and "forest" in c]
    assert forest and "lc_grassland_km2" in frame.columns
    return float(frame[forest].fillna(0).to_numpy(float).sum()), float(frame["lc_grassland_km2"].fillna(0).iloc[0])


FIJI_KM2 = cell_km2(179, -17, 181, -16)


def test_antimeridian_park_raster_statistics_from_its_own_pixels_upload(tmp_path):
    """The page computes on what the upload read: uncut, the park would span -179..179 the long
    way and be credited with 356° of forest."""
    from indicators.engine import compute_parks

    lc = put(tmp_path, "strip.tif", _world_strip_raster())
    res = readers.read_vector("fiji.geojson", geojson([FIJI]))
    got = compute_parks(res.gdf, landcover=lc, legend="igbp")
    forest, grass = _forest_and_grass(got)
    assert forest == pytest.approx(0.0, abs=1e-6)
    assert grass == pytest.approx(FIJI_KM2, rel=1e-3)
    assert got["area_km2"].iloc[0] == pytest.approx(FIJI_KM2, rel=1e-4)


def test_antimeridian_park_raster_statistics_from_its_own_pixels_cli(tmp_path, capsys):
    lc = put(tmp_path, "strip.tif", _world_strip_raster())
    code, err, got = cli(tmp_path, put(tmp_path, "fiji.geojson", geojson([FIJI])), lc, capsys)
    assert code == 0, err
    assert "cross the antimeridian (180°): cut there" in err
    assert got["area_km2"].iloc[0] == pytest.approx(FIJI_KM2, rel=1e-4)
    forest, grass = _forest_and_grass(got)
    assert forest == pytest.approx(0.0, abs=1e-6) and grass == pytest.approx(FIJI_KM2, rel=1e-3)


# Fengyun-4A looks down from 104.7°E: a grid around Gansu inverts everywhere (accepted); a park in
# South America is not visible from it and must get no pixels (not a GEOS exception)
FY4A = "+proj=geos +h=35786000 +lon_0=104.7 +sweep=x +ellps=WGS84 +units=m +no_defs"
FAR_PARK = shapely.box(-75.8, -36.5, -75.77, -36.48)  # near the antipode of Baiyin


def _fy4a_gansu() -> bytes:
    x, y = pyproj.Transformer.from_crs(4326, FY4A, always_xy=True).transform(LON, LAT)
    return corpus.tif(data=np.full((100, 100), 10, "uint8"), crs=FY4A,
                      transform=Affine(4000.0, 0, x - 200_000, 0, -4000.0, y + 200_000))


def test_geostationary_window_over_gansu_upload(tmp_path):
    from indicators.engine import compute_parks

    data = _fy4a_gansu()
    readers.validate_geotiff(data, "fy4a.tif")  # accepted: every pixel has a place on the Earth
    res = readers.read_vector("two.geojson", geojson([BOX, FAR_PARK]))
    got = compute_parks(res.gdf, landcover=put(tmp_path, "fy4a.tif", data), legend="igbp")
    assert got["lc_grassland_km2"].iloc[0] == pytest.approx(cell_km2(LON, LAT, LON + 0.03, LAT + 0.02), rel=2e-3)
    assert got["landcover_pixels"].iloc[1] == 0 and not got["lc_grassland_km2"].fillna(0).iloc[1]
    assert got["reason"].iloc[1] == "park outside the land-cover raster fy4a.tif"


def test_geostationary_window_over_gansu_cli(tmp_path, capsys):
    parks = put(tmp_path, "two.geojson", geojson([BOX, FAR_PARK]))
    code, err, got = cli(tmp_path, parks, put(tmp_path, "fy4a.tif", _fy4a_gansu()), capsys)
    assert code == 0, err
    assert "note: --parks (two.geojson): row(s) 2 lie outside Gansu" in err
    assert got["lc_grassland_km2"].iloc[0] == pytest.approx(cell_km2(LON, LAT, LON + 0.03, LAT + 0.02), rel=2e-3)
    assert got["landcover_pixels"].iloc[1] == 0
    assert got["reason"].iloc[1] == "park outside the land-cover raster fy4a.tif"


def test_some_features_outside_gansu_noted_upload_and_cli(tmp_path, landcover, capsys):
    data = geojson([BOX, shapely.box(2.35, 48.85, 2.36, 48.86)], name=["白银", "Paris"])
    res = readers.read_vector("two.geojson", data)
    assert "note: row(s) 2 lie outside Gansu" in notes_en(res) and "注意：第 2 行位于甘肃省以外" in notes_zh(res)
    code, err, got = cli(tmp_path, put(tmp_path, "two.geojson", data), landcover, capsys)
    assert code == 0, err
    assert "note: --parks (two.geojson): row(s) 2 lie outside Gansu" in err
    assert "注意：--parks（two.geojson）：第 2 行位于甘肃省以外" in err
    assert got["area_km2"].iloc[1] == pytest.approx(cell_km2(2.35, 48.85, 2.36, 48.86), rel=1e-4)


# === 5. Gauss–Krüger files whose X holds the northing =================================================
NF_EN = "the coordinates look like northing, easting order"
NF_ZH = "坐标似乎为“北坐标、东坐标”顺序"
GK35 = "EPSG:4523"  # CGCS2000 3° Gauss–Krüger zone 35 (105°E), with the zone prefix


def _gk_box(swap: bool) -> shapely.Polygon:
    t = pyproj.Transformer.from_crs(4490, GK35, always_xy=True)
    e, n = t.transform([LON, LON + 0.03, LON + 0.03, LON], [LAT, LAT, LAT + 0.02, LAT + 0.02])
    return shapely.Polygon(zip(n, e) if swap else zip(e, n))


def test_gk_northing_in_x_upload_with_crs_and_without():
    e = refused(lambda: readers.read_vector("survey.gpkg", gpkg([_gk_box(swap=True)], GK35)))
    assert_message(e, NF_EN, NF_ZH)
    assert "holds the northing" in e.en and "X≈4,04" in e.en
    parts = corpus.shp_parts(corpus.gdf(["甲"], geoms=[_gk_box(swap=True)], crs=GK35))
    parts.pop("p.prj")
    e = refused(lambda: readers.read_vector("survey.zip", corpus.zip_bytes(parts)))
    assert_message(e, NF_EN, NF_ZH)
    ok = readers.read_vector("survey.gpkg", gpkg([_gk_box(swap=False)], GK35))  # the right order reads
    assert ok.gdf.geometry.values[0].centroid.distance(BOX.centroid) < 1e-6


def test_gk_northing_in_x_without_crs_and_a_chosen_crs_cli(tmp_path, landcover, capsys):
    """No .prj: the ranges alone tell the swap; with --assume-crs the chosen CRS is checked the same way."""
    folder = tmp_path / "shp"
    folder.mkdir()
    for name, blob in corpus.shp_parts(corpus.gdf(["甲"], geoms=[_gk_box(swap=True)], crs=GK35)).items():
        if not name.endswith(".prj"):
            put(folder, name, blob)
    code, err, _ = cli(tmp_path, folder / "p.shp", landcover, capsys)
    assert_cli_refused(code, err, NF_EN, NF_ZH)
    code, err, _ = cli(tmp_path, folder / "p.shp", landcover, capsys, "--assume-crs", GK35)
    assert_cli_refused(code, err, NF_EN, NF_ZH)


@pytest.mark.parametrize("epsg", ["EPSG:4544", "EPSG:2359", "EPSG:4496"])  # no prefix 105°E; Xian 1980 zone 35; 6° zone 18
def test_gk_northing_in_x_other_grids_upload(epsg):
    t = pyproj.Transformer.from_crs(4490, epsg, always_xy=True)
    e, n = t.transform([LON, LON + 0.03, LON + 0.03, LON], [LAT, LAT, LAT + 0.02, LAT + 0.02])
    swapped = shapely.Polygon(zip(n, e))
    assert_message(refused(lambda: readers.read_vector("s.gpkg", gpkg([swapped], epsg))), NF_EN, NF_ZH)
    ok = readers.read_vector("s.gpkg", gpkg([shapely.Polygon(zip(e, n))], epsg))
    assert ok.gdf.geometry.values[0].centroid.distance(BOX.centroid) < 0.002


def test_gk_northing_in_x_cli(tmp_path, landcover, capsys):
    code, err, _ = cli(tmp_path, put(tmp_path, "survey.gpkg", gpkg([_gk_box(swap=True)], GK35)), landcover, capsys)
    assert_cli_refused(code, err, NF_EN, NF_ZH)


# === 6. rasters: geostationary grids, no nodata ====================================================
GEOS = "+proj=geos +h=35785831 +lon_0=0 +sweep=y +ellps=WGS84 +units=m +no_defs"
GEOS_EN = "is in a geostationary satellite view (+proj=geos"
GEOS_ZH = "使用地球静止卫星视角（+proj=geos"


def _full_disk() -> bytes:
    return corpus.tif(data=np.full((100, 100), 10, "uint8"), crs=GEOS,
                      transform=Affine(110_000.0, 0, -5.5e6, 0, -110_000.0, 5.5e6))


def test_geostationary_full_disk_upload():
    with pytest.raises(InputError) as e:
        readers.validate_geotiff(_full_disk(), "disk.tif")
    assert_message(e.value, GEOS_EN, GEOS_ZH)
    assert "warp it to a map projection first" in e.value.en


def test_geostationary_full_disk_cli(tmp_path, capsys):
    parks = put(tmp_path, "parks.geojson", geojson([BOX]))
    code, err, _ = cli(tmp_path, parks, put(tmp_path, "disk.tif", _full_disk()), capsys)
    assert_cli_refused(code, err, GEOS_EN, GEOS_ZH)


NODATA_EN, NODATA_ZH = "has no nodata value", "未设置无数据值（nodata）"


def test_raster_without_nodata_upload_and_cli(tmp_path, capsys):
    data = corpus.tif(nodata=None)
    with pytest.raises(InputError) as e:
        readers.validate_geotiff(data, "lc.tif")
    assert_message(e.value, NODATA_EN, NODATA_ZH)
    parks = put(tmp_path, "parks.geojson", geojson([BOX]))
    code, err, _ = cli(tmp_path, parks, put(tmp_path, "lc.tif", data), capsys)
    assert_cli_refused(code, err, NODATA_EN, NODATA_ZH)


# === 7. Xian 1980 and Beijing 1954 =================================================================
DATUM_EN = "without official parameters the datum shift to CGCS2000/WGS84 is approximate (errors of tens of metres)"
DATUM_ZH = "没有官方转换参数，转换到 CGCS2000/WGS84 的基准偏移为近似值（误差可达数十米）"


@pytest.mark.parametrize("epsg,datum", [(2359, "Xian 1980"), (4610, "Xian 1980"), (4214, "Beijing 1954"),
                                        (2431, "Beijing 1954")])
def test_old_datums_read_with_a_note_upload_and_cli(epsg, datum, tmp_path, landcover, capsys):
    local = gpd.GeoSeries([BOX], crs=4326).to_crs(epsg).values  # the same place in the old datum
    data = gpkg(local, f"EPSG:{epsg}")
    res = readers.read_vector("old.gpkg", data)
    assert res.source_crs == f"EPSG:{epsg}"
    assert f"the CRS is {datum}" in notes_en(res) and DATUM_EN in notes_en(res) and DATUM_ZH in notes_zh(res)
    # back where it was, to the datum shift PROJ applies (under 200 m here)
    assert res.gdf.geometry.values[0].centroid.distance(BOX.centroid) < 0.002
    # the same as a Shapefile: its .prj is ESRI WKT (GCS_Xian_1980, D_Beijing_1954 …)
    shp = corpus.zip_bytes(corpus.shp_parts(gpd.GeoDataFrame({"name": ["甲"]}, geometry=list(local), crs=epsg)))
    res_shp = readers.read_vector("old.zip", shp)
    assert DATUM_EN in notes_en(res_shp) and res_shp.source_crs == f"EPSG:{epsg}"
    code, err, got = cli(tmp_path, put(tmp_path, "old.gpkg", data), landcover, capsys)
    assert code == 0, err
    assert DATUM_EN in err and DATUM_ZH in err
    assert got["area_km2"].iloc[0] == pytest.approx(cell_km2(LON, LAT, LON + 0.03, LAT + 0.02), rel=1e-3)


# === 8. duplicate ids, awkward file names, Excel named .csv ============================================
DUP = geojson([BOX, shapely.box(LON + 0.1, LAT, LON + 0.12, LAT + 0.02), shapely.box(LON + 0.2, LAT, LON + 0.22, LAT + 0.02)],
              park_id=["A7", "A7", "B1"], name=["甲", "乙", "丙"])


def test_duplicate_park_ids_noted_upload():
    res = readers.read_vector("dup.geojson", DUP)
    assert "note: duplicate ids (park_id): A7 (rows 1, 2)" in notes_en(res)
    assert "注意：编号（park_id）重复：A7（第 1, 2 行）" in notes_zh(res)


def test_duplicate_park_ids_noted_cli(tmp_path, landcover, capsys):
    code, err, got = cli(tmp_path, put(tmp_path, "dup.geojson", DUP), landcover, capsys)
    assert code == 0, err
    assert "note: --parks (dup.geojson): duplicate ids (park_id): A7 (rows 1, 2)" in err
    assert "注意：--parks（dup.geojson）：编号（park_id）重复：A7（第 1, 2 行）" in err
    assert got["park_id"].tolist() == ["A7", "A7", "B1"]


NAMES = ["!test.geojson", "my parks (2024) [final]!.geojson", "园区 边界（定稿）.geojson", "a&b's #1.csv"]


@pytest.mark.parametrize("name", NAMES)
def test_awkward_file_names_cli_and_upload(name, tmp_path, landcover, capsys):
    if name == "!test.geojson":
        data = (FIONA / "!test.geojson").read_bytes()  # Fiona's Grenada
    elif name.endswith(".csv"):
        data = f"name,wkt\n甲,\"{BOX.wkt}\"\n".encode()
    else:
        data = geojson([BOX], name=["甲"])
    res = readers.read_vector(name, data, assume_crs="EPSG:4490" if name.endswith(".csv") else None)
    code, err, got = cli(tmp_path, put(tmp_path, name, data), landcover, capsys,
                         *(["--assume-crs", "EPSG:4490"] if name.endswith(".csv") else []))
    assert code == 0, err
    assert len(got) == len(res.gdf) == 1
    np.testing.assert_allclose(shapely.area(got.geometry.values), shapely.area(res.gdf.geometry.values), rtol=1e-9)


def test_awkward_shapefile_names_on_disk_cli(tmp_path, landcover, capsys):
    folder = tmp_path / "数据 [v2]!"
    folder.mkdir()
    for name, blob in corpus.shp_parts(corpus.gdf(["甲"], geoms=[BOX])).items():
        put(folder, "园区 (final)!" + Path(name).suffix, blob)
    code, err, got = cli(tmp_path, folder / "园区 (final)!.shp", landcover, capsys)
    assert code == 0, err
    assert got["area_km2"].iloc[0] == pytest.approx(cell_km2(LON, LAT, LON + 0.03, LAT + 0.02), rel=1e-4)


def _xlsx(tmp: Path) -> bytes:
    p = tmp / "parks.xlsx"
    pd.DataFrame({"name": ["甲"], "lon": [LON], "lat": [LAT], "area_km2": [1.0]}).to_excel(p, index=False)
    return p.read_bytes()


XL_EN, XL_ZH = "this .csv file is really an Excel workbook (.xlsx), not a text CSV", "该 .csv 文件实际上是Excel 工作簿（.xlsx），不是文本 CSV"


def test_excel_renamed_csv_upload(tmp_path):
    assert_message(refused(lambda: readers.read_vector("parks.csv", _xlsx(tmp_path))), XL_EN, XL_ZH)
    xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    e = refused(lambda: readers.read_vector("old.csv", xls))
    assert_message(e, "really an Excel 97-2003 workbook (.xls)", "Excel 97-2003 工作簿（.xls）")


def test_excel_renamed_csv_cli(tmp_path, landcover, capsys):
    code, err, _ = cli(tmp_path, put(tmp_path, "parks.csv", _xlsx(tmp_path)), landcover, capsys)
    assert_cli_refused(code, err, XL_EN, XL_ZH)
    # named as what it is, the workbook is read (its sheets are layers: tests/test_hardening_qgis.py)
    code, err, got = cli(tmp_path, put(tmp_path, "parks.xlsx", _xlsx(tmp_path)), landcover, capsys)
    assert code == 0, err
    assert got["area_km2"].iloc[0] == pytest.approx(1.0, rel=1e-6)


def test_peer_fixtures_are_documented():
    readme = (PEERS / "README.md").read_text(encoding="utf-8")
    for p in sorted(PEERS.rglob("*")):
        if p.is_file() and p.name != "README.md":
            stem = p.name.split(".")[0]
            assert stem in readme, p.name
    assert zipfile.is_zipfile(FIONA / "testopenfilegdb.gdb.zip")
    assert zipfile.is_zipfile(PEERS / "shapefile-js" / "multiple.zip")

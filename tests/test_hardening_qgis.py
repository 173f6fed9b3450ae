"""Files a planner's QGIS opens, read right or offered as a choice — through both entries of the one
reader registry: the upload path (``readers.read_vector``/``list_layers`` on bytes, as the Parks
and Data pages call them) and the command line (``python -m cli parks``, ``python -m
cli.workspace_cli add`` on files on disk).

This file: the formats — File Geodatabases (GDAL's OpenFileGDB), Excel workbooks and Excel's
UTF-16 "Unicode text", EWKT, GeoJSON/KML in GBK without a declared encoding, TopoJSON, two
Shapefiles in one zip. ``test_hardening_qgis_geometry`` holds the geometry classes. Real files
from GDAL's autotest, shapefile-js, rasterio and exactextract are in tests/data/peers/ (source,
commit and licence in its README); the others are made here. Areas are checked against the
closed-form ellipsoid formula (``cell_km2``), to 1e-6 near Gansu (Albers China is equal-area and
a 0.03° edge is a parallel to ~1e-10).
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

from core.errors import GansuError
from core.geom import geodesic_area_km2
from layers import readers
from tests.hostile import corpus
from tests.test_hardening_peers import (assert_cli_refused, assert_message, cell_km2, cli, notes_en,
                                        notes_zh, put, refused)

PEERS = Path(__file__).resolve().parent / "data" / "peers"
LON, LAT = corpus.LON, corpus.LAT
BOX = shapely.box(LON, LAT, LON + 0.03, LAT + 0.02)
BOX_KM2 = cell_km2(LON, LAT, LON + 0.03, LAT + 0.02)


@pytest.fixture(scope="module")
def landcover(tmp_path_factory) -> Path:
    """IGBP grassland (10) around Baiyin, nodata 255."""
    p = tmp_path_factory.mktemp("lc") / "lc.tif"
    p.write_bytes(corpus.tif(data=np.full((200, 200), 10, "uint8"), transform=Affine(0.01, 0, 103.5, 0, -0.01, 37.5)))
    return p


# === File Geodatabase (GDAL's testopenfilegdb.gdb, zipped by Fiona) ==================================
FGDB_ZIP = PEERS / "fiona" / "testopenfilegdb.gdb.zip"


@pytest.fixture(scope="module")
def gdb_folder(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("gdb")
    with zipfile.ZipFile(FGDB_ZIP) as z:
        z.extractall(d)
    return d / "testopenfilegdb.gdb"


def test_filegdb_zip_upload_offers_its_feature_classes_and_reads_the_one_chosen():
    data = FGDB_ZIP.read_bytes()
    names = readers.list_layers("testopenfilegdb.gdb.zip", data)
    assert len(names) == 34 and {"polygon", "several_polygons", "null_polygon"} <= set(names)
    assert not {"none", "big_layer", "no_field"} & set(names)  # tables without geometry are not offered
    e = refused(lambda: readers.read_vector("testopenfilegdb.gdb.zip", data))
    assert_message(e, "the File Geodatabase has 34 layers: point, multipoint", "该文件地理数据库有 34 个图层")
    res = readers.read_vector("testopenfilegdb.gdb.zip", data, layer="polygon")
    assert res.layer == "polygon" and res.source_crs == "EPSG:4326" and len(res.gdf) == 5
    # each row is the square (0 0, 1 1) (GDAL's test data: corners 5.7e-14 off): the closed form of
    # the 1° cell at the equator; far from China areas are geodesic, edges followed every 0.5°
    # (a 1° edge along a parallel: 6.4e-6 above the cell, hence 1e-5)
    np.testing.assert_allclose(geodesic_area_km2(res.gdf.geometry.values), [cell_km2(0, 0, 1, 1)] * 5, rtol=1e-5)
    assert "every feature lies outside Gansu" in notes_en(res)


def test_filegdb_all_null_layer_refused_and_no_crs_layer_asks_for_one():
    data = FGDB_ZIP.read_bytes()
    e = refused(lambda: readers.read_vector("t.gdb.zip", data, layer="null_polygon"))
    assert "empty geometry in every row (rows 1, 2, 3, 4, 5): there is no location to read" in e.en
    assert "所有要素的几何均为空（第 1, 2, 3, 4, 5 行）" in e.zh
    with pytest.raises(readers.CRSMissing):
        readers.read_vector("t.gdb.zip", data, layer="several_polygons")


def test_filegdb_folder_cli_with_layer(tmp_path, gdb_folder, landcover, capsys):
    code, err, got = cli(tmp_path, gdb_folder, landcover, capsys, "--layer", "several_polygons",
                         "--assume-crs", "EPSG:4326")
    assert code == 0, err
    # 9 unit squares: x 0-1, 2-3, 4-5 by y 0-1, 2-3, 4-5 (GDAL's test data), in file order
    cells = [(x, y) for x in (0, 2, 4) for y in (0, 2, 4)]
    assert len(got) == 9
    hand = [cell_km2(x, y, x + 1, y + 1) for x, y in cells]
    np.testing.assert_allclose(got["area_km2"].to_numpy(float), hand, rtol=1e-5)  # edges followed every 0.5°
    np.testing.assert_allclose(got["area_km2"].to_numpy(float),
                               geodesic_area_km2([shapely.box(x, y, x + 1, y + 1) for x, y in cells]), rtol=1e-9)
    code, err, _ = cli(tmp_path, gdb_folder, landcover, capsys)  # no --layer: the choice is named
    assert_cli_refused(code, err, "the File Geodatabase has 34 layers", "该文件地理数据库有 34 个图层")
    assert "--layer" in err


def test_filegdb_zip_cli_and_workspace_add(tmp_path, landcover, capsys, monkeypatch):
    code, err, got = cli(tmp_path, FGDB_ZIP, landcover, capsys, "--layer", "polygon")
    assert code == 0, err
    np.testing.assert_allclose(got["area_km2"].to_numpy(float), [cell_km2(0, 0, 1, 1)] * 5, rtol=1e-5)
    from cli.__main__ import main as gansu_main
    from storage import import_folder
    from storage import workspace as ws
    from storage.store import Store

    monkeypatch.setenv("GANSU_STORE", str(tmp_path / "store.duckdb"))
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "ws"))
    with zipfile.ZipFile(FGDB_ZIP) as z:
        z.extractall(tmp_path / "import")
    folder = tmp_path / "import" / "testopenfilegdb.gdb"
    capsys.readouterr()
    assert gansu_main(["workspace", "add", str(folder), "--role", "parks", "--layer", "polygon"]) == 0, capsys.readouterr().err
    did = capsys.readouterr().out.strip().splitlines()[-1]
    s = Store(tmp_path / "store.duckdb")
    try:
        d = ws.get(s, did)
        assert d.n_features == 5 and d.crs == "EPSG:4326" and len(d.sha256) == 64
        assert len(s.parks()) == 5
    finally:
        s.close()
    assert folder in import_folder.import_files(tmp_path / "import")  # the import folder lists the .gdb as one entry
    assert not any(p.suffix == ".gdbtable" for p in import_folder.import_files(tmp_path / "import"))


# === Excel workbooks and Excel's "Unicode text" ==================================================
EWKT_BOX = f"SRID=4490;{BOX.wkt}"


def _xlsx(tmp: Path) -> bytes:
    p = tmp / "parks.xlsx"
    with pd.ExcelWriter(p) as w:
        pd.DataFrame({"园区名称": ["甲", "乙"], "经度": [LON, LON + 0.2], "纬度": [LAT, LAT + 0.1],
                      "area_km2": [1.5, 2.0]}).to_excel(w, sheet_name="点位", index=False)
        pd.DataFrame({"name": ["丙"], "wkt": [EWKT_BOX]}).to_excel(w, sheet_name="边界", index=False)
        pd.DataFrame().to_excel(w, sheet_name="说明")  # empty: not offered
    return p.read_bytes()


def test_excel_workbook_upload_sheets_as_layers(tmp_path):
    data = _xlsx(tmp_path)
    assert readers.list_layers("parks.xlsx", data) == ["点位", "边界"]
    assert_message(refused(lambda: readers.read_vector("parks.xlsx", data)),
                   "the Excel workbook has 2 layers: 点位, 边界", "该Excel 工作簿有 2 个图层")
    pts = readers.read_vector("parks.xlsx", data, layer="点位")
    assert pts.gdf["园区名称"].tolist() == ["甲", "乙"] and pts.source_crs == "EPSG:4326"
    from core import crs

    np.testing.assert_allclose(crs.equal_area_km2(pts.gdf), [1.5, 2.0], rtol=1e-6)  # squares of that area
    c = pts.gdf.geometry.values[1].centroid
    assert abs(c.x - (LON + 0.2)) < 1e-6 and abs(c.y - (LAT + 0.1)) < 1e-6
    wkt = readers.read_vector("parks.xlsx", data, layer="边界")
    assert wkt.source_crs == "EPSG:4490" and "geometries are EWKT; CRS from their SRID: EPSG:4490" in notes_en(wkt)
    assert shapely.equals_exact(wkt.gdf.geometry.values[0], BOX, tolerance=1e-12)


def test_excel_workbook_cli_with_layer(tmp_path, landcover, capsys):
    path = put(tmp_path, "parks.xlsx", _xlsx(tmp_path))
    code, err, got = cli(tmp_path, path, landcover, capsys, "--layer", "边界")
    assert code == 0, err
    assert got["area_km2"].iloc[0] == pytest.approx(BOX_KM2, rel=1e-6)
    code, err, got = cli(tmp_path, path, landcover, capsys, "--layer", "点位", "--name-field", "园区名称")
    assert code == 0, err
    np.testing.assert_allclose(got["area_km2"].to_numpy(float), [1.5, 2.0], rtol=1e-6)
    code, err, _ = cli(tmp_path, path, landcover, capsys)
    assert_cli_refused(code, err, "the Excel workbook has 2 layers", "该Excel 工作簿有 2 个图层")


UNICODE_TEXT = ("名称\t经度\t纬度\t面积\r\n甲园区\t104.2\t36.5\t1.5\r\n乙园区\t104.4\t36.6\t2\r\n").encode("utf-16")  # BOM + LE


def test_excel_unicode_text_utf16_upload_and_cli(tmp_path, landcover, capsys):
    assert UNICODE_TEXT[:2] == b"\xff\xfe"
    for name in ("parks.txt", "parks.csv"):
        res = readers.read_vector(name, UNICODE_TEXT)
        assert res.gdf["名称"].tolist() == ["甲园区", "乙园区"]
        assert "the table is UTF-16 text (Excel's \"Unicode text\"): read as such" in notes_en(res)
        assert "Excel 的“Unicode 文本”" in notes_zh(res)
    code, err, got = cli(tmp_path, put(tmp_path, "parks.txt", UNICODE_TEXT), landcover, capsys, "--name-field", "名称")
    assert code == 0, err
    assert got["name"].tolist() == ["甲园区", "乙园区"]
    np.testing.assert_allclose(got["area_km2"].to_numpy(float), [1.5, 2.0], rtol=1e-6)


# === EWKT in CSV ===================================================================================
def _ewkt_csv() -> bytes:
    gk = gpd.GeoSeries([BOX], crs=4490).to_crs("EPSG:4523").values[0]  # the same box in GK zone 35 metres
    return (f'name,geom\n甲,"{EWKT_BOX}"\n'.encode(), f'name,geom\n乙,"SRID=4523;{gk.wkt}"\n'.encode())


def test_ewkt_csv_upload_and_cli(tmp_path, landcover, capsys):
    degrees, metres = _ewkt_csv()
    res = readers.read_vector("postgis.csv", degrees)
    assert res.source_crs == "EPSG:4490" and "CRS from their SRID: EPSG:4490" in notes_en(res)
    assert "坐标系取自其 SRID：EPSG:4490" in notes_zh(res)
    gk = readers.read_vector("postgis_gk.csv", metres)
    assert gk.source_crs == "EPSG:4523"
    np.testing.assert_allclose(shapely.get_coordinates(gk.gdf.geometry.values[0])[:4],
                               shapely.get_coordinates(BOX)[:4], atol=1e-9)
    for name, data in (("postgis.csv", degrees), ("postgis_gk.csv", metres)):
        code, err, got = cli(tmp_path, put(tmp_path, name, data), landcover, capsys)
        assert code == 0, err
        assert "CRS from their SRID" in err
        assert got["area_km2"].iloc[0] == pytest.approx(BOX_KM2, rel=1e-6)


# === GeoJSON and KML in GBK without a declared encoding ============================================
def _gbk_geojson() -> bytes:
    g = gpd.GeoDataFrame({"name": ["兰州新区生态园"]}, geometry=[BOX], crs=4326)
    return g.to_json(ensure_ascii=False).encode("gbk")  # the name as GBK bytes, no declared encoding


def _gbk_kml(declared: bool) -> bytes:
    ring = " ".join(f"{x},{y}" for x, y in BOX.exterior.coords)
    head = '<?xml version="1.0" encoding="GBK"?>' if declared else '<?xml version="1.0"?>'
    return (f'{head}<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>白银园区</name>'
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs>"
            "</Polygon></Placemark></Document></kml>").encode("gbk")


GBK_JSON_EN = "the GeoJSON file is not UTF-8 (RFC 7946 requires it): decoded as GB18030 (GBK)"
GBK_KML_EN = "the KML file declares no text encoding and is not UTF-8: decoded as GB18030 (GBK)"


def test_gbk_geojson_and_kml_upload():
    with pytest.raises(UnicodeDecodeError):
        _gbk_geojson().decode("utf-8")  # the bytes really are not UTF-8
    res = readers.read_vector("p.geojson", _gbk_geojson())
    assert res.gdf["name"].tolist() == ["兰州新区生态园"] and GBK_JSON_EN in notes_en(res)
    assert "RFC 7946 要求 UTF-8" in notes_zh(res)
    kml = readers.read_vector("p.kml", _gbk_kml(False))
    assert kml.gdf["Name"].tolist() == ["白银园区"] and GBK_KML_EN in notes_en(kml)
    declared = readers.read_vector("p.kml", _gbk_kml(True))  # declared GBK: expat does not know it
    assert declared.gdf["Name"].tolist() == ["白银园区"]
    assert "the KML declares the text encoding GBK: converted to UTF-8" in notes_en(declared)
    kmz = readers.read_vector("p.kmz", corpus.zip_bytes({"doc.kml": _gbk_kml(False)}))
    assert kmz.gdf["Name"].tolist() == ["白银园区"]


def test_gbk_geojson_and_kml_cli(tmp_path, landcover, capsys):
    for name, data, note in (("p.geojson", _gbk_geojson(), GBK_JSON_EN), ("p.kml", _gbk_kml(False), GBK_KML_EN)):
        code, err, got = cli(tmp_path, put(tmp_path, name, data), landcover, capsys,
                             "--name-field", "name" if name.endswith("json") else "Name")
        assert code == 0, err
        assert note in err
        assert got["name"].iloc[0] in ("兰州新区生态园", "白银园区")
        assert got["area_km2"].iloc[0] == pytest.approx(BOX_KM2, rel=1e-6)


# === TopoJSON =======================================================================================
def _topojson() -> bytes:
    """Two parks sharing an edge, quantised (scale 0.01°, translate LON, LAT) as TopoJSON writes
    them: arc 0 is the shared edge x = LON+0.03; park A = [0.00, 0.03] × [0, 0.02], park B = [0.03,
    0.05] × [0, 0.02]; and a road in a second object (a layer of its own)."""
    arcs = [[[3, 0], [0, 2]],  # shared edge, going north
            [[3, 2], [-3, 0], [0, -2], [3, 0]],  # rest of A: from the edge's top, west, south, back east
            [[3, 0], [2, 0], [0, 2], [-2, 0]],  # rest of B: from the edge's foot, east, north, back west
            [[0, 1], [5, 0]]]  # the road
    topo = {"type": "Topology", "transform": {"scale": [0.01, 0.01], "translate": [LON, LAT]}, "arcs": arcs,
            "objects": {"parks": {"type": "GeometryCollection", "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "properties": {"name": "甲"}},
                {"type": "Polygon", "arcs": [[2, -1]], "properties": {"name": "乙"}}]},
                "roads": {"type": "GeometryCollection", "geometries": [
                    {"type": "LineString", "arcs": [3], "properties": {"name": "路"}}]}}}
    return json.dumps(topo, ensure_ascii=False).encode()


TOPO_A, TOPO_B = cell_km2(LON, LAT, LON + 0.03, LAT + 0.02), cell_km2(LON + 0.03, LAT, LON + 0.05, LAT + 0.02)


def test_topojson_upload_objects_as_layers():
    data = _topojson()
    for name in ("parks.topojson", "parks.json"):  # told by content, whatever the extension
        assert readers.list_layers(name, data) == ["parks", "roads"]
    assert_message(refused(lambda: readers.read_vector("parks.topojson", data)),
                   "the TopoJSON has 2 layers: parks, roads", "该TopoJSON有 2 个图层")
    res = readers.read_vector("parks.topojson", data, layer="parks")
    assert res.gdf["name"].tolist() == ["甲", "乙"] and res.source_crs == "EPSG:4326"
    assert "the TopoJSON declares no CRS and its coordinates are degrees: read as WGS 84" in notes_en(res)
    a, b = res.gdf.geometry.values
    assert shapely.equals(a, BOX) and shapely.equals(b, shapely.box(LON + 0.03, LAT, LON + 0.05, LAT + 0.02))
    roads = readers.read_vector("parks.topojson", data, layer="roads", polygons_only=False)
    assert roads.gdf.geometry.values[0].equals(shapely.LineString([(LON, LAT + 0.01), (LON + 0.05, LAT + 0.01)]))


def test_topojson_cli_with_layer(tmp_path, landcover, capsys):
    code, err, got = cli(tmp_path, put(tmp_path, "parks.topojson", _topojson()), landcover, capsys, "--layer", "parks")
    assert code == 0, err
    np.testing.assert_allclose(got["area_km2"].to_numpy(float), [TOPO_A, TOPO_B], rtol=1e-6)


def test_topojson_gdal_fixtures_layers_and_decoded_polygon():
    """GDAL's robustness file: its loose objects form the layer "TopoJSON"; the polygon
    ``[[0, 1], [2]]`` decodes (scale 1, 10; translate 100, 1000) to the square 100–110 × 1000–1100
    with the hole 101–109 × 1010–1090: 1000 − 640 = 360 square units."""
    data = (PEERS / "gdal" / "topojson1.topojson").read_bytes()
    assert readers.list_layers("topojson1.topojson", data) == ["a_layer", "TopoJSON"]
    res = readers.read_vector("topojson1.topojson", data, layer="TopoJSON", polygons_only=False,
                              assume_crs="EPSG:3857")
    back = res.gdf.to_crs(3857).geometry.values
    polys = [g for g in back if g.geom_type == "Polygon"]
    # the two Polygon objects, and the MultiPolygon [[[-1, -2]], [[-3]]] (the square and the
    # inner square as two overlapping parts) repaired into the same square with a hole
    assert len(polys) == 3 and all(abs(p.area - 360) < 1e-6 for p in polys)
    assert "1 invalid geometries repaired" in notes_en(res)
    assert "have no geometry (null or empty): skipped" in notes_en(res)  # the malformed objects
    crs_file = (PEERS / "gdal" / "topojson_with_crs.topojson").read_bytes()
    assert readers.list_layers("t.topojson", crs_file) == ["a_layer", "TopoJSON"]


def test_topojson_workspace_add_transport_with_layer(tmp_path, monkeypatch, capsys):
    from cli.__main__ import main as gansu_main

    monkeypatch.setenv("GANSU_STORE", str(tmp_path / "store.duckdb"))
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "ws"))
    path = put(tmp_path, "net.topojson", _topojson())
    capsys.readouterr()
    assert gansu_main(["workspace", "add", str(path), "--role", "transport", "--kind", "railway", "--layer", "roads"]) == 0
    assert "registered transport 'net'" in capsys.readouterr().err
    assert gansu_main(["workspace", "add", str(path), "--role", "transport", "--kind", "railway"]) == 2
    assert "the TopoJSON has 2 layers" in capsys.readouterr().err


# === two Shapefiles in one zip =========================================================================
MULTIPLE = PEERS / "shapefile-js" / "multiple.zip"


def test_two_shapefiles_in_a_zip_upload_shapefile_js_fixture():
    data = MULTIPLE.read_bytes()
    assert readers.list_layers("multiple.zip", data) == ["layer1", "layer2"]
    assert_message(refused(lambda: readers.read_vector("multiple.zip", data)),
                   "the zip archive holds 2 Shapefiles: layer1, layer2", "压缩包中有 2 个 Shapefile")
    res = readers.read_vector("multiple.zip", data, layer="layer2")
    assert len(res.gdf) == 40 and res.source_crs == "EPSG:26986" and res.layer == "layer2"
    pts = readers.read_vector("multiple.zip", data, layer="layer1", polygons_only=False)
    assert len(pts.gdf) == 361 and set(pts.gdf.geom_type) == {"Point"}


def test_two_shapefiles_in_a_zip_cli_shapefile_js_fixture(tmp_path, landcover, capsys):
    res = readers.read_vector("multiple.zip", MULTIPLE.read_bytes(), layer="layer2")
    code, err, got = cli(tmp_path, MULTIPLE, landcover, capsys, "--layer", "layer2")
    assert code == 0, err
    assert len(got) == 40
    np.testing.assert_allclose(got["area_km2"].to_numpy(float), geodesic_area_km2(res.gdf.geometry.values), rtol=1e-9)
    code, err, _ = cli(tmp_path, MULTIPLE, landcover, capsys)
    assert_cli_refused(code, err, "holds 2 Shapefiles: layer1, layer2", "压缩包中有 2 个 Shapefile")


def _same_name_zip() -> bytes:
    """Two surveys named parks.shp in folders 2023/ and 2024/ of one zip."""
    members = {}
    for year, dx in (("2023", 0.0), ("2024", 0.1)):
        g = corpus.gdf([f"园区{year}"], geoms=[shapely.box(LON + dx, LAT, LON + dx + 0.03, LAT + 0.02)])
        for name, blob in corpus.shp_parts(g).items():
            members[f"{year}/parks{Path(name).suffix}"] = blob
    return corpus.zip_bytes(members)


def test_two_shapefiles_with_one_name_named_by_folder_upload_and_cli(tmp_path, landcover, capsys):
    data = _same_name_zip()
    assert readers.list_layers("surveys.zip", data) == ["2023/parks", "2024/parks"]
    res = readers.read_vector("surveys.zip", data, layer="2024/parks")
    assert res.gdf["名称"].tolist() == ["园区2024"]
    code, err, got = cli(tmp_path, put(tmp_path, "surveys.zip", data), landcover, capsys, "--layer", "2023/parks",
                         "--name-field", "名称")
    assert code == 0, err
    assert got["name"].tolist() == ["园区2023"] and got["area_km2"].iloc[0] == pytest.approx(BOX_KM2, rel=1e-6)


def test_readers_keep_refusing_what_they_cannot_read():
    """Not a regression into "anything goes": an old .xls, a lone .gdb name, a GeoPackage named .xlsx."""
    e = refused(lambda: readers.read_vector("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504))
    assert_message(e, "old-format or macro Excel workbook (.xls)", "旧版或含宏的 Excel 工作簿")
    e = refused(lambda: readers.read_vector("parks.xlsx", corpus.gpkg_bytes(corpus.gdf())))
    assert isinstance(e, GansuError) and "not an Excel workbook" in e.en and "refused" in e.en

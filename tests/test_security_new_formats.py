"""The formats added so that what QGIS reads is read here (File Geodatabase, TopoJSON, Excel
workbooks, UTF-16 tables) keep the protections of every other format: the content is checked
against the claimed format before GDAL (or openpyxl) sees it — a GDAL virtual dataset under any of
the new names is refused by name — only the declared OGR drivers are registered, and reading them
sends no request anywhere (a local server records every connection, as in
``test_security_vectors``).
"""
from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from core.errors import UploadError
from layers import readers
from layers.readers import filegdb
from layers.readers.common import Source
from tests.hostile import corpus
from tests.test_security_vectors import (MARKER, VRT_EN, VRT_ZH, Recorder, assert_refused_as, gdalg, ogr_vrt,
                                         secret)

PEERS = Path(__file__).resolve().parent / "data" / "peers"
BOX = shapely.box(104.2, 36.5, 104.23, 36.52)
__all__ = ["secret"]  # the fixture, imported for the tests below


@pytest.fixture()
def recorder():
    r = Recorder()
    yield r
    r.close()


def _gdb_zip_with(member: str, data: bytes) -> bytes:
    """GDAL's test geodatabase (Fiona's zip) with one of its files replaced."""
    src = zipfile.ZipFile(PEERS / "fiona" / "testopenfilegdb.gdb.zip")
    buf = io.BytesIO()
    with src, zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            out.writestr(info.filename, data if info.filename.endswith(member) else src.read(info))
    return buf.getvalue()


# --- a virtual dataset under the new names is refused by name ---------------------------------------
@pytest.mark.parametrize("name", ["parks.topojson", "parks.txt", "parks.xlsx", "parks.gdb.zip"])
def test_vrt_under_a_new_name_is_refused(name, secret):
    vrt = ogr_vrt(f"CSV:{secret}")
    data = _gdb_zip_with("a00000001.gdbtable", vrt) if name.endswith(".gdb.zip") else vrt
    with pytest.raises(UploadError) as e:
        readers.read_vector(name, data)
    assert_refused_as(e, VRT_EN, VRT_ZH)
    if name.endswith(".txt"):
        assert readers.list_layers(name, data) == []  # a text table has no layers: nothing is opened
        return
    with pytest.raises(UploadError) as e:
        readers.list_layers(name, data)  # the layer prompt never opens it either
    assert_refused_as(e, VRT_EN, VRT_ZH)


def test_vrt_in_a_gdb_folder_on_disk_is_refused(secret, tmp_path):
    with zipfile.ZipFile(PEERS / "fiona" / "testopenfilegdb.gdb.zip") as z:
        z.extractall(tmp_path)
    gdb = tmp_path / "testopenfilegdb.gdb"
    (gdb / "a00000009.gdbtable").write_bytes(ogr_vrt(f"CSV:{secret}"))
    with pytest.raises(UploadError) as e:
        readers.read_path(gdb, layer="polygon", what="--parks")
    assert_refused_as(e, VRT_EN, VRT_ZH)


def test_only_geodatabase_files_reach_gdal(secret, tmp_path):
    """Other files beside the tables (a Shapefile, a CSV naming the secret, a VRT) are not staged:
    the layers offered are the geodatabase's own."""
    with zipfile.ZipFile(PEERS / "fiona" / "testopenfilegdb.gdb.zip") as z:
        z.extractall(tmp_path)
    gdb = tmp_path / "testopenfilegdb.gdb"
    (gdb / "evil.vrt").write_bytes(ogr_vrt(f"CSV:{secret}"))
    shutil.copyfile(secret, gdb / "secrets.csv")
    for name, blob in corpus.shp_parts(corpus.gdf([MARKER])).items():
        (gdb / name).write_bytes(blob)
    (tmp_path / "stage").mkdir()
    staged = filegdb.stage(Source(gdb.name, path=gdb), tmp_path / "stage")  # what GDAL is given
    names = sorted(p.name for p in staged.iterdir())
    assert names == sorted(p.name for p in gdb.iterdir() if p.name.startswith("a0") or p.name in ("gdb", "timestamps"))
    assert not {"evil.vrt", "secrets.csv", "p.shp", "p.dbf"} & set(names)
    layers_ = readers.list_path_layers(gdb)
    assert "evil" not in layers_ and "secrets" not in layers_ and "p" not in layers_ and "polygon" in layers_
    res = readers.read_path(gdb, layer="polygon")
    assert MARKER not in res.gdf.to_string()


def test_gdalg_with_topology_words_is_refused(secret):
    data = json.loads(gdalg(secret))
    data["type_hint"] = {"type": "Topology", "arcs": []}
    with pytest.raises(UploadError) as e:
        readers.read_vector("parks.topojson", json.dumps(data).encode())
    assert_refused_as(e, "GDAL algorithm pipeline (GDALG)", "GDAL 算法管道（GDALG）")


def test_excel_part_with_a_doctype_is_refused(tmp_path):
    p = tmp_path / "p.xlsx"
    gpd.pd.DataFrame({"name": ["甲"], "wkt": [BOX.wkt]}).to_excel(p, index=False)
    evil = io.BytesIO()
    with zipfile.ZipFile(p) as src, zipfile.ZipFile(evil, "w") as out:
        for info in src.infolist():
            blob = src.read(info)
            if info.filename == "xl/workbook.xml":
                assert blob.startswith(b"<workbook")  # openpyxl writes no XML declaration
                blob = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + blob
            out.writestr(info.filename, blob)
    with pytest.raises(UploadError) as e:
        readers.read_vector("p.xlsx", evil.getvalue())
    assert "DOCTYPE" in e.value.en and "实体" in e.value.zh


def test_excel_zip_bomb_limits_apply(tmp_path, monkeypatch):
    p = tmp_path / "p.xlsx"
    gpd.pd.DataFrame({"name": ["甲"] * 50, "wkt": [BOX.wkt] * 50}).to_excel(p, index=False)
    monkeypatch.setattr(readers, "MAX_UNZIPPED_BYTES", 1000)
    with pytest.raises(UploadError) as e:
        readers.read_vector("p.xlsx", p.read_bytes())
    assert "size limit" in e.value.en


def test_new_drivers_registered_and_the_dangerous_still_absent():
    import pyogrio

    drivers = set(pyogrio.list_drivers())
    assert {"OpenFileGDB", "TopoJSON"} <= drivers
    assert not drivers & {"OGR_VRT", "GDALG", "WFS", "HTTP", "OAPIF", "GML", "SQLite", "ESRIJSON", "XLSX", "ODS"}


# --- reading them sends no request ------------------------------------------------------------------
def test_topojson_with_a_link_crs_is_refused_without_a_request(recorder):
    topo = {"type": "Topology", "crs": {"type": "link", "properties": {"href": f"{recorder.url}/crs", "type": "ogcwkt"}},
            "arcs": [[[104.2, 36.5], [104.23, 36.5], [104.23, 36.52], [104.2, 36.52], [104.2, 36.5]]],
            "objects": {"parks": {"type": "GeometryCollection", "geometries": [{"type": "Polygon", "arcs": [[0]]}]}}}
    with pytest.raises(UploadError) as e:
        readers.read_vector("parks.topojson", json.dumps(topo).encode())
    assert "'crs'" in e.value.en and recorder.url not in e.value.en
    assert recorder.connections == []


def test_topojson_gdb_and_excel_naming_urls_are_read_without_a_request(recorder, tmp_path):
    url = f"{recorder.url}/data"
    topo = {"type": "Topology", "arcs": [[[104.2, 36.5], [104.23, 36.5], [104.23, 36.52], [104.2, 36.52], [104.2, 36.5]]],
            "objects": {url: {"type": "GeometryCollection", "geometries": [
                {"type": "Polygon", "arcs": [[0]], "id": url, "properties": {"href": url, "url": url, "$ref": url}}]}}}
    res = readers.read_vector("parks.topojson", json.dumps(topo).encode())
    assert res.gdf["href"].tolist() == [url]
    g = gpd.GeoDataFrame({"name": [url]}, geometry=[BOX], crs=4326)
    g.to_file(tmp_path / "w.gdb", driver="OpenFileGDB", layer="parks", engine="pyogrio")
    assert readers.read_path(tmp_path / "w.gdb").gdf["name"].tolist() == [url]
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["name", "wkt", "fetch"])
    ws.append(["甲", BOX.wkt, f'=WEBSERVICE("{url}")'])  # a formula that fetches, in Excel
    ws["A2"].hyperlink = url
    wb.save(tmp_path / "p.xlsx")
    res = readers.read_vector("p.xlsx", (tmp_path / "p.xlsx").read_bytes())
    assert res.gdf["name"].tolist() == ["甲"]
    assert recorder.connections == []

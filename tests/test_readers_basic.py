"""Uploads of replacement layers: good files read right; bad ones give clear bilingual errors."""
import io
import zipfile

import geopandas as gpd
import pytest
import shapely

from layers import readers
from layers.readers import UploadError

POLY = shapely.box(103.0, 36.0, 103.1, 36.1)


def _shp_zip(tmp_path, gdf, encoding="UTF-8", drop=(), cpg=True) -> bytes:
    d = tmp_path / "shp"
    d.mkdir(exist_ok=True)
    gdf.to_file(d / "parks.shp", encoding=encoding, engine="pyogrio")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in d.iterdir():
            if p.suffix in drop or (p.suffix == ".cpg" and not cpg):
                continue
            z.write(p, p.name)
    return buf.getvalue()


def test_geojson_in_cgcs2000_gk_is_reprojected(tmp_path):
    g = gpd.GeoDataFrame({"name": ["a"]}, geometry=[POLY], crs=4326).to_crs(4524)
    res = readers.read_vector("zones.geojson", g.to_json(to_wgs84=False).encode())
    assert res.gdf.crs.to_epsg() == 4326
    assert res.gdf.geometry.iloc[0].symmetric_difference(POLY).area < 1e-10


def test_gbk_shapefile_without_cpg_reads_chinese(tmp_path):
    g = gpd.GeoDataFrame({"name": ["兰州新区生态红线"]}, geometry=[POLY], crs=4326)
    data = _shp_zip(tmp_path, g, encoding="GBK", cpg=False)
    res = readers.read_vector("redline.zip", data)
    assert res.gdf["name"].iloc[0] == "兰州新区生态红线"


@pytest.mark.parametrize("make,needle_en,needle_zh", [
    (lambda tp: b"PK\x03\x04 truncated", "corrupt", "损坏"),
    (lambda tp: _zip({"../evil.shp": b"x"}), "unsafe path", "不安全"),
    (lambda tp: _zip({"/etc/passwd.shp": b"x"}), "unsafe path", "不安全"),
    (lambda tp: _zip({"readme.txt": b"x"}), "no .shp", ".shp"),
])
def test_bad_zips(tmp_path, make, needle_en, needle_zh):
    with pytest.raises(UploadError) as e:
        readers.read_vector("x.zip", make(tmp_path))
    assert needle_en in e.value.en and needle_zh in e.value.zh


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_shapefile_missing_dbf(tmp_path):
    g = gpd.GeoDataFrame({"name": ["a"]}, geometry=[POLY], crs=4326)
    with pytest.raises(UploadError) as e:
        readers.read_vector("x.zip", _shp_zip(tmp_path, g, drop=(".dbf",)))
    assert ".dbf" in e.value.en


def test_missing_prj_asks_for_a_crs(tmp_path):
    g = gpd.GeoDataFrame({"name": ["a"]}, geometry=[POLY], crs=4326)
    with pytest.raises(UploadError) as e:
        readers.read_vector("x.zip", _shp_zip(tmp_path, g, drop=(".prj",)))
    assert "no coordinate reference system" in e.value.en and "坐标系" in e.value.zh
    res = readers.read_vector("x.zip", _shp_zip(tmp_path, g, drop=(".prj",)), assume_crs="EPSG:4490")
    assert res.gdf.crs.to_epsg() == 4326


def test_points_where_polygons_expected():
    g = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(103, 36)], crs=4326)
    with pytest.raises(UploadError) as e:
        readers.read_vector("p.geojson", g.to_json().encode())
    assert "row 1" in e.value.en and "point" in e.value.en and "第 1 行" in e.value.zh


def test_invalid_polygon_is_repaired_and_reported():
    bow = shapely.Polygon([(103, 36), (103.1, 36.1), (103.1, 36), (103, 36.1), (103, 36)])
    g = gpd.GeoDataFrame({"name": ["bow"]}, geometry=[bow], crs=4326)
    res = readers.read_vector("b.geojson", g.to_json().encode())
    assert res.gdf.geometry.is_valid.all()
    assert any("repaired" in en for _, en in res.notes)


def test_kml_with_entities_rejected():
    kml = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><kml>&e;</kml>'
    with pytest.raises(UploadError) as e:
        readers.read_vector("x.kml", kml)
    assert "DOCTYPE" in e.value.en


def test_html_in_attributes_is_kept_as_text():
    g = gpd.GeoDataFrame({"name": ["<script>alert(1)</script>"]}, geometry=[POLY], crs=4326)
    res = readers.read_vector("x.geojson", g.to_json().encode())
    assert res.gdf["name"].iloc[0] == "<script>alert(1)</script>"  # escaped at render time


def test_size_limit(monkeypatch):
    monkeypatch.setattr(readers, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(UploadError) as e:
        readers.read_vector("x.geojson", b"{" + b" " * 200 + b"}")
    assert "too large" in e.value.en and "过大" in e.value.zh

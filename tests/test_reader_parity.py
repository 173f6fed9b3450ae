"""One reader for every entry: the upload path (``readers.read_vector`` on bytes), the path entry
(``readers.read_path``, used by the CLI and the data build) and the CLI itself
(``python -m cli parks``) give the same result for the same file — the same names and
geometry (area within 1e-9 relative) or the same bilingual message (Chinese and English).

Files: every file of the hostile corpus (tests/hostile/corpus.py), plus Shapefile encodings as
real files carry them (GBK without .cpg, .cpg = 936 / CP936 / GBK / ANSI 936, a .prj with a
UTF-8 BOM, a Shapefile in a folder of the zip, a .shp with its sidecars on disk), a Google Earth
KML with three folders, a KMZ with nested folders, a two-layer GeoPackage (``--layer``), files
without a CRS (``--assume-crs``) and land cover without nodata. All made in code, no mocks.
"""
from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from core.errors import GansuError, InputError
from cli.__main__ import main
from indicators.engine import compute_parks
from layers import readers
from layers.readers.csv import first_field
from tests.hostile import corpus

CASES = corpus.cases()
VECTOR = [c for c in CASES if c.kind == "vector"]
RASTER = [c for c in CASES if c.kind == "raster"]
LON, LAT = corpus.LON, corpus.LAT


# --- helpers -----------------------------------------------------------------------------------
def disk_name(filename: str) -> str:
    """The uploaded name as a file on disk (its last part; a NUL cannot be in a file name)."""
    return PurePosixPath(filename.replace("\\", "/")).name.replace("\x00", "_") or "upload"


def put(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


@pytest.fixture(scope="module")
def landcover(tmp_path_factory) -> Path:
    """IGBP land cover (grassland, code 10) around Baiyin, with nodata 255."""
    d = tmp_path_factory.mktemp("lc")
    return put(d, "lc.tif", corpus.tif(data=np.full((200, 200), 10, "uint8"),
                                       transform=Affine(0.01, 0, 103.5, 0, -0.01, 37.5)))


@pytest.fixture(scope="module")
def good_parks(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("parks")
    return put(d, "parks.geojson", corpus.gdf(["园区甲"]).to_json().encode())


def outcome(fn):
    """('ok', result) or ('error', exception) — an unexpected exception type fails the test."""
    try:
        return "ok", fn()
    except GansuError as e:
        return "error", e


def cli(tmp: Path, parks: Path, landcover: Path, *extra: str, capsys=None):
    """Run ``python -m cli parks`` in-process: (exit code, stderr, result frame or None)."""
    out = tmp / "cli-out.parquet"
    out.unlink(missing_ok=True)
    code = main(["parks", "--parks", str(parks), "--landcover", str(landcover), "--out", str(out), *extra])
    err = capsys.readouterr().err if capsys else ""
    return code, err, (gpd.read_parquet(out) if code == 0 else None)


def name_field(gdf: gpd.GeoDataFrame) -> str | None:
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    return first_field(cols, readers.NAME_FIELDS)


def assert_same_read(a: readers.ReadResult, b: readers.ReadResult) -> None:
    """Two reads of one file: same columns, attributes, CRS, geometry (area within 1e-9)."""
    assert list(a.gdf.columns) == list(b.gdf.columns)
    assert a.source_crs == b.source_crs and a.gdf.crs == b.gdf.crs
    for col in a.gdf.columns.drop(a.gdf.geometry.name):
        assert a.gdf[col].astype(str).tolist() == b.gdf[col].astype(str).tolist(), col
    area_a, area_b = shapely.area(a.gdf.geometry.values), shapely.area(b.gdf.geometry.values)
    np.testing.assert_allclose(area_b, area_a, rtol=1e-9, atol=0)
    assert shapely.equals_exact(a.gdf.geometry.values, b.gdf.geometry.values, tolerance=1e-12).all()
    assert [tuple(n) for n in a.notes] == [tuple(n) for n in b.notes]


def assert_same_error(a: GansuError, b: GansuError) -> None:
    assert type(a) is type(b), (type(a), type(b))
    assert (a.zh, a.en) == (b.zh, b.en)
    if isinstance(a, readers.CRSMissing):
        assert (a.guess, a.candidates) == (b.guess, b.candidates)


def assert_cli_matches(upload: readers.ReadResult, code: int, err: str, got, landcover: Path) -> None:
    """The CLI's table holds the upload's parks: same names, same areas (1e-9 relative)."""
    assert code == 0, err
    field = name_field(upload.gdf)
    expected = compute_parks(upload.gdf, landcover=landcover, legend="igbp", name_field=field)
    assert got["name"].astype(str).tolist() == expected["name"].astype(str).tolist()
    np.testing.assert_allclose(got["area_km2"].to_numpy(float), expected["area_km2"].to_numpy(float), rtol=1e-9)
    np.testing.assert_allclose(shapely.area(got.geometry.values), shapely.area(upload.gdf.geometry.values), rtol=1e-9)


def assert_cli_error(e: GansuError, code: int, err: str) -> None:
    """The CLI exits 2 with the upload's message in both languages."""
    assert code == 2, err
    assert "error: " in err and "错误：" in err
    assert e.en in err, (e.en, err)
    assert e.zh in err, (e.zh, err)


# --- every corpus file: upload, path entry and CLI agree ------------------------------------------
@pytest.mark.parametrize("case", VECTOR, ids=[c.id for c in VECTOR])
def test_corpus_vector_file_same_through_upload_path_and_cli(case, tmp_path, landcover, capsys):
    data = case.data()
    path = put(tmp_path, disk_name(case.filename), data)
    before = hashlib.sha256(data).hexdigest()
    up_kind, up = outcome(lambda: readers.read_vector(case.filename, data, **case.kwargs))
    path_kind, by_path = outcome(lambda: readers.read_path(path, **case.kwargs))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # the user's file is untouched
    assert up_kind == path_kind == ("ok" if case.expect == "ok" else "error"), (up_kind, path_kind, case.id)
    field = name_field(up.gdf) if up_kind == "ok" else None
    extra = ["--name-field", field] if field else []
    code, err, got = cli(tmp_path, path, landcover, *extra, capsys=capsys)
    if up_kind == "ok":
        assert_same_read(up, by_path)
        assert_cli_matches(up, code, err, got, landcover)
    else:
        assert_same_error(up, by_path)
        assert_cli_error(up, code, err)
        if isinstance(up, readers.CRSMissing) and up.guess:
            ok = readers.read_vector(case.filename, data, assume_crs=up.guess)
            code, err, got = cli(tmp_path, path, landcover, "--assume-crs", up.guess, capsys=capsys)
            assert_cli_matches(ok, code, err, got, landcover)


@pytest.mark.parametrize("case", RASTER, ids=[c.id for c in RASTER])
def test_corpus_landcover_same_through_upload_and_cli(case, tmp_path, good_parks, capsys):
    """The Targets page upload check and the CLI's --landcover refuse the same rasters with the
    same message (nodata included) and accept the same ones."""
    data = case.data()
    path = put(tmp_path, "lc.tif", data)
    up_kind, up = outcome(lambda: readers.validate_geotiff(data, "lc.tif"))
    path_kind, by_path = outcome(lambda: readers.validate_geotiff(path))
    assert up_kind == path_kind == ("ok" if case.expect == "ok" else "error")
    code, err, _ = cli(tmp_path, good_parks, path, capsys=capsys)
    if up_kind == "ok":
        assert up == by_path and code == 0, err
    else:
        assert_same_error(up, by_path)
        assert isinstance(up, InputError)
        assert_cli_error(up, code, err)


# --- Shapefile encodings as real files carry them --------------------------------------------------
NAMES = ["兰州新区", "白银高新技术产业开发区", "定西园区"]


def gbk_parks(**kw) -> dict[str, bytes]:
    g = corpus.gdf(NAMES, geoms=[shapely.box(LON + i * 0.05, LAT, LON + i * 0.05 + 0.03, LAT + 0.02)
                                 for i in range(3)], **kw)
    return corpus.shp_parts(g, encoding="GBK")


SHAPEFILE_VARIANTS = {
    "gbk_no_cpg": lambda p: {k: v for k, v in p.items() if not k.endswith(".cpg")},
    "cpg_936": lambda p: {**p, "p.cpg": b"936"},
    "cpg_CP936": lambda p: {**p, "p.cpg": b"CP936\r\n"},
    "cpg_GBK": lambda p: {**p, "p.cpg": b"GBK"},
    "cpg_ANSI_936": lambda p: {**p, "p.cpg": b"ANSI 936"},
    "prj_utf8_bom": lambda p: {**p, "p.prj": b"\xef\xbb\xbf" + p["p.prj"]},
    "in_a_folder": lambda p: {f"园区数据/shp/{k}": v for k, v in p.items()},
}


@pytest.mark.parametrize("variant", list(SHAPEFILE_VARIANTS))
def test_shapefile_encodings_zip_shp_and_cli(variant, tmp_path, landcover, capsys):
    """Chinese names come out right through the upload, a .zip path, the .shp with its sidecars
    on disk (never modified) and the CLI; the CRS of a .prj with a BOM is kept (CGCS2000 GK)."""
    parts = SHAPEFILE_VARIANTS[variant](_gk_parts() if variant == "prj_utf8_bom" else gbk_parks())
    data = corpus.zip_bytes(parts)
    up = readers.read_vector("parks.zip", data)
    assert up.gdf["名称"].tolist() == NAMES
    assert not any("unknown" in n.en or "not what" in n.en for n in up.notes), up.notes
    if variant == "prj_utf8_bom":
        assert up.source_crs == "EPSG:4524"
    zpath = put(tmp_path, "parks.zip", data)
    assert_same_read(up, readers.read_path(zpath))
    folder = tmp_path / "shp"
    for name, blob in parts.items():
        put(folder, PurePosixPath(name).name, blob)
    shp = folder / "p.shp"
    snapshot = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert_same_read(up, readers.read_path(shp))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == snapshot  # .cpg/.prj left as they were
    for target in (zpath, shp):
        code, err, got = cli(tmp_path, target, landcover, "--name-field", "名称", capsys=capsys)
        assert_cli_matches(up, code, err, got, landcover)
        assert got["name"].tolist() == NAMES


def _gk_parts() -> dict[str, bytes]:
    """The GBK parks in CGCS2000 / 3-degree Gauss-Krüger zone 36 with zone prefix (EPSG:4524)."""
    g = corpus.gdf(NAMES, geoms=[shapely.box(LON + i * 0.05, LAT, LON + i * 0.05 + 0.03, LAT + 0.02)
                                 for i in range(3)]).to_crs(4524)
    return corpus.shp_parts(g, encoding="GBK")


# --- KML folders, KMZ nesting ------------------------------------------------------------------
def _placemark(name: str, x: float, y: float) -> str:
    d = 0.02
    return (f"<Placemark><name>{name}</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
            f"{x},{y} {x + d},{y} {x + d},{y + d} {x},{y + d} {x},{y}</coordinates></LinearRing>"
            "</outerBoundaryIs></Polygon></Placemark>")


def google_earth_kml(nested: bool = False) -> bytes:
    a, b, c = (_placemark(n, LON + i * 0.05, LAT) for i, n in enumerate(NAMES))
    if nested:
        body = f"<Folder><name>兰州</name>{a}<Folder><name>白银</name>{b}<Folder><name>定西</name>{c}</Folder></Folder></Folder>"
    else:
        body = f"<Folder><name>兰州</name>{a}</Folder><Folder><name>白银</name>{b}</Folder><Folder><name>定西</name>{c}</Folder>"
    return ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<name>园区</name>{body}</Document></kml>").encode()


@pytest.mark.parametrize("fmt", ["kml_three_folders", "kmz_nested_folders"])
def test_every_kml_folder_is_read(fmt, tmp_path, landcover, capsys):
    if fmt == "kml_three_folders":
        name, data = "parks.kml", google_earth_kml()
    else:
        name, data = "parks.kmz", corpus.zip_bytes({"doc.kml": google_earth_kml(nested=True)})
    up = readers.read_vector(name, data)
    assert sorted(up.gdf["Name"]) == sorted(NAMES) and len(up.gdf) == 3
    assert sorted(up.gdf["folder"]) == sorted(["兰州", "白银", "定西"])
    assert readers.list_layers(name, data) == []  # nothing to choose: every folder is read
    path = put(tmp_path, name, data)
    assert_same_read(up, readers.read_path(path))
    code, err, got = cli(tmp_path, path, landcover, "--name-field", "Name", capsys=capsys)
    assert_cli_matches(up, code, err, got, landcover)
    assert sorted(got["name"]) == sorted(NAMES)


# --- a GeoPackage with two layers --------------------------------------------------------------
def two_layer_gpkg(tmp: Path) -> Path:
    p = tmp / "two.gpkg"
    corpus.gdf(NAMES[:2], geoms=[shapely.box(LON, LAT, LON + .03, LAT + .02),
                                 shapely.box(LON + .1, LAT, LON + .13, LAT + .02)]).to_file(p, layer="parks_a")
    corpus.gdf(NAMES[2:], geoms=[shapely.box(LON + .2, LAT, LON + .24, LAT + .03)]).to_crs(4524).to_file(
        p, layer="parks_b")
    return p


def test_two_layer_geopackage_layer_choice_and_message(tmp_path, landcover, capsys):
    path = two_layer_gpkg(tmp_path)
    data = path.read_bytes()
    assert readers.list_layers("two.gpkg", data) == ["parks_a", "parks_b"]
    assert readers.list_path_layers(path) == ["parks_a", "parks_b"]
    # no layer chosen: the same message everywhere, naming both layers
    with pytest.raises(readers.UploadError) as up_err:
        readers.read_vector("two.gpkg", data)
    with pytest.raises(readers.UploadError) as path_err:
        readers.read_path(path)
    assert_same_error(up_err.value, path_err.value)
    for text in (up_err.value.en, up_err.value.zh):
        assert "parks_a" in text and "parks_b" in text and "2" in text and "--layer" in text
    code, err, _ = cli(tmp_path, path, landcover, capsys=capsys)
    assert_cli_error(up_err.value, code, err)
    # a layer chosen: the same parks everywhere
    for layer, names in (("parks_a", NAMES[:2]), ("parks_b", NAMES[2:])):
        up = readers.read_vector("two.gpkg", data, layer=layer)
        assert up.gdf["名称"].tolist() == names and up.layer == layer
        assert_same_read(up, readers.read_path(path, layer=layer))
        code, err, got = cli(tmp_path, path, landcover, "--layer", layer, capsys=capsys)
        assert_cli_matches(up, code, err, got, landcover)
    # a layer that is not there
    with pytest.raises(readers.UploadError) as e:
        readers.read_vector("two.gpkg", data, layer="nope")
    code, err, _ = cli(tmp_path, path, landcover, "--layer", "nope", capsys=capsys)
    assert_cli_error(e.value, code, err)


def test_zip_with_two_shapefiles_asks_which(tmp_path, landcover, capsys):
    a = corpus.shp_parts(corpus.gdf(NAMES[:1]))
    b = corpus.shp_parts(corpus.gdf(NAMES[1:2]))
    data = corpus.zip_bytes({**{f"a/{k.replace('p.', 'east.')}": v for k, v in a.items()},
                             **{f"b/{k.replace('p.', 'west.')}": v for k, v in b.items()}})
    assert readers.list_layers("two.zip", data) == ["east", "west"]
    with pytest.raises(readers.UploadError) as e:
        readers.read_vector("two.zip", data)
    assert "east" in e.value.en and "west" in e.value.zh
    path = put(tmp_path, "two.zip", data)
    code, err, _ = cli(tmp_path, path, landcover, capsys=capsys)
    assert_cli_error(e.value, code, err)
    up = readers.read_vector("two.zip", data, layer="west")
    assert up.gdf["名称"].tolist() == NAMES[1:2]
    code, err, got = cli(tmp_path, path, landcover, "--layer", "west", capsys=capsys)
    assert_cli_matches(up, code, err, got, landcover)


# --- no CRS: the same prompt, then the user's choice -----------------------------------------------
def test_missing_crs_same_prompt_then_assume_crs(tmp_path, landcover, capsys):
    g = corpus.gdf(["高斯"]).to_crs(4524)  # 3-degree GK with zone prefix 36: the guess names it
    data = corpus.shp_zip(g, drop=(".prj",))
    with pytest.raises(readers.CRSMissing) as e:
        readers.read_vector("gk.zip", data)
    assert e.value.guess == "EPSG:4524"
    path = put(tmp_path, "gk.zip", data)
    code, err, _ = cli(tmp_path, path, landcover, capsys=capsys)
    assert_cli_error(e.value, code, err)
    assert "EPSG:4524" in err
    up = readers.read_vector("gk.zip", data, assume_crs=e.value.guess)
    code, err, got = cli(tmp_path, path, landcover, "--assume-crs", "EPSG:4524", capsys=capsys)
    assert_cli_matches(up, code, err, got, landcover)


def test_gcj02_flag_matches_the_upload_option(tmp_path, landcover, capsys):
    data = corpus.gdf(["高德"]).to_json().encode()
    up = readers.read_vector("g.geojson", data, gcj02=True)
    path = put(tmp_path, "g.geojson", data)
    assert_same_read(up, readers.read_path(path, gcj02=True))
    code, err, got = cli(tmp_path, path, landcover, "--gcj02", capsys=capsys)
    assert_cli_matches(up, code, err, got, landcover)


def test_transport_and_zones_go_through_the_registry(tmp_path, landcover, good_parks, capsys):
    """--transport keeps lines (not polygons only); --zones in a GBK Shapefile zip keeps its names;
    a transport file without CRS gets the CRS prompt."""
    rail = tmp_path / "rail.kml"
    rail.write_text('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
                    f"<Placemark><name>兰新铁路</name><LineString><coordinates>{LON},{LAT + 0.1} {LON + 0.1},{LAT + 0.1}"
                    "</coordinates></LineString></Placemark></Document></kml>", encoding="utf-8")
    zones = corpus.gdf(["河西走廊"], geoms=[shapely.box(LON - 1, LAT - 1, LON + 1, LAT + 1)], col="zone")
    zpath = put(tmp_path, "zones.zip", corpus.zip_bytes(corpus.shp_parts(zones, encoding="GBK")))
    code, err, got = cli(tmp_path, good_parks, landcover, "--transport", f"{rail}:railway", "--zones", str(zpath),
                         capsys=capsys)
    assert code == 0, err
    assert got["zone"].tolist() == ["河西走廊"]
    assert 8 < got["dist_railway_km"].iloc[0] < 12
    nocrs = put(tmp_path, "roads.zip", corpus.shp_zip(drop=(".prj",)))
    code, err, _ = cli(tmp_path, good_parks, landcover, "--transport", f"{nocrs}:major_road", capsys=capsys)
    assert code == 2 and "--transport major_road" in err and "best guess EPSG:4490" in err and "推测 EPSG:4490" in err


def test_registry_declares_every_format():
    kinds = {r.name: r.kind for r in readers.REGISTRY}
    assert {"geojson", "gpkg", "kml", "shapefile", "csv"} <= {k for k, v in kinds.items() if v == "vector"}
    assert kinds["osm"] == "osm" and kinds["geotiff"] == "raster"
    assert readers.reader_for("a/b/x.osm.pbf").name == "osm"
    assert readers.reader_for("X.KMZ").name == "kml" and readers.reader_for("p.shp").name == "shapefile-dir"
    assert readers.reader_for("x.gpkg").layers == "choose" and readers.reader_for("x.kml").layers == "all"
    assert readers.extensions("vector", upload_only=True) == readers.PARK_EXT

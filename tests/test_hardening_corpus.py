"""The hostile-input corpus (tests/hostile/corpus.py, ≥ 40 files made in code): every file gets
its asserted outcome — a message naming the problem in Chinese and English, a CRS prompt, or a
correct read — and no upload ever writes outside its private temporary folder. Also: limits come
from the environment, stored text is data (SQL quotes, markup, control characters), a damaged
store gives a clear message, and the engine refuses unusable rasters given by path."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from core.errors import InputError
from layers import readers
from layers.readers import raster as rasters
from tests.hostile import corpus

REPO = Path(__file__).resolve().parent.parent
CASES = corpus.cases()


def test_the_corpus_is_large_and_covers_every_family():
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)
    ids = " ".join(c.id for c in CASES)
    for family in ("truncated_zip", "without_shp", "without_shx", "without_dbf", "prj_missing", "prj_garbage",
                   "cpg_lying", "gbk", "gb18030", "zero_features", "self_intersecting", "unclosed", "empty",
                   "nan", "polygon_z", "polygon_m", "collection", "out_of_range", "swapped", "tif_no_crs",
                   "tif_rotated", "tif_nodata_unset", "tif_float", "tif_header_100k", "kml_external_entity",
                   "kmz_bomb", "zip_bomb", "zip_dotdot", "zip_absolute", "zip_symlink", "name_dotdot",
                   "csv_mixed", "csv_bom", "csv_comma_decimals", "csv_missing", "crs_member", "points_100k",
                   "html", "sql", "control_chars"):
        assert family in ids, family


@pytest.fixture()
def private_tmp(tmp_path, monkeypatch):
    """Uploads get a private temp folder under tmp_path; the working directory must not change."""
    t = tmp_path / "tmp"
    t.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(t))
    before = set(os.listdir(REPO))
    yield t
    assert set(os.listdir(REPO)) == before


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_outcome(case, private_tmp):
    data = case.data()
    read = (lambda: rasters.validate_geotiff(data, case.filename)) if case.kind == "raster" else \
        (lambda: readers.read_vector(case.filename, data, **case.kwargs))
    leftovers = lambda: [p for p in private_tmp.rglob("*") if p.name.startswith("gansu-up-")]  # noqa: E731
    if case.expect == "ok":
        res = read()
        if case.check:
            case.check(res)
        if case.note:
            assert any(case.note in en for _, en in res.notes), res.notes
        if case.kind == "vector":
            assert res.gdf.crs.to_epsg() == 4326 and res.gdf.geometry.is_valid.all()
            for col in res.gdf.columns.drop(res.gdf.geometry.name):
                assert not res.gdf[col].astype(str).str.contains("\x00").any()
    else:
        exc = readers.CRSMissing if case.expect == "crs" else (InputError if case.kind == "raster" else readers.UploadError)
        with pytest.raises(exc) as e:
            read()
        if case.expect == "error" and case.kind == "vector":
            assert not isinstance(e.value, readers.CRSMissing)
        assert case.en in e.value.en, e.value.en
        assert case.zh in e.value.zh, e.value.zh
        assert e.value.en != e.value.zh and len(e.value.en) < 600 and len(e.value.zh) < 600
        assert "Traceback" not in e.value.en
    assert not leftovers(), leftovers()  # the private extraction folder is always removed


def test_crs_prompt_then_the_users_choice_reads_the_file():
    case = next(c for c in CASES if c.id == "prj_garbage")
    with pytest.raises(readers.CRSMissing) as e:
        readers.read_vector(case.filename, case.data())
    assert e.value.guess == "EPSG:4490" and ".prj" in e.value.en
    res = readers.read_vector(case.filename, case.data(), assume_crs=e.value.guess)
    corpus._near_baiyin(res)


def test_zip_bombs_are_refused_before_any_byte_is_extracted(private_tmp, monkeypatch):
    """The declared sizes decide: nothing is written to disk for a bomb."""
    written = []
    real_open = open

    def spy(file, mode="r", *a, **k):
        if "w" in str(mode) and str(file).startswith(str(private_tmp)):
            written.append(str(file))
        return real_open(file, mode, *a, **k)

    monkeypatch.setattr("builtins.open", spy)
    for cid in ("zip_bomb_declared", "zip_bomb_ratio", "kmz_bomb_declared", "kmz_bomb_ratio", "zip_too_many_members"):
        case = next(c for c in CASES if c.id == cid)
        with pytest.raises(readers.UploadError):
            readers.read_vector(case.filename, case.data())
    assert written == []


def test_limits_come_from_the_environment():
    code = ("from core import limits; from layers import readers; print(limits.MAX_UPLOAD_BYTES, readers.MAX_FEATURES, "
            "limits.MAX_RASTER_PIXELS, limits.MAX_COMPUTE_BYTES)")
    env = {**os.environ, "GANSU_MAX_UPLOAD_MB": "3", "GANSU_MAX_FEATURES": "10", "GANSU_MAX_RASTER_PIXELS": "1e6",
           "GANSU_MAX_COMPUTE_MB": "64"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(3 * 2**20), "10", "1000000", str(64 * 2**20)]
    env["GANSU_MAX_UPLOAD_MB"] = "nonsense"  # a bad value falls back to the default
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == str(200 * 2**20)


def test_feature_vertex_and_memory_limits(monkeypatch):
    g = corpus.gdf(["a", "b", "c"])
    data = g.to_json().encode()
    monkeypatch.setattr(readers, "MAX_FEATURES", 2)
    with pytest.raises(readers.UploadError, match="too many features") as e:
        readers.read_vector("x.geojson", data)
    assert "要素过多" in e.value.zh
    monkeypatch.setattr(readers, "MAX_FEATURES", 100)
    monkeypatch.setattr(readers, "MAX_VERTICES", 10)
    with pytest.raises(readers.UploadError, match="too many vertices"):
        readers.read_vector("x.geojson", data)
    monkeypatch.setattr(readers, "MAX_VERTICES", 10**9)
    monkeypatch.setattr(readers, "MAX_COMPUTE_BYTES", 1000)
    with pytest.raises(readers.UploadError, match="GB of memory") as e:
        readers.read_vector("x.geojson", data)
    assert "内存" in e.value.zh


def test_raster_limits_apply_to_paths_given_to_the_engine(tmp_path, monkeypatch):
    """The indicator engine (CLI, Targets page by path) refuses the same rasters."""
    from zonal.rastersource import LandcoverRaster
    from core import limits

    for cid, needle in (("tif_header_100k_forged", "GANSU_MAX_RASTER_PIXELS"), ("tif_rotated", "rotated"),
                        ("tif_header_forged_no_data", "holds only"), ("tif_float", "integers")):
        p = tmp_path / f"{cid}.tif"
        p.write_bytes(next(c for c in CASES if c.id == cid).data())
        with pytest.raises(InputError, match=needle):
            with LandcoverRaster(p):
                pass
    big_block = tmp_path / "strip.tif"
    big_block.write_bytes(corpus.tif(tiled=False))
    monkeypatch.setattr(limits, "MAX_BLOCK_BYTES", 100)  # one 40-pixel-wide strip row block is larger
    with pytest.raises(InputError, match="internal block") as e:
        with LandcoverRaster(big_block):
            pass
    assert "内部块" in e.value.zh


def test_stored_text_is_data_not_sql_or_markup(tmp_path):
    from storage.store import Store

    s = Store(tmp_path / "s.duckdb")
    g = corpus.gdf([corpus.SQL])
    g["html"] = [corpus.HTML]
    g["ctrl"] = [corpus.CTRL]
    ids = s.add_parks(g, names=[corpus.SQL], source="upload", source_file="../../etc/passwd")
    s.add_parks(g, names=[corpus.CTRL], source="upload")
    s.save_scenario(corpus.SQL, ids, {"w": 1.0})
    s.save_user_layer(g, replaces="zones", name=corpus.HTML, original_filename="..\\..\\x.zip", source_crs=None)
    parks = s.parks()
    assert list(parks["name"])[0] == corpus.SQL  # quotes intact, no injection
    assert "\x00" not in parks["name"].iloc[1] and "\x1b" not in parks["name"].iloc[1]
    assert parks["attrs"].iloc[0]["html"] == corpus.HTML and parks["attrs"].iloc[0]["ctrl"] == corpus.CTRL
    assert set(s.scenarios()) == {corpus.SQL}
    layer = s.load_user_layer(s.active_user_layer("zones")["upload_id"])
    assert layer["html"].iloc[0] == corpus.HTML
    tables = set(s.query_df("SELECT table_name FROM information_schema.tables")["table_name"])
    assert {"parks", "scenarios", "user_layers", "user_features"} <= tables
    assert not (tmp_path / "etc").exists() and list(tmp_path.iterdir()) == [tmp_path / "s.duckdb"] or \
        {p.name for p in tmp_path.iterdir()} <= {"s.duckdb", "s.duckdb.wal"}


def test_damaged_store_file_gives_a_clear_message(tmp_path):
    from storage.db import StoreError
    from storage.store import Store

    bad = tmp_path / "store.duckdb"
    bad.write_bytes(b"this is not a database " * 500)
    with pytest.raises(StoreError) as e:
        Store(bad)
    assert "not a valid DuckDB database" in str(e.value) and "已损坏" in str(e.value)
    assert bad.read_bytes().startswith(b"this is not")  # never overwritten: it may hold saved work

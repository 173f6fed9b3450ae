"""Hostile files through the real pages (AppTest): the message is shown in the UI language and
names the problem, nothing reaches the store (parks, user layers, land-cover copies) and the
page keeps working in the same session (a good file is then read and saved)."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import paths
from tests.hostile import corpus

REPO = Path(__file__).resolve().parent.parent
BY_ID = {c.id: c for c in corpus.cases()}
NEEDLE = {  # what the page must say, per language
    "truncated_zip": {"en": "corrupt", "zh": "损坏"},
    "zip_symlink": {"en": "symbolic link", "zh": "符号链接"},
    "zip_bomb_ratio": {"en": "compression ratio", "zh": "压缩比"},
    "kml_external_entity": {"en": "DOCTYPE", "zh": "实体"},
    "swapped_axes": {"en": "latitude, longitude", "zh": "纬度、经度"},
    "nan_coordinates_geojson": {"en": "not a number", "zh": "非数值"},
    "csv_mixed_encodings": {"en": "mixes text encodings", "zh": "混合"},
    "prj_garbage": {"en": ".prj file is not a valid CRS", "zh": ".prj 文件无法识别"},
    "geometry_collection_no_polygon": {"en": "collection", "zh": "几何集合"},
    "zip_without_dbf": {"en": ".dbf", "zh": ".dbf"},
}


def page(name: str, lang: str, **state) -> AppTest:
    at = AppTest.from_file(str(REPO / "pages" / name), default_timeout=180)
    at.session_state["lang"] = lang
    for k, v in state.items():
        at.session_state[k] = v
    return at


def _upload(at: AppTest, key: str, case) -> None:
    at.file_uploader(key=key).set_value((case.filename.rsplit("/", 1)[-1], case.data(), "application/octet-stream"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_parks_page_refuses_hostile_files_and_stays_usable(store, lang):
    at = page("parks.py", lang)
    at.run()
    n_rows = len(at.dataframe[0].value)
    for cid, needle in NEEDLE.items():
        _upload(at, "parks_upload", BY_ID[cid])
        errs = " ".join(e.value for e in at.error)
        assert needle[lang] in errs, (cid, errs)
        assert ("无法读取文件" if lang == "zh" else "Cannot read") in errs
        assert not [b for b in at.button if b.key == "parks_upload_save"]  # nothing to save
        assert len(store.parks()) == 0
        assert len(at.dataframe[0].value) == n_rows  # the page still works
    # the same session then reads and saves a good file
    good = corpus.gdf(["会话仍可用园区"])
    at.file_uploader(key="parks_upload").set_value(("good.geojson", good.to_json().encode(), "application/geo+json"))
    at.run()
    assert not at.error, [e.value for e in at.error]
    at.button(key="parks_upload_save").click()
    at.run()
    assert not at.exception
    assert list(store.parks()["name"]) == ["会话仍可用园区"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_data_page_replacement_refuses_hostile_files(store, lang):
    before = len(store.query_df("SELECT * FROM user_layers"))
    at = page("data.py", lang, data_replace_target="zones")
    at.run()
    for cid in ("zip_dotdot", "kmz_bomb_declared", "empty_polygon", "geojson_crs_member_bogus"):
        case = BY_ID[cid]
        _upload(at, "data_replace_file", case)
        at.button(key="data_replace_save").click()
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        errs = " ".join(e.value for e in at.error)
        assert (case.zh if lang == "zh" else case.en) in errs, (cid, errs)
        assert len(store.query_df("SELECT * FROM user_layers")) == before
        assert not at.success


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_targets_page_refuses_hostile_land_cover_and_keeps_no_copy(dataset, lang):
    folder = paths.data_root() / "user_rasters"
    before = set(folder.iterdir()) if folder.exists() else set()
    at = page("targets.py", lang, targets_lc_source="upload", targets_lc_legend="igbp")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    for cid in ("tif_no_crs", "tif_header_100k_forged", "tif_nodata_unset", "tif_not_a_tiff", "tif_truncated"):
        case = BY_ID[cid]
        _upload(at, "targets_lc_file", case)
        errs = " ".join(e.value for e in at.error)
        assert (case.zh if lang == "zh" else case.en) in errs, (cid, errs)
        now = set(folder.iterdir()) if folder.exists() else set()
        assert now == before  # nothing kept on disk
    assert any(t.value for t in at.title)  # page alive

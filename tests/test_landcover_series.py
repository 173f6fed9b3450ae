"""A land-cover series in the workspace: several land-cover datasets, one per year, one legend and one
grid, chosen together in the ``landcover_series`` slot of the data in use (storage/series_rules.py,
storage/series_register.py, storage/workspace.py ``check_series``/``series``, python -m cli workspace
add-series / use --as landcover_series, the Data page's selector, ui/raster_sources.py
``series_in_use``). Real 20 × 20 GeoTIFFs written here (CLCD codes, nodata 0), a temporary store."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from streamlit.testing.v1 import AppTest

from core import paths
from core.errors import InputError
from indicators import runs
from storage import raster_register, series_register
from storage import workspace as ws
from storage.store import Store
from tests import workspace_fixtures as wf
from ui import data_in_use
from ui import raster_sources as rs

REPO = Path(__file__).resolve().parent.parent
ORIGIN = wf.grid((103.55, 36.35, 103.75, 36.5))[0]  # a 30 m Albers grid near 兰州新区
SPLIT = {2000: 10, 2010: 14, 2020: 17}  # rows 1..split-1 forest (2), split..19 grassland (4), row 0 no data
COUNTS = {2000: {2: 180, 4: 200}, 2010: {2: 260, 4: 120}, 2020: {2: 320, 4: 60}}  # 20 px a row


def year_codes(year: int) -> np.ndarray:
    a = np.full((20, 20), 4, dtype="uint8")
    a[1:SPLIT[year]] = 2
    a[0] = 0
    return a


def write_year(folder: Path, year: int, transform: Affine = ORIGIN, crs=wf.EQUAL_AREA, shape=(20, 20),
               codes: np.ndarray | None = None, stem: str = "clcd") -> Path:
    data = year_codes(year) if codes is None else codes
    if shape != (20, 20):
        data = np.resize(data, shape)
    return wf.write_tif(folder / f"{stem}_{year}.tif", data, transform, crs=crs)


@pytest.fixture()
def store(tmp_path, monkeypatch):
    yield from wf.workspace_store(tmp_path, monkeypatch)


@pytest.fixture()
def years(tmp_path) -> dict[int, Path]:
    folder = tmp_path / "files"
    folder.mkdir()
    return {y: write_year(folder, y) for y in (2000, 2010, 2020)}


def workspace_folders() -> list[str]:
    root = paths.workspace_dir()
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


# --- registration -----------------------------------------------------------------------------------
def test_a_three_year_series_registers_and_is_in_use_in_year_order(store, years):
    items = [(2020, years[2020]), (2000, years[2000]), (2010, years[2010])]  # given out of order
    ds = series_register.register_series(store, items, legend="clcd", source="made in code", licence="CC0", use=True)
    assert [d.year for d in ds] == [2000, 2010, 2020]
    assert [d.codes for d in ds] == [COUNTS[2000], COUNTS[2010], COUNTS[2020]]
    assert {d.name for d in ds} == {"clcd"} and {d.legend for d in ds} == {"clcd"}  # "clcd_2000" without its year
    assert all(d.role == "landcover" and d.n_pixels == 400 and d.source == "made in code" for d in ds)
    assert [d.sha256 for d in ds] == [ws.sha256_file(years[y]) for y in (2000, 2010, 2020)]
    assert ws.in_use(store)["landcover_series"] == [d.id for d in ds]
    assert [(d.id, d.year) for d in ws.series(store)] == [(d.id, d.year) for d in ds]
    assert ws.in_use(store)["landcover"] == []  # the land cover of the parks run is untouched
    # the same three, registered one by one, put in use in any order: kept in year order
    one = [raster_register.register_landcover(store, [years[y]], legend="clcd", year=y) for y in (2010, 2020, 2000)]
    ws.use(store, "landcover_series", [d.id for d in one])
    assert ws.in_use(store)["landcover_series"] == [one[2].id, one[0].id, one[1].id]


@pytest.mark.parametrize("how, en, zh", [
    ("corner", "upper-left corner", "左上角"),
    ("pixel", "pixel size 60 × 60 instead of 30 × 30", "像元大小 60 × 60（应为 30 × 30）"),
    ("size", "size 21 × 20 pixels instead of 20 × 20", "大小 21 × 20 像元（应为 20 × 20）"),
    ("crs", "CRS EPSG:32648 instead of", "坐标系 EPSG:32648"),
])
def test_a_year_on_another_grid_is_refused_by_name_and_nothing_is_registered(store, years, tmp_path, how, en, zh):
    odd = tmp_path / "odd"
    odd.mkdir()
    if how == "corner":
        f = write_year(odd, 2010, ORIGIN @ Affine.translation(1, 0))
    elif how == "pixel":
        f = write_year(odd, 2010, Affine(60, 0, ORIGIN.c, 0, -60, ORIGIN.f))
    elif how == "size":
        f = write_year(odd, 2010, shape=(20, 21))
    else:
        f = write_year(odd, 2010, Affine(30, 0, 250000, 0, -30, 4030000), crs="EPSG:32648")
    with pytest.raises(InputError) as e:
        series_register.register_series(store, [(2000, years[2000]), (2010, f), (2020, years[2020])], legend="clcd",
                                         use=True)
    assert "2010 (clcd_2010.tif) differs from 2000 (clcd_2000.tif)" in e.value.en and en in e.value.en
    assert "2010 (clcd_2010.tif) 与 2000 (clcd_2000.tif) 不同" in e.value.zh and zh in e.value.zh
    assert ws.datasets(store) == [] and ws.in_use(store)["landcover_series"] == [] and workspace_folders() == []


def test_duplicate_years_are_refused(store, years, tmp_path):
    with pytest.raises(InputError) as e:
        series_register.register_series(store, [(2000, years[2000]), (2000, years[2010]), (2020, years[2020])],
                                         legend="clcd")
    assert "a year appears more than once in the land-cover series (2000: 2000 (clcd_2000.tif), 2000 (clcd_2010.tif))" \
        in e.value.en and "同一年份出现多次（2000" in e.value.zh
    assert ws.datasets(store) == [] and workspace_folders() == []
    # registered datasets of the same year (or with none) cannot be one series either
    a = raster_register.register_landcover(store, [years[2000]], legend="clcd", year=2000, name="A")
    b = raster_register.register_landcover(store, [years[2010]], legend="clcd", year=2000, name="B")
    c = raster_register.register_landcover(store, [years[2020]], legend="clcd", name="C")
    with pytest.raises(InputError) as e:
        ws.use(store, "landcover_series", [a.id, b.id])
    assert "(2000: A 2000 (clcd_2000.tif), B 2000 (clcd_2010.tif))" in e.value.en and "每年只能有一个数据集" in e.value.zh
    with pytest.raises(InputError) as e:
        ws.use(store, "landcover_series", [a.id, c.id])
    assert "needs its year: C (clcd_2020.tif) has none" in e.value.en and "C (clcd_2020.tif) 没有年份" in e.value.zh
    assert ws.in_use(store)["landcover_series"] == []


def test_two_legends_are_refused(store, years, tmp_path):
    # a year whose codes are WorldCover's under the legend of the first: refused, the earlier year's scan undone
    wc = write_year(tmp_path, 2010, codes=np.where(year_codes(2010) == 2, 10, np.where(year_codes(2010) == 4, 30, 0))
                    .astype("uint8"), stem="wc")
    with pytest.raises(InputError) as e:
        series_register.register_series(store, [(2000, years[2000]), (2010, wc), (2020, years[2020])], legend="clcd")
    assert "wc_2010.tif holds codes outside the legend 'clcd': [10, 30]" in e.value.en and "图例“clcd”之外的代码" in e.value.zh
    assert ws.datasets(store) == [] and workspace_folders() == []
    # registered years of two legends (the same codes read as CLCD and as IGBP): not one series
    a = raster_register.register_landcover(store, [years[2000]], legend="clcd", year=2000, name="A")
    b = raster_register.register_landcover(store, [years[2010]], legend="igbp", year=2010, name="B")
    with pytest.raises(InputError) as e:
        ws.use(store, "landcover_series", [b.id, a.id])
    assert e.value.en == ("the years of a land-cover series must use one legend: A 2000 (clcd_2000.tif) uses clcd, "
                          "B 2010 (clcd_2010.tif) uses igbp.")
    assert "须使用同一图例：A 2000 (clcd_2000.tif) 为 clcd，B 2010 (clcd_2010.tif) 为 igbp" in e.value.zh
    assert ws.in_use(store)["landcover_series"] == []


def test_the_legend_detected_on_the_first_year_holds_for_every_year(store, tmp_path):
    first = np.where(year_codes(2000) == 2, 95, np.where(year_codes(2000) == 4, 30, 0)).astype("uint8")  # 95: WorldCover only
    later = np.where(year_codes(2010) == 2, 10, np.where(year_codes(2010) == 4, 30, 0)).astype("uint8")  # 10, 30: ambiguous
    ds = series_register.register_series(store, [(2000, write_year(tmp_path, 2000, codes=first, stem="wc")),
                                                 (2010, write_year(tmp_path, 2010, codes=later, stem="wc"))])
    assert [d.legend for d in ds] == ["worldcover", "worldcover"] and [d.codes for d in ds] == [{95: 180, 30: 200},
                                                                                               {10: 260, 30: 120}]
    assert ds[0].notes == (("根据像元代码自动识别图例：worldcover", "legend detected from the codes: worldcover"),)


def test_use_with_one_dataset_is_refused_and_one_year_left_is_reported(store, years):
    a = raster_register.register_landcover(store, [years[2000]], legend="clcd", year=2000)
    b = raster_register.register_landcover(store, [years[2010]], legend="clcd", year=2010)
    with pytest.raises(InputError) as e:
        ws.use(store, "landcover_series", [a.id])
    assert "needs at least two years (1 given)" in e.value.en and "至少需要两个年份" in e.value.zh
    with pytest.raises(InputError):
        series_register.register_series(store, [(2000, years[2000])], legend="clcd")
    assert ws.in_use(store)["landcover_series"] == [] and ws.series(store) == []
    ws.use(store, "landcover_series", [b.id, a.id])
    ws.remove(store, b.id, confirm=True)  # the store drops it from the series: one year left
    with pytest.raises(InputError) as e:
        ws.series(store)
    assert "has one year left (clcd_2000 2000 (clcd_2000.tif))" in e.value.en and "只剩一个年份" in e.value.zh
    ws.use(store, "landcover_series", [])  # no series: allowed
    assert ws.series(store) == []


# --- the command line -------------------------------------------------------------------------------
def test_the_cli_adds_a_series_and_puts_years_in_use(tmp_path, years):
    env = {**os.environ, "GANSU_STORE": str(tmp_path / "cli.duckdb"), "GANSU_WORKSPACE_DIR": str(tmp_path / "ws"),
           "GANSU_IMPORT_DIR": str(tmp_path / "import")}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "cli", "workspace", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=300)

    r = run("add-series", f"2020={years[2020]}", f"2000={years[2000]}", f"2010={years[2010]}", "--legend", "clcd",
            "--name", "CLCD", "--use")
    assert r.returncode == 0, r.stderr
    ids = r.stdout.strip().splitlines()[-1].split(",")
    assert len(ids) == 3 and all(i.startswith("D") and len(i) == 10 for i in ids)
    assert "registered landcover 'CLCD' 2000" in r.stderr and "in use as landcover_series" in r.stderr
    s = Store(tmp_path / "cli.duckdb")
    try:
        assert ws.in_use(s)["landcover_series"] == ids and [d.year for d in ws.series(s)] == [2000, 2010, 2020]
    finally:
        s.close()
    r = run("use", ids[0], "--as", "landcover_series")  # one year: refused, bilingual, exit 2
    assert r.returncode == 2 and "at least two years" in r.stderr and "至少需要两个年份" in r.stderr
    r = run("use", ids[2], ids[0], "--as", "landcover_series")
    assert r.returncode == 0, r.stderr
    assert "IN USE: landcover_series" in run("list").stdout
    s = Store(tmp_path / "cli.duckdb")
    try:
        assert ws.in_use(s)["landcover_series"] == [ids[0], ids[2]]
    finally:
        s.close()
    r = run("add-series", f"2021:{years[2000]}", f"2022={years[2010]}")
    assert r.returncode == 2 and "is not YEAR=PATH" in r.stderr and "不是 年份=文件" in r.stderr


# --- the app: the Data page's selector, the series for the pages, the parks run untouched ---------------
@pytest.fixture()
def page_env(dataset, tmp_path, monkeypatch):
    yield from wf.page_store(tmp_path, monkeypatch)


def data_page(lang: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "pages" / "data.py"), default_timeout=180)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang, label, refusal", [("zh", "土地覆被年度序列", "至少需要两个年份"),
                                                  ("en", "Land-cover series", "needs at least two years")])
def test_the_data_page_offers_the_series_and_refuses_a_bad_choice_in_words(page_env, years, lang, label, refusal):
    ds = [raster_register.register_landcover(page_env, [years[y]], legend="clcd", year=y, name="CLCD")
          for y in (2000, 2010, 2020)]
    at = data_page(lang)
    box = at.multiselect(key="ws_use_landcover_series")
    assert box.label == label and box.value == []
    shown = " | ".join(box.options)
    assert all(f"CLCD {y}" in shown for y in (2000, 2010, 2020)), shown
    at.selectbox(key="ws_use_landcover").set_value(ds[0].id)
    box.set_value([ds[1].id])  # one year, with another change: refused before anything is saved
    at.button(key="ws_use_apply").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert refusal in " ".join(e.value for e in at.error)
    assert ws.in_use(page_env)["landcover_series"] == [] and ws.in_use(page_env)["landcover"] == []
    at.multiselect(key="ws_use_landcover_series").set_value([ds[2].id, ds[0].id, ds[1].id])
    at.button(key="ws_use_apply").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert ws.in_use(page_env)["landcover_series"] == [d.id for d in ds]


def test_the_series_in_use_for_the_pages_and_the_parks_run_untouched(page_env, years):
    before = runs.inputs_from_workspace(page_env)
    assert rs.series_in_use() is None
    series_register.register_series(page_env, [(y, years[y]) for y in (2000, 2010, 2020)], legend="clcd", name="CLCD",
                                    use=True)
    got = rs.series_in_use()
    assert got == ([(y, years[y].resolve(), f"CLCD {y}") for y in (2000, 2010, 2020)], "clcd")
    after = runs.inputs_from_workspace(page_env)
    assert after.fingerprint == before.fingerprint and after.parts == before.parts
    assert not any(role == "landcover_series" for role, *_ in after.datasets)
    # a year's file edited after registration: the series is refused by name, the parks run is not
    data = year_codes(2010)
    data[5, 5] = 9
    wf.write_tif(years[2010], data, ORIGIN)
    with pytest.raises(InputError) as e:
        rs.series_in_use()
    assert "dataset 'CLCD': its file clcd_2010.tif changed after it was registered" in e.value.en
    assert data_in_use.inputs().fingerprint == before.fingerprint
    assert [role for role, _ in data_in_use.datasets_in_use()] == []

"""AppTest of the Parks and Siting pages: uploads in every format add parks with indicators;
bad input is refused with a clear message and nothing saved; weights move the ranking as
expected on a constructed case; a park on protected land is excluded with its reason."""
import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from streamlit.testing.v1 import AppTest

from core import paths
from storage.store import Store
from reports import column_label
from ui.mdtext import unescape

REPO = Path(__file__).resolve().parent.parent


def page(name: str, lang: str = "en", **state) -> AppTest:
    at = AppTest.from_file(str(REPO / "pages" / name), default_timeout=180)
    at.session_state["lang"] = lang
    for k, v in state.items():
        at.session_state[k] = v
    return at


def _park(lon, lat, name):
    return gpd.GeoDataFrame({"名称": [name]}, geometry=[shapely.box(lon, lat, lon + 0.03, lat + 0.02)], crs=4326)


def _files(tmp: Path) -> dict[str, tuple[str, bytes]]:
    g = _park(104.2, 36.5, "上传园区甲")
    out = {"geojson": ("a.geojson", g.to_json().encode())}
    g.to_file(tmp / "a.gpkg", layer="parks", engine="pyogrio")
    out["gpkg"] = ("a.gpkg", (tmp / "a.gpkg").read_bytes())
    d = tmp / "shp"
    d.mkdir()
    g.to_crs(4524).to_file(d / "a.shp", encoding="GBK", engine="pyogrio")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in d.iterdir():
            if p.suffix != ".cpg":
                z.write(p, p.name)
    out["zip"] = ("a.zip", buf.getvalue())
    g.rename(columns={"名称": "Name"}).to_file(tmp / "a.kml", driver="KML", engine="pyogrio")
    out["kml"] = ("a.kml", (tmp / "a.kml").read_bytes())
    kbuf = io.BytesIO()
    with zipfile.ZipFile(kbuf, "w") as z:
        z.write(tmp / "a.kml", "doc.kml")
    out["kmz"] = ("a.kmz", kbuf.getvalue())
    out["csv"] = ("a.csv", "名称,经度,纬度,面积\n上传园区甲,104.215,36.51,6\n".encode("gbk"))
    return out


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "zip", "kml", "kmz", "csv"])
def test_upload_each_format_adds_parks_with_indicators(store, tmp_path, fmt):
    fname, data = _files(tmp_path)[fmt]
    at = page("parks.py")
    at.run()
    at.file_uploader(key="parks_upload").set_value((fname, data, "application/octet-stream"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.button(key="parks_upload_save").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    saved = store.parks()
    assert len(saved) == 1
    # the uploader starts empty after a save: no second click can save the same file twice
    assert not [b for b in at.button if b.key == "parks_upload_save"]
    assert [u.value for u in at.file_uploader] == [None]
    expected = "上传园区甲"
    assert saved["name"].iloc[0] == expected, saved["name"].iloc[0]
    table = at.dataframe[0].value  # headers are labels with units (English UI)
    row = table[table[column_label("name", "en")] == expected]
    assert len(row) == 1 and np.isfinite(row[column_label("carbon_stock_tc", "en")].iloc[0])
    assert row[column_label("area_km2", "en")].iloc[0] > 1


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("fname,data,needle", [
    ("bad.zip", b"PK\x03\x04garbage", {"en": "corrupt", "zh": "损坏"}),
    ("slip.zip", None, {"en": "unsafe path", "zh": "不安全"}),
    ("noshp.zip", "readme", {"en": "no .shp", "zh": ".shp"}),
    ("points.geojson", "points", {"en": "polygons are expected", "zh": "需要面"}),
    ("big.geojson", "big", {"en": "too large", "zh": "过大"}),
])
def test_bad_uploads_give_a_clear_message_and_save_nothing(store, monkeypatch, lang, fname, data, needle):
    from layers import readers

    if data is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("../../etc/evil.shp", b"x")
        data = buf.getvalue()
    elif data == "readme":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("readme.txt", b"x")
        data = buf.getvalue()
    elif data == "points":
        data = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(104, 36)], crs=4326).to_json().encode()
    elif data == "big":
        monkeypatch.setattr(readers, "MAX_UPLOAD_BYTES", 50)
        data = _park(104, 36, "x").to_json().encode()
    at = page("parks.py", lang)
    at.run()
    at.file_uploader(key="parks_upload").set_value((fname, data, "application/octet-stream"))
    at.run()
    assert not at.exception
    errs = " ".join(e.value for e in at.error)
    assert needle[lang] in errs, errs
    assert len(store.parks()) == 0
    assert len(at.dataframe[0].value) >= 14  # the page still works


def test_script_in_park_name_is_shown_as_text(store):
    g = _park(104.2, 36.5, "<script>alert(1)</script>")
    store.add_parks(g, names=["<script>alert(1)</script>"], source="upload")
    at = page("parks.py")
    at.run()
    assert not at.exception
    assert "<script>alert(1)</script>" in set(at.dataframe[0].value[column_label("name", "en")])  # data, not markup


# ---- constructed siting case on real MODIS pixels ----------------------------------------------
def _pixel_park(code_set, avoid, lc, name):
    """A square inside one 0.05° pixel whose 3×3 neighbourhood is all in ``code_set``."""
    with rasterio.open(paths.landcover_path()) as src:
        a = src.read(1)
        tr = src.transform
    for r in range(1, a.shape[0] - 1):
        for c in range(1, a.shape[1] - 1):
            if np.isin(a[r - 1:r + 2, c - 1:c + 2], list(code_set)).all():
                x0, y0 = tr @ (c, r + 1)
                poly = shapely.box(x0 + 0.01, y0 + 0.01, x0 + 0.04, y0 + 0.04)
                if avoid is None or not avoid.intersects(poly.buffer(0.06)):
                    return gpd.GeoDataFrame({"name": [name]}, geometry=[poly], crs=4326)
    raise AssertionError(f"no pixel for {code_set}")


def test_weights_move_the_ranking_and_protected_park_is_excluded(store):
    proxy = shapely.union_all(gpd.read_file(paths.gpkg_path(), layer="protection_proxy").geometry.values)
    grass = _pixel_park({10}, proxy, None, "草地园区")
    barren = _pixel_park({16}, proxy, None, "裸地园区")
    forest = _pixel_park({1, 2, 3, 4, 5}, None, None, "林地园区")
    ids = []
    for g in (grass, barren, forest):
        ids += store.add_parks(g, names=list(g["name"]), source="upload")
    carbon_first = {f"siting_w_{c}": 0.0 for c in ("carbon_sink_tco2_ha_yr", "dist_airport_km", "redline_overlap_pct")}
    at = page("siting.py", "en", siting_parks=ids, _siting_init=True, siting_w_carbon_at_stake_tc_per_ha=5.0, **carbon_first)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    t = at.dataframe[0].value
    # carbon at stake per ha (lower is better): barren (Hexi Gobi 0.1 × 16 = 1.6, or loess 0.1 × 40.9 = 4.09
    # t C/ha) < grassland (biomass 2.8 + 0.1 × soil 85–224 ≥ 11.4 t C/ha) in every zone → barren first
    assert t.iloc[0, 1].endswith("裸地园区") and t.iloc[0, 0] == 1
    assert t.iloc[1, 1].endswith("草地园区") and t.iloc[1, 0] == 2
    # the forest park lies on the protection proxy (forest pixels): excluded, reason shown
    assert any("林地园区" in e.value and "overlap" in e.value.lower() for e in at.error)
    # now only the sink counts: grassland and barren both sink 0 at IPCC Tier 1, so they share rank 1
    at.slider(key="siting_w_carbon_at_stake_tc_per_ha").set_value(0.0)
    at.slider(key="siting_w_carbon_sink_tco2_ha_yr").set_value(5.0)
    at.run()
    t = at.dataframe[0].value
    assert list(t.iloc[:2, 0]) == [1, 1]
    assert not [s for s in at.slider if "vegetated" in s.key or "green" in s.key]  # not a siting criterion
    assert "Normalised weights" in " ".join(c.value for c in at.caption)


def test_saved_scenario_survives_and_reloads(store):
    ids = store.add_parks(_park(104.2, 36.5, "A"), names=["A"], source="upload")
    at = page("siting.py", "en", siting_parks=["P01", "P02", ids[0]], _siting_init=True,
              siting_name="方案一")
    at.run()
    at.button(key="siting_save").click()
    at.run()
    assert not at.exception
    s2 = Store(paths.store_path())
    sc = s2.scenarios()["方案一"]
    assert sc["selection"] == ["P01", "P02", ids[0]]
    assert set(sc["weights"]) >= {"carbon_at_stake_tc_per_ha", "carbon_sink_tco2_ha_yr"}
    assert "green_threshold_pct" not in sc["settings"]
    s2.delete_scenario("方案一")


def test_park_without_landcover_data_is_shown_with_its_reason(store):
    # (99.0, 37.0) lies in Qinghai, outside the Gansu land-cover raster's data
    store.add_parks(_park(99.0, 37.0, "省外园区"), names=["省外园区"], source="upload")
    at = page("parks.py", "en", parks_selected=store.parks()["park_id"].iloc[0])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # the reason, escaped as Markdown (it names a file), in the "why some values read —" expander
    assert any("no land-cover data" in unescape(c.value) for c in at.caption)
    for p in ("siting.py", "checklist.py"):
        at = page(p, "en")
        at.run()
        assert not at.exception, (p, [e.value for e in at.exception])


def test_a_shared_link_reopens_the_same_view(dataset):
    at = page("map.py", "en")
    at.query_params["layers"] = "zones,counties"
    at.run()
    assert not at.exception
    vis = {c.key: c.value for c in at.checkbox}
    assert vis["map_vis_zones"] and vis["map_vis_counties"] and not vis["map_vis_province"]
    at = page("siting.py", "en")
    at.query_params["parks"] = "P01,P03,P05"
    at.query_params["w"] = "carbon_sink_tco2_ha_yr:5,carbon_at_stake_tc_per_ha:0"
    at.run()
    assert not at.exception
    assert at.multiselect(key="siting_parks").value == ["P01", "P03", "P05"]
    assert at.slider(key="siting_w_carbon_sink_tco2_ha_yr").value == 5.0
    assert at.slider(key="siting_w_carbon_at_stake_tc_per_ha").value == 0.0
    # and the page writes its state back into the URL (never a key or a secret)
    assert at.query_params["parks"] == "P01,P03,P05"
    assert "carbon_sink_tco2_ha_yr:5" in at.query_params["w"]
    assert not any(k in at.query_params for k in ("tk", "key", "tianditu_key"))


@pytest.mark.parametrize("lang,needle,foreign", [("zh", "像元", "pixels"), ("en", "pixels", "像元")])
def test_park_notes_are_in_the_page_language(store, lang, needle, foreign):
    """A small park spans few 0.05° MODIS pixels: its reliability note is shown in the UI language."""
    store.add_parks(_park(104.2, 36.5, "小园区"), names=["小园区"], source="upload")
    pid = store.parks()["park_id"].iloc[0]
    at = page("parks.py", lang, parks_selected=pid)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert needle in captions, captions
    assert foreign not in captions

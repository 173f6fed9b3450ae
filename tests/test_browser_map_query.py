"""Real browser, network off (issue 12, items 2, 4, 5): click a point inside a demo park and a zone
→ the panel lists land cover, zone, county, park and the four coordinate forms (GK equal to
pyproj's within 1 cm, GCJ-02 equal to the project's transform); search "zhangye" and "张掖" → the
map zooms to 张掖市; a line drawn between two known points measures what pyproj.Geod says (0.1%);
nothing leaves localhost. One browser run (tests/browser/map_query_check.py) for the module."""
import pyproj
import pytest

from tests.browser import harness

pytestmark = harness.needs_chromium()


@pytest.fixture(scope="module")
def report(dataset):
    return harness.run_check("map_query_check.py")


@pytest.fixture(scope="module")
def zhangye(dataset):
    from layers import catalog

    pref = catalog.read_default("prefectures")
    return pref[pref["name_zh"] == "张掖市"].geometry.iloc[0]


@pytest.mark.parametrize("q", ["zhangye", "张掖"])
def test_search_zooms_the_map_to_zhangye(report, zhangye, q):
    from shapely.geometry import Point

    start_zoom = report["view_start"][2]
    lat, lon, zoom = report["search"][q]["view"]
    assert zhangye.contains(Point(lon, lat))
    assert zoom >= 7 and zoom > start_zoom
    assert report["search"][q]["highlight"] >= 1  # the outline drawn over the map


def test_click_in_park_p01_lists_every_layer(report):
    rows = report["click_rows"]
    assert rows["园区"] == "P01 兰州新区"
    assert rows["县区"].startswith("永登县") and rows["市州"] == "兰州市"
    assert rows["“四屏一廊”分区"] == "中部沿黄河地区生态走廊"
    assert rows["土地覆被：MODIS 2019（默认）"].startswith("草地（代码 10")
    assert "代理图层" in rows["生态保护红线 / 保护图层"]
    assert float(rows["距最近机场（km，测地线）"]) > 0
    assert report["click_marker"] == 1


def test_click_coordinates_in_four_forms(report):
    from tests.coord_rows import assert_coordinate_rows

    rows = report["click_rows"]
    (clat, clon), = report["clicked_latlng"]  # what Leaflet reported for the click
    lon, lat = (float(v) for v in rows["WGS84 / CGCS2000 经度, 纬度（十进制度）"].split(","))
    assert abs(lon - clon) < 1e-8 and abs(lat - clat) < 1e-8
    assert_coordinate_rows(rows, lon, lat, gcj_tol=1e-7)


def test_measured_line_equals_pyproj_geod(report):
    (lat1, lon1), (lat2, lon2) = report["drawn"]
    # the drawn vertices are the known points to within a pixel (Lanzhou -> Zhangye)
    assert abs(lon1 - 103.834) < 0.02 and abs(lat1 - 36.061) < 0.02
    assert abs(lon2 - 100.45) < 0.02 and abs(lat2 - 38.93) < 0.02
    d_km = pyproj.Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2] / 1000
    shown = float(report["measure_rows"]["长度（km，测地线）"].replace(",", ""))
    assert abs(shown - d_km) / d_km < 1e-3
    assert report["measure_rows"]["图形"] == "折线"
    assert f"{shown:,.3f} km" in report["measure_label"]  # the label on the map


def test_nothing_leaves_localhost(report):
    assert report["requests"] > 10 and report["external"] == []

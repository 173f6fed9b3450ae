"""Click to query, measure and place search (issue 12, items 2, 4, 5): hand-computed answers.

- Coordinate forms: GK easting/northing equal pyproj's (1 cm), a point on a central meridian has
  easting zone×10⁶+500000 and northing = the meridian arc from the equator (GRS80/CGCS2000
  ellipsoid), DMS by hand, GCJ-02 against prcoords.
- The point query on the build: a point inside demo park P01 is in P01, 永登县, 兰州市 and the
  zone its county is mapped to; the land-cover pixel is the one a full read of the raster holds
  at that row/column; a synthetic projected GeoTIFF checks the one-pixel window read (value,
  nodata, outside); red line and transport on hand-made layers.
- Measure: a line's length equals pyproj.Geod.inv; a square of 1 km² is 1500 亩.
- Place search: "zhangye", "张掖", "Zhāng Yè" all find 张掖市 first.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import prcoords
import pyproj
import pytest
import rasterio
from affine import Affine
from shapely.geometry import LineString, Point, box

from core import crs
from core.errors import InputError
from indicators import placesearch, pointquery

GEOD = pyproj.Geod(ellps="WGS84")


# --- coordinate forms ------------------------------------------------------------------------------
@pytest.mark.parametrize("lon,lat,zone", [(103.66, 36.52435, 35), (100.45, 38.93, 33), (94.68, 40.14, 32),
                                          (106.49, 35.0, 35), (106.51, 35.0, 36)])
def test_gk_easting_northing_equal_pyproj_within_1cm(lon, lat, zone):
    gk = crs.gk3_coordinates(lon, lat)
    epsg = 4513 + zone - 25
    assert gk["zone"] == zone and gk["epsg"] == epsg and gk["central_meridian"] == 3 * zone
    assert f"zone {zone}" in pyproj.CRS.from_epsg(epsg).name and "3-degree" in pyproj.CRS.from_epsg(epsg).name
    tr = pyproj.Transformer.from_crs("EPSG:4490", f"EPSG:{epsg}")  # authority axis order: northing, easting
    n, e = tr.transform(lat, lon)
    assert abs(gk["easting"] - e) < 0.01 and abs(gk["northing"] - n) < 0.01
    assert int(gk["easting"] // 1_000_000) == zone  # the zone prefix


def test_gk_on_the_central_meridian_by_hand():
    gk = crs.gk3_coordinates(105.0, 36.0)
    assert gk["zone"] == 35
    assert abs(gk["easting"] - 35_500_000.0) < 0.001
    _, _, arc = pyproj.Geod(ellps="GRS80").inv(105.0, 0.0, 105.0, 36.0)  # meridian arc, scale 1 on the CM
    assert abs(gk["northing"] - arc) < 0.01


def test_dms_by_hand():
    assert crs.to_dms(103.5, "E", "W") == "103°30'00.000\"E"
    assert crs.to_dms(36.525, "N", "S") == "36°31'30.000\"N"
    assert crs.to_dms(-0.5, "N", "S") == "0°30'00.000\"S"
    assert crs.to_dms(103.99999999999, "E", "W") == "104°00'00.000\"E"  # rounding carries over
    assert crs.lonlat_dms(103.66, 36.52435) == ("103°39'36.000\"E", "36°31'27.660\"N")


def test_coordinate_forms_gcj_matches_prcoords_and_shifts_within_gansu_range():
    c = pointquery.coordinate_forms(103.834, 36.061)
    g = prcoords.wgs_gcj((36.061, 103.834))
    assert abs(c["gcj_lat"] - g.lat) < 1e-7 and abs(c["gcj_lon"] - g.lon) < 1e-7
    _, _, shift = GEOD.inv(c["lon"], c["lat"], c["gcj_lon"], c["gcj_lat"])
    assert 18 < shift < 556
    assert pointquery.coordinate_forms(60.0, 30.0)["gk"] is None  # west of zone 25


# --- the point query on the built data ---------------------------------------------------------------
@pytest.fixture(scope="module")
def layers(dataset):
    from layers import catalog

    return {lid: catalog.read_default(lid) for lid in
            ("zones", "prefectures", "counties", "protection_proxy", "parks_demo", "airports")}


def _query(layers, lon, lat, **kw):
    from core import paths

    lcs = [pointquery.LandCoverInput("default", "默认", "default", str(paths.landcover_path()), "igbp")]
    return pointquery.query_point(lon, lat, landcovers=lcs, zones=layers["zones"], zone_field="name_zh",
                                  prefectures=layers["prefectures"], counties=layers["counties"],
                                  redline=layers["protection_proxy"], parks=layers["parks_demo"],
                                  transport={"airport": layers["airports"]}, **kw)


def test_point_inside_demo_park_p01(layers):
    parks = layers["parks_demo"]
    p01 = parks[parks["park_id"] == "P01"].geometry.iloc[0].representative_point()
    ans = _query(layers, p01.x, p01.y)
    assert [p["park_id"] for p in ans["parks"]] == ["P01"] and ans["parks"][0]["name"] == "兰州新区"
    assert ans["county"]["name_zh"] == "永登县" and ans["prefecture"]["name_zh"] == "兰州市"
    counties = layers["counties"]
    zone_id = counties[counties["name_zh"] == "永登县"]["zone_id"].iloc[0]
    zones = layers["zones"]
    assert ans["zone"]["name_zh"] == zones[zones["zone_id"] == zone_id]["name_zh"].iloc[0]
    # the nearest airport, by a geodesic to every airport
    air = layers["airports"]
    d = min(GEOD.inv(p01.x, p01.y, g.x, g.y)[2] for g in air.geometry) / 1000
    assert ans["transport"]["airport"] == pytest.approx(d, rel=1e-6)


def test_point_in_a_known_county_and_zone(layers):
    ans = _query(layers, 100.45, 38.93)  # Zhangye, Ganzhou district
    assert ans["county"]["name_zh"] == "甘州区" and ans["prefecture"]["name_zh"] == "张掖市"
    assert ans["zone"]["zone_id"] == "hexi_qilian" and ans["parks"] == []


def test_landcover_pixel_is_the_raster_value_at_that_row_and_column(layers):
    from core import paths
    from layers.legends import IGBP

    for lon, lat in ((103.66, 36.52435), (100.45, 38.93), (94.0, 40.0), (104.9, 33.4)):
        ans = _query(layers, lon, lat)
        lc = ans["landcover"][0]
        with rasterio.open(paths.landcover_path()) as src:
            r, c = src.index(lon, lat)
            full = src.read(1)[r, c]
        assert lc["code"] == int(full)
        if lc["status"] == "ok":
            assert lc["class_id"] == IGBP.class_of(int(full)) and lc["legend_id"] == "igbp"
            assert lc["code_label"] == IGBP.code_labels[int(full)]


def test_outside_gansu(layers):
    ans = _query(layers, 80.0, 30.0)
    assert ans["zone"] is None and ans["county"] is None and ans["prefecture"] is None
    assert ans["parks"] == [] and ans["landcover"][0]["status"] == "outside"
    with pytest.raises(InputError):
        pointquery.query_point(float("nan"), 30.0)


def test_one_pixel_window_read_of_a_projected_raster(tmp_path):
    # 3 x 3 pixels of 1 km in CGCS2000 GK zone 35 (EPSG:4523), origin at E 35 400 000, N 4 000 000
    path = tmp_path / "lc.tif"
    data = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 0]], dtype="uint8")
    with rasterio.open(path, "w", driver="GTiff", width=3, height=3, count=1, dtype="uint8", crs="EPSG:4523",
                       transform=Affine(1000, 0, 35_400_000, 0, -1000, 4_000_000), nodata=0) as dst:
        dst.write(data, 1)
    to_ll = pyproj.Transformer.from_crs("EPSG:4523", "EPSG:4490", always_xy=True)
    lon, lat = to_ll.transform(35_401_500, 3_998_500)  # centre of row 1, column 1 -> 5
    got = pointquery.landcover_at(str(path), "clcd", lon, lat)
    assert got["status"] == "ok" and got["code"] == 5 and got["class_id"] == "water" and got["class_zh"] == "水体"
    lon, lat = to_ll.transform(35_402_900, 3_997_100)  # row 2, column 2 -> nodata 0
    assert pointquery.landcover_at(str(path), "clcd", lon, lat)["status"] == "nodata"
    lon, lat = to_ll.transform(35_403_100, 3_998_500)  # east of the raster
    assert pointquery.landcover_at(str(path), "clcd", lon, lat)["status"] == "outside"


def test_redline_and_transport_on_hand_made_layers():
    red = gpd.GeoDataFrame({"basis": ["forest"]}, geometry=[box(103.0, 36.0, 103.2, 36.2)], crs=4326)
    rail = gpd.GeoDataFrame({"k": [1]}, geometry=[LineString([(103.3, 35.0), (103.3, 37.0)])], crs=4326)
    empty = gpd.GeoDataFrame({"k": []}, geometry=[], crs=4326)
    ans = pointquery.query_point(103.1, 36.1, redline=red, transport={"railway": rail, "station": empty})
    assert ans["redline"] == {"inside": True, "basis": ["forest"]}
    # the nearest point of a meridian line is (almost exactly) due east: the geodesic to it
    east = GEOD.inv(103.1, 36.1, 103.3, 36.1)[2] / 1000
    assert ans["transport"]["railway"] == pytest.approx(east, rel=1e-3)
    assert ans["transport"]["station"] is None
    out = pointquery.query_point(103.5, 36.1, redline=red)
    assert out["redline"]["inside"] is False and out["zone"] is None and out["parks"] == []


# --- measure ------------------------------------------------------------------------------------------
def test_measured_line_equals_pyproj_geod():
    lanzhou, zhangye = (103.834, 36.061), (100.45, 38.93)
    res = pointquery.measure({"type": "LineString", "coordinates": [list(lanzhou), list(zhangye)]})
    _, _, d = GEOD.inv(*lanzhou, *zhangye)
    assert res["kind"] == "line" and res["area_km2"] is None
    assert res["length_km"] * 1000 == pytest.approx(d, rel=1e-9)
    three = pointquery.measure(LineString([lanzhou, (102.0, 37.5), zhangye]))
    d2 = GEOD.inv(*lanzhou, 102.0, 37.5)[2] + GEOD.inv(102.0, 37.5, *zhangye)[2]
    assert three["length_km"] * 1000 == pytest.approx(d2, rel=1e-9)


def test_measured_area_in_km2_and_mu():
    sq = crs.square_of_area(103.8, 36.0, 1.0)  # 1 km² built in a local equal-area projection
    res = pointquery.measure(sq.__geo_interface__)
    assert res["kind"] == "polygon"
    area, perim = GEOD.geometry_area_perimeter(sq)
    assert res["area_km2"] == pytest.approx(abs(area) / 1e6, rel=1e-9)  # pyproj's geodesic area
    assert res["area_km2"] == pytest.approx(1.0, rel=1e-6)  # and the square was built as 1 km²
    assert res["area_mu"] == pytest.approx(1500.0, rel=1e-6)  # 1 km² = 10⁶ / (10000/15) 亩
    assert res["area_mu"] == pytest.approx(res["area_km2"] * 1500.0, rel=1e-12)
    assert res["length_km"] == pytest.approx(perim / 1000, rel=1e-9)
    with pytest.raises(InputError):
        pointquery.measure({"type": "Polygon", "coordinates": []})
    with pytest.raises(InputError):
        pointquery.measure({"type": "Nothing"})


# --- place search ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def index(layers):
    from layers import catalog

    return placesearch.build_index(catalog.read_default("province"), layers["prefectures"], layers["counties"],
                                   layers["parks_demo"])


@pytest.mark.parametrize("q", ["zhangye", "张掖", "Zhāng Yè", "ZHANGYE", "zhang-ye", "Zhangye City"])
def test_zhangye_finds_the_prefecture_first(index, q):
    hits = placesearch.search(index, q)
    assert hits and hits[0].kind == "prefecture" and hits[0].name_zh == "张掖市"
    assert hits[0].geometry.contains(Point(100.45, 38.93))


def test_search_province_county_park_and_nothing(index):
    assert placesearch.search(index, "gansu")[0].name_zh == "甘肃省"
    assert placesearch.search(index, "甘肃")[0].kind == "province"
    assert placesearch.search(index, "ganzhou")[0].name_zh == "甘州区"
    park = placesearch.search(index, "lanzhouxinqu")[0]
    assert park.kind == "park" and park.id == "P01" and park.name_zh == "兰州新区"
    assert placesearch.search(index, "临夏")[0].name_zh == "临夏回族自治州"
    assert placesearch.search(index, "qqqxyz") == [] and placesearch.search(index, "  ") == []


def test_pinyin_u_with_diaeresis_is_v_with_or_without_tone_marks():
    from indicators import placesearch

    assert placesearch.normalise("Lǜ Shuǐ") == placesearch.normalise("lü shui") == "lvshui"
    assert placesearch.normalise("LV-shui") == "lvshui"


def test_a_longitude_past_180_from_a_panned_map_is_wrapped(dataset):
    from indicators import pointquery

    a = pointquery.query_point(103.66 + 360, 36.5243)["coords"]
    b = pointquery.query_point(103.66, 36.5243)["coords"]
    def same(x, y):  # 463.66 % 360 leaves float dust of ~3e-14 degrees (well under 1 mm)
        if isinstance(y, dict):
            return x.keys() == y.keys() and all(same(x[k], y[k]) for k in y)
        return x == (pytest.approx(y, abs=1e-6) if isinstance(y, float) else y)

    assert same(a, b)
    assert a["lon"] == pytest.approx(103.66, abs=1e-9)


def test_a_cell_hidden_by_the_mask_band_is_no_data(tmp_path):
    import numpy as np
    import rasterio
    from affine import Affine

    from indicators import pointquery

    path = tmp_path / "masked.tif"
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        with rasterio.open(path, "w", driver="GTiff", width=2, height=1, count=1, dtype="uint8", crs=4326,
                           transform=Affine(0.01, 0, 103.0, 0, -0.01, 36.01)) as ds:  # no nodata value
            ds.write(np.array([[10, 10]], np.uint8), 1)
            ds.write_mask(np.array([[255, 0]], np.uint8))
    assert pointquery.landcover_at(path, "igbp", 103.005, 36.005)["status"] == "ok"
    assert pointquery.landcover_at(path, "igbp", 103.015, 36.005)["status"] == "nodata"

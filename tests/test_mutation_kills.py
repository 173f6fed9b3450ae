"""Tests written for mutants that survived a mutation run (``make mutation``, docs/mutation.md):
each pins a behaviour the suite did not look at. Hand-computed expected values or an independent
reference (shapely's polygon clipping)."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine

from core.errors import InputError
from zonal.coverage import coverage, pieces, strip_cells

NORTH_UP = Affine(0.7, 0, 10.3, 0, -0.7, 50.1)


def _holed_polygon():
    ring = shapely.Point(16, 44).buffer(3).difference(shapely.Point(16, 44).buffer(1))
    return shapely.make_valid(shapely.Polygon([(11, 40), (21, 39), (22, 48), (12, 47)]).union(ring))


def _brute(geom, transform, shape, row0, col0):
    """Coverage by clipping each (possibly rotated) cell with shapely."""
    out = np.zeros(shape)
    det = abs(transform.a * transform.e - transform.b * transform.d)
    for r in range(shape[0]):
        for c in range(shape[1]):
            corners = [transform @ (col0 + c + dc, row0 + r + dr) for dc, dr in ((0, 0), (1, 0), (1, 1), (0, 1))]
            out[r, c] = shapely.Polygon(corners).intersection(geom).area / det
    return out


# --- zonal/coverage.py --------------------------------------------------------------------------
def test_a_strip_of_later_rows_is_those_rows_of_the_full_grid():
    """``Pieces.strip(r0, r1)`` with r0 > 0 (every caller so far started at row 0)."""
    p = pieces(_holed_polygon(), NORTH_UP)
    full = p.strip(0, p.height)
    for r0, r1 in [(3, 9), (5, 6), (p.height - 4, p.height)]:
        part = p.strip(r0, r1)
        assert part.shape == (r1 - r0, p.width)
        np.testing.assert_array_equal(part, full[r0:r1])


def test_a_row_range_without_boundary_pieces_gives_empty_typed_arrays():
    p = pieces(_holed_polygon(), NORTH_UP)
    for r0, r1 in [(4, 4), (p.height, p.height + 3)]:
        sc = strip_cells(p, r0, r1)
        for name in ("row", "col", "run_row", "run_start", "run_end"):
            a = getattr(sc, name)
            assert isinstance(a, np.ndarray) and a.shape == (0,) and a.dtype == np.int64, name
        assert isinstance(sc.cov, np.ndarray) and sc.cov.shape == (0,) and sc.cov.dtype == np.float64


def test_coverage_on_a_rotated_grid_matches_polygon_clipping():
    """A grid rotated by 20° (``transform.b`` and ``.d`` not 0): the inverse transform uses them."""
    t = Affine.translation(10.3, 50.1) @ Affine.rotation(20) @ Affine.scale(0.7, -0.7)
    g = _holed_polygon()
    cov, r0, c0 = coverage(g, t)
    assert np.abs(cov - _brute(g, t, cov.shape, r0, c0)).max() < 1e-9
    assert cov.sum() * 0.49 == pytest.approx(g.area, rel=1e-9)


def test_an_empty_polygon_has_no_pieces_and_an_empty_grid():
    for empty in (shapely.Polygon(), shapely.MultiPolygon(), None):
        assert pieces(empty, NORTH_UP) is None
        cov, r0, c0 = coverage(empty, NORTH_UP)
        assert cov.shape == (0, 0) and (r0, c0) == (0, 0)


def test_a_polygon_that_cannot_be_placed_on_the_grid_is_refused_in_both_languages():
    with pytest.raises(InputError) as e, np.errstate(invalid="ignore"):
        pieces(shapely.Polygon([(0, 0), (1, 0), (1, np.inf), (0, 0)]), NORTH_UP)  # e.g. a failed reprojection
    assert e.value.zh == "多边形无法转换到栅格的坐标参考系（请检查其坐标参考系）"
    assert e.value.en == "a polygon could not be transformed to the raster's CRS (check its CRS)"


def test_a_polygon_inside_one_cell_has_a_one_cell_window():
    t = Affine(1, 0, 0, 0, -1, 10)
    cov, r0, c0 = coverage(shapely.box(2.25, 3.5, 2.75, 3.75), t)  # 0.5 × 0.25 of cell (6, 2)
    assert (r0, c0) == (6, 2) and cov.shape == (1, 1) and cov[0, 0] == 0.125


# --- zonal/landcover.py --------------------------------------------------------------------------
import geopandas as gpd  # noqa: E402 - the section's own imports
import pyproj  # noqa: E402
import rasterio  # noqa: E402

from zonal import histogram, landcover, pixelarea  # noqa: E402

ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
GEOD = pyproj.Geod(ellps="WGS84")


def _tif(path, data, crs, transform, nodata=0, block=(256, 256)):
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=data.dtype.name, crs=crs, transform=transform, nodata=nodata, tiled=True,
                       blockxsize=block[1], blockysize=block[0], compress="deflate") as dst:
        dst.write(data, 1)
    return path


def _geodesic_m2(geoms, crs) -> np.ndarray:
    ll = gpd.GeoSeries(geoms, crs=crs).segmentize(30.0).to_crs(4326)
    return np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in ll])


def test_whole_raster_totals_of_a_uint16_raster_are_the_counted_cells(tmp_path):
    """Codes above 255 (uint16): the weighted-histogram path, not the byte-pair count."""
    a = np.full((40, 60), 10, np.uint16)
    a[:, 20:] = 30
    a[30:, 50:] = 0  # 100 nodata cells
    df = landcover.raster_class_totals(_tif(tmp_path / "wc.tif", a, ALBERS, Affine(30, 0, -200_000, 0, -30, 4_000_000)),
                                       "worldcover")
    assert df[["code", "class"]].values.tolist() == [[10, "forest"], [30, "grassland"]]
    assert df["area_km2"].tolist() == pytest.approx([800 * 900 / 1e6, 1500 * 900 / 1e6], rel=1e-12)
    assert df.attrs["nodata_km2"] == pytest.approx(100 * 900 / 1e6, rel=1e-12)


def test_whole_raster_totals_of_a_utm_raster_are_ground_areas_cell_by_cell(tmp_path):
    """A conformal grid 200 km west of its central meridian: each cell's ground area differs
    across the row (not one weight per row)."""
    x0, y0, h, w = 300_000.0, 4_030_000.0, 1300, 700
    a = np.full((h, w), 2, np.uint8)
    a[:, 350:] = 4
    t = Affine(30, 0, x0, 0, -30, y0)
    path = _tif(tmp_path / "utm.tif", a, "EPSG:32648", t, block=(512, 512))
    df = landcover.raster_class_totals(path, "clcd").set_index("code")["area_km2"]
    boxes = [shapely.box(x0, y0 - 30 * h, x0 + 30 * 350, y0), shapely.box(x0 + 30 * 350, y0 - 30 * h, x0 + 30 * w, y0)]
    expect = _geodesic_m2(boxes, "EPSG:32648") / 1e6
    assert df.loc[2] == pytest.approx(expect[0], rel=2e-6) and df.loc[4] == pytest.approx(expect[1], rel=2e-6)
    assert abs(df.loc[2] / df.loc[4] - 1) > 5e-5  # the two halves differ (1e-4): the scale changes across the row
    z = landcover.zonal_codes(gpd.GeoSeries(boxes, crs="EPSG:32648"), path, "clcd")  # the polygon path agrees
    assert z.code_m2.loc[0, 2] / 1e6 == pytest.approx(df.loc[2], rel=1e-9)


def test_whole_raster_totals_read_in_several_strips_count_every_strip(tmp_path):
    """A raster wider than 8 million / 512 cells: strips of 512 rows, read one ahead in a thread."""
    h, w = 1300, 16_000
    a = np.zeros((h, w), np.uint8)
    a[:] = 3
    a[600:, :] = 5
    a[1200:, :8000] = 0
    path = _tif(tmp_path / "wide.tif", a, ALBERS, Affine(30, 0, -200_000, 0, -30, 4_000_000), block=(512, 512))
    df = landcover.raster_class_totals(path, "clcd").set_index("code")["area_km2"]
    assert df.to_dict() == pytest.approx({3: 600 * w * 900 / 1e6, 5: (700 * w - 100 * 8000) * 900 / 1e6}, rel=1e-12)


def test_unknown_codes_are_refused_by_name_even_on_a_few_cells(tmp_path):
    a = np.full((40, 60), 2, np.uint8)
    a[:2, :3] = 250  # 6 cells, 0.0054 km²
    path = _tif(tmp_path / "odd.tif", a, ALBERS, Affine(30, 0, -200_000, 0, -30, 4_000_000))
    with pytest.raises(InputError) as e:
        landcover.raster_class_totals(path, "clcd")
    assert e.value.zh == "栅格 odd.tif 含图例 'clcd' 未列出的代码 [250]"
    assert e.value.en == "raster odd.tif has code(s) [250] that legend 'clcd' does not list"


def test_class_areas_and_totals_default_to_the_igbp_legend_and_its_fill_code(tmp_path):
    """IGBP (the default legend) lists 255 as fill: no data although the file's nodata is 0."""
    a = np.full((40, 60), 10, np.uint8)  # IGBP 10: grassland
    a[:, :30] = 1  # IGBP 1: evergreen needleleaf forest
    a[10, 20:25] = 255  # 5 fill cells inside the box below
    path = _tif(tmp_path / "igbp.tif", a, ALBERS, Affine(30, 0, -200_000, 0, -30, 4_000_000))
    box = shapely.box(-200_000 + 30 * 20, 4_000_000 - 30 * 30, -200_000 + 30 * 40, 4_000_000 - 30 * 10)
    out = landcover.class_areas(gpd.GeoSeries([box], crs=ALBERS), path)
    assert out.loc[0, "lc_forest_km2"] == pytest.approx(195 * 900 / 1e6, rel=1e-12)
    assert out.loc[0, "lc_grassland_km2"] == pytest.approx(200 * 900 / 1e6, rel=1e-12)
    assert out.loc[0, "landcover_total_km2"] == pytest.approx(400 * 900 / 1e6, rel=1e-12)
    assert out.loc[0, "landcover_coverage_pct"] == pytest.approx(100 * 395 / 400, rel=1e-12)
    assert out.loc[0, "landcover_pixels"] == pytest.approx(400, rel=1e-12)
    whole = landcover.raster_class_totals(path)
    assert whole[["code", "class"]].values.tolist() == [[1, "forest"], [10, "grassland"]]
    assert whole["area_km2"].tolist() == pytest.approx([1195 * 900 / 1e6, 1200 * 900 / 1e6], rel=1e-12)
    assert whole.attrs["nodata_km2"] == pytest.approx(5 * 900 / 1e6, rel=1e-12)
    masked = landcover.raster_class_totals(path, mask_geom=box, mask_crs=ALBERS)
    assert masked["area_km2"].tolist() == pytest.approx([195 * 900 / 1e6, 200 * 900 / 1e6], rel=1e-12)
    assert masked.attrs["nodata_km2"] == pytest.approx(5 * 900 / 1e6, rel=1e-12)


def test_whole_raster_totals_of_a_geographic_raster_are_the_ellipsoidal_areas(tmp_path):
    a = np.full((90, 120), 2, np.uint8)
    a[:, 60:] = 4
    path = _tif(tmp_path / "ll.tif", a, "EPSG:4326", Affine(1 / 120, 0, 103.0, 0, -1 / 120, 36.75))
    df = landcover.raster_class_totals(path, "clcd").set_index("code")["area_km2"]
    boxes = [shapely.box(103.0, 36.0, 103.5, 36.75).segmentize(0.01), shapely.box(103.5, 36.0, 104.0, 36.75).segmentize(0.01)]
    expect = [abs(GEOD.geometry_area_perimeter(b)[0]) / 1e6 for b in boxes]
    assert [df.loc[2], df.loc[4]] == pytest.approx(expect, rel=1e-6)


def test_byte_counts_of_an_empty_and_of_a_strided_block():
    assert np.array_equal(histogram.u8_counts(np.empty(0, np.uint8)), np.zeros(256))
    a = (np.arange(1001) % 7).astype(np.uint8)[::3]  # a view with a stride: not contiguous
    got = histogram.u8_counts(a)
    assert got.dtype == np.float64 and np.array_equal(got, np.bincount(a, minlength=256))


def test_cell_areas_on_a_sphere_are_the_spherical_zone_areas():
    r = 6_371_000.0
    lat1, lat2 = np.array([0.0, 35.0, -60.0]), np.array([1.0, 35.5, -59.0])
    got = pixelarea.ellipsoidal_cell_area_m2(lat1, lat2, 0.25, r, r)
    expect = r * r * np.radians(0.25) * (np.sin(np.radians(lat2)) - np.sin(np.radians(lat1)))
    np.testing.assert_allclose(got, expect, rtol=1e-12)


def test_a_polygon_on_the_other_side_of_the_world_is_all_outside_the_raster(tmp_path):
    """``to_raster_crs`` leaves out polygons far from the raster's footprint (a projection could
    fold them onto its pixels): the whole ellipsoidal area outside, no class, no pixel."""
    a = np.full((40, 60), 2, np.uint8)
    path = _tif(tmp_path / "lz.tif", a, ALBERS, Affine(30, 0, -200_000, 0, -30, 4_000_000))
    near = gpd.GeoSeries([shapely.box(-200_000 + 300, 4_000_000 - 900, -200_000 + 900, 4_000_000 - 300)],
                         crs=ALBERS).to_crs(4326).iloc[0]
    far = shapely.box(-58.6, -34.7, -58.3, -34.5)  # Buenos Aires, lon/lat
    z = landcover.zonal_codes(gpd.GeoSeries([near, far, None], crs=4326), path, "clcd")
    far_m2 = abs(GEOD.geometry_area_perimeter(far)[0])
    assert z.total_m2[1] == pytest.approx(far_m2, rel=1e-6) and z.outside_m2[1] == z.total_m2[1]
    assert z.nodata_m2[1] == z.total_m2[1] and z.pixels[1] == 0 and z.code_m2.iloc[1].sum() == 0
    assert z.code_m2.loc[0, 2] == pytest.approx(400 * 900.0, rel=1e-6) and z.outside_m2[0] == 0
    assert z.total_m2[2] == 0 and z.pixels[2] == 0 and z.outside_m2[2] == 0 and z.nodata_m2[2] == 0  # no polygon


# --- storage/accounts.py ------------------------------------------------------------------------------------
from core.errors import PermissionDenied  # noqa: E402
from storage import accounts, audit, sso  # noqa: E402
from tests.account_fixtures import accounts_store  # noqa: E402

PW = "Passwort-fuer-Tests-1"


@pytest.fixture()
def acc(tmp_path, monkeypatch):
    monkeypatch.setenv("GANSU_LOGIN_DELAY_S", "0")
    s = accounts_store(tmp_path / "acc.duckdb", PW)
    yield s
    s.close()


def _row(s, name):
    return s.query_df("SELECT role, office, disabled, failed, locked_until FROM accounts WHERE name = ?",
                      [name]).iloc[0]


def test_role_and_office_changes_are_stored_logged_and_refused_for_an_unknown_name(acc):
    root = accounts.principal_for(acc, "root")
    accounts.set_role(acc, "ed1", "viewer", office="  二处 ", actor=root)
    assert (_row(acc, "ed1")["role"], _row(acc, "ed1")["office"]) == ("viewer", "二处")
    accounts.set_role(acc, "ed1", "editor", office="", actor=root)  # an empty office clears it
    r = _row(acc, "ed1")
    assert r["role"] == "editor" and (r["office"] is None or r["office"] != r["office"])
    accounts.set_role(acc, "ed1", "admin", actor=root)  # no office given: kept as it was
    assert _row(acc, "ed1")["role"] == "admin"
    assert list(audit.rows(acc, action="account_role")["item_id"]) == ["ed1"] * 3
    with pytest.raises(accounts.InputError) as e:
        accounts.set_role(acc, "nobody", "viewer", actor=root)
    assert (e.value.zh, e.value.en) == ("没有账户“nobody”。", "no account 'nobody'.")
    with pytest.raises(PermissionDenied):
        accounts.set_role(acc, "ed1", "viewer", actor=None)


def test_disable_enable_reset_and_unlock_are_logged_under_their_own_names(acc):
    root = accounts.principal_for(acc, "root")
    for _ in range(2):
        with pytest.raises(accounts.AuthError):
            accounts.authenticate(acc, "ed1", "wrong")
    assert _row(acc, "ed1")["failed"] == 2
    accounts.unlock(acc, "ed1", actor=root)
    assert _row(acc, "ed1")["failed"] == 0
    with pytest.raises(accounts.AuthError):
        accounts.authenticate(acc, "ed1", "wrong")
    accounts.reset_password(acc, "ed1", PW + "-2", actor=root)
    assert _row(acc, "ed1")["failed"] == 0 and accounts.authenticate(acc, "ed1", PW + "-2") == "ed1"
    accounts.set_disabled(acc, "ed1", actor=root)
    assert bool(_row(acc, "ed1")["disabled"])
    accounts.set_disabled(acc, "ed1", False, actor=root)
    assert not bool(_row(acc, "ed1")["disabled"])
    acts = list(audit.rows(acc, actor="root")["action"])
    for a in ("account_unlock", "account_reset", "account_disable", "account_enable"):
        assert acts.count(a) == 1, (a, acts)


def test_a_single_sign_on_identity_has_no_password_to_reset(acc):
    p = sso.sign_in(acc, {"email": "li@example.org", "gansu_role": "editor"})
    with pytest.raises(accounts.InputError) as e:
        accounts.reset_password(acc, str(p), PW, actor=accounts.principal_for(acc, "root"))
    assert e.value.zh == f"“{p}”是单点登录身份，没有密码。"
    assert e.value.en == f"'{p}' is a single sign-on identity: it has no password."


def test_the_last_admin_can_be_neither_demoted_nor_disabled_but_one_of_two_can(acc):
    root = accounts.principal_for(acc, "root")
    for change in (lambda: accounts.set_role(acc, "root", "editor", actor=root),
                   lambda: accounts.set_disabled(acc, "root", actor=root)):
        with pytest.raises(accounts.InputError) as e:
            change()
        assert (e.value.zh, e.value.en) == ("不能停用或降级最后一个管理员账户。",
                                           "the last admin account cannot be disabled or demoted.")
    assert _row(acc, "root")["role"] == "admin" and not bool(_row(acc, "root")["disabled"])
    accounts.set_role(acc, "ed1", "admin", actor=root)  # two admins: either may be demoted
    accounts.set_role(acc, "root", "editor", actor=root)
    assert _row(acc, "root")["role"] == "editor"


def test_an_account_change_is_logged_with_what_it_was_and_what_it_became(acc):
    root = accounts.principal_for(acc, "root")
    accounts.set_role(acc, "ed1", "viewer", office="二处", actor=root)
    r = audit.rows(acc, action="account_role").iloc[0]
    assert (r["actor"], r["item_type"], r["item_id"]) == ("root", "account", "ed1")
    assert r["before_sha"] == audit.content_sha({"role": "editor", "office": "一处", "disabled": False})
    assert r["after_sha"] == audit.content_sha({"role": "viewer", "office": "二处"})
    accounts.reset_password(acc, "ed1", PW + "-3", actor=root)
    r = audit.rows(acc, action="account_reset").iloc[0]  # the new hash is never logged
    assert r["after_sha"] == audit.content_sha({"failed": 0, "locked_until": None})

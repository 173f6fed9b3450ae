"""Cache keys and provenance hashes that must move with what they stand for.

- docs/methods.md "Pixel area": the mode is "part of the run fingerprint and of every provenance record";
  the tiled engine caches each task's result on disk by a key: one cache folder reused by a
  ``ground`` and a ``nominal`` run must give each its own areas, never the other's.
- docs/methods.md "Provenance": ``inputs_sha256`` hashes datasets (with SHA-256), the tables, thresholds,
  weights and the pixel-area mode: each of them changed alone moves it (and only its own part)."""
from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from affine import Affine

from indicators import provenance
from zonal import tiled, tileplan

UTM48 = "EPSG:32648"  # conformal: a cell's ground area differs from |det|


@pytest.fixture(scope="module")
def utm_raster(tmp_path_factory):
    """600 × 600 cells of 30 m in UTM 48N near Lanzhou, CLCD codes 1..9 in 100-cell bands."""
    d = tmp_path_factory.mktemp("utm")
    x0, y0 = 490_020.0, 4_000_020.0  # ~104.9°E, 36.1°N: near the central meridian, scale 0.9996
    codes = (1 + (np.arange(600)[:, None] // 100 + np.arange(600)[None, :] // 100) % 9).astype("uint8")
    path = d / "utm.tif"
    with rasterio.open(path, "w", driver="GTiff", width=600, height=600, count=1, dtype="uint8", crs=UTM48,
                       transform=Affine(30, 0, x0, 0, -30, y0), nodata=0, tiled=True, blockxsize=256,
                       blockysize=256) as dst:
        dst.write(codes, 1)
    # two parks aligned to the cell grid: 120 × 80 and 50 × 50 cells
    parks = gpd.GeoDataFrame(geometry=[shapely.box(x0 + 30 * 10, y0 - 30 * 90, x0 + 30 * 130, y0 - 30 * 10),
                                       shapely.box(x0 + 30 * 300, y0 - 30 * 450, x0 + 30 * 350, y0 - 30 * 400)],
                             crs=UTM48)
    return path, parks


def _geodesic_m2(parks) -> np.ndarray:
    geod = pyproj.Geod(ellps="WGS84")
    return np.array([abs(geod.geometry_area_perimeter(g.segmentize(30.0))[0]) for g in parks.to_crs(4326).geometry])


def test_one_tile_cache_reused_across_pixel_area_modes_gives_each_mode_its_own_areas(utm_raster, tmp_path):
    path, parks = utm_raster
    nominal_m2 = np.array([120 * 80 * 900.0, 50 * 50 * 900.0])  # |det| per cell, whole cells only
    cache = tmp_path / "tiles"
    info_g, info_n, info_g2 = {}, {}, {}
    ground = tiled.zonal_codes(parks, path, "clcd", scheduler="synchronous", cache_dir=cache, run_info=info_g,
                               pixel_area="ground")
    nominal = tiled.zonal_codes(parks, path, "clcd", scheduler="synchronous", cache_dir=cache, run_info=info_n,
                                pixel_area="nominal")
    again = tiled.zonal_codes(parks, path, "clcd", scheduler="synchronous", cache_dir=cache, run_info=info_g2,
                              pixel_area="ground")
    assert info_n["computed"] == info_g["computed"] > 0 and info_n["cached"] == 0  # nothing taken from ground
    assert info_g2["computed"] == 0 and info_g2["cached"] == info_g["computed"]  # ground's own results reused
    np.testing.assert_allclose(nominal.total_m2, nominal_m2, rtol=1e-12)
    np.testing.assert_allclose(nominal.code_m2.sum(axis=1).to_numpy(), nominal_m2, rtol=1e-12)
    # ground: the ellipsoidal area of the same cells (pixel areas sampled), 0.08 % above |det| (1 / 0.9996²)
    np.testing.assert_allclose(ground.total_m2, _geodesic_m2(parks), rtol=2e-5)
    assert np.all(ground.total_m2 > nominal_m2 * (1 + 7e-4))
    np.testing.assert_array_equal(again.total_m2, ground.total_m2)
    np.testing.assert_array_equal(again.code_m2.to_numpy(), ground.code_m2.to_numpy())


def test_the_task_keys_differ_by_pixel_area_mode(utm_raster):
    path, parks = utm_raster
    g = tileplan.plan(parks.geometry, path, pixel_area="ground")
    n = tileplan.plan(parks.geometry, path, pixel_area="nominal")
    assert [t.key for t in g.tasks] and not {t.key for t in g.tasks} & {t.key for t in n.tasks}


# --- provenance ------------------------------------------------------------------------------------------
BASE = dict(
    datasets=[{"role": "landcover", "name": "clcd 2020", "file": "/data/clcd.tif", "sha256": "a" * 64},
              {"role": "transport", "name": "roads", "file": "/data/roads.gpkg", "sha256": "b" * 64}],
    tables={"carbon_pools": "sha256:" + "c" * 64, "targets": b"target,2025\nforest,35\n"},
    thresholds={"green_threshold_pct": 20.0, "exclude_redline": True},
    weights={"carbon_at_stake_tc_per_ha": 1.0, "dist_airport_km": 0.5},
    pixel_area="ground", commit="1" * 40, build="20261201T000000-abc")
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def _rec(**change):
    return provenance.record(**{**BASE, **change}, now=NOW)


def _ds(i, **kw):
    out = [dict(d) for d in BASE["datasets"]]
    out[i].update(kw)
    return out


CHANGES = {
    # part of the record that moves -> one change of that part alone
    "datasets": [dict(datasets=_ds(0, sha256="d" * 64)),  # the same file, another content
                 dict(datasets=_ds(1, file="/data/roads2.gpkg")),
                 dict(datasets=_ds(0, role="landcover_alt")),
                 dict(datasets=BASE["datasets"][:1]),  # one dataset fewer
                 dict(datasets=BASE["datasets"][::-1])],  # another order: another list
    "tables": [dict(tables={**BASE["tables"], "carbon_pools": "sha256:" + "e" * 64}),
               dict(tables={**BASE["tables"], "targets": b"target,2025\nforest,36\n"}),
               dict(tables={**BASE["tables"], "sink_rates": "sha256:" + "f" * 64})],
    "thresholds": [dict(thresholds={**BASE["thresholds"], "green_threshold_pct": 25.0}),
                   dict(thresholds={**BASE["thresholds"], "exclude_redline": False}),
                   dict(thresholds={"green_threshold_pct": 20.0})],
    "weights": [dict(weights={**BASE["weights"], "dist_airport_km": 0.6}),
                dict(weights={**BASE["weights"], "carbon_sink_tco2_yr": 0.0}),
                dict(weights={"carbon_at_stake_tc_per_ha": 1.0})],
    "pixel_area": [dict(pixel_area="nominal")],
    "program": [dict(commit="2" * 40)],
    "build_id": [dict(build="20261202T000000-def")],
}


@pytest.mark.parametrize("part,change", [(p, c) for p, cs in CHANGES.items() for c in cs],
                         ids=[f"{p}-{i}" for p, cs in CHANGES.items() for i in range(len(cs))])
def test_each_part_alone_moves_the_inputs_hash_and_only_its_own_part(part, change):
    base, other = _rec(), _rec(**change)
    assert other["inputs_sha256"] != base["inputs_sha256"]
    moved = {k for k in base if k not in ("inputs_sha256", "time") and base[k] != other[k]}
    assert moved == {part}


def test_the_same_inputs_give_the_same_hash_whenever_and_whatever_the_mapping_order():
    a = _rec()
    b = provenance.record(**{**BASE, "weights": dict(reversed(list(BASE["weights"].items())))},
                          now=NOW + dt.timedelta(days=3))
    assert a["inputs_sha256"] == b["inputs_sha256"] and a["time"] != b["time"]
    # the hash is the documented one: SHA-256 of the record's JSON without time and hash
    import hashlib
    import json

    body = {k: v for k, v in a.items() if k not in ("inputs_sha256", "time")}
    assert a["inputs_sha256"] == hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert a["tables"]["targets"] == hashlib.sha256(BASE["tables"]["targets"]).hexdigest()
    assert a["tables"]["carbon_pools"] == "c" * 64 and a["datasets"][0]["sha256"] == "a" * 64


def test_the_run_log_record_carries_the_weights_into_the_inputs_hash(dataset):
    """``ui.runlog.record`` (the provenance of a page's run on the data in use) passes the page's
    weights on: the record shows them as given, and two records alike but for one weight differ in
    the weights and the inputs hash only; the same weights give the same hash."""
    from ui import runlog

    w1 = {"carbon_stock_tc": 1.0, "dist_airport_km": 1.0}
    w2 = {"carbon_stock_tc": 1.0, "dist_airport_km": 2.0}
    a, a_again, b = runlog.record(weights=w1), runlog.record(weights=dict(w1)), runlog.record(weights=w2)
    assert a["weights"] == w1 and b["weights"] == w2
    assert a["inputs_sha256"] == a_again["inputs_sha256"]
    assert a["inputs_sha256"] != b["inputs_sha256"]
    assert {k for k in a if k != "time" and a[k] != b[k]} == {"weights", "inputs_sha256"}

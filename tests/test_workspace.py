"""The workspace (storage/workspace.py, python -m cli workspace) and the data in use
(indicators/runs.py): real files made in code (tests/workspace_fixtures.py), a real store — each test
on DuckDB and on PostgreSQL (``store_at``)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from indicators import runs
from layers import catalog, cog
from storage import raster_register, vector_register
from storage import workspace as ws
from storage.store import Store
from tests import workspace_fixtures as wf

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture()
def store(tmp_path, monkeypatch, store_at):
    yield from wf.workspace_store(tmp_path, monkeypatch, store_at("store"))


@pytest.fixture(scope="module")
def lc_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("lc")
    return {"base": wf.clcd_landcover(d / "clcd_2020.tif"), "alt": wf.clcd_landcover(d / "clcd_2023.tif", shift=2)}


def demo_parks(dataset) -> gpd.GeoDataFrame:
    demo = catalog.read_default("parks_demo")
    return gpd.GeoDataFrame({"park_id": demo["park_id"], "name": demo["name_zh"]}, geometry=demo.geometry.values,
                             crs=demo.crs)


def test_register_landcover_records_provenance_and_counts_every_code(store, lc_files):
    d = raster_register.register_landcover(store, [lc_files["base"]], legend="clcd", year=2020, source="made in code",
                                           licence="CC0", use=True)
    with rasterio.open(lc_files["base"]) as src:
        data = src.read(1)
    expect = {int(c): int(n) for c, n in zip(*np.unique(data[data != 0], return_counts=True))}
    assert d.codes == expect and d.n_pixels == data.size
    assert d.sha256 == ws.sha256_file(lc_files["base"]) and d.size_bytes == lc_files["base"].stat().st_size
    assert d.legend == "clcd" and d.year == 2020 and d.status == "user" and d.source == "made in code"
    assert d.resolution == "30 m × 30 m" and d.crs
    assert 103.4 < d.extent[0] < 103.46 and 36.75 < d.extent[3] < 36.8
    assert ws.in_use(store)["landcover"] == [d.id]
    with rasterio.open(d.display_path) as disp, rasterio.open(lc_files["base"]) as src:
        # the map's copy: a COG (tiled, overviews unless tiny) with every pixel of the source
        assert disp.crs == src.crs and disp.transform == src.transform and disp.nodata == 0
        assert (disp.read(1) == src.read(1)).all() and cog.tile_ready(d.display_path)


def test_legend_detected_asked_or_refused(store, lc_files, tmp_path):
    with pytest.raises(raster_register.LegendAmbiguous) as e:  # codes 1-9 fit CLCD and IGBP
        raster_register.register_landcover(store, [lc_files["base"]])
    assert e.value.candidates == ["clcd", "igbp"] and "choose the legend" in e.value.en and "请选择图例" in e.value.zh
    with pytest.raises(ws.InputError) as e:  # codes 1-9 outside WorldCover's 10..100
        raster_register.register_landcover(store, [lc_files["base"]], legend="worldcover")
    assert "outside the legend 'worldcover'" in e.value.en and "图例“worldcover”之外的代码" in e.value.zh
    wc = wf.write_tif(tmp_path / "wc.tif", np.array([[10, 20], [95, 0]], dtype="uint8"), wf.grid()[0])
    d = raster_register.register_landcover(store, [wc])  # 95 (mangroves) exists only in WorldCover
    assert d.legend == "worldcover" and d.notes[0][1] == "legend detected from the codes: worldcover"
    assert ws.datasets(store) == [d]  # the refused ones left nothing behind


def test_nodata_is_asked_for_and_never_counted(store, tmp_path):
    t, w, h = wf.grid((103.6, 36.4, 103.7, 36.5))
    codes = wf.clcd_codes(h, w)
    f = wf.write_tif(tmp_path / "no_nodata.tif", codes, t, nodata=None)
    with pytest.raises(raster_register.NodataMissing) as e:
        raster_register.register_landcover(store, [f], legend="clcd")
    assert "no nodata value" in e.value.en and "未设置无数据值" in e.value.zh
    assert ws.datasets(store) == []
    d = raster_register.register_landcover(store, [f], legend="clcd", nodata=0)
    assert 0 not in d.codes and sum(d.codes.values()) == int((codes != 0).sum())
    assert d.raster_path.endswith(".vrt") and rasterio.open(d.raster_path).nodata == 0
    assert rasterio.open(f).nodata is None  # the user's file is untouched


def test_raster_without_crs_is_refused(store, tmp_path):
    f = wf.write_tif(tmp_path / "nocrs.tif", np.ones((50, 50), "uint8"), wf.grid()[0], crs=None)
    with pytest.raises(ws.InputError) as e:
        raster_register.register_landcover(store, [f], legend="clcd")
    assert "has no CRS" in e.value.en and "没有坐标参考系" in e.value.zh
    assert ws.datasets(store) == []


def test_four_tiles_are_one_mosaic_without_copying_and_an_edit_is_detected(store, lc_files, tmp_path):
    tiles = wf.quadrant_tiles(lc_files["base"], Path(os.environ["GANSU_IMPORT_DIR"]) / "tiles")
    single = raster_register.register_landcover(store, [lc_files["base"]], legend="clcd")
    mosaic = raster_register.register_landcover(store, tiles, legend="clcd", year=2020)
    assert mosaic.codes == single.codes and mosaic.n_pixels == single.n_pixels
    assert [f.path for f in mosaic.files] == [str(t) for t in tiles]  # referenced in place
    assert not any(p.suffix == ".tif" and p.name.startswith("tile") for p in (Path(mosaic.raster_path).parent).iterdir())
    with rasterio.open(mosaic.raster_path) as m, rasterio.open(lc_files["base"]) as s:
        assert m.transform == s.transform and (m.read(1) == s.read(1)).all()
    os.utime(tiles[2])  # touched, not changed: still accepted
    ws.verify(mosaic)
    with rasterio.open(tiles[2], "r+") as t:
        a = t.read(1)
        a[100, 100] = 5 if a[100, 100] != 5 else 6
        t.write(a, 1)
    with pytest.raises(ws.InputError) as e:
        ws.verify(mosaic)
    assert "changed after it was registered" in e.value.en and "在登记后已被修改" in e.value.zh
    store.set_in_use("landcover", [mosaic.id])
    with pytest.raises(ws.InputError):  # the next use refuses it
        runs.inputs_from_workspace(store)
    tiles[0].unlink()
    with pytest.raises(ws.InputError) as e:
        ws.verify(mosaic)
    assert "is gone" in e.value.en and "已不存在" in e.value.zh


def test_tiles_of_two_crss_are_refused(store, lc_files, tmp_path):
    tiles = wf.quadrant_tiles(lc_files["base"], tmp_path / "mixed", crs_override="EPSG:32648")
    with pytest.raises(ws.InputError) as e:
        raster_register.register_landcover(store, tiles, legend="clcd")
    assert "different CRSs" in e.value.en and "坐标系不一致" in e.value.zh and "EPSG:32648" in e.value.en
    assert ws.datasets(store) == []


def test_osm_gives_four_kinds_and_an_untagged_file_is_refused(store, tmp_path):
    d = vector_register.register_osm(store, wf.osm_near(103.66, 36.52, tmp_path / "lz.osm"), use=True)
    assert d.kinds == ("expressway", "major_road", "railway", "station") and d.licence == "ODbL"
    layers = vector_register.transport_layers(store, ws.in_use(store)["transport"])
    assert {k: len(v) for k, v in layers.items()} == {"expressway": 1, "major_road": 1, "railway": 1, "station": 1}
    with pytest.raises(ws.InputError) as e:
        vector_register.register_osm(store, wf.osm_near(103.66, 36.52, tmp_path / "empty.osm", empty=True))
    assert "no feature matching the transport tag rules" in e.value.en and "没有符合规则的交通要素" in e.value.zh
    assert len(ws.datasets(store)) == 1


def test_transport_file_without_lines_is_refused(store, tmp_path):
    pts = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[shapely.Point(103.6, 36.5), shapely.Point(103.7, 36.6)], crs=4326)
    f = tmp_path / "points.geojson"
    pts.to_file(f)
    with pytest.raises(ws.InputError) as e:
        vector_register.register_vector(store, f, "transport", kind="railway")
    assert "has no lines" in e.value.en and "没有线要素" in e.value.zh
    assert ws.datasets(store) == []
    d = vector_register.register_vector(store, f, "transport", kind="station")  # points are fine for stations
    assert d.kinds == ("station",) and d.n_features == 2


def test_redline_dataset_replaces_the_proxy_when_in_use(store, tmp_path):
    red = gpd.GeoDataFrame({"name": ["保护区"]}, geometry=[shapely.box(103.6, 36.4, 103.7, 36.6)], crs=4326)
    f = tmp_path / "redline.gpkg"
    red.to_file(f, layer="redline")
    d = vector_register.register_vector(store, f, "redline", source_text="省自然资源厅", licence="internal")
    assert ws.in_use(store)["redline"] == [] and store.active_user_layer("protection_proxy") is None
    ws.use(store, "redline", [d.id])
    assert ws.in_use(store)["redline"] == [d.id]
    assert store.active_user_layer("protection_proxy")["upload_id"] == d.upload_id
    ws.remove(store, d.id, confirm=True)
    assert store.active_user_layer("protection_proxy") is None and ws.datasets(store) == []


def test_removing_a_dataset_in_use_asks_and_falls_back_to_the_default(store, lc_files):
    d = raster_register.register_landcover(store, [lc_files["base"]], legend="clcd", use=True)
    with pytest.raises(ws.InUse) as e:
        ws.remove(store, d.id)
    assert "in use" in e.value.en and "正在使用中" in e.value.zh
    assert ws.in_use(store)["landcover"] == [d.id]
    ws.remove(store, d.id, confirm=True)
    assert ws.in_use(store)["landcover"] == [] and lc_files["base"].is_file()  # referenced file kept
    assert not (Path(os.environ["GANSU_WORKSPACE_DIR"]) / d.id).exists()


def test_workspace_survives_a_restart(tmp_path, lc_files, monkeypatch, store_at):
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "workspace"))
    s = Store(store_at("s"))
    d = raster_register.register_landcover(s, [lc_files["base"]], legend="clcd", year=2020, use=True)
    o = vector_register.register_osm(s, wf.osm_near(103.66, 36.52, tmp_path / "a.osm"), use=True)
    s.close()
    s2 = Store(store_at("s"))
    assert [x.id for x in ws.datasets(s2)] == [d.id, o.id] and ws.get(s2, d.id) == d
    assert ws.in_use(s2)["landcover"] == [d.id] and o.id in ws.in_use(s2)["transport"]
    s2.close()


def test_data_in_use_gives_the_cli_numbers_and_is_cached(store, lc_files, dataset, tmp_path):
    base = raster_register.register_landcover(store, [lc_files["base"]], legend="clcd", year=2020, use=True)
    raster_register.register_landcover(store, [lc_files["alt"]], legend="clcd", year=2023, use=True, use_as="landcover_alt")
    osm = wf.osm_near(103.66, 36.52, tmp_path / "lz.osm")
    vector_register.register_osm(store, osm, use=True)
    parks = demo_parks(dataset)
    inputs = runs.inputs_from_workspace(store)
    first = runs.compute_cached(store, parks, inputs, batch=3)
    assert runs.missing(store, parks, inputs) == []
    again = runs.compute_cached(store, parks, runs.inputs_from_workspace(store))
    pd.testing.assert_frame_equal(first, again)
    # the CLI on the same files: the same numbers to 1e-9 relative
    parks_file = tmp_path / "parks.gpkg"
    parks.to_file(parks_file, layer="parks")
    out = tmp_path / "cli.csv"
    zones = tmp_path / "zones.gpkg"
    inputs.zones.to_file(zones, layer="zones")
    red = tmp_path / "red.gpkg"
    inputs.redline.to_file(red, layer="red")
    air = tmp_path / "air.gpkg"
    catalog.read_default("airports").to_file(air, layer="airports")
    cmd = [sys.executable, "-m", "cli", "parks", "--parks", str(parks_file), "--name-field", "name",
           "--id-field", "park_id", "--landcover", str(lc_files["base"]), "--legend", "clcd",
           "--landcover-alt", str(lc_files["alt"]), "--osm", str(osm), "--transport", f"{air}:airport",
           "--redline", str(red), "--zones", str(zones), "--zone-field", inputs.zone_field, "--out", str(out)]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    cli = pd.read_csv(out, dtype={"park_id": str})
    assert list(cli.columns) == list(first.columns)
    lanzhou = first["park_id"].isin(["P01", "P02", "P09"]).to_numpy()
    assert (first.loc[lanzhou, "reliability"] == "ok").all()
    for col in first.columns:
        a, b = first[col], cli[col]
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=0, equal_nan=True,
                                       err_msg=col)
    for col in ("dist_expressway_km", "dist_major_road_km", "dist_railway_km", "dist_station_km", "carbon_change_tc"):
        assert first.loc[lanzhou, col].notna().all(), col
    # a save recomputes one park only
    moved = parks.copy()
    moved.loc[0, "geometry"] = shapely.affinity.translate(moved.geometry[0], 0.01, 0)
    assert runs.missing(store, moved, inputs) == [0]
    assert base.id in ws.in_use(store)["landcover"]


def test_cli_add_list_use_remove_with_exit_codes(tmp_path, lc_files, store_at):
    env = {**os.environ, "GANSU_STORE": str(store_at("cli")), "GANSU_WORKSPACE_DIR": str(tmp_path / "ws"),
           "GANSU_IMPORT_DIR": str(tmp_path / "import")}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "cli", "workspace", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=300)

    r = run("add", str(lc_files["base"]), "--role", "landcover", "--legend", "clcd", "--year", "2020", "--use")
    assert r.returncode == 0, r.stderr
    did = r.stdout.strip().splitlines()[-1]
    assert did.startswith("D") and len(did) == 10
    r = run("add", str(lc_files["base"]), "--role", "landcover")  # ambiguous legend: bilingual, exit 2
    assert r.returncode == 2 and "choose the legend" in r.stderr and "请选择图例" in r.stderr
    lst = run("list")
    assert did in lst.stdout and "IN USE: landcover" in lst.stdout
    r = run("remove", did)
    assert r.returncode == 2 and "confirm" in r.stderr and "确认后删除" in r.stderr
    assert run("remove", did, "--yes").returncode == 0
    assert did not in run("list").stdout


# --- issue 14: replacing the red line or the zones changes the numbers, to hand-computed values ----
def _two_parks() -> gpd.GeoDataFrame:
    """Two 0.02° parks near 兰州新区, 0.1° apart (A west of 103.65°E, B east of it)."""
    return gpd.GeoDataFrame({"park_id": ["A", "B"], "name": ["园区A", "园区B"]},
                            geometry=[shapely.box(103.60, 36.40, 103.62, 36.42), shapely.box(103.70, 36.40, 103.72, 36.42)],
                            crs=4326)


def test_redline_in_use_gives_hand_computed_park_overlaps(store, dataset, tmp_path):
    """A red line covering the north-east quarter of A and the north-west quarter of B: each park's
    overlap is that 0.01° × 0.01° quadrangle (ellipsoid formula, tests/hostile/corpus.quad_km2) and
    25% of the park; back on the proxy the numbers are the proxy's again."""
    from tests.hostile.corpus import quad_km2

    parks = _two_parks()
    before = runs.compute_cached(store, parks, runs.inputs_from_workspace(store)).set_index("park_id")
    red = gpd.GeoDataFrame({"name": ["红线"]}, geometry=[shapely.box(103.61, 36.41, 103.71, 36.45).segmentize(0.005)],
                           crs=4326)
    f = tmp_path / "red.gpkg"
    red.to_file(f, layer="red")
    d = vector_register.register_vector(store, f, "redline", use=True)
    after = runs.compute_cached(store, parks, runs.inputs_from_workspace(store)).set_index("park_id")
    quarter_a, quarter_b = quad_km2(103.61, 36.41, 103.62, 36.42), quad_km2(103.70, 36.41, 103.71, 36.42)
    assert 0.99 < quarter_a < 1.0  # by hand: 0.01° of longitude ≈ 0.896 km × 0.01° of latitude ≈ 1.110 km
    for pid, q in (("A", quarter_a), ("B", quarter_b)):
        assert after.loc[pid, "redline_overlap_km2"] == pytest.approx(q, rel=1e-3)
        assert after.loc[pid, "redline_overlap_pct"] == pytest.approx(25.0, abs=0.05)
    # a red line touching B only along an edge: no overlap for B, A unchanged
    ws.remove(store, d.id, confirm=True)
    edge = gpd.GeoDataFrame({"name": ["边"]}, geometry=[shapely.box(103.61, 36.41, 103.70, 36.45)], crs=4326)
    edge.to_file(tmp_path / "edge.gpkg", layer="edge")
    vector_register.register_vector(store, tmp_path / "edge.gpkg", "redline", use=True)
    edged = runs.compute_cached(store, parks, runs.inputs_from_workspace(store)).set_index("park_id")
    assert edged.loc["A", "redline_overlap_km2"] == pytest.approx(quarter_a, rel=1e-3)
    assert edged.loc["B", "redline_overlap_km2"] == 0
    ws.use(store, "redline", [])
    back = runs.compute_cached(store, parks, runs.inputs_from_workspace(store)).set_index("park_id")
    pd.testing.assert_series_equal(back["redline_overlap_km2"], before["redline_overlap_km2"])


def test_zones_in_use_give_each_park_its_zone(store, dataset, tmp_path):
    """Official zones split at 103.65°E: A lies in 西区, B in 东区 (the schematic zones put both in
    one zone, so the answer can only come from the replacement)."""
    parks = _two_parks()
    before = runs.compute_cached(store, parks, runs.inputs_from_workspace(store)).set_index("park_id")
    assert before.loc["A", "zone"] == before.loc["B", "zone"]
    zones = gpd.GeoDataFrame({"名称": ["西区", "东区"]},
                             geometry=[shapely.box(103.3, 36.2, 103.65, 36.6), shapely.box(103.65, 36.2, 104.0, 36.6)],
                             crs=4326)
    f = tmp_path / "zones.gpkg"
    zones.to_file(f, layer="zones")
    vector_register.register_vector(store, f, "zones", name_field="名称", use=True)
    after = runs.compute_cached(store, parks, runs.inputs_from_workspace(store)).set_index("park_id")
    assert after.loc["A", "zone"] == "西区" and after.loc["B", "zone"] == "东区"
    ws.use(store, "zones", [])
    back = runs.compute_cached(store, parks, runs.inputs_from_workspace(store)).set_index("park_id")
    assert list(back["zone"]) == list(before["zone"])

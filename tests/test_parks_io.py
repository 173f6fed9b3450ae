"""Bringing parks in: files land where they belong (within 5 m), and saved parks survive (on DuckDB
and on PostgreSQL: ``store_at``)."""
import io
import random
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import prcoords
import pyproj
import pytest
import shapely

from core import crs
from layers import readers
from storage.store import Store

REPO = Path(__file__).resolve().parent.parent
KNOWN = (104.52, 36.21)  # a WGS84 point in Baiyin, the first vertex of every test polygon


def _poly_wgs84():
    x, y = KNOWN
    return shapely.Polygon([(x, y), (x + 0.02, y), (x + 0.02, y + 0.015), (x, y + 0.015)])


def _first_vertex_error_m(gdf) -> float:
    vx, vy = np.asarray(gdf.geometry.iloc[0].exterior.coords)[0]
    return float(crs.geodesic_distance_m(KNOWN[0], KNOWN[1], vx, vy))


def _zip_dir(d: Path, skip=()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in sorted(d.iterdir()):
            if p.suffix not in skip:
                z.write(p, p.name)
    return buf.getvalue()


def test_gbk_shapefile_without_cpg_in_cgcs2000(tmp_path):
    g = gpd.GeoDataFrame({"名称": ["白银高新区扩区"]}, geometry=[_poly_wgs84()], crs=4326).to_crs(4490)
    g.to_file(tmp_path / "p.shp", encoding="GBK", engine="pyogrio")
    res = readers.read_vector("parks.zip", _zip_dir(tmp_path, skip=(".cpg",)))
    assert res.gdf["名称"].iloc[0] == "白银高新区扩区"
    assert _first_vertex_error_m(res.gdf) < 5


@pytest.mark.parametrize("epsg", [4524, 4526, 4544])
def test_gauss_kruger_files_land_within_5m(tmp_path, epsg):
    # 4524 = CGCS2000 3° GK zone 36 with prefix (CM 108E); 4526 is zone 38 (CM 114E), named in the
    # issue as "zone 36": both must land right; 4544 = CM 105E without prefix.
    g = gpd.GeoDataFrame({"name": ["gk"]}, geometry=[_poly_wgs84()], crs=4326).to_crs(epsg)
    path = tmp_path / "gk.gpkg"
    g.to_file(path, engine="pyogrio")
    res = readers.read_vector("gk.gpkg", path.read_bytes())
    assert _first_vertex_error_m(res.gdf) < 5
    assert pyproj.CRS.from_user_input(res.source_crs).to_epsg() == epsg


def test_gk_eastings_without_crs_are_recognised_from_their_zone_prefix():
    g = gpd.GeoDataFrame({"name": ["gk"]}, geometry=[_poly_wgs84()], crs=4326).to_crs(4524)
    raw = g.set_crs(None, allow_override=True).to_json().encode()
    with pytest.raises(readers.CRSMissing) as e:
        readers.read_vector("nocrs.geojson", raw)
    assert e.value.guess == "EPSG:4524" and "zone prefix 36" in e.value.en
    res = readers.read_vector("nocrs.geojson", raw, assume_crs=e.value.guess)
    assert _first_vertex_error_m(res.gdf) < 5


def test_gk_without_prefix_offers_gansu_central_meridians():
    g = gpd.GeoDataFrame({"name": ["gk"]}, geometry=[_poly_wgs84()], crs=4326).to_crs(4544)
    raw = g.set_crs(None, allow_override=True).to_json().encode()
    with pytest.raises(readers.CRSMissing) as e:
        readers.read_vector("nocrs.geojson", raw)
    assert e.value.guess is None and "EPSG:4544" in e.value.candidates


def test_gcj02_csv_lands_within_5m_of_wgs84():
    wgs = (103.8342, 36.0611)  # Lanzhou
    g = prcoords.wgs_gcj((wgs[1], wgs[0]))  # independent oracle for the forward offset
    csv = f"园区名称,经度,纬度,面积\n高德拾取园区,{g.lon:.7f},{g.lat:.7f},4\n".encode("utf-8-sig")
    raw = readers.read_vector("gaode.csv", csv)
    res = readers.read_vector("gaode.csv", csv, gcj02=True)
    c = crs.square_of_area(*wgs, 4).centroid
    got = res.gdf.geometry.iloc[0].centroid
    assert float(crs.geodesic_distance_m(c.x, c.y, got.x, got.y)) < 5
    off = raw.gdf.geometry.iloc[0].centroid
    assert 150 < float(crs.geodesic_distance_m(c.x, c.y, off.x, off.y)) < 300  # without the switch
    assert res.gdf["园区名称"].iloc[0] == "高德拾取园区"
    assert abs(crs.equal_area_km2(res.gdf)[0] - 4) < 0.01


def test_csv_with_wkt_and_gbk_and_comma_decimals():
    wkt = _poly_wgs84().wkt
    data = f'name,wkt\n定西园区,"{wkt}"\n'.encode("gbk")
    res = readers.read_vector("w.csv", data)
    assert res.gdf["name"].iloc[0] == "定西园区"
    assert _first_vertex_error_m(res.gdf) < 0.01
    comma = "name,lon,lat,area_km2\nA,\"104,5\",\"36,2\",\"2,5\"\n".encode()
    res = readers.read_vector("c.csv", comma)
    assert abs(crs.equal_area_km2(res.gdf)[0] - 2.5) < 0.01


@pytest.mark.parametrize("text,needle", [
    ("name,lon,lat\nA,104,36\n", "area"),
    ("name,foo\nA,1\n", "WKT column"),
    ("name,lon,lat,area_km2\nA,abc,36,1\n", "row 1"),
    ("name,wkt\nA,POINT (104 36)\n", "point"),
])
def test_bad_csv(text, needle):
    with pytest.raises(readers.UploadError) as e:
        readers.read_vector("bad.csv", text.encode())
    assert needle in e.value.en and e.value.zh


def test_two_sessions_saving_at_the_same_time_lose_nothing(store_at):
    store = Store(store_at("s"))
    g = gpd.GeoDataFrame({"k": [1]}, geometry=[_poly_wgs84()], crs=4326)
    errors = []

    def session(tag):
        try:
            for i in range(40):
                store.add_parks(g, names=[f"{tag}-{i}"], source="drawn")
                store.save_checklist(f"{tag}", {"i": i})
        except Exception as e:  # pragma: no cover - the assertion below reports it
            errors.append(e)

    threads = [threading.Thread(target=session, args=(t,)) for t in ("A", "B")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    names = set(store.parks()["name"])
    assert {f"A-{i}" for i in range(40)} | {f"B-{i}" for i in range(40)} == names
    assert store.checklist("A") == {"i": 39} and store.checklist("B") == {"i": 39}


SAVE_LOOP = r"""
import sys, geopandas as gpd, shapely
from storage.store import Store
s = Store(sys.argv[1])
g = gpd.GeoDataFrame({"k": [1]}, geometry=[shapely.box(104, 36, 104.01, 36.01)], crs=4326)
i = 0
while True:
    ids = s.add_parks(g, names=[f"p{i}"], source="drawn")
    print("CONFIRMED", ids[0], flush=True)   # what the UI shows after a save returns
    i += 1
"""


def test_sigkill_during_save_loop_keeps_every_confirmed_save(store_at):
    """On PostgreSQL the server rolls back the killed client's open transaction (and frees its write lock)."""
    path = store_at("crash")
    confirmed = []
    rng = random.Random(7)
    for trial in range(6):
        p = subprocess.Popen([sys.executable, "-c", SAVE_LOOP, str(path)], cwd=REPO,
                             stdout=subprocess.PIPE, text=True)
        deadline = time.time() + rng.uniform(1.5, 3.0)
        while time.time() < deadline:
            line = p.stdout.readline()
            if line.startswith("CONFIRMED"):
                confirmed.append(line.split()[1])
        p.send_signal(signal.SIGKILL)
        rest = p.stdout.read()
        confirmed += [ln.split()[1] for ln in rest.splitlines() if ln.startswith("CONFIRMED")]
        p.wait()
    s = Store(path)
    present = set(s.parks()["park_id"])
    assert confirmed and set(confirmed) <= present

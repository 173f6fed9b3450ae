"""Final tables of CLI runs kept in the store (issue 11: "final table to Parquet and into the store"):
every run adds a version, nothing is overwritten, a viewer is refused on the server side, each
write is in the audit log, and a damaged table is refused by its SHA-256 — on DuckDB and on
PostgreSQL (``store_at``). While the dashboard holds a DuckDB store the CLI queues its table in the
inbox; on PostgreSQL it stores the table itself beside the dashboard."""
import json
import os
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

from core.errors import PermissionDenied
from storage import accounts, audit
from storage.accounts import Principal
from storage.db import StoreError
from storage.store import Store

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=WGS84 +units=m +no_defs"


def _cli(*args, store):
    return subprocess.run([sys.executable, "-m", "cli", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=600, env={**os.environ, "GANSU_STORE": str(store)})


def test_zonestats_and_parks_tables_go_into_the_store_as_new_versions(tmp_path, store_at):
    a = np.zeros((200, 300), np.uint8)
    a[:, :150] = 2  # forest (CLCD 2) on the west half, cropland (1) on the east half
    a[:, 150:] = 1
    lc = tmp_path / "lc.tif"
    with rasterio.open(lc, "w", driver="GTiff", width=300, height=200, count=1, dtype="uint8", crs=ALBERS,
                       transform=Affine(30, 0, 0, 0, -30, 4_000_000), nodata=0) as ds:
        ds.write(a, 1)
    units = gpd.GeoDataFrame({"adcode": ["w", "e"], "name_zh": ["西", "东"]},
                             geometry=[shapely.box(0, 3_994_000, 4500, 4_000_000),
                                       shapely.box(4500, 3_994_000, 9000, 4_000_000)], crs=ALBERS)
    up = tmp_path / "units.gpkg"
    units.to_file(up)
    store = store_at("store")
    out = tmp_path / "zs.parquet"
    for run in (1, 2):
        r = _cli("zonestats", "--units", up, "--landcover", lc, "--legend", "clcd", "--years", lc,
                 "--out", out, "--scheduler", "synchronous", "--no-cache", "--into-store", "gansu 30m", store=store)
        assert r.returncode == 0, r.stderr[-2000:]
        assert f"gansu 30m@{run} (2 rows" in r.stdout
    parks = gpd.GeoDataFrame({"park_id": ["p"], "name": ["园"]}, geometry=[shapely.box(3000, 3_995_000, 6000, 3_998_000)],
                             crs=ALBERS).to_crs(4326)
    pk = tmp_path / "parks.gpkg"
    parks.to_file(pk)
    r = _cli("parks", "--parks", pk, "--landcover", lc, "--legend", "clcd", "--out", tmp_path / "p.csv",
             "--into-store", "parks run", store=store)
    assert r.returncode == 0, r.stderr[-2000:]

    s = Store(store)
    try:
        listed = s.result_tables()
        assert sorted(listed["table_id"]) == ["gansu 30m/transitions@1", "gansu 30m/transitions@2",
                                             "gansu 30m/years@1", "gansu 30m/years@2", "gansu 30m@1", "gansu 30m@2",
                                             "parks run@1"]
        first, again = s.result_table("gansu 30m@1"), s.result_table("gansu 30m@2")
        pd.testing.assert_frame_equal(first, pd.read_parquet(out))
        pd.testing.assert_frame_equal(first, again)  # a re-run adds a version, the first one is kept
        west = first.set_index("unit_id").loc["w"]
        assert west["lc_forest_km2"] == pytest.approx(150 * 200 * 900 / 1e6, rel=1e-12)  # 27 km² of forest
        assert west["lc_cropland_km2"] == pytest.approx(0, abs=1e-9)  # the edge column: float dust only
        park = s.result_table("parks run@1")
        assert park["park_id"].tolist() == ["p"]  # 3 km × 3 km: 1.5 km forest + 1.5 km cropland
        assert park["area_km2"].iloc[0] == pytest.approx(9.0, rel=1e-3)
        log = audit.rows(s)
        added = log[log["action"] == "result_table_add"]
        assert len(added) == 7 and set(added["actor"]) == {str(accounts.SHELL)}
        assert listed.set_index("table_id").loc["parks run@1", "created_by"] == str(accounts.SHELL)
    finally:
        s.close()


def test_a_viewer_may_not_store_a_table_and_a_damaged_table_is_refused(store_at):
    s = Store(store_at("s"))
    try:
        for name, role in (("boss", "admin"), ("v", "viewer"), ("ed", "editor")):
            accounts.add(s, name, "a long enough passphrase 1", role, actor=accounts.SHELL)
        df = pd.DataFrame({"unit_id": ["1"], "area_km2": [2.5]})
        with pytest.raises(PermissionDenied, match="viewer account cannot change data"):
            s.put_result_table("t", "zonestats", df, actor=Principal("v", "viewer"))
        assert s.result_tables().empty
        r = s.put_result_table("t", "zonestats", df, actor=Principal("ed", "editor"))
        assert s.result_tables()["created_by"].tolist() == ["ed"]
        pd.testing.assert_frame_equal(s.result_table("t@1"), df)
        assert r["table_id"] == "t@1"
        with s.transaction() as cur:  # a byte changes on disk
            cur.execute("UPDATE result_tables SET sha256 = ? WHERE table_id = 't@1'", ["0" * 64])
        with pytest.raises(StoreError, match="damaged"):
            s.result_table("t@1")
    finally:
        s.close()


def test_data_page_lists_stored_tables_with_labelled_headers_and_downloads(dataset, store_at,
                                                                           monkeypatch):
    from tests.apptest_helpers import run_page, shown_headers

    monkeypatch.setenv("GANSU_STORE", str(store_at("page")))
    s = Store(store_at("page"))
    try:
        r = s.put_result_table("全国园区 run", "parks", pd.DataFrame({"park_id": ["P01", "P02"], "area_km2": [1.5, 2.5]}),
                               actor=accounts.SHELL)
    finally:
        s.close()
    at = run_page("data.py", "zh")
    tables = [d for d in at.dataframe if "结果表（名称@版本）" in shown_headers(d)]
    assert len(tables) == 1, [shown_headers(d) for d in at.dataframe]
    shown = tables[0].value
    assert r["table_id"] in set(shown["结果表（名称@版本）"])
    assert not any(h in ("table_id", "n_rows", "sha256") for h in shown_headers(tables[0]))  # labels, not ids
    assert at.selectbox(key="results_pick").value == r["table_id"]  # newest first
    at = run_page("data.py", "en")
    assert any(d for d in at.dataframe if "Table (name@version)" in shown_headers(d))


def _forest_and_unit(tmp_path):
    """A 3 km × 3 km forest raster (CLCD code 2, 30 m) and one unit covering its western half."""
    a = np.full((100, 100), 2, np.uint8)
    lc = tmp_path / "lc.tif"
    with rasterio.open(lc, "w", driver="GTiff", width=100, height=100, count=1, dtype="uint8", crs=ALBERS,
                       transform=Affine(30, 0, 0, 0, -30, 3000), nodata=0) as ds:
        ds.write(a, 1)
    units = gpd.GeoDataFrame({"adcode": ["u"], "name_zh": ["甲"]}, geometry=[shapely.box(0, 0, 1500, 3000)], crs=ALBERS)
    up = tmp_path / "units.gpkg"
    units.to_file(up)
    return lc, up


def test_a_running_dashboard_holding_the_store_gets_the_table_through_the_inbox(tmp_path):
    """DuckDB only: the inbox exists because DuckDB admits one writing process (PostgreSQL: the next
    test)."""
    from storage import inbox

    lc, up = _forest_and_unit(tmp_path)
    path = tmp_path / "held.duckdb"
    held = Store(path)  # like the dashboard: this process holds the one DuckDB writer lock
    try:
        r = _cli("zonestats", "--units", up, "--landcover", lc, "--legend", "clcd", "--out", tmp_path / "z.csv",
                 "--scheduler", "synchronous", "--no-cache", "--into-store", "held run", store=path)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "queued in" in r.stdout and "held run (1 rows)" in r.stdout
        assert len(inbox.pending(path)) == 1 and held.result_tables().empty
        taken = inbox.ingest(held, None)  # what the Data page does when it opens (single-user: "local")
        assert [t["table_id"] for t in taken] == ["held run@1"] and inbox.pending(path) == []
        df = held.result_table("held run@1")
        assert df["lc_forest_km2"].iloc[0] == pytest.approx(1500 * 3000 / 1e6, rel=1e-9)  # 4.5 km² (edge cells: float dust)
        row = held.result_tables().iloc[0]
        assert row["created_by"] == "local" and '"queued_by"' in row["args"]
        assert list(inbox.inbox_dir(path).iterdir()) == []  # nothing left behind
    finally:
        held.close()


def test_on_postgresql_the_cli_stores_its_table_while_the_dashboard_holds_the_store(tmp_path, pg_cluster):
    """PostgreSQL: the CLI writes beside the running dashboard (no inbox); the dashboard's store sees
    the table at once and the Data page's ingest has nothing to take in."""
    from storage import inbox

    lc, up = _forest_and_unit(tmp_path)
    url = pg_cluster.new_database("t_held_by_dashboard")
    held = Store(url)  # like the dashboard: open (and in use) the whole time
    try:
        assert held.result_tables().empty
        r = _cli("zonestats", "--units", up, "--landcover", lc, "--legend", "clcd", "--out", tmp_path / "z.csv",
                 "--scheduler", "synchronous", "--no-cache", "--into-store", "held run", store=url)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "queued in" not in r.stdout and "held run@1 (1 rows" in r.stdout
        assert held.result_tables()["table_id"].tolist() == ["held run@1"]
        assert held.result_tables().iloc[0]["created_by"] == str(accounts.SHELL)
        assert held.result_table("held run@1")["lc_forest_km2"].iloc[0] == pytest.approx(4.5, rel=1e-9)
        assert inbox.ingest(held, None) == [] and audit.verify(held).ok
    finally:
        held.close()
        pg_cluster.drop_database("t_held_by_dashboard")


def test_a_damaged_queued_note_is_set_aside_and_the_next_one_still_comes_in(tmp_path):
    """DuckDB only: the inbox (see above)."""
    from storage import inbox

    path = tmp_path / "s.duckdb"
    good = pd.DataFrame({"unit_id": ["1"], "area_km2": [2.5]})
    bad_note = inbox.queue(path, "broken", "zonestats", good)
    bad_note.with_name(json.loads(bad_note.read_text(encoding="utf-8"))["data"]).write_bytes(b"not parquet")
    inbox.queue(path, "fine", "zonestats", good)
    s = Store(path)
    try:
        taken = inbox.ingest(s, None)
        assert [t["table_id"] for t in taken] == ["fine@1"]
        assert inbox.pending(path) == [] and len(inbox.failed(path)) == 1
        assert inbox.ingest(s, None) == []  # nothing is stored twice
        pd.testing.assert_frame_equal(s.result_table("fine@1"), good)
    finally:
        s.close()

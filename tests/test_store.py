"""The store on both back ends (DuckDB, PostgreSQL): round trips, transactional writes; DuckDB's
spatial loaded offline from the pinned wheel and its one-writer lock."""
import geopandas as gpd
import pytest
import shapely

from storage.db import connect
from storage.store import Store


def _layer(names):
    return gpd.GeoDataFrame({"name": names},
                            geometry=[shapely.box(100 + i, 35, 101 + i, 36) for i in range(len(names))],
                            crs=4326)


def test_spatial_loaded_without_autoinstall(tmp_path):
    con = connect(tmp_path / "s.duckdb")
    settings = dict(con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN "
                                "('autoinstall_known_extensions', 'autoload_known_extensions')").fetchall())
    assert settings == {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
    loaded = con.execute("SELECT loaded FROM duckdb_extensions() WHERE extension_name='spatial'").fetchone()
    assert loaded == (True,)
    assert con.execute("SELECT ST_Area(ST_GeomFromText('POLYGON((0 0,2 0,2 3,0 3,0 0))'))").fetchone()[0] == 6.0


def test_user_layer_round_trip_and_survives_reopen(store_at):
    path = store_at("s")
    s = Store(path)
    uid = s.save_user_layer(_layer(["红线A", "<b>x</b>"]), replaces="protection_proxy",
                            name="official.gpkg", original_filename="official.gpkg", source_crs="EPSG:4490")
    s.close()
    s2 = Store(path)
    rec = s2.active_user_layer("protection_proxy")
    assert rec["upload_id"] == uid and rec["n_features"] == 2
    g = s2.load_user_layer(uid)
    assert list(g["name"]) == ["红线A", "<b>x</b>"]
    assert g.geometry.iloc[1].equals(shapely.box(101, 35, 102, 36))
    s2.revert_user_layer("protection_proxy")
    assert s2.active_user_layer("protection_proxy") is None


def test_failed_write_is_rolled_back_whole(store_at):
    s = Store(store_at("s"))
    s.save_user_layer(_layer(["old"]), replaces="zones", name="old", original_filename="old", source_crs=None)

    with pytest.raises(Exception, match="binary data|endian"):  # the WKB is refused mid-transaction
        with s.transaction() as cur:
            cur.execute("UPDATE user_layers SET active = false WHERE replaces = 'zones'")
            cur.execute("SELECT ST_GeomFromWKB(?)", [b"not wkb"])
    rec = s.active_user_layer("zones")
    assert rec is not None and rec["name"] == "old"


def test_catalog_sync_is_idempotent(store_at):
    s = Store(store_at("s"))
    rows = [{"layer_id": "zones", "title_zh": "分区", "title_en": "Zones", "status": "schematic"}]
    s.sync_catalog(rows)
    s.sync_catalog(rows)
    cat = s.catalog()
    assert list(cat["layer_id"]) == ["zones"] and cat["status"].iloc[0] == "schematic"


def test_store_locked_by_another_process_gives_a_clear_error(tmp_path):
    import subprocess
    import sys

    from storage.db import StoreError

    path = tmp_path / "s.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb,time; c=duckdb.connect(%r); "
                               "print('ok', flush=True); time.sleep(30)" % str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(StoreError) as e:
            Store(path)
        assert "in use by another program" in str(e.value) and "占用" in str(e.value)
    finally:
        holder.kill()

"""The PostgreSQL back end's own guarantees: the audit log append-only in the database (triggers for
the owner, no UPDATE/DELETE grant for the application role), ``gansu store copy`` DuckDB → PostgreSQL
→ DuckDB with every row and hash checked, and numbered migrations applied once. A throw-away cluster
(``pg_cluster``) that ``make test`` installs; the store's other tests run on both back ends
(``store_at``)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
import shapely

from storage import accounts, audit, migrations, store_copy
from storage.accounts import SHELL, Principal
from storage.store import Store

REPO = Path(__file__).resolve().parent.parent
PW = "correct horse 1"


def _parks(n=3):
    return gpd.GeoDataFrame({"kind": ["省级"] * n},
                            geometry=[shapely.box(103 + i, 36, 103.5 + i, 36.4) for i in range(n)], crs=4326)


def _fill(s: Store) -> None:
    """A little of everything: accounts, parks with a checklist, a scenario, a result table, a
    replacement layer, audit rows."""
    accounts.add(s, "root", PW, "admin", actor=SHELL)
    accounts.add(s, "ed1", PW, "editor", office="一处", actor=SHELL)
    ed = Principal("ed1", "editor", "一处", "password")
    ids = s.add_parks(_parks(), names=["兰州新区", "金昌园区", "<b>x</b>"], source="test", source_file="p.gpkg",
                      source_crs="EPSG:4490", actor=ed)
    s.save_checklist(ids[0], {"green_pct": 16.5, "名": "是"}, actor=ed)
    s.save_scenario("方案一", ids[:2], {"carbon_stock_tc": 2.0}, {"k": [1, 2]}, actor=ed)
    s.put_result_table("zs", "zonestats", pd.DataFrame({"unit": ["a", "b"], "ha": [1.5, 2.25]}), {"x": "1"}, actor=SHELL)
    s.save_user_layer(_parks(2), replaces="zones", name="分区", original_filename="z.gpkg", source_crs=None, actor=SHELL)


def test_store_copy_duckdb_to_postgresql_and_back_keeps_every_row_and_the_audit_chain(tmp_path, pg_cluster):
    src = Store(tmp_path / "laptop.duckdb")
    _fill(src)
    head = audit.verify(src).head
    url = pg_cluster.new_database("copy_target")
    dst = Store(url)
    digests = store_copy.copy(src, dst, actor=SHELL)
    assert digests["parks"][0] == 3 and digests["accounts"][0] == 2 and digests["user_features"][0] == 2
    assert digests["audit_log"][0] == len(audit.rows(src, limit=1000))
    # the same parks, geometry and all, and the same audit chain (plus the copy's own row)
    a, b = src.parks(), dst.parks()
    assert list(a["name"]) == list(b["name"]) and all(x.equals(y) for x, y in zip(a.geometry, b.geometry))
    r = audit.verify(dst)
    assert r.ok and r.rows == digests["audit_log"][0] + 1 and head in set(dst.query_df("SELECT row_hash FROM audit_chain")["row_hash"])
    last = audit.rows(dst, limit=1)
    assert last["action"].iloc[0] == "store_copy" and int(last["seq"].iloc[0]) == digests["audit_log"][0] + 1
    # and back into a new DuckDB file: the same tables, hash for hash
    back = Store(tmp_path / "back.duckdb")
    again = store_copy.copy(dst, back, actor=SHELL)
    assert {t: again[t] for t in digests if t != "audit_log" and t != "audit_chain" and t != "audit_head"} == \
        {t: digests[t] for t in digests if t not in ("audit_log", "audit_chain", "audit_head")}
    assert audit.verify(back).ok and back.checklist(a["park_id"].iloc[0]) == src.checklist(a["park_id"].iloc[0])
    assert accounts.authenticate(dst, "ed1", PW).role == "editor"  # password hashes came along
    for s in (src, dst, back):
        s.close()


def test_store_copy_refuses_a_destination_with_saved_work_and_changes_nothing(tmp_path, pg_cluster):
    src = Store(tmp_path / "a.duckdb")
    _fill(src)
    dst = Store(pg_cluster.new_database("busy_target"))
    accounts.add(dst, "chief", PW, "admin", actor=SHELL)
    before = store_copy.table_digest(dst._con.cursor(), "accounts")
    with pytest.raises(Exception, match="not new.*accounts") as e:
        store_copy.copy(src, dst, actor=SHELL)
    assert "不是新的" in e.value.zh
    assert store_copy.table_digest(dst._con.cursor(), "accounts") == before and len(dst.parks()) == 0


def test_gansu_store_copy_command_prints_the_checked_tables(tmp_path, pg_cluster):
    src = Store(tmp_path / "c.duckdb")
    _fill(src)
    src.close()
    url = pg_cluster.new_database("cli_target")
    r = subprocess.run([sys.executable, "-m", "cli", "store", "copy", str(tmp_path / "c.duckdb"), url], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "every table's SHA-256 matches" in r.stdout and "一致" in r.stdout
    again = subprocess.run([sys.executable, "-m", "cli", "store", "copy", str(tmp_path / "c.duckdb"), url], cwd=REPO,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "not new" in again.stderr and "不是新的" in again.stderr


def test_the_audit_log_is_append_only_in_the_database(pg_cluster):
    s = Store(pg_cluster.new_database("append_only"))
    audit.log(s, SHELL, "export", "park", "P01")
    for stmt in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log",
                 "UPDATE audit_chain SET row_hash = 'x'", "DELETE FROM audit_chain"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            with s.transaction() as cur:  # even the tables' owner, through the store's own connection
                cur.execute(stmt)
    assert audit.verify(s).ok and audit.verify(s).rows == 1
    s.close()


def test_the_application_role_may_write_the_store_but_not_change_the_audit_log(pg_cluster):
    url = pg_cluster.new_database("app_role")
    owner = Store(url)
    pg_cluster.sql("postgres", "DO $$ BEGIN CREATE ROLE gansu_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    r = subprocess.run([sys.executable, "-m", "cli", "store", "grant", "gansu_app"], cwd=REPO, capture_output=True,
                       text=True, timeout=120, env={"GANSU_STORE": url, "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    owner.close()
    app = Store(url.replace("gansu@", "gansu_app@"))  # the dashboard's role: opens, migrates nothing
    accounts.add(app, "root", PW, "admin", actor=SHELL)  # writes work, with their audit rows
    assert audit.verify(app).ok and audit.verify(app).rows == 1
    with psycopg.connect(url.replace("gansu@", "gansu_app@"), autocommit=True) as con:
        for stmt in ("SET session_replication_role = replica",  # only a superuser may switch triggers off
                     "UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_chain", "TRUNCATE audit_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(stmt)
    app.close()


def test_migrations_are_numbered_and_applied_once_even_when_two_processes_open_a_new_store(pg_cluster):
    url = pg_cluster.new_database("migrate_race")
    code = "import sys; from storage.store import Store; Store(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code, url], cwd=REPO, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0], [p.stderr.read() for p in procs]
    s = Store(url)
    done = s.query_df("SELECT version FROM schema_migrations ORDER BY version")
    assert list(done["version"]) == [m.version for m in migrations.MIGRATIONS if "postgresql" in m.backends]
    idx = set(s.query_df("SELECT indexname FROM pg_indexes WHERE tablename = 'parks'")["indexname"])
    assert "parks_geom_gist" in idx  # PostGIS geometry column with a spatial index
    kind = s.query_df("SELECT type, srid FROM geometry_columns WHERE f_table_name = 'parks'")
    assert kind.to_dict("records") == [{"type": "GEOMETRY", "srid": 4326}]
    s.close()


def test_a_dropped_connection_is_made_again_and_a_server_down_is_a_clear_message():
    """The server drops the dashboard's connection (a restart): the next read and write work on a new
    connection; while the server is down an action gets a bilingual message and nothing half-done."""
    import tempfile

    from storage.db import StoreError
    from storage.pgcluster import Cluster

    c = Cluster(Path(tempfile.mkdtemp(prefix="gansu-pg-", dir="/tmp"))).start()  # its own: it is stopped here
    try:
        s = Store(c.new_database("restart"))
        accounts.add(s, "root", PW, "admin", actor=SHELL)
        c.sql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'restart'")
        assert accounts.any_account(s)  # a read, on a new connection
        accounts.add(s, "ed1", PW, "editor", actor=SHELL)  # a write too
        c.stop(delete=False)
        with pytest.raises(StoreError) as e:
            accounts.add(s, "ed2", PW, "editor", actor=SHELL)
        assert "cannot be reached" in e.value.en and "无法访问" in e.value.zh and "unaffected" in e.value.en
        c.start()
        assert sorted(accounts.list_accounts(s)["name"]) == ["ed1", "root"]  # ed2 was not half-written
        assert audit.verify(s).ok
        s.close()
    finally:
        c.stop()

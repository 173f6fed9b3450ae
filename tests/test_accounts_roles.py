"""Accounts, roles, ownership, recycle bin and audit (issue 15) — on a real DuckDB store of its own
(never the session store: one account would switch every other test to account mode)."""
from __future__ import annotations

import inspect
import time

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from core.errors import PermissionDenied
from storage import accounts, audit
from storage import vector_register
from storage import workspace as ws
from storage.access import ACCESS_LEVELS
from storage.accounts import SHELL, Principal
from storage.store import Store

PASSWORD = "Geheim-Passwort-7731"
OPEN_METHODS = {"sync_catalog", "put_park_results"}  # caches anyone may fill: a conscious list


def _gdf(x=104.2):
    return gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(x, 36.5, x + 0.03, 36.52)], crs=4326)


def P(name, role="editor"):
    return Principal(name, role, None, "password")


@pytest.fixture()
def acc_store(tmp_path, monkeypatch, store_at):
    monkeypatch.setenv("GANSU_LOGIN_DELAY_S", "0")
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "workspace"))
    s = Store(store_at("acc"))
    accounts.add(s, "root", PASSWORD, "admin", actor=SHELL)
    accounts.add(s, "ed1", PASSWORD, "editor", office="规划一处", actor=SHELL)
    accounts.add(s, "ed2", PASSWORD, "editor", office="规划二处", actor=SHELL)
    accounts.add(s, "vera", PASSWORD, "viewer", actor=SHELL)
    yield s
    s.close()


# --- passwords -----------------------------------------------------------------------------------
def test_hashes_are_salted_and_verified():
    a, b = accounts.hash_password(PASSWORD), accounts.hash_password(PASSWORD)
    assert a != b and a.startswith("scrypt$32768$8$1$")  # a random salt; parameters stored
    assert accounts.verify_password(PASSWORD, a) and accounts.verify_password(PASSWORD, b)
    assert not accounts.verify_password(PASSWORD + "x", a) and not accounts.verify_password("", a)
    assert not accounts.verify_password(PASSWORD, None) and not accounts.verify_password(PASSWORD, "plain")


def test_the_store_file_holds_no_plain_password(tmp_path):
    s = Store(tmp_path / "pw.duckdb")
    accounts.add(s, "root", PASSWORD, "admin", actor=SHELL)
    accounts.reset_password(s, "root", PASSWORD + "-neu", actor=SHELL)
    s.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("pw.duckdb"))
    assert len(blob) > 10000
    for pw in (PASSWORD, PASSWORD + "-neu"):
        for enc in ("utf-8", "utf-16-le", "utf-16-be"):
            assert pw.encode(enc) not in blob
    assert b"scrypt$" in blob  # the hash is there, the password is not


def test_first_account_must_be_admin_and_management_is_admin_only(store_at):
    s = Store(store_at("a"))
    assert s.single_user()
    with pytest.raises(accounts.InputError):
        accounts.add(s, "someone", PASSWORD, "editor", actor=SHELL)
    with pytest.raises(accounts.InputError):
        accounts.add(s, "root", "short", "admin", actor=SHELL)
    accounts.add(s, "root", PASSWORD, "admin", actor=SHELL)
    assert not s.single_user()
    accounts.add(s, "ed", PASSWORD, "editor", actor=P("root", "admin"))
    for who in (None, "root", P("ed")):  # nobody, a bare name, an editor
        with pytest.raises(PermissionDenied):
            accounts.add(s, "x", PASSWORD, "viewer", actor=who)
        with pytest.raises(PermissionDenied):
            accounts.set_role(s, "ed", "admin", actor=who)
        with pytest.raises(PermissionDenied):
            accounts.unlock(s, "ed", actor=who)
        with pytest.raises(PermissionDenied):
            accounts.reset_password(s, "ed", PASSWORD, actor=who)
        with pytest.raises(PermissionDenied):
            accounts.set_disabled(s, "ed", actor=who)
    with pytest.raises(accounts.InputError):  # the last admin stays
        accounts.set_disabled(s, "root", actor=SHELL)
    assert "hash" not in " ".join(accounts.list_accounts(s).columns)


def test_five_wrong_passwords_lock_the_account_for_the_configured_time(acc_store, monkeypatch):
    s = acc_store
    monkeypatch.setenv("GANSU_LOCK_MINUTES", str(2 / 60))  # two seconds
    assert accounts.authenticate(s, "ed1", PASSWORD) == "ed1"
    for i in range(4):
        with pytest.raises(accounts.AuthError) as e:
            accounts.authenticate(s, "ed1", "wrong")
        assert "wrong account name or password" in e.value.en
    with pytest.raises(accounts.AuthError) as e:
        accounts.authenticate(s, "ed1", "wrong")
    assert "locked" in e.value.en and "锁定" in e.value.zh
    with pytest.raises(accounts.AuthError) as e:  # the right password does not open a locked account
        accounts.authenticate(s, "ed1", PASSWORD)
    assert "locked" in e.value.en
    time.sleep(2.2)
    assert accounts.authenticate(s, "ed1", PASSWORD).role == "editor"
    acts = list(audit.rows(s, actor="ed1")["action"])
    assert acts.count("login_failed") == 5 and "account_locked" in acts and "login_refused" in acts


def test_unknown_and_disabled_accounts(acc_store):
    with pytest.raises(accounts.AuthError) as e:
        accounts.authenticate(acc_store, "nobody", PASSWORD)
    assert "wrong account name or password" in e.value.en
    accounts.set_disabled(acc_store, "ed2", actor=SHELL)
    with pytest.raises(accounts.AuthError):
        accounts.authenticate(acc_store, "ed2", PASSWORD)
    with pytest.raises(PermissionDenied):  # a session of a disabled account acts no more
        acc_store.add_parks(_gdf(), names=["x"], source="drawn", actor=P("ed2"))


# --- sessions ------------------------------------------------------------------------------------
def test_session_expires_after_inactivity():
    from ui import login, session

    state: dict = {}
    login.start_session(state, P("ed1"), now=1000.0)
    assert session.session_principal(state, now=1000 + 29 * 60, minutes=30) == "ed1"
    session.touch(state, now=1000 + 29 * 60)  # an interaction
    assert session.session_principal(state, now=1000 + 58 * 60, minutes=30).role == "editor"
    assert session.session_principal(state, now=1000 + 29 * 60 + 30 * 60 + 1, minutes=30) is None
    assert state.get("auth_expired") is True and session.SESSION_KEY not in state
    assert session.expired(None, 0, 30)


# --- role checks: every mutating Store method, enumerated --------------------------------------------
def _writers() -> dict[str, object]:
    """Every Store method that writes: opens a transaction or touches the connection itself. The
    methods of the parts the Store is made of (``storage/parks.py`` …) are the Store's too."""
    out = {}
    for klass in Store.__mro__:
        for name, member in vars(klass).items():
            fn = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            if not inspect.isfunction(fn) or name in ("__init__", "transaction", "query_df", "close",
                                                      # the connection machinery of those (a new connection
                                                      # after a server restart, its error message)
                                                      "_begin", "_reconnect", "_raise_unreachable"):
                continue
            src = inspect.getsource(fn)
            if "transaction(" in src or "self._con" in src:
                out.setdefault(name, fn)
    return out


def _snapshot(s: Store) -> tuple:
    tables = ("parks", "scenarios", "checklist", "datasets", "data_in_use", "user_layers", "recycle_bin",
              "park_results", "accounts", "result_tables")
    return tuple(s.query_df(f"SELECT * FROM {t}").astype(str).to_csv() for t in tables)


def _samples(s: Store) -> dict:
    pid = s.add_parks(_gdf(), names=["一处园区"], source="drawn", actor=P("ed1"))[0]
    gone = s.add_parks(_gdf(104.4), names=["回收站园区"], source="drawn", actor=P("ed1"))[0]
    bid = s.delete_parks([gone], actor=P("ed1"))[0]
    s.save_scenario("一处方案", ["P01"], {"w": 1.0}, actor=P("ed1"))
    s.save_checklist(pid, {"a": 1}, actor=P("ed1"))
    s.add_dataset("DTEST00001", "transport", {"id": "DTEST00001", "name": "t"}, actor=P("ed1"))
    return {
        "save_user_layer": ((_gdf(),), dict(replaces="zones", name="z", original_filename="z.gpkg", source_crs=None,
                                            active=False)),
        "activate_user_layer": (("zones", "nope"), {}),
        "revert_user_layer": (("zones",), {}),
        "add_parks": ((_gdf(),), dict(names=["p"], source="drawn")),
        "rename_park": ((pid, "新名"), {}),
        "update_park_attrs": ((pid, {"k": "v"}), {}),
        "delete_parks": (([pid],), {}),
        "save_checklist": ((pid, {"b": 2}), {}),
        "save_scenario": (("一处方案", ["P02"], {"w": 2.0}), {}),
        "delete_scenario": (("一处方案",), {}),
        "add_dataset": (("DTEST00002", "transport", {"id": "DTEST00002", "name": "t2"}), {}),
        "delete_dataset": (("DTEST00001",), {}),
        "update_dataset_params": (("DTEST00001", {"kind": "substation"}), {}),
        "update_dataset_display": (("DTEST00001", "/nowhere/cog.tif"), {}),
        "set_in_use": (("landcover", []), {}),
        "restore_from_bin": ((bid,), {}),
        "empty_bin": ((), {}),
        "sync_catalog": (([],), {}),
        "put_park_results": (({},), {}),
        "put_result_table": (("national run", "parks", pd.DataFrame({"park_id": ["p"], "area_km2": [1.0]})), {}),
    }


def test_every_mutating_store_method_is_marked_and_refuses_a_viewer(acc_store):
    s = acc_store
    writers = _writers()
    assert {"add_parks", "delete_parks", "save_scenario", "empty_bin", "set_in_use"} <= set(writers)
    unmarked = [n for n, fn in writers.items() if getattr(fn, "access", None) not in ACCESS_LEVELS]
    assert not unmarked, f"mutating Store methods without a role check (@mutating): {unmarked}"
    private = [n for n in writers if n.startswith("_")]
    assert not private, f"private methods must not open transactions (callers would skip the check): {private}"
    assert {n for n, fn in writers.items() if fn.access == "open"} == OPEN_METHODS
    samples = _samples(s)
    missing = set(writers) - set(samples)
    assert not missing, f"add a sample call for the new mutating method(s) {missing} to this test"
    for name in writers:
        if name in OPEN_METHODS:
            continue
        args, kw = samples[name]
        for who in (P("vera", "viewer"), None, "root"):  # a viewer, nobody, a bare (forged) admin name
            before = _snapshot(s)
            with pytest.raises(PermissionDenied):
                getattr(s, name)(*args, **kw, actor=who)
            assert _snapshot(s) == before, f"{name} changed the store although refused"
    denied = audit.rows(s, action="denied")
    assert len(denied) >= 3 * (len(writers) - len(OPEN_METHODS))


def test_owner_only_methods_refuse_another_editor_and_allow_the_owner_and_an_admin(acc_store):
    s = acc_store
    samples = _samples(s)
    for name in ("rename_park", "update_park_attrs", "save_checklist", "save_scenario", "delete_dataset",
                 "restore_from_bin", "delete_scenario", "delete_parks"):
        args, kw = samples[name]
        with pytest.raises(PermissionDenied) as e:
            getattr(s, name)(*args, **kw, actor=P("ed2"))
        assert "owner" in e.value.en and "所有者" in e.value.zh
    for name in ("empty_bin", "set_in_use", "activate_user_layer", "revert_user_layer"):
        args, kw = samples[name]
        with pytest.raises(PermissionDenied):  # editors: not even their own
            getattr(s, name)(*args, **kw, actor=P("ed1"))
    pid = samples["rename_park"][0][0]
    s.rename_park(pid, "甲的园区", actor=P("ed1"))
    s.rename_park(pid, "管理员改名", actor=P("root", "admin"))
    s.delete_parks([pid], actor=P("root", "admin"))
    assert pid not in set(s.parks()["park_id"])


def test_single_user_mode_needs_no_actor(store_at):
    s = Store(store_at("single"))
    pid = s.add_parks(_gdf(), names=["x"], source="drawn")[0]
    s.rename_park(pid, "y")
    s.delete_parks([pid])
    assert s.principal(None) == "local" and s.principal(None).role == "admin"
    row = audit.rows(s, action="park_delete").iloc[0]
    assert row["actor"] == "local" and row["item_id"] == pid


# --- ownership, bin, audit ----------------------------------------------------------------------------
def test_deleted_park_goes_to_the_bin_and_comes_back_with_its_cached_indicators(acc_store):
    from indicators import runs

    s = acc_store
    pid = s.add_parks(_gdf(), names=["回收园区"], source="drawn", actor=P("ed1"))[0]
    s.save_checklist(pid, {"x": 1}, actor=P("ed1"))
    parks = s.parks()
    assert parks.iloc[0]["created_by"] == "ed1" and parks.iloc[0]["office"] == "规划一处"
    key = runs.park_keys(parks[["park_id", "name", "geometry"]], "fp")[0]
    s.put_park_results({key: {"park_id": pid, "area_km2": 7.5}})
    bid = s.delete_parks([pid], actor=P("ed1"))[0]
    assert not len(s.parks()) and s.checklist(pid) == {}
    entry = s.bin_entries().iloc[0]
    assert (entry["bin_id"], entry["item_id"], entry["owner"], entry["deleted_by"]) == (bid, pid, "ed1", "ed1")
    with pytest.raises(PermissionDenied):
        s.restore_from_bin(bid, actor=P("ed2"))
    s.restore_from_bin(bid, actor=P("ed1"))
    back = s.parks()
    assert list(back["park_id"]) == [pid] and back.iloc[0]["name"] == "回收园区"
    assert back.geometry.iloc[0].equals_exact(parks.geometry.iloc[0], 0)
    assert s.park_results(runs.park_keys(back[["park_id", "name", "geometry"]], "fp")) == {key: {"park_id": pid,
                                                                                                "area_km2": 7.5}}
    assert s.checklist(pid) == {"x": 1} and s.bin_entries().empty
    acts = list(audit.rows(s)["action"])[::-1]
    assert [a for a in acts if a in ("park_add", "checklist_save", "park_delete", "restore")] == \
        ["park_add", "checklist_save", "park_delete", "restore"]


def test_only_an_admin_empties_the_bin(acc_store):
    s = acc_store
    s.save_scenario("方案", ["P01"], {"w": 1}, actor=P("ed1"))
    s.delete_scenario("方案", actor=P("ed1"))
    with pytest.raises(PermissionDenied):
        s.empty_bin(actor=P("ed1"))
    assert len(s.bin_entries()) == 1
    gone = s.empty_bin(actor=P("root", "admin"))
    assert [g["item_id"] for g in gone] == ["方案"] and s.bin_entries().empty
    assert "bin_purge" in set(audit.rows(s)["action"])


def test_dataset_removal_goes_to_the_bin_with_its_folder_and_parks(acc_store, tmp_path):
    s = acc_store
    f = tmp_path / "parks.geojson"
    gpd.GeoDataFrame({"name": ["数据集园区"]}, geometry=[shapely.box(104.2, 36.5, 104.23, 36.52)],
                     crs=4326).to_file(f)
    d = vector_register.register_vector(s, f, "parks", actor=P("ed1"))
    assert s.dataset_record(d.id)["created_by"] == "ed1" and len(s.parks()) == 1
    with pytest.raises(PermissionDenied):
        ws.remove(s, d.id, actor=P("ed2"))
    folder = ws.paths.workspace_dir() / d.id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "x.txt").write_text("kept")
    ws.remove(s, d.id, actor=P("ed1"))
    assert ws.datasets(s) == [] and not len(s.parks()) and not folder.exists()
    bid = s.bin_entries().iloc[0]["bin_id"]
    ws.restore(s, bid, actor=P("root", "admin"))
    assert [x.id for x in ws.datasets(s)] == [d.id] and len(s.parks()) == 1 and (folder / "x.txt").is_file()
    ws.remove(s, d.id, actor=P("ed1"))
    ws.empty_bin(s, actor=P("root", "admin"))
    assert not (ws.bin_dir() / d.id).exists()


def test_editors_may_register_but_only_admins_put_data_in_use(acc_store, tmp_path):
    s = acc_store
    f = tmp_path / "red.geojson"
    gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(103.6, 36.4, 103.7, 36.6)], crs=4326).to_file(f)
    with pytest.raises(PermissionDenied):
        vector_register.register_vector(s, f, "redline", use=True, actor=P("ed1"))
    assert ws.datasets(s) == []
    d = vector_register.register_vector(s, f, "redline", actor=P("ed1"))
    with pytest.raises(PermissionDenied):
        ws.use(s, "redline", [d.id], actor=P("ed1"))
    ws.use(s, "redline", [d.id], actor=P("root", "admin"))
    assert s.active_user_layer("protection_proxy")["upload_id"] == d.upload_id


def test_admin_cli_adds_accounts_with_the_password_on_stdin(tmp_path):
    import subprocess
    import sys

    from tests.browser.harness import REPO

    env = {"GANSU_STORE": str(tmp_path / "cli.duckdb"), "PATH": "/usr/bin:/bin"}
    run = lambda *a, inp="": subprocess.run([sys.executable, "-m", "cli", "admin", *a], cwd=REPO, env=env,  # noqa: E731
                                            input=inp, capture_output=True, text=True, timeout=120)
    r = run("accounts", "add", "chief", "--role", "admin", "--office", "信息中心", inp=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    r = run("accounts", "add", "chief", "--role", "admin", inp=PASSWORD + "\n")
    assert r.returncode == 2 and "already exists" in r.stderr and "已存在" in r.stderr
    assert run("accounts", "add", "bob", "--role", "viewer", inp=PASSWORD + "\n").returncode == 0
    assert run("accounts", "disable", "bob").returncode == 0
    assert run("accounts", "unlock", "bob").returncode == 0
    assert run("accounts", "reset", "bob", inp="another-password\n").returncode == 0
    out = run("accounts", "list").stdout
    assert "chief" in out and "bob" in out and PASSWORD not in out
    s = Store(tmp_path / "cli.duckdb")
    assert accounts.authenticate(s, "chief", PASSWORD).role == "admin"
    assert {"account_add", "account_disable", "account_reset"} <= set(audit.rows(s)["action"])


# --- writers outside the Store class: official statistics (and a guard for new ones) ----------------
# functions of storage/ that open a store transaction themselves and are open to everyone on purpose:
# the log itself (refusals are logged too), the one-time seed and the zone-statistics cache
OPEN_MODULE_WRITERS = {("audit.py", "log"), ("stats_store.py", "ensure"), ("stats_store.py", "put_zone_stats"),
                       ("accounts.py", "authenticate"),  # sign-in bookkeeping and its log
                       ("recovery.py", "redeem"), ("recovery.py", "_apply"),  # a one-time code from the shell
                       ("sso.py", "sign_in"),  # a single sign-on identity's row, made at its sign-in
                       # saved sign-ins (cookies): issued after a checked sign-in; revoking only ends sessions
                       ("web_sessions.py", "issue"), ("web_sessions.py", "revoke"),
                       ("web_sessions.py", "revoke_account")}


def test_every_module_level_writer_checks_the_actor():
    import ast
    from pathlib import Path

    unchecked = []
    for path in sorted((Path(__file__).resolve().parent.parent / "storage").glob("*.py")):
        if path.name == "store.py":
            continue  # the Store class: enumerated above
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, ast.FunctionDef):
                continue
            calls = [n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
                     for n in ast.walk(fn) if isinstance(n, ast.Call)]
            if "transaction" in calls and "authorize" not in calls and not any(
                    c in calls for c in ("_require_admin", "require_admin")) and (path.name, fn.name) not in OPEN_MODULE_WRITERS:
                unchecked.append(f"{path.name}:{fn.name}")
    assert not unchecked, f"functions writing to the store without a role check: {unchecked}"


def test_official_statistics_are_an_admins_to_change(acc_store):
    import pandas as pd

    from storage import stats_store

    from indicators import targets as tg

    s = acc_store
    stats_store.ensure(s, tg.load_seed_stats())
    before = stats_store.official_stats(s)
    assert len(before) >= 67
    row = before.head(1).copy()
    for who in (P("vera", "viewer"), P("ed1"), None, "root"):
        with pytest.raises(PermissionDenied):
            stats_store.upsert_official_stats(s, row, actor=who)
        with pytest.raises(PermissionDenied):
            stats_store.replace_official_stats(s, row, actor=who)
    pd.testing.assert_frame_equal(stats_store.official_stats(s), before)
    stats_store.replace_official_stats(s, row, actor=P("root", "admin"))
    assert len(stats_store.official_stats(s)) == 1
    assert audit.rows(s, action="replace")["actor"].iloc[0] == "root"

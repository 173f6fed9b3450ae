"""Sign-in and accounts under attack, on real stores of their own (each test on DuckDB and on
PostgreSQL, ``store_at``; the file-permission tests are DuckDB's own): parallel guesses still lock
an account; rate limits refuse before any password hash; an unknown name, a wrong password, a
locked and a disabled account cost the same scrypt work and read the same; failed sign-ins to no
account are logged bounded, with the typed name cleaned; an admin locked out recovers while the
dashboard holds the store (one-time code from the shell, or another admin on the Data page); the
store file is owner-only; single sign-on identities are namespaced, re-read and can be disabled,
and their sessions end after the idle time."""
from __future__ import annotations

import collections
import datetime as dt
import os
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import geopandas as gpd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from core.errors import InputError, PermissionDenied
from storage import accounts, audit, login_guard
from storage.accounts import SHELL, Principal
from storage.store import Store
from tests.account_fixtures import accounts_store, sign_in

REPO = Path(__file__).resolve().parent.parent
PW = "Sicher-Genug-2026"
NEW_PW = "Neues-Passwort-2026"


def P(name, role="editor", office=None):
    return Principal(name, role, office, "password")


def _gdf(x=104.2):
    return gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(x, 36.5, x + 0.03, 36.52)], crs=4326)


@pytest.fixture()
def s(tmp_path, monkeypatch, store_at):
    monkeypatch.setenv("GANSU_LOGIN_DELAY_S", "0")
    # the rate limits' buckets as a new server process has them: the same test on the other back end
    # (same clients, same settings) must not find them used up
    monkeypatch.setattr(login_guard, "_state", {})
    # a PostgreSQL store keeps its recovery codes in the data folder: this test's own
    monkeypatch.setenv("GANSU_DATA_DIR", str(tmp_path / "data"))
    store = accounts_store(store_at("s"), PW)
    yield store
    store.close()


def _where(store) -> str:
    """The store's location as GANSU_STORE and ``storage.recovery`` take it: the file or the URL."""
    return str(store.url or store.path)


def _locked(store, name) -> bool:
    v = store.query_df("SELECT locked_until FROM accounts WHERE name = ?", [name])["locked_until"].iloc[0]
    return v is not None and v == v and v > dt.datetime.now()


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


# --- parallel guesses and rate limits -------------------------------------------------------------
def test_parallel_wrong_passwords_still_lock_the_account(s):
    n, outcomes = 12, []
    start = threading.Barrier(n)

    def guess():
        start.wait()
        try:
            accounts.authenticate(s, "ed1", "wrong-password")
            outcomes.append("signed in")
        except accounts.AuthError:
            outcomes.append("refused")

    threads = [threading.Thread(target=guess) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == ["refused"] * n
    assert _locked(s, "ed1"), s.query_df("SELECT failed, locked_until FROM accounts WHERE name = 'ed1'")
    acts = list(audit.rows(s, actor="ed1")["action"])
    assert acts.count("account_locked") == 1 and acts.count("login_failed") == accounts.lock_after()
    with pytest.raises(accounts.AuthError):  # the right password does not open it now
        accounts.authenticate(s, "ed1", PW)


def test_rate_limits_refuse_before_any_password_hash(s, monkeypatch):
    monkeypatch.setenv("GANSU_LOGIN_CLIENT_LIMIT", "3/3600")  # 3 attempts an hour per client
    monkeypatch.setenv("GANSU_LOGIN_GLOBAL_LIMIT", "5/3600")  # 5 for the whole server
    for _ in range(3):
        with pytest.raises(accounts.AuthError) as e:
            accounts.authenticate(s, "ed1", "wrong", client="198.51.100.1")
        assert "too many" not in e.value.en
    work = sum(accounts.SCRYPT_WORK.values())
    with pytest.raises(accounts.AuthError) as e:  # the 4th from this client: refused, the right password unread
        accounts.authenticate(s, "ed1", PW, client="198.51.100.1")
    assert "too many sign-in attempts" in e.value.en and "登录尝试过于频繁" in e.value.zh
    assert sum(accounts.SCRYPT_WORK.values()) == work  # no hash computed
    assert accounts.authenticate(s, "ed1", PW, client="198.51.100.2") == "ed1"  # other clients: 4th and 5th
    with pytest.raises(accounts.AuthError):
        accounts.authenticate(s, "ed1", "wrong", client="198.51.100.3")
    waits = []  # the server's 6th: not refused (anyone could drain a refusing server-wide limit) but slowed
    assert accounts.authenticate(s, "ed1", PW, client="198.51.100.4", sleep=waits.append) == "ed1"
    assert len(waits) == 1 and 4.99 < waits[0] <= 5.0, waits
    assert accounts.authenticate(s, "ed1", PW) == "ed1"  # the shell and tests (no client) are not limited


def test_token_bucket_refills_with_time():
    from storage import login_guard

    now = [1000.0]
    b = login_guard.TokenBucket(2, 60.0, clock=lambda: now[0])
    assert b.take() and b.take() and not b.take()
    now[0] += 29.9
    assert not b.take()
    now[0] += 0.2  # 30 s: one of the two tokens is back
    assert b.take() and not b.take()
    assert login_guard.parse_limit("10/60") == (10, 60.0) and login_guard.parse_limit("off") is None
    assert login_guard.parse_limit("0") is None


# --- same work, same message ----------------------------------------------------------------------
def _cases(s, monkeypatch):
    monkeypatch.setenv("GANSU_LOCK_AFTER", "2")
    accounts.add(s, "gone", PW, "viewer", actor=SHELL)
    accounts.set_disabled(s, "gone", actor=SHELL)
    for _ in range(2):
        with pytest.raises(accounts.AuthError):
            accounts.authenticate(s, "ed1", "wrong")
    assert _locked(s, "ed1")
    return {"unknown": ("nobody", PW), "wrong": ("root", "wrong"), "locked": ("ed1", PW), "disabled": ("gone", PW)}


def test_unknown_wrong_locked_and_disabled_read_the_same(s, monkeypatch):
    msgs = {}
    for case, (name, pw) in _cases(s, monkeypatch).items():
        with pytest.raises(accounts.AuthError) as e:
            accounts.authenticate(s, name, pw)
        msgs[case] = (e.value.zh, e.value.en)
    assert len(set(msgs.values())) == 1, msgs
    zh, en = msgs["unknown"]
    assert "wrong account name or password" in en and "locked" in en and "锁定" in zh


def test_unknown_wrong_locked_and_disabled_cost_the_same_scrypt_work(s, monkeypatch):
    work = {}
    for case, (name, pw) in _cases(s, monkeypatch).items():
        before = collections.Counter(accounts.SCRYPT_WORK)
        with pytest.raises(accounts.AuthError):
            accounts.authenticate(s, name, pw)
        work[case] = dict(collections.Counter(accounts.SCRYPT_WORK) - before)
    one_real_hash = {(accounts.SCRYPT_N, accounts.SCRYPT_R, accounts.SCRYPT_P): 1}
    assert work == {case: one_real_hash for case in work}, work


# --- the audit log: bounded, cleaned --------------------------------------------------------------
def test_failed_sign_ins_to_no_account_are_logged_bounded(s, monkeypatch):
    for _ in range(3):
        with pytest.raises(accounts.AuthError):
            accounts.authenticate(s, "guess-a", "x")
    rows = audit.rows(s, action="login_failed", actor="guess-a")
    assert len(rows) == 1  # the first of the hour is logged; repeats are counted
    counts = s.query_df("SELECT name, n FROM login_failures")
    assert dict(zip(counts["name"], counts["n"])) == {"guess-a": 3}

    from storage import login_guard

    monkeypatch.setenv("GANSU_FAILED_LOGIN_NAMES", "5")
    hour = dt.datetime(2020, 1, 1, 10, 0)
    n_audit = len(audit.rows(s, limit=100000))
    for i in range(40):  # forty names guessed in one hour
        with s.transaction() as cur:
            login_guard.record_failure(cur, f"name-{i}", "unknown", now=hour + dt.timedelta(seconds=i))
    rows = audit.rows(s, limit=100000)
    new = rows.iloc[: len(rows) - n_audit]
    assert sorted(new["action"]) == ["login_failed"] * 5 + ["login_flood"]  # 5 names an hour, then one summary
    counts = s.query_df("SELECT name, n FROM login_failures WHERE hour = ?", [hour])
    assert int(counts["n"].sum()) == 40 and len(counts) == 6  # 5 named rows + one '*' row holding the rest
    assert int(counts.loc[counts["name"] == "*", "n"].iloc[0]) == 35


def test_a_typed_name_reaches_the_log_without_control_characters(s):
    hostile = "\x1b[2J\x1b]8;;http://x\x07ad\u202emin\r\n" + "x" * 500
    with pytest.raises(accounts.AuthError):
        accounts.authenticate(s, hostile, "x")
    actor = audit.rows(s, action="login_failed")["actor"].iloc[0]
    assert all(ch.isprintable() for ch in actor), repr(actor)
    assert len(actor) <= 65 and actor.startswith("[2J]8;;http://xadmin")


# --- recovery while the dashboard runs ------------------------------------------------------------
def test_a_recovery_code_unlocks_an_admin_while_the_dashboard_holds_the_store(s, monkeypatch):
    from storage import recovery

    monkeypatch.setenv("GANSU_LOCK_AFTER", "2")
    for _ in range(2):
        with pytest.raises(accounts.AuthError):
            accounts.authenticate(s, "root", "wrong")
    assert _locked(s, "root")
    # this process holds the store (as the dashboard does): the shell cannot open it, and need not
    # (on PostgreSQL the shell opens it beside the dashboard and checks the name)
    r = subprocess.run([sys.executable, "-m", "cli", "admin", "accounts", "recovery-code", "root"], cwd=REPO,
                       env={"GANSU_STORE": _where(s), "GANSU_DATA_DIR": os.environ["GANSU_DATA_DIR"],
                            "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    code = re.search(r"\b[A-Z2-7]{5}(?:-[A-Z2-7]{5}){3}\b", r.stdout).group(0)
    f = recovery.code_file(_where(s), "root")
    assert _mode(f) == 0o600 and _mode(f.parent) == 0o700 and code not in f.read_text()
    with pytest.raises(accounts.AuthError):  # a wrong code does nothing
        recovery.redeem(s, "root", code.replace(code[0], "A" if code[0] != "A" else "B"), NEW_PW)
    p = recovery.redeem(s, "root", code.lower(), NEW_PW)
    assert p == "root" and p.role == "admin" and p.source == "password"
    assert not f.exists() and not _locked(s, "root")
    assert accounts.authenticate(s, "root", NEW_PW) == "root"
    with pytest.raises(accounts.AuthError):
        accounts.authenticate(s, "root", PW)  # the old password is gone
    with pytest.raises(accounts.AuthError):
        recovery.redeem(s, "root", code, "Noch-Ein-Passwort-1")  # once only
    assert "account_recovered" in set(audit.rows(s, actor="root")["action"])


def test_an_expired_or_missing_recovery_code_is_refused(s):
    from storage import recovery

    code = recovery.issue(_where(s), "ed1", minutes=0)  # expires at once
    with pytest.raises(accounts.AuthError):
        recovery.redeem(s, "ed1", code, NEW_PW)
    assert not recovery.code_file(_where(s), "ed1").exists()  # an expired code is removed
    with pytest.raises(accounts.AuthError):
        recovery.redeem(s, "nobody", code, NEW_PW)
    with pytest.raises(InputError):  # the new password follows the rules
        recovery.redeem(s, "ed1", recovery.issue(_where(s), "ed1"), "short")


def test_the_shell_refuses_a_recovery_code_for_an_unknown_name_when_it_can_check(store_at, tmp_path):
    path = store_at("cli")
    st_ = Store(path)
    accounts.add(st_, "root", PW, "admin", actor=SHELL)
    st_.close()
    r = subprocess.run([sys.executable, "-m", "cli", "admin", "accounts", "recovery-code", "nobody"], cwd=REPO,
                       env={"GANSU_STORE": str(path), "GANSU_DATA_DIR": str(tmp_path / "data"),
                            "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=180)
    assert r.returncode == 2 and "no account 'nobody'" in r.stderr and "没有账户" in r.stderr


def _gate_then_marker():
    import streamlit as st

    from ui import auth, common

    auth.gate(common.lang())
    st.markdown("PAGE CONTENT")


@pytest.fixture()
def ui_store(dataset, tmp_path, monkeypatch, store_at):
    """The pages' store (GANSU_STORE: a DuckDB file or a PostgreSQL URL) with two admins and an editor."""
    import shutil

    from storage import recovery

    monkeypatch.setenv("GANSU_LOGIN_DELAY_S", "0")
    # the cookies' secret from the environment: a PostgreSQL store's key file would be the data folder's
    monkeypatch.setenv("GANSU_SESSION_SECRET", "test-secret-" + "k" * 40)
    path = store_at("ui")
    st_ = Store(path)
    accounts.add(st_, "root", PW, "admin", actor=SHELL)
    accounts.add(st_, "root2", PW, "admin", actor=SHELL)
    accounts.add(st_, "ed_a", PW, "editor", office="一处", actor=SHELL)
    st_.close()
    monkeypatch.setenv("GANSU_STORE", str(path))
    yield path
    if store_at.backend == "postgresql":  # its recovery codes' folder is in the (shared) data folder
        shutil.rmtree(recovery.folder(path), ignore_errors=True)


def test_the_login_form_takes_a_recovery_code(ui_store):
    from storage import recovery

    code = recovery.issue(ui_store, "root")
    at = AppTest.from_function(_gate_then_marker, default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    at.text_input(key="auth_rc_name").input("root")
    at.text_input(key="auth_rc_code").input(code)
    at.text_input(key="auth_rc_password").input(NEW_PW)
    at.button(key="FormSubmitter:auth_rc_form-Unlock and sign in").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "PAGE CONTENT" in [m.value for m in at.markdown], [e.value for e in at.error]
    assert at.session_state["auth_session"]["name"] == "root" and at.session_state["auth_rc_password"] == ""
    assert not recovery.code_file(ui_store, "root").exists()


def test_another_admin_unlocks_a_locked_admin_on_the_data_page(ui_store, monkeypatch):
    from tests.apptest_helpers import run_page

    monkeypatch.setenv("GANSU_LOCK_AFTER", "2")
    st_ = Store(ui_store)
    for _ in range(2):
        with pytest.raises(accounts.AuthError):
            accounts.authenticate(st_, "root", "wrong")
    assert _locked(st_, "root")
    at = run_page("data.py", "en", auth_session={"name": "root2", "role": "admin", "office": None,
                                                 "source": "password", "seen": time.time()})
    at.selectbox(key="acc_pick").select("root")
    at.button(key="acc_unlock").click()
    at.run()
    assert not at.exception and any("Account 'root' updated" in m.value for m in at.success)
    assert not _locked(st_, "root") and accounts.authenticate(st_, "root", PW).role == "admin"
    assert "account_unlock" in set(audit.rows(st_, actor="root2")["action"])
    with pytest.raises(accounts.AuthError):  # someone guessing a name: the admins see it counted
        accounts.authenticate(st_, "guessed-name", "x")
    at = run_page("data.py", "en", auth_session={"name": "root2", "role": "admin", "office": None,
                                                 "source": "password", "seen": time.time()})
    shown = [df.value for df in at.dataframe if "Attempts" in df.value.columns]
    assert len(shown) == 1 and "guessed-name" in set(shown[0]["Account name"]), [d.value.columns for d in at.dataframe]


def test_the_login_form_rate_limits_its_session(ui_store, monkeypatch):
    monkeypatch.setenv("GANSU_LOGIN_CLIENT_LIMIT", "2/3600")
    at = AppTest.from_function(_gate_then_marker, default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    errors = []
    for pw in ("wrong-1", "wrong-2", PW):
        sign_in(at, "ed_a", pw)
        errors.append(" ".join(e.value for e in at.error))
    assert "wrong account name or password" in errors[0] and "wrong account name or password" in errors[1]
    assert "too many sign-in attempts" in errors[2]  # the right password, but this session is over its limit
    assert "PAGE CONTENT" not in [m.value for m in at.markdown]


# --- file permissions (DuckDB only: a PostgreSQL store is no file of ours) ------------------------------
def test_a_fresh_store_and_its_folder_are_owner_only(tmp_path):
    path = tmp_path / "new" / "store.duckdb"
    st_ = Store(path)
    accounts.add(st_, "root", PW, "admin", actor=SHELL)
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    wal = Path(str(path) + ".wal")
    st_.query_df("CHECKPOINT")  # DuckDB deletes its WAL here and writes a new one on the next change
    assert not wal.exists()
    accounts.add(st_, "ed", PW, "editor", actor=SHELL)
    assert wal.exists() and _mode(wal) == 0o600
    st_.close()


def test_an_older_world_readable_store_is_tightened_when_opened(tmp_path):
    path = tmp_path / "old.duckdb"
    duckdb.connect(str(path)).close()
    os.chmod(path, 0o644)
    Store(path).close()
    assert _mode(path) == 0o600


# --- single sign-on -------------------------------------------------------------------------------
def test_an_sso_principal_needs_its_row_and_cannot_own_a_password_accounts_items(s):
    from storage import sso

    assert s.principal(Principal("sso:ghost", "admin", None, "oidc")) is None  # no row: nobody
    assert s.principal(Principal("ed1", "admin", None, "oidc")) is None  # not namespaced: nobody
    pid = s.add_parks(_gdf(), names=["一处园区"], source="drawn", actor=P("ed1", office="一处"))[0]
    p = sso.sign_in(s, {"preferred_username": "ed1", "gansu_role": "editor", "gansu_office": "一处"})
    assert p == "sso:user:ed1" and p.source == "oidc" and p.role == "editor"
    with pytest.raises(PermissionDenied):  # same bare name, other identity
        s.rename_park(pid, "改名", actor=p)
    mine = s.add_parks(_gdf(104.4), names=["单点园区"], source="drawn", actor=p)[0]
    owners = dict(zip(s.parks()["park_id"], s.parks()["created_by"]))
    assert owners == {pid: "ed1", mine: "sso:user:ed1"}
    s.rename_park(mine, "单点园区二", actor=p)  # its own, by the same form of the name
    assert s.allowed(p, "owner", "sso:user:ed1") and not s.allowed(p, "owner", "ed1")
    assert not s.allowed(P("ed1"), "owner", "sso:user:ed1")
    row = s.query_df("SELECT source, pw_hash, role FROM accounts WHERE name = 'sso:user:ed1'").iloc[0]
    assert row["source"] == "oidc" and row["pw_hash"] is None and row["role"] == "editor"
    with pytest.raises(accounts.AuthError):  # no password sign-in for an SSO identity
        accounts.authenticate(s, "sso:user:ed1", "")
    with pytest.raises(InputError):
        accounts.reset_password(s, "sso:user:ed1", PW, actor=SHELL)
    with pytest.raises(InputError):  # the prefix is reserved for single sign-on
        accounts.add(s, "SSO:eve", PW, "editor", actor=SHELL)
    # an admin disables the identity in the app: its sessions act no more, a new sign-in is refused
    accounts.set_disabled(s, "sso:user:ed1", actor=P("root", "admin"))
    assert s.principal(p) is None
    with pytest.raises(PermissionDenied):
        s.add_parks(_gdf(104.6), names=["x"], source="drawn", actor=p)
    assert sso.sign_in(s, {"preferred_username": "ed1", "gansu_role": "admin"}) is None
    acts = list(audit.rows(s, actor="sso:user:ed1")["action"])
    assert "login" in acts and "login_failed" in acts  # the password attempt; the refused SSO sign-in is a repeat:
    n = s.query_df("SELECT sum(n) AS n FROM login_failures WHERE name = 'sso:user:ed1'")["n"].iloc[0]
    assert int(n) == 2  # counted in the bounded table


def test_sso_claims_map_to_a_clean_namespaced_identity():
    from storage import sso

    assert sso.identity({"email": "Li@Example.gov.cn", "sub": "42"}) == "sso:Li@Example.gov.cn"
    assert sso.identity({"sub": "42"}) == "sso:sub:42"
    assert sso.identity({}) is None and sso.identity({"email": "\x1b\x07"}) is None
    assert sso.identity({"email": "a\x1b[31mb" + "c" * 300}) is None  # refused, not cleaned and cut
    assert sso.role_office({"gansu_role": "root"}) == ("viewer", None)
    now = 10_000.0
    assert sso.fresh({"iat": now - 60}, None, now, 30)
    assert not sso.fresh({"iat": now - 31 * 60}, None, now, 30)  # an old cookie, nothing seen since
    assert sso.fresh({"iat": now - 5 * 3600}, now - 60, now, 30)  # in use a minute ago
    assert not sso.fresh({}, None, now, 30)


SECRETS = {"auth": {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "t" * 32,
                    "client_id": "gansu", "client_secret": "x",
                    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}


def _sso_app(user: dict) -> AppTest:
    at = AppTest.from_function(_gate_then_marker, default_timeout=120)
    at.session_state["lang"] = "en"
    at.secrets.update(SECRETS)
    at.user = user
    return at


def test_an_sso_session_ends_after_the_idle_time(ui_store):
    at = _sso_app({"is_logged_in": True, "email": "wang@example.gov.cn", "gansu_role": "editor",
                   "iat": time.time()})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "PAGE CONTENT" in [m.value for m in at.markdown]
    sess = at.session_state["auth_session"]
    assert sess["name"] == "sso:wang@example.gov.cn" and sess["source"] == "oidc"
    at.session_state["auth_session"] = {**sess, "seen": sess["seen"] - 31 * 60}  # 31 minutes idle
    at.run()
    assert "PAGE CONTENT" not in [m.value for m in at.markdown]
    assert at.user.get("is_logged_in") is False  # the single sign-on cookie is dropped too


def test_an_old_sso_cookie_does_not_start_a_session(ui_store):
    at = _sso_app({"is_logged_in": True, "email": "zhao@example.gov.cn", "gansu_role": "admin",
                   "iat": time.time() - 3 * 3600})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "PAGE CONTENT" not in [m.value for m in at.markdown] and "auth_session" not in at.session_state


def test_a_disabled_sso_identity_loses_its_session_and_gets_no_new_one(ui_store):
    at = _sso_app({"is_logged_in": True, "email": "qian@example.gov.cn", "gansu_role": "editor",
                   "iat": time.time()})
    at.run()
    assert "PAGE CONTENT" in [m.value for m in at.markdown]
    st_ = Store(ui_store)
    accounts.set_disabled(st_, "sso:qian@example.gov.cn", actor=P("root", "admin"))  # the Data page's toggle
    at.run()  # the running session: re-read, gone
    assert not at.exception, [e.value for e in at.exception]
    assert "PAGE CONTENT" not in [m.value for m in at.markdown] and "auth_session" not in at.session_state
    assert any("disabled" in e.value for e in at.error), [e.value for e in at.error]
    at = _sso_app({"is_logged_in": True, "email": "qian@example.gov.cn", "gansu_role": "editor",
                   "iat": time.time()})
    at.run()  # a new visit with the same cookie: no session either
    assert "PAGE CONTENT" not in [m.value for m in at.markdown] and "auth_session" not in at.session_state


# --- review of the fixes: nobody can block everyone's sign-in ---------------------------------------
def test_a_flood_of_other_names_from_rotating_sessions_does_not_refuse_a_real_user(s, monkeypatch):
    """Behind a local reverse proxy every attempt comes with a new session key; the server-wide
    limit then slows attempts down (each waits its turn, at most GANSU_LOGIN_GLOBAL_WAIT_S) but
    refuses none, so a correct password still signs in."""
    from storage import login_guard

    monkeypatch.setenv("GANSU_LOGIN_GLOBAL_LIMIT", "5/3600")  # 5 at once, then one every 720 s
    waits = []
    for i in range(20):
        with pytest.raises(accounts.AuthError) as e:
            accounts.authenticate(s, f"nobody{i}", "x", client=f"session:flood-{i}", sleep=waits.append)
        assert "too many" not in e.value.en, (i, e.value.en)
    p = accounts.authenticate(s, "ed1", PW, client="ip:10.0.0.9", sleep=waits.append)
    assert p == "ed1" and p.role == "editor"
    cap = login_guard.global_wait_cap()  # 5 s by default; the 6th and later waited about that, never longer
    assert cap == 5.0 and max(waits) <= cap and sum(w > cap - 0.01 for w in waits) == 16, waits


def test_one_name_has_a_budget_whatever_the_session(s, monkeypatch):
    monkeypatch.setenv("GANSU_LOGIN_ACCOUNT_LIMIT", "3/3600")
    for i in range(3):
        with pytest.raises(accounts.AuthError) as e:
            accounts.authenticate(s, "root", "wrong", client=f"session:guess-{i}")
        assert "too many" not in e.value.en
    work = sum(accounts.SCRYPT_WORK.values())
    with pytest.raises(accounts.AuthError) as e:  # a 4th guess at "root", from yet another session
        accounts.authenticate(s, "root", "wrong", client="session:guess-3")
    assert "too many sign-in attempts" in e.value.en and sum(accounts.SCRYPT_WORK.values()) == work
    assert accounts.authenticate(s, "ed1", PW, client="session:guess-4") == "ed1"  # other names: unaffected


def test_recovery_codes_have_their_own_budget(s, monkeypatch):
    from storage import recovery

    monkeypatch.setenv("GANSU_LOGIN_CLIENT_LIMIT", "3/3600")
    monkeypatch.setenv("GANSU_LOGIN_ACCOUNT_LIMIT", "3/3600")
    for i in range(3):  # this client's and root's sign-in budgets used up
        with pytest.raises(accounts.AuthError):
            accounts.authenticate(s, "root", "wrong", client="ip:10.0.0.7")
    with pytest.raises(accounts.AuthError) as e:
        accounts.authenticate(s, "root", PW, client="ip:10.0.0.7")
    assert "too many sign-in attempts" in e.value.en
    code = recovery.issue(_where(s), "root")
    p = recovery.redeem(s, "root", code, NEW_PW, client="ip:10.0.0.7", sleep=lambda x: None)
    assert p == "root" and p.role == "admin"


# --- review of the fixes: single sign-on identities that collide --------------------------------
def test_two_long_emails_sharing_their_first_64_characters_are_two_identities(s):
    from storage import sso

    stem = "wang.xiaoming.department-of-ecology-and-environment.section-three"  # 65 characters
    a, b = f"{stem}.a@example.gov.cn", f"{stem}.b@example.gov.cn"
    assert sso.identity({"email": a}) == f"sso:{a}" and sso.identity({"email": b}) == f"sso:{b}"
    pa = sso.sign_in(s, {"email": a, "gansu_role": "admin"})
    pb = sso.sign_in(s, {"email": b, "gansu_role": "viewer"})
    assert pa != pb and pb.role == "viewer" and s.principal(pa).role == "admin"  # b is not signed in as a
    assert sso.identity({"email": "x" * 250 + "@example.gov.cn"}) is None  # over-long: refused, not cut
    assert sso.identity({"email": "ab\x1b[31m@example.gov.cn"}) is None  # not cleaned into another name
    assert sso.sign_in(s, {"email": "x" * 250 + "@example.gov.cn", "gansu_role": "admin"}) is None


def test_a_username_cannot_be_another_users_email(s):
    """One user's preferred_username (or sub) equal to another's email: two identities, each claim
    kind in a namespace of its own; an email the provider marks unverified is not used."""
    from storage import sso

    owner = sso.sign_in(s, {"email": "chief@example.gov.cn", "gansu_role": "admin"})
    other = sso.sign_in(s, {"preferred_username": "chief@example.gov.cn", "gansu_role": "viewer"})
    assert owner == "sso:chief@example.gov.cn" and other == "sso:user:chief@example.gov.cn" and other.role == "viewer"
    assert sso.identity({"sub": "chief@example.gov.cn"}) == "sso:sub:chief@example.gov.cn"
    assert sso.identity({"email": "chief@example.gov.cn", "email_verified": False, "sub": "7f3a"}) == "sso:sub:7f3a"
    assert sso.identity({"email": "user:x@example.gov.cn"}) is None  # no email can enter another namespace
    assert s.principal(owner).role == "admin"


def test_an_sso_sign_in_with_an_over_long_email_gets_no_session_and_says_why(ui_store):
    at = _sso_app({"is_logged_in": True, "email": "x" * 250 + "@example.gov.cn", "gansu_role": "admin",
                   "iat": time.time()})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "PAGE CONTENT" not in [m.value for m in at.markdown] and "auth_session" not in at.session_state
    assert any("no usable identity" in e.value for e in at.error), [e.value for e in at.error]

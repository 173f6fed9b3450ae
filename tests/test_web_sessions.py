"""Saved sign-ins (``storage.web_sessions``: the value of the ``gansu_session`` cookie), on a real
store of each back end (``store_at``: DuckDB and PostgreSQL): a value round-trips; a forged mac, a
changed sid or expiry, an expired, a revoked value and one of a disabled account are refused, and
so is every value of an account after a password, role or office change; the secret's file is made
owner-only and reused, and two processes with one secret accept each other's values."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import InputError
from storage import accounts, audit, recovery, web_sessions
from storage.accounts import SHELL
from storage.store import Store

REPO = Path(__file__).resolve().parent.parent
PW = "Passwort-fuer-Tests-1"
SECRET = "test-secret-" + "k" * 40
T0 = dt.datetime(2026, 3, 1, 8, 0, 0)
HOUR = dt.timedelta(hours=1)


def _mac(key: str, sid: str, exp: int) -> str:
    """The cookie's mac computed here by the format's definition (HMAC-SHA256, base64url, no padding)."""
    d = hmac.new(key.encode(), f"{sid}.{exp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(d).decode().rstrip("=")


@pytest.fixture()
def s(store_at, monkeypatch):
    monkeypatch.setenv("GANSU_SESSION_SECRET", SECRET)
    monkeypatch.delenv("GANSU_SESSION_HOURS", raising=False)
    monkeypatch.setenv("GANSU_LOGIN_DELAY_S", "0")
    store = Store(store_at("ws"))
    accounts.add(store, "root", PW, "admin", actor=SHELL)
    accounts.add(store, "ana", PW, "editor", office="一处", actor=SHELL)
    yield store
    store.close()


def _rows(store):
    return store.query_df("SELECT sid_hash, name, created_at, expires_at, revoked_at, revoked_why FROM web_sessions")


def test_a_value_round_trips_and_only_the_hash_of_its_sid_is_stored(s):
    value = web_sessions.issue(s, "ana", now=T0)
    sid, exp, mac = value.split(".")
    assert len(sid) == 43 and int(exp) == int(dt.datetime(2026, 3, 1, 20, 0, 0).timestamp())  # 12 h later
    assert mac == _mac(SECRET, sid, int(exp))
    assert web_sessions.check(s, value, now=T0 + HOUR) == "ana"
    assert web_sessions.check(s, value, now=T0 + 11 * HOUR + dt.timedelta(minutes=59)) == "ana"
    rows = _rows(s)
    assert len(rows) == 1 and rows["sid_hash"].iloc[0] == hashlib.sha256(sid.encode()).hexdigest()
    assert rows["name"].iloc[0] == "ana" and rows["expires_at"].iloc[0] == dt.datetime(2026, 3, 1, 20, 0, 0)
    assert not any(sid in str(v) for v in rows.iloc[0].tolist())  # the sid itself is nowhere in the store
    log = audit.rows(s, action="session_issue")
    assert list(log["actor"]) == ["ana"] and list(log["item_id"]) == ["ana"]


def test_forged_changed_and_malformed_values_are_refused(s):
    value = web_sessions.issue(s, "ana", now=T0)
    sid, exp, mac = value.split(".")
    later = T0 + HOUR
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    other_sid = secrets.token_urlsafe(32)
    cases = {
        "forged mac": f"{sid}.{exp}.{flipped}",
        "changed sid": f"{other_sid}.{exp}.{mac}",
        "expiry moved": f"{sid}.{int(exp) + 86400}.{mac}",
        "another secret": f"{sid}.{exp}.{_mac('another-secret-' + 'x' * 40, sid, int(exp))}",
        # signed with the right secret but never issued (no row): the secret alone signs nobody in
        "no row": f"{other_sid}.{exp}.{_mac(SECRET, other_sid, int(exp))}",
        "empty": "", "two parts": f"{sid}.{exp}", "four parts": value + ".x", "long": value + "A" * 5000,
        "not ascii": f"{sid}.{exp}.{mac[:-1]}é", "unicode digits": f"{sid}.１２３.{mac}",
    }
    for why, bad in cases.items():
        assert web_sessions.check(s, bad, now=later) is None, why
    assert web_sessions.check(s, None, now=later) is None
    assert web_sessions.check(s, value, now=later) == "ana"  # the genuine one still works


def test_an_expired_value_is_refused(s, monkeypatch):
    value = web_sessions.issue(s, "ana", now=T0)
    assert web_sessions.check(s, value, now=T0 + 12 * HOUR) is None
    assert web_sessions.check(s, value, now=T0 + 12 * HOUR - dt.timedelta(seconds=1)) == "ana"
    monkeypatch.setenv("GANSU_SESSION_HOURS", "2")  # the lifetime comes from the environment
    short = web_sessions.issue(s, "ana", now=T0)
    assert int(short.split(".")[1]) == int((T0 + 2 * HOUR).timestamp())
    assert web_sessions.check(s, short, now=T0 + 2 * HOUR) is None
    assert web_sessions.check(s, short, now=T0 + 2 * HOUR - dt.timedelta(seconds=1)) == "ana"
    # rows whose expiry has passed go at the next issue
    web_sessions.issue(s, "root", now=T0 + 13 * HOUR)
    assert sorted(_rows(s)["name"]) == ["root"]


def test_sign_out_revokes_that_value_only(s):
    a, b = web_sessions.issue(s, "ana", now=T0), web_sessions.issue(s, "ana", now=T0)  # two browsers
    sid, exp, mac = a.split(".")
    forged = f"{sid}.{exp}.{mac[:-1] + ('A' if mac[-1] != 'A' else 'B')}"  # a real sid, a forged mac
    assert web_sessions.revoke(s, forged, "signout") is False and web_sessions.check(s, a, now=T0 + HOUR) == "ana"
    assert web_sessions.revoke(s, a, "signout", now=T0 + HOUR) is True
    assert web_sessions.check(s, a, now=T0 + HOUR) is None and web_sessions.check(s, b, now=T0 + HOUR) == "ana"
    assert web_sessions.revoke(s, a, "signout") is False  # once
    assert web_sessions.revoke(s, b.split(".")[0], "signout") is True  # the sid alone names it too
    assert web_sessions.check(s, b, now=T0 + HOUR) is None
    assert web_sessions.revoke(s, "not a cookie", "signout") is False
    log = audit.rows(s, action="session_revoke")
    assert list(log["actor"]) == ["ana", "ana"] and all('"why": "signout"' in d for d in log["details"])


def test_a_disabled_account_is_refused_even_with_an_unrevoked_row(s):
    value = web_sessions.issue(s, "ana", now=T0)
    with s.transaction() as cur:  # disabled by a writer that did not revoke (an older process)
        cur.execute("UPDATE accounts SET disabled = true WHERE name = ?", ["ana"])
    assert _rows(s)["revoked_at"].isna().all()
    assert web_sessions.check(s, value, now=T0 + HOUR) is None


def _live(store, value) -> bool:
    return web_sessions.check(store, value, now=T0 + HOUR) == "ana"


def test_account_changes_revoke_every_value_of_the_account(s):
    root = web_sessions.issue(s, "root", now=T0)
    a1, a2 = web_sessions.issue(s, "ana", now=T0), web_sessions.issue(s, "ana", now=T0)
    accounts.set_role(s, "ana", "viewer", actor=SHELL)  # demoted
    assert not _live(s, a1) and not _live(s, a2)
    assert web_sessions.check(s, root, now=T0 + HOUR) == "root"  # another account's stays
    row = audit.rows(s, action="session_revoke").iloc[0]
    assert row["actor"] == "shell" and row["item_id"] == "ana" and '"sessions": 2' in row["details"]

    v = web_sessions.issue(s, "ana", now=T0)
    accounts.set_role(s, "ana", "viewer", actor=SHELL)  # no change at all: nothing ends
    accounts.unlock(s, "ana", actor=SHELL)
    assert _live(s, v)
    accounts.set_role(s, "ana", "viewer", office="二处", actor=SHELL)  # the office changed
    assert not _live(s, v)

    v = web_sessions.issue(s, "ana", now=T0)
    accounts.reset_password(s, "ana", PW + "-neu", actor=SHELL)
    assert not _live(s, v)

    v = web_sessions.issue(s, "ana", now=T0)
    accounts.set_disabled(s, "ana", True, actor=SHELL)
    accounts.set_disabled(s, "ana", False, actor=SHELL)  # enabled again: the old value stays ended
    assert not _live(s, v)
    assert list(_rows(s).query("name == 'ana'")["revoked_why"].sort_values()) == [
        "disabled", "office", "password", "role", "role"]


def test_a_recovery_code_revokes_every_value_of_the_account(s, tmp_path, monkeypatch):
    monkeypatch.setenv("GANSU_DATA_DIR", str(tmp_path))  # a PostgreSQL store keeps its codes in the data folder
    v = web_sessions.issue(s, "ana", now=T0)
    code = recovery.issue(s.url or s.path, "ana")
    recovery.redeem(s, "ana", code, PW + "-neu", sleep=lambda _: None)
    assert not _live(s, v)
    assert list(_rows(s)["revoked_why"]) == ["password"]


# --- the secret -----------------------------------------------------------------------------------
def test_the_secret_file_is_made_owner_only_beside_the_store_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("GANSU_SESSION_SECRET", raising=False)
    monkeypatch.setenv("GANSU_STORE", str(tmp_path / "one" / "store.duckdb"))
    key = tmp_path / "one" / "session.key"
    assert not key.exists()
    got = web_sessions.secret()
    assert key.is_file() and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert got == key.read_text().strip().encode() and len(got) >= 64
    text = key.read_text()
    assert web_sessions.secret() == got and key.read_text() == text  # reused, not made again
    assert not [p for p in key.parent.iterdir() if p.name.endswith(".tmp")]  # no temporary left

    loose = tmp_path / "two" / "session.key"  # a key copied in with a looser mode: owner-only again
    loose.parent.mkdir()
    loose.write_text("copied-key-" + "z" * 40 + "\n")
    loose.chmod(0o644)
    monkeypatch.setenv("GANSU_STORE", str(tmp_path / "two" / "store.duckdb"))
    assert web_sessions.secret() == ("copied-key-" + "z" * 40).encode()
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600


def test_a_short_secret_is_refused_in_both_languages(monkeypatch, s):
    monkeypatch.setenv("GANSU_SESSION_SECRET", "short")
    with pytest.raises(InputError) as e:
        web_sessions.issue(s, "ana")
    assert "GANSU_SESSION_SECRET" in e.value.zh and "at least 32" in e.value.en


ISSUE = """
import sys
from storage import accounts, web_sessions
from storage.accounts import SHELL
from storage.store import Store
s = Store(sys.argv[1])
if accounts.get(s, "ana") is None:
    accounts.add(s, "root", sys.argv[2], "admin", actor=SHELL)
    accounts.add(s, "ana", sys.argv[2], "editor", actor=SHELL)
print(web_sessions.issue(s, "ana"))
s.close()
"""


def _issue_in_another_process(location, env: dict) -> str:
    e = {k: v for k, v in os.environ.items() if k != "GANSU_SESSION_SECRET"}
    r = subprocess.run([sys.executable, "-c", ISSUE, str(location), PW], cwd=REPO, env={**e, **env},
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.strip().splitlines()[-1]


def test_two_processes_on_one_store_accept_each_others_values_through_the_key_file(tmp_path, monkeypatch):
    path = tmp_path / "shared" / "store.duckdb"
    value = _issue_in_another_process(path, {"GANSU_STORE": str(path)})  # that process made the key file
    key = tmp_path / "shared" / "session.key"
    made = key.read_text()
    monkeypatch.delenv("GANSU_SESSION_SECRET", raising=False)
    monkeypatch.setenv("GANSU_STORE", str(path))
    store = Store(path)
    try:
        assert web_sessions.check(store, value) == "ana"
    finally:
        store.close()
    assert key.read_text() == made and stat.S_IMODE(key.stat().st_mode) == 0o600
    # the same store file served with another key (another folder's): the value is refused
    other = tmp_path / "elsewhere" / "store.duckdb"
    other.parent.mkdir()
    other.write_bytes(path.read_bytes())
    monkeypatch.setenv("GANSU_STORE", str(other))
    store = Store(other)
    try:
        assert web_sessions.check(store, value) is None
    finally:
        store.close()


def test_two_processes_with_one_secret_accept_each_others_values(store_at, monkeypatch):
    where = store_at("shared")
    value = _issue_in_another_process(where, {"GANSU_SESSION_SECRET": SECRET})
    store = Store(where)
    try:
        monkeypatch.setenv("GANSU_SESSION_SECRET", SECRET)
        assert web_sessions.check(store, value) == "ana"
        monkeypatch.setenv("GANSU_SESSION_SECRET", SECRET + "-other")
        assert web_sessions.check(store, value) is None
    finally:
        store.close()

"""The audit log's hash chain (rows changed, removed or slipped in are found, and named), the
one-time chaining of an older store's rows, the rule that no code updates or deletes audit rows,
and what ``python -m cli admin audit`` prints (terminal control characters shown escaped)."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from storage import accounts, audit
from storage.accounts import SHELL
from storage.db import connect
from storage.store import Store

REPO = Path(__file__).resolve().parent.parent
HOSTILE = "\x1b[2J\x1b]0;owned\x07ad\x9bmin\u202eedoc\u2066x\x7f\u200by\n\tz"


@pytest.fixture()
def store(store_at):
    s = Store(store_at("a"))
    yield s
    s.close()


def _fill(s, n=5):
    for i in range(n):
        audit.log(s, SHELL, "export", "park", f"P0{i}", after={"i": i}, details={"名": "甲", "i": i})


def _sql(s, sql, params=()):
    """The test plays someone with write access to the file or, on PostgreSQL, a superuser who
    switches the append-only triggers off for the transaction (``session_replication_role``)."""
    with s.transaction() as cur:
        if s.backend == "postgresql":
            cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(sql, list(params))


def test_an_untouched_log_verifies_and_reports_its_head(store):
    _fill(store)
    r = audit.verify(store)
    assert r.ok and r.rows == 5 and r.broken_seq is None and re.fullmatch(r"[0-9a-f]{64}", r.head)
    audit.log(store, SHELL, "export", "park", "P09")
    r2 = audit.verify(store)
    assert r2.ok and r2.rows == 6 and r2.head != r.head


@pytest.mark.parametrize("how, seq", [
    ("UPDATE audit_log SET actor = 'someone else' WHERE seq = 3", 3),  # a row rewritten
    ("UPDATE audit_log SET details = '{\"i\": 9}' WHERE seq = 2", 2),  # a detail rewritten
    ("UPDATE audit_log SET at_time = at_time + INTERVAL '1 second' WHERE seq = 4", 4),
    ("DELETE FROM audit_log WHERE seq = 2", 2),  # a row removed, its hash left
    ("DELETE FROM audit_log WHERE seq = 2; DELETE FROM audit_chain WHERE seq = 2", 3),  # both removed
    ("DELETE FROM audit_log WHERE seq = 5; DELETE FROM audit_chain WHERE seq = 5", 5),  # the newest row cut off
])
def test_a_changed_or_removed_row_is_named(store, how, seq):
    _fill(store)
    for stmt in how.split("; "):
        _sql(store, stmt)
    r = audit.verify(store)
    assert not r.ok and r.broken_seq == seq
    assert str(seq) in r.message.en and str(seq) in r.message.zh


def test_a_row_slipped_in_without_the_app_is_named(store):
    _fill(store, 3)
    _sql(store, "INSERT INTO audit_log (seq, at_time, actor, action, item_type) VALUES (99, ?, 'x', 'login', 'account')",
         [dt.datetime.now()])
    r = audit.verify(store)
    assert not r.ok and r.broken_seq == 99


def test_an_older_store_is_chained_once_from_the_seq_it_had(tmp_path):
    path = tmp_path / "old.duckdb"
    con = connect(path)  # a store written before the chain: the old audit_log and two rows
    con.execute("CREATE SEQUENCE audit_seq START 1")
    con.execute("""CREATE TABLE audit_log (seq BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'), at_time TIMESTAMP,
                   actor VARCHAR, action VARCHAR, item_type VARCHAR, item_id VARCHAR, before_sha VARCHAR,
                   after_sha VARCHAR, details JSON)""")
    for i in range(2):
        con.execute("INSERT INTO audit_log (at_time, actor, action, item_type, details) VALUES (?, 'old', 'export', 'x', '{}')",
                    [dt.datetime(2024, 1, 1, 8, i)])
    con.close()
    s = Store(path)
    r = audit.verify(s)
    assert r.ok and r.rows == 3 and r.chained_from == 3  # rows 1-2 chained at the migration, row 3 says so
    start = audit.rows(s, action="audit_chain_start").iloc[0]
    assert start["seq"] == 3 and '"legacy_rows": 2' in start["details"]
    audit.log(s, SHELL, "export", "park", "P01")
    s.close()
    s = Store(path)  # opening again chains nothing twice
    assert len(audit.rows(s, action="audit_chain_start")) == 1 and audit.verify(s).ok
    _sql(s, "INSERT INTO audit_log (at_time, actor, action, item_type) VALUES (?, 'x', 'login', 'account')",
         [dt.datetime.now()])  # slipped in without a hash: reopening must not chain it quietly
    slipped = int(audit.rows(s, limit=1)["seq"].iloc[0])
    s.close()
    s = Store(path)
    assert audit.verify(s).broken_seq == slipped
    _sql(s, "UPDATE audit_log SET actor = 'other' WHERE seq = 1")  # a legacy row changed after the migration
    assert audit.verify(s).broken_seq == 1
    s.close()


def test_no_code_updates_or_deletes_audit_rows():
    pattern = re.compile(r"\b(UPDATE|DELETE\s+FROM|TRUNCATE|DROP\s+TABLE(\s+IF\s+EXISTS)?|ALTER\s+TABLE)\s+audit_(log|chain)\b",
                         re.IGNORECASE)
    found = []
    for folder in ("core", "layers", "storage", "zonal", "geodata", "indicators", "reports", "ui", "pages", "cli"):
        for path in sorted((REPO / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            found += [f"{path.relative_to(REPO)}: {m.group(0)}" for m in pattern.finditer(text)]
    found += [f"app.py: {m.group(0)}" for m in pattern.finditer((REPO / "app.py").read_text(encoding="utf-8"))]
    assert not found, f"audit rows are only ever inserted: {found}"


# --- the admin command line ------------------------------------------------------------------------
def _admin(path, *args):
    env = {"GANSU_STORE": str(path), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "cli", "admin", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_admin_cli_prints_control_characters_of_a_login_name_escaped(tmp_path):
    s = Store(tmp_path / "c.duckdb")
    audit.log(s, HOSTILE, "login_failed", "account", HOSTILE, details={"why": "unknown"})
    s.close()
    r = _admin(tmp_path / "c.duckdb", "audit")
    assert r.returncode == 0, r.stderr
    bad = [hex(ord(ch)) for ch in r.stdout if ch not in "\n" and (ord(ch) < 0x20 or 0x7f <= ord(ch) < 0xa0
                                                                  or ch in "\u202e\u2066\u200b")]
    assert not bad, f"control characters reached the terminal: {bad}"
    assert r"\x1b[2J\x1b]0;owned\x07ad\x9bmin\u202eedoc\u2066x\x7f\u200by\x0a\x09z" in r.stdout


def test_admin_cli_audit_verify_names_the_first_broken_row_and_prints_the_head(tmp_path):
    path = tmp_path / "v.duckdb"
    s = Store(path)
    _fill(s, 4)
    head = audit.verify(s).head
    s.close()
    r = _admin(path, "audit", "verify")
    assert r.returncode == 0, r.stderr
    assert head in r.stdout and "intact" in r.stdout and "完整" in r.stdout
    con = duckdb.connect(str(path))
    con.execute("UPDATE audit_log SET item_id = 'P99' WHERE seq = 2")
    con.close()
    r = _admin(path, "audit", "verify")
    assert r.returncode == 1
    assert "seq 2" in r.stdout and "第 2 行" in r.stdout


def test_admin_cli_account_list_shows_an_office_with_escape_sequences_escaped(tmp_path):
    s = Store(tmp_path / "o.duckdb")
    accounts.add(s, "root", "Geheim-Passwort-7731", "admin", office="\x1b[31m红\u202e", actor=SHELL)
    s.close()
    r = _admin(tmp_path / "o.duckdb", "accounts", "list")
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\u202e" not in r.stdout and r"\x1b[31m红\u202e" in r.stdout


# --- review of the fixes: the newest rows cut off together with the head row ----------------------
CUT = ["DELETE FROM audit_log WHERE seq >= 4", "DELETE FROM audit_chain WHERE seq >= 4", "DELETE FROM audit_head"]


def test_a_log_cut_short_with_its_head_row_removed_is_broken(store):
    _fill(store)
    for stmt in CUT:
        _sql(store, stmt)
    r = audit.verify(store)
    assert not r.ok and r.broken_seq == 4 and r.rows == 3, r.message.en
    assert "head" in r.message.en and "5" in r.message.en and "链头" in r.message.zh


def test_the_next_write_after_a_cut_does_not_hide_it(store):
    _fill(store)
    for stmt in CUT:
        _sql(store, stmt)
    audit.log(store, SHELL, "export", "park", "P07")  # the app goes on writing
    r = audit.verify(store)
    assert not r.ok, r.message.en
    kept = audit.rows(store, limit=10)
    assert list(kept["seq"])[:2] == [7, 6] and kept["action"].iloc[1] == "audit_head_missing"  # said in the log
    assert '"last_seq": 3' in kept["details"].iloc[1] and '"sequence_at": 5' in kept["details"].iloc[1]


def test_an_emptied_log_is_broken_but_a_fresh_store_verifies(store, tmp_path):
    assert audit.verify(store).ok and audit.verify(store).rows == 0  # nothing written yet: nothing to miss
    _fill(store, 2)
    for stmt in ("DELETE FROM audit_log", "DELETE FROM audit_chain", "DELETE FROM audit_head"):
        _sql(store, stmt)
    r = audit.verify(store)
    assert not r.ok and r.broken_seq == 1 and r.rows == 0, r.message.en

"""Who takes the command line's queued result tables in: a signed-in editor or admin (or anyone in
single-user mode), recorded as that user on behalf of the note's owner on disk — never a visitor,
never the name a note claims; the inbox folder is the owner's alone; notes of another user are set aside."""
from __future__ import annotations

import json
import os
import pwd
import stat

import pandas as pd
import pytest

from storage import accounts, audit, inbox
from storage.accounts import SHELL, Principal
from storage.store import Store

PASSWORD = "Geheim-Passwort-7731"
TABLE = pd.DataFrame({"unit_id": ["1"], "area_km2": [2.5]})


@pytest.fixture()
def acc_store(tmp_path, monkeypatch):
    monkeypatch.setenv("GANSU_LOGIN_DELAY_S", "0")
    s = Store(tmp_path / "s.duckdb")
    accounts.add(s, "root", PASSWORD, "admin", actor=SHELL)
    accounts.add(s, "ed1", PASSWORD, "editor", actor=SHELL)
    accounts.add(s, "vera", PASSWORD, "viewer", actor=SHELL)
    yield s
    s.close()


def _forged_note(path) -> None:
    note = inbox.queue(path, "run", "zonestats", TABLE)
    body = json.loads(note.read_text(encoding="utf-8"))
    note.write_text(json.dumps({**body, "queued_by": "the director"}), encoding="utf-8")


def test_only_a_signed_in_editor_takes_queued_tables_in_as_themselves(acc_store):
    s = acc_store
    _forged_note(s.path)
    for who in (None, Principal("vera", "viewer", None, "password"), "root"):  # nobody, a viewer, a bare name
        assert inbox.ingest(s, who) == []
        assert len(inbox.pending(s.path)) == 1 and s.result_tables().empty
    assert audit.rows(s, action="denied").empty  # a page view is not a refused change: nothing logged
    taken = inbox.ingest(s, Principal("ed1", "editor", None, "password"))
    assert [t["table_id"] for t in taken] == ["run@1"] and inbox.pending(s.path) == []
    row = s.result_tables().iloc[0]
    me = pwd.getpwuid(os.geteuid()).pw_name
    assert row["created_by"] == "ed1" and json.loads(row["args"])["queued_by"] == me  # the file's owner, not the text
    log = audit.rows(s, action="result_table_add").iloc[0]
    assert log["actor"] == "ed1" and json.loads(log["details"])["on_behalf_of"] == me


def test_single_user_mode_takes_them_in_as_the_local_user(tmp_path):
    s = Store(tmp_path / "one.duckdb")
    try:
        inbox.queue(s.path, "run", "zonestats", TABLE)
        assert [t["table_id"] for t in inbox.ingest(s, None)] == ["run@1"]
        assert s.result_tables().iloc[0]["created_by"] == "local"
    finally:
        s.close()


def test_the_inbox_is_owner_only_and_notes_of_another_user_are_set_aside(acc_store):
    s = acc_store
    inbox.queue(s.path, "run", "zonestats", TABLE)
    folder = inbox.inbox_dir(s.path)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    # the server runs as another user than the one who wrote the note
    taken = inbox.ingest(s, Principal("root", "admin", None, "password"), server_uid=os.geteuid() + 1)
    assert taken == [] and inbox.pending(s.path) == [] and len(inbox.failed(s.path)) == 1
    assert s.result_tables().empty

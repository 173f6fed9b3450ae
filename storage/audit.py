"""The append-only log of the store: every change and every export — who, when, what, the item,
content hashes before and after, and details (e.g. the provenance record of an export).

The rows are in ``audit_log``; they are only ever inserted (no code updates or deletes them:
``tests/test_audit_chain.py`` scans for it). A change and its log row are written in the same
transaction (``record(cur, …)`` inside ``store.transaction()``), so a logged change always
happened and a change is never unlogged.

**Hash chain.** DuckDB has no triggers, so a row cannot be made read-only. Instead every row has
a companion row in ``audit_chain`` (same ``seq``) holding the previous row's hash and its own:
``row_hash = SHA-256(prev_hash, seq, at_time, actor, action, item_type, item_id, before_sha,
after_sha, details)`` — every column. ``verify`` recomputes the chain and names the first row that
was changed, removed (the next row's ``prev_hash`` no longer fits) or slipped in (no hash, or one
that does not fit). The hashes live in a table of their own (not new columns of ``audit_log``) so
that the rows an older store already had could be chained without updating them: ``migrate``
chains them once, when a store without the chain is first opened, and logs an
``audit_chain_start`` row saying how many rows were there (``meta.audit_chain_from`` = its seq).
Those older rows are only proven unchanged *since* that moment.

The newest link is also kept in ``audit_head`` (one row, so appending does not scan the log);
``verify`` compares it with the chain's end, so removing the newest rows is found too — unless
``audit_head`` is rewritten as well. Once the chain has started (the store made it when it was
created or first opened), a *missing* head row is a break too: ``verify`` reports it, naming how far
the sequence ``audit_seq`` had counted (numbers it handed out that no row holds: the newest rows
were removed, or — for the numbers beyond the head only — a change that was rolled back), and the
next write does not quietly make a new head: it rebuilds it from the chain's last row and first
appends an ``audit_head_missing`` row saying so, which ``verify`` reports from then on.

What the chain does NOT prevent: anyone who can write the store file (the server's shell user,
a backup restored over it) can rewrite or cut the whole chain, recompute every hash and set the
head — the result verifies. Only a hash kept outside the file shows that: ``python -m
python -m cli admin audit verify`` prints the head hash (the newest row's) so it can be written down
elsewhere (a notebook, a mail, another machine) and compared later; a head written down earlier
that no longer appears in ``audit_chain`` means the log was rewritten.

May import: ``core`` only (it is part of ``layers``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from core.text import Text

SCHEMA = [
    "CREATE SEQUENCE IF NOT EXISTS audit_seq START 1",
    """CREATE TABLE IF NOT EXISTS audit_log (
        seq BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'), at_time TIMESTAMP, actor VARCHAR, action VARCHAR,
        item_type VARCHAR, item_id VARCHAR, before_sha VARCHAR, after_sha VARCHAR, details JSON)""",
    "CREATE TABLE IF NOT EXISTS audit_chain (seq BIGINT PRIMARY KEY, prev_hash VARCHAR, row_hash VARCHAR)",
    "CREATE TABLE IF NOT EXISTS audit_head (seq BIGINT, row_hash VARCHAR)",  # one row: the newest link
]
COLUMNS = ("seq", "at_time", "actor", "action", "item_type", "item_id", "before_sha", "after_sha", "details")
GENESIS = "0" * 64  # the "previous hash" of the first chained row
# every column as DuckDB itself writes it out: the same text when the row is written and when it is checked
_CANON = ("seq, strftime(at_time, '%Y-%m-%dT%H:%M:%S.%f'), actor, action, item_type, item_id, before_sha, "
          "after_sha, CAST(details AS VARCHAR)")
CHAIN_FROM_KEY = "audit_chain_from"


def content_sha(obj: Any) -> str | None:
    """SHA-256 of a JSON-able description of an item's content (None for "no item")."""
    if obj is None:
        return None
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def row_hash(prev_hash: str, canon: tuple) -> str:
    """The hash of one row: the previous row's hash and every column (``_CANON`` order)."""
    vals = [None if v is None or (isinstance(v, float) and v != v) else v for v in canon]
    vals[0] = int(vals[0])
    text = json.dumps([prev_hash, *vals], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sequence_at(cur) -> int | None:
    """The last number ``audit_seq`` handed out (None: none yet)."""
    r = cur.execute("SELECT last_value FROM duckdb_sequences() WHERE sequence_name = 'audit_seq'").fetchone()
    return int(r[0]) if r is not None and r[0] is not None else None


def _head(cur) -> str:
    """The newest row's hash (kept in ``audit_head``: one row, so appending costs the same however
    long the log is). A store that never wrote a row gets the chain's start; a missing head of a
    chain that has rows (or of a sequence that counted any) is rebuilt from the chain's last row
    after an ``audit_head_missing`` row that says so (``verify`` reports it)."""
    r = cur.execute("SELECT row_hash FROM audit_head").fetchone()
    if r is not None:
        return r[0]
    last = cur.execute("SELECT seq, row_hash FROM audit_chain ORDER BY seq DESC LIMIT 1").fetchone()
    at = _sequence_at(cur)
    cur.execute("INSERT INTO audit_head VALUES (?, ?)", list(last) if last else [0, GENESIS])
    if last is None and at is None:
        return GENESIS
    record(cur, "", "audit_head_missing", "audit_log", None,
           details={"last_seq": int(last[0]) if last else 0, "sequence_at": at,
                    "note": "the head row was missing: rows after last_seq may have been removed"})
    return cur.execute("SELECT row_hash FROM audit_head").fetchone()[0]


def record(cur, actor: str | None, action: str, item_type: str, item_id: str | None = None,
           before: Any = None, after: Any = None, details: dict | None = None) -> None:
    """Append one row and its link in the chain, inside the caller's transaction (``cur`` from
    ``store.transaction()``, which holds the store's lock: rows are chained one at a time)."""
    prev = _head(cur)
    canon = cur.execute(
        "INSERT INTO audit_log (at_time, actor, action, item_type, item_id, before_sha, after_sha, details) "
        f"VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_CANON}",
        [dt.datetime.now(), str(actor or ""), action, item_type, item_id, content_sha(before), content_sha(after),
         json.dumps(details or {}, ensure_ascii=False, default=str)]).fetchone()
    h = row_hash(prev, canon)
    cur.execute("INSERT INTO audit_chain VALUES (?, ?, ?)", [canon[0], prev, h])
    cur.execute("UPDATE audit_head SET seq = ?, row_hash = ?", [canon[0], h])


def migrate(cur) -> None:
    """Chain the rows a store had before the chain existed — once (``meta.audit_chain_from`` marks
    it done; later rows without a hash are reported by ``verify``, never chained quietly)."""
    if cur.execute("SELECT 1 FROM meta WHERE key = ?", [CHAIN_FROM_KEY]).fetchone():
        return
    rows = cur.execute(f"SELECT {_CANON} FROM audit_log WHERE seq NOT IN (SELECT seq FROM audit_chain) "
                       "ORDER BY seq").fetchall()
    if cur.execute("SELECT 1 FROM audit_head").fetchone() is None:  # the chain starts here: its first head
        cur.execute("INSERT INTO audit_head VALUES (0, ?)", [GENESIS])
    prev = _head(cur)
    for canon in rows:
        h = row_hash(prev, canon)
        cur.execute("INSERT INTO audit_chain VALUES (?, ?, ?)", [canon[0], prev, h])
        cur.execute("UPDATE audit_head SET seq = ?, row_hash = ?", [canon[0], h])
        prev = h
    start = 1
    if rows:
        record(cur, "", "audit_chain_start", "audit_log", None,
               details={"legacy_rows": len(rows), "legacy_seq": [int(rows[0][0]), int(rows[-1][0])],
                        "note": "rows before this one were chained when the chain was introduced"})
        start = int(cur.execute("SELECT max(seq) FROM audit_chain").fetchone()[0])
    cur.execute("INSERT INTO meta VALUES (?, ?)", [CHAIN_FROM_KEY, str(start)])


@dataclass(frozen=True)
class Verdict:
    """What ``verify`` found: ``ok``; ``rows`` checked; ``head`` (the newest row's hash, to keep
    elsewhere); ``broken_seq`` (the first row that does not fit, None when intact); ``chained_from``
    (the seq of the row that started the chain on an older store: rows before it were chained then);
    ``message`` (bilingual)."""

    ok: bool
    rows: int
    head: str
    broken_seq: int | None
    chained_from: int | None
    message: Text


def verify(store) -> Verdict:
    """Recompute the chain from the first row; stop at the first row that does not fit."""
    df = store.query_df(
        f"SELECT coalesce(a.seq, c.seq) AS key, a.seq IS NOT NULL AS has_row, "
        f"{_CANON.replace('seq,', 'a.seq,', 1)}, c.prev_hash, c.row_hash "
        "FROM audit_log a FULL OUTER JOIN audit_chain c ON a.seq = c.seq ORDER BY key")
    meta = store.query_df("SELECT value FROM meta WHERE key = ?", [CHAIN_FROM_KEY])
    start = int(meta["value"].iloc[0]) if len(meta) else None
    prev, n, last = GENESIS, 0, 0
    for r in df.itertuples(index=False):
        seq = int(r[0])
        canon, stored_prev, stored = tuple(r[2:11]), r[11], r[12]
        why = None
        if not r[1]:
            why = Text("该行已被删除（其哈希仍在）", "the row was deleted (its hash is still there)")
        elif stored is None or (isinstance(stored, float) and stored != stored):
            why = Text("该行没有哈希：不是由本程序写入的", "the row has no hash: it was not written by the app")
        elif stored_prev != prev:
            why = Text("其前一行的哈希不符：前面的行被删除或改动",
                       "the previous row's hash does not fit: a row before it was removed or changed")
        elif row_hash(prev, canon) != stored:
            why = Text("该行内容在写入后被改动", "the row's content was changed after it was written")
        elif canon[3] == "audit_head_missing":
            d = _details(canon[8])
            why = Text(f"写入该行时链头记录已缺失：第 {d.get('last_seq')} 行之后的行可能已被删除（序列当时已计到第 "
                       f"{d.get('sequence_at')} 行）",
                       f"the head row was missing when this row was written: rows after seq {d.get('last_seq')} may "
                       f"have been removed (the sequence had counted to {d.get('sequence_at')})")
        if why is not None:
            return Verdict(False, n, prev, seq, start, Text(
                f"审计日志的哈希链在第 {seq} 行（seq {seq}）断开：{why.zh}。此前的 {n} 行完整。",
                f"the audit log's hash chain breaks at seq {seq}: {why.en}. The {n} rows before it are intact."))
        prev, n, last = stored, n + 1, seq
    head = store.query_df("SELECT seq, row_hash FROM audit_head")
    at = store.query_df("SELECT coalesce(last_value, -1) AS v FROM duckdb_sequences() "
                        "WHERE sequence_name = 'audit_seq'")["v"]
    at = int(at.iloc[0]) if len(at) and int(at.iloc[0]) >= 0 else None
    if not len(head) and (n or at is not None):  # the chain has started: its head cannot just be gone
        return Verdict(False, n, prev, last + 1, start, Text(
            f"审计日志的链头记录缺失（序列已计到第 {at} 行，现存最后一行为第 {last} 行）：末尾的行连同链头一起被删除。",
            f"the audit log's head row is missing (the sequence counted to seq {at}; the last row present is seq "
            f"{last}): the newest rows were removed together with the head."))
    if len(head) and head["row_hash"].iloc[0] != prev:
        hs = int(head["seq"].iloc[0])
        return Verdict(False, n, prev, hs, start, Text(
            f"审计日志的链头与记录不符（记录的链头为第 {hs} 行，现存最后一行为第 {last} 行）：末尾的行被删除，或日志被改写。",
            f"the audit log's head does not match the recorded head (seq {hs}; the last row present is seq {last}): "
            "the newest rows were removed, or the log was rewritten."))
    return Verdict(True, n, prev, None, start, Text(
        f"审计日志完整：{n} 行，哈希链无断点。链头哈希：{prev}（请另行记录，以便日后核对）。",
        f"the audit log is intact: {n} rows, the hash chain is unbroken. Head hash: {prev} "
        "(write it down elsewhere to compare later)."))


def _details(value) -> dict:
    try:
        d = json.loads(value) if isinstance(value, str) else {}
    except ValueError:
        d = {}
    return d if isinstance(d, dict) else {}


def log(store, actor: str | None, action: str, item_type: str, item_id: str | None = None,
        before: Any = None, after: Any = None, details: dict | None = None) -> None:
    """Append one row in a transaction of its own (exports, runs: nothing else changes)."""
    with store.transaction() as cur:
        record(cur, actor, action, item_type, item_id, before, after, details)


def rows(store, limit: int = 1000, action: str | None = None, actor: str | None = None):
    """The newest rows first (a DataFrame with ``COLUMNS``)."""
    where, params = [], []
    if action:
        where.append("action = ?")
        params.append(action)
    if actor:
        where.append("actor = ?")
        params.append(actor)
    sql = (f"SELECT {', '.join(COLUMNS)} FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY seq DESC LIMIT ?")
    return store.query_df(sql, [*params, int(limit)])

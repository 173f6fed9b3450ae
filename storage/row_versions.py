"""Optimistic saves: every park, checklist and scenario row carries a version (``row_version``, 1 when
made, +1 at each save) and who saved it last (``updated_by``). A save may say which version its
user's copy was read at (``expected``); when another session saved the row since, the save is
refused with who and when (``StaleEdit``) — the later save is told, nothing is silently lost — and
the user reloads and saves again. ``expected=None`` keeps the old behaviour (the command line, a
new item). ``expected=0``: the user saw no row (a checklist never saved).

Runs inside the caller's transaction, which on PostgreSQL holds the write lock (``storage.pg``),
so the check and the update cannot interleave with another process's.
"""
from __future__ import annotations

import datetime as dt

from core.errors import InputError

TABLES = {"parks": "park_id", "checklist": "park_id", "scenarios": "name"}
LABELS = {"parks": ("园区", "park"), "checklist": ("准入核查表", "checklist"), "scenarios": ("方案", "scenario")}


class StaleEdit(InputError):
    """The row was saved by someone else after this user's copy was read."""


def current(cur, table: str, key: str) -> tuple[int, str | None, dt.datetime | None] | None:
    """(version, saved by, saved at) of a row, None when there is no row."""
    col = TABLES[table]
    r = cur.execute(f"SELECT coalesce(row_version, 1), updated_by, updated_at FROM {table} WHERE {col} = ?", [key]).fetchone()
    return (int(r[0]), r[1], r[2]) if r is not None else None


def deleted(table: str, label: str) -> StaleEdit:
    zh, en = LABELS[table]
    return StaleEdit(f"{zh}“{label}”已被删除（可在回收站中找到）：您的更改未保存。",
                     f"the {en} '{label}' was deleted (it may be in the recycle bin): your change was not saved.")


def check(cur, table: str, key: str, expected: int | None, name: str | None = None) -> int:
    """The row's next version; StaleEdit when ``expected`` is given and the row is at another one."""
    now = current(cur, table, key)
    have = now[0] if now else 0
    if expected is not None and int(expected) != have:
        zh, en = LABELS[table]
        who = (now[1] or "?") if now else "?"
        when = now[2].strftime("%Y-%m-%d %H:%M:%S") if now and isinstance(now[2], dt.datetime) else "?"
        label = name or key
        if now is None:
            raise deleted(table, label)
        raise StaleEdit(f"{zh}“{label}”已被 {who} 于 {when} 修改（版本 {have}，您看到的是版本 {expected}）：您的更改未保存。"
                        "请重新载入页面查看其更改后再保存。",
                        f"the {en} '{label}' was changed by {who} at {when} (version {have}; you saw version {expected}): "
                        "your change was not saved. Reload the page to see their change, then save again.")
    return have + 1

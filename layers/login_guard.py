"""What keeps sign-in attempts cheap for the server and bounded in the log.

**Rate limits**, checked before any password hash (``admit``): in-process token buckets, one per
client (its IP address, else its browser session: the UI passes the key) and one for the whole
server. Settings (environment of the server process), ``N/S`` = N attempts per S seconds (a burst
of N, refilled evenly), ``off`` or ``0`` to switch one off:

    GANSU_LOGIN_CLIENT_LIMIT   10/60    per client
    GANSU_LOGIN_GLOBAL_LIMIT   120/60   for the whole server (also caps the CPU spent on hashes)

Callers without a client (the shell, tests: ``client=None``) are not limited. Several server
processes have a set of buckets each. Behind a reverse proxy on the same machine every visitor
comes from 127.0.0.1: Streamlit reports no address, and the per-client limit falls back to the
browser session (a new tab is a new session); the server-wide limit still holds.

**Failed sign-ins that cannot lock anything** (a name that is no account, a locked or disabled
account) are counted in ``login_failures`` — one row per name and hour, at most
``GANSU_FAILED_LOGIN_NAMES`` (20) names an hour, every further name counted in the hour's ``*``
row; rows older than ``GANSU_FAILED_LOGIN_DAYS`` (90) are dropped. The audit log gets the first
failure of each counted name per hour and one ``login_flood`` row when an hour's cap is reached,
so a guesser cannot grow it without bound and the admin still sees the guessing. Wrong passwords
of an existing account are logged one by one by ``accounts.authenticate``: the lockout bounds them.

May import: ``core`` and ``layers.audit``.
"""
from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections import OrderedDict

from core.errors import PermissionDenied
from layers import audit

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS login_failures (
        hour TIMESTAMP, name VARCHAR, reason VARCHAR, n BIGINT, first_at TIMESTAMP, last_at TIMESTAMP,
        PRIMARY KEY (hour, name))""",
]
OTHERS = "*"  # the row that counts every name beyond an hour's cap
MAX_CLIENTS = 10000  # buckets and failure streaks kept in memory (least recently used dropped)


class RateLimited(PermissionDenied):
    """Too many sign-in attempts: refused before the password is looked at."""


def parse_limit(text: str | None) -> tuple[int, float] | None:
    """``"10/60"`` → (10, 60.0); ``off``, ``0``, empty or unreadable → None (no limit)."""
    try:
        n, _, per = str(text or "").strip().partition("/")
        n, per = int(n), float(per or 60)
    except ValueError:
        return None
    return (n, per) if n > 0 and per > 0 else None


class TokenBucket:
    """``capacity`` tokens, refilled evenly over ``per_seconds``; ``take()`` spends one if there is one."""

    def __init__(self, capacity: int, per_seconds: float, clock=time.monotonic):
        self.capacity, self.rate, self.clock = float(capacity), capacity / per_seconds, clock
        self.tokens, self.at = float(capacity), clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait_seconds(self) -> float:
        return max(0.0, (1.0 - self.tokens) / self.rate)


class _Limiter:
    def __init__(self, client_limit, global_limit):
        self.client_limit, self.global_limit = client_limit, global_limit
        self.glob = TokenBucket(*global_limit) if global_limit else None
        self.clients: OrderedDict[str, TokenBucket] = OrderedDict()
        self.streaks: OrderedDict[str, int] = OrderedDict()


_lock = threading.Lock()
_state: dict[tuple, _Limiter] = {}


def _limiter() -> _Limiter:
    key = (os.environ.get("GANSU_LOGIN_CLIENT_LIMIT", "10/60"), os.environ.get("GANSU_LOGIN_GLOBAL_LIMIT", "120/60"))
    lim = _state.get(key)
    if lim is None:  # first use, or the settings changed: fresh buckets
        _state.clear()
        lim = _state[key] = _Limiter(parse_limit(key[0]), parse_limit(key[1]))
    return lim


def _touch(d: OrderedDict, key, value):
    d[key] = value
    d.move_to_end(key)
    while len(d) > MAX_CLIENTS:
        d.popitem(last=False)


def admit(client: str | None) -> None:
    """Spend one attempt of ``client`` and of the server, or raise ``RateLimited`` (bilingual)."""
    if client is None:
        return
    with _lock:
        lim = _limiter()
        bucket = lim.clients.get(str(client))
        if bucket is None and lim.client_limit:
            bucket = TokenBucket(*lim.client_limit)
        if bucket is not None:
            _touch(lim.clients, str(client), bucket)
            if not bucket.take():
                raise _refusal(bucket.wait_seconds())
        if lim.glob is not None and not lim.glob.take():
            raise _refusal(lim.glob.wait_seconds())


def _refusal(wait: float) -> RateLimited:
    s = max(1, int(round(wait + 0.5)))
    return RateLimited(f"登录尝试过于频繁：请 {s} 秒后再试。", f"too many sign-in attempts: try again in {s} s.")


def failed(client: str | None) -> int:
    """Count a failure of ``client``; returns its failures in a row (1 for callers without a client)."""
    if client is None:
        return 1
    with _lock:
        lim = _limiter()
        n = lim.streaks.get(str(client), 0) + 1
        _touch(lim.streaks, str(client), n)
        return n


def succeeded(client: str | None) -> None:
    if client is not None:
        with _lock:
            _limiter().streaks.pop(str(client), None)


# --- the bounded log of failures ---------------------------------------------------------------
def _cap() -> int:
    try:
        return max(1, int(os.environ.get("GANSU_FAILED_LOGIN_NAMES", "20")))
    except ValueError:
        return 20


def _keep_days() -> float:
    try:
        return max(1.0, float(os.environ.get("GANSU_FAILED_LOGIN_DAYS", "90")))
    except ValueError:
        return 90.0


def record_failure(cur, name: str, reason: str, *, now: dt.datetime | None = None) -> None:
    """Count one failed sign-in of ``name`` (already cleaned for the log) inside the caller's
    transaction; audit the first of its hour while the hour has room, then one summary row."""
    now = now or dt.datetime.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    action = "login_failed" if reason == "unknown" else "login_refused"
    if cur.execute("UPDATE login_failures SET n = n + 1, last_at = ? WHERE hour = ? AND name = ? RETURNING n",
                   [now, hour, name]).fetchone():
        return  # a repeat within the hour: counted, not logged again
    named = cur.execute("SELECT count(*) FROM login_failures WHERE hour = ? AND name <> ?", [hour, OTHERS]).fetchone()[0]
    if named < _cap():
        cur.execute("INSERT INTO login_failures VALUES (?, ?, ?, 1, ?, ?)", [hour, name, reason, now, now])
        audit.record(cur, name, action, "account", name, details={"reason": reason, "repeats": "login_failures"})
    elif not cur.execute("UPDATE login_failures SET n = n + 1, last_at = ? WHERE hour = ? AND name = ? RETURNING n",
                         [now, hour, OTHERS]).fetchone():
        cur.execute("INSERT INTO login_failures VALUES (?, ?, 'many', 1, ?, ?)", [hour, OTHERS, now, now])
        audit.record(cur, OTHERS, "login_flood", "account", None,
                     details={"hour": str(hour), "names_logged": named,
                              "note": "further names this hour are counted in login_failures, not logged"})
    cur.execute("DELETE FROM login_failures WHERE hour < ?", [hour - dt.timedelta(days=_keep_days())])


def recent_failures(store, hours: int = 24):
    """Failed sign-ins of the last ``hours`` (a DataFrame, newest first) for the admins' view."""
    since = dt.datetime.now() - dt.timedelta(hours=hours)
    return store.query_df("SELECT hour, name, reason, n, last_at FROM login_failures WHERE last_at >= ? "
                          "ORDER BY hour DESC, n DESC, name", [since])

"""What keeps sign-in attempts cheap for the server and bounded in the log.

**Rate limits**, checked before any password hash (``admit``): in-process token buckets. Settings
(environment of the server process), ``N/S`` = N attempts per S seconds (a burst of N, refilled
evenly), ``off`` or ``0`` to switch one off:

    GANSU_LOGIN_CLIENT_LIMIT    10/60   per client (its IP address, else its browser session: the
                                        UI passes the key): over it, refused
    GANSU_LOGIN_ACCOUNT_LIMIT   10/60   per typed account name, whatever the client: over it, refused
    GANSU_LOGIN_GLOBAL_LIMIT    120/60  for the whole server: over it, an attempt waits its turn
                                        (at most GANSU_LOGIN_GLOBAL_WAIT_S, 5 s) — never refused
    GANSU_LOGIN_GLOBAL_WAIT_S   5       that longest wait

Nobody can block everyone's sign-in: behind a reverse proxy on the same machine Streamlit reports
no client address, so the per-client key is the browser session's and a new session gets a new
budget; a server-wide limit that refused would then let anyone drain it and lock every user out.
It slows attempts down instead (bounded), and the per-name budget bounds the guesses at one name
from any number of sessions (flooding one name blocks that name for a while, as the lockout does).
One-time recovery codes (``storage.recovery``) have buckets of their own (the same settings), so
flooding the sign-in form never blocks a recovery.

Callers without a client (the shell, tests: ``client=None``) are not limited. Several server
processes have a set of buckets each.

**Failed sign-ins that cannot lock anything** (a name that is no account, a locked or disabled
account) are counted in ``login_failures`` — one row per name and hour, at most
``GANSU_FAILED_LOGIN_NAMES`` (20) names an hour, every further name counted in the hour's ``*``
row; rows older than ``GANSU_FAILED_LOGIN_DAYS`` (90) are dropped. The audit log gets the first
failure of each counted name per hour and one ``login_flood`` row when an hour's cap is reached,
so a guesser cannot grow it without bound and the admin still sees the guessing. Wrong passwords
of an existing account are logged one by one by ``accounts.authenticate``: the lockout bounds them.

May import: ``core`` and ``storage.audit``.
"""
from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections import OrderedDict

from core.errors import PermissionDenied
from storage import audit

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

    def reserve(self, max_wait: float) -> float:
        """Spend one token now, or one not yet refilled: the seconds until it will have been
        refilled, at most ``max_wait`` (the debt never grows beyond what ``max_wait`` repays, so a
        flood makes every attempt wait ``max_wait``, not ever longer)."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        self.tokens = max(self.tokens - 1.0, -max_wait * self.rate)
        return min(max_wait, max(0.0, -self.tokens / self.rate))


class _Limiter:
    def __init__(self, client_limit, account_limit, global_limit):
        self.client_limit, self.account_limit = client_limit, account_limit
        self.glob = TokenBucket(*global_limit) if global_limit else None
        self.clients: OrderedDict[str, TokenBucket] = OrderedDict()
        self.accounts: OrderedDict[str, TokenBucket] = OrderedDict()
        self.streaks: OrderedDict[str, int] = OrderedDict()


_lock = threading.Lock()
_state: dict[tuple, _Limiter] = {}
KINDS = ("login", "recovery")  # each with buckets of its own


def global_wait_cap() -> float:
    """The longest an attempt waits for the server-wide limit (``GANSU_LOGIN_GLOBAL_WAIT_S``)."""
    try:
        return max(0.0, float(os.environ.get("GANSU_LOGIN_GLOBAL_WAIT_S", "5")))
    except ValueError:
        return 5.0


def _limiter(kind: str = "login") -> _Limiter:
    settings = (os.environ.get("GANSU_LOGIN_CLIENT_LIMIT", "10/60"), os.environ.get("GANSU_LOGIN_ACCOUNT_LIMIT", "10/60"),
                os.environ.get("GANSU_LOGIN_GLOBAL_LIMIT", "120/60"))
    lim = _state.get((kind, settings))
    if lim is None:  # first use, or the settings changed: fresh buckets
        for k in [k for k in _state if k[0] == kind]:
            del _state[k]
        lim = _state[(kind, settings)] = _Limiter(*(parse_limit(v) for v in settings))
    return lim


def _touch(d: OrderedDict, key, value):
    d[key] = value
    d.move_to_end(key)
    while len(d) > MAX_CLIENTS:
        d.popitem(last=False)


def _take(lim: _Limiter, buckets: OrderedDict, limit, key: str) -> None:
    """One attempt from ``key``'s bucket, or ``RateLimited``."""
    if not limit:
        return
    bucket = buckets.get(key) or TokenBucket(*limit)
    _touch(buckets, key, bucket)
    if not bucket.take():
        raise _refusal(bucket.wait_seconds())


def admit(client: str | None, account: str | None = None, *, kind: str = "login", sleep=time.sleep) -> float:
    """Spend one attempt of ``client`` and of the typed ``account`` name (``RateLimited``, bilingual,
    when either is used up), then wait for the server-wide limit (at most ``global_wait_cap()``
    seconds, via ``sleep``); returns that wait. ``kind``: ``login`` or ``recovery`` (own buckets)."""
    if client is None:
        return 0.0
    with _lock:
        lim = _limiter(kind)
        _take(lim, lim.clients, lim.client_limit, str(client))
        if account is not None:
            _take(lim, lim.accounts, lim.account_limit, str(account))
        wait = lim.glob.reserve(global_wait_cap()) if lim.glob is not None else 0.0
    if wait > 0:
        sleep(wait)  # outside the lock: the others queue on the bucket, not on this thread
    return wait


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

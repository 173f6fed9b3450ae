"""Sign-in that survives a browser reload: the server side of the ``gansu_session`` cookie.

A password sign-in gets a cookie value ``<sid>.<expiry>.<mac>`` (``issue``):
- ``sid``: 256 random bits (base64url, 43 characters). The store keeps only its SHA-256
  (``web_sessions.sid_hash``): reading the store gives no usable cookie;
- ``expiry``: unix seconds, ``GANSU_SESSION_HOURS`` (12) after the sign-in;
- ``mac``: HMAC-SHA256 over ``<sid>.<expiry>`` with the server's secret (base64url).

``check`` accepts a value only when its mac fits, its expiry has not passed and its row exists,
is not revoked, has not expired, and its account is an enabled password account; it returns the
account's name — the role and office are read from the accounts as they are now, by the caller.

**Secret**: ``GANSU_SESSION_SECRET`` (at least 32 characters), else the file
``core.paths.session_key_path()`` (beside the store), created on first use with 384 random bits,
owner-only (0600). It is made under a temporary name and linked into place, so processes starting
together on one store all end up with the first one's secret. Every process that serves one store
needs the same secret; a new secret (file removed, variable changed) ends every saved sign-in.

**Revocation** (a row's ``revoked_at`` and ``revoked_why``): sign-out revokes its own row
(``revoke``); a password change (admin reset, recovery code), a role or office change and disabling
the account revoke every row of the account (``revoke_account_in``, inside the change's own
transaction, from ``storage.accounts`` and ``storage.recovery``). Issuing and revoking are written to
the audit log (``session_issue``, ``session_revoke``; the session named by the first 12 characters
of its hash). Rows are deleted once their expiry has passed (at the next issue).

The SQL here runs on DuckDB and on PostgreSQL alike: ``?`` parameters, plain statements,
timestamps passed as Python datetimes.

May import: ``core``, ``storage.audit`` (``storage.accounts`` and ``storage.recovery`` import this module).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import threading
from pathlib import Path

from core import paths
from core.errors import InputError
from storage import audit

COOKIE = "gansu_session"
MIN_SECRET = 32
DEFAULT_HOURS = 12.0
_SID = re.compile(r"[A-Za-z0-9_-]{43}")
_MAC = re.compile(r"[A-Za-z0-9_-]{43}")

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS web_sessions (
        sid_hash VARCHAR PRIMARY KEY, name VARCHAR, created_at TIMESTAMP, expires_at TIMESTAMP,
        revoked_at TIMESTAMP, revoked_why VARCHAR)""",
]

_SECRETS: dict[str, bytes] = {}  # key file -> its secret (read once per process)
_SECRET_LOCK = threading.Lock()


def lifetime_hours() -> float:
    """How long a saved sign-in lasts (``GANSU_SESSION_HOURS``, default 12; at least a minute)."""
    try:
        hours = float(os.environ.get("GANSU_SESSION_HOURS", DEFAULT_HOURS))
    except ValueError:
        return DEFAULT_HOURS
    return max(1 / 60, hours) if hours == hours else DEFAULT_HOURS


# --- the secret ------------------------------------------------------------------------------------
def secret() -> bytes:
    """The key of the cookies' HMAC: ``GANSU_SESSION_SECRET``, else the key file (made on first use)."""
    env = os.environ.get("GANSU_SESSION_SECRET", "")
    if env:
        if len(env) < MIN_SECRET:
            raise InputError(f"GANSU_SESSION_SECRET 太短：至少需要 {MIN_SECRET} 个字符（例如 openssl rand -base64 48）。",
                             f"GANSU_SESSION_SECRET is too short: at least {MIN_SECRET} characters "
                             "(e.g. openssl rand -base64 48).")
        return env.encode("utf-8")
    path = paths.session_key_path()
    with _SECRET_LOCK:
        got = _SECRETS.get(str(path))
        if got is None:
            got = _SECRETS[str(path)] = _load_or_create(path)
    return got


def _load_or_create(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_urlsafe(48) + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # atomic, and never over a key another process made first
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:  # copied in with a looser mode: owner-only again
        os.chmod(path, 0o600)
    text = path.read_text(encoding="utf-8").strip()
    if len(text) < MIN_SECRET:
        raise InputError(f"会话密钥文件 {path} 太短（至少 {MIN_SECRET} 个字符）：删除它，下次启动会重新生成。",
                         f"the session key file {path} is too short (at least {MIN_SECRET} characters): "
                         "remove it and a new one is made at the next start.")
    return text.encode("utf-8")


# --- cookie values ---------------------------------------------------------------------------------
def sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("ascii")).hexdigest()


def _mac(key: bytes, sid: str, exp: int) -> str:
    digest = hmac.new(key, f"{sid}.{exp}".encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _parse(cookie) -> tuple[str, int, str] | None:
    """(sid, expiry, mac) of a well-formed value; None for anything else (never an exception)."""
    if not isinstance(cookie, str) or len(cookie) > 120:
        return None
    parts = cookie.split(".")
    if len(parts) != 3:
        return None
    sid, exp, mac = parts
    if not (_SID.fullmatch(sid) and _MAC.fullmatch(mac) and exp.isascii() and exp.isdigit() and len(exp) <= 12):
        return None
    return sid, int(exp), mac


def _sid_of(cookie_or_sid) -> str | None:
    """The sid of a bare sid, or of a cookie value whose mac fits (expired or not): a value with a
    forged mac names no session, even with a real sid in it."""
    text = str(cookie_or_sid or "")
    if "." not in text:
        return text if _SID.fullmatch(text) else None
    got = _parse(text)
    return got[0] if got is not None and hmac.compare_digest(got[2], _mac(secret(), got[0], got[1])) else None


def issue(store, name: str, now: dt.datetime | None = None) -> str:
    """A new saved sign-in for the account ``name`` (signed in just now): its row and its audit row;
    returns the cookie value (the only place the sid exists from now on)."""
    now = dt.datetime.now() if now is None else now
    exp = int((now + dt.timedelta(hours=lifetime_hours())).timestamp())
    sid = secrets.token_urlsafe(32)
    value = f"{sid}.{exp}.{_mac(secret(), sid, exp)}"
    h = sid_hash(sid)
    expires = dt.datetime.fromtimestamp(exp)
    with store.transaction() as cur:
        cur.execute("DELETE FROM web_sessions WHERE expires_at < ?", [now])
        cur.execute("INSERT INTO web_sessions (sid_hash, name, created_at, expires_at, revoked_at, revoked_why) "
                    "VALUES (?, ?, ?, ?, NULL, NULL)", [h, str(name), now, expires])
        audit.record(cur, str(name), "session_issue", "account", str(name),
                     details={"session": h[:12], "expires": expires.isoformat(timespec="seconds")})
    return value


def check(store, cookie, now: dt.datetime | None = None) -> str | None:
    """The account name of a valid cookie value; None for a forged, malformed, expired or revoked
    one, or one of an account that is disabled, removed or not a password account."""
    got = _parse(cookie)
    if got is None:
        return None
    sid, exp, mac = got
    if not hmac.compare_digest(mac, _mac(secret(), sid, exp)):
        return None
    now = dt.datetime.now() if now is None else now
    if exp <= now.timestamp():
        return None
    df = store.query_df(
        "SELECT s.name AS name FROM web_sessions s JOIN accounts a ON a.name = s.name "
        "WHERE s.sid_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ? "
        "AND NOT coalesce(a.disabled, false) AND coalesce(a.source, 'password') = 'password'",
        [sid_hash(sid), now])
    return None if df.empty else str(df["name"].iloc[0])


def revoke(store, cookie_or_sid, why: str, *, actor=None, now: dt.datetime | None = None) -> bool:
    """End one saved sign-in (a genuine cookie value, or its sid); True when a live row was revoked."""
    sid = _sid_of(cookie_or_sid)
    if sid is None:
        return False
    h = sid_hash(sid)
    with store.transaction() as cur:
        rows = cur.execute("UPDATE web_sessions SET revoked_at = ?, revoked_why = ? "
                           "WHERE sid_hash = ? AND revoked_at IS NULL RETURNING name",
                           [dt.datetime.now() if now is None else now, str(why), h]).fetchall()
        for (name,) in rows:
            audit.record(cur, str(actor or name), "session_revoke", "account", name,
                         details={"session": h[:12], "why": str(why)})
    return bool(rows)


def revoke_account(store, name: str, why: str, *, actor=None, now: dt.datetime | None = None) -> int:
    """End every saved sign-in of ``name``; returns how many were live."""
    with store.transaction() as cur:
        return revoke_account_in(cur, name, why, actor=actor, now=now)


def revoke_account_in(cur, name: str, why: str, *, actor=None, now: dt.datetime | None = None) -> int:
    """``revoke_account`` inside the caller's transaction (``cur`` from ``store.transaction()``): the
    change that ends the sessions and their end are one commit."""
    rows = cur.execute("UPDATE web_sessions SET revoked_at = ?, revoked_why = ? "
                       "WHERE name = ? AND revoked_at IS NULL RETURNING sid_hash",
                       [dt.datetime.now() if now is None else now, str(why), str(name)]).fetchall()
    if rows:
        audit.record(cur, str(actor or name), "session_revoke", "account", str(name),
                     details={"sessions": len(rows), "why": str(why)})
    return len(rows)

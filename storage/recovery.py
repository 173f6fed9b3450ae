"""One-time recovery codes: unlock an account and give it a new password while the dashboard runs.

DuckDB lets one process write the store, so ``python -m cli admin accounts unlock`` cannot run while the
dashboard holds it. Instead the shell writes the scrypt hash of a random code, with its expiry, to
a file beside the store — ``<store>.recovery/<hash of the name>.json``, folder 0700, file 0600, no
store write — and prints the code once:

    python -m cli admin accounts recovery-code NAME [--minutes 30]

The sign-in form's "recovery code" part takes the name, the code and a new password: the file is
removed first (so a code works once), then the account is unlocked with the new password, the
change audited (``account_recovered``) and the user signed in. A wrong, expired or unknown code
gets one message after the same work; the rate limits of ``storage.login_guard`` apply, with buckets
of their own (a flood of sign-in attempts does not use up the recovery budget). Whoever can
run the shell on the server can read the store anyway: issuing a code needs no other proof.

The new password ends every saved sign-in (cookie) of the account (``storage.web_sessions``) in the
same transaction; the sign-in that follows gets a new one.

May import: ``core``, ``storage.audit``, ``storage.accounts``, ``storage.login_guard``, ``storage.pg``,
``storage.web_sessions``.
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import secrets
import time
from pathlib import Path

from storage import accounts, audit, login_guard, pg, web_sessions
from storage.accounts import AuthError, Principal

DEFAULT_MINUTES = 30
_REFUSED = ("账户名或恢复码错误，或恢复码已过期或已使用。",
            "wrong account name or recovery code, or the code has expired or was used already.")


def folder(store_path) -> Path:
    """Beside the DuckDB file, or in the data folder for a PostgreSQL store (``storage.pg.files_base``)."""
    return Path(f"{pg.files_base(store_path) if pg.is_url(store_path) else store_path}.recovery")


def code_file(store_path, name: str) -> Path:
    """Where the code of ``name`` waits (the file name is a hash: any name is a safe file name)."""
    return folder(store_path) / (hashlib.sha256(str(name).encode("utf-8")).hexdigest()[:32] + ".json")


def _normal(code: str) -> str:
    """Codes are read case-blind and without spaces or dashes (typed from a terminal)."""
    return "".join(ch for ch in str(code or "").upper() if ch.isalnum())


def issue(store_path, name: str, minutes: float = DEFAULT_MINUTES) -> str:
    """Write a new code for ``name`` (replacing an older one) and return it: 20 characters of base32
    (100 random bits) in four groups, e.g. ``K7Q2M-ZD4XA-…``."""
    name = accounts.login_name(name)
    raw = base64.b32encode(secrets.token_bytes(15)).decode("ascii")
    code = "-".join(raw[i:i + 5] for i in range(0, 20, 5))
    d = folder(store_path)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    until = dt.datetime.now() + dt.timedelta(minutes=float(minutes))
    body = json.dumps({"name": str(name), "hash": accounts.hash_password(_normal(code)),
                       "expires": until.isoformat(timespec="seconds")}, ensure_ascii=False)
    tmp = d / f".{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(body)
    os.replace(tmp, code_file(store_path, name))
    return code


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def redeem(store, name: str, code: str, new_password: str, *, client: str | None = None,
           sleep=time.sleep) -> Principal:
    """Unlock ``name`` with its one-time ``code`` and set ``new_password``; returns the signed-in
    principal. Otherwise AuthError (one message) or InputError (the new password breaks the rules)."""
    accounts.check_password_rules(new_password)
    key = accounts.login_name(name)
    try:  # buckets of their own: a flood of sign-ins never blocks a recovery
        login_guard.admit(client, key, kind="recovery", sleep=sleep)
    except login_guard.RateLimited as e:
        raise AuthError(e.zh, e.en) from None
    path = code_file(store.url or store.path, key)
    data = _read(path) or {}
    ok = accounts.verify_password(_normal(code), data.get("hash") or accounts.dummy_hash())  # same work
    try:
        expired = dt.datetime.fromisoformat(str(data.get("expires"))) < dt.datetime.now()
    except ValueError:
        expired = True
    if data and expired:
        with contextlib.suppress(OSError):
            path.unlink()
    if ok and not expired and data.get("name") == key:
        try:
            path.unlink()  # used up before anything changes: a second use finds no file
        except FileNotFoundError:
            ok = False
        p = _apply(store, key, new_password) if ok else None
        if p is not None:
            login_guard.succeeded(client)
            return p
    with store.transaction() as cur:
        login_guard.record_failure(cur, key, "recovery_code")
    sleep(accounts.fail_delay(login_guard.failed(client)))
    raise AuthError(*_REFUSED)


def _apply(store, name: str, new_password: str) -> Principal | None:
    now = dt.datetime.now()
    with store.transaction() as cur:
        got = cur.execute("UPDATE accounts SET pw_hash = ?, failed = 0, locked_until = NULL, last_login = ?, "
                          "updated_at = ? WHERE name = ? AND NOT coalesce(disabled, false) "
                          "AND coalesce(source, 'password') = 'password' RETURNING role, office",
                          [accounts.hash_password(new_password), now, now, name]).fetchone()
        if got is None:
            return None
        audit.record(cur, name, "account_recovered", "account", name, after={"role": got[0]},
                     details={"via": "recovery_code", "password": "new"})
        audit.record(cur, name, "login", "account", name, details={"role": got[0], "via": "recovery_code"})
        web_sessions.revoke_account_in(cur, name, "password", actor=name)  # saved sign-ins end with the old password
    return Principal(name, got[0], got[1], "password")

"""Accounts of a shared server: who may sign in, with which role, and the password check.

- Passwords are hashed with the standard library's ``hashlib.scrypt`` (memory-hard), a random
  16-byte salt per password, parameters stored with the hash:
  ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``. Neither the password nor an unsalted hash is ever
  stored; a comparison is constant-time.
- Roles: ``viewer`` (browse, compute, export), ``editor`` (their own parks, scenarios, checklists,
  workspace datasets), ``admin`` (official layers and statistics, data in use, import folder,
  accounts, anyone's items). The store checks them on every change (``Store.authorize``).
- Failed sign-ins slow down (a growing delay) and ``GANSU_LOCK_AFTER`` (5) failures in a row lock
  the account for ``GANSU_LOCK_MINUTES`` (15); an admin can unlock it earlier (the Data page, or
  ``python -m cli admin accounts unlock``), and a one-time recovery code from the shell works
  while the dashboard runs (``storage.recovery``). The failure count is raised in one statement of
  one transaction (``failed = failed + 1 … RETURNING``), so parallel guesses cannot overwrite each
  other's count, and the lock is decided from the value returned.
- A sign-in is refused before any hash when a client or the server tries too often
  (``storage.login_guard``). An unknown name, a wrong password, a locked and a disabled account do
  the same scrypt work (a dummy hash with the same parameters) and get the same message, so
  neither the answer nor its time tells which names exist.
- Single sign-on identities are accounts too (``source = 'oidc'``, no password, named
  ``sso:<email>``; ``storage.sso``): an admin disables them like any account.
- No account in the store = single-user mode (a laptop): everyone acts with full rights, as before
  (``ui.serve`` refuses to offer that on a network address unless ``GANSU_SINGLE_USER=1``).

Every change here is one store transaction with its audit row (``storage.audit``); a name typed at
the sign-in form is logged cleaned (``login_name``: no control characters, at most 64 characters).
A password change, a role or office change and disabling an account end every saved sign-in of
the account (``storage.web_sessions``: the cookie that keeps a sign-in over a browser reload), in the
same transaction as the change.

May import: ``core``, ``storage.audit``, ``storage.login_guard`` and ``storage.web_sessions``
(``storage.store`` imports this module).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
import time
from collections import Counter

from core.errors import InputError, PermissionDenied
from storage import audit, login_guard, web_sessions

ROLES = ("viewer", "editor", "admin")
RANK = {"anonymous": 0, **{r: i for i, r in enumerate(ROLES, 1)}}  # viewer 1 < editor 2 < admin 3
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 15, 8, 1
MIN_PASSWORD = 8
MAX_NAME = 64
SSO_PREFIX = "sso:"  # names of single sign-on identities (reserved for them)

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS accounts (
        name VARCHAR PRIMARY KEY, role VARCHAR, office VARCHAR, pw_hash VARCHAR, disabled BOOLEAN,
        failed INTEGER, locked_until TIMESTAMP, created_at TIMESTAMP, created_by VARCHAR,
        updated_at TIMESTAMP, last_login TIMESTAMP)""",
    # password (NULL in stores made before single sign-on had rows) or oidc
    "ALTER TABLE accounts ADD COLUMN IF NOT EXISTS source VARCHAR",
    *login_guard.SCHEMA,
]
# the scrypt work done, by (n, r, p): a sign-in's cost is its hashes, and this shows it (tests compare
# an unknown name with a real one without timing anything); a handful of keys, never growing; counts
# from parallel threads may miss an increment (an observation, not a limit)
SCRYPT_WORK: Counter = Counter()
_FAILED_MSG = ("账户名或密码错误，或该账户因连续多次失败已被锁定（请稍后再试，或请管理员解锁）。",
               "wrong account name or password, or the account is locked after repeated failures "
               "(try again later, or ask an admin to unlock it).")


def lock_after() -> int:
    return max(1, int(os.environ.get("GANSU_LOCK_AFTER", "5")))


def lock_minutes() -> float:
    return float(os.environ.get("GANSU_LOCK_MINUTES", "15"))


def fail_delay(failed: int) -> float:
    """Seconds a failed sign-in waits before answering: grows with the failures in a row."""
    step = float(os.environ.get("GANSU_LOGIN_DELAY_S", "0.25"))
    return min(2.0, step * max(0, failed))


class Principal(str):
    """Who acts: a string (the name, as written to the audit log) that carries a role and an office.
    ``source``: ``password`` (an account of the store), ``oidc`` (single sign-on, role from a claim),
    ``shell`` (the admin command line on the server itself), ``local`` (single-user mode)."""

    role: str
    office: str | None
    source: str

    def __new__(cls, name: str, role: str = "viewer", office: str | None = None, source: str = "password"):
        obj = super().__new__(cls, name)
        obj.role = role if role in RANK else "viewer"
        obj.office = office or None
        obj.source = source
        return obj

    def at_least(self, role: str) -> bool:
        return RANK.get(self.role, 0) >= RANK[role]


SHELL = Principal("shell", "admin", None, "shell")  # the server's own command line (file access anyway)


class AuthError(PermissionDenied):
    """A sign-in refused (wrong name or password, locked, disabled)."""


# --- password hashing ------------------------------------------------------------------------
def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    SCRYPT_WORK[(n, r, p)] += 1
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 << 20, dklen=dklen)


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, n, r, p, 32)
    salt_b64, digest_b64 = (base64.b64encode(b).decode("ascii") for b in (salt, digest))
    return f"scrypt${n}${r}${p}${salt_b64}${digest_b64}"


def verify_password(password: str, stored: str | None) -> bool:
    try:
        algo, n, r, p, salt, digest = (stored or "").split("$")
        if algo != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


_DUMMY = "scrypt${}${}${}${}${}".format(SCRYPT_N, SCRYPT_R, SCRYPT_P, *(base64.b64encode(secrets.token_bytes(k)).decode()
                                                                      for k in (16, 32)))


def dummy_hash() -> str:
    """A stored-hash look-alike with today's parameters and random salt and digest (it matches no
    password): checked against when there is no real hash (unknown name, single sign-on row), so
    that answer costs the same scrypt work as a real one."""
    return _DUMMY


def login_name(name) -> str:
    """A name as typed at the sign-in form, fit for the log and the lookup: control and format
    characters (ESC, BEL, bidi overrides, line breaks) dropped, spaces collapsed, at most 64
    characters (a longer one ends in "…" and matches no account)."""
    text = "".join(ch if ch.isprintable() else (" " if ch.isspace() else "") for ch in str(name or ""))
    text = " ".join(text.split())
    return text if len(text) <= MAX_NAME else text[:MAX_NAME] + "…"


def check_password_rules(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise InputError(f"密码至少需要 {MIN_PASSWORD} 个字符。", f"a password needs at least {MIN_PASSWORD} characters.")


def _check_name(name: str) -> str:
    name = " ".join(str(name or "").split())
    if not name or len(name) > MAX_NAME or not all(ch.isprintable() for ch in name):
        raise InputError("账户名须为 1–64 个可打印字符。", "an account name is 1–64 printable characters.")
    if name in ("local", "shell", login_guard.OTHERS) or name.lower().startswith(SSO_PREFIX):
        raise InputError(f"“{name}”是保留名称（“{SSO_PREFIX}”开头的名称属于单点登录）。",
                         f"'{name}' is a reserved name (names starting with '{SSO_PREFIX}' belong to single sign-on).")
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"未知角色 {role!r}（viewer、editor 或 admin）。", f"unknown role {role!r} (viewer, editor or admin).")
    return role


# --- reading --------------------------------------------------------------------------------
def any_account(store) -> bool:
    return bool(store.query_df("SELECT count(*) AS n FROM accounts")["n"].iloc[0])


_SOURCE = "coalesce(source, 'password')"


def get(store, name: str) -> dict | None:
    df = store.query_df("SELECT name, role, office, disabled, failed, locked_until, created_at, created_by, "
                        f"updated_at, last_login, {_SOURCE} AS source FROM accounts WHERE name = ?", [str(name)])
    return None if df.empty else df.iloc[0].to_dict()


def list_accounts(store):
    """Every account without its hash (a DataFrame); ``source``: password or oidc (single sign-on)."""
    return store.query_df("SELECT name, role, office, disabled, failed, locked_until, created_at, created_by, "
                          f"last_login, {_SOURCE} AS source FROM accounts ORDER BY name")


def principal_for(store, name: str, source: str = "password") -> Principal | None:
    """The enabled account called ``name`` of this ``source`` as a principal (role and office as
    stored now): a session of a disabled, removed or other kind of account is nobody."""
    acc = get(store, name)
    if acc is None or acc["disabled"] or acc["source"] != source:
        return None
    return Principal(acc["name"], acc["role"], acc["office"], source)


# --- sign-in --------------------------------------------------------------------------------
def authenticate(store, name: str, password: str, *, client: str | None = None, sleep=time.sleep) -> Principal:
    """The principal for a correct name and password; otherwise AuthError, one message for an
    unknown name, a wrong password, a locked and a disabled account, after the same scrypt work.
    ``client`` (the UI's IP address or session key) is rate-limited before anything is hashed."""
    key = login_name(name)
    try:
        login_guard.admit(client, key, sleep=sleep)  # per client and per typed name; the server-wide limit waits
    except login_guard.RateLimited as e:
        raise AuthError(e.zh, e.en) from None
    now = dt.datetime.now()
    df = store.query_df(f"SELECT pw_hash, role, office, disabled, locked_until, {_SOURCE} AS source "
                        "FROM accounts WHERE name = ?", [key])
    row = None if df.empty else tuple(None if (v is None or v != v) else v for v in df.iloc[0].tolist())
    usable = row is not None and row[5] == "password" and bool(row[0])
    pw_hash = row[0] if usable else None
    ok = verify_password(password or "", pw_hash or dummy_hash())  # the same work in every case
    if ok and usable and not row[3]:
        with store.transaction() as cur:  # still unlocked, enabled and with this hash: signed in
            got = cur.execute("UPDATE accounts SET failed = 0, locked_until = NULL, last_login = ? WHERE name = ? "
                              "AND pw_hash = ? AND NOT coalesce(disabled, false) "
                              "AND (locked_until IS NULL OR locked_until <= ?) RETURNING role, office",
                              [now, key, pw_hash, now]).fetchone()
            if got is not None:
                audit.record(cur, key, "login", "account", key, details={"role": got[0]})
        if got is not None:
            login_guard.succeeded(client)
            return Principal(key, got[0], got[1], "password")
    with store.transaction() as cur:
        if not usable:
            login_guard.record_failure(cur, key, "unknown", now=now)
        elif row[3]:
            login_guard.record_failure(cur, key, "disabled", now=now)
        else:
            _count_failure(cur, key, now)
    sleep(fail_delay(login_guard.failed(client)))
    raise AuthError(*_FAILED_MSG)


def _count_failure(cur, name: str, now: dt.datetime) -> None:
    """One wrong password (or a sign-in to a locked account), inside the caller's transaction: the
    count goes up in one statement and the lock is decided from the value it returns."""
    got = cur.execute("UPDATE accounts SET failed = coalesce(failed, 0) + 1 WHERE name = ? "
                      "AND (locked_until IS NULL OR locked_until <= ?) RETURNING failed", [name, now]).fetchone()
    if got is None:  # locked already: counted in the bounded log, the lock stays as it is
        login_guard.record_failure(cur, name, "locked", now=now)
        return
    failed = int(got[0])
    audit.record(cur, name, "login_failed", "account", name, details={"failed": failed})
    if failed >= lock_after():
        until = now + dt.timedelta(minutes=lock_minutes())
        cur.execute("UPDATE accounts SET failed = 0, locked_until = ? WHERE name = ?", [until, name])
        audit.record(cur, name, "account_locked", "account", name,
                     details={"until": str(until), "minutes": lock_minutes(), "failed": failed})


# --- management (admin only; the first admin from the shell) --------------------------------
def _require_admin(store, actor) -> Principal:
    return store.authorize(actor, "admin")


def add(store, name: str, password: str, role: str, *, office: str | None = None, actor=None) -> None:
    """Create an account. The first account must be an admin (it ends single-user mode)."""
    name, role = _check_name(name), _check_role(role)
    check_password_rules(password)
    first = not any_account(store)
    if first and role != "admin":
        raise InputError("第一个账户必须是管理员（--role admin）。", "the first account must be an admin (--role admin).")
    who = _require_admin(store, actor)
    now = dt.datetime.now()
    with store.transaction() as cur:
        if cur.execute("SELECT 1 FROM accounts WHERE name = ?", [name]).fetchone():
            raise InputError(f"账户“{name}”已存在。", f"the account '{name}' already exists.")
        cur.execute("INSERT INTO accounts (name, role, office, pw_hash, disabled, failed, locked_until, created_at, "
                    "created_by, updated_at, last_login, source) VALUES (?, ?, ?, ?, false, 0, NULL, ?, ?, ?, NULL, "
                    "'password')",
                    [name, role, (office or "").strip() or None, hash_password(password), now, str(who), now])
        audit.record(cur, who, "account_add", "account", name, after={"role": role, "office": office})


def _update(store, actor, name: str, action: str, sets: dict, details: dict | None = None) -> None:
    who = _require_admin(store, actor)
    with store.transaction() as cur:
        old = cur.execute("SELECT role, office, disabled FROM accounts WHERE name = ?", [name]).fetchone()
        if old is None:
            raise InputError(f"没有账户“{name}”。", f"no account '{name}'.")
        demoted = old[0] == "admin" and not old[2] and (sets.get("disabled") or sets.get("role", "admin") != "admin")
        if demoted and cur.execute("SELECT count(*) FROM accounts WHERE role = 'admin' AND NOT disabled").fetchone()[0] <= 1:
            raise InputError("不能停用或降级最后一个管理员账户。", "the last admin account cannot be disabled or demoted.")
        cols = ", ".join(f"{k} = ?" for k in sets)
        cur.execute(f"UPDATE accounts SET {cols}, updated_at = ? WHERE name = ?",
                    [*sets.values(), dt.datetime.now(), name])
        audit.record(cur, who, action, "account", name, before={"role": old[0], "office": old[1], "disabled": old[2]},
                     after={k: v for k, v in sets.items() if k != "pw_hash"}, details=details)
        why = [w for w, changed in (("password", "pw_hash" in sets), ("role", sets.get("role", old[0]) != old[0]),
                                    ("office", sets.get("office", old[1]) != old[1]),
                                    ("disabled", bool(sets.get("disabled")))) if changed]
        if why:  # saved sign-ins (cookies) of the account end with the change
            web_sessions.revoke_account_in(cur, name, ",".join(why), actor=who)


def set_disabled(store, name: str, disabled: bool = True, *, actor=None) -> None:
    _update(store, actor, name, "account_disable" if disabled else "account_enable", {"disabled": bool(disabled)})


def reset_password(store, name: str, password: str, *, actor=None) -> None:
    check_password_rules(password)
    if (get(store, name) or {}).get("source") == "oidc":
        raise InputError(f"“{name}”是单点登录身份，没有密码。", f"'{name}' is a single sign-on identity: it has no password.")
    _update(store, actor, name, "account_reset", {"pw_hash": hash_password(password), "failed": 0, "locked_until": None})


def unlock(store, name: str, *, actor=None) -> None:
    _update(store, actor, name, "account_unlock", {"failed": 0, "locked_until": None})


def set_role(store, name: str, role: str, *, office: str | None = None, actor=None) -> None:
    sets = {"role": _check_role(role)}
    if office is not None:
        sets["office"] = office.strip() or None
    _update(store, actor, name, "account_role", sets)


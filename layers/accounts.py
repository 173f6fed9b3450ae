"""Accounts of a shared server: who may sign in, with which role, and the password check.

- Passwords are hashed with the standard library's ``hashlib.scrypt`` (memory-hard), a random
  16-byte salt per password, parameters stored with the hash:
  ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``. Neither the password nor an unsalted hash is ever
  stored; a comparison is constant-time.
- Roles: ``viewer`` (browse, compute, export), ``editor`` (their own parks, scenarios, checklists,
  workspace datasets), ``admin`` (official layers and statistics, data in use, import folder,
  accounts, anyone's items). The store checks them on every change (``Store.authorize``).
- Failed sign-ins slow down (a growing delay) and ``GANSU_LOCK_AFTER`` (5) failures in a row lock
  the account for ``GANSU_LOCK_MINUTES`` (15); an admin can unlock it earlier.
- No account in the store = single-user mode (a laptop): everyone acts with full rights, as before.

Every change here is one store transaction with its audit row (``layers.audit``).
May import: ``core`` and ``layers.audit`` (``layers.store`` imports this module).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
import time

from core.errors import InputError, PermissionDenied
from layers import audit

ROLES = ("viewer", "editor", "admin")
RANK = {"anonymous": 0, "viewer": 1, "editor": 2, "admin": 3}
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 15, 8, 1
MIN_PASSWORD = 8

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS accounts (
        name VARCHAR PRIMARY KEY, role VARCHAR, office VARCHAR, pw_hash VARCHAR, disabled BOOLEAN,
        failed INTEGER, locked_until TIMESTAMP, created_at TIMESTAMP, created_by VARCHAR,
        updated_at TIMESTAMP, last_login TIMESTAMP)""",
]


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
def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 << 20, dklen=32)
    salt_b64, digest_b64 = (base64.b64encode(b).decode("ascii") for b in (salt, digest))
    return f"scrypt${n}${r}${p}${salt_b64}${digest_b64}"


def verify_password(password: str, stored: str | None) -> bool:
    try:
        algo, n, r, p, salt, digest = (stored or "").split("$")
        if algo != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                             p=int(p), maxmem=256 << 20, dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def check_password_rules(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise InputError(f"密码至少需要 {MIN_PASSWORD} 个字符。", f"a password needs at least {MIN_PASSWORD} characters.")


def _check_name(name: str) -> str:
    name = " ".join(str(name or "").split())
    if not name or len(name) > 64 or not all(ch.isprintable() for ch in name):
        raise InputError("账户名须为 1–64 个可打印字符。", "an account name is 1–64 printable characters.")
    if name in ("local", "shell"):
        raise InputError(f"“{name}”是保留名称。", f"'{name}' is a reserved name.")
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"未知角色 {role!r}（viewer、editor 或 admin）。", f"unknown role {role!r} (viewer, editor or admin).")
    return role


# --- reading --------------------------------------------------------------------------------
def any_account(store) -> bool:
    return bool(store.query_df("SELECT count(*) AS n FROM accounts")["n"].iloc[0])


def get(store, name: str) -> dict | None:
    df = store.query_df("SELECT name, role, office, disabled, failed, locked_until, created_at, created_by, "
                        "updated_at, last_login FROM accounts WHERE name = ?", [str(name)])
    return None if df.empty else df.iloc[0].to_dict()


def list_accounts(store):
    """Every account without its hash (a DataFrame)."""
    return store.query_df("SELECT name, role, office, disabled, failed, locked_until, created_at, created_by, "
                          "last_login FROM accounts ORDER BY name")


def principal_for(store, name: str) -> Principal | None:
    """The enabled account called ``name`` as a principal (role and office from the store)."""
    acc = get(store, name)
    if acc is None or acc["disabled"]:
        return None
    return Principal(acc["name"], acc["role"], acc["office"], "password")


# --- sign-in --------------------------------------------------------------------------------
def authenticate(store, name: str, password: str, *, sleep=time.sleep) -> Principal:
    """The principal for a correct name and password; otherwise AuthError (the same message for an
    unknown name and a wrong password). Failures count up and lock the account; each is logged."""
    name = str(name or "").strip()
    now = dt.datetime.now()
    df = store.query_df("SELECT pw_hash, role, office, disabled, failed, locked_until FROM accounts WHERE name = ?",
                        [name])
    row = None if df.empty else tuple(None if (v is None or v != v) else v for v in df.iloc[0].tolist())
    if row is None:
        verify_password(password or "", hash_password("x", n=2 ** 10))  # similar work for unknown names
        _log(store, name, "login_failed", {"reason": "unknown"})
        sleep(fail_delay(1))
        raise AuthError("账户名或密码错误。", "wrong account name or password.")
    pw_hash, role, office, disabled, failed, locked_until = row
    failed = int(failed or 0)
    if locked_until is not None and locked_until > now:
        _log(store, name, "login_refused", {"reason": "locked"})
        raise AuthError(f"账户已被锁定（连续多次密码错误），请于 {locked_until:%H:%M} 后再试，或请管理员解锁。",
                        f"the account is locked after repeated wrong passwords: try again after "
                        f"{locked_until:%H:%M}, or ask an admin to unlock it.")
    if disabled:
        _log(store, name, "login_refused", {"reason": "disabled"})
        raise AuthError("该账户已停用，请联系管理员。", "this account is disabled; ask an admin.")
    if not verify_password(password or "", pw_hash):
        failed += 1
        lock = failed >= lock_after()
        until = now + dt.timedelta(minutes=lock_minutes()) if lock else None
        with store.transaction() as cur:
            cur.execute("UPDATE accounts SET failed = ?, locked_until = ? WHERE name = ?",
                        [0 if lock else failed, until, name])
            audit.record(cur, name, "login_failed", "account", name, details={"failed": failed})
            if lock:
                audit.record(cur, name, "account_locked", "account", name,
                             details={"until": str(until), "minutes": lock_minutes()})
        sleep(fail_delay(failed))
        if lock:
            raise AuthError(f"密码连续错误 {failed} 次：账户已锁定 {lock_minutes():g} 分钟。",
                            f"{failed} wrong passwords in a row: the account is locked for {lock_minutes():g} minutes.")
        raise AuthError("账户名或密码错误。", "wrong account name or password.")
    with store.transaction() as cur:
        cur.execute("UPDATE accounts SET failed = 0, locked_until = NULL, last_login = ? WHERE name = ?", [now, name])
        audit.record(cur, name, "login", "account", name, details={"role": role})
    return Principal(name, role, office, "password")


def _log(store, actor, action, details) -> None:
    with store.transaction() as cur:
        audit.record(cur, actor, action, "account", actor, details=details)


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
                    "created_by, updated_at, last_login) VALUES (?, ?, ?, ?, false, 0, NULL, ?, ?, ?, NULL)",
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


def set_disabled(store, name: str, disabled: bool = True, *, actor=None) -> None:
    _update(store, actor, name, "account_disable" if disabled else "account_enable", {"disabled": bool(disabled)})


def reset_password(store, name: str, password: str, *, actor=None) -> None:
    check_password_rules(password)
    _update(store, actor, name, "account_reset", {"pw_hash": hash_password(password), "failed": 0, "locked_until": None})


def unlock(store, name: str, *, actor=None) -> None:
    _update(store, actor, name, "account_unlock", {"failed": 0, "locked_until": None})


def set_role(store, name: str, role: str, *, office: str | None = None, actor=None) -> None:
    sets = {"role": _check_role(role)}
    if office is not None:
        sets["office"] = office.strip() or None
    _update(store, actor, name, "account_role", sets)


"""Single sign-on identities (Streamlit's OIDC ``st.login``) as accounts of the store.

- **Namespaced**: an identity is named ``sso:<email>`` (else ``preferred_username``, else ``sub``),
  so it can never be — or own the items of — the password account with the same bare name. Items
  record that full name in ``created_by``; the ownership checks and the mine / my office filter
  compare the same string.
- **A row of its own**: the first sign-in creates an ``accounts`` row with ``source = 'oidc'`` and
  no password; later sign-ins refresh its role and office from the claims (the identity provider
  decides them: ``GANSU_OIDC_ROLE_CLAIM``, default ``gansu_role``: viewer | editor | admin, anything
  else viewer; ``GANSU_OIDC_OFFICE_CLAIM``, default ``gansu_office``). The store re-reads the row on
  every check, so an admin **disables** an identity in the app (Data page, or
  ``geodata.admin accounts disable sso:…``) and its sessions act no more.
- **Idle timeout**: ``fresh`` tells whether a sign-in cookie may start a session — only within
  ``GANSU_SESSION_MINUTES`` of the sign-in (the token's ``iat``/``auth_time``) or of the identity's
  last interaction with this server; the UI drops the cookie otherwise (``ui.auth``).

May import: ``core``, ``layers.audit``, ``layers.accounts``, ``layers.login_guard``.
"""
from __future__ import annotations

import datetime as dt
import os

from layers import accounts, audit, login_guard
from layers.accounts import SSO_PREFIX, Principal


def identity(claims: dict) -> str | None:
    """``sso:<email>`` (else ``preferred_username``, else ``sub``), cleaned like a typed name
    (no control characters, at most 64 characters after the prefix); None without a usable claim."""
    for key in ("email", "preferred_username", "sub"):
        value = accounts.login_name(claims.get(key) or "")
        if value:
            return SSO_PREFIX + value
    return None


def role_office(claims: dict) -> tuple[str, str | None]:
    role = str(claims.get(os.environ.get("GANSU_OIDC_ROLE_CLAIM", "gansu_role"), "viewer"))
    office = claims.get(os.environ.get("GANSU_OIDC_OFFICE_CLAIM", "gansu_office"))
    office = accounts.login_name(office) if office else None
    return (role if role in accounts.ROLES else "viewer"), (office or None)


def sign_in(store, claims: dict) -> Principal | None:
    """The principal of a signed-in identity: its row made (first time) or refreshed, the sign-in
    logged. None when the claims name nobody or an admin disabled the identity."""
    name = identity(claims)
    if name is None:
        return None
    role, office = role_office(claims)
    now = dt.datetime.now()
    with store.transaction() as cur:
        row = cur.execute("SELECT disabled, coalesce(source, 'password') FROM accounts WHERE name = ?", [name]).fetchone()
        if row is not None and (row[0] or row[1] != "oidc"):
            login_guard.record_failure(cur, name, "disabled", now=now)
            return None
        if row is None:
            cur.execute("INSERT INTO accounts (name, role, office, pw_hash, disabled, failed, locked_until, created_at, "
                        "created_by, updated_at, last_login, source) VALUES (?, ?, ?, NULL, false, 0, NULL, ?, ?, ?, ?, "
                        "'oidc')", [name, role, office, now, name, now, now])
            audit.record(cur, name, "account_add", "account", name, after={"role": role, "office": office},
                         details={"source": "oidc"})
        else:
            cur.execute("UPDATE accounts SET role = ?, office = ?, last_login = ?, updated_at = ? WHERE name = ?",
                        [role, office, now, now, name])
        audit.record(cur, name, "login", "account", name, details={"role": role, "source": "oidc"})
    return Principal(name, role, office, "oidc")


def fresh(claims: dict, last_seen: float | None, now: float, minutes: float) -> bool:
    """Whether a sign-in cookie may (re)start a session: signed in at the identity provider (the ID
    token's ``auth_time`` or ``iat``, which OIDC requires), or last active here, within ``minutes``."""
    times = [float(v) for v in (claims.get("auth_time"), claims.get("iat"), last_seen)
             if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return bool(times) and now - max(times) <= minutes * 60

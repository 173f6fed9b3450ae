"""Single sign-on identities (Streamlit's OIDC ``st.login``) as accounts of the store.

- **Namespaced, one namespace per claim kind**: an identity is ``sso:<email>`` (when the provider
  does not mark the email unverified: ``email_verified`` false), else ``sso:user:<preferred_username>``,
  else ``sso:sub:<sub>`` — so it can never be, or own the items of, the password account with the
  same bare name, and one user's username can never be another user's email (an email holds no
  ``:``). A claim is taken whole or not at all: over-long (an email over 254 characters, another
  claim over 255) or holding control characters, the sign-in is refused — never cut or cleaned into
  somebody else's name. A present but unusable email refuses the sign-in too (no silent fallback).
  Items record that full name in ``created_by``; the ownership checks and the mine / my office
  filter compare the same string. (Items an SSO user created before identities were namespaced
  carry the bare email; before usernames and subs had their own namespace, ``sso:<username>`` or
  ``sso:<sub>``: an admin reassigns them if needed.)
- **A row of its own**: the first sign-in creates an ``accounts`` row with ``source = 'oidc'`` and
  no password; later sign-ins refresh its role and office from the claims (the identity provider
  decides them: ``GANSU_OIDC_ROLE_CLAIM``, default ``gansu_role``: viewer | editor | admin, anything
  else viewer; ``GANSU_OIDC_OFFICE_CLAIM``, default ``gansu_office``). The store re-reads the row on
  every check, so an admin **disables** an identity in the app (Data page, or
  ``python -m cli admin accounts disable sso:…``) and its sessions act no more.
- **Idle timeout**: ``fresh`` tells whether a sign-in cookie may start a session — only within
  ``GANSU_SESSION_MINUTES`` of the sign-in (the token's ``iat``/``auth_time``) or of the identity's
  last interaction with this server; the UI drops the cookie otherwise (``ui.auth``).

May import: ``core``, ``storage.audit``, ``storage.accounts``, ``storage.login_guard``.
"""
from __future__ import annotations

import datetime as dt
import os
import re

from storage import accounts, audit, login_guard
from storage.accounts import SSO_PREFIX, Principal

MAX_EMAIL = 254  # RFC 5321's longest address
MAX_CLAIM = 255  # OIDC: a sub is at most 255 ASCII characters
USER_NS, SUB_NS = "user:", "sub:"
_EMAIL = re.compile(r"[^\s@:]+@[^\s@:]+")  # one @, no blank, no ':' (so no email looks like a namespace)


def _whole(value, limit: int) -> str | None:
    """A claim as it is (blanks around it dropped), or None when missing, too long or holding a
    character that is not printable."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text if text and len(text) <= limit and text.isprintable() else None


def identity(claims: dict) -> str | None:
    """``sso:<email>``, else ``sso:user:<preferred_username>``, else ``sso:sub:<sub>``; None when no
    claim is usable or the email claim is present but unusable (too long, control characters, not an
    address). An email marked ``email_verified: false`` is not used."""
    raw = claims.get("email")
    unverified = claims.get("email_verified") in (False, "false", "False", 0)
    if raw not in (None, "") and not unverified:
        email = _whole(raw, MAX_EMAIL)
        return SSO_PREFIX + email if email and _EMAIL.fullmatch(email) else None
    for key, ns in (("preferred_username", USER_NS), ("sub", SUB_NS)):
        if claims.get(key) not in (None, ""):
            value = _whole(claims.get(key), MAX_CLAIM)
            return SSO_PREFIX + ns + value if value else None
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

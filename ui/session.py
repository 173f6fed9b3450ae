"""The signed-in session of this browser: who it is (``current``) and when it expires.

Below ``ui.common`` (whose ``actor()`` asks who is signed in) and ``ui.auth`` (the gate, the
login form's caller, which re-exports these names). The session is written by the login form
(``ui.login.start_session``, under this module's ``SESSION_KEY``).
Imports nothing of ``ui``.
"""
from __future__ import annotations

import os
import time

import streamlit as st

from storage.accounts import Principal

SESSION_KEY = "auth_session"
STALE_COOKIE_KEY = "auth_cookie_stale"  # a session the idle timeout ended: its saved sign-in is revoked next


def session_minutes() -> float:
    try:
        return max(1.0, float(os.environ.get("GANSU_SESSION_MINUTES", "30")))
    except ValueError:
        return 30.0


def expired(last_seen: float | None, now: float, minutes: float) -> bool:
    """A session is over once ``minutes`` passed since its last interaction."""
    return last_seen is None or now - last_seen > minutes * 60


def session_principal(state, now: float | None = None, minutes: float | None = None) -> Principal | None:
    """The signed-in principal of a session state, or None (never signed in, or expired: then the
    session is cleared and ``auth_expired`` set so the login form says why, and a saved sign-in of
    the session is handed to ``ui.session_cookie`` under ``STALE_COOKIE_KEY`` to be revoked)."""
    sess = state.get(SESSION_KEY)
    if not sess:
        return None
    now = time.time() if now is None else now
    if expired(sess.get("seen"), now, session_minutes() if minutes is None else minutes):
        state.pop(SESSION_KEY, None)
        state["auth_expired"] = True
        if sess.get("cookie"):  # the saved sign-in (``ui.session_cookie``) ends with it: a reload gets the form
            state[STALE_COOKIE_KEY] = sess
        if sess.get("source") == "oidc":
            state["auth_sso_logout"] = True  # the single sign-on cookie must go too
        return None
    return Principal(sess["name"], sess["role"], sess.get("office"), sess.get("source", "password"))


def touch(state, now: float | None = None) -> None:
    if state.get(SESSION_KEY):
        state[SESSION_KEY]["seen"] = time.time() if now is None else now


def current() -> Principal | None:
    """The signed-in user of this browser session (None: nobody, or single-user mode)."""
    return session_principal(st.session_state)

"""The sign-in form: name and password, or a one-time recovery code (``storage.recovery``) with a
new password, and the single sign-on button. Shown by ``ui.auth.gate``.

Every attempt carries a client key for the rate limits of ``storage.login_guard``: the visitor's IP
address (``st.context.ip_address``), else (a visit from this machine, e.g. through a local reverse
proxy) a random key of the browser session. A new session is a new key, so the guard also limits
each typed name whatever the session, and its server-wide limit slows attempts down rather than
refusing them (a flood from ever new sessions cannot lock everyone out); recovery codes have budgets
of their own. A password sign-in is kept over a browser reload by a cookie (``ui.session_cookie``).
"""
from __future__ import annotations

import secrets
import time

import streamlit as st

from core.errors import GansuError
from core.i18n import t
from storage import accounts, recovery
from storage.accounts import Principal
from ui import common, session_cookie
from ui.session import SESSION_KEY  # the one key of the signed-in session


def start_session(state, p: Principal, now: float | None = None) -> None:
    state[SESSION_KEY] = {"name": str(p), "role": p.role, "office": p.office, "source": p.source,
                          "seen": time.time() if now is None else now}


def client_key() -> str:
    try:
        ip = st.context.ip_address
    except Exception:  # noqa: BLE001 - no browser context (bare script)
        ip = None
    if isinstance(ip, str) and ip:
        return f"ip:{ip}"
    if not st.session_state.get("_auth_client"):
        st.session_state["_auth_client"] = secrets.token_hex(12)
    return f"session:{st.session_state['_auth_client']}"


def login_form(lang: str, key: str = "main", *, expired_minutes: float | None = None, sso: bool = False) -> None:
    if st.session_state.pop("auth_expired", False) and expired_minutes is not None:
        st.info(t("auth.expired", lang, minutes=f"{expired_minutes:g}"))
    sfx = "" if key == "main" else f"_{key}"
    tab_pw, tab_rc = st.tabs([t("auth.tab.password", lang), t("auth.rc.tab", lang)])
    with tab_pw:
        with st.form(f"auth_form_{key}", clear_on_submit=False):
            st.text_input(t("auth.name", lang), key=f"auth_name_{key}", max_chars=64)
            st.text_input(t("auth.password", lang), type="password", key=f"auth_password_{key}", max_chars=256)
            st.form_submit_button(t("auth.login", lang), type="primary", on_click=_login, args=(key, lang))
        err = st.session_state.pop("auth_error", None)
        if err:
            st.error(err)
    with tab_rc:
        st.caption(t("auth.rc.help", lang))
        with st.form(f"auth_rc_form{sfx}", clear_on_submit=False):
            st.text_input(t("auth.name", lang), key=f"auth_rc_name{sfx}", max_chars=64)
            st.text_input(t("auth.rc.code", lang), key=f"auth_rc_code{sfx}", max_chars=64)
            st.text_input(t("auth.rc.new_password", lang), type="password", key=f"auth_rc_password{sfx}",
                          max_chars=256)
            st.form_submit_button(t("auth.rc.submit", lang), on_click=_recover, args=(sfx, lang))
        err = st.session_state.pop("auth_rc_error", None)
        if err:
            st.error(err)
    if sso:
        st.button(t("auth.sso", lang), key=f"auth_sso_{key}", on_click=st.login)


def _login(key: str, lang: str) -> None:
    name = st.session_state.get(f"auth_name_{key}", "")
    password = st.session_state.get(f"auth_password_{key}", "")
    st.session_state[f"auth_password_{key}"] = ""  # never kept in the session
    try:
        p = accounts.authenticate(common.store(), name, password, client=client_key())
    except GansuError as e:
        st.session_state["auth_error"] = e.message(lang)
        return
    start_session(st.session_state, p)
    _remember(p, lang)


def _remember(p: Principal, lang: str) -> None:
    """The sign-in kept over a browser reload (``ui.session_cookie``); without it the session still works."""
    try:
        session_cookie.remember(st.session_state, common.store(), p)
    except GansuError as e:  # e.g. GANSU_SESSION_SECRET too short: the operator's to fix
        st.session_state[session_cookie.ERROR_KEY] = e.message(lang)


def _recover(sfx: str, lang: str) -> None:
    name = st.session_state.get(f"auth_rc_name{sfx}", "")
    code = st.session_state.get(f"auth_rc_code{sfx}", "")
    password = st.session_state.get(f"auth_rc_password{sfx}", "")
    st.session_state[f"auth_rc_password{sfx}"] = ""  # never kept in the session
    st.session_state[f"auth_rc_code{sfx}"] = ""
    try:
        p = recovery.redeem(common.store(), name, code, password, client=client_key())
    except GansuError as e:
        st.session_state["auth_rc_error"] = e.message(lang)
        return
    start_session(st.session_state, p)
    _remember(p, lang)

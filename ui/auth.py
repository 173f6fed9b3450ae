"""Sign-in, sessions and what a signed-in user may see: the login form, session expiry, single
sign-on, the mine / my office / all filter, the recycle bin and the audit log on the Data page.

Modes (decided by the store, ``Store.single_user()``):
- **no account** in the store: single-user (a laptop), as before accounts: no login, every control
  shown, the Data page warns that anyone who can reach the server can change data. On a network
  address that is refused (``ui.exposure``): every page shows how to create the first admin instead,
  unless ``GANSU_SINGLE_USER=1`` — then every page carries a warning;
- **accounts**: every change needs a signed-in user with the right role (the store refuses on the
  server side anyway); without ``GANSU_ANONYMOUS_VIEW=1`` an anonymous visitor sees only the login
  form. A session ends after ``GANSU_SESSION_MINUTES`` (30) without interaction. A password
  sign-in survives a browser reload through an HttpOnly cookie (``ui.session_cookie``,
  ``storage.web_sessions``) for ``GANSU_SESSION_HOURS`` (12), until signed out, timed out or ended
  by an admin's change to the account.

Single sign-on: when ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit's OIDC
``st.login``), a "sign in with single sign-on" button is shown; the identity is the account
``sso:<email>`` (``storage.sso``: role and office from claims, a row an admin can disable). Its
session ends after the same idle time as a password session, and then its sign-in cookie is
dropped too (``st.logout``); a cookie older than the idle time, with no use since, starts no session.
"""
from __future__ import annotations

import time

import pandas as pd
import streamlit as st

import reports
from core import paths
from core.errors import GansuError
from core.i18n import t
from storage import accounts, audit, login_guard, sso
from storage import workspace as ws
from storage.accounts import Principal
from storage.db import StoreError
from ui import common, exposure, login, session_cookie, tables, tileserver
from ui.mdtext import md
from ui.login import start_session
from ui.session import SESSION_KEY, current, session_minutes, touch

_SSO_SEEN: dict[str, float] = {}  # single sign-on identity -> its last interaction with this server


anonymous_view = exposure.anonymous_view  # GANSU_ANONYMOUS_VIEW (the tile service asks it too)


def single_user() -> bool:
    return common.store().single_user()


def can(need: str, owner: str | None = None) -> bool:
    """Whether this session may do ``need`` (``storage.access.ACCESS_LEVELS``) — for showing controls."""
    return common.store().allowed(common.actor(), need, owner)


# --- single sign-on ------------------------------------------------------------------------------
def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets.toml
        return False


def _sso_claims() -> dict | None:
    try:
        user = st.user
        return user.to_dict() if user.is_logged_in else None
    except Exception:  # noqa: BLE001 - no OIDC configured
        return None


def _sso_session(s, lang: str) -> Principal | None:
    """A session from the single sign-on cookie: only a fresh one (signed in, or active here, within
    the idle time) and only for an identity not disabled; an old cookie is dropped."""
    claims = _sso_claims()
    if claims is None:
        return None
    if not sso.fresh(claims, _SSO_SEEN.get(sso.identity(claims) or ""), time.time(), session_minutes()):
        st.session_state["auth_expired"] = True
        st.logout()
        return None
    p = sso.sign_in(s, claims)
    if p is None:
        unusable = sso.identity(claims) is None
        st.session_state["auth_error"] = t("auth.sso.unusable" if unusable else "auth.sso.disabled", lang)
        return None
    start_session(st.session_state, p)
    return p


def _request_cookies() -> dict:
    try:
        return dict(st.context.cookies)
    except Exception:  # noqa: BLE001 - no browser request (a bare script)
        return {}


def _cookie_session(s, lang: str) -> Principal | None:
    """A new browser session (a reload, a new tab) signed in by its saved sign-in cookie
    (``ui.session_cookie``): role and office as stored now."""
    try:
        got = session_cookie.resumed(st.session_state, s, _request_cookies())
    except GansuError as e:  # an unusable secret: the operator's to fix; the form still signs in
        st.session_state["auth_error"] = e.message(lang)
        return None
    if got is None:
        return None
    start_session(st.session_state, got[0])
    st.session_state[SESSION_KEY]["cookie"] = got[1]
    return got[0]


def seen(p: Principal) -> None:
    if p.source == "oidc":
        if len(_SSO_SEEN) > 10000:
            _SSO_SEEN.pop(min(_SSO_SEEN, key=_SSO_SEEN.get))
        _SSO_SEEN[str(p)] = time.time()


def _request_headers() -> dict:
    try:
        return dict(st.context.headers)
    except Exception:  # noqa: BLE001 - no browser request (a bare script)
        return {}


def _network_check(lang: str, s) -> None:
    """Single-user mode on an address others can reach — or on this machine's address, for a visit
    that came through a reverse proxy (``exposure.remote_visit``) —: a warning on every page when
    meant (``GANSU_SINGLE_USER=1``), otherwise no page at all — only how to create the first admin."""
    address = st.get_option("server.address")
    via = exposure.remote_visit(_request_headers()) if exposure.is_loopback(address) else None
    if exposure.is_loopback(address) and via is None:
        return
    if exposure.single_user_explicit():
        st.warning(exposure.warning(address, via).pick(lang))
        return
    st.error((exposure.refusal(address) if via is None else exposure.proxied_refusal(via)).pick(lang))
    st.stop()


# --- the gate: app.py calls it on every run ---------------------------------------------------------
def gate(lang: str) -> Principal | None:
    """Single-user mode: nothing on this machine; on a network address a warning on every page when
    ``GANSU_SINGLE_USER=1``, otherwise no page (``_network_check``). Accounts: the sidebar shows who
    is signed in (and a sign-out button); an anonymous visitor gets the login form and, unless
    anonymous viewing is on, nothing else."""
    try:  # a store that cannot be opened changes nothing: the pages say why themselves
        s = common.cached_store(str(paths.store_path()))
    except (StoreError, OSError):
        return None
    if s.single_user():
        _network_check(lang, s)
        return None
    p = current()
    session_cookie.use_store(s)
    session_cookie.take_stale(st.session_state, s)  # a session the idle timeout ended: its cookie too
    if p is None:
        p = _cookie_session(s, lang)
    if st.session_state.pop("auth_sso_logout", False):  # an idle single sign-on session: cookie too
        st.logout()
    if p is None and oidc_configured():
        p = _sso_session(s, lang)
    stored = s.principal(p) if p is not None else None  # role, office, disabled: as stored now
    if p is not None and stored is None:  # disabled (or removed) since sign-in
        session_cookie.forget(st.session_state, s, st.session_state.pop(SESSION_KEY, None), "disabled")
        if p.source == "oidc":
            st.session_state["auth_error"] = t("auth.sso.disabled", lang)
        p = None
    elif p is not None and (stored.role, stored.office) != (p.role, p.office):  # changed by an admin since
        st.session_state[SESSION_KEY] = {**st.session_state[SESSION_KEY], "role": stored.role, "office": stored.office}
        p = stored
    if p is not None:
        touch(st.session_state)
        seen(p)
        sb = st.sidebar
        office = f" · {md(p.office)}" if p.office else ""
        sb.caption(t("auth.signed_in", lang, name=md(str(p)), role=t(f"auth.role.{p.role}", lang)) + office)
        sb.button(t("auth.logout", lang), key="auth_logout", on_click=_logout)
        session_cookie.frames(st.session_state, lang)  # hands this sign-in's cookie to the browser
        return p
    ended = st.session_state.pop(session_cookie.ENDED_KEY, False)  # the browser's cookie was refused
    if anonymous_view():
        with st.sidebar.expander(t("auth.login.title", lang), expanded=ended):
            if ended:
                st.info(t("auth.cookie.ended", lang))
            login.login_form(lang, key="sb", expired_minutes=session_minutes(), sso=oidc_configured())
        session_cookie.frames(st.session_state, lang)
        return None
    st.title(t("auth.login.title", lang))
    st.caption(t("auth.login.intro", lang))
    if ended:
        st.info(t("auth.cookie.ended", lang))
    login.login_form(lang, key="main", expired_minutes=session_minutes(), sso=oidc_configured())
    session_cookie.frames(st.session_state, lang)  # clears a refused or signed-out cookie
    st.stop()


def _logout() -> None:
    sess = st.session_state.pop(SESSION_KEY, None)
    if sess:
        tileserver.revoke(sess["name"])  # the map's tile grants of this account go with the session
        audit.log(common.store(), sess["name"], "logout", "account", sess["name"])
        session_cookie.forget(st.session_state, common.store(), sess, "signout")  # and its saved sign-in
        if sess.get("source") == "oidc":
            st.logout()


# --- mine / my office / all ------------------------------------------------------------------------
def owner_filter(df: pd.DataFrame, lang: str, key: str) -> pd.DataFrame:
    """Rows of ``df`` (with created_by, office) filtered by the choice mine / my office / all
    (shown once accounts exist; single-user mode has one user)."""
    p = current()
    if p is None or df is None or not len(df) or "created_by" not in df.columns:
        return df
    choice = st.radio(t("auth.filter", lang), ["all", "mine", "office"], horizontal=True, key=key,
                      format_func=lambda c: t(f"auth.filter.{c}", lang))
    if choice == "mine":
        return df[df["created_by"] == str(p)]
    if choice == "office":
        return df[(df["office"] == p.office) & df["office"].notna()] if p.office else df.iloc[0:0]
    return df


# --- Data page: mode, recycle bin, audit log -------------------------------------------------------
def mode_notice(lang: str) -> None:
    if single_user():
        st.warning(t("auth.mode.single", lang))
    else:
        st.caption(t("auth.mode.accounts", lang, minutes=f"{session_minutes():g}"))


def bin_section(lang: str, item_type: str | None = None, key: str = "bin") -> None:
    """The recycle bin: entries this user may restore (owner or admin); an admin empties it."""
    s = common.store()
    df = s.bin_entries()
    if item_type:
        df = df[df["item_type"] == item_type]
    mine = [r for r in df.itertuples() if s.allowed(common.actor(), "owner", r.owner)]
    st.subheader(t("bin.title", lang))
    st.caption(t("bin.help", lang))
    msg = st.session_state.pop(f"{key}_result", None)
    if msg:
        (st.success if msg[0] == "success" else st.error)(msg[1])
    if not len(df):
        st.info(t("bin.empty", lang))
        return
    show = pd.DataFrame({t("bin.col.type", lang): [t(f"bin.type.{x}", lang) for x in df["item_type"]],
                         t("bin.col.id", lang): df["item_id"], t("bin.col.name", lang): df["name"],
                         t("bin.col.owner", lang): df["owner"], t("bin.col.deleted_by", lang): df["deleted_by"],
                         t("bin.col.deleted_at", lang): df["deleted_at"].astype(str).str[:19]})
    st.dataframe(show, hide_index=True, width="stretch", placeholder=tables.NA)
    if mine:
        labels = {r.bin_id: f"{t(f'bin.type.{r.item_type}', lang)} · {r.item_id} · {r.name}" for r in mine}
        pick = st.selectbox(t("bin.pick", lang), list(labels), format_func=labels.get, key=f"{key}_pick")
        st.button(t("bin.restore", lang), key=f"{key}_restore", on_click=_restore, args=(pick, lang, key))
    if can("admin"):
        st.checkbox(t("bin.empty.confirm", lang), key=f"{key}_empty_confirm")
        st.button(t("bin.empty.button", lang), key=f"{key}_empty", on_click=_empty, args=(lang, key),
                  disabled=not st.session_state.get(f"{key}_empty_confirm"))


def _restore(bin_id: str, lang: str, key: str) -> None:
    try:
        e = ws.restore(common.store(), bin_id, actor=common.actor())
    except GansuError as err:
        st.session_state[f"{key}_result"] = ("error", err.message(lang))
        return
    st.cache_data.clear()
    st.session_state[f"{key}_result"] = ("success", t("bin.restored", lang, name=md(e["name"])))


def _empty(lang: str, key: str) -> None:
    if not st.session_state.get(f"{key}_empty_confirm"):
        return
    try:
        gone = ws.empty_bin(common.store(), actor=common.actor())
    except GansuError as err:
        st.session_state[f"{key}_result"] = ("error", err.message(lang))
        return
    st.session_state[f"{key}_empty_confirm"] = False
    st.session_state[f"{key}_result"] = ("success", t("bin.emptied", lang, n=len(gone)))


def audit_section(lang: str) -> None:
    """The audit log (admins; everyone in single-user mode), newest first, with a CSV export."""
    if not can("admin"):
        return
    s = common.store()
    st.subheader(t("audit.title", lang))
    df = audit.rows(s, limit=int(st.session_state.get("audit_limit", 500)))
    cols = {"at_time": t("audit.col.time", lang), "actor": t("audit.col.actor", lang),
            "action": t("audit.col.action", lang), "item_type": t("audit.col.item_type", lang),
            "item_id": t("audit.col.item_id", lang), "before_sha": t("audit.col.before", lang),
            "after_sha": t("audit.col.after", lang)}
    view = df[list(cols)].copy()
    view["at_time"] = view["at_time"].astype(str).str[:19]
    for c in ("before_sha", "after_sha"):
        view[c] = view[c].fillna("").str[:12]
    st.dataframe(view.rename(columns=cols), hide_index=True, width="stretch", key="audit_table", placeholder=tables.NA)
    st.download_button(t("audit.export", lang), reports.csv_bytes(df), "audit_log.csv",
                       "text/csv", key="audit_export", on_click=_log_audit_export)


def _log_audit_export() -> None:
    audit.log(common.store(), common.actor(), "export", "audit_log", None, details={"format": "csv"})


# --- accounts (admins) ------------------------------------------------------------------------------
def accounts_section(lang: str) -> None:
    """Admins: the accounts (never a hash; single sign-on identities too), add one, unlock,
    disable/enable, and the failed sign-ins of the last day. Single-user mode: the first admin is
    created on the server's shell (docs/deploy.md), not here."""
    if single_user() or not can("admin"):
        return
    s = common.store()
    st.subheader(t("acc.title", lang))
    df = accounts.list_accounts(s)
    cols = {"name": t("auth.name", lang), "role": t("acc.col.role", lang), "office": t("auth.col.office", lang),
            "disabled": t("acc.col.disabled", lang), "locked_until": t("acc.col.locked_until", lang),
            "last_login": t("acc.col.last_login", lang), "source": t("acc.col.source", lang)}
    view = df[list(cols)].copy()
    view["role"] = [t(f"auth.role.{r}", lang) for r in view["role"]]
    kinds = {k: t(f"acc.source.{k}", lang) for k in ("password", "oidc")}
    view["source"] = [kinds.get(x, x) for x in view["source"]]
    st.dataframe(view.rename(columns=cols), hide_index=True, width="stretch", key="acc_table", placeholder=tables.NA)
    msg = st.session_state.pop("acc_result", None)
    if msg:
        (st.success if msg[0] == "success" else st.error)(msg[1])
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    who = c1.selectbox(t("acc.pick", lang), list(df["name"]), key="acc_pick")
    c2.button(t("acc.unlock", lang), key="acc_unlock", on_click=_acc_do, args=("unlock", who, lang))
    c3.button(t("acc.toggle", lang), key="acc_toggle", on_click=_acc_do, args=("toggle", who, lang))
    with st.form("acc_add_form", clear_on_submit=True):
        st.markdown(f"**{t('acc.add', lang)}**")
        a1, a2, a3 = st.columns(3)
        a1.text_input(t("auth.name", lang), key="acc_new_name", max_chars=64)
        a2.selectbox(t("acc.col.role", lang), list(accounts.ROLES), key="acc_new_role",
                     format_func=lambda r: t(f"auth.role.{r}", lang))
        a3.text_input(t("auth.col.office", lang), key="acc_new_office", max_chars=64)
        st.text_input(t("auth.password", lang), type="password", key="acc_new_password", max_chars=256)
        st.form_submit_button(t("acc.add", lang), on_click=_acc_add, args=(lang,))
    _failures(s, lang)


def _failures(s, lang: str) -> None:
    """Failed sign-ins of the last 24 hours, counted per name and hour (``storage.login_guard``)."""
    df = login_guard.recent_failures(s)
    if not len(df):
        return
    st.markdown(f"**{t('acc.failures', lang)}**")
    st.caption(t("acc.failures.help", lang))
    cols = {"hour": t("acc.failures.hour", lang), "name": t("auth.name", lang),
            "reason": t("acc.failures.reason", lang), "n": t("acc.failures.n", lang)}
    view = df[list(cols)].copy()
    view["hour"] = view["hour"].astype(str).str[:16]
    why = {k: t(f"acc.failures.reason.{k}", lang) for k in ("unknown", "disabled", "locked", "recovery_code", "many")}
    view["reason"] = [why.get(r, r) for r in view["reason"]]
    st.dataframe(view.rename(columns=cols), hide_index=True, width="stretch", key="acc_failures", placeholder=tables.NA)


def _acc_do(what: str, name: str, lang: str) -> None:
    name = st.session_state.get("acc_pick") or name  # the account picked when the button was pressed
    s = common.store()
    try:
        if what == "unlock":
            accounts.unlock(s, name, actor=common.actor())
        else:
            acc = accounts.get(s, name) or {}
            accounts.set_disabled(s, name, not bool(acc.get("disabled")), actor=common.actor())
    except GansuError as e:
        st.session_state["acc_result"] = ("error", e.message(lang))
        return
    st.session_state["acc_result"] = ("success", t("acc.done", lang, name=md(name)))


def _acc_add(lang: str) -> None:
    name, pw = st.session_state.get("acc_new_name", ""), st.session_state.get("acc_new_password", "")
    st.session_state["acc_new_password"] = ""
    try:
        accounts.add(common.store(), name, pw, st.session_state.get("acc_new_role", "viewer"),
                     office=st.session_state.get("acc_new_office") or None, actor=common.actor())
    except GansuError as e:
        st.session_state["acc_result"] = ("error", e.message(lang))
        return
    st.session_state["acc_result"] = ("success", t("acc.done", lang, name=md(name)))

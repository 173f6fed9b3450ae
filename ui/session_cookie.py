"""Sign-in that survives a browser reload, on the web side: the ``gansu_session`` cookie
(``storage.web_sessions`` makes and checks its value).

A Streamlit script cannot answer an HTTP request, so it cannot set an HttpOnly cookie. Instead:
1. after a password sign-in (``remember``) the saved sign-in is issued in the store and a one-time
   **ticket** for its cookie value is kept in this process (random, ``TICKET_S`` seconds, one use);
2. the page draws a hidden frame (``frames``) whose script posts the ticket to ``/auth/cookie``;
   that route (``routes``, mounted by ``asgi.py`` beside the tile service) takes the ticket out and
   answers ``Set-Cookie: gansu_session=…; Max-Age=…; Path=/; HttpOnly; SameSite=Strict`` (``Secure``
   when the request came over https or a proxy says ``X-Forwarded-Proto: https``);
3. a new browser session (a reload, a new tab) whose websocket request carried the cookie starts
   signed in when ``web_sessions.check`` accepts it (``resumed``; once per session), with the role
   and office read from the store; a refused cookie starts nothing (the login form, with a note) and
   is cleared;
4. sign-out (``forget``) revokes the row on the server and the page's frame posts to
   ``/auth/signout``, which clears the cookie (``Max-Age=0``) and revokes the row it carried as well.
   The idle timeout (``GANSU_SESSION_MINUTES``) still ends a browser session; its saved sign-in is
   revoked then too (``ui.session`` hands it over under ``STALE_COOKIE_KEY``).

Both routes answer only a same-origin request (``Sec-Fetch-Site``, else ``Origin`` against ``Host``):
another site cannot plant its own sign-in in a visitor's browser. The ticket lives in this process:
with several dashboard processes the reverse proxy keeps a browser on one (sticky sessions, which
Streamlit's websocket needs anyway).
"""
from __future__ import annotations

import secrets
import threading
import time
from urllib.parse import urlsplit

import streamlit as st

from core.i18n import t
from storage import web_sessions
from storage.accounts import Principal, principal_for
from ui.session import SESSION_KEY, STALE_COOKIE_KEY

COOKIE = web_sessions.COOKIE
TICKET_S = 60.0
MAX_TICKETS = 10000
TICKET_KEY = "auth_cookie_ticket"  # session state: the ticket the page still has to hand in
CLEAR_KEY = "auth_cookie_clear"  # session state: the browser's cookie is to be cleared
CHECKED_KEY = "_auth_cookie_checked"  # session state: this session's request cookie was looked at
ENDED_KEY = "auth_cookie_ended"  # session state: the cookie the browser came with was refused
ERROR_KEY = "auth_cookie_error"  # session state: why no cookie could be issued (shown once)

_TICKETS: dict[str, tuple[str, float]] = {}  # ticket -> (cookie value, the ticket's end)
_LOCK = threading.Lock()
_STORE: list = []  # the dashboard's store (``use_store``): the sign-out route revokes in it


def use_store(store) -> None:
    """The store the sign-out route revokes in (the dashboard's own; None: none)."""
    _STORE[:] = [store] if store is not None else []


# --- tickets ---------------------------------------------------------------------------------------
def ticket_for(value: str, now: float | None = None) -> str:
    now = time.time() if now is None else now
    tok = secrets.token_urlsafe(32)
    with _LOCK:
        for k in [k for k, (_, end) in _TICKETS.items() if end <= now]:
            del _TICKETS[k]
        while len(_TICKETS) >= MAX_TICKETS:  # a flood of sign-ins: the oldest tickets go first
            del _TICKETS[next(iter(_TICKETS))]
        _TICKETS[tok] = (value, now + TICKET_S)
    return tok


def redeem(ticket: str, now: float | None = None) -> str | None:
    """The cookie value of a live ticket, which is used up; None for an unknown, used or old one."""
    now = time.time() if now is None else now
    with _LOCK:
        got = _TICKETS.pop(ticket, None)
    return got[0] if got is not None and got[1] > now else None


def pending(ticket: str | None, now: float | None = None) -> bool:
    with _LOCK:
        got = _TICKETS.get(ticket or "")
    return got is not None and got[1] > (time.time() if now is None else now)


# --- the HTTP side ---------------------------------------------------------------------------------
def cookie_header(value: str, max_age: int, secure: bool) -> str:
    return (f"{COOKIE}={value}; Max-Age={max(0, int(max_age))}; Path=/; HttpOnly; SameSite=Strict"
            + ("; Secure" if secure else ""))


def is_secure(scheme: str, headers) -> bool:
    proto = (headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower()
    return scheme == "https" or proto == "https"


def same_origin(headers) -> bool:
    """A request the page itself made: ``Sec-Fetch-Site: same-origin`` (every current browser sends
    it); without that header, an ``Origin`` whose host is the request's ``Host``."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = headers.get("origin")
    return origin is not None and urlsplit(origin).netloc.lower() == (headers.get("host") or "").lower()


def _max_age(value: str) -> int:
    try:
        return int(value.split(".")[1]) - int(time.time())
    except (IndexError, ValueError):
        return 0


def routes() -> list:
    """The Starlette routes ``/auth/cookie`` and ``/auth/signout`` (POST; ``asgi.py``)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response
    from starlette.routing import Route

    def answer(status: int, text: str, cookie: str | None = None) -> Response:
        r = Response(text, status_code=status, media_type="text/plain; charset=utf-8",
                     headers={"Cache-Control": "no-store"})
        if cookie is not None:
            r.headers.append("Set-Cookie", cookie)
        return r

    async def body_text(request, limit: int = 256) -> str:
        got = b""
        async for chunk in request.stream():
            got += chunk
            if len(got) > limit:
                return ""
        return got.decode("ascii", "replace").strip()

    async def cookie(request):
        if not same_origin(request.headers):
            return answer(403, "仅限本站页面 / same-origin requests only")
        value = redeem(await body_text(request))
        if value is None:
            return answer(403, "凭据无效、已用过或已过期 / ticket unknown, used or expired")
        secure = is_secure(request.url.scheme, request.headers)
        return answer(200, "ok", cookie_header(value, _max_age(value), secure))

    async def signout(request):
        if not same_origin(request.headers):
            return answer(403, "仅限本站页面 / same-origin requests only")
        value = request.cookies.get(COOKIE)
        if value and _STORE:
            await run_in_threadpool(web_sessions.revoke, _STORE[0], value, "signout")
        return answer(200, "ok", cookie_header("", 0, is_secure(request.url.scheme, request.headers)))

    return [Route("/auth/cookie", cookie, methods=["POST"]), Route("/auth/signout", signout, methods=["POST"])]


# --- the page side ---------------------------------------------------------------------------------
def remember(state, store, p: Principal) -> None:
    """After a password sign-in (the session already started): issue its saved sign-in and a ticket
    the page hands in for the cookie. Single sign-on keeps its own cookie."""
    if p.source != "password" or not state.get(SESSION_KEY):
        return
    value = web_sessions.issue(store, str(p))
    state[SESSION_KEY]["cookie"] = value
    state[TICKET_KEY] = ticket_for(value)
    state.pop(CLEAR_KEY, None)


def resumed(state, store, cookies) -> tuple[Principal, str] | None:
    """A new browser session's principal from the cookie its request carried (looked at once per
    session), with the cookie value; None without one, or for one ``web_sessions.check`` refuses
    or of an account no longer enabled (then the note and the clearing of the cookie are set up)."""
    if state.get(CHECKED_KEY):
        return None
    state[CHECKED_KEY] = True
    value = cookies.get(COOKIE) if cookies else None
    if not value:
        return None
    name = web_sessions.check(store, value)
    p = principal_for(store, name) if name else None
    if p is None:
        state[ENDED_KEY] = True
        state[CLEAR_KEY] = True
        return None
    return p, value


def forget(state, store, sess: dict | None, why: str) -> None:
    """The end of a browser session's sign-in (sign-out, idle timeout): its saved sign-in is revoked
    and the page clears the cookie."""
    value = (sess or {}).get("cookie")
    if value:
        web_sessions.revoke(store, value, why)
        state[CLEAR_KEY] = True
    state.pop(TICKET_KEY, None)


def take_stale(state, store) -> None:
    """A session the idle timeout ended (``ui.session``): its saved sign-in ends too."""
    sess = state.pop(STALE_COOKIE_KEY, None)
    if sess:
        forget(state, store, sess, "idle")


def _post(path: str, body: str) -> str:
    return (f"<script>fetch({path!r}, {{method: 'POST', body: {body!r}, credentials: 'same-origin', "
            "headers: {'Content-Type': 'text/plain'}});</script>")


def frames(state, lang: str, where=None) -> None:
    """The hidden frame that hands in this session's ticket (kept while the ticket waits) or clears
    the cookie (once), in ``where`` (default: the sidebar)."""
    box = st.sidebar if where is None else where
    err = state.pop(ERROR_KEY, None)
    if err:
        box.warning(err)
    ticket = state.get(TICKET_KEY)
    if ticket and pending(ticket):
        box.iframe(_post("/auth/cookie", ticket), height=1, alt=t("auth.cookie.frame", lang))
    elif ticket:
        state.pop(TICKET_KEY, None)
    if state.pop(CLEAR_KEY, False):
        box.iframe(_post("/auth/signout", ""), height=1, alt=t("auth.cookie.frame", lang))

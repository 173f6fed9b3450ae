"""The web side of the saved sign-in (``ui.session_cookie``): its routes on a real uvicorn server
answer a one-time ticket with ``Set-Cookie: gansu_session=…; HttpOnly; SameSite=Strict`` (``Secure``
over https), refuse a reused, unknown, old or cross-site ticket, and sign-out clears the cookie and
revokes its row; a new browser session starts from a valid cookie with the role as stored now, and
the idle timeout ends the saved sign-in too."""
from __future__ import annotations

import datetime as dt
import time
import urllib.error
import urllib.request

import pytest

from storage import accounts, web_sessions
from storage.accounts import SHELL
from storage.store import Store
from tests.test_tiles import serve
from ui import session, session_cookie

PW = "Passwort-fuer-Tests-1"
SAME = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture()
def s(tmp_path, monkeypatch):
    monkeypatch.setenv("GANSU_SESSION_SECRET", "http-test-secret-" + "q" * 40)
    monkeypatch.delenv("GANSU_SESSION_HOURS", raising=False)
    store = Store(tmp_path / "c.duckdb")
    accounts.add(store, "root", PW, "admin", actor=SHELL)
    accounts.add(store, "ana", PW, "editor", office="一处", actor=SHELL)
    yield store
    store.close()


@pytest.fixture()
def base(s):
    session_cookie.use_store(s)
    with serve(session_cookie.routes()) as url:
        yield url
    session_cookie.use_store(None)


def _post(url: str, body: str = "", headers: dict | None = None) -> tuple[int, list[str], str]:
    """(status, Set-Cookie headers, body) of a POST."""
    req = urllib.request.Request(url, data=body.encode(), method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get_all("Set-Cookie") or [], r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get_all("Set-Cookie") or [], e.read().decode()


def _attrs(header: str) -> tuple[str, dict]:
    first, *rest = [p.strip() for p in header.split(";")]
    return first, {p.split("=")[0].lower(): (p.split("=", 1)[1] if "=" in p else True) for p in rest}


def test_a_ticket_gets_the_httponly_strict_cookie_once(s, base):
    value = web_sessions.issue(s, "ana")
    ticket = session_cookie.ticket_for(value)
    status, cookies, _ = _post(base + "/auth/cookie", ticket, SAME)
    assert status == 200 and len(cookies) == 1
    first, attrs = _attrs(cookies[0])
    assert first == f"gansu_session={value}"
    assert attrs["httponly"] is True and attrs["samesite"] == "Strict" and attrs["path"] == "/"
    assert "secure" not in attrs  # plain http
    assert 11 * 3600 < int(attrs["max-age"]) <= 12 * 3600  # the value's own expiry (12 h)
    status, cookies, _ = _post(base + "/auth/cookie", ticket, SAME)  # used up
    assert status == 403 and cookies == []
    assert _post(base + "/auth/cookie", "no-such-ticket", SAME)[:2] == (403, [])


def test_an_old_a_cross_site_or_an_oversized_ticket_sets_nothing(s, base):
    value = web_sessions.issue(s, "ana")
    old = session_cookie.ticket_for(value, now=time.time() - session_cookie.TICKET_S - 1)
    assert _post(base + "/auth/cookie", old, SAME)[:2] == (403, [])
    ticket = session_cookie.ticket_for(value)
    assert _post(base + "/auth/cookie", ticket, {"Sec-Fetch-Site": "cross-site"})[:2] == (403, [])
    assert _post(base + "/auth/cookie", ticket, {"Origin": "http://evil.example"})[:2] == (403, [])
    assert _post(base + "/auth/cookie", ticket + "x" * 300, SAME)[:2] == (403, [])
    # refused before it was looked at: the page's own request still gets it (an Origin of this host)
    host = base.split("//")[1]
    status, cookies, _ = _post(base + "/auth/cookie", ticket, {"Origin": f"http://{host}"})
    assert status == 200 and cookies[0].startswith(f"gansu_session={value};")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(base + "/auth/cookie", timeout=30)  # GET
    assert e.value.code == 405


def test_behind_https_the_cookie_is_secure(s, base):
    ticket = session_cookie.ticket_for(web_sessions.issue(s, "ana"))
    status, cookies, _ = _post(base + "/auth/cookie", ticket, {**SAME, "X-Forwarded-Proto": "https"})
    assert status == 200 and _attrs(cookies[0])[1]["secure"] is True
    # the same decision without uvicorn's own reading of the proxy's header (another server may not)
    assert session_cookie.is_secure("http", {"x-forwarded-proto": "https"}) is True
    assert session_cookie.is_secure("https", {}) is True
    assert session_cookie.is_secure("http", {"x-forwarded-proto": "http"}) is False
    assert session_cookie.is_secure("http", {}) is False


def test_sign_out_clears_the_cookie_and_revokes_its_row(s, base):
    value, other = web_sessions.issue(s, "ana"), web_sessions.issue(s, "ana")
    refused = _post(base + "/auth/signout", "", {"Sec-Fetch-Site": "cross-site", "Cookie": f"gansu_session={value}"})
    assert refused[:2] == (403, []) and web_sessions.check(s, value) == "ana"
    status, cookies, _ = _post(base + "/auth/signout", "", {**SAME, "Cookie": f"gansu_session={value}"})
    assert status == 200 and len(cookies) == 1
    first, attrs = _attrs(cookies[0])
    assert first == "gansu_session=" and attrs["max-age"] == "0" and attrs["httponly"] is True
    assert web_sessions.check(s, value) is None and web_sessions.check(s, other) == "ana"


# --- the page side (no browser needed): a new session from the cookie, the idle timeout -----------
def test_a_new_session_starts_from_a_valid_cookie_with_the_role_as_stored_now(s):
    value = web_sessions.issue(s, "ana")
    state: dict = {}
    p, got = session_cookie.resumed(state, s, {"gansu_session": value})
    assert (str(p), p.role, p.office, p.source, got) == ("ana", "editor", "一处", "password", value)
    assert session_cookie.resumed(state, s, {"gansu_session": value}) is None  # looked at once per session

    forged = value[:-1] + ("A" if value[-1] != "A" else "B")
    state = {}
    assert session_cookie.resumed(state, s, {"gansu_session": forged}) is None
    assert state[session_cookie.ENDED_KEY] and state[session_cookie.CLEAR_KEY]  # the note, and the cookie goes
    assert session_cookie.resumed({}, s, {}) is None


def test_sign_in_issues_a_ticket_and_sign_out_revokes_and_clears(s):
    state = {session.SESSION_KEY: {"name": "ana", "role": "editor", "office": "一处", "source": "password",
                                   "seen": time.time()}}
    session_cookie.remember(state, s, accounts.principal_for(s, "ana"))
    value = state[session.SESSION_KEY]["cookie"]
    assert web_sessions.check(s, value) == "ana" and session_cookie.pending(state[session_cookie.TICKET_KEY])
    assert session_cookie.redeem(state[session_cookie.TICKET_KEY]) == value
    session_cookie.forget(state, s, state.pop(session.SESSION_KEY), "signout")
    assert web_sessions.check(s, value) is None and state[session_cookie.CLEAR_KEY]


def test_the_idle_timeout_ends_the_saved_sign_in_too(s):
    value = web_sessions.issue(s, "ana")
    now = time.time()
    state = {session.SESSION_KEY: {"name": "ana", "role": "editor", "office": "一处", "source": "password",
                                   "seen": now - 31 * 60, "cookie": value}}
    assert session.session_principal(state, now=now, minutes=30) is None
    session_cookie.take_stale(state, s)
    assert web_sessions.check(s, value) is None and state[session_cookie.CLEAR_KEY]
    why = s.query_df("SELECT revoked_why FROM web_sessions")["revoked_why"].tolist()
    assert why == ["idle"]


def test_an_account_disabled_since_the_cookie_starts_no_session(s):
    value = web_sessions.issue(s, "ana", now=dt.datetime.now())
    accounts.set_disabled(s, "ana", True, actor=SHELL)
    state: dict = {}
    assert session_cookie.resumed(state, s, {"gansu_session": value}) is None and state[session_cookie.ENDED_KEY]

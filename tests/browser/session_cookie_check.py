"""Browser check run by tests/test_browser_session_cookie.py (inside a network namespace when possible):
a sign-in that survives a reload (the ``gansu_session`` cookie, ``ui.session_cookie``).

Accounts made with the command line (root admin, ana and bo editors), an expired cookie value issued
13 hours ago by the real code (which makes the secret's key file beside the store: the server
reuses it). Then, in real Chromium, one browser context per user:
1. ana signs in through the form: the browser gets an HttpOnly, SameSite=Strict cookie that page
   scripts cannot read; a reload keeps her signed in;
2. a forged value, then the expired one, each starts no session (the login form, with a note) and is
   cleared; the genuine value put back signs her in again;
3. sign-out clears the cookie; the old value put back starts no session (revoked on the server);
4. bo and root sign in; root disables bo on the Data page: bo's next action ends at the login form,
   and after a reload too;
5. the server is stopped, ana demoted to viewer with the command line, a new server started on the
   same store: ana's page shows the login form (her cookie was revoked by the role change), root's
   is still signed in (a saved sign-in survives a server restart); ana signs in again and shows the
   viewer role, also after a reload.
Every wait is on the app's or the browser's state, never on a fixed time. Prints a JSON report.
"""
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.browser.harness import browser_page, external, settled, streamlit_server  # noqa: E402

from storage import web_sessions  # noqa: E402
from storage.store import Store  # noqa: E402

ART = REPO / "tests" / "_artifacts" / f"session-cookie-{int(time.time())}"
ART.mkdir(parents=True, exist_ok=True)
PW = "Sicheres-Passwort-2026"
BLOCK = len(sys.argv) > 1 and sys.argv[1] == "--block"
report: dict = {}

env = {"GANSU_STORE": str(ART / "store.duckdb"), "GANSU_WORKSPACE_DIR": str(ART / "ws"),
       "GANSU_LOGIN_DELAY_S": "0.05", "GANSU_SESSION_MINUTES": "30"}
os.environ.pop("GANSU_SESSION_SECRET", None)  # the secret: the key file beside the store
os.environ.pop("GANSU_SESSION_HOURS", None)
os.environ.update(env)


def cli(*args: str) -> None:
    r = subprocess.run([sys.executable, "-m", "cli", "admin", "accounts", *args], cwd=REPO, env=os.environ.copy(),
                       input=PW + "\n", capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]


cli("add", "root", "--role", "admin")
cli("add", "ana", "--role", "editor", "--office", "规划一处")
cli("add", "bo", "--role", "editor")
s = Store(ART / "store.duckdb")
EXPIRED = web_sessions.issue(s, "ana", now=dt.datetime.now() - dt.timedelta(hours=13))
s.close()
report["key_mode"] = oct((ART / "session.key").stat().st_mode & 0o777)
report["key_before"] = (ART / "session.key").read_text()


def new_page(browser, reqs: list):
    """A page in a browser context of its own (its own cookies), its requests recorded."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    ctx.on("request", lambda req: reqs.append(req.url))
    if BLOCK:
        def _route(route):
            u = route.request.url
            host = u.split("/")[2].split(":")[0] if "://" in u else ""
            return route.continue_() if u.startswith(("data:", "blob:", "about:")) or host in ("127.0.0.1", "localhost") \
                else route.abort()
        ctx.route("**/*", _route)
    page = ctx.new_page()
    page.set_default_timeout(600_000)  # bounds a failure only
    return page


def cookie(page) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == web_sessions.COOKIE), None)


def wait_cookie(page, unlike: str | None = None, present: bool = True, bound_s: float = 600) -> dict | None:
    """Wait until the context holds the cookie (a value other than ``unlike``), or holds none."""
    deadline = time.time() + bound_s
    while time.time() < deadline:
        c = cookie(page)
        if (c is not None and c["value"] != unlike) if present else c is None:
            return c
        page.wait_for_timeout(100)  # the browser's own event loop turns; the condition is the wait
    raise AssertionError(f"cookie {'set' if present else 'cleared'}: not within {bound_s:.0f} s ({cookie(page)})")


def cleared(page) -> bool:
    """Whether the page clears the cookie (its frame posts to /auth/signout); 120 s bound a failure."""
    try:
        return wait_cookie(page, present=False, bound_s=120) is None
    except AssertionError:
        return False


def put_cookie(page, url: str, value: str) -> None:
    page.context.add_cookies([{"name": web_sessions.COOKIE, "value": value, "url": url + "/"}])


def login(page, name: str) -> None:
    page.locator(".st-key-auth_name_main input").fill(name)
    page.locator(".st-key-auth_password_main input").fill(PW)
    page.get_by_role("button", name="登录", exact=True).click()


def signed_in(page, name: str, role: str) -> None:
    page.get_by_text(f"已登录：{name}（{role}）").wait_for()


def state(page) -> dict:
    """After a (re)load has settled: who is signed in, whether the login form and its note show."""
    settled(page)
    side = page.locator("[data-testid='stSidebar']")
    text = side.inner_text() if side.count() else ""
    return {"signed_in": re.findall(r"已登录：(\S+?)（(.+?)）", text),
            "login_form": page.locator(".st-key-auth_name_main input").count() == 1,
            "note": page.get_by_text("此浏览器保存的登录已失效").count() > 0}


def reload(page) -> dict:
    page.reload()
    return state(page)


def visit(page, url: str) -> dict:
    page.goto(url)
    return state(page)


def nav(page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).click()


with browser_page(block_external=BLOCK) as (first, reqs):
    browser = first.context.browser
    ana, bo, root = new_page(browser, reqs), new_page(browser, reqs), new_page(browser, reqs)
    with streamlit_server(env) as url:
        # 1. sign in through the form; the cookie; a reload keeps the sign-in
        report["first_visit"] = visit(ana, url)
        login(ana, "ana")
        signed_in(ana, "ana", "编辑者")
        c = wait_cookie(ana)
        report["cookie"] = {k: c[k] for k in ("httpOnly", "sameSite", "path", "secure")}
        report["cookie_hours"] = (c["expires"] - time.time()) / 3600
        report["script_sees_cookie"] = web_sessions.COOKIE in ana.evaluate("document.cookie")
        valid = c["value"]
        report["reload"] = reload(ana)

        # 2. a forged value, the expired one: no session, the cookie cleared; the genuine one again
        sid, exp, mac = valid.split(".")
        put_cookie(ana, url, f"{sid}.{exp}.{mac[:-1] + ('A' if mac[-1] != 'A' else 'B')}")
        report["forged"] = reload(ana)
        report["forged_cleared"] = report["forged"]["login_form"] and cleared(ana)
        put_cookie(ana, url, EXPIRED)
        report["expired"] = reload(ana)
        report["expired_cleared"] = report["expired"]["login_form"] and cleared(ana)
        put_cookie(ana, url, valid)
        report["genuine_again"] = reload(ana)

        # 3. sign-out clears the cookie; the old value put back starts nothing
        if not report["genuine_again"]["signed_in"]:  # (were the reload not signing in) through the form
            login(ana, "ana")
            signed_in(ana, "ana", "编辑者")
            valid = wait_cookie(ana)["value"]
        ana.get_by_role("button", name="退出登录").click()
        ana.locator(".st-key-auth_name_main input").wait_for()
        report["signout_cleared"] = cleared(ana)
        report["after_signout_reload"] = reload(ana)
        put_cookie(ana, url, valid)
        report["revoked_value"] = reload(ana)
        if report["revoked_value"]["login_form"]:
            cleared(ana)
        else:  # (were the value still good) sign out to go on
            ana.get_by_role("button", name="退出登录").click()
            ana.locator(".st-key-auth_name_main input").wait_for()

        # 4. an admin disables bo while bo is signed in: bo's next action ends at the login form
        for page, name in ((bo, "bo"), (root, "root"), (ana, "ana")):
            visit(page, url)
            login(page, name)
            signed_in(page, name, "管理员" if name == "root" else "编辑者")
            wait_cookie(page, unlike=valid)
        before_demotion = cookie(ana)["value"]
        nav(root, "数据与来源")
        settled(root, ".st-key-acc_pick")
        box = root.locator(".st-key-acc_pick input[role='combobox']").first
        box.click()
        box.press("ArrowDown")
        root.get_by_role("option", name="bo", exact=True).click()
        root.locator(".st-key-acc_toggle button").click()
        root.get_by_text("账户“bo”已更新").wait_for()
        nav(bo, "园区指标")  # the next action: the login form, or (were the refusal missing) the page
        bo.wait_for_function("() => !!document.querySelector('.st-key-auth_name_main input') || "
                             "[...document.querySelectorAll('h1')].some(h => h.innerText.trim() === '园区指标')")
        report["bo_next_action"] = state(bo)
        report["bo_reload"] = reload(bo)

    # 5. demoted with the command line (the DuckDB store has one writer: the server is stopped)
    cli("role", "ana", "--role", "viewer")
    with streamlit_server(env) as url2:
        report["demoted_reload"] = visit(ana, url2)
        report["root_after_restart"] = visit(root, url2)
        if report["demoted_reload"]["login_form"]:
            login(ana, "ana")
            signed_in(ana, "ana", "查看者")
            wait_cookie(ana, unlike=before_demotion)
        report["demoted_signed_in_again"] = reload(ana)
    report["key_after"] = (ART / "session.key").read_text()
    s = Store(ART / "store.duckdb")
    report["audit"] = [[r.actor, r.action, json.loads(r.details).get("why")] for r in s.query_df(
        "SELECT actor, action, CAST(details AS VARCHAR) AS details FROM audit_log "
        "WHERE action LIKE 'session_%' ORDER BY seq").itertuples()]
    s.close()
    report["external"] = external(reqs)
    report["requests"] = len(reqs)

print("REPORT " + json.dumps(report, ensure_ascii=False))

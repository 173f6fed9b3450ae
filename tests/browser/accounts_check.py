"""Browser check run by tests/test_browser_accounts.py (inside a network namespace when possible).

A store with accounts (admin root, editors ed_a and ed_b of two offices, viewer vic) and one park
of each editor, then in one browser session, signing in and out in turn (step 5 in a second
session, a page of its own, begun first: the lock's clock runs while steps 1-4 go on):
1. anonymous: the login form and nothing else (no navigation, no data-changing control);
2. vic (viewer): the Parks page without any add/save/delete control;
3. ed_b (editor): can delete only her own park (ed_a's is not offered);
4. root (admin): reads ed_a's park's indicators, moves it to the bin, restores it on the Data
   page, finds the same indicators again, exports the audit log;
5. ed_a: five wrong passwords lock the account; the right one is refused until the lock expires
   (the message is the same for a wrong password and a locked account: the lock shows in what is refused).
Every wait is on the app's state (its script run over, an element or a text present), never on a
fixed time — except the lock's own clock in step 5: the account unlocks when its lock runs out.
Prints a JSON report.
"""
import csv
import json
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.browser.harness import browser_page, external, settled, streamlit_server  # noqa: E402

import geopandas as gpd  # noqa: E402
import shapely  # noqa: E402

from storage import accounts  # noqa: E402
from storage.accounts import SHELL, Principal  # noqa: E402
from storage.store import Store  # noqa: E402

ART = REPO / "tests" / "_artifacts" / f"accounts-{int(time.time())}"
ART.mkdir(parents=True, exist_ok=True)
PW = "Sicheres-Passwort-2026"
LOCK_S = 12
report: dict = {}

store_path = ART / "store.duckdb"
s = Store(store_path)
accounts.add(s, "root", PW, "admin", office="信息中心", actor=SHELL)
accounts.add(s, "ed_a", PW, "editor", office="规划一处", actor=SHELL)
accounts.add(s, "ed_b", PW, "editor", office="规划二处", actor=SHELL)
accounts.add(s, "vic", PW, "viewer", actor=SHELL)
PARK_A = s.add_parks(gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(104.20, 36.50, 104.23, 36.52)], crs=4326),
                     names=["甲处园区"], source="drawn", actor=Principal("ed_a", "editor", "规划一处"))[0]
PARK_B = s.add_parks(gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(103.80, 36.10, 103.83, 36.12)], crs=4326),
                     names=["乙处园区"], source="drawn", actor=Principal("ed_b", "editor", "规划二处"))[0]
s.close()
report["park_a"], report["park_b"] = PARK_A, PARK_B

env = {"GANSU_STORE": str(store_path), "GANSU_WORKSPACE_DIR": str(ART / "ws"), "GANSU_LOCK_MINUTES": str(LOCK_S / 60),
       "GANSU_LOGIN_DELAY_S": "0.05", "GANSU_SESSION_MINUTES": "30"}


def pick_option(page, key: str, text: str) -> None:
    box = page.locator(f".st-key-{key} input[role='combobox']").first
    box.click()
    box.press("ArrowDown")
    page.get_by_role("option", name=re.compile(re.escape(text))).first.click()


def options(page, key: str) -> list[str]:
    box = page.locator(f".st-key-{key} input[role='combobox']").first
    box.click()
    box.press("ArrowDown")
    page.get_by_role("option").first.wait_for()
    out = [o.inner_text() for o in page.get_by_role("option").all()]
    page.keyboard.press("Escape")
    return out


def login(page, name: str, pw: str) -> None:
    page.locator(".st-key-auth_name_main input").fill(name)
    page.locator(".st-key-auth_password_main input").fill(pw)
    page.get_by_role("button", name="登录", exact=True).click()


def nav(page, title: str) -> None:
    """In-app navigation (sidebar): a reload would start a new, signed-out session."""
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).click()
    page.wait_for_function("(t) => { const h = document.querySelector('h1'); return h && h.innerText.includes(t); }",
                           arg=title)


def answered(page) -> None:
    """The sign-in form was processed: the server empties the password field after each attempt."""
    page.wait_for_function("() => { const e = document.querySelector('.st-key-auth_password_main input');"
                           " return e !== null && e.value === ''; }")


def logout(page) -> None:
    page.get_by_role("button", name="退出登录").click()
    page.locator(".st-key-auth_name_main input").wait_for()


def visible_buttons(page) -> list[str]:
    return [b.inner_text().strip() for b in page.get_by_role("button").all() if b.is_visible()]


def metrics(page) -> list[str]:
    page.locator("[data-testid='stMetricValue']").first.wait_for()
    return [m.inner_text() for m in page.locator("[data-testid='stMetricValue']").all()]


def show_park(page, name: str) -> list[str]:
    settled(page, ".st-key-parks_selected")  # every park's row computed (no progress bar left)
    pick_option(page, "parks_selected", name)
    page.get_by_role("heading", name=re.compile(re.escape(name))).wait_for()
    settled(page)
    return metrics(page)


with streamlit_server(env) as url:
    with browser_page(block_external=len(sys.argv) > 1 and sys.argv[1] == "--block") as (page, reqs):
        page.set_default_timeout(600_000)  # bounds a failure only
        # 5 (begun first). lockout, in a session of its own
        lock = page.context.new_page()
        lock.set_default_timeout(600_000)
        lock.goto(url + "/parks")
        lock.locator(".st-key-auth_name_main input").wait_for()
        settled(lock)
        for i in range(5):
            login(lock, "ed_a", "wrong-password")
            answered(lock)
        lock.get_by_text("已被锁定").wait_for()
        report["locked_message"] = lock.get_by_text("已被锁定").first.inner_text()
        t0 = time.time()
        login(lock, "ed_a", PW)
        answered(lock)
        lock.get_by_text("已被锁定").wait_for()
        report["right_password_refused_while_locked"] = lock.get_by_text("已登录：ed_a").count() == 0
        page.bring_to_front()  # a page in the background gets no animation frames: clicks wait on them

        # 1. anonymous
        page.goto(url + "/parks")
        page.locator(".st-key-auth_name_main input").wait_for()
        settled(page)
        report["anon_login_form"] = page.locator(".st-key-auth_password_main input[type='password']").count() == 1
        report["anon_buttons"] = visible_buttons(page)
        report["anon_nav_links"] = page.locator("[data-testid='stSidebarNav'] a").count()
        report["anon_manage"] = page.get_by_text("管理我的园区").count() + page.get_by_text("添加候选园区").count()

        # 2. viewer
        login(page, "vic", PW)
        page.get_by_text("已登录：vic").wait_for()
        nav(page, "园区指标")
        settled(page, ".st-key-parks_selected")
        report["viewer_controls"] = sum(page.locator(f".st-key-{k}").count() for k in (
            "parks_upload_save", "parks_draw_save", "parks_manage_apply", "parks_delete_btn", "parks_attr_save",
            "parks_editor"))
        report["viewer_texts"] = page.get_by_text("添加候选园区").count() + page.get_by_text("管理我的园区").count()
        logout(page)

        # 3. editor B: only her own park can be deleted
        login(page, "ed_b", PW)
        page.get_by_text("已登录：ed_b").wait_for()
        nav(page, "园区指标")
        settled(page, ".st-key-parks_delete_pick")
        report["ed_b_delete_options"] = options(page, "parks_delete_pick")
        logout(page)

        # 4. admin: delete A's park, restore it, same indicators; audit log export
        login(page, "root", PW)
        page.get_by_text("已登录：root").wait_for()
        nav(page, "园区指标")
        report["before"] = show_park(page, "甲处园区")
        report["admin_delete_options"] = options(page, "parks_delete_pick")
        pick_option(page, "parks_delete_pick", "甲处园区")
        page.locator(".st-key-parks_delete_btn button").click()
        page.get_by_text("已移入回收站").first.wait_for()
        nav(page, "数据与来源")
        settled(page, ".st-key-bin_pick")
        report["bin_options"] = options(page, "bin_pick")
        pick_option(page, "bin_pick", "甲处园区")
        page.locator(".st-key-bin_restore button").click()
        page.get_by_text("已还原“甲处园区”").wait_for()
        settled(page, ".st-key-audit_export button")
        with page.expect_download(timeout=120_000) as dl:
            page.locator(".st-key-audit_export button").click()
        audit_csv = ART / "audit.csv"
        dl.value.save_as(audit_csv)
        with open(audit_csv, encoding="utf-8-sig") as f:
            report["audit"] = [{k: r[k] for k in ("at_time", "actor", "action", "item_type", "item_id")}
                               for r in csv.DictReader(f)]
        nav(page, "园区指标")
        report["after"] = show_park(page, "甲处园区")
        logout(page)

        # 5 (end). the lock is a clock: it runs out LOCK_S after it was set (before t0); wait for its
        # end (steps 1-4 have mostly taken longer)
        time.sleep(max(0.0, LOCK_S + 1 - (time.time() - t0)))
        lock.bring_to_front()
        login(lock, "ed_a", PW)
        lock.get_by_text("已登录：ed_a").wait_for()
        report["login_after_lock"] = True
        report["external"] = external(reqs)
        report["requests"] = len(reqs)

# after the server: what the store holds
s = Store(store_path)
report["parks_after"] = sorted(s.parks()["park_id"])
report["bin_after"] = len(s.bin_entries())
s.close()
print("REPORT " + json.dumps(report, ensure_ascii=False))

"""docs/deploy.md "Accounts": a session keeps a ``Principal`` (name, role, office) from its sign-in, but the
store re-reads role, office and "disabled" on every call (``Store.principal``): a signed-in user
an admin demotes or disables loses the rights at the next action — in the store and on the pages.
And a failed sign-in waits ``GANSU_LOGIN_DELAY_S`` × the client's failures in a row (at most 2 s,
``accounts.fail_delay``): the sleep is injected, the delays asked for are checked, nothing sleeps.
The store's tests run on DuckDB and on PostgreSQL (``store_at``)."""
from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from core.errors import PermissionDenied
from core.i18n import t
from storage import accounts, login_guard
from storage.accounts import SHELL, Principal
from storage.store import Store
from tests.account_fixtures import accounts_store, sign_in
from tests.apptest_helpers import run_page
from tests.test_accounts_ui import PW, _direct_save_and_delete, acc_env  # noqa: F401 - a fixture
from ui.mdtext import unescape

ROOT = Principal("root", "admin", None, "password")


def _gdf(x=104.2):
    return gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(x, 36.5, x + 0.03, 36.52)], crs=4326)


@pytest.fixture()
def s(monkeypatch, store_at):
    monkeypatch.setenv("GANSU_LOGIN_DELAY_S", "0")
    # the rate limits' buckets as a new server process has them: the same test on the other back end
    # (same clients, same settings) must not find them used up
    monkeypatch.setattr(login_guard, "_state", {})
    store = accounts_store(store_at("acc"), PW, ("boss", "admin"))
    yield store
    store.close()


# --- the store ----------------------------------------------------------------------------------------
def test_a_signed_in_editor_demoted_to_viewer_loses_the_rights_at_the_next_action(s):
    sess = accounts.authenticate(s, "ed1", PW)  # what the browser session keeps
    assert (sess.role, sess.office, sess.source) == ("editor", "一处", "password")
    pid = s.add_parks(_gdf(), names=["甲"], source="drawn", actor=sess)[0]
    accounts.set_role(s, "ed1", "viewer", actor=ROOT)
    assert sess.role == "editor"  # the session still claims it …
    assert s.principal(sess).role == "viewer" and not s.allowed(sess, "editor")  # … the store does not believe it
    with pytest.raises(PermissionDenied) as e:
        s.add_parks(_gdf(104.3), names=["乙"], source="drawn", actor=sess)
    assert "a viewer account cannot change data" in e.value.en and "查看者账户不能更改数据" in e.value.zh
    with pytest.raises(PermissionDenied):  # not even her own park
        s.delete_parks([pid], actor=sess)
    assert list(s.parks()["park_id"]) == [pid]
    accounts.set_role(s, "ed1", "editor", actor=ROOT)  # promoted again: the same session acts again
    s.rename_park(pid, "甲二", actor=sess)
    assert list(s.parks()["name"]) == ["甲二"]


def test_a_signed_in_admin_demoted_to_editor_can_no_longer_manage_accounts(s):
    boss = accounts.authenticate(s, "boss", PW)
    accounts.add(s, "new1", PW, "viewer", actor=boss)  # an admin now
    accounts.set_role(s, "boss", "editor", actor=ROOT)
    with pytest.raises(PermissionDenied) as e:
        accounts.add(s, "new2", PW, "viewer", actor=boss)
    assert "only an admin" in e.value.en
    with pytest.raises(PermissionDenied):
        accounts.set_role(s, "boss", "admin", actor=boss)  # nor promote itself back
    assert accounts.get(s, "new2") is None and accounts.get(s, "boss")["role"] == "editor"


def test_a_signed_in_user_disabled_by_an_admin_is_nobody_at_the_next_action(s):
    sess = accounts.authenticate(s, "ed1", PW)
    accounts.set_disabled(s, "ed1", actor=ROOT)
    assert s.principal(sess) is None
    with pytest.raises(PermissionDenied) as e:
        s.add_parks(_gdf(), names=["丙"], source="drawn", actor=sess)
    assert "sign in first" in e.value.en
    accounts.set_disabled(s, "ed1", False, actor=ROOT)
    assert s.principal(sess).role == "editor"


# --- the pages ----------------------------------------------------------------------------------------
def _gate_then_rights():
    import streamlit as st

    from ui import auth, common

    auth.gate(common.lang())
    st.markdown(f"CAN EDIT: {auth.can('editor')}")


def _store_do(path, fn):
    s = Store(path)
    try:
        fn(s)
    finally:
        s.close()


def _rights(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("CAN EDIT")]


def _signed_in(at) -> str:
    return " ".join(unescape(c.value) for c in at.sidebar.caption)


def test_demoted_then_disabled_while_signed_in_on_the_pages(acc_env):
    at = AppTest.from_function(_gate_then_rights, default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    sign_in(at, "ed_a", PW)
    assert _rights(at) == ["CAN EDIT: True"]
    assert "Signed in: ed_a (editor)" in _signed_in(at)
    signed_in = dict(at.session_state["auth_session"])
    # an admin demotes her while she is signed in: her next interaction has no editing rights
    _store_do(acc_env["path"], lambda s: accounts.set_role(s, "ed_a", "viewer", actor=SHELL))
    at.run()
    assert _rights(at) == ["CAN EDIT: False"]
    assert "Signed in: ed_a (viewer)" in _signed_in(at)  # shown as stored
    # the Parks page with the session as it was when she signed in (role "editor"): no adding or
    # deleting control, and the page's own save and delete paths are refused by the store
    assert signed_in["role"] == "editor"
    page = run_page("parks.py", "en", auth_session={**signed_in})
    keys = {getattr(w, "key", None) for w in page.button} | {getattr(w, "key", None) for w in page.selectbox}
    assert not keys & {"parks_upload_save", "parks_draw_save", "parks_delete_btn", "parks_delete_pick"}, keys
    assert not {h.value for h in page.subheader} & {t("parks.add", "en"), t("parks.manage", "en")}
    assert t("parks.add", "en") in {h.value for h in run_page("parks.py", "en", auth_session={
        **signed_in, "name": "root", "role": "admin", "office": None}).subheader}  # what an editor's session gets
    direct = AppTest.from_function(_direct_save_and_delete, args=(acc_env["pid"],), default_timeout=120)
    direct.session_state["lang"] = "en"
    direct.session_state["auth_session"] = {**signed_in}
    direct.run()
    assert direct.session_state["save"].startswith("refused: a viewer account cannot change data")
    assert direct.session_state["delete"][0] == "error"
    # promoted back: the same session edits again; then disabled: signed out at the next interaction
    _store_do(acc_env["path"], lambda s: accounts.set_role(s, "ed_a", "editor", actor=SHELL))
    at.run()
    assert _rights(at) == ["CAN EDIT: True"]
    _store_do(acc_env["path"], lambda s: accounts.set_disabled(s, "ed_a", actor=SHELL))
    at.run()
    assert _rights(at) == [] and "auth_session" not in at.session_state  # the login form, nothing else
    assert at.text_input(key="auth_name_main") is not None
    page = run_page("parks.py", "en", auth_session={**signed_in})
    assert "parks_delete_pick" not in {getattr(w, "key", None) for w in page.selectbox}


# --- the login delay ------------------------------------------------------------------------------------
def test_failed_sign_ins_wait_the_configured_step_per_failure_in_a_row_capped_at_two_seconds(s, monkeypatch):
    monkeypatch.setenv("GANSU_LOGIN_DELAY_S", "0.3")
    monkeypatch.setenv("GANSU_LOCK_AFTER", "50")  # no lock in between
    for k in ("GANSU_LOGIN_CLIENT_LIMIT", "GANSU_LOGIN_ACCOUNT_LIMIT", "GANSU_LOGIN_GLOBAL_LIMIT"):
        monkeypatch.setenv(k, "off")  # the rate limits never wait here: every sleep is the delay
    waits: list[float] = []
    client = "ip:203.0.113.77"
    for i in range(8):  # a wrong password, an unknown name: the same streak of this client
        with pytest.raises(accounts.AuthError):
            accounts.authenticate(s, "ed1" if i % 2 else "nobody", "wrong", client=client, sleep=waits.append)
    assert waits == pytest.approx([0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.0, 2.0])
    with pytest.raises(accounts.AuthError):  # another client starts at one step
        accounts.authenticate(s, "ed1", "wrong", client="ip:203.0.113.78", sleep=waits.append)
    assert waits[-1] == pytest.approx(0.3)
    del waits[:]
    assert accounts.authenticate(s, "ed1", PW, client=client, sleep=waits.append) == "ed1"
    assert waits == []  # a success does not wait, and ends the streak:
    with pytest.raises(accounts.AuthError):
        accounts.authenticate(s, "ed1", "wrong", client=client, sleep=waits.append)
    assert waits == pytest.approx([0.3])


@pytest.mark.parametrize("setting,failed,expected", [("0.25", 1, 0.25), ("0.25", 4, 1.0), ("0.25", 9, 2.0),
                                                     ("1.5", 2, 2.0), ("0", 5, 0.0)])
def test_fail_delay_follows_the_setting(monkeypatch, setting, failed, expected):
    monkeypatch.setenv("GANSU_LOGIN_DELAY_S", setting)
    assert accounts.fail_delay(failed) == pytest.approx(expected)


def test_fail_delay_default_is_a_quarter_second_per_failure(monkeypatch):
    monkeypatch.delenv("GANSU_LOGIN_DELAY_S", raising=False)
    assert [accounts.fail_delay(n) for n in (0, 1, 2, 8, 9)] == pytest.approx([0.0, 0.25, 0.5, 2.0, 2.0])

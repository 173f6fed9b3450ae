"""The pages with accounts configured (AppTest, real store of its own): a viewer's session gets no
data-changing control, and the page's own save and delete paths called with that session are
refused by the store; an editor's session gets them for her own parks only. On DuckDB and on
PostgreSQL (``store_at``; GANSU_STORE a file or a URL)."""
from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from storage import accounts, audit
from storage.accounts import SHELL, Principal
from storage.store import Store
from tests.account_fixtures import sign_in
from tests.apptest_helpers import run_page

PW = "Passwort-fuer-Tests-1"


@pytest.fixture()
def acc_env(dataset, tmp_path, monkeypatch, store_at):
    # the cookies' secret from the environment: a PostgreSQL store's key file would be the data folder's
    monkeypatch.setenv("GANSU_SESSION_SECRET", "test-secret-" + "k" * 40)
    path = store_at("accounts")
    s = Store(path)
    accounts.add(s, "root", PW, "admin", actor=SHELL)
    accounts.add(s, "ed_a", PW, "editor", office="一处", actor=SHELL)
    accounts.add(s, "vic", PW, "viewer", actor=SHELL)
    pid = s.add_parks(gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(104.2, 36.5, 104.23, 36.52)], crs=4326),
                      names=["甲处园区"], source="drawn", actor=Principal("ed_a", "editor", "一处"))[0]
    s.close()
    monkeypatch.setenv("GANSU_STORE", str(path))
    return {"path": path, "pid": pid}


def _session(name, role, office=None):
    import time

    return {"name": name, "role": role, "office": office, "source": "password", "seen": time.time()}


def _direct_save_and_delete(pid: str):
    """What a crafted request could reach: the Parks page's save call and its delete callback,
    with this browser session's actor."""
    import geopandas as gpd
    import shapely
    import streamlit as st

    from core.errors import PermissionDenied
    from ui import common
    from ui import parks_page

    g = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(104.3, 36.5, 104.33, 36.52)], crs=4326)
    try:
        common.store().add_parks(g, names=["偷偷保存"], source="drawn", actor=common.actor())
        st.session_state["save"] = "saved"
    except PermissionDenied as e:
        st.session_state["save"] = "refused: " + e.en
    parks_page._delete_one(pid, "en")
    st.session_state["delete"] = st.session_state.pop("parks_manage_result", None)


def test_viewer_session_has_no_controls_and_the_save_path_is_refused(acc_env):
    at = run_page("parks.py", "zh", auth_session=_session("vic", "viewer"))
    keys = {getattr(w, "key", None) for w in at.button} | {getattr(w, "key", None) for w in at.selectbox}
    assert not keys & {"parks_upload_save", "parks_draw_save", "parks_manage_apply", "parks_delete_btn",
                       "parks_attr_save", "parks_delete_pick"}, keys
    assert not [s for s in at.subheader if s.value in ("添加候选园区", "管理我的园区")]
    at = AppTest.from_function(_direct_save_and_delete, args=(acc_env["pid"],), default_timeout=120)
    at.session_state["lang"] = "en"
    at.session_state["auth_session"] = _session("vic", "viewer")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["save"].startswith("refused: a viewer account cannot change data")
    assert at.session_state["delete"][0] == "error"
    s = Store(acc_env["path"])
    try:
        assert list(s.parks()["name"]) == ["甲处园区"]
        denied = audit.rows(s, action="denied")
        assert set(denied["actor"]) == {"vic"} and len(denied) == 2
    finally:
        s.close()


def test_anonymous_session_is_refused_too(acc_env):
    at = AppTest.from_function(_direct_save_and_delete, args=(acc_env["pid"],), default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    assert at.session_state["save"].startswith("refused: sign in first")


def test_editor_session_sees_her_park_and_the_data_page_shows_the_mode(acc_env):
    at = run_page("parks.py", "zh", auth_session=_session("ed_a", "editor", "一处"))
    assert at.selectbox(key="parks_delete_pick").options == [f"甲处园区 ({acc_env['pid']})"]
    at = run_page("data.py", "en", auth_session=_session("root", "admin"))
    assert any("Accounts are enabled" in c.value for c in at.caption)


def test_single_user_data_page_says_anyone_can_change_data(dataset, store_at, monkeypatch):
    monkeypatch.setenv("GANSU_STORE", str(store_at("single")))
    at = run_page("data.py", "en")
    assert any("No accounts: anyone who can reach this server can change data" in w.value for w in at.warning)


def test_admin_manages_accounts_on_the_data_page(acc_env):
    at = run_page("data.py", "en", auth_session=_session("root", "admin"))
    assert "Accounts (admins)" in [h.value for h in at.subheader], ([h.value for h in at.subheader],
                                                                      [e.value for e in at.error])
    at.text_input(key="acc_new_name").input("li")
    at.text_input(key="acc_new_password").input(PW)
    at.selectbox(key="acc_new_role").select("editor")
    at.button(key="FormSubmitter:acc_add_form-Add an account").click()
    at.run()
    assert not at.exception and any("Account 'li' updated" in m.value for m in at.success)
    s = Store(acc_env["path"])
    try:
        assert accounts.authenticate(s, "li", PW).role == "editor"
        assert "account_add" in set(audit.rows(s, actor="root")["action"])
    finally:
        s.close()
    at = run_page("data.py", "en", auth_session=_session("ed_a", "editor", "一处"))
    assert "Accounts (admins)" not in [h.value for h in at.subheader]


def _gate_then_marker():
    import streamlit as st

    from ui import auth, common

    auth.gate(common.lang())
    st.markdown("PAGE CONTENT")


@pytest.mark.parametrize("anonymous_view", ["0", "1"])
def test_anonymous_visitor_gets_the_login_form_unless_anonymous_viewing_is_on(acc_env, monkeypatch, anonymous_view):
    monkeypatch.setenv("GANSU_ANONYMOUS_VIEW", anonymous_view)
    at = AppTest.from_function(_gate_then_marker, default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    shown = "PAGE CONTENT" in [m.value for m in at.markdown]
    assert shown is (anonymous_view == "1")
    assert at.text_input(key="auth_name_sb" if anonymous_view == "1" else "auth_name_main") is not None


def test_signing_in_through_the_form_and_an_expired_session(acc_env, monkeypatch):
    at = AppTest.from_function(_gate_then_marker, default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    sign_in(at, "ed_a", PW)
    assert "PAGE CONTENT" in [m.value for m in at.markdown]
    assert at.session_state["auth_session"]["role"] == "editor" and at.session_state["auth_password_main"] == ""
    sess = at.session_state["auth_session"]
    at.session_state["auth_session"] = {**sess, "seen": sess["seen"] - 31 * 60}  # 31 minutes idle
    at.run()
    assert "PAGE CONTENT" not in [m.value for m in at.markdown]
    assert any("session ended after 30 minutes" in i.value for i in at.info)


# --- a fragment's rerun (the Map's map: ui.map_shown) passes no gate: ui.fragment_gate.check ----------
def _check_then_marker():
    import streamlit as st

    from ui import fragment_gate

    st.session_state["runs"] = st.session_state.get("runs", 0) + 1
    if st.session_state.pop("check", False):  # once: as a fragment's rerun that then reruns the app
        fragment_gate.check()
    st.markdown("MAP PART")


def _checked(session: dict | None, anonymous_view: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("GANSU_ANONYMOUS_VIEW", anonymous_view)
    at = AppTest.from_function(_check_then_marker, default_timeout=120)
    if session is not None:
        at.session_state["auth_session"] = session
    at.session_state["check"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_signed_in_users_map_interaction_counts_as_activity(acc_env, monkeypatch):
    sess = _session("ed_a", "editor", "一处")
    sess["seen"] -= 20 * 60  # 20 minutes since the last full run
    before = sess["seen"]
    at = _checked(sess, "0", monkeypatch)
    assert at.session_state["runs"] == 1  # nothing to do: no rerun of the app
    assert at.session_state["auth_session"]["seen"] > before + 19 * 60  # touched now


@pytest.mark.parametrize("change", ["disabled", "demoted", "expired"])
def test_a_disabled_demoted_or_expired_user_makes_the_map_rerun_the_whole_page(acc_env, monkeypatch, change):
    sess = _session("ed_a", "editor", "一处")
    s = Store(acc_env["path"])
    try:
        if change == "disabled":
            accounts.set_disabled(s, "ed_a", actor=SHELL)
        elif change == "demoted":
            accounts.set_role(s, "ed_a", "viewer", office="一处", actor=SHELL)
    finally:
        s.close()
    if change == "expired":
        sess["seen"] -= 31 * 60
    at = _checked(sess, "0", monkeypatch)
    assert at.session_state["runs"] == 2  # st.rerun(scope="app"): app.py's gate runs next


@pytest.mark.parametrize("anonymous_view", ["0", "1"])
def test_an_anonymous_map_interaction_reruns_the_page_unless_anonymous_viewing_is_on(acc_env, monkeypatch,
                                                                                       anonymous_view):
    at = _checked(None, anonymous_view, monkeypatch)
    assert at.session_state["runs"] == (2 if anonymous_view == "0" else 1)


def test_the_maps_fragment_checks_the_sign_in(acc_env, monkeypatch):
    from ui import fragment_gate

    calls = {"n": 0}
    real = fragment_gate.check

    def counted():
        calls["n"] += 1
        return real()

    monkeypatch.setattr(fragment_gate, "check", counted)
    run_page("map.py", "en", no_errors=True, auth_session=_session("ed_a", "editor", "一处"))
    assert calls["n"] == 1

"""Real browser, network off (issue 15): with accounts configured, an anonymous visitor sees only the
login form; a viewer gets no data-changing control; an editor cannot delete another editor's park,
an admin can; the deleted park is in the recycle bin and comes back with its indicators; the audit
log (exported by the admin) lists each action with user and time; five wrong passwords lock the
account for the configured time."""
import pytest

from tests.browser import harness

pytestmark = harness.needs_chromium()


@pytest.fixture(scope="module")
def report(dataset):
    return harness.run_check("accounts_check.py", timeout=1200)


def test_anonymous_visitor_sees_the_login_form_and_no_data_changing_control(report):
    assert report["anon_login_form"]
    # the only buttons: sign in, and the password field's show/hide eye
    assert [b for b in report["anon_buttons"] if b != "visibility"] == ["登录"], report["anon_buttons"]
    assert report["anon_nav_links"] == 0 and report["anon_manage"] == 0


def test_viewer_has_no_save_or_delete_control(report):
    assert report["viewer_controls"] == 0 and report["viewer_texts"] == 0


def test_editor_cannot_delete_another_editors_park_and_admin_can(report):
    assert any("乙处园区" in o for o in report["ed_b_delete_options"])
    assert not any("甲处园区" in o for o in report["ed_b_delete_options"])
    assert any("甲处园区" in o for o in report["admin_delete_options"])


def test_deleted_park_is_in_the_bin_and_restored_with_its_indicators(report):
    assert any("甲处园区" in o for o in report["bin_options"])
    assert report["before"] == report["after"] and len(report["before"]) >= 4
    assert report["park_a"] in report["parks_after"] and report["bin_after"] == 0


def test_audit_log_lists_each_action_with_user_and_time(report):
    rows = report["audit"]
    seen = {(r["actor"], r["action"], r["item_id"]) for r in rows}
    a = report["park_a"]
    assert {("root", "park_delete", a), ("root", "restore", a)} <= seen
    assert {("vic", "login", "vic"), ("ed_b", "login", "ed_b"), ("root", "login", "root")} <= seen
    assert {("ed_a", "park_add", a), ("ed_b", "park_add", report["park_b"])} <= seen
    assert all(r["at_time"] and r["actor"] for r in rows)  # every row: when and who


def test_five_wrong_passwords_lock_the_account_for_the_configured_time(report):
    assert "账户名或密码错误" in report["locked_message"] and "已被锁定" in report["locked_message"]  # one message
    assert report["right_password_refused_while_locked"] and report["login_after_lock"]


def test_nothing_leaves_localhost(report):
    assert report["requests"] > 10 and report["external"] == []

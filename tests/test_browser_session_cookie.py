"""Real browser, network off: a sign-in survives a reload (the HttpOnly, SameSite=Strict
``gansu_session`` cookie, ``ui.session_cookie``), and a forged, expired, signed-out or revoked cookie
starts no session; an account disabled by an admin loses its session at its next action and its
cookie; an account demoted with the command line needs to sign in again and then shows its new
role (tests/browser/session_cookie_check.py)."""
import pytest

from tests.browser import harness

pytestmark = harness.needs_chromium()


@pytest.fixture(scope="module")
def report(dataset):
    return harness.run_check("session_cookie_check.py", timeout=1500)


ANA = [["ana", "编辑者"]]
OUT = {"signed_in": [], "login_form": True}


def _out(state: dict, note: bool | None = None) -> bool:
    return {k: state[k] for k in OUT} == OUT and (note is None or state["note"] is note)


def test_the_cookie_is_httponly_strict_and_a_reload_keeps_the_sign_in(report):
    assert _out(report["first_visit"], note=False)
    assert report["cookie"] == {"httpOnly": True, "sameSite": "Strict", "path": "/", "secure": False}
    assert 11.9 < report["cookie_hours"] <= 12.0  # GANSU_SESSION_HOURS' default
    assert report["script_sees_cookie"] is False  # a page script cannot read it
    assert report["reload"] == {"signed_in": ANA, "login_form": False, "note": False}


def test_a_forged_or_expired_cookie_starts_no_session_and_is_cleared(report):
    assert _out(report["forged"], note=True) and report["forged_cleared"]
    assert _out(report["expired"], note=True) and report["expired_cleared"]
    # the genuine value put back signs in again: the refusals were the values', not the mechanism's
    assert report["genuine_again"]["signed_in"] == ANA


def test_sign_out_clears_the_cookie_and_revokes_it_on_the_server(report):
    assert report["signout_cleared"] and _out(report["after_signout_reload"], note=False)
    assert _out(report["revoked_value"], note=True)


def test_a_disabled_account_loses_its_session_at_the_next_action_and_its_cookie(report):
    assert _out(report["bo_next_action"]) and _out(report["bo_reload"])


def test_a_demoted_account_signs_in_again_and_shows_its_new_role(report):
    assert _out(report["demoted_reload"], note=True)  # the role change revoked the cookie
    assert report["root_after_restart"]["signed_in"] == [["root", "管理员"]]  # others survive a restart
    assert report["demoted_signed_in_again"] == {"signed_in": [["ana", "查看者"]], "login_form": False, "note": False}


def test_the_key_file_is_owner_only_and_every_process_reused_it(report):
    assert report["key_mode"] == "0o600" and report["key_after"] == report["key_before"]


def test_issuing_and_revoking_are_in_the_audit_log(report):
    revoked = [(actor, why) for actor, action, why in report["audit"] if action == "session_revoke"]
    assert ("ana", "signout") in revoked and ("root", "disabled") in revoked and ("shell", "role") in revoked
    issued = [actor for actor, action, _ in report["audit"] if action == "session_issue"]
    # ana: the expired value made before the server started, and her three sign-ins through the form
    assert issued.count("ana") == 4 and issued.count("bo") == 1 and issued.count("root") == 1


def test_nothing_leaves_localhost(report):
    assert report["requests"] > 10 and report["external"] == []

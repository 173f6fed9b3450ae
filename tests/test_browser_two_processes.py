"""Several dashboard processes on one PostgreSQL store (real browser, network off): a park saved
through one process appears in the other, and the command line stores a result table while both
run, shown on the Data page without an inbox (tests/browser/two_processes_check.py)."""
import pytest

from tests.browser import harness

pytestmark = harness.needs_chromium()


@pytest.fixture(scope="module")
def report(dataset):
    return harness.run_check("two_processes_check.py")


def test_a_park_saved_through_one_process_is_listed_by_the_other(report):
    assert report["saved_on_a"] is True
    assert report["park_on_b"] is True, report["parks_on_b"]


def test_the_cli_writes_the_store_while_both_dashboards_run_and_the_data_page_shows_it(report):
    assert report["cli_rc"] == 0, report["cli_err"]
    assert "两进程结果@1" in report["cli_out"] and "queued" not in report["cli_out"]
    assert any("两进程结果" in c for c in report["results_on_b"]), report["results_on_b"]

"""Real browser, network off: the Checklist page offers the map's vegetated share as a labelled
hint for a park covered by >= 100 pixels of 30 m land cover (兰州新区 P01) and says "needs measured
or planned data" in both cases — with no hint for a park the land cover does not cover (P02).
The Parks page heads the map value with its new name."""
import pytest

from tests.browser import harness

pytestmark = harness.needs_chromium()


@pytest.fixture(scope="module")
def report(dataset):
    return harness.run_check("checklist_check.py", timeout=900)


def test_the_30m_land_cover_is_in_use(report):
    assert report["register_rc"] == 0, report["register_err"]


def test_reliable_hint_is_shown_as_a_hint_and_the_check_still_needs_data(report):
    p01 = report["p01"]
    assert "地图参考：植被覆盖占比" in p01 and "30 m 像元" in p01 and "仅为参考" in p01
    assert "园区绿化覆盖率：需要实测或规划数据" in p01


def test_without_land_cover_there_is_no_hint_and_the_check_needs_data(report):
    p02 = report["p02"]
    assert "地图参考：植被覆盖占比" not in p02 and "地图上无该园区的土地覆盖数据" in p02
    assert "园区绿化覆盖率：需要实测或规划数据" in p02


def test_parks_page_names_the_vegetated_share(report):
    assert report["parks_heading"]


def test_nothing_leaves_localhost(report):
    assert report["requests"] > 10 and report["external"] == []

"""Real browser, network off: the Map page renders from localhost only.

Preferred: the whole check (Streamlit server + Chromium) runs inside a new network namespace
with only loopback (`unshare -n`), so any attempt to reach another host fails for real. Where
namespaces are not permitted, Playwright aborts every non-localhost request instead. Either
way every request is recorded and must be to localhost.
"""
import pytest

from tests.browser import harness

pytestmark = harness.needs_chromium()


@pytest.fixture(scope="module")
def report(dataset):
    return harness.run_check("offline_map_check.py")


def test_map_draws_zone_park_and_boundary_layers(report):
    assert report["leaflet_version"] == "1.9.3"
    assert report["paths"] >= 20
    lc = report["layer_control"]
    for title in ("“四屏一廊”分区", "候选园区", "省界", "市州界"):
        assert title in lc, lc
    assert "示意" in lc and "代理" in lc
    assert "河西祁连山内陆河屏障区" in report["legend"]


def test_map_fits_gansu(report):
    lat, lon, zoom = report["map_center"]
    assert 34 < lat < 41 and 97 < lon < 104 and zoom >= 5


def test_zero_requests_beyond_localhost(report):
    assert report["requests"] > 5
    assert report["external"] == []


def test_one_click_switches_to_english(report):
    assert report["title_en"] == "Map"
    assert "Data & sources" in report["nav_en"]


def test_other_pages_render_offline_too(report):
    assert set(report["pages"]) == {"/", "/parks", "/targets", "/siting", "/checklist", "/data"}
    assert all(report["pages"].values())
    assert not any(report["not_found"].values()), report["not_found"]

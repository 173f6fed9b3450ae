"""Real browser, network off (issue 4): draw a park with the offline drawing tool, see it with
its indicators in the Excel export, get the scenario PDF with its Chinese name, and show that a
park named like an XSS payload runs no script."""
import pytest

from tests.browser import harness

pytestmark = harness.needs_chromium()


@pytest.fixture(scope="module")
def report(dataset):
    return harness.run_check("parks_draw_check.py")


def test_drawn_park_is_saved_with_indicators_in_the_excel_export(report):
    row = dict(zip(report["xlsx_header"], report["xlsx_row"]))
    assert row["园区名称"] == "手绘测试园区"
    assert row["园区编号"].startswith("U")
    assert float(row["面积 (km²)"]) > 0 and float(row["碳储量 (t C)"]) > 0
    assert float(row["植被覆盖占比（地图估算） (%)"]) >= 0
    assert row["可作绿化参考"] == "False"  # 5 km MODIS: never a greening hint


def test_drawing_map_loads_only_when_its_tab_opens_and_the_save_is_confirmed_there(report):
    assert report["draw_maps_before_tab"] == 0
    assert report["saved_message_visible"] is True


def test_scenario_pdf_contains_the_chinese_park_names(report):
    assert report["pdf_has_name"] and report["pdf_has_lanzhou_new_area"]


def test_attribute_html_is_shown_as_text_and_no_script_runs(report):
    assert report["tooltip_text_has_payload"]  # the name is visible, as text
    assert report["img_x"] == 0 and report["xss_flag"] is False
    assert not report.get("dialogs")


def test_nothing_leaves_localhost(report):
    assert report["requests"] > 10 and report["external"] == []

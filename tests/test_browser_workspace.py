"""Real browser, network off (issue 10): a 30 m CLCD land cover registered from the import folder on
the Data page becomes the land cover in use; the Parks page's export equals
``python -m cli parks`` on the same file (1e-9 relative) for the three parks it covers, with
reliability no longer low; the Map draws it with its legend; the PDF names the file and its hash."""
import numpy as np
import pandas as pd
import pytest

from tests.browser import harness

pytestmark = harness.needs_chromium()
LANZHOU = ["P01", "P02", "P09"]


@pytest.fixture(scope="module")
def report(dataset):
    return harness.run_check("workspace_check.py", timeout=1800)


def test_registered_in_the_browser_and_named_on_every_page(report):
    assert "clcd_2020" in report["status_line"], report["status_line"]


def test_parks_page_numbers_equal_the_cli_on_the_same_file(report):
    assert report["cli_rc"] == 0, report["cli_stderr"]
    ui = pd.read_csv(report["csv"], dtype={"park_id": str}).set_index("park_id")
    cli = pd.read_csv(report["cli_csv"], dtype={"park_id": str}).set_index("park_id")
    assert (ui.loc[LANZHOU, "reliability"] == "ok").all()
    cols = [c for c in cli.columns if c.startswith(("lc_", "carbon_", "vegetated_share", "landcover_pixel"))
            and cli[c].dtype.kind == "f"]
    assert {"lc_cropland_km2", "carbon_stock_tc", "vegetated_share_pct", "landcover_pixel_m"} <= set(cols)
    for c in cols:
        np.testing.assert_allclose(ui.loc[LANZHOU, c].to_numpy(float), cli.loc[LANZHOU, c].to_numpy(float),
                                   rtol=1e-9, atol=0, err_msg=c)
    assert (cli.loc[LANZHOU, "carbon_stock_tc"] > 0).all()
    assert report["demo_warning"] == 0  # the "5 km demo numbers" warning is gone


def test_map_draws_the_user_land_cover_with_its_legend(report):
    assert report["map_tiles_loaded"] >= 1
    legend = report["map_legend"]
    assert "clcd_2020" in legend and "耕地" in legend and "用户上传" in legend


def test_pdf_names_the_file_and_its_hash(report):
    assert report["pdf_has_file"] and report["pdf_has_sha"]


def test_nothing_leaves_localhost(report):
    assert report["requests"] > 10 and report["external"] == []


def test_run_log_lists_each_export_with_who_when_and_provenance(report):
    log = pd.read_csv(report["runlog"], dtype=str).fillna("")
    exports = log[log["action"] == "run_export"]
    kinds = " ".join(exports["item_type"]).lower()
    assert "pdf" in kinds and "csv" in kinds, log[["action", "item_type"]].to_string()
    assert (exports["actor"] != "").all() and (exports["at_time"] != "").all()
    assert all(report["sha256"] in d for d in exports["details"]), "each export's provenance names the land cover"

"""Real browser, network off: a land-cover series registered with ``gansu workspace add-series``; the
Targets page's land-degradation table per county, read from the browser's grid, equals
``gansu degradation`` on the same files with the county units (1e-9 relative: the full values the
grid's accessible table holds); the per-pixel verdict is drawn on the offline map with its legend."""
import numpy as np
import pandas as pd
import pytest

from indicators.landchange import LABELS
from tests.browser import harness

pytestmark = harness.needs_chromium()
KM2 = ["improved_km2", "stable_km2", "degraded_km2", "nodata_km2", "area_km2", "desertified_km2",
       "rehabilitated_km2", "desertification_net_km2"]
PCT = ["improved_pct", "stable_pct", "degraded_pct", "nodata_pct"]
PERIOD = {"基线期": "baseline", "报告期": "reporting"}


@pytest.fixture(scope="module")
def report(dataset):
    return harness.run_check("landchange_check.py", timeout=1800)


def page_table(grid: dict) -> pd.DataFrame:
    heads = grid["heads"]
    rows = [[grid["cells"].get(f"{r}:{c}", "") for c in range(1, grid["cols"] + 1)] for r in range(2, grid["rows"] + 2)]
    return pd.DataFrame(rows, columns=heads)


def test_registered_with_the_cli(report):
    assert report["register_rc"] == 0, report["register_stderr"]
    assert report["cli_rc"] == 0, report["cli_stderr"]


def test_degradation_table_in_the_browser_equals_the_cli(report):
    ui = page_table(report["grid"])
    cli = pd.read_csv(report["cli_csv"], dtype={"unit_id": str})
    assert len(ui) == len(cli) == 2 * 87
    ui["period"] = ui[LABELS["period"].zh].map(PERIOD)
    merged = ui.merge(cli, left_on=["单元", "period"], right_on=["name_zh", "period"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    for c in KM2 + PCT:  # the grid's accessible table holds the full values (the canvas shows 4 and 2 decimals)
        shown = merged[LABELS[c].zh].str.replace(",", "").astype(float)
        np.testing.assert_allclose(shown.to_numpy(), merged[c].to_numpy(float), rtol=1e-9, atol=1e-9, err_msg=c)
    minqin = merged[merged["单元"] == "民勤县"].set_index("period")
    assert float(minqin.loc["baseline", LABELS["degraded_km2"].zh]) > 100  # the known grassland → barren


def test_verdict_map_with_its_legend(report):
    assert report["verdict_tiles"] >= 1
    assert all(w in report["verdict_legend"] for w in ("改善", "稳定", "退化", "无数据"))


def test_nothing_leaves_localhost(report):
    assert report["requests"] > 10 and report["external"] == []

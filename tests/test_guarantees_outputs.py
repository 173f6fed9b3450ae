"""Promises about what a user reads off an output, each checked against an independent figure:

- the exported map's scale bar (``reports.mapexport._scale_bar``, drawn as ``render_png`` draws
  it) is as long as its label says, along the view's centre latitude, measured with pyproj;
- the Targets page's historical pace is the least-squares slope over the last ``TREND_YEARS``
  years only (older publications do not count);
- the Siting page's Monte Carlo draws class densities (and sink rates, and at-stake densities)
  from their triangular ranges: with the weights held fixed, two parks close in score and of
  different land cover swap ranks in the share of draws the triangular distribution gives."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw
from pyproj import Geod

from indicators import siting_stability
from indicators import targets as tg
from reports import mapexport as mx

GEOD = Geod(ellps="WGS84")


# --- the scale bar ----------------------------------------------------------------------------------------
def _drawn_bar(bounds, box=(24, 70, 1266, 1120), max_px=220):
    """Draw the bar as render_png does (on a white image); returns (km label, left px, right px, view)."""
    view = mx._View(bounds, box)
    img = Image.new("RGB", (box[2] + 400, box[3] + 100), (255, 255, 255))
    d = ImageDraw.Draw(img)
    x, y = box[0] + 22, box[3] - 44
    km = mx._scale_bar(d, view, x, y, max_px, mx._font(14))
    row = np.asarray(img)[y + 3]  # through the middle of the 7-px bar: its black and white halves
    dark = np.flatnonzero(row.sum(axis=1) < 200)
    assert dark.size and dark[0] == x, "the bar starts where it is placed"
    return km, int(dark[0]), int(dark[-1]), view


def _lon_at(view, px):
    """The longitude under pixel column ``px`` (the view is linear in longitude)."""
    a, b = view.px(100.0, 36.0)[0], view.px(101.0, 36.0)[0]
    return 100.0 + (px - a) / (b - a)


@pytest.mark.parametrize("bounds", [mx.GANSU_BOUNDS, (103.0, 35.5, 104.5, 37.0), (103.70, 36.00, 103.90, 36.12),
                                    (92.0, 39.0, 99.0, 42.8)], ids=["gansu", "lanzhou", "city", "hexi"])
def test_the_scale_bar_is_as_long_as_its_label_at_the_centre_latitude(bounds):
    km, left, right, view = _drawn_bar(bounds)
    lat = (bounds[1] + bounds[3]) / 2
    ground_m = GEOD.inv(_lon_at(view, left), lat, _lon_at(view, right + 1), lat)[2]  # right edge of the last px
    px = right + 1 - left
    assert abs(ground_m - km * 1000) <= 1.5 / px * km * 1000 + 0.003 * km * 1000, (km, px, ground_m)
    # the longest round length that fits in 220 px: the next round number would not
    nice = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000]
    assert px <= 221
    bigger = [n for n in nice if n > km]
    if bigger:
        assert px * bigger[0] / km > 220


def test_the_rendered_map_has_the_bar_at_its_place():
    """The whole export: the bar drawn by render_png sits on its plate, as wide as _scale_bar says."""
    import io

    ex = mx.Export(title="scale", layers=[])
    png = mx.render_png(ex, mx.GANSU_BOUNDS, size=(1800, 1200))
    im = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    panel_w = int(1800 * 0.27)
    box = (24, 70, 1800 - panel_w - 48, 1200 - 80)
    km, left, right, _ = _drawn_bar(mx.GANSU_BOUNDS, box)
    row = im[box[3] - 44 + 3]
    dark = np.flatnonzero(row.sum(axis=1) < 200)
    dark = dark[(dark >= box[0] + 22) & (dark < box[0] + 260)]
    assert (int(dark[0]), int(dark[-1])) == (left, right) and km in (50, 100, 200, 250)


# --- the trend window -----------------------------------------------------------------------------------------
def test_the_trend_uses_only_the_last_trend_years():
    assert tg.TREND_YEARS == 10
    # inside the window (2014..2024): 1.0, 3.0, 3.0 at 2014, 2019, 2024 → slope
    # Σ(x − x̄)(y − ȳ) / Σ(x − x̄)² = ((−5)(−4/3) + 5(2/3)) / 50 = 10 / 50 = 0.2 per year;
    # without the 2014 point it would be 0, with 2013 or older ones far from it
    window = [(2014, 1.0), (2019, 3.0), (2024, 3.0)]
    older = [(1990, 80.0), (2005, -40.0), (2013, 60.0)]
    assert tg.trend_per_year(*zip(*(older + window))) == pytest.approx(0.2, rel=1e-12)
    assert tg.trend_per_year(*zip(*window)) == pytest.approx(0.2, rel=1e-12)
    assert tg.trend_per_year(*zip(*(older + window)), window=11) != pytest.approx(0.2, rel=1e-3)
    hist = pd.DataFrame(older + window, columns=["year", "value"])
    p = tg.progress(hist, 5.0, 2030, ">=", "higher", "2024-06-30")
    assert p.historical_per_yr == pytest.approx(0.2, rel=1e-12)
    assert p.projected_value == pytest.approx(3.0 + 0.2 * 6, rel=1e-12)
    assert p.required_per_yr == pytest.approx((5.0 - 3.0) / 6, rel=1e-12)
    assert p.pace_ratio == pytest.approx(0.2 / (2.0 / 6), rel=1e-12) and p.status == "at_risk"  # 0.6 of the pace needed


def test_the_trajectory_trend_line_uses_only_the_last_trend_years():
    """The Targets chart's trend line (``trajectory``) has the windowed slope of the test above:
    from the latest point (2024, 3.0) to the 2030 target year at 0.2 per year, 3.0 + 0.2 × 6 = 4.2;
    all history (1990..2024) would give a slope of about −1.71 per year instead."""
    window = [(2014, 1.0), (2019, 3.0), (2024, 3.0)]
    older = [(1990, 80.0), (2005, -40.0), (2013, 60.0)]
    rows = older + window
    stats = tg.normalise_stats(pd.DataFrame({
        "indicator": ["forest_coverage_pct"] * len(rows), "region": ["甘肃省"] * len(rows),
        "year": [y for y, _ in rows], "value": [v for _, v in rows], "unit": ["%"] * len(rows),
        "source": [f"report {y}" for y, _ in rows]}))  # one publication per year
    targets = pd.DataFrame({"indicator": ["forest_coverage_pct"], "region": ["甘肃省"],
                            "target_year": [2030], "target_value": [5.0]})
    tr = tg.trajectory(targets, stats, "forest_coverage_pct", "甘肃省")
    assert len(tr["history"]) == 6  # every point is drawn, only the trend is windowed
    trend = tr["trend"]
    assert list(trend["year"]) == [2024, 2030]
    assert list(trend["value"]) == pytest.approx([3.0, 4.2], rel=1e-12)
    slope = (trend["value"].iloc[1] - trend["value"].iloc[0]) / (2030 - 2024)
    assert slope == pytest.approx(0.2, rel=1e-12)
    assert slope != pytest.approx(tg.trend_per_year(*zip(*rows), window=100), rel=1e-3)  # not all history


# --- Monte Carlo draws ----------------------------------------------------------------------------------------
# forest density triangular(100, 200, 300) t C/ha, grassland fixed at 100: park F (1 km² of forest,
# 20,000 t C at the central density) and park G (1.9 km² of grassland, 19,000 t C); lower is better,
# one criterion, weights held fixed: F ranks first exactly when its drawn density is below 190,
# P = (190 − 100)² / ((300 − 100)(200 − 100)) = 0.405 for the triangular distribution (0.45 for a
# uniform one, 0 without draws)
RANGES = pd.DataFrame({"low": [100.0, 100.0], "central": [200.0, 100.0], "high": [300.0, 100.0]},
                      index=pd.Index(["forest", "grassland"]))
PARKS = pd.DataFrame({"park_id": ["F", "G"], "name": ["forest park", "grass park"],
                      "lc_forest_km2": [1.0, 0.0], "lc_grassland_km2": [0.0, 1.9]})


@pytest.mark.parametrize("criterion,kw", [("carbon_stock_tc", "densities"), ("carbon_sink_tco2_yr", "rates"),
                                          ("carbon_at_stake_tc", "stake_densities")])
def test_density_draws_move_the_ranks_of_parks_close_in_score(criterion, kw):
    df = PARKS.assign(**{criterion: [20_000.0, 19_000.0]})
    args = dict(weights={criterion: 1.0}, criteria=[criterion], n=20_000, seed=13, weight_spread=0.0,
                directions={criterion: -1})
    mc = siting_stability.rank_stability(df, **args, **{kw: RANGES})
    assert list(mc["park_id"]) == ["G", "F"] and list(mc["rank"]) == [1.0, 2.0]
    assert mc.attrs["changed_pct"] == pytest.approx(40.5, abs=1.0)  # sampling error of 20,000 draws: 0.35
    assert mc["same_rank_pct"].tolist() == pytest.approx([59.5, 59.5], abs=1.0)
    assert list(mc["rank_min"]) == [1, 1] and list(mc["rank_max"]) == [2, 2] and not mc["stable"].any()
    fixed = siting_stability.rank_stability(df, **args)  # the same without the ranges: nothing moves
    assert fixed.attrs["changed_pct"] == 0.0 and fixed["stable"].all()


def test_the_siting_page_rank_stability_draws_densities_and_rates(dataset):
    """The Siting page's rank-stability table comes from a Monte Carlo that drew the class
    densities and sink rates (not the weights alone): the result the page shows and hands to the
    Excel export (``_siting_mc``) says so in its attrs, and its rows are the table shown."""
    from tests.apptest_helpers import run_page, shown_headers

    at = run_page("siting.py", "en")
    mc = at.session_state["_siting_mc"]
    assert mc.attrs["densities"] is True and mc.attrs["rates"] is True
    shown = next(d for d in at.dataframe if "Rank stable" in shown_headers(d)).value
    assert len(shown) == len(mc) > 0
    assert list(shown.iloc[:, 0]) == list(mc["park_id"] + " · " + mc["name"])

"""AppTest of the Siting page's model settings, score decomposition and SMAA figure: the page shows
the numbers ``siting.rank`` and ``siting_smaa.acceptability`` give on the same parks and settings
(the unknown rule, a value function typed on the page, the SMAA seed), a value function that cannot
be read is said in the page's language and linear is used instead, and a saved scenario brings the
unknown rule and the value functions back."""
import base64
import io
import json

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from core import paths
from core.i18n import t
from indicators import siting, siting_smaa
from indicators.siting_value import parse
from reports import column_label
from storage.store import Store
from tests.apptest_helpers import run_page, shown_headers
from ui import parks as parks_ui
from ui.mdtext import unescape

CRITS = ("carbon_at_stake_tc_per_ha", "carbon_sink_tco2_ha_yr", "dist_airport_km", "redline_overlap_pct")
ONLY_AIRPORT = {f"siting_w_{c}": (1.0 if c == "dist_airport_km" else 0.0) for c in CRITS}


@pytest.fixture()
def workbook(monkeypatch):
    """The Siting workbook a click on its download button would give (made at once in the run)."""
    from streamlit.delta_generator import DeltaGenerator

    got = {}
    real = DeltaGenerator.download_button

    def capture(self, label, data, file_name=None, *args, **kwargs):
        if kwargs.get("key") == "siting_dl_xlsx":
            got["xlsx"] = data() if callable(data) else data
        return real(self, label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", capture)
    return got


def _page(lang="en", **state):
    return run_page("siting.py", lang, _siting_init=True, **state)


def _ranking(at) -> pd.DataFrame:
    """The ranking table as shown, by park id (the table is the page's first)."""
    df = at.dataframe[0].value
    df = df.assign(park_id=df.iloc[:, 1].str.split(" · ").str[0])
    return df.set_index("park_id")


def _sub(ids) -> pd.DataFrame:
    df = parks_ui.current()
    return df[df["park_id"].isin(ids)].reset_index(drop=True)


@pytest.fixture()
def outside_park(store):
    """P01, P02, P05 and a park in Qinghai, outside the land cover: its carbon criteria are unknown."""
    g = gpd.GeoDataFrame({"name": ["省外园区"]}, geometry=[shapely.box(99.0, 37.0, 99.03, 37.02)], crs=4326)
    [pid] = store.add_parks(g, names=["省外园区"], source="upload")
    parks_ui.current()  # compute its row once (the page then reads it from the store)
    return ["P01", "P02", "P05", pid]


def test_drop_criterion_ranks_as_siting_rank_does(outside_park):
    ids = outside_park
    pid = ids[-1]
    at = _page(siting_parks=ids)
    shown = _ranking(at)
    sub = _sub(ids)
    weights = {c: 1.0 for c in CRITS}
    aside = siting.rank(sub, weights, list(CRITS))
    assert aside.set_index("park_id").loc[pid, "cannot_rank_on"] == "carbon_at_stake_tc_per_ha; carbon_sink_tco2_ha_yr"
    # set aside (the default): not ranked, and the page says on what, with the criteria's labels
    assert np.isnan(shown.loc[pid].iloc[0])
    note = shown.loc[pid].iloc[-1]
    assert note == "cannot rank on Carbon at stake per hectare, Annual sink per hectare (at stake) (unknown)", note
    assert any(pid in unescape(w.value) and "set aside" in w.value for w in at.warning)
    # the directions table gives each default criterion's direction and its reason
    dirs = next(d.value for d in at.dataframe if "Direction (siting)" in shown_headers(d))
    assert siting.RATIONALE["carbon_sink_tco2_ha_yr"][1] in set(dirs.iloc[:, -1])

    at.radio(key="siting_unknown").set_value("drop-criterion").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = _ranking(at)
    dropped = siting.rank(sub, weights, list(CRITS), unknown="drop-criterion").set_index("park_id")
    assert dropped.attrs["dropped"] == ["carbon_at_stake_tc_per_ha", "carbon_sink_tco2_ha_yr"]
    assert set(shown.index) == set(ids)
    for p in ids:  # every park ranked now, with the numbers of the direct call
        assert shown.loc[p].iloc[0] == dropped.loc[p, "rank"], p
        assert shown.loc[p].iloc[2] == pytest.approx(dropped.loc[p, "score"], abs=1e-12), p
    assert not np.isnan(shown.loc[pid].iloc[0])  # the park set aside before is ranked
    # P01 at the airport (0 km), no red-line overlap: 0.5 × 1 + 0.5 × 1
    assert shown.loc["P01"].iloc[2] == pytest.approx(1.0)
    assert any("Dropped for every park" in c.value and "Carbon at stake per hectare" in unescape(c.value)
               for c in at.caption)


def test_piecewise_value_function_typed_on_the_page(store):
    ids = ["P01", "P02", "P05", "P13"]
    at = _page(siting_parks=ids, **ONLY_AIRPORT)
    at.selectbox(key="siting_vf_kind_dist_airport_km").set_value("piecewise").run()
    # chosen, nothing typed yet: said as a note (not an error), linear meanwhile
    assert not at.error and any("Distance to airport" in unescape(i.value) for i in at.info)
    at.text_input(key="siting_vf_pts_dist_airport_km").set_value("20=1,100=0").run()
    assert not at.exception and not at.error, [e.value for e in at.exception] + [e.value for e in at.error]
    assert not at.info
    shown = _ranking(at)
    col = "Contribution: Distance to airport"
    ranked = siting.rank(_sub(ids), {c: float(c == "dist_airport_km") for c in CRITS}, list(CRITS),
                         value_functions={"dist_airport_km": parse("piecewise:20=1,100=0")}).set_index("park_id")
    assert ranked.attrs["value_functions"]["dist_airport_km"] == "piecewise:20=1,100=0"
    for p in ids:  # the only weighted criterion: its contribution is its value
        assert shown.loc[p, col] == pytest.approx(ranked.loc[p, "norm_dist_airport_km"], abs=1e-12), p
    # by hand: P02 51.507736 km → 1 − (51.507736 − 20) / 80; P01 at 0 km → 1; P13 134 km → 0
    assert shown.loc["P02", col] == pytest.approx(1 - (51.507736 - 20) / 80, abs=1e-6)
    assert shown.loc["P01", col] == 1.0 and shown.loc["P13", col] == 0.0
    assert any("piecewise:20=1,100=0" in unescape(c.value) for c in at.caption)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind,text,needle", [
    ("piecewise", "8=1,abc", {"zh": "无法识别的价值函数：'piecewise:8=1,abc'",
                              "en": "value function not understood: 'piecewise:8=1,abc'"}),
    ("piecewise", "25=0,8=1", {"zh": "分段线性函数需要至少两个点，x 递增",
                               "en": "a piecewise function needs ≥ 2 points with x ascending"}),
    ("threshold", "x25", {"zh": "无法识别的价值函数：'threshold:x25'", "en": "value function not understood: 'threshold:x25'"}),
])
def test_malformed_value_function_is_said_and_linear_used(store, lang, kind, text, needle):
    ids = ["P01", "P02", "P05"]
    at = _page(lang, siting_parks=ids, **ONLY_AIRPORT)
    at.selectbox(key="siting_vf_kind_dist_airport_km").set_value(kind).run()
    at.text_input(key="siting_vf_pts_dist_airport_km").set_value(text).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [unescape(e.value) for e in at.error]
    assert any(needle[lang] in e and ("线性" if lang == "zh" else "Linear") in e for e in errors), errors
    other = "en" if lang == "zh" else "zh"
    assert not any(needle[other] in e for e in errors)  # in the page's language only
    ranked = siting.rank(_sub(ids), {c: float(c == "dist_airport_km") for c in CRITS}, list(CRITS)).set_index("park_id")
    shown = _ranking(at)
    for p in ids:  # linear used for it
        assert shown.loc[p].iloc[3] == pytest.approx(ranked.loc[p, "norm_dist_airport_km"], abs=1e-12)


def test_smaa_table_is_siting_smaa_with_the_same_seed(store, workbook):
    ids = ["P01", "P02", "P05", "P07", "P09"]
    at = _page(siting_parks=ids)
    at.number_input(key="siting_smaa_seed").set_value(7)
    at.selectbox(key="siting_smaa_mode").set_value("simplex").run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "Rank 1 (%)" in shown_headers(d))
    assert table.columns[-1] == "Confidence (%)"
    sub = _sub(ids)
    ranked = siting.rank(sub, {c: 1.0 for c in CRITS}, list(CRITS))
    acc, res = siting_smaa.acceptability(sub, ranked, n=10_000, seed=7, mode="simplex")
    assert res.n == 10_000 and res.seed == 7
    acc = acc.set_index("park_id")
    shown = table.assign(park_id=table.iloc[:, 0].str.split(" · ").str[0]).set_index("park_id")
    assert set(shown.index) == set(ids)
    assert shown["Rank 1 (%)"].sum() >= 100 - 1e-9  # ties for first count for each park
    for p in ids:
        for r in range(1, len(ids) + 1):
            assert shown.loc[p, f"Rank {r} (%)"] == pytest.approx(100 * acc.loc[p, f"acceptability_rank{r}"], abs=1e-9)
        assert shown.loc[p, "Confidence (%)"] == pytest.approx(100 * acc.loc[p, "confidence"], nan_ok=True)
    caption = " ".join(c.value for c in at.caption)
    assert "10,000 draws (seed 7" in caption and "uniformly on the simplex" in caption
    # the workbook's ranking sheet carries the SMAA columns next to the contributions and the reasons
    wb = openpyxl.load_workbook(io.BytesIO(workbook["xlsx"]))
    rows = list(wb["ranking"].iter_rows(values_only=True))
    heads = list(rows[0])
    share = "Share of draws at rank 1"
    for h in (share, column_label("cannot_rank_on", "en"), column_label("excluded_because", "en"),
              column_label("contrib_dist_airport_km", "en"), "Central weight: Distance to airport", "Confidence"):
        assert any(x.startswith(h) for x in heads), (h, heads)
    got = {r[heads.index(column_label("park_id", "en"))]: r[heads.index(share)] for r in rows[1:]}
    for p in ids:
        assert got[p] == pytest.approx(acc.loc[p, "acceptability_rank1"], abs=1e-12)
    prov = {r[0]: r[1] for r in wb["provenance"].iter_rows(values_only=True)}
    th = {k.split(".", 1)[1]: v for k, v in prov.items() if k.startswith("thresholds.")}
    assert (th["smaa_seed"], th["smaa_draws"], th["smaa_mode"]) == ("7", "10000", "simplex"), th
    assert th["unknown"] == "set-aside" and th["value_functions.dist_airport_km"] == "linear", th
    # the compliance verdicts of the parks (the red line in use here) travel with the export: in the
    # workbook's provenance and in the audit log's row of the export
    comp = {k: v for k, v in prov.items() if k.startswith("extra.compliance[")}
    assert {v for k, v in comp.items() if k.endswith(".overall")} <= {"conflict", "within_buffer", "clear"} and comp
    from core import paths
    from storage import audit
    from ui import common

    logged = audit.rows(common.cached_store(str(paths.store_path())), action="run_export")
    assert any("compliance" in str(d) and "overall" in str(d) for d in logged["details"])


def test_scenario_keeps_the_unknown_rule_and_value_functions(store):
    name = "模型方案"
    at = _page(siting_parks=["P01", "P02", "P05"], siting_name=name)
    at.radio(key="siting_unknown").set_value("drop-criterion")
    at.selectbox(key="siting_vf_kind_dist_airport_km").set_value("piecewise")
    at.selectbox(key="siting_vf_kind_carbon_at_stake_tc_per_ha").set_value("threshold").run()
    at.text_input(key="siting_vf_pts_dist_airport_km").set_value("20=1,100=0")
    at.text_input(key="siting_vf_pts_carbon_at_stake_tc_per_ha").set_value("5").run()
    at.button(key="siting_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    try:
        settings = Store(paths.store_path()).scenarios()[name]["settings"]
        assert settings["unknown"] == "drop-criterion"
        # the command line's --value-function items (a scenario keeps flat values)
        assert settings["value_functions"] == "carbon_at_stake_tc_per_ha:threshold:5; dist_airport_km:piecewise:20=1,100=0"
        fresh = _page(siting_parks=["P01", "P02"])
        assert fresh.radio(key="siting_unknown").value == "set-aside"  # defaults before loading
        fresh.sidebar.selectbox(key="siting_load_pick").set_value(name).run()
        fresh.sidebar.button(key="siting_load_btn").click().run()
        assert not fresh.exception, [e.value for e in fresh.exception]
        assert fresh.radio(key="siting_unknown").value == "drop-criterion"
        assert fresh.selectbox(key="siting_vf_kind_dist_airport_km").value == "piecewise"
        assert fresh.text_input(key="siting_vf_pts_dist_airport_km").value == "20=1,100=0"
        assert fresh.selectbox(key="siting_vf_kind_carbon_at_stake_tc_per_ha").value == "threshold"
        assert fresh.text_input(key="siting_vf_pts_carbon_at_stake_tc_per_ha").value == "5"
        assert fresh.selectbox(key="siting_vf_kind_carbon_sink_tco2_ha_yr").value == "linear"
        assert fresh.multiselect(key="siting_parks").value == ["P01", "P02", "P05"]
    finally:
        Store(paths.store_path()).delete_scenario(name)


def test_decomposition_chart_stacks_the_contributions(store):
    at = _page(siting_parks=["P01", "P02", "P05"], siting_w_dist_airport_km=3.0)
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    [fig] = [f for f in figs if f["layout"].get("barmode") == "stack"]
    assert fig["layout"]["barmode"] == "stack"
    names = [tr["name"] for tr in fig["data"]]
    assert "Distance to airport (km)" in names and all(tr["orientation"] == "h" for tr in fig["data"])
    shown = _ranking(at)
    airport = next(tr for tr in fig["data"] if tr["name"] == "Distance to airport (km)")
    xs = airport["x"]
    if isinstance(xs, dict):  # plotly's typed array: {"dtype": "f8", "bdata": base64}
        xs = np.frombuffer(base64.b64decode(xs["bdata"]), dtype=xs["dtype"])
    assert len(xs) == 3
    for park, x in zip(airport["y"], xs):
        assert x == pytest.approx(shown.loc[park.split(" · ")[0], "Contribution: Distance to airport"])
    assert t("siting.decomp", "en") in json.dumps(fig, ensure_ascii=False)


def test_report_says_what_a_park_cannot_be_ranked_on(outside_park):
    import pypdf

    import reports

    sub = _sub(outside_park)
    aside = siting.rank(sub, {c: 1.0 for c in CRITS}, list(CRITS))
    dropped = siting.rank(sub, {c: 1.0 for c in CRITS}, list(CRITS), unknown="drop-criterion",
                          value_functions={"dist_airport_km": parse("piecewise:20=1,100=0")})

    def text(ranking):
        pdf = reports.scenario_pdf(scenario="s", ranking=ranking, lang="en")
        return " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)

    got = text(aside)
    assert "cannot rank on (unknown): Carbon at stake per hectare, Annual sink per hectare (at stake)" in got, got
    assert "counted worst" not in got and "never counts as worst" in got
    got = text(dropped)
    assert "dropped for every park because some park has no value: Carbon at stake per hectare" in got, got
    assert "Distance to airport: piecewise:20=1,100=0" in got, got

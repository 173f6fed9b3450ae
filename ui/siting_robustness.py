"""The Siting page's headline robustness figure: SMAA rank acceptability (``indicators.siting_smaa``)
of the parks the ranking ranks — for each park the share of draws in which it takes rank 1, 2, …,
its central weights (the mean weights under which it comes first) and its confidence factor.

Computed on every run (10,000 draws of 14 parks take a few hundredths of a second), seeded: the same
draws, seed, weight mode and concentration give the same figures as ``gansu siting --draws``. The
settings are kept in the session; ``settings`` gives them for the provenance record."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.errors import GansuError
from core.i18n import t
from indicators import siting_smaa, smaa
from indicators import table as ind
from ui import tables

DRAWS_MIN, DRAWS_MAX = 100, 100_000
KEYS = {"n": "siting_smaa_draws", "seed": "siting_smaa_seed", "mode": "siting_smaa_mode",
        "concentration": "siting_smaa_conc"}
DEFAULTS = {"n": smaa.DEFAULT_DRAWS, "seed": smaa.DEFAULT_SEED, "mode": "around",
            "concentration": smaa.DEFAULT_CONCENTRATION}
PCT_FORMAT = "%.1f"


@dataclass
class Smaa:
    table: pd.DataFrame  # siting_smaa.acceptability's: park_id, acceptability_rank<r>…, central_w_<c>…, confidence
    result: smaa.SmaaResult

    def settings(self) -> dict:
        """The SMAA part of a provenance record (the same keys as ``gansu siting``'s)."""
        r = self.result
        return {"smaa_draws": r.n, "smaa_seed": r.seed, "smaa_mode": r.mode, "smaa_concentration": r.concentration,
                "smaa_value_ranges": r.value_ranges}


def _controls(lang: str) -> dict:
    for k, v in DEFAULTS.items():
        st.session_state.setdefault(KEYS[k], v)
    c1, c2, c3, c4 = st.columns(4)
    n = c1.number_input(t("siting.smaa.draws", lang), DRAWS_MIN, DRAWS_MAX, step=1000, key=KEYS["n"])
    seed = c2.number_input(t("siting.smaa.seed", lang), 0, 2**31 - 1, step=1, key=KEYS["seed"])
    mode = c3.selectbox(t("siting.smaa.mode", lang), list(smaa.MODES), key=KEYS["mode"],
                        format_func=lambda m: t(f"siting.smaa.mode.{m}", lang))
    conc = c4.number_input(t("siting.smaa.concentration", lang), 1.0, 10_000.0, step=10.0, key=KEYS["concentration"],
                           disabled=mode == "simplex", help=t("siting.smaa.concentration.help", lang))
    return {"n": int(n), "seed": int(seed), "mode": mode, "concentration": float(conc)}


def shown(acc: pd.DataFrame, ranked: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, dict]:
    """(the table as shown: park, rank shares, central weights and confidence in %, the headers)."""
    names = dict(zip(ranked["park_id"], ranked["name"]))
    ranks = [c for c in acc.columns if c.startswith("acceptability_rank")]
    central = [c for c in acc.columns if c.startswith("central_w_")]
    out = pd.DataFrame({"park": [f"{p} · {names.get(p, '')}" for p in acc["park_id"]]})
    heads = {"park": t("siting.col.park", lang)}
    for c in ranks:
        out[c] = 100 * acc[c].to_numpy(float)
        heads[c] = t("siting.smaa.col.rank", lang, r=c[len("acceptability_rank"):])
    for c in central:
        out[c] = 100 * acc[c].to_numpy(float)
        heads[c] = t("siting.smaa.col.central", lang, label=ind.label(c[len("central_w_"):], lang))
    out["confidence"] = 100 * acc["confidence"].to_numpy(float)
    heads["confidence"] = t("siting.smaa.col.confidence", lang)
    return out, heads


def section(sub: pd.DataFrame, ranked: pd.DataFrame, lang: str) -> Smaa | None:
    """Controls, the acceptability table (parks by their share of rank 1, best first) and what it means."""
    st.subheader(t("siting.smaa.title", lang))
    opts = _controls(lang)
    if len(ranked.attrs.get("rankable", [])) < 2:
        st.info(t("siting.smaa.need_two", lang))
        return None
    try:
        acc, res = siting_smaa.acceptability(sub, ranked, **opts)
    except GansuError as e:
        st.warning(e.message(lang))
        return None
    acc = acc.sort_values("acceptability_rank1", ascending=False, kind="stable").reset_index(drop=True)
    table, heads = shown(acc, ranked, lang)
    config = {heads[c]: st.column_config.NumberColumn(format=PCT_FORMAT) for c in table.columns if c != "park"}
    st.dataframe(table.rename(columns=heads), hide_index=True, width="stretch", key="siting_smaa_table",
                 placeholder=tables.NA, column_config=config)
    weights = (t("siting.smaa.weights.around", lang, c=f"{res.concentration:g}") if res.mode == "around"
               else t("siting.smaa.weights.simplex", lang))
    values = t("siting.smaa.values.ranges" if res.value_ranges else "siting.smaa.values.fixed", lang)
    st.caption(t("siting.smaa.caption", lang, n=f"{res.n:,}", seed=res.seed, weights=weights, values=values))
    return Smaa(acc, res)

"""The Siting page's ranking as shown: the table (ranked parks best first with their score and each
weighted criterion's contribution, then the parks set aside with "cannot rank on …", then the
excluded ones with their reason), what the model dropped, and the score decomposition — a
horizontal stacked bar per ranked park of ``contrib_<criterion>`` (weight × value, summing to the
score)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.i18n import t
from core.text import Text
from indicators import table as ind
from ui import tables
from ui.mdtext import md

SCORE_FORMAT = "%.3f"


def weighted(ranked: pd.DataFrame, crits: list[str]) -> list[str]:
    """The criteria with a weight after any drop (the ones that make up the score)."""
    w = ranked.attrs.get("weights", {})
    return [c for c in crits if w.get(c, 0) > 0]


def cannot_rank_text(value: str, lang: str) -> str:
    """"cannot rank on carbon at stake, …" for a ``cannot_rank_on`` cell (criterion ids, "; "-joined)."""
    ids = [c for c in str(value or "").split("; ") if c]
    return t("siting.cannot_rank_on", lang, names=("、" if lang == "zh" else ", ").join(ind.label(c, lang) for c in ids))


def notes(ranked: pd.DataFrame, lang: str) -> list[str]:
    """Per row: the exclusion reason, "cannot rank on …" for a park set aside, else empty."""
    out = []
    for r in ranked.itertuples():
        if r.excluded:
            out.append(Text(r.exclusion_reason_zh, r.exclusion_reason_en).pick(lang))
        elif r.cannot_rank_on:
            out.append(cannot_rank_text(r.cannot_rank_on, lang))
        else:
            out.append("")
    return out


def table(ranked: pd.DataFrame, crits: list[str], lang: str) -> None:
    """The ranking table, the caption of criteria dropped and a warning naming the parks set aside."""
    crit_w = weighted(ranked, crits)
    shown = pd.DataFrame({"rank": ranked["rank"], "park": ranked["park_id"] + " · " + ranked["name"],
                          "score": ranked["score"],
                          **{f"contrib_{c}": ranked[f"contrib_{c}"] for c in crit_w},
                          "notes": notes(ranked, lang)})
    extra = {"park": t("siting.col.park", lang), "notes": t("siting.col.notes", lang),
             **{f"contrib_{c}": t("siting.col.contrib", lang, label=ind.label(c, lang)) for c in crit_w}}
    heads = tables.headers(shown.columns, lang, extra)
    config = {heads[c]: st.column_config.NumberColumn(format=SCORE_FORMAT)
              for c in ["score", *(f"contrib_{c}" for c in crit_w)]}
    st.dataframe(tables.labelled(shown, lang, extra), hide_index=True, width="stretch", key="siting_table",
                 placeholder=tables.NA, column_config=config)
    dropped = ranked.attrs.get("dropped") or []
    if dropped:
        st.caption(t("siting.dropped", lang, names=md("、".join(ind.label(c, lang) for c in dropped))))
    aside = ranked[(ranked["cannot_rank_on"] != "") & ~ranked["excluded"]]
    if len(aside):
        st.warning(t("siting.set_aside", lang, n=len(aside),
                     parks=md("; ".join(f"{r.park_id} · {r.name} ({cannot_rank_text(r.cannot_rank_on, lang)})"
                                        for r in aside.itertuples()))))


def decomposition(ranked: pd.DataFrame, crits: list[str], lang: str) -> None:
    """Horizontal stacked bars: each ranked park's score split into its criteria's contributions."""
    ok = ranked[ranked["rank"].notna()]
    crit_w = weighted(ranked, crits)
    if not len(ok) or not crit_w:
        return
    parks = list(ok["park_id"] + " · " + ok["name"])
    fig = go.Figure([go.Bar(y=parks, x=ok[f"contrib_{c}"], name=ind.label(c, lang, with_unit=True), orientation="h",
                            hovertemplate="%{y}: %{x:.3f}") for c in crit_w])
    fig.update_layout(barmode="stack", title=t("siting.decomp", lang), height=max(260, 90 + 26 * len(ok)),
                      xaxis=dict(title=t("siting.decomp.x", lang), range=[0, 1]),
                      yaxis=dict(autorange="reversed", type="category"),
                      legend=dict(orientation="h", y=-0.25), margin=dict(l=10, r=10, t=50, b=10))
    st.plotly_chart(fig, width="stretch", key="siting_decomp")

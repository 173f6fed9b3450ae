"""The Siting page's model settings (an expander under the weights): what an unknown criterion
value does — the park is set aside ("cannot rank on X", the default) or the criterion is dropped for
every park — and a value function per criterion (linear min–max, a threshold, or piecewise-linear
points such as ``8=1,25=0``, read by ``indicators.siting_value.parse``). A value function that cannot
be read is said (bilingual) and linear is used for that criterion. The settings a saved scenario
keeps (``settings``) and brings back (``restore``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import streamlit as st

from core.errors import GansuError, InputError
from core.i18n import t
from indicators import siting, siting_value
from indicators import table as ind
from ui.mdtext import md

UNKNOWN_KEY = "siting_unknown"
DEFAULT_UNKNOWN = siting.UNKNOWN_POLICIES[0]  # set-aside: a park is never ranked on a value nobody knows


def kind_key(c: str) -> str:
    return f"siting_vf_kind_{c}"


def points_key(c: str) -> str:
    return f"siting_vf_pts_{c}"


@dataclass
class Model:
    unknown: str = DEFAULT_UNKNOWN
    value_functions: dict[str, siting_value.ValueFunction] = field(default_factory=dict)  # non-linear ones only
    problems: list[str] = field(default_factory=list)  # criteria whose entry could not be read (linear used)


def init_state(crits: list[str]) -> None:
    """Defaults for the controls (set aside, linear) where the session has none yet."""
    st.session_state.setdefault(UNKNOWN_KEY, DEFAULT_UNKNOWN)
    for c in crits:
        st.session_state.setdefault(kind_key(c), "linear")
        st.session_state.setdefault(points_key(c), "")


def value_function(kind: str, text: str) -> siting_value.ValueFunction:
    """The value function of a kind and the text typed for it: a threshold ``25`` or points
    ``8=1,25=0`` (a leading ``threshold:``/``piecewise:`` is accepted too). Unreadable → InputError."""
    if kind == "linear":
        return siting_value.LINEAR
    body = str(text or "").strip()
    if body.lower().startswith(f"{kind}:"):
        body = body[len(kind) + 1:].strip()
    if not body:
        need = ("阈值", "a threshold") if kind == "threshold" else ("分段点（如 8=1,25=0）", "points (e.g. 8=1,25=0)")
        raise InputError(f"请输入{need[0]}", f"enter {need[1]}")
    return siting_value.parse(f"{kind}:{body}")


def controls(crits: list[str], lang: str) -> Model:
    """The expander "model settings": the unknown rule and a value function per criterion. Entries
    that cannot be read are listed under it as errors, a kind chosen with nothing typed yet as a note
    (the criterion uses linear meanwhile)."""
    init_state(crits)
    custom = any(st.session_state.get(kind_key(c)) != "linear" for c in crits)
    model = Model()
    errors, waiting = [], []
    with st.expander(t("siting.model", lang), expanded=custom or st.session_state[UNKNOWN_KEY] != DEFAULT_UNKNOWN):
        model.unknown = st.radio(t("siting.unknown", lang), list(siting.UNKNOWN_POLICIES), key=UNKNOWN_KEY,
                                 format_func=lambda u: t(f"siting.unknown.{u}", lang))
        st.caption(t("siting.unknown.help", lang))
        st.markdown(f"**{t('siting.vf.title', lang)}**")
        st.caption(t("siting.vf.help", lang))
        for c in crits:
            a, b = st.columns([1, 1])
            kind = a.selectbox(ind.label(c, lang, True), list(siting_value.KINDS), key=kind_key(c),
                               format_func=lambda k: t(f"siting.vf.kind.{k}", lang))
            text = b.text_input(t("siting.vf.points", lang), key=points_key(c), disabled=kind == "linear",
                                placeholder=t("siting.vf.placeholder", lang), max_chars=200)
            if kind != "linear" and not str(text or "").strip():  # just chosen: nothing typed yet
                model.problems.append(c)
                waiting.append(md(ind.label(c, lang)))
                continue
            try:
                vf = value_function(kind, text)
            except GansuError as e:
                model.problems.append(c)
                errors.append(t("siting.vf.bad", lang, criterion=md(ind.label(c, lang)), msg=md(e.message(lang))))
                continue
            if vf.kind != "linear":
                model.value_functions[c] = vf
    if waiting:
        st.info(t("siting.vf.empty", lang, names="、".join(waiting) if lang == "zh" else ", ".join(waiting)))
    for msg in errors:
        st.error(msg)
    return model


def settings(model: Model) -> dict:
    """What a saved scenario keeps of the model: the unknown rule and the non-linear value functions,
    written as the command line's ``--value-function`` items joined by "; " (the scenario store keeps
    flat values: ``dist_airport_km:piecewise:20=1,100=0; slope_mean_deg:threshold:15``)."""
    return {"unknown": model.unknown,
            "value_functions": "; ".join(f"{c}:{vf.text()}" for c, vf in model.value_functions.items())}


def saved_value_functions(saved: Mapping) -> dict[str, str]:
    """criterion → value function text of a scenario's settings (the "; "-joined items, or a mapping)."""
    raw = saved.get("value_functions") or {}
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    out = {}
    for item in str(raw).split(";"):
        c, sep, text = item.strip().partition(":")
        if sep and c:
            out[c] = text
    return out


def restore(saved: Mapping, crits: list[str]) -> None:
    """Set the controls from a saved scenario's settings (before they are drawn): an unknown or
    missing rule → set aside, an unreadable or missing value function → linear."""
    unknown = saved.get("unknown")
    st.session_state[UNKNOWN_KEY] = unknown if unknown in siting.UNKNOWN_POLICIES else DEFAULT_UNKNOWN
    vfs = saved_value_functions(saved)
    for c in crits:
        try:
            vf = siting_value.parse(str(vfs.get(c, "linear")))
        except InputError:
            vf = siting_value.LINEAR
        st.session_state[kind_key(c)] = vf.kind
        st.session_state[points_key(c)] = vf.text().partition(":")[2]


def provenance(ranked) -> dict:
    """The model's part of a provenance record: the unknown rule, the criteria it dropped and every
    criterion's value function (``siting.rank``'s attrs)."""
    a = ranked.attrs
    return {"unknown": a.get("unknown", DEFAULT_UNKNOWN), "dropped": list(a.get("dropped", [])),
            "value_functions": dict(a.get("value_functions", {}))}

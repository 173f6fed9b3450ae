"""The data in use, for every page: the run inputs (cached by the store's choice and the build),
the datasets behind them, and the session's pixel-area mode. The compact status line each page shows
under its title (``status_line``, ``badge``, ``summary``) lives in ``ui.common``, whose ``page`` draws it.

The choice itself lives in the store (``storage.workspace.in_use``); the inputs are assembled by
``indicators.runs.inputs_from_workspace`` — the same function ``python -m cli parks
--workspace`` calls — so the pages and the CLI compute on the same data.
"""
from __future__ import annotations

import json

import streamlit as st

from core.errors import GansuError
from indicators import runs
from layers import inputs as declared
from storage import workspace as ws
from ui import common

MODE_KEY = "pixel_area_mode"  # a plain session key: survives pages where the widget is not drawn


def pixel_area_mode() -> str:
    """The session's pixel-area mode (``ui.runlog.pixel_area_setting`` sets it): ``ground`` or ``nominal``."""
    return st.session_state.get(MODE_KEY, "ground")


def choice_key() -> str:
    """Changes whenever the data in use (or an active replacement layer) or the parameters of a dataset in
    use (a criterion's direction, an exclusion layer's buffer) change."""
    chosen = common.in_use()
    params = {i: common.dataset(i).params for ids in chosen.values() for i in ids if i != ws.BUILTIN_AIRPORTS}
    return json.dumps([chosen, {i: p for i, p in params.items() if p}], sort_keys=True) + "|" + common.build_id()


@st.cache_data(show_spinner=False, max_entries=8)
def _inputs(key: str) -> runs.RunInputs:
    return runs.inputs_from_workspace(common.store(), builtin=lambda lid: common.cached_layer(lid, common.build_id(), None))


def inputs() -> runs.RunInputs:
    """Run inputs of the data in use. A referenced file that changed is refused (InputError),
    checked on every call (cheap: size and modification time, the hash only when they differ)."""
    for role, ids in common.in_use().items():  # every dataset referenced in place (rasters: land cover, criteria)
        for i in ids if run_slot(role) else ():
            if i != ws.BUILTIN_AIRPORTS and (d := common.dataset(i)).storage == "reference":
                ws.verify(d)
    base = _inputs(choice_key())
    mode = pixel_area_mode()  # the session's pixel-area mode (ground, the default: true cell areas)
    return base if mode == "ground" else runs.override(base, options={**base.options, "pixel_area": mode})


def run_slot(role: str) -> bool:
    """Whether the parks and siting run reads this slot of the data in use (a land-cover series is
    read by the land-change pages, which check its files themselves)."""
    spec = next((i for i in declared.slots() if i.id == role), None)
    return spec is None or bool({"parks", "siting"} & set(spec.commands))


def datasets_in_use() -> list[tuple[str, ws.Dataset]]:
    """(slot, dataset) of the data in use the parks and siting run reads (their provenance)."""
    out = []
    for role, ids in common.in_use().items():
        for i in ids if run_slot(role) else ():
            if i != ws.BUILTIN_AIRPORTS:
                out.append((role, common.dataset(i)))
    return out


def landcover_dataset() -> ws.Dataset | None:
    ids = common.in_use().get("landcover", [])
    return common.dataset(ids[0]) if ids else None


def landcover_alt_dataset() -> ws.Dataset | None:
    ids = common.in_use().get("landcover_alt", [])
    return common.dataset(ids[0]) if ids else None


def run_error(e: GansuError, lang: str) -> None:
    """A refused input (e.g. a referenced file changed): say so — as literal text, server paths for
    admins only (``common.show_error``) — and keep the page alive."""
    common.show_error(e, lang)

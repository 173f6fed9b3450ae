"""The data in use, for every page: the run inputs (cached by the store's choice and the build),
the datasets behind them, and the compact status line each page shows under its title.

The choice itself lives in the store (``layers.workspace.in_use``); the inputs are assembled by
``indicators.runs.inputs_from_workspace`` — the same function ``python -m cli parks
--workspace`` calls — so the pages and the CLI compute on the same data.
"""
from __future__ import annotations

import json

import streamlit as st

from core.errors import GansuError
from core.i18n import t
from indicators import runs
from layers import catalog
from layers import workspace as ws
from ui import common
from ui.mdtext import md  # dataset names are shown in a Markdown caption

def badge(status: str, lang: str) -> str:
    """A layer's status as a short text badge (no emoji: intranet machines often lack emoji fonts)."""
    return f"[{t(f'map.status.{status}', lang)}]"


def choice_key() -> str:
    """Changes whenever the data in use (or an active replacement layer) changes."""
    s = common.store()
    return json.dumps(ws.in_use(s), sort_keys=True) + "|" + common.build_id()


@st.cache_data(show_spinner=False, max_entries=8)
def _inputs(key: str) -> runs.RunInputs:
    return runs.inputs_from_workspace(common.store(), builtin=lambda lid: common._load_layer(lid, common.build_id(), None))


def inputs() -> runs.RunInputs:
    """Run inputs of the data in use. A referenced file that changed is refused (InputError),
    checked on every call (cheap: size and modification time, the hash only when they differ)."""
    s = common.store()
    for role in ("landcover", "landcover_alt"):
        for i in ws.in_use(s).get(role, []):
            ws.verify(ws.get(s, i))
    base = _inputs(choice_key())
    from ui import runlog  # issue 13: the session's pixel-area mode (ground = as before)

    mode = runlog.pixel_area_mode()
    return base if mode == "ground" else runs.override(base, options={**base.options, "pixel_area": mode})


def datasets_in_use() -> list[tuple[str, ws.Dataset]]:
    s = common.store()
    out = []
    for role, ids in ws.in_use(s).items():
        for i in ids:
            if i != ws.BUILTIN_AIRPORTS:
                out.append((role, ws.get(s, i)))
    return out


def landcover_dataset() -> ws.Dataset | None:
    ids = ws.in_use(common.store()).get("landcover", [])
    return ws.get(common.store(), ids[0]) if ids else None


def landcover_alt_dataset() -> ws.Dataset | None:
    ids = ws.in_use(common.store()).get("landcover_alt", [])
    return ws.get(common.store(), ids[0]) if ids else None


def _default(layer_id: str, lang: str) -> str:
    spec = catalog.BY_ID[layer_id]
    return f"{badge(spec.status, lang)} {spec.title(lang)}"


def summary(lang: str) -> list[str]:
    """One short item per role: what each role uses now, with its status badge."""
    s = common.store()
    chosen = ws.in_use(s)
    items = []
    lc = chosen.get("landcover", [])
    items.append(f"{ws.ROLE_LABELS['landcover'].pick(lang)}: "
                 + (f"{badge('user', lang)} {md(ws.get(s, lc[0]).label(lang))}" if lc else _default("landcover", lang)))
    alt = chosen.get("landcover_alt", [])
    if alt:
        items.append(f"{t('inuse.second_year', lang)}: {badge('user', lang)} {md(ws.get(s, alt[0]).label(lang))}")
    tr = [(_default("airports", lang) if i == ws.BUILTIN_AIRPORTS else f"{badge('user', lang)} {md(ws.get(s, i).name)}")
          for i in chosen.get("transport", [])]
    items.append(f"{ws.ROLE_LABELS['transport'].pick(lang)}: " + (", ".join(tr) if tr else "—"))
    for role, layer in ws.REPLACES.items():
        ids = chosen.get(role, [])
        items.append(f"{ws.ROLE_LABELS[role].pick(lang)}: "
                     + (f"{badge('user', lang)} {md(ws.get(s, ids[0]).name)}" if ids else _uploaded_or_default(layer, lang)))
    return items


def _uploaded_or_default(layer_id: str, lang: str) -> str:
    rec = common.active_upload(layer_id)
    if rec:
        return f"{badge('user', lang)} {md(rec['name'])}"
    return _default(layer_id, lang)


def status_line(lang: str) -> None:
    """The compact line under each page title: the data in use and a link to change it."""
    try:
        items = summary(lang)
    except GansuError as e:
        common.show_error(e, lang)
        return
    st.caption(t("inuse.title", lang) + " · ".join(items))
    common.page_link("pages/data.py", t("inuse.change", lang), icon=":material/database:")


def run_error(e: GansuError, lang: str) -> None:
    """A refused input (e.g. a referenced file changed): say so — as literal text, server paths for
    admins only (``common.show_error``) — and keep the page alive."""
    common.show_error(e, lang)

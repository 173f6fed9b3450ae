"""The Data & sources page's pieces: the build, every layer's catalog entry and source CRS, and
replacing a schematic/proxy layer with an official file (registered as a workspace dataset of role
redline/zones and put in use; the workspace sections themselves are in ``ui.workspace_ui`` and
``ui.dataset_add``, ``ui.dataset_import``, ``ui.dataset_table``)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core import paths
from core.errors import GansuError
from core.i18n import t
from core.text import pick
from indicators.pooltable import density_table
from layers import catalog, readers
from layers.legends import CLASS_BY_ID
from storage import workspace as ws
from storage.vector_register import register_vector
from ui import auth, common, tables
from ui.mdtext import md  # names typed by users, shown in Markdown

CATALOG_COLUMNS = ("title", "status", "source", "licence", "year", "resolution", "crs", "derivation", "n_features")
COLUMN_KEYS = {"title": "data.col.layer", "n_features": "data.col.features"}


def build_info(lang: str) -> dict:
    m = common.manifest(common.build_id())
    st.write(t("data.intro", lang))
    st.caption(f"{t('data.build', lang)}: `{m['build_id']}` · {m['built_at']} · "
               f"{t('data.folder', lang)}: `{paths.current_dir()}`")
    return m


def layer_table(manifest: dict, lang: str) -> None:
    """Every layer's catalog row (labelled headers, catalog order) and its source CRS."""
    cat = common.store().catalog()
    cat["title"] = [pick(a, b, lang) for a, b in zip(cat["title_zh"], cat["title_en"])]
    cat["status"] = [t(f"map.status.{s}", lang) for s in cat["status"]]
    order = {s.id: i for i, s in enumerate(catalog.LAYERS)}
    cat = cat.sort_values("layer_id", key=lambda c: c.map(order))
    heads = {c: t(COLUMN_KEYS.get(c, f"data.col.{c}"), lang) for c in CATALOG_COLUMNS}
    st.dataframe(cat[list(CATALOG_COLUMNS)].rename(columns=heads), hide_index=True, width="stretch",
                 placeholder=tables.NA)
    src_crs = {e["layer"]: e.get("source_crs") for e in manifest["layers"]}
    with st.expander(t("data.col.source_crs", lang)):
        st.dataframe(pd.DataFrame({
            t("data.col.layer", lang): [catalog.BY_ID[i].title(lang) if i in catalog.BY_ID else i for i in src_crs],
            t("data.col.source_crs", lang): list(src_crs.values())}), hide_index=True, placeholder=tables.NA)


def replace_layer(lang: str) -> None:
    """Pick a replaceable layer, revert an active upload, or upload and save a replacement (admins;
    everyone in single-user mode)."""
    if not auth.can("admin"):
        return
    st.subheader(t("data.replace.title", lang))
    st.caption(t("data.replace.help", lang))
    store = common.store()
    targets = [s for s in catalog.available_layers() if s.replaceable]
    target = st.selectbox(t("data.replace.target", lang), [s.id for s in targets],
                          format_func=lambda i: catalog.BY_ID[i].title(lang), key="data_replace_target")
    rec = common.active_upload(target)
    if rec:
        st.info(t("data.replace.active", lang, name=md(rec["name"]), when=str(rec["created_at"])[:16]))
        if st.button(t("data.replace.revert", lang), key="data_revert"):
            store.revert_user_layer(target, actor=common.actor())
            st.cache_data.clear()
            st.success(t("data.replace.reverted", lang))
            st.rerun()
    up = st.file_uploader(t("data.replace.file", lang), type=sorted(e.lstrip(".") for e in readers.VECTOR_EXT),
                          key="data_replace_file")
    if up is not None:
        try:  # a GeoPackage (or zip) with several layers: choose one (KML folders are all read)
            layers_ = readers.list_layers(up.name, up.getvalue())
        except readers.UploadError:
            layers_ = []  # the save reports the problem
        layer = st.selectbox(t("parks.layer", lang), layers_, key="data_replace_layer") if len(layers_) > 1 else None
        swap = False  # offered once a save found the axes exchanged, kept while ticked
        if st.session_state.get("data_replace_offer_swap") or st.session_state.get("data_replace_swap"):
            swap = st.checkbox(t("upload.swap", lang), key="data_replace_swap", help=t("upload.swap.help", lang))
        # saved in the button callback: a rerun requested meanwhile cannot drop the save
        st.button(t("data.replace.save", lang), key="data_replace_save", on_click=_save_replacement,
                  args=(up, target, lang, layer, swap))
    result = st.session_state.pop("data_replace_result", None)
    if result:
        kind, msg, notes = result
        (st.success if kind == "success" else st.error)(msg)
        for n in notes:
            st.caption(n)


def _save_replacement(up, target: str, lang: str, layer: str | None = None, swap: bool = False) -> None:
    """Registered as a workspace dataset (role redline/zones, with its provenance) and put in use:
    it replaces the schematic/proxy layer and is listed with the other datasets."""
    name = up.name[:120]
    role = {v: k for k, v in ws.REPLACES.items()}[target]
    try:
        ds = register_vector(common.store(), up.getvalue(), role, filename=up.name[:255], layer=layer,
                             name=name, use=True, actor=common.actor(), swap_axes=swap)
    except GansuError as e:
        st.session_state["data_replace_result"] = ("error", t("err.upload.prefix", lang, name=md(name)) + e.message(lang), [])
        if isinstance(e, readers.AxesSwapped):
            st.session_state["data_replace_offer_swap"] = True  # the "swap the axes" box on the next run
    else:
        st.session_state.pop("data_replace_offer_swap", None)
        st.cache_data.clear()
        notes = [md(pick(zh, en, lang)) for zh, en in ds.notes]  # they quote the file
        st.session_state["data_replace_result"] = ("success", t("data.replace.saved", lang, name=md(name), n=ds.n_features),
                                                   notes)


def carbon_densities(lang: str) -> None:
    """The carbon density table the indicators use: one row per class and zone (the province
    default where a zone has no row of its own), totals and carbon at stake, each with its source,
    soil depth and whether its numbers were verified against a quoted text."""
    d = density_table()
    zones = catalog.zone_names()
    with st.expander(t("data.density.title", lang)):
        st.caption(t("data.density.help", lang))
        view = pd.DataFrame({
            t("data.density.class", lang): [pick(CLASS_BY_ID[c].label_zh, CLASS_BY_ID[c].label_en, lang) for c in d["class"]],
            t("data.density.zone", lang): [zones.get(z, {}).get(lang, z) if z else t("data.density.province", lang)
                                          for z in d["zone"]],
            t("data.density.row", lang): d["label_zh" if lang == "zh" else "label_en"],
            **{t(f"data.density.{c}", lang): d[c] for c in ("c_above", "c_below", "c_soil", "c_dead", "c_total")},
            t("data.density.range", lang): [f"{lo:g}–{hi:g}" for lo, hi in zip(d["c_low"], d["c_high"])],
            t("data.density.at_stake", lang): d["at_stake"],
            t("data.density.depth", lang): [f"{v:g}" if v == v else "—" for v in pd.to_numeric(d["soil_depth_cm"])],
            t("data.density.verified", lang): [t(f"data.density.verified.{v}", lang) for v in d["verified"]],
            t("data.density.source", lang): d["source"],
        })
        st.dataframe(view, hide_index=True, width="stretch", placeholder=tables.NA)


def zone_changes(lang: str) -> None:
    """The county rows of the schematic zones that moved at the last review, with the reason."""
    ch = catalog.zone_changes()
    if not len(ch):
        return
    with st.expander(t("data.zones.changed.title", lang, n=len(ch))):
        st.caption(t("data.zones.changed.help", lang))
        st.dataframe(pd.DataFrame({
            t("data.zones.changed.county", lang): ch["county"],
            t("data.zones.changed.from", lang): ch[f"previous_{lang}"],
            t("data.zones.changed.to", lang): ch[f"new_{lang}"],
            t("data.zones.changed.reason", lang): ch[f"reason_{lang}"],
        }), hide_index=True, width="stretch", placeholder=tables.NA)

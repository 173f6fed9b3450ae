"""Data & sources: every layer with its manifest entry; replace schematic/proxy layers with
official files (kept in the store)."""
import pandas as pd
import streamlit as st

from core import paths
from layers import catalog, readers
from core.i18n import t
from ui import common

lg = common.lang()
st.title(t("data.title", lg))
if common.require_data(lg):
    m = common.manifest(common.build_id())
    st.write(t("data.intro", lg))
    st.caption(f"{t('data.build', lg)}: `{m['build_id']}` · {m['built_at']} · "
               f"{t('data.folder', lg)}: `{paths.current_dir()}`")
    store = common.store()
    cat = store.catalog()
    cols = {"title": t("data.col.layer", lg), "status": t("data.col.status", lg),
            "source": t("data.col.source", lg), "licence": t("data.col.licence", lg),
            "year": t("data.col.year", lg), "resolution": t("data.col.resolution", lg),
            "crs": t("data.col.crs", lg), "derivation": t("data.col.derivation", lg),
            "n_features": t("data.col.features", lg)}
    cat["title"] = cat["title_zh"] if lg == "zh" else cat["title_en"]
    cat["status"] = [t(f"map.status.{s}", lg) for s in cat["status"]]
    order = {s.id: i for i, s in enumerate(catalog.LAYERS)}
    cat = cat.sort_values("layer_id", key=lambda c: c.map(order))
    st.dataframe(cat[list(cols)].rename(columns=cols), hide_index=True, width="stretch")
    src_crs = {e["layer"]: e.get("source_crs") for e in m["layers"]}
    with st.expander(t("data.col.source_crs", lg)):
        st.dataframe(pd.DataFrame({"layer": list(src_crs), t("data.col.source_crs", lg): list(src_crs.values())}),
                     hide_index=True)

    st.subheader(t("data.replace.title", lg))
    st.caption(t("data.replace.help", lg))
    targets = [s for s in catalog.available_layers() if s.replaceable]
    target = st.selectbox(t("data.replace.target", lg), [s.id for s in targets],
                          format_func=lambda i: catalog.BY_ID[i].title(lg), key="data_replace_target")
    rec = common.active_upload(target)
    if rec:
        st.info(t("data.replace.active", lg, name=rec["name"], when=str(rec["created_at"])[:16]))
        if st.button(t("data.replace.revert", lg), key="data_revert"):
            store.revert_user_layer(target)
            st.cache_data.clear()
            st.success(t("data.replace.reverted", lg))
            st.rerun()
    up = st.file_uploader(t("data.replace.file", lg), type=sorted(e.lstrip(".") for e in readers.VECTOR_EXT),
                          key="data_replace_file")

    def _save_replacement(up=up, target=target):
        # runs in the button callback: a rerun requested meanwhile cannot drop the save
        name = up.name[:120]
        try:
            res = readers.read_vector(up.name, up.getvalue())
            gdf = catalog.normalise_zone_layer(res.gdf) if target == "zones" else res.gdf
            store.save_user_layer(gdf, replaces=target, name=name, original_filename=up.name[:255],
                                  source_crs=res.source_crs)
        except readers.UploadError as e:
            st.session_state["data_replace_result"] = ("error", t("err.upload.prefix", lg, name=name) + e.message(lg), [])
        else:
            st.cache_data.clear()
            notes = [en if lg == "en" else zh for zh, en in res.notes]
            st.session_state["data_replace_result"] = ("success", t("data.replace.saved", lg, name=name, n=len(gdf)), notes)

    if up is not None:
        st.button(t("data.replace.save", lg), key="data_replace_save", on_click=_save_replacement)
    result = st.session_state.pop("data_replace_result", None)
    if result:
        kind, msg, notes = result
        (st.success if kind == "success" else st.error)(msg)
        for n in notes:
            st.caption(n)

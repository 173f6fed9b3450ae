"""Data & sources: every layer with its manifest entry; replace schematic/proxy layers with
official files (kept in the store)."""
import pandas as pd
import streamlit as st

from layers import catalog, readers
from layers.i18n import t
from ui import common

lg = common.lang()
st.title(t("data.title", lg))
if common.require_data(lg):
    m = common.manifest(common.build_id())
    st.write(t("data.intro", lg))
    st.caption(f"{t('data.build', lg)}: `{m['build_id']}` · {m['built_at']} · "
               f"{t('data.folder', lg)}: `{common.build_id() and catalog.paths.current_dir()}`")
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
    if up is not None and st.button(t("data.replace.save", lg), key="data_replace_save"):
        try:
            res = readers.read_vector(up.name, up.getvalue())
            gdf = res.gdf
            if target == "zones":
                gdf = catalog.normalise_zone_layer(gdf)
            store.save_user_layer(gdf, replaces=target, name=up.name[:120],
                                  original_filename=up.name[:255], source_crs=res.source_crs)
        except readers.UploadError as e:
            st.error(t("err.upload.prefix", lg, name=up.name[:120]) + e.message(lg))
        else:
            for zh, en in res.notes:
                st.caption(en if lg == "en" else zh)
            st.cache_data.clear()
            st.success(t("data.replace.saved", lg, name=up.name[:120], n=len(gdf)))

"""The Parks page's pieces, one function per block: the indicator table on the data in use
(computed in the background when rows are missing), exports naming the data in use, the detail
card (``ui/parks_card.py``: with the class transitions of the park when two land-cover years are
in use), adding parks by upload or drawing, and managing saved parks. ``pages/parks.py`` calls
them in order."""
from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import streamlit as st
from streamlit_folium import st_folium

import reports
from core.errors import GansuError
from core.i18n import t
from core.text import pick
from indicators import table as ind
from layers import readers
from layers.readers.csv import first_field
from ui import auth, common, data_in_use, displaygeom, mapview, parks, report, runlog, seen_versions, tables
from ui.mdtext import md
from ui.parks_card import CHANGE_COLUMNS, why

CRS_CHOICES = ["auto", "EPSG:4490", "EPSG:4326"] + [f"EPSG:{c}" for c in
              (4519, 4520, 4521, 4522, 4523, 4524, 4540, 4541, 4542, 4543, 4544, 4545, 4494, 4495, 4496,
               4505, 4506, 4507)]


# ---------------------------------------------------------------- indicators table
def table_columns(df: pd.DataFrame) -> list[str]:
    """The indicator table's summary columns (park id and name first), the park's source after
    them, and the carbon change columns after the carbon stock when two years are in use."""
    cols = ind.summary_columns(df.columns)
    cols.insert(cols.index("name") + 1, "source")
    extra = [c for c in CHANGE_COLUMNS if c in df.columns]
    if extra:
        at = cols.index("carbon_stock_tc") + 1 if "carbon_stock_tc" in cols else len(cols)
        cols[at:at] = extra
    return cols


def indicator_table(df: pd.DataFrame, lang: str) -> None:
    if data_in_use.landcover_dataset() is None:  # the built-in 5 km land cover: demo numbers
        st.warning(t("parks.demo_note", lang))
    cols = table_columns(df)
    view = df[cols].copy()
    view["source"] = [t(f"parks.source.{s}", lang) for s in view["source"]]
    view["reliability"] = [tables.cell(reports.value_text("reliability", v, lang)) for v in view["reliability"]]
    extra = report.park_columns()
    heads = tables.headers(cols, lang, extra)  # id -> label (unit), in the UI language

    def _colour(row):
        out = [""] * len(row)
        r = row[heads["redline_overlap_km2"]]
        if not pd.isna(r) and r > 0:
            out[cols.index("redline_overlap_km2")] = "background-color: #f9d6d5"
        return out

    styled = tables.labelled(view, lang, extra).style.apply(_colour, axis=1).format(
        tables.formats(cols, lang, extra), na_rep=tables.NA)
    st.dataframe(styled, hide_index=True, width="stretch", key="parks_table", placeholder=tables.NA)
    st.caption(t("parks.range.caption", lang))  # the carbon range: low – central – high
    low = df[df["reliability"] == "low"]  # "" (no land-cover data at all) is said below, with why
    if len(low):
        st.info(t("parks.reliability_note", lang, n=len(low)))
    bad = df[df["reason"].fillna("") != ""]
    if len(bad):  # why a row reads "—": one click away
        with st.expander(t("na.why", lang, n=len(bad))):
            for r in bad.itertuples():
                st.caption(f"{md(r.park_id)} · {md(r.name)}: {md(why(r._asdict(), lang))}")


# ---------------------------------------------------------------- exports
def exports(df: pd.DataFrame, geo: gpd.GeoDataFrame, lang: str) -> None:
    st.subheader(t("parks.export", lang))
    e1, e2, e3, e4 = st.columns(4)
    export_gdf = geo[["park_id", "geometry"]].merge(df, on="park_id")
    sources = report.sources_records(lang)  # read now: the files are built when clicked
    # files are built only when clicked (deferred data); provenance in the Excel sheet and
    # the GeoPackage metadata, every export in the run log (runlog.logged)
    prov = runlog.record()
    e1.download_button("CSV", runlog.logged("parks_csv", "parks", lambda: reports.csv_bytes(df), prov),
                       "parks_indicators.csv", "text/csv", key="dl_csv", on_click="ignore")
    e2.download_button("Excel", runlog.logged("parks_excel", "parks", lambda: report.parks_excel(df, lang, sources, prov),
                                              prov), "parks_indicators.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx",
                       on_click="ignore")
    e3.download_button("GeoJSON", runlog.logged("parks_geojson", "parks", lambda: reports.geojson_bytes(export_gdf), prov),
                       "parks_indicators.geojson", "application/geo+json", key="dl_geojson", on_click="ignore")
    e4.download_button("GeoPackage", runlog.logged("parks_gpkg", "parks",
                                                   lambda: reports.gpkg_bytes(export_gdf, provenance=prov), prov),
                       "parks_indicators.gpkg", "application/geopackage+sqlite3", key="dl_gpkg", on_click="ignore")


# ---------------------------------------------------------------- add parks
def _crs_label(code: str, lang: str) -> str:
    if code == "auto":
        return t("parks.crs.auto", lang)
    return f"{code} · {pyproj.CRS.from_user_input(code).name}"


def add_parks(geo: gpd.GeoDataFrame, lang: str) -> None:
    if not auth.can("editor"):  # viewers and anonymous visitors: no adding control at all
        return
    st.subheader(t("parks.add", lang))
    # the drawing map (province outline, every park, Leaflet.draw) is built and sent to the browser
    # only while its tab is open: most visits never draw, and each map is a full Leaflet page
    tab_up, tab_draw = st.tabs([t("parks.add.upload", lang), t("parks.add.draw", lang)], key="parks_add_tab",
                               on_change="rerun")
    with tab_up:
        upload_tab(lang)
    with tab_draw:
        if tab_draw.open:
            draw_tab(geo, lang)


def upload_tab(lang: str) -> None:
    store = common.store()
    st.caption(t("parks.upload.help", lang))
    # after a save the uploader starts empty (a new widget key), so the same file cannot be saved
    # twice by a second click; the box keeps one stable CSS key for the browser tests
    gen = st.session_state.get("parks_upload_gen", 0)
    with st.container(key="parks_upload_box"):
        up = st.file_uploader(t("parks.upload.file", lang), type=sorted(e.lstrip(".") for e in readers.PARK_EXT),
                              key="parks_upload" if gen == 0 else f"parks_upload_{gen}")
    o1, o2, o3 = st.columns(3)
    crs_choice = o1.selectbox(t("parks.crs", lang), CRS_CHOICES, format_func=lambda c: _crs_label(c, lang),
                              key="parks_crs")
    gcj = o2.checkbox(t("parks.gcj", lang), key="parks_gcj", help=t("parks.gcj.help", lang))
    layer = None
    swap = bool(st.session_state.get("parks_swap", False))  # the box offered when the axes look swapped
    if up is not None:
        data = up.getvalue()
        try:
            layers_ = parks.upload_layers(up.name, data)
            if len(layers_) > 1:
                layer = o3.selectbox(t("parks.layer", lang), layers_, key="parks_layer")
            res = parks.read_upload(up.name, data, layer, None if crs_choice == "auto" else crs_choice, gcj, swap)
        except readers.CRSMissing as e:
            st.error(t("err.upload.prefix", lang, name=md(up.name[:120])) + e.message(lang))
            if e.candidates:
                st.info(t("parks.crs.pick", lang, codes=", ".join(e.candidates)))
            _swap_box(lang, swap)
        except readers.AxesSwapped as e:
            st.error(t("err.upload.prefix", lang, name=md(up.name[:120])) + e.message(lang))
            _swap_box(lang, True)
        except readers.UploadError as e:
            st.error(t("err.upload.prefix", lang, name=md(up.name[:120])) + e.message(lang))
            _swap_box(lang, swap)
        else:
            _swap_box(lang, swap)
            gdf = res.gdf
            for zh, en in res.notes:  # they quote the file (columns, values)
                st.caption(md(pick(zh, en, lang)))
            cols_ = [c for c in gdf.columns if c != gdf.geometry.name]
            guess = first_field(cols_, readers.NAME_FIELDS)
            name_field = st.selectbox(t("parks.name_field", lang), ["—"] + cols_,
                                      index=(cols_.index(guess) + 1) if guess else 0, key="parks_name_field")
            st.dataframe(gdf.drop(columns=gdf.geometry.name).head(10), hide_index=True, placeholder=tables.NA)
            st.caption(t("parks.upload.preview", lang, n=len(gdf), crs=md(res.source_crs or "?")))
            base = up.name.rsplit(".", 1)[0][:60]
            nm = [str(v) for v in gdf[name_field]] if name_field != "—" else \
                [f"{base} {i + 1}" for i in range(len(gdf))]

            def _save_upload(gdf=gdf, nm=nm, fname=up.name[:200], src_crs=res.source_crs):
                # a callback runs before the next script run starts: a rerun requested meanwhile
                # (another widget, a map) cannot interrupt the run and drop the click
                try:
                    st.session_state["parks_saved_n"] = len(store.add_parks(
                        gdf, names=nm, source="upload", source_file=fname, source_crs=src_crs,
                        actor=common.actor()))
                except GansuError as e:  # the store's role check (server side)
                    st.session_state["parks_save_error"] = e.message(lang)
                    return
                st.session_state["parks_upload_gen"] = st.session_state.get("parks_upload_gen", 0) + 1

            st.button(t("parks.upload.save", lang), key="parks_upload_save", type="primary", on_click=_save_upload)
    if st.session_state.get("parks_saved_n"):
        st.success(t("parks.saved", lang, n=st.session_state.pop("parks_saved_n")))
    if st.session_state.get("parks_save_error"):
        st.error(st.session_state.pop("parks_save_error"))


def _swap_box(lang: str, shown: bool) -> None:
    """The "swap the axes" box: offered when a read found the axes exchanged, kept while ticked
    (so it can be unticked); its value is read before the next read."""
    if shown:
        st.checkbox(t("upload.swap", lang), key="parks_swap", help=t("upload.swap.help", lang))


def draw_tab(geo: gpd.GeoDataFrame, lang: str) -> None:
    store = common.store()
    st.caption(t("parks.draw.help", lang))
    dm = mapview.new_map(lang)
    folium.GeoJson(common.layer_geojson("province", common.build_id(), None, gcj=False),  # cached
                   style_function=lambda f: {"color": "#222", "weight": 2, "fillOpacity": 0}).add_to(dm)
    shown = displaygeom.for_display(np.array([shapely.union_all(geo.geometry.values)], dtype=object))[0]
    folium.GeoJson(shapely.geometry.mapping(shown),  # a display copy: a detailed park is not sent whole
                   style_function=lambda f: {"color": "#6a1b9a", "weight": 2, "fillColor": "#e040fb",
                                             "fillOpacity": 0.5}).add_to(dm)
    mapview.add_draw(dm)
    out = st_folium(dm, height=520, use_container_width=True, key="parks_draw_map",
                    returned_objects=["last_active_drawing"])
    drawing = (out or {}).get("last_active_drawing")
    dname = st.text_input(t("parks.draw.name", lang), key="parks_draw_name", max_chars=120)
    if drawing:
        try:  # the vertex cap is checked before the shape is built (the value comes from the browser)
            poly = displaygeom.drawn_polygon(drawing.get("geometry") if isinstance(drawing, dict) else None)
        except GansuError as e:
            st.error(e.message(lang))
        else:
            st.caption(t("parks.draw.ready", lang))

            def _save_drawn(poly=poly, name=dname.strip()):
                # saved in the callback, so a concurrent rerun cannot drop the click
                gdf = gpd.GeoDataFrame({"drawn": [True]}, geometry=[poly], crs=4326)
                try:
                    st.session_state["parks_drawn_n"] = len(store.add_parks(gdf, names=[name], source="drawn",
                                                                            actor=common.actor()))
                except GansuError as e:  # the store's role check (server side)
                    st.session_state["parks_save_error"] = e.message(lang)

            st.button(t("parks.draw.save", lang), key="parks_draw_save", type="primary",
                      disabled=not dname.strip(), on_click=_save_drawn)
    if st.session_state.get("parks_drawn_n"):  # shown in this tab, not the hidden upload tab
        st.success(t("parks.saved", lang, n=st.session_state.pop("parks_drawn_n")))


# ---------------------------------------------------------------- manage saved parks
def manage_parks(lang: str) -> None:
    """Saved parks: rename, delete (to the recycle bin), attributes — only the parks this session
    may change (its own, or every park for an admin); the store checks again on save."""
    store = common.store()
    mine = store.parks()
    if not len(mine):
        return
    mine = auth.owner_filter(mine, lang, key="parks_owner_filter")
    who = common.actor()
    mine = mine[[store.allowed(who, "owner", o) for o in mine["created_by"]]] if len(mine) else mine
    if not len(mine):
        return
    st.subheader(t("parks.manage", lang))
    ed = pd.DataFrame({"park_id": mine["park_id"], "name": mine["name"],
                       "source": [t(f"parks.source.{s}", lang) for s in mine["source"]],
                       "created_by": mine["created_by"].fillna(""), "delete": False})
    if store.single_user():  # one user: no owner column (the table as before accounts)
        ed = ed.drop(columns=["created_by"])
    edited = st.data_editor(ed, hide_index=True, disabled=["park_id", "source", "created_by"], key="parks_editor",
                            column_config=tables.column_config(ed.columns, lang, {
                                "name": t("parks.col.name", lang), "delete": t("parks.col.delete", lang),
                                "source": t("parks.col.source", lang), "created_by": t("auth.col.owner", lang)}),
                            placeholder=tables.NA)
    st.button(t("parks.manage.apply", lang), key="parks_manage_apply", on_click=_apply_manage,
              args=(ed, edited, lang))
    if not store.single_user():  # one park at a time, by name, to the recycle bin
        names = dict(zip(mine["park_id"], mine["name"]))
        d1, d2 = st.columns([3, 1], vertical_alignment="bottom")
        victim = d1.selectbox(t("parks.delete.pick", lang), list(names), format_func=lambda p: f"{names[p]} ({p})",
                              key="parks_delete_pick")
        d2.button(t("parks.delete.do", lang), key="parks_delete_btn", on_click=_delete_one, args=(victim, lang))
    done = st.session_state.pop("parks_manage_result", None)
    if done:
        (st.success if done[0] == "success" else st.error)(done[1])
    with st.expander(t("parks.attrs", lang)):
        target = st.selectbox(t("parks.attrs.park", lang), list(mine["park_id"]),
                              format_func=lambda p: f"{p} · {dict(zip(mine['park_id'], mine['name']))[p]}",
                              key="parks_attr_target")
        attrs = mine.loc[mine["park_id"] == target, "attrs"].iloc[0] or {}
        at_df = pd.DataFrame({"key": list(attrs), "value": [str(v) for v in attrs.values()]})
        at_ed = st.data_editor(at_df, num_rows="dynamic", hide_index=True, key="parks_attr_editor",
                               column_config=tables.column_config(at_df.columns, lang, {
                                   "key": t("parks.col.attr_key", lang), "value": t("parks.col.attr_value", lang)}),
                               placeholder=tables.NA)
        if st.button(t("parks.attrs.save", lang), key="parks_attr_save"):
            new = {str(k): v for k, v in zip(at_ed["key"], at_ed["value"]) if str(k).strip()}
            try:
                store.update_park_attrs(target, new, actor=common.actor(),
                                        expected_version=seen_versions.expected("parks", target))
            except GansuError as e:  # the role check, or someone saved the park since (who and when)
                st.error(e.message(lang))
            else:
                st.success(t("parks.saved", lang, n=1))
    seen_versions.remember("parks")  # what this run showed: the next save is checked against it


def _apply_manage(ed: pd.DataFrame, edited: pd.DataFrame, lang: str) -> None:
    """Renames and deletions (to the recycle bin), in the button's callback."""
    store, who = common.store(), common.actor()
    renamed = 0
    try:
        for (_, old), (_, new) in zip(ed.iterrows(), edited.iterrows()):
            if not new["delete"] and str(new["name"]).strip() and new["name"] != old["name"]:
                store.rename_park(new["park_id"], str(new["name"]).strip(), actor=who,
                                  expected_version=seen_versions.expected("parks", new["park_id"]))
                renamed += 1
        gone = list(edited.loc[edited["delete"], "park_id"])
        if gone:
            store.delete_parks(gone, actor=who)
    except GansuError as e:
        st.session_state["parks_manage_result"] = ("error", e.message(lang))
        return
    msg = t("parks.manage.done", lang, renamed=renamed, deleted=len(gone))
    st.session_state["parks_manage_result"] = ("success", msg + (" " + t("bin.moved", lang) if gone else ""))


def _delete_one(park_id: str, lang: str) -> None:
    try:
        common.store().delete_parks([park_id], actor=common.actor())
    except GansuError as e:
        st.session_state["parks_manage_result"] = ("error", e.message(lang))
        return
    st.session_state["parks_manage_result"] = ("success", t("bin.moved", lang))


def park_bin(lang: str) -> None:
    """Deleted parks, restorable here by their owner or an admin (the whole bin is on the Data page)."""
    if auth.can("editor") and len(common.store().bin_entries().query("item_type == 'park'")):
        with st.expander(t("bin.title", lang)):
            auth.bin_section(lang, item_type="park", key="parks_bin")

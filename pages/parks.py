"""Parks: every park (illustrative defaults + the user's) with the indicator engine's numbers,
a detail card, adding parks by upload or drawing, managing saved parks, and reports."""
import folium
import geopandas as gpd
import pandas as pd
import plotly.express as px
import pyproj
import shapely
import streamlit as st
from streamlit_folium import st_folium

from indicators import table as ind
from layers.legends import CLASSES
import reports
from layers import readers
from ui import mapview
from core.i18n import pick, t
from ui import common, parks, report, tables

lg = common.page("parks.title", "parks.intro")
store = common.store()
df = parks.current()
geo = parks.current_parks()

# ---------------------------------------------------------------- indicators table
st.warning(t("parks.demo_note", lg))
# the indicator table's summary columns (park id and name first), the park's source after them
cols = ind.summary_columns(df.columns)
cols.insert(cols.index("name") + 1, "source")
view = df[cols].copy()
view["source"] = [t(f"parks.source.{s}", lg) for s in view["source"]]
view["reliability"] = [reports.value_text("reliability", v, lg) for v in view["reliability"]]
extra = report.park_columns()
heads = tables.headers(cols, lg, extra)  # id -> label (unit), in the UI language


def _colour(row):
    out = [""] * len(row)
    g = row[heads["green_pass"]]
    if not pd.isna(g):  # NA: no land-cover data under the park (reason shown below the table)
        out[cols.index("green_pass")] = "background-color: #d7f2dc" if g else "background-color: #f9d6d5"
    r = row[heads["redline_overlap_km2"]]
    if not pd.isna(r) and r > 0:
        out[cols.index("redline_overlap_km2")] = "background-color: #f9d6d5"
    return out


styled = tables.labelled(view, lg, extra).style.apply(_colour, axis=1).format(
    tables.formats(cols, lg, extra), na_rep="—")
st.dataframe(styled, hide_index=True, width="stretch", key="parks_table")
low = df[df["reliability"] != "ok"]
if len(low):
    st.info(t("parks.reliability_note", lg, n=len(low)))
bad = df[df["reason"].fillna("") != ""]
for r in bad.itertuples():
    st.caption(f"{r.park_id} · {r.name}: {pick(r.reason_zh, r.reason, lg)}")

# ---------------------------------------------------------------- exports
st.subheader(t("parks.export", lg))
e1, e2, e3, e4 = st.columns(4)
export_gdf = geo[["park_id", "geometry"]].merge(df, on="park_id")
# files are built only when clicked (deferred data)
e1.download_button("CSV", lambda: reports.csv_bytes(df), "parks_indicators.csv",
                   "text/csv", key="dl_csv", on_click="ignore")
e2.download_button("Excel", lambda: report.parks_excel(df, lg), "parks_indicators.xlsx",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx",
                   on_click="ignore")
e3.download_button("GeoJSON", lambda: reports.geojson_bytes(export_gdf), "parks_indicators.geojson",
                   "application/geo+json", key="dl_geojson", on_click="ignore")
e4.download_button("GeoPackage", lambda: reports.gpkg_bytes(export_gdf), "parks_indicators.gpkg",
                   "application/geopackage+sqlite3", key="dl_gpkg", on_click="ignore")

# ---------------------------------------------------------------- detail card
pid = parks.park_picker(df, lg, key="parks_selected")
row = df[df["park_id"] == pid].iloc[0]
st.subheader(f"{row['name']} ({pid})")
c1, c2, c3, c4 = st.columns(4)
c1.metric(ind.label("carbon_stock_tc", lg, True), f"{row['carbon_stock_tc']:,.0f}")
c2.metric(ind.label("carbon_sink_tco2_yr", lg, True), f"{row['carbon_sink_tco2_yr']:,.0f}")
c3.metric(ind.label("green_coverage_pct", lg, True), f"{row['green_coverage_pct']:.1f}",
          None if pd.isna(row["green_pass"]) else t("parks.pass", lg) if row["green_pass"] else t("parks.fail", lg))
c4.metric(ind.label("redline_overlap_pct", lg, True), f"{row['redline_overlap_pct']:.1f}")
left, mid, right = st.columns(3)
with left:
    comp = pd.DataFrame({"class": [pick(c.label_zh, c.label_en, lg) for c in CLASSES],
                         "km2": [row[f"lc_{c.id}_km2"] for c in CLASSES], "color": [c.color for c in CLASSES]})
    comp = comp[comp["km2"] > 0]
    fig = px.pie(comp, names="class", values="km2", color="class",
                 color_discrete_sequence=list(comp["color"]), title=t("parks.composition", lg))
    fig.update_layout(height=300, margin=dict(l=0, r=0, t=40, b=0))
    st.plotly_chart(fig, width="stretch")
with mid:
    pools = pd.DataFrame({"pool": [ind.label(f"carbon_{p}_tc", lg) for p in ind.POOLS],
                          "tc": [row[f"carbon_{p}_tc"] for p in ind.POOLS]})
    fig = px.bar(pools, x="pool", y="tc", title=t("parks.pools", lg), labels={"tc": "t C", "pool": ""})
    fig.update_layout(height=300, margin=dict(l=0, r=0, t=40, b=0))
    st.plotly_chart(fig, width="stretch")
with right:  # the map zoomed to the selected park
    pm = mapview.park_detail_map(geo[geo["park_id"] == pid].geometry.iloc[0], lg,
                                 redline=common.load_layer("protection_proxy")[0])
    st_folium(pm, height=300, use_container_width=True, returned_objects=[], key=f"park_map_{pid}")
dist_cols = [c for c in df.columns if c.startswith("dist_") and c.endswith("_km")]
facts = {ind.label(c, lg, True): f"{row[c]:.1f}" for c in dist_cols}
facts[ind.label("zone", lg)] = row["zone"]
facts[ind.label("redline_overlap_km2", lg, True)] = f"{row['redline_overlap_km2']:.2f}"
facts[ind.label("reliability", lg)] = reports.value_text("reliability", row["reliability"], lg)
st.table(pd.DataFrame({"": list(facts), " ": list(facts.values())}).set_index(""))
note = pick(row.get("warnings_zh"), row.get("warnings"), lg)
if isinstance(note, str) and note:
    st.caption(note)
with st.expander(t("parks.definitions", lg)):
    st.dataframe(tables.labelled(ind.table_frame(lg)[["id", "label", "unit", "description", "direction"]], lg),
                 hide_index=True, width="stretch")

# ---------------------------------------------------------------- add parks
st.subheader(t("parks.add", lg))
# the drawing map (province outline, every park, Leaflet.draw) is built and sent to the browser
# only while its tab is open: most visits never draw, and each map is a full Leaflet page
tab_up, tab_draw = st.tabs([t("parks.add.upload", lg), t("parks.add.draw", lg)], key="parks_add_tab",
                           on_change="rerun")
CRS_CHOICES = ["auto", "EPSG:4490", "EPSG:4326"] + [f"EPSG:{c}" for c in
              (4519, 4520, 4521, 4522, 4523, 4524, 4540, 4541, 4542, 4543, 4544, 4545, 4494, 4495, 4496,
               4505, 4506, 4507)]


def _crs_label(code: str) -> str:
    if code == "auto":
        return t("parks.crs.auto", lg)
    return f"{code} · {pyproj.CRS.from_user_input(code).name}"


with tab_up:
    st.caption(t("parks.upload.help", lg))
    # after a save the uploader starts empty (a new widget key), so the same file cannot be saved
    # twice by a second click; the box keeps one stable CSS key for the browser tests
    gen = st.session_state.get("parks_upload_gen", 0)
    with st.container(key="parks_upload_box"):
        up = st.file_uploader(t("parks.upload.file", lg), type=sorted(e.lstrip(".") for e in readers.PARK_EXT),
                              key="parks_upload" if gen == 0 else f"parks_upload_{gen}")
    o1, o2, o3 = st.columns(3)
    crs_choice = o1.selectbox(t("parks.crs", lg), CRS_CHOICES, format_func=_crs_label, key="parks_crs")
    gcj = o2.checkbox(t("parks.gcj", lg), key="parks_gcj", help=t("parks.gcj.help", lg))
    layer = None
    if up is not None:
        data = up.getvalue()
        try:
            layers_ = parks.upload_layers(up.name, data)
            if len(layers_) > 1:
                layer = o3.selectbox(t("parks.layer", lg), layers_, key="parks_layer")
            res = parks.read_upload(up.name, data, layer, None if crs_choice == "auto" else crs_choice, gcj)
        except readers.CRSMissing as e:
            st.error(t("err.upload.prefix", lg, name=up.name[:120]) + e.message(lg))
            if e.candidates:
                st.info(t("parks.crs.pick", lg, codes=", ".join(e.candidates)))
        except readers.UploadError as e:
            st.error(t("err.upload.prefix", lg, name=up.name[:120]) + e.message(lg))
        else:
            gdf = res.gdf
            for zh, en in res.notes:
                st.caption(pick(zh, en, lg))
            cols_ = [c for c in gdf.columns if c != gdf.geometry.name]
            guess = readers._first(cols_, readers.NAME_FIELDS)
            name_field = st.selectbox(t("parks.name_field", lg), ["—"] + cols_,
                                      index=(cols_.index(guess) + 1) if guess else 0, key="parks_name_field")
            st.dataframe(gdf.drop(columns=gdf.geometry.name).head(10), hide_index=True)
            st.caption(t("parks.upload.preview", lg, n=len(gdf), crs=res.source_crs or "?"))
            base = up.name.rsplit(".", 1)[0][:60]
            nm = [str(v) for v in gdf[name_field]] if name_field != "—" else \
                [f"{base} {i + 1}" for i in range(len(gdf))]

            def _save_upload(gdf=gdf, nm=nm, fname=up.name[:200], src_crs=res.source_crs):
                # a callback runs before the next script run starts: a rerun requested meanwhile
                # (another widget, a map) cannot interrupt the run and drop the click
                st.session_state["parks_saved_n"] = len(store.add_parks(
                    gdf, names=nm, source="upload", source_file=fname, source_crs=src_crs))
                st.session_state["parks_upload_gen"] = st.session_state.get("parks_upload_gen", 0) + 1

            st.button(t("parks.upload.save", lg), key="parks_upload_save", type="primary", on_click=_save_upload)
    if st.session_state.get("parks_saved_n"):
        st.success(t("parks.saved", lg, n=st.session_state.pop("parks_saved_n")))

with tab_draw:
    if tab_draw.open:
        st.caption(t("parks.draw.help", lg))
        dm = mapview.new_map(lg)
        folium.GeoJson(common.layer_geojson("province", common.build_id(), None, gcj=False),  # cached
                       style_function=lambda f: {"color": "#222", "weight": 2, "fillOpacity": 0}).add_to(dm)
        folium.GeoJson(shapely.geometry.mapping(shapely.union_all(geo.geometry.values)),
                       style_function=lambda f: {"color": "#6a1b9a", "weight": 2, "fillColor": "#e040fb",
                                                 "fillOpacity": 0.5}).add_to(dm)
        mapview.add_draw(dm)
        out = st_folium(dm, height=520, use_container_width=True, key="parks_draw_map",
                        returned_objects=["last_active_drawing"])
        drawing = (out or {}).get("last_active_drawing")
        dname = st.text_input(t("parks.draw.name", lg), key="parks_draw_name", max_chars=120)
        if drawing:
            try:
                poly = shapely.geometry.shape(drawing["geometry"])
                ok = poly.geom_type == "Polygon" and poly.is_valid and not poly.is_empty
            except Exception:
                ok = False
            if not ok:
                st.error(t("parks.draw.invalid", lg))
            else:
                st.caption(t("parks.draw.ready", lg))

                def _save_drawn(poly=poly, name=dname.strip()):
                    # saved in the callback, so a concurrent rerun cannot drop the click
                    gdf = gpd.GeoDataFrame({"drawn": [True]}, geometry=[poly], crs=4326)
                    st.session_state["parks_drawn_n"] = len(store.add_parks(gdf, names=[name], source="drawn"))

                st.button(t("parks.draw.save", lg), key="parks_draw_save", type="primary",
                          disabled=not dname.strip(), on_click=_save_drawn)
        if st.session_state.get("parks_drawn_n"):  # shown in this tab, not the hidden upload tab
            st.success(t("parks.saved", lg, n=st.session_state.pop("parks_drawn_n")))

# ---------------------------------------------------------------- manage saved parks
mine = store.parks()
if len(mine):
    st.subheader(t("parks.manage", lg))
    ed = pd.DataFrame({"park_id": mine["park_id"], "name": mine["name"],
                       "source": [t(f"parks.source.{s}", lg) for s in mine["source"]],
                       "delete": False})
    edited = st.data_editor(ed, hide_index=True, disabled=["park_id", "source"], key="parks_editor",
                            column_config=tables.column_config(ed.columns, lg, {
                                "name": t("parks.col.name", lg), "delete": t("parks.col.delete", lg),
                                "source": t("parks.col.source", lg)}))
    if st.button(t("parks.manage.apply", lg), key="parks_manage_apply"):
        renamed = 0
        for (_, old), (_, new) in zip(ed.iterrows(), edited.iterrows()):
            if not new["delete"] and str(new["name"]).strip() and new["name"] != old["name"]:
                store.rename_park(new["park_id"], str(new["name"]).strip())
                renamed += 1
        gone = list(edited.loc[edited["delete"], "park_id"])
        if gone:
            store.delete_parks(gone)
        st.success(t("parks.manage.done", lg, renamed=renamed, deleted=len(gone)))
        st.rerun()
    with st.expander(t("parks.attrs", lg)):
        target = st.selectbox(t("parks.attrs.park", lg), list(mine["park_id"]),
                              format_func=lambda p: f"{p} · {dict(zip(mine['park_id'], mine['name']))[p]}",
                              key="parks_attr_target")
        attrs = mine.loc[mine["park_id"] == target, "attrs"].iloc[0] or {}
        at_df = pd.DataFrame({"key": list(attrs), "value": [str(v) for v in attrs.values()]})
        at_ed = st.data_editor(at_df, num_rows="dynamic", hide_index=True, key="parks_attr_editor",
                               column_config=tables.column_config(at_df.columns, lg, {
                                   "key": t("parks.col.attr_key", lg), "value": t("parks.col.attr_value", lg)}))
        if st.button(t("parks.attrs.save", lg), key="parks_attr_save"):
            new = {str(k): v for k, v in zip(at_ed["key"], at_ed["value"]) if str(k).strip()}
            store.update_park_attrs(target, new)
            st.success(t("parks.saved", lg, n=1))

"""The Parks page's detail card of one park: carbon stock and sink (their low – high range in the
help), the vegetated share on the map, the red-line overlap, the land-cover composition and the
carbon pools, the park on a map, the facts table, and the class transitions when two land-cover
years are in use. An unknown value reads "—" and its help (or the panel) says why."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st
from streamlit_folium import st_folium

import reports
from core.errors import GansuError
from core.i18n import t
from core.text import pick
from indicators import change, green
from indicators import table as ind
from layers.legends import CLASSES
from ui import charts, checklist_form, common, data_in_use, map_tiles, mapview, parks, tables
from ui import targets as tg_ui
from ui.mdtext import md

CHANGE_COLUMNS = ("carbon_stock_alt_tc", "carbon_change_tc")  # shown when two years are in use


def _num(v) -> str:
    """A figure with thousands separators, "—" when missing (never "nan")."""
    return tables.cell(v, "{:,.0f}")


def why(row, lang: str) -> str:
    """The row's reason in ``lang`` ("" when it has none)."""
    return str(pick(row.get("reason_zh") or "", row.get("reason") or "", lang) or "")


def _help(row, lang: str, known: str, *values) -> str:
    """A metric's help: ``known`` when every value is known, else why it reads "—"."""
    reason = why(row, lang)
    if reason and any(v is None or pd.isna(v) for v in values):
        return t("na.help", lang, reason=reason)
    return known


def _range(row, low: str, high: str) -> str:
    """"low – high" of a carbon figure."""
    return f"{_num(row.get(low))} – {_num(row.get(high))}"


# The card's charts, made once per content for every session: kept pickled (st.cache_data), so each
# run gets its own copy and the cache adds nothing for the collector to walk after every run
# (unpickling a figure: ~9 ms; making it: ~25 ms).
@st.cache_data(show_spinner=False, max_entries=128)
def _pie(labels: tuple[str, ...], km2: tuple[float, ...], colors: tuple[str, ...]):
    return charts.composition_pie(labels, km2, colors)


@st.cache_data(show_spinner=False, max_entries=128)
def _bars(labels: tuple[str, ...], tc: tuple[float, ...]):
    return charts.pools_bar(labels, tc)


def detail_card(df: pd.DataFrame, geo: gpd.GeoDataFrame, lang: str) -> None:
    pid = parks.park_picker(df, lang, key="parks_selected")
    row = df[df["park_id"] == pid].iloc[0]
    st.subheader(f"{md(row['name'])} ({md(pid)})")
    c1, c2, c3, c4 = st.columns(4)
    stock, sink = row.get("carbon_stock_tc"), row.get("carbon_sink_tco2_yr")
    c1.metric(ind.label("carbon_stock_tc", lang, True), _num(stock),  # the low – high range in the help
              help=_help(row, lang, _range(row, "carbon_stock_low_tc", "carbon_stock_high_tc"), stock))
    c2.metric(ind.label("carbon_sink_tco2_yr", lang, True), _num(sink),
              help=_help(row, lang, _range(row, "carbon_sink_low_tco2_yr", "carbon_sink_high_tco2_yr"), sink))
    veg = row.get("vegetated_share_pct")
    c3.metric(ind.label("vegetated_share_pct", lang, True), tables.cell(veg, "{:.1f}"),
              help=_help(row, lang, green.map_hint(row).text().pick(lang), veg))
    red = row.get("redline_overlap_pct")
    c4.metric(ind.label("redline_overlap_pct", lang, True), tables.cell(red, "{:.1f}"), help=_help(row, lang, None, red))
    left, mid, right = st.columns(3)
    comp = pd.DataFrame({"class": [pick(c.label_zh, c.label_en, lang) for c in CLASSES],
                         "km2": [row[f"lc_{c.id}_km2"] for c in CLASSES], "color": [c.color for c in CLASSES]})
    comp = comp[comp["km2"] > 0]
    pools = pd.DataFrame({"pool": [ind.label(f"carbon_{p}_tc", lang) for p in ind.POOLS],
                          "tc": [row[f"carbon_{p}_tc"] for p in ind.POOLS]}).dropna()
    no_lc = t("na.no_landcover", lang, reason=why(row, lang) or tables.NA)
    with left:
        st.markdown(f"**{t('parks.composition', lang)}**")
        if len(comp):
            st.plotly_chart(_pie(tuple(comp["class"]), tuple(map(float, comp["km2"])), tuple(comp["color"])),
                            width="stretch")
        else:  # no land cover over the park: say why rather than draw an empty chart
            st.info(md(no_lc))
    with mid:
        st.markdown(f"**{t('parks.pools', lang)}**")
        if len(pools):
            st.plotly_chart(_bars(tuple(pools["pool"]), tuple(map(float, pools["tc"]))), width="stretch")
        else:
            st.info(md(no_lc))
    with right:  # the map zoomed to the selected park
        pm = mapview.park_detail_map(geo[geo["park_id"] == pid].geometry.iloc[0], lang,
                                     redline=common.load_layer("protection_proxy")[0])
        try:
            lc = data_in_use.landcover_dataset()
        except GansuError:  # the dataset in use is gone: the map without it
            lc = None
        if lc is not None:  # the land cover in use at full resolution under the park (tiles of its COG)
            map_tiles.add_landcover(pm, lc, f"{lc.label(lang)} · {t('map.status.user', lang)}", 0.6, True, gcj=False)
        st_folium(pm, height=300, use_container_width=True, returned_objects=[], key=f"park_map_{pid}")
    dist_cols = [c for c in df.columns if c.startswith("dist_") and c.endswith("_km")]
    facts = {ind.label(c, lang, True): tables.cell(row[c], "{:.1f}") for c in dist_cols}
    for c in CHANGE_COLUMNS:
        if c in df.columns:
            facts[ind.label(c, lang, True)] = tables.cell(row[c], "{:,.0f}")
    facts[ind.label("zone", lang)] = tables.cell(row["zone"])
    facts[ind.label("redline_overlap_km2", lang, True)] = tables.cell(row["redline_overlap_km2"], "{:.2f}")
    facts[ind.label("reliability", lang)] = tables.cell(reports.value_text("reliability", row["reliability"], lang))
    facts[t("parks.greening", lang)] = checklist_form.greening_text(pid, lang)
    facts[ind.label("landcover_pixel_m", lang, True)] = _num(row.get("landcover_pixel_m"))
    st.table(pd.DataFrame({"": list(facts), " ": list(facts.values())}).set_index(""))
    note = pick(row.get("warnings_zh"), row.get("warnings"), lang)
    if isinstance(note, str) and note:
        st.caption(md(note))
    park_transitions(pid, geo, lang)
    with st.expander(t("parks.definitions", lang)):
        st.dataframe(tables.labelled(ind.table_frame(lang)[["id", "label", "unit", "description", "direction"]], lang),
                     hide_index=True, width="stretch", placeholder=tables.NA)


@st.cache_data(show_spinner=False, max_entries=32)
def _transitions(fingerprint: str, pid: str, wkb: bytes, base: str, alt: str, legend) -> pd.DataFrame:
    zone = gpd.GeoSeries.from_wkb([wkb], crs=4326)
    return change.transitions(zone, base, alt, legend, names=[pid], include_total=False).matrices[pid]


def park_transitions(pid: str, geo: gpd.GeoDataFrame, lang: str) -> None:
    """With two land-cover years in use: the park's class transitions (km²), labelled matrix."""
    try:
        inputs = data_in_use.inputs()
    except GansuError:
        return
    if not inputs.landcover_alt:
        return
    alt = data_in_use.landcover_alt_dataset()
    base = data_in_use.landcover_dataset()
    years = " → ".join(md(d.year or d.name) for d in (base, alt) if d is not None)
    st.markdown(f"**{t('parks.change.title', lang, years=years)}**")
    park = geo[geo["park_id"] == pid].to_crs(4326).geometry.iloc[0]
    try:
        m = _transitions(inputs.fingerprint, pid, shapely.to_wkb(park), inputs.landcover, inputs.landcover_alt,
                         inputs.kwargs()["legend"])
    except GansuError as e:
        st.error(e.message(lang))
        return
    if m.to_numpy().sum() <= 0:
        st.caption(t("parks.change.none", lang))
        return
    st.dataframe(tg_ui.matrix_labelled(m, lang), width="stretch", key="parks_transitions", placeholder=tables.NA)
    st.caption(t("parks.change.note", lang))

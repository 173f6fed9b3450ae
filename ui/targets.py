"""The Targets page's pieces: official statistics in the store, the labelled tables, land-cover
proxy statistics per unit (computed once per raster content; large rasters in a background
job), transitions between two years, and one function per tab (the progress tab in
``ui.targets_progress``). The labelled tables, labels and charts of the page are in
``ui.targets_views``.

No computation here (``indicators.targets``, ``indicators.zonestats``, ``indicators.change`` do
it). Neighbours: ``ui.jobs`` (the job queue), ``ui.raster_sources`` (which raster, its hash),
``ui.charts`` (the figures); workbooks come from ``reports.excel_bytes``.
"""
from __future__ import annotations

import dataclasses
import time

import pandas as pd
import streamlit as st

import reports
from core.errors import InputError
from core.i18n import t
from core.text import pick
from indicators import change, zonestats
from indicators import targets as tg
from storage import stats_store
from storage.store import Store
from ui import auth, charts, common, jobs, tables
from ui import raster_sources as rs
from ui.mdtext import md
from ui.targets_progress import progress_tab  # noqa: F401 - the progress tab (its own module)
from ui.targets_views import (  # the labelled views of this page (some used by callers through this module)
    change_chart,
    change_summary,
    definitions,
    indicators_view,
    matrix_labelled,
    metric_options,
    progress_view,  # noqa: F401
    proxy_table,
    reference_view,  # noqa: F401
    source_card,  # noqa: F401
    stats_column_config,
    styled_progress,  # noqa: F401
    targets,
    targets_view,
    workbook,
    zone_label,
)

SYNC_MAX_PIXELS = 4_000_000  # rasters up to this size are computed inline (< 1 s); larger: background
LEVELS = ("zone", "prefecture", "county", "province")
LEVEL_LAYER = {"zone": "zones", "prefecture": "prefectures", "county": "counties", "province": "province"}


# --- store -------------------------------------------------------------------------------------
def store() -> Store:
    s = common.store()
    if not getattr(s, "_targets_ready", False):
        stats_store.ensure(s, tg.load_seed_stats())
        s._targets_ready = True
    return s


def official(s: Store) -> pd.DataFrame:
    """The store's statistics; seed rows read with the current seed's basis (``tg.refresh_seed``)."""
    return tg.refresh_seed(stats_store.official_stats(s))


def apply_stats(s: Store, data: bytes, mode: str) -> int:
    """Validate CSV bytes and save them (``merge`` or ``replace``); raises InputError, changes
    nothing on any error."""
    if not data.strip():
        raise InputError("没有可导入的内容：请选择 CSV 文件或粘贴表格", "nothing to import: choose a CSV file or paste a table")
    df = tg.validate_stats(tg.read_stats_bytes(data), targets())
    if mode == "replace":
        stats_store.replace_official_stats(s, df, actor=common.actor())
    else:
        stats_store.upsert_official_stats(s, df, actor=common.actor())
    return len(df)


def save_edited(s: Store, edited: pd.DataFrame) -> int:
    df = edited.dropna(how="all")
    df = tg.validate_stats(df.astype(object).where(df.notna(), ""), targets())
    df = tg.mark_user_edits(df, tg.load_seed_stats())  # an edited seed row is the user's, not the press's
    stats_store.replace_official_stats(s, df, actor=common.actor())
    return len(df)


def flash(msg: str, kind: str = "success") -> None:
    st.session_state["targets_flash"] = (kind, msg)


def show_flash() -> None:
    f = st.session_state.pop("targets_flash", None)
    if f:
        getattr(st, f[0])(f[1])


# --- units (province, zones, prefectures, counties) --------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=8)
def _units(build: str, zones_upload: str | None):
    prov = common.cached_layer("province", build, None)
    pref = common.cached_layer("prefectures", build, None)
    cnty = common.cached_layer("counties", build, None)
    zones = common.cached_layer("zones", build, zones_upload)
    base, levels = zonestats.gansu_levels(prov, pref, cnty, zones, zones_from_counties=zones_upload is None)
    return base, levels, zonestats.polygons_key(base.polygons, levels)


def units():
    return _units(common.build_id(), common.active_upload_id("zones"))


@st.cache_data(show_spinner=False, max_entries=16)
def level_geojson(level: str, build: str, zones_upload: str | None) -> dict:
    layer = LEVEL_LAYER[level]
    gdf = common.cached_layer(layer, build, zones_upload if layer == "zones" else None)
    gdf = gdf[[gdf.geometry.name]].copy()
    if level == "zone":
        src = common.cached_layer("zones", build, zones_upload)
        gdf["unit_id"] = (src["zone_id"].astype(str) if zones_upload is None and "zone_id" in src.columns
                          else [f"zone_{i}" for i in range(len(src))])
    elif level == "province":
        gdf["unit_id"] = "province"
    else:
        gdf["unit_id"] = common.cached_layer(layer, build, None)["adcode"].astype(str)
    gdf["geometry"] = gdf.geometry.simplify(0.01 if level != "county" else 0.005)
    return gdf.__geo_interface__


def choropleth(df: pd.DataFrame, level: str, metric: str, lang: str):
    d = df[df["level"] == level].copy()
    d["carbon_density_tc_ha"] = d["carbon_stock_tc"] / (d["landcover_valid_km2"] * 100).where(d["landcover_valid_km2"] > 0)
    d["name"] = [pick(a, b, lang) for a, b in zip(d["name_zh"], d["name_en"])]
    geo = level_geojson(level, common.build_id(), common.active_upload_id("zones"))
    return charts.choropleth(d, geo, metric, metric_options(lang)[metric])


# --- zone statistics: once per content, in the background --------------------------------------
@dataclasses.dataclass
class ZoneStats:
    state: str  # ready | running | error
    df: pd.DataFrame | None = None
    job: jobs.Job | None = None
    error: InputError | None = None
    from_cache: bool = False


def _compute_and_store(s: Store, raster, legend: str, base, levels, pkey: str, sha: str, job: jobs.Job | None):
    t0 = time.perf_counter()
    if job is not None:
        job.phase = "computing"
    df = zonestats.compute(base, levels, raster, legend, progress=job.progress if job is not None else None)
    key = stats_store.cache_key(sha, legend, pkey, zonestats.ALGO_VERSION)
    stats_store.put_zone_stats(s, key, raster_sha256=sha, legend=legend, polygons_key=pkey,
                               algo=zonestats.ALGO_VERSION, seconds=time.perf_counter() - t0, df=df)
    return df


def _zone_stats_job(job: jobs.Job, s: Store, raster, legend, base, levels, pkey):
    job.phase = "hashing"
    sha = rs.raster_sha(raster, allow_slow=True)
    cached = stats_store.get_zone_stats(s, stats_store.cache_key(sha, legend, pkey, zonestats.ALGO_VERSION))
    return cached if cached is not None else _compute_and_store(s, raster, legend, base, levels, pkey, sha, job)


def zone_stats(s: Store, raster, legend: str) -> ZoneStats:
    """Cached result if this raster content × legend × unit set was computed before (store);
    small rasters are computed inline; large ones in a background job (poll again)."""
    base, levels, pkey = units()
    sha = rs.raster_sha(raster)
    if sha is not None:
        cached = stats_store.get_zone_stats(s, stats_store.cache_key(sha, legend, pkey, zonestats.ALGO_VERSION))
        if cached is not None:
            return ZoneStats("ready", cached, from_cache=True)
        if rs.raster_pixels(raster) <= SYNC_MAX_PIXELS:
            try:
                return ZoneStats("ready", _compute_and_store(s, raster, legend, base, levels, pkey, sha, None))
            except InputError as e:
                return ZoneStats("error", error=e)
    job = jobs.submit((rs.file_key(raster), legend, pkey), _zone_stats_job, s, raster, legend, base, levels, pkey,
                      name="targets-zone-stats")
    if job.phase == "done":
        return ZoneStats("ready", job.result)
    if job.phase == "error":
        return ZoneStats("error", error=job.error, job=job)
    return ZoneStats("running", job=job)


# --- change between two years ------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=8)
def _transitions(base_sha: str, alt_sha: str, base_path: str, alt_path: str, legend: str, build: str,
                 zones_upload: str | None):
    zones = common.cached_layer("zones", build, zones_upload)
    names = zones["name_zh"].astype(str).tolist()
    return change.transitions(zones, base_path, alt_path, legend, names=names)


def transitions(base_path, alt_path, legend: str) -> change.ChangeResult:
    return _transitions(rs.raster_sha(base_path, True), rs.raster_sha(alt_path, True), str(base_path), str(alt_path),
                        legend, common.build_id(), common.active_upload_id("zones"))


# --- the tabs ------------------------------------------------------------------------------------
def tabs(lang: str):
    return st.tabs([t(f"targets.tab.{k}", lang) for k in ("progress", "stats", "landcover", "change", "landchange",
                                                          "targets")])


def stats_tab(s: Store, tdf: pd.DataFrame, stats: pd.DataFrame, lang: str) -> None:
    st.subheader(t("targets.stats.title", lang))
    st.caption(t("targets.stats.help", lang))
    if not auth.can("admin"):  # official statistics are an admin's to change (the store refuses too)
        st.dataframe(stats, width="stretch", hide_index=True, key="targets_stats_view",
                     column_config=stats_column_config(tdf, lang), placeholder=tables.NA)
        st.caption(t("targets.stats.admin_only", lang))
        return
    edited = st.data_editor(stats, num_rows="dynamic", width="stretch", key="targets_stats_editor",
                            column_config=stats_column_config(tdf, lang), placeholder=tables.NA)
    if st.button(t("targets.stats.save", lang), key="targets_stats_save"):
        _save_and_flash(lambda: save_edited(s, edited), lang)
    st.markdown(f"**{t('targets.stats.upload', lang)}**")
    up = st.file_uploader(t("targets.stats.file", lang), type=["csv"], key="targets_stats_file")
    pasted = st.text_area(t("targets.stats.paste", lang), key="targets_stats_paste", height=110,
                          placeholder=",".join(tg.STAT_COLUMNS))
    mode = st.radio(t("targets.stats.mode", lang), ["merge", "replace"], horizontal=True,
                    format_func=lambda m: t(f"targets.stats.mode.{m}", lang), key="targets_stats_mode")
    if st.button(t("targets.stats.apply", lang), key="targets_stats_apply"):
        data = up.getvalue() if up is not None else pasted.encode("utf-8")
        _save_and_flash(lambda: apply_stats(s, data, mode), lang)
    st.download_button(t("targets.stats.template", lang), reports.csv_bytes(stats),
                       "official_stats.csv", "text/csv", key="targets_stats_template")
    with st.expander(t("targets.stats.indicators", lang)):
        st.dataframe(indicators_view(tdf, lang), hide_index=True, width="stretch", key="targets_indicators_table",
                     placeholder=tables.NA)


def _save_and_flash(save, lang: str) -> None:
    try:
        n = save()
    except InputError as e:
        st.error(t("targets.stats.invalid", lang) + e.message(lang))
    else:
        flash(t("targets.stats.saved", lang, n=n))
        st.rerun()


def landcover_source(lang: str) -> tuple:
    """(raster path or None, legend id) from the source radio: the land cover in use with its
    legend (the built-in one with its catalog legend when none is chosen), an upload, or a
    server path."""
    name = rs.in_use_name(lang)

    def label(v: str) -> str:
        return t("targets.lc.source.in_use", lang, name=name) if v == "default" and name else \
            t(f"targets.lc.source.{v}", lang)

    src = st.radio(t("targets.lc.source", lang), ["default", "upload", "path"], horizontal=True,
                   format_func=label, key="targets_lc_source")
    if src == "default":
        try:
            raster, legend, _ = rs.in_use("landcover")
        except InputError as e:
            st.error(e.message(lang))
            return None, rs.default_legend()
        return raster, legend
    legend = st.selectbox(t("targets.lc.legend", lang), rs.legend_choices(), key="targets_lc_legend",
                          format_func=rs.legend_name)
    return rs.raster_input(lang, "targets_lc", upload=src == "upload", path=src == "path"), legend


def landcover_tab(s: Store, stats: pd.DataFrame, lang: str) -> None:
    st.subheader(t("targets.lc.title", lang))
    st.warning(t("targets.lc.proxy_note", lang))
    definitions(lang)
    raster, legend = landcover_source(lang)
    if raster is None:
        st.info(t("targets.lc.choose", lang))
        return
    res = zone_stats(s, raster, legend)
    if res.state == "running":
        _poll_job(s, raster, legend, lang)
    elif res.state == "error":
        st.error(res.error.message(lang))
    else:
        _proxy_results(res, stats, lang)


def _poll_job(s: Store, raster, legend: str, lang: str) -> None:
    jobs.follow(lambda: zone_stats(s, raster, legend), lang, "targets.lc.background")


def _proxy_results(res: ZoneStats, stats: pd.DataFrame, lang: str) -> None:
    df = res.df
    if res.from_cache:
        st.caption(t("targets.lc.from_cache", lang, seconds=df.attrs.get("seconds", 0.0)))
    prov = df[df["level"] == "province"].iloc[0]
    fc, used = tg.history(stats, "forest_coverage_pct", tg.PROVINCE)  # the province's points on one usable basis
    m1, m2 = st.columns(2)
    m1.metric(t("targets.lc.official_forest", lang), f"{fc['value'].iloc[-1]:.2f}%" if len(fc) else "—",
              help=md(f"{int(fc['year'].iloc[-1])} · {tg.basis_label('forest_coverage_pct', used, lang)} · "
                      f"{fc['source'].iloc[-1]}") if len(fc) else None)
    m2.metric(t("targets.lc.proxy_forest", lang), f"{prov['lc_forest_pct']:.2f}%", help=t("targets.defs.proxy", lang))
    m3, m4 = st.columns(2)
    m3.metric(t("targets.lc.carbon", lang), f"{prov['carbon_stock_tc'] / 1e6:,.1f}")
    m4.metric(t("targets.lc.sink", lang), f"{prov['carbon_sink_tco2_yr'] / 1e6:,.2f}")
    st.caption(t("targets.lc.grass_note", lang))
    level = st.radio(t("targets.lc.level", lang), list(LEVELS), horizontal=True, key="targets_lc_level",
                     format_func=lambda v: t(f"targets.level.{v}", lang))
    opts = metric_options(lang)
    metric = st.selectbox(t("targets.lc.metric", lang), list(opts), format_func=opts.get, key="targets_lc_metric")
    st.plotly_chart(choropleth(df, level, metric, lang), width="stretch", key="targets_choropleth")
    st.dataframe(proxy_table(df, level, lang), hide_index=True, width="stretch", key="targets_lc_table",
                 placeholder=tables.NA)
    st.download_button(t("targets.dl.proxy_xlsx", lang),
                       lambda: workbook({t(f"targets.level.{v}", lang): proxy_table(df, v, lang) for v in LEVELS}, lang),
                       "landcover_proxies.xlsx", key="targets_dl_proxy")


def change_pair(lang: str) -> tuple[list, str] | None:
    """With two land-cover years in use, the choice between them (the default) and other files:
    ([base, alt], legend) for the pair in use, None for files (or when no second year is in use)."""
    try:
        alt = rs.in_use("landcover_alt")
        base = rs.in_use("landcover") if alt is not None else None
    except InputError as e:
        st.error(e.message(lang))
        return None
    if alt is None:
        return None
    src = st.radio(t("targets.change.source", lang), ["in_use", "files"], horizontal=True, key="targets_change_source",
                   format_func=lambda v: t(f"targets.change.source.{v}", lang, base=base[2], alt=alt[2]))
    return ([base[0], alt[0]], base[1]) if src == "in_use" else None


def change_tab(lang: str) -> None:
    st.subheader(t("targets.change.title", lang))
    st.caption(t("targets.change.help", lang))
    pair = change_pair(lang)
    if pair is not None:
        chosen, legend = pair
    else:
        legend = st.selectbox(t("targets.lc.legend", lang), rs.legend_choices(), key="targets_change_legend",
                              format_func=rs.legend_name)
        chosen = []
        for col, which in zip(st.columns(2), ("base", "alt")):
            with col:
                st.markdown(f"**{t(f'targets.change.{which}', lang)}**")
                chosen.append(rs.raster_input(lang, f"targets_change_{which}"))
    if not all(chosen):
        st.info(t("targets.change.choose", lang))
        return
    try:
        with st.spinner(t("targets.change.computing", lang)):
            cres = transitions(chosen[0], chosen[1], legend)
    except InputError as e:
        st.error(e.message(lang))
        return
    summary = change_summary(cres, lang)
    st.dataframe(summary, hide_index=True, width="stretch", key="targets_change_summary", placeholder=tables.NA)
    zones_list = list(cres.matrices)
    z = st.selectbox(t("targets.col.zone", lang), zones_list, index=len(zones_list) - 1,
                     format_func=lambda v: zone_label(v, lang), key="targets_change_zone")
    kind = st.radio(t("targets.change.chart", lang), ["heatmap", "sankey"], horizontal=True,
                    format_func=lambda k: t(f"targets.change.{k}", lang), key="targets_change_kind")
    m = cres.matrices[z]
    st.plotly_chart(change_chart(m, kind, lang), width="stretch", key="targets_change_chart")
    st.dataframe(matrix_labelled(m, lang), width="stretch", key="targets_change_matrix", placeholder=tables.NA)
    sheets = {t("targets.sheet.summary", lang): summary}
    sheets.update({zone_label(k, lang): matrix_labelled(v, lang) for k, v in cres.matrices.items()})
    st.download_button(t("targets.dl.matrix_xlsx", lang), lambda: workbook(sheets, lang), "transitions.xlsx",
                       key="targets_dl_matrix")


def targets_tab(tdf: pd.DataFrame, lang: str) -> None:
    st.subheader(t("targets.table.title", lang))
    st.caption(t("targets.table.help", lang))
    st.dataframe(targets_view(tdf, lang), hide_index=True, width="stretch", key="targets_table", placeholder=tables.NA)

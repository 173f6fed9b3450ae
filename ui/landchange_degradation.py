"""The land-change tab's land degradation (SDG 15.3.1 land-cover sub-indicator): the baseline and
reporting periods chosen among the series' years; the degradation matrix — the UNCCD default or a
saved one, edited in a labelled 7 × 7 grid (−1 degraded, 0 stable, 1 improved), saved under a name
(the store lets an editor do it) and downloaded as CSV; the table per unit (improved / stable /
degraded / no-data km² and % of the unit's area, the desertification proxy), the units coloured by
their degraded share, and the verdict per pixel of a period on the map.

Periods that are not consecutive years of the series read the years they need in a second pass
(``indicators.landchange.chain``), cached like the first.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import folium
import numpy as np
import pandas as pd
import streamlit as st
from branca.element import MacroElement
from jinja2 import Template
from streamlit_folium import st_folium

import reports
from core import paths
from core.errors import GansuError, InputError
from core.i18n import t
from indicators import landchange, ldn
from indicators import ldn_raster
from layers import cog
from storage.store import Store
from ui import common, jobs, map_rasters, map_tiles, mapview, session, tables, tileserver
from ui import landchange_views as v
from ui import raster_sources as rs
from ui.landchange_trajectories import geojson, level_picker

# a map drawn in a tab not shown yet has no size (Leaflet fits the bounds at zoom 0): fit them again the
# first time the frame gets a size (a hidden iframe's window is resized when its tab opens)
REFIT_JS = """var fitted = map.getSize().x > 0;
window.addEventListener('resize', function() {
  map.invalidateSize();
  if (!fitted && map.getSize().x > 0) { map.fitBounds(payload); fitted = true; }
});"""


class Refit(MacroElement):
    """``REFIT_JS`` run once the map exists, with the bounds to fit (JSON, never raw HTML)."""

    def __init__(self, bounds: list):
        super().__init__()
        self._name = "GansuRefit"
        self.payload = json.dumps(bounds)
        self._template = Template("{% macro script(this, kwargs) %}(function(map, payload){" + REFIT_JS
                                  + "})({{ this._parent.get_name() }}, {{ this.payload }});{% endmacro %}")


DEFAULT = "__default__"  # the matrix picker's value for the UNCCD default
VERDICT_CACHE_FILES = 12  # verdict rasters kept in the cache folder (the oldest removed first)
VERDICT_SYNC_PIXELS = 25_000_000  # verdicts of rasters up to this size are written inline; larger: a job


# --- periods -------------------------------------------------------------------------------------
def period_pickers(years: list[int], lang: str) -> dict[str, tuple[int, int]]:
    """{"baseline": (y0, y1)[, "reporting": (y1, y2)]} chosen among the series' years."""
    if len(years) == 2:
        st.caption(t("landchange.deg.two_years", lang, a=years[0], b=years[1]))
        return {"baseline": (years[0], years[1])}
    c1, c2 = st.columns(2)
    b = c1.select_slider(t("landchange.period.baseline", lang), options=years, value=(years[0], years[-2]),
                         key="landchange_baseline")
    periods = {"baseline": (int(b[0]), int(b[1]))}
    if c2.checkbox(t("landchange.deg.use_reporting", lang), value=True, key="landchange_use_reporting"):
        r = c2.select_slider(t("landchange.period.reporting", lang), options=years, value=(years[-2], years[-1]),
                             key="landchange_reporting")
        periods["reporting"] = (int(r[0]), int(r[1]))
    return periods


# --- the matrix ----------------------------------------------------------------------------------
def _matrix_source(s: Store, pick: str) -> pd.DataFrame:
    return ldn.load_matrix() if pick == DEFAULT else ldn.load_matrix(s.result_table(pick))


def matrix_editor(s: Store, lang: str) -> tuple[pd.DataFrame, str] | None:
    """The matrix used: (7 × 7 −1/0/1 with UNCCD ids, its source text); None after showing why
    an edit is refused."""
    nxt = st.session_state.pop("_landchange_matrix_next", None)  # a matrix just saved: chosen
    saved = ldn.saved_matrices(s)
    opts = [DEFAULT] + list(saved["table_id"]) if len(saved) else [DEFAULT]
    if nxt in opts:
        st.session_state["landchange_matrix_pick"] = nxt
    pick = st.selectbox(t("landchange.matrix.pick", lang), opts, key="landchange_matrix_pick",
                        format_func=lambda o: t("landchange.matrix.default", lang) if o == DEFAULT else o)
    try:
        base = _matrix_source(s, pick)
    except GansuError as e:
        common.show_error(e, lang)
        return None
    source = "UNCCD default (GPG SDG 15.3.1 v2, 2021; Trends.Earth)" if pick == DEFAULT else pick
    grid = v.matrix_grid(base, lang)
    cfg = {c: st.column_config.NumberColumn(label=c, min_value=-1, max_value=1, step=1, format="%d", required=True)
           for c in grid.columns}
    tag = hashlib.sha256(f"{pick}|{lang}".encode()).hexdigest()[:8]  # another matrix or language: a fresh grid
    st.caption(t("landchange.matrix.help", lang))
    edited = st.data_editor(grid, key=f"landchange_matrix_edit_{tag}", column_config=cfg, num_rows="fixed",
                            width="stretch", placeholder=tables.NA)
    vals = edited.to_numpy(dtype=float, na_value=np.nan)
    if not np.isin(vals, (-1, 0, 1)).all():
        st.error(t("landchange.matrix.invalid", lang))
        return None
    m = v.matrix_from_grid(edited.astype(int))
    if not m.equals(base.astype(int)):
        source = f"{source} — {t('landchange.matrix.edited', lang)}"
    c1, c2, c3 = st.columns([2, 1, 1])
    name = c1.text_input(t("landchange.matrix.name", lang), key="landchange_matrix_name")
    if c2.button(t("landchange.matrix.save", lang), key="landchange_matrix_save"):
        try:
            if not name.strip():
                raise InputError("请填写矩阵名称", "give the matrix a name")
            rec = ldn.save_matrix(s, name.strip(), m, source, actor=common.actor())
        except GansuError as e:
            common.show_error(e, lang)
        else:
            st.session_state["_landchange_matrix_next"] = rec["table_id"]
            st.rerun()
    c3.download_button(t("landchange.dl.matrix_csv", lang), reports.csv_bytes(ldn.matrix_table(m, source)),
                       "ldn_matrix.csv", "text/csv", key="landchange_dl_matrix")
    return m, source


# --- the verdict per pixel -----------------------------------------------------------------------
def verdict_dir() -> Path:
    return paths.workspace_dir() / "verdict_cache"


def _prune(keep: Path) -> None:
    files = sorted((p for p in verdict_dir().glob("*.tif") if p != keep), key=lambda p: p.stat().st_mtime, reverse=True)
    for p in files[VERDICT_CACHE_FILES - 1:]:
        p.unlink(missing_ok=True)


def _write(job, a, b, legend, out: Path, m: pd.DataFrame) -> Path:
    """The verdict raster, then its COG (MODE overviews: a verdict stays a verdict at every zoom) in
    the cache folder, for the map's tiles; the plain raster is a step in a folder of its own."""
    if job is not None:
        job.phase = "computing"
    if not out.exists():
        raw = verdict_dir() / "part" / out.name
        try:
            ldn_raster.write_verdict(a, b, legend, raw, m)
            cog.write_cog(raw, out, classes=True)
        finally:
            raw.unlink(missing_ok=True)
        _prune(out)
    return out


def _bounds(path: Path) -> list:
    """[[south, west], [north, east]] of a raster in WGS84."""
    import rasterio
    from rasterio.warp import transform_bounds

    with rasterio.open(path) as ds:
        w, s_, e, n = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
    return [[s_, w], [n, e]]


def verdict_map(ser, period: tuple[int, int], m: pd.DataFrame, lang: str) -> None:
    """The verdict of ``period`` per pixel, written once per content (the two years, the legend, the
    matrix) into the workspace's cache folder, drawn over an offline map with its legend."""
    a, b = ser.raster(period[0]), ser.raster(period[1])
    shas = [rs.raster_sha(a, allow_slow=True), rs.raster_sha(b, allow_slow=True)]
    key = hashlib.sha256(repr((shas, ser.legend, m.loc[list(ldn.UNCCD), list(ldn.UNCCD)].to_numpy().tolist(),
                               sorted(ldn.load_reclass().items()))).encode()).hexdigest()[:32]
    out = verdict_dir() / f"{key}.cog.tif"
    if not out.exists():
        if rs.raster_pixels(a) <= VERDICT_SYNC_PIXELS:
            try:
                _write(None, a, b, ser.legend, out, m)
            except GansuError as e:
                common.show_error(e, lang)
                return
        else:
            job = jobs.submit(("verdict", key), _write, a, b, ser.legend, out, m, name="landchange-verdict")
            if job.phase == "error":
                common.show_error(job.error, lang)
                return
            if job.phase != "done":
                v.wait_for(job, t("landchange.verdict.running", lang))
                return
    bounds = _bounds(out)
    fm = mapview.new_map(lang, fit=bounds)
    # tiles of the verdict's COG from the dashboard's tile service, granted while both years' datasets stay
    colors = {1: v.VERDICT_COLORS["improved"], 0: v.VERDICT_COLORS["stable"], -1: v.VERDICT_COLORS["degraded"]}
    url = tileserver.grant(tuple(ser.ids), str(out), common.actor(), colors=colors, minutes=session.session_minutes())
    map_rasters.add_tiles(fm, url, t("landchange.verdict.layer", lang, a=period[0], b=period[1]), 0.85, True,
                          map_tiles.native_zoom(str(out), key))  # the file is named by its content
    folium.GeoJson(geojson("prefecture"), name=t("targets.level.prefecture", lang),
                   style_function=lambda f: {"color": "#555555", "weight": 0.8, "fillOpacity": 0}).add_to(fm)
    items = [{"label": ldn.VERDICT_LABELS[k].pick(lang), "fill": v.VERDICT_COLORS[k], "stroke": "#666666"}
             for k in ("improved", "stable", "degraded")]
    items.append({"label": ldn.VERDICT_LABELS["nodata"].pick(lang), "fill": "transparent", "stroke": "#999999"})
    mapview.add_legend(fm, lang, [{"title": t("landchange.verdict.legend", lang, a=period[0], b=period[1]),
                                   "items": items}])
    Refit(bounds).add_to(fm)
    mapview.finish(fm)
    st_folium(fm, height=480, use_container_width=True, returned_objects=[], key="landchange_verdict_map")
    st.caption(t("landchange.verdict.note", lang))


# --- the section ---------------------------------------------------------------------------------
def deg_map(deg: pd.DataFrame, level: str, period: str, lang: str):
    d = v.at_level(deg, level)
    d = d[d["period"] == period].copy()
    d["name"] = v.names(d, lang)
    return v.choropleth(d, geojson(level), "degraded_pct", v.head("degraded_pct", lang))


def column_config(table: pd.DataFrame) -> dict:
    """Numbers as users read them: km² with 4 decimals, % with 2."""
    cfg = {}
    for c in table.columns:
        if "km²" in c:
            cfg[c] = st.column_config.NumberColumn(label=c, format="%.4f")
        elif "%" in c:
            cfg[c] = st.column_config.NumberColumn(label=c, format="%.2f")
    return cfg


def degradation_section(s: Store, ser, up: landchange.UnitPairs, pairs_for, lang: str) -> dict | None:
    """Draw the section; returns the degradation table (all units), the matrix used and its source,
    the periods and the level chosen (None when nothing could be computed)."""
    st.caption(t("landchange.deg.help", lang))
    periods = period_pickers(list(ser.years), lang)
    try:
        need = landchange.chain(list(periods.values()))
    except InputError as e:
        common.show_error(e, lang)
        return None
    with st.expander(t("landchange.matrix.title", lang), expanded=False):
        got = matrix_editor(s, lang)
    if got is None:
        return None
    m, source = got
    steps = set(up.steps())
    if all(p in steps for p in periods.values()):
        dup = up
    else:
        res = pairs_for(need)
        if res is None:
            return None
        dup = res.up
    try:
        deg = landchange.degradation(dup, periods, m)
    except InputError as e:
        common.show_error(e, lang)
        return None
    level = level_picker(up.units, lang, "landchange_deg_level")
    table = v.degradation_table(deg, level, lang)
    with st.container(key="landchange_deg_box"):  # a named box: the browser test reads the table in it
        st.dataframe(table, hide_index=True, width="stretch", key="landchange_deg_table", placeholder=tables.NA,
                     column_config=column_config(table))
    st.caption(t("landchange.deg.adds_up", lang))
    st.download_button(t("landchange.dl.deg_csv", lang), lambda: reports.csv_bytes(deg), "degradation.csv", "text/csv",
                       key="landchange_dl_deg")
    which = st.radio(t("landchange.deg.map_period", lang), list(periods), horizontal=True, key="landchange_deg_period",
                     format_func=lambda p: f"{t(v.PERIOD_KEYS[p], lang)} {periods[p][0]}–{periods[p][1]}")
    if level in v.MAPPED:
        st.plotly_chart(deg_map(deg, level, which, lang), width="stretch", key="landchange_deg_map")
    st.markdown(f"**{t('landchange.verdict.title', lang)}**")
    if st.toggle(t("landchange.verdict.show", lang), value=True, key="landchange_verdict_show"):
        verdict_map(ser, periods[which], m, lang)
    return {"deg": deg, "matrix": m, "source": source, "periods": periods, "level": level}

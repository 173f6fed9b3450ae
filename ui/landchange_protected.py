"""The land-change tab's red line and protected areas, and its exports. Between two chosen years of
the series: inside the red line in use and each protected layer in use (exclusion layers of kind
red line, reserve or wetland park), the summary, the net change per class, the transition matrix
and the parcels of change (``indicators.protected_change``) with a GeoJSON / GeoPackage download.
The exports: one Excel workbook (trajectories, trends, degradation, the matrix used, the red-line
change) and the land-change PDF (``reports.landchange``), each with its provenance and logged in the
run log as the progress tab's exports are.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

import reports
from core import paths
from core.errors import GansuError
from core.i18n import t
from indicators import landchange, ldn, provenance
from indicators.protected_change import ProtectedChange, protected_change
from layers import catalog
from reports import landchange as rlc
from storage import workspace as ws
from ui import common, data_in_use, jobs, runlog, tables
from ui import landchange_views as v
from ui import raster_sources as rs
from ui.targets_views import matrix_labelled

PROTECTED_KINDS = ("redline", "reserve", "wetland_park")  # exclusion layers reported with the red line
SYNC_MAX_PIXELS = 4_000_000  # two years up to this size are compared inline; larger: a background job


def redline_name() -> tuple[str, str]:
    """(zh, en) name of the red line in use: the dataset's, an uploaded layer's or the built-in proxy's."""
    s = common.store()
    ids = ws.in_use(s).get("redline", [])
    if ids:
        n = ws.get(s, ids[0]).name
        return n, n
    rec = common.active_upload("protection_proxy")
    if rec:
        return str(rec["name"]), str(rec["name"])
    spec = catalog.BY_ID["protection_proxy"]
    return spec.title("zh"), spec.title("en")


def protected_layers() -> tuple[list, str]:
    """([(layer id, (zh, en) name, polygons)], their fingerprint): the red line in use, then each
    exclusion layer in use of a protected kind."""
    inputs = data_in_use.inputs()
    out, key = [], [str(inputs.parts.get("redline", ""))]
    if inputs.redline is not None and len(inputs.redline):
        out.append(("redline", redline_name(), inputs.redline))
    s = common.store()
    for i in ws.in_use(s).get("exclusion", []):
        d = ws.get(s, i)
        if str(d.params.get("kind", "")) in PROTECTED_KINDS:
            out.append((f"exclusion_{i}", (d.name, d.name), s.dataset_features(i)))
            key.append(f"{i}:{d.sha256}")
    return out, hashlib.sha256(repr(key).encode()).hexdigest()


@st.cache_data(show_spinner=False, max_entries=4)
def _compare(key: str, _layers, a: str, b: str, legend: str, by: int, ay: int, min_m2: float) -> ProtectedChange:
    return protected_change(_layers, a, b, legend, base_year=by, alt_year=ay, min_parcel_m2=min_m2)


def _job(job: jobs.Job, layers, a, b, legend, by, ay, min_m2) -> ProtectedChange:
    job.phase = "computing"
    return protected_change(layers, a, b, legend, base_year=by, alt_year=ay, min_parcel_m2=min_m2)


def protected_section(ser, lang: str) -> ProtectedChange | None:
    """Draw the section; returns the change report (None when there is none)."""
    st.caption(t("landchange.pc.help", lang))
    try:
        layers, lkey = protected_layers()
    except GansuError as e:
        common.show_error(e, lang)
        return None
    if not layers:
        st.info(t("landchange.pc.none", lang))
        return None
    years = list(ser.years)
    c1, c2 = st.columns([2, 1])
    yy = c1.select_slider(t("landchange.pc.years", lang), options=years, value=(years[0], years[-1]),
                          key="landchange_pc_years")
    min_ha = c2.number_input(t("landchange.pc.min_ha", lang), min_value=0.0, max_value=10_000.0, value=1.0, step=0.5,
                             key="landchange_pc_min_ha")
    by, ay = int(yy[0]), int(yy[1])
    if by == ay:
        st.info(t("landchange.pc.two_years", lang))
        return None
    a, b = ser.raster(by), ser.raster(ay)
    args = ([(lid, name, gdf) for lid, name, gdf in layers], str(a), str(b), ser.legend, by, ay, float(min_ha) * 1e4)
    try:
        if rs.raster_pixels(a) * 2 <= SYNC_MAX_PIXELS:
            content = (lkey, rs.raster_sha(a, True), rs.raster_sha(b, True), args[3:])
            key = hashlib.sha256(repr(content).encode()).hexdigest()
            with st.spinner(t("landchange.pc.computing", lang)):
                res = _compare(key, *args)
        else:
            job = jobs.submit(("protected", lkey, rs.file_key(a), rs.file_key(b), *args[3:]), _job, *args,
                              name="landchange-protected")
            if job.phase == "error":
                raise job.error
            if job.phase != "done":
                v.wait_for(job, t("landchange.pc.running", lang))
                return None
            res = job.result
    except GansuError as e:
        common.show_error(e, lang)
        return None
    for n in res.notes:
        st.caption(n.pick(lang))
    st.dataframe(v.protected_summary(res.summary, lang), hide_index=True, width="stretch", key="landchange_pc_summary",
                 placeholder=tables.NA)
    st.markdown(f"**{t('landchange.pc.net', lang, a=by, b=ay)}**")
    st.dataframe(v.class_net_table(res.summary, lang), hide_index=True, width="stretch", key="landchange_pc_net",
                 placeholder=tables.NA)
    ids = list(res.matrices)
    if ids:
        lid = st.selectbox(t("landchange.col.layer", lang), ids, key="landchange_pc_layer",
                           format_func=lambda i: res.names[i].pick(lang) if i in res.names else i)
        ml = matrix_labelled(res.matrices[lid], lang)
        if ml.empty:
            st.info(t("landchange.pc.no_overlap", lang))
        else:
            st.dataframe(ml, width="stretch", key="landchange_pc_matrix", placeholder=tables.NA)
    st.caption(t("landchange.pc.parcels", lang, n=len(res.parcels), ha=f"{min_ha:g}"))
    d1, d2 = st.columns(2)
    d1.download_button(t("landchange.dl.parcels_geojson", lang), lambda: rlc.parcels_bytes(res, "geojson"),
                       f"change_parcels_{by}_{ay}.geojson", "application/geo+json", key="landchange_dl_parcels_geojson")
    d2.download_button(t("landchange.dl.parcels_gpkg", lang), lambda: rlc.parcels_bytes(res, "gpkg"),
                       f"change_parcels_{by}_{ay}.gpkg", "application/geopackage+sqlite3",
                       key="landchange_dl_parcels_gpkg")
    return res


# --- exports ---------------------------------------------------------------------------------------
def sources(ser, lang: str) -> list[dict]:
    return [{"role": t("landchange.source.role", lang, year=y), "layer": label, "file": Path(r).name,
             "sha256": rs.raster_sha(r, allow_slow=True) or "", "year": y}
            for y, r, label in zip(ser.years, ser.rasters, ser.labels)]


def _by_level(make, units: pd.DataFrame, lang: str) -> pd.DataFrame:
    """One labelled table per level (not the key areas: counties already), a level column first."""
    parts = []
    for lv in v.levels_present(units):
        if lv == "key_areas":
            continue
        d = make(lv)
        d.insert(0, t("landchange.col.level", lang), v.level_label(lv, lang))
        parts.append(d)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def workbook(ser, traj: dict, deg: dict | None, prot: ProtectedChange | None, units: pd.DataFrame, lang: str,
             prov: dict) -> bytes:
    tr = landchange.trends(traj["traj"], traj["window"])
    sheets = {t("landchange.sheet.trajectories", lang): _by_level(lambda lv: v.trajectory_table(traj["traj"], lv, lang),
                                                                  units, lang),
              t("landchange.sheet.trends", lang): _by_level(lambda lv: v.trend_table(tr, lv, lang), units, lang)}
    if deg is not None:
        sheets[t("landchange.sheet.degradation", lang)] = _by_level(
            lambda lv: v.degradation_table(deg["deg"], lv, lang), units, lang)
        grid = v.matrix_grid(deg["matrix"], lang).reset_index()
        grid[t("landchange.col.source", lang)] = deg["source"]
        sheets[t("landchange.sheet.matrix", lang)] = grid
    if prot is not None:
        sheets.update(rlc.protected_change_sheets(prot, lang))
    return reports.excel_bytes(sheets, lang, labels=False, indicators_sheet=False, sources=sources(ser, lang),
                               provenance=prov)


def pdf(ser, traj: dict, deg: dict | None, prot: ProtectedChange | None, lang: str, prov: dict) -> bytes:
    d = v.at_level(deg["deg"], deg["level"]) if deg is not None else None
    tr = v.at_level(traj["traj"], traj["level"])
    tr = tr[tr.groupby(["unit_id", "class"])["area_km2"].transform(lambda x: x.abs().sum()) > 0]
    return rlc.landchange_pdf(title=t("landchange.pdf.title", lang), date=dt.date.today(), protected=prot,
                              degradation=d, trajectories=tr, sources=sources(ser, lang), provenance=prov, lang=lang)


def record(ser, traj: dict, deg: dict | None, prot: ProtectedChange | None, lang: str) -> dict:
    """The exports' provenance: every year's file and hash, the matrix used, the reclass and key-area
    tables, the periods, the trend window, the red-line years and minimum parcel area."""
    tabs = {"unccd_classes": paths.TABLES / "unccd_classes.csv", "key_areas": paths.TABLES / "key_areas.csv"}
    extra = {"legend": ser.legend, "algo": landchange.ALGO_VERSION, "trend_window": list(traj["window"])}
    if deg is not None:
        tabs["ldn_matrix"] = ldn.matrix_table(deg["matrix"], deg["source"])
        extra.update(periods={k: list(p) for k, p in deg["periods"].items()}, matrix_source=deg["source"])
    if prot is not None:
        extra.update(protected_years=[prot.base_year, prot.alt_year], protected_layers=list(prot.names))
    return provenance.record(datasets=[{"role": "landcover_series", "name": s["layer"], "file": s["file"],
                                        "sha256": s["sha256"]} for s in sources(ser, lang)],
                             tables=tabs, thresholds={"min_parcel_m2": prot.min_parcel_m2} if prot is not None else {},
                             pixel_area=data_in_use.pixel_area_mode(), extra=extra)


def exports_section(ser, traj: dict, deg: dict | None, prot: ProtectedChange | None, units: pd.DataFrame,
                    lang: str) -> None:
    st.caption(t("landchange.export.help", lang))
    prov = record(ser, traj, deg, prot, lang)
    c1, c2 = st.columns(2)
    c1.download_button(t("landchange.dl.xlsx", lang),
                       runlog.logged("landchange_excel", "targets",
                                     lambda: workbook(ser, traj, deg, prot, units, lang, prov), prov),
                       "land_change.xlsx", key="landchange_dl_xlsx")
    c2.download_button(t("landchange.dl.pdf", lang),
                       runlog.logged("landchange_pdf", "targets", lambda: pdf(ser, traj, deg, prot, lang, prov), prov),
                       "land_change.pdf", "application/pdf", key="landchange_dl_pdf")

"""The Targets page's land-change tab. With a land-cover series in use
(``ui.raster_sources.series_in_use``): the code-pair areas between consecutive years of every unit —
province, zones, prefectures, counties, the red line in use (one unit) and each park — in one tiled
pass (``indicators.landchange.unit_pairs``), cached in the store per content (the years' SHA-256s ×
legend × units × algorithm: a revisit, a restart or another user reads the store), small series
computed inline and large ones in a background job with a progress bar (``ui.jobs``). Then the
sections: trajectories and trends (``ui.landchange_trajectories``), land degradation
(``ui.landchange_degradation``), the change inside the red line and protected layers, and the exports
(``ui.landchange_protected``). Without a series: how to register one, and no number.
"""
from __future__ import annotations

import dataclasses
import hashlib
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from core.errors import GansuError, InputError
from core.i18n import t
from indicators import landchange
from indicators.zonestats import Level
from storage import stats_store
from storage.store import Store
from ui import common, data_in_use, jobs
from ui import parks as ui_parks
from ui import raster_sources as rs
from ui import targets as ui_targets
from ui.landchange_degradation import degradation_section
from ui.landchange_protected import exports_section, protected_section, redline_name
from ui.landchange_trajectories import trajectories_section

SYNC_MAX_PIXELS = 4_000_000  # pixels × years computed inline (a second or two); larger: a background job


@dataclasses.dataclass(frozen=True)
class Series:
    """The land-cover series in use: years in order, one raster and one name per year, one legend."""

    years: tuple[int, ...]
    rasters: tuple[Path, ...]
    labels: tuple[str, ...]
    legend: str
    ids: tuple[str, ...] = ()  # the years' datasets (a tile grant of a derived raster names them)

    def raster(self, year: int) -> Path:
        return self.rasters[self.years.index(int(year))]


def series() -> Series | None:
    """The series in use, or None; a year's file that changed raises InputError."""
    got = rs.series_in_use()
    if got is None:
        return None
    items, legend = got
    return Series(tuple(int(y) for y, _, _ in items), tuple(Path(p) for _, p, _ in items),
                  tuple(str(n) for _, _, n in items), str(legend), rs.series_ids())


# --- the units: the Gansu levels, the red line in use and the parks ----------------------------
@st.cache_resource(show_spinner=False, max_entries=4)
def _extra(red_key: str, parks_key: str, name: tuple[str, str], _red, _parks) -> tuple[list[Level], str]:
    levels = []
    if _red is not None and len(_red):
        g = shapely.union_all([x for x in _red.geometry.values if x is not None])  # overlaps count once
        levels.append(Level("redline", ["redline"], [name[0]], [name[1]],
                            polygons=gpd.GeoDataFrame(geometry=[g], crs=_red.crs)))
    if _parks is not None and len(_parks):
        levels.append(Level("park", _parks["park_id"].astype(str).tolist(), _parks["name"].astype(str).tolist(),
                            _parks["name_en"].fillna(_parks["name"]).astype(str).tolist(),
                            polygons=gpd.GeoDataFrame(geometry=_parks.geometry.values, crs=_parks.crs)))
    key = hashlib.sha256(repr((red_key, parks_key, name, [lv.ids for lv in levels])).encode()).hexdigest()
    return levels, key


def units() -> tuple[Level, list[Level], str]:
    """(base level, every other level, their fingerprint): the Targets page's Gansu levels
    (``ui.targets.units``) with the red line in use and the parks."""
    base, levels, pkey = ui_targets.units()
    inputs = data_in_use.inputs()
    parks = ui_parks.current_parks()
    extra, ekey = _extra(str(inputs.parts.get("redline", "")), f"{common.build_id()}:{ui_parks.parks_version()}",
                         redline_name(), inputs.redline, parks)
    return base, levels + extra, hashlib.sha256(f"{pkey}:{ekey}".encode()).hexdigest()


# --- code-pair areas: once per content, in the background when large ---------------------------
@dataclasses.dataclass
class Pairs:
    state: str  # ready | running | error
    up: landchange.UnitPairs | None = None
    job: jobs.Job | None = None
    error: GansuError | None = None
    seconds: float | None = None  # from the store's cache: how long the computation took (None: just computed)


def content_sha(years, shas, legend: str) -> str:
    return hashlib.sha256(repr((list(map(int, years)), list(shas), str(legend))).encode()).hexdigest()


@st.cache_data(show_spinner=False, max_entries=16)
def _stored(key: str, _s: Store) -> tuple[landchange.UnitPairs, float]:
    """The cached result (raises KeyError when there is none: a miss is never remembered)."""
    df = stats_store.get_zone_stats(_s, key)
    if df is None:
        raise KeyError(key)
    return landchange.UnitPairs.from_frame(df), float(df.attrs.get("seconds", 0.0))


def _lookup(s: Store, key: str):
    try:
        return _stored(key, s)
    except KeyError:
        return None


def _compute(s: Store, base, levels, ukey: str, rasters, years, legend: str, sha: str, mode: str,
             job: jobs.Job | None):
    t0 = time.perf_counter()
    if job is not None:
        job.phase = "computing"
    up = landchange.unit_pairs(base, levels, rasters, years, legend, names=[Path(r).name for r in rasters],
                               pixel_area=mode, progress=job.progress if job is not None else None)
    stats_store.put_zone_stats(s, stats_store.cache_key(sha, legend, ukey, algo(mode)), raster_sha256=sha,
                               legend=legend, polygons_key=ukey, algo=algo(mode), seconds=time.perf_counter() - t0,
                               df=up.to_frame())
    return up


def algo(mode: str) -> str:
    """The algorithm part of the cache key: the engine's version and the pixel-area mode."""
    return landchange.ALGO_VERSION if mode == "ground" else f"{landchange.ALGO_VERSION}-{mode}"


def _job(job: jobs.Job, s: Store, base, levels, ukey, rasters, years, legend, mode):
    job.phase = "hashing"
    sha = content_sha(years, [rs.raster_sha(r, allow_slow=True) for r in rasters], legend)
    hit = stats_store.get_zone_stats(s, stats_store.cache_key(sha, legend, ukey, algo(mode)))
    if hit is not None:
        return landchange.UnitPairs.from_frame(hit)
    return _compute(s, base, levels, ukey, rasters, years, legend, sha, mode, job)


def pairs_state(s: Store, ser: Series, years) -> Pairs:
    """The code-pair areas of ``years`` (consecutive steps) for every unit: from the store when this
    content was computed before; else computed inline (small) or in a background job (poll again)."""
    years = [int(y) for y in years]
    rasters = [ser.raster(y) for y in years]
    try:
        base, levels, ukey = units()
    except GansuError as e:
        return Pairs("error", error=e)
    mode = data_in_use.pixel_area_mode()
    shas = [rs.raster_sha(r) for r in rasters]
    if all(shas):
        sha = content_sha(years, shas, ser.legend)
        hit = _lookup(s, stats_store.cache_key(sha, ser.legend, ukey, algo(mode)))
        if hit is not None:
            return Pairs("ready", hit[0], seconds=hit[1])
        if sum(rs.raster_pixels(r) for r in rasters) <= SYNC_MAX_PIXELS:
            try:
                return Pairs("ready", _compute(s, base, levels, ukey, rasters, years, ser.legend, sha, mode, None))
            except InputError as e:
                return Pairs("error", error=e)
    key = ("landchange", tuple(rs.file_key(r) for r in rasters), tuple(years), ser.legend, ukey, algo(mode))
    job = jobs.submit(key, _job, s, base, levels, ukey, rasters, years, ser.legend, mode, name="targets-landchange")
    if job.phase == "done":
        return Pairs("ready", job.result)
    if job.phase == "error":
        return Pairs("error", error=job.error, job=job)
    return Pairs("running", job=job)


def ready_pairs(s: Store, ser: Series, years, lang: str) -> Pairs | None:
    """The pairs of ``years`` when ready; otherwise the progress bar or the error is shown and None returned."""
    res = pairs_state(s, ser, years)
    if res.state == "running":
        jobs.follow(lambda: pairs_state(s, ser, years), lang, "landchange.background")
        return None
    if res.state == "error":
        common.show_error(res.error, lang)
        return None
    return res


# --- the tab -------------------------------------------------------------------------------------
SECTIONS = ("trajectories", "degradation", "protected", "export")
SECTION_KEYS = {"trajectories": "landchange.section.trajectories", "degradation": "landchange.section.degradation",
                "protected": "landchange.section.protected", "export": "landchange.section.export"}


def landchange_tab(s: Store, stats: pd.DataFrame, lang: str) -> None:
    st.subheader(t("landchange.title", lang))
    st.caption(t("landchange.help", lang))
    try:
        ser = series()
    except GansuError as e:
        common.show_error(e, lang)
        return
    if ser is None:
        st.info(t("landchange.none", lang))
        return
    st.caption(t("landchange.series", lang, name=" · ".join(ser.labels), legend=rs.legend_name(ser.legend)
                 if ser.legend in rs.legend_choices() else Path(ser.legend).name, n=len(ser.years)))
    res = ready_pairs(s, ser, ser.years, lang)
    if res is None:
        return
    # always one caption here: the sections' tabs below keep their place (and the tab chosen) on a rerun
    st.caption(t("landchange.from_cache", lang, seconds=res.seconds) if res.seconds is not None
               else t("landchange.computed", lang))
    tabs = st.tabs([t(SECTION_KEYS[k], lang) for k in SECTIONS])
    with tabs[0]:
        traj = trajectories_section(res.up, stats, lang)
    with tabs[1]:
        deg = degradation_section(s, ser, res.up, lambda years: ready_pairs(s, ser, years, lang), lang)
    with tabs[2]:
        prot = protected_section(ser, lang)
    with tabs[3]:
        exports_section(ser, traj, deg, prot, res.up.units, lang)

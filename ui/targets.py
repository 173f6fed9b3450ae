"""Streamlit glue for the targets page: official statistics in the store, land-cover proxy
statistics computed once per raster content in a background thread, transitions, exports.

No computation here (``indicators.targets``, ``indicators.zonestats``, ``indicators.change``
do it); this module caches, runs jobs and builds figures and downloads.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import threading
import time
from pathlib import Path

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core import paths
from indicators import change, zonestats
from indicators import targets as tg
from core.errors import InputError
from indicators.legends import BUILTIN, CLASS_BY_ID, CLASS_IDS
from layers import stats_store
from core.i18n import t
from layers.store import Store
from ui import common

SYNC_MAX_PIXELS = 4_000_000  # rasters up to this size are computed inline (< 1 s); larger: background
SYNC_HASH_BYTES = 256 << 20  # files up to this size are hashed inline (~0.5 s); larger: in the job
LEGENDS = ("igbp", "clcd", "worldcover", "globeland30")
STATUS_COLOR = {"on_track": "#d7f2dc", "at_risk": "#fde7c4", "off_track": "#f9d6d5", "no_trend": "#eeeeee",
                "no_data": "#eeeeee"}
LEVEL_LAYER = {"zone": "zones", "prefecture": "prefectures", "county": "counties", "province": "province"}


# --- store -------------------------------------------------------------------------------------
def store() -> Store:
    s = common.store()
    if not getattr(s, "_targets_ready", False):
        stats_store.ensure(s, tg.load_seed_stats())
        s._targets_ready = True
    return s


@st.cache_data(show_spinner=False)
def _targets(mtime: float) -> pd.DataFrame:
    return tg.load_targets()


def targets() -> pd.DataFrame:
    return _targets(tg.TARGETS_CSV.stat().st_mtime)


def official(s: Store) -> pd.DataFrame:
    return stats_store.official_stats(s)


def indicator_label(row_or_id, lang: str, tdf: pd.DataFrame | None = None) -> str:
    if isinstance(row_or_id, str):
        tdf = targets() if tdf is None else tdf
        r = tdf[tdf["indicator"] == row_or_id]
        if r.empty:
            return row_or_id
        row_or_id = r.iloc[0]
    return row_or_id["label_zh"] if lang == "zh" else row_or_id["label_en"]


def read_stats_bytes(data: bytes) -> pd.DataFrame:
    """CSV bytes (UTF-8 with or without BOM, else GB18030) → DataFrame of strings."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError("文件不是 UTF-8 或 GB18030 文本", "the file is not UTF-8 or GB18030 text")
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"无法解析为 CSV 表格：{e}", f"not a readable CSV table: {e}") from None


def apply_stats(s: Store, data: bytes, mode: str) -> int:
    """Validate CSV bytes and save them (``merge`` or ``replace``); raises InputError, changes
    nothing on any error."""
    df = tg.validate_stats(read_stats_bytes(data), targets())
    if mode == "replace":
        stats_store.replace_official_stats(s, df)
    else:
        stats_store.upsert_official_stats(s, df)
    return len(df)


def save_edited(s: Store, edited: pd.DataFrame) -> int:
    df = edited.dropna(how="all")
    df = tg.validate_stats(df.astype(object).where(df.notna(), ""), targets())
    stats_store.replace_official_stats(s, df)
    return len(df)


def flash(msg: str, kind: str = "success") -> None:
    st.session_state["targets_flash"] = (kind, msg)


def show_flash() -> None:
    f = st.session_state.pop("targets_flash", None)
    if f:
        getattr(st, f[0])(f[1])


# --- progress view -----------------------------------------------------------------------------
def region_label(region: str, lang: str) -> str:
    return "Gansu Province" if lang == "en" and region == "甘肃省" else region


def progress_view(tdf: pd.DataFrame, stats: pd.DataFrame, lang: str) -> pd.DataFrame:
    pt = tg.progress_table(tdf, stats)
    cmp_ = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "~": "≈"}
    out = pd.DataFrame({
        t("targets.col.indicator", lang): [r["label_zh"] if lang == "zh" else r["label_en"] for _, r in pt.iterrows()],
        t("targets.col.target_year", lang): pt["target_year"],
        t("targets.col.target", lang): [f"{cmp_[c]} {v:g}" for c, v in zip(pt["comparator"], pt["target_value"])],
        t("targets.col.status", lang): [t(f"targets.status.{s}", lang) for s in pt["status"]],
        t("targets.col.latest", lang): pd.to_numeric(pt["latest_value"], errors="coerce"),
        t("targets.col.latest_year", lang): pt["latest_year"].astype("Int64"),
        t("targets.col.gap", lang): pd.to_numeric(pt["gap"], errors="coerce"),
        t("targets.col.required", lang): pd.to_numeric(pt["required_per_yr"], errors="coerce"),
        t("targets.col.historical", lang): pd.to_numeric(pt["historical_per_yr"], errors="coerce"),
        t("targets.col.unit", lang): pt["unit"],
        t("targets.col.region", lang): [region_label(r, lang) for r in pt["region"]],
        t("targets.col.source", lang): pt["latest_source"],
        t("targets.col.clause", lang): pt["source_clause"],
    })
    out.attrs["status"] = list(pt["status"])
    return out


def styled_progress(view: pd.DataFrame, lang: str):
    """Status cells coloured (no emoji: intranet machines may lack emoji fonts)."""
    col = t("targets.col.status", lang)
    status = view.attrs.get("status", [])

    def colour(c: pd.Series):
        if c.name != col:
            return [""] * len(c)
        return [f"background-color: {STATUS_COLOR[s]}" for s in status]

    return view.style.apply(colour, axis=0).format(
        {t("targets.col.latest", lang): "{:g}", t("targets.col.gap", lang): "{:.3g}",
         t("targets.col.required", lang): "{:.3g}", t("targets.col.historical", lang): "{:.3g}"}, na_rep="—")


def trajectory_figure(tdf, stats, indicator: str, region: str, lang: str) -> go.Figure:
    tr = tg.trajectory(tdf, stats, indicator, region)
    unit = tdf.loc[tdf["indicator"] == indicator, "unit"].iloc[0]
    fig = go.Figure()
    h = tr["history"]
    fig.add_trace(go.Scatter(x=h["year"], y=h["value"], mode="lines+markers", name=t("targets.chart.history", lang),
                             line=dict(color="#1f4e79", width=3)))
    for ty in tr["required"]["target_year"].unique() if len(tr["required"]) else []:
        r = tr["required"][tr["required"]["target_year"] == ty]
        fig.add_trace(go.Scatter(x=r["year"], y=r["value"], mode="lines", line=dict(dash="dash", color="#c0392b"),
                                 name=t("targets.chart.required", lang, year=int(ty))))
    if len(tr["trend"]):
        fig.add_trace(go.Scatter(x=tr["trend"]["year"], y=tr["trend"]["value"], mode="lines",
                                 line=dict(dash="dot", color="#7f8c8d"), name=t("targets.chart.trend", lang)))
    g = tr["targets"]
    fig.add_trace(go.Scatter(x=g["target_year"], y=g["target_value"], mode="markers+text",
                             marker=dict(symbol="star", size=16, color="#e67e22"),
                             text=[f"{v:g}" for v in g["target_value"]], textposition="top center",
                             name=t("targets.chart.target", lang)))
    fig.update_layout(title=f"{indicator_label(indicator, lang, tdf)} · {region}", height=380,
                      xaxis_title=t("targets.col.year", lang), yaxis_title=unit,
                      margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.2))
    return fig


def figure_html(fig: go.Figure) -> bytes:
    """Self-contained HTML (plotly.js inlined: opens offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True).encode("utf-8")


def png_export_available() -> bool:
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return False
    return True


def excel_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in sheets.items():
            safe = "".join(ch for ch in name if ch not in '[]:*?/\\')[:31] or "sheet"
            df.to_excel(xw, sheet_name=safe, index=df.index.name is not None or not isinstance(df.index, pd.RangeIndex))
    return buf.getvalue()


# --- land-cover sources ------------------------------------------------------------------------
def user_raster_dir() -> Path:
    d = paths.data_root() / "user_rasters"
    d.mkdir(parents=True, exist_ok=True)
    return d


def save_uploaded_raster(name: str, data: bytes) -> Path:
    """Content-addressed copy of an uploaded GeoTIFF (same content → same file and cache)."""
    from layers.rasters import validate_geotiff

    validate_geotiff(data, name)  # raises InputError before anything is written
    sha = hashlib.sha256(data).hexdigest()
    path = user_raster_dir() / f"{sha}.tif"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    _SHA[_file_key(path)] = sha
    return path


def check_raster_path(text: str) -> Path:
    """An existing .tif/.tiff on the server; with ``GANSU_RASTER_ROOTS`` (os.pathsep-separated
    folders) set, only files under those folders are accepted."""
    import os

    p = Path(text.strip()).expanduser()
    if p.suffix.lower() not in (".tif", ".tiff") or not p.is_file():
        raise InputError(f"不是已存在的 GeoTIFF 文件（.tif/.tiff）：{text.strip()[:200]}",
                         f"not an existing GeoTIFF file (.tif/.tiff): {text.strip()[:200]}")
    p = p.resolve()
    roots = [Path(r).resolve() for r in os.environ.get("GANSU_RASTER_ROOTS", "").split(os.pathsep) if r]
    if roots and not any(p.is_relative_to(r) for r in roots):
        raise InputError("不允许读取该文件夹（GANSU_RASTER_ROOTS）", "this folder is not allowed (GANSU_RASTER_ROOTS)")
    from layers.rasters import validate_geotiff

    validate_geotiff(p)
    return p


_SHA: dict[tuple, str] = {}


def _file_key(path) -> tuple:
    stt = Path(path).stat()
    return (str(Path(path).resolve()), stt.st_size, stt.st_mtime_ns)


def raster_sha(path, allow_slow: bool = False) -> str | None:
    fk = _file_key(path)
    if fk not in _SHA and (allow_slow or fk[1] <= SYNC_HASH_BYTES):
        _SHA[fk] = zonestats.file_sha256(path)
    return _SHA.get(fk)


def raster_pixels(path) -> int:
    import rasterio

    with rasterio.open(path) as ds:
        return ds.width * ds.height


# --- units (province, zones, prefectures, counties) --------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=8)
def _units(build: str, zones_upload: str | None):
    prov = common._load_layer("province", build, None)
    pref = common._load_layer("prefectures", build, None)
    cnty = common._load_layer("counties", build, None)
    zones = common._load_layer("zones", build, zones_upload)
    base, levels = zonestats.gansu_levels(prov, pref, cnty, zones, zones_from_counties=zones_upload is None)
    return base, levels, zonestats.polygons_key(base.polygons, levels)


def units():
    return _units(common.build_id(), common.active_upload_id("zones"))


@st.cache_data(show_spinner=False, max_entries=16)
def level_geojson(level: str, build: str, zones_upload: str | None) -> dict:
    layer = LEVEL_LAYER[level]
    gdf = common._load_layer(layer, build, zones_upload if layer == "zones" else None)
    gdf = gdf[[gdf.geometry.name]].copy()
    if level == "zone":
        src = common._load_layer("zones", build, zones_upload)
        gdf["unit_id"] = (src["zone_id"].astype(str) if zones_upload is None and "zone_id" in src.columns
                          else [f"zone_{i}" for i in range(len(src))])
    elif level == "province":
        gdf["unit_id"] = "province"
    else:
        gdf["unit_id"] = common._load_layer(layer, build, None)["adcode"].astype(str)
    gdf["geometry"] = gdf.geometry.simplify(0.01 if level != "county" else 0.005)
    return gdf.__geo_interface__


# --- zone statistics: once per content, in the background --------------------------------------
@dataclasses.dataclass
class Job:
    key: tuple
    phase: str = "queued"  # hashing | computing | done | error
    done: int = 0
    total: int = 0
    started: float = dataclasses.field(default_factory=time.time)
    error: InputError | None = None
    result: pd.DataFrame | None = None
    thread: threading.Thread | None = None

    @property
    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0


_JOBS: dict[tuple, Job] = {}
_JOBS_LOCK = threading.Lock()


@dataclasses.dataclass
class ZoneStats:
    state: str  # ready | running | error
    df: pd.DataFrame | None = None
    job: Job | None = None
    error: InputError | None = None
    from_cache: bool = False


def _compute_and_store(s: Store, raster, legend: str, base, levels, pkey: str, sha: str, job: Job | None):
    t0 = time.perf_counter()
    cb = None
    if job is not None:
        job.phase = "computing"

        def cb(done, total):
            job.done, job.total = done, total
    df = zonestats.compute(base, levels, raster, legend, progress=cb)
    key = stats_store.cache_key(sha, legend, pkey, zonestats.ALGO_VERSION)
    stats_store.put_zone_stats(s, key, raster_sha256=sha, legend=legend, polygons_key=pkey,
                               algo=zonestats.ALGO_VERSION, seconds=time.perf_counter() - t0, df=df)
    return df


def _run_job(job: Job, s: Store, raster, legend, base, levels, pkey):
    try:
        job.phase = "hashing"
        sha = raster_sha(raster, allow_slow=True)
        cached = stats_store.get_zone_stats(s, stats_store.cache_key(sha, legend, pkey, zonestats.ALGO_VERSION))
        job.result = cached if cached is not None else _compute_and_store(s, raster, legend, base, levels, pkey, sha, job)
        job.phase = "done"
    except InputError as e:
        job.error, job.phase = e, "error"
    except Exception as e:  # noqa: BLE001 - shown to the user, bilingual wrapper
        job.error, job.phase = InputError(f"计算失败：{e}", f"computation failed: {e}"), "error"


def zone_stats(s: Store, raster, legend: str) -> ZoneStats:
    """Cached result if this raster content × legend × unit set was computed before (store);
    small rasters are computed inline; large ones in a background thread (poll again)."""
    base, levels, pkey = units()
    sha = raster_sha(raster)
    if sha is not None:
        cached = stats_store.get_zone_stats(s, stats_store.cache_key(sha, legend, pkey, zonestats.ALGO_VERSION))
        if cached is not None:
            return ZoneStats("ready", cached, from_cache=True)
        if raster_pixels(raster) <= SYNC_MAX_PIXELS:
            try:
                return ZoneStats("ready", _compute_and_store(s, raster, legend, base, levels, pkey, sha, None))
            except InputError as e:
                return ZoneStats("error", error=e)
    jkey = (_file_key(raster), legend, pkey)
    with _JOBS_LOCK:
        job = _JOBS.get(jkey)
        if job is None or job.phase == "error" and time.time() - job.started > 5:
            job = Job(jkey)
            job.thread = threading.Thread(target=_run_job, args=(job, s, raster, legend, base, levels, pkey),
                                          name="targets-zone-stats", daemon=True)
            _JOBS[jkey] = job
            job.thread.start()
    if job.phase == "done":
        return ZoneStats("ready", job.result)
    if job.phase == "error":
        return ZoneStats("error", error=job.error, job=job)
    return ZoneStats("running", job=job)


def proxy_table(df: pd.DataFrame, level: str, lang: str) -> pd.DataFrame:
    d = df[df["level"] == level].copy()
    out = pd.DataFrame({t("targets.col.unit_name", lang): d["name_zh"] if lang == "zh" else d["name_en"],
                        t("targets.col.area_km2", lang): d["area_km2"]})
    for c in CLASS_IDS:
        cc = CLASS_BY_ID[c]
        out[f"{cc.label_zh if lang == 'zh' else cc.label_en} (%)"] = d[f"lc_{c}_pct"]
    out[t("targets.col.carbon_mtc", lang)] = d["carbon_stock_tc"] / 1e6
    out[t("targets.col.sink_mtco2", lang)] = d["carbon_sink_tco2_yr"] / 1e6
    out[t("targets.col.coverage_pct", lang)] = d["landcover_coverage_pct"]
    return out.reset_index(drop=True)


def metric_options(lang: str) -> dict[str, str]:
    opts = {f"lc_{c}_pct": f"{(CLASS_BY_ID[c].label_zh if lang == 'zh' else CLASS_BY_ID[c].label_en)} (%)"
            for c in CLASS_IDS}
    opts["carbon_density_tc_ha"] = t("targets.metric.density", lang)
    opts["carbon_stock_tc"] = t("targets.metric.stock", lang)
    opts["carbon_sink_tco2_yr"] = t("targets.metric.sink", lang)
    return opts


def choropleth(df: pd.DataFrame, level: str, metric: str, lang: str) -> go.Figure:
    d = df[df["level"] == level].copy()
    d["carbon_density_tc_ha"] = d["carbon_stock_tc"] / (d["landcover_valid_km2"] * 100).where(d["landcover_valid_km2"] > 0)
    d["name"] = d["name_zh"] if lang == "zh" else d["name_en"]
    geo = level_geojson(level, common.build_id(), common.active_upload_id("zones"))
    label = metric_options(lang)[metric]
    fig = px.choropleth_map(d, geojson=geo, locations="unit_id", featureidkey="properties.unit_id", color=metric,
                            hover_name="name", hover_data={"unit_id": False, metric: ":.3g"},
                            color_continuous_scale="YlGn" if metric != "lc_built_up_pct" else "OrRd",
                            map_style="white-bg", center={"lat": 37.8, "lon": 101.5}, zoom=4.2, opacity=0.85,
                            labels={metric: label})
    fig.update_layout(height=520, margin=dict(l=0, r=0, t=0, b=0))
    return fig


# --- change between two years ------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=8)
def _transitions(base_sha: str, alt_sha: str, base_path: str, alt_path: str, legend: str, build: str,
                 zones_upload: str | None):
    zones = common._load_layer("zones", build, zones_upload)
    names = zones["name_zh"].astype(str).tolist()
    return change.transitions(zones, base_path, alt_path, legend, names=names)


def transitions(base_path, alt_path, legend: str) -> change.ChangeResult:
    return _transitions(raster_sha(base_path, True), raster_sha(alt_path, True), str(base_path), str(alt_path),
                        legend, common.build_id(), common.active_upload_id("zones"))


def zone_label(z: str, lang: str) -> str:
    if z == change.TOTAL:
        return t("targets.change.total", lang)
    if lang == "en":
        zones = common._load_layer("zones", common.build_id(), common.active_upload_id("zones"))
        m = dict(zip(zones["name_zh"].astype(str), zones.get("name_en", zones["name_zh"]).astype(str)))
        return m.get(z, z)
    return z


def class_label(c: str, lang: str) -> str:
    if c == change.NODATA_CLASS:
        return t("targets.change.nodata", lang)
    cc = CLASS_BY_ID[c]
    return cc.label_zh if lang == "zh" else cc.label_en


def matrix_labelled(m: pd.DataFrame, lang: str) -> pd.DataFrame:
    keep = [c for c in m.index if m.loc[c].sum() > 0 or m[c].sum() > 0]
    out = m.loc[keep, keep].copy()
    out.index = [class_label(c, lang) for c in keep]
    out.columns = [class_label(c, lang) for c in keep]
    out.index.name = t("targets.change.from_to", lang)
    return out


def heatmap(m: pd.DataFrame, lang: str) -> go.Figure:
    ml = matrix_labelled(m, lang)
    fig = px.imshow(ml, text_auto=".3g", color_continuous_scale="Blues", aspect="auto",
                    labels=dict(x=t("targets.change.to", lang), y=t("targets.change.from", lang), color="km²"))
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def sankey(m: pd.DataFrame, lang: str) -> go.Figure:
    ml = matrix_labelled(m, lang)
    n = len(ml)
    src, dst, val = [], [], []
    for i in range(n):
        for j in range(n):
            v = float(ml.iat[i, j])
            if v > 0:
                src.append(i)
                dst.append(n + j)
                val.append(v)
    keys = [c for c in m.index if m.loc[c].sum() > 0 or m[c].sum() > 0]
    colors = [CLASS_BY_ID[c].color if c in CLASS_BY_ID else "#999999" for c in keys]
    fig = go.Figure(go.Sankey(node=dict(label=list(ml.index) + list(ml.columns), color=colors + colors, pad=12),
                              link=dict(source=src, target=dst, value=val)))
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def legend_choices() -> list[str]:
    return [k for k in LEGENDS if k in BUILTIN]

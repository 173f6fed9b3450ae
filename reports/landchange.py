"""Writers of the land-change results: the red-line / protected-area change report
(``indicators.protected_change.ProtectedChange``) as Excel sheets, the parcels of change as
GeoJSON/GeoPackage, and the A4 land-change PDF (that report, the degradation table, trajectories).

    excel_bytes(protected_change_sheets(res, "zh"), "zh", labels=False, indicators_sheet=False)
    protected_change_excel(res, "zh", sources=…, provenance=…)          # the same, in one call
    parcels_bytes(res, "geojson" | "gpkg")
    landchange_pdf(title=…, date=…, protected=res, degradation=df, lang="zh")

Every header is a label with its unit in the chosen language (the unit follows the column id's
suffix: ``_km2`` km², ``_ha`` ha, ``_pct`` %); class ids print as class names.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import shapely

from core.errors import InputError
from core.i18n import TEXT, t
from core.text import DEFAULT_LANG, LANGS, pick
from indicators.protected_change import AREA_METHODS, ProtectedChange
from layers.legends import CLASS_BY_ID, CLASS_IDS
from reports.excel import excel_bytes
from reports.labels import column_label
from reports.pdf import document
from reports.pdf import sections as S
from reports.vector import geojson_bytes, gpkg_bytes

UNITS = (("_km2", "km²"), ("_ha", "ha"), ("_pct", "%"), ("_m2", "m²"))
_KEYS = {  # column id -> translation key of its label (the unit comes from the id)
    "layer": "lchg.col.layer", "name": "lchg.col.name", "polygon": "lchg.col.polygon",
    "area_km2": "lchg.col.area_km2", "valid_km2": "lchg.col.valid_km2", "nodata_km2": "lchg.col.nodata_km2",
    "changed_km2": "lchg.col.changed_km2", "changed_pct": "lchg.col.changed_pct",
    "parcel_count": "lchg.col.parcel_count", "area_ha": "lchg.col.area_ha", "lonlat": "lchg.col.lonlat",
}
SUMMARY_COLUMNS = ["layer", "name", "area_km2", "valid_km2", "nodata_km2", "changed_km2", "changed_pct",
                   "parcel_count", *(f"{c}_net_km2" for c in CLASS_IDS)]
DEGRADATION_COLUMNS = ["level", "unit_id", "name_zh", "name_en", "period", "improved_km2", "stable_km2",
                       "degraded_km2", "nodata_km2", "improved_pct", "stable_pct", "degraded_pct", "nodata_pct"]
_DEG_KEYS = {"level": "lchg.deg.level", "unit_id": "lchg.deg.unit_id", "name": "lchg.deg.name",
             "period": "lchg.deg.period", "improved": "lchg.deg.improved", "stable": "lchg.deg.stable",
             "degraded": "lchg.deg.degraded", "nodata": "lchg.deg.nodata", "class": "lchg.traj.class",
             "year": "lchg.traj.year"}
PDF_MAX_ROWS = 300  # longer tables are cut in the PDF (the Excel export has every row)
PDF_TOP_PARCELS = 15


def unit_of(col: str) -> str:
    return next((u for s, u in UNITS if str(col).endswith(s)), "")


def with_unit(label: str, col: str) -> str:
    u = unit_of(col)
    return f"{label} ({u})" if u else label


def class_label(cls: str, lang: str = DEFAULT_LANG) -> str:
    """A class id (or "nodata") in words."""
    c = CLASS_BY_ID.get(str(cls))
    if c is None:
        return t("lchg.nodata", lang) if cls == "nodata" else str(cls)
    return pick(c.label_zh, c.label_en, lang)


def column_text(col: str, lang: str = DEFAULT_LANG, base_year: int | None = None, alt_year: int | None = None,
                degradation: bool = False) -> str:
    """Header of a change-report column (``degradation``: of the degradation table), with its unit."""
    col = str(col)
    stem = col.rsplit("_", 1)[0] if unit_of(col) else col
    if degradation and stem in _DEG_KEYS:
        return with_unit(t(_DEG_KEYS[stem], lang), col)
    if col.endswith("_net_km2") and col[:-len("_net_km2")] in CLASS_BY_ID:
        label = t("lchg.col.net_km2", lang, cls=class_label(col[:-len("_net_km2")], lang))
    elif col in ("from_class", "to_class"):
        label = t("lchg.col.from_class", lang, year=base_year) if col == "from_class" else \
            t("lchg.col.to_class", lang, year=alt_year)
    elif col in _KEYS:
        label = t(_KEYS[col], lang)
    elif stem in _DEG_KEYS:
        label = t(_DEG_KEYS[stem], lang)
    else:
        return column_label(col, lang)
    return with_unit(label, col)


def _relabel(df: pd.DataFrame, lang: str, res: ProtectedChange | None = None,
             degradation: bool = False) -> pd.DataFrame:
    by, ay = (res.base_year, res.alt_year) if res is not None else (None, None)
    return df.rename(columns={c: column_text(c, lang, by, ay, degradation) for c in df.columns})


def _with_name(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``name`` in ``lang`` (from name_zh / name_en) in place of the two columns."""
    df = df.copy()
    if "name_zh" in df.columns or "name_en" in df.columns:
        zh = df["name_zh"] if "name_zh" in df.columns else pd.Series([""] * len(df), index=df.index)
        en = df["name_en"] if "name_en" in df.columns else pd.Series([""] * len(df), index=df.index)
        pos = min(df.columns.get_loc(c) for c in ("name_zh", "name_en") if c in df.columns)
        names = [pick(None if pd.isna(a) else str(a), None if pd.isna(b) else str(b), lang) for a, b in zip(zh, en)]
        df = df.drop(columns=[c for c in ("name_zh", "name_en") if c in df.columns])
        df.insert(pos, "name", names)
    return df


def matrix_frame(m: pd.DataFrame, lang: str, base_year: int, alt_year: int, compact: bool = False) -> pd.DataFrame:
    """A transition matrix (km²) with class names, a total column and a total row; ``compact``:
    only the classes with area."""
    m = m.astype(float)
    if compact:
        keep = [c for c in m.index if m.loc[c].sum() > 0 or m[c].sum() > 0]
        m = m.loc[keep, keep]
    out = m.copy()
    out[t("lchg.total", lang)] = m.sum(axis=1)
    out.loc[t("lchg.total", lang)] = out.sum(axis=0)
    out.columns = [with_unit(class_label(c, lang), "_km2") if c in m.columns else with_unit(str(c), "_km2")
                   for c in out.columns]
    out.index = [class_label(c, lang) if c in m.index else str(c) for c in out.index]
    out.index.name = t("lchg.matrix.corner", lang, base=base_year, alt=alt_year)
    return out.reset_index()


def _parcel_rows(res: ProtectedChange, lang: str) -> pd.DataFrame:
    p = res.parcels
    pts = shapely.point_on_surface(np.asarray(p.geometry.values, dtype=object)) if len(p) else np.array([])
    return pd.DataFrame({
        "layer": p["layer"].to_numpy(),
        "name": [res.names[x].pick(lang) if x in res.names else x for x in p["layer"]],
        "from_class": [class_label(c, lang) for c in p["from_class"]],
        "to_class": [class_label(c, lang) for c in p["to_class"]],
        "area_ha": p["area_ha"].to_numpy(dtype=float),
        "lonlat": [f"{shapely.get_x(q):.5f}, {shapely.get_y(q):.5f}" for q in pts],
    })


def protected_change_sheets(res: ProtectedChange, lang: str = DEFAULT_LANG) -> dict[str, pd.DataFrame]:
    """Sheets for ``reports.excel.excel_bytes(..., labels=False)``: the summary (one row per layer),
    one row per polygon (with a name field), a matrix per layer, the parcels (attributes and a
    location) and an "about" sheet (years, legend, minimum parcel area, area method, definitions, notes)."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    summ = _with_name(res.summary, lang)
    sheets = {t("lchg.sheet.summary", lang): _relabel(summ[[c for c in SUMMARY_COLUMNS if c in summ.columns]], lang)}
    if res.polygon_summary is not None and len(res.polygon_summary):
        ps = _with_name(res.polygon_summary, lang)
        cols = ["layer", "name", "polygon", *(c for c in SUMMARY_COLUMNS[2:] if c in ps.columns)]
        sheets[t("lchg.sheet.polygons", lang)] = _relabel(ps[cols], lang)
    for lid, m in res.matrices.items():
        name = res.names[lid].pick(lang) if lid in res.names else lid
        sheets[t("lchg.sheet.matrix", lang, layer=name)] = matrix_frame(m, lang, res.base_year, res.alt_year)
    sheets[t("lchg.sheet.parcels", lang)] = _relabel(_parcel_rows(res, lang), lang, res)
    sheets[t("lchg.sheet.about", lang)] = about_frame(res, lang)
    return sheets


def about_frame(res: ProtectedChange, lang: str = DEFAULT_LANG) -> pd.DataFrame:
    rows = [(t("lchg.about.years", lang), f"{res.base_year} → {res.alt_year}"),
            (t("lchg.about.legend", lang), res.legend_name or res.legend),
            (t("lchg.about.min_parcel", lang), f"{res.min_parcel_m2:g}"),
            (t("lchg.about.area_method", lang), AREA_METHODS[res.area_method].pick(lang)),
            (t("lchg.about.note", lang), t("lchg.about.matrix", lang)),
            (t("lchg.about.note", lang), t("lchg.about.parcels", lang)),
            *((t("lchg.about.note", lang), n.pick(lang)) for n in res.notes)]
    return pd.DataFrame(rows, columns=[t("lchg.about.item", lang), t("lchg.about.value", lang)])


def protected_change_excel(res: ProtectedChange, lang: str = DEFAULT_LANG, sources=None, provenance=None) -> bytes:
    """The change report as .xlsx (``protected_change_sheets`` + sources and provenance sheets)."""
    return excel_bytes(protected_change_sheets(res, lang), lang, labels=False, indicators_sheet=False,
                       sources=sources, provenance=provenance)


def parcels_bytes(res: ProtectedChange, fmt: str = "geojson", provenance: dict | None = None) -> bytes:
    """The parcels of change as GeoJSON (RFC 7946) or GeoPackage (layer "change_parcels"), EPSG:4326:
    layer, from_class, to_class (class ids), area_ha, year_from, year_to."""
    import geopandas as gpd

    fmt = str(fmt).lower().lstrip(".")
    p = res.parcels
    out = gpd.GeoDataFrame({"layer": p["layer"].astype(str).to_numpy(), "from_class": p["from_class"].to_numpy(),
                            "to_class": p["to_class"].to_numpy(), "area_ha": p["area_ha"].to_numpy(dtype=float),
                            "year_from": np.full(len(p), res.base_year), "year_to": np.full(len(p), res.alt_year)},
                           geometry=p.geometry.values, crs=p.crs or 4326)
    if fmt == "geojson":
        return geojson_bytes(out)
    if fmt == "gpkg":
        return gpkg_bytes(out, layer="change_parcels", provenance=provenance)
    raise InputError(f"不支持的图斑格式：{fmt}（可用 geojson、gpkg）", f"unsupported parcel format {fmt} (use geojson or gpkg)")


def level_text(level, lang: str = DEFAULT_LANG) -> str:
    """A unit level ("county", "redline", …) in words when the translation table has it."""
    for key in (f"targets.level.{level}", f"landchange.level.{level}"):
        e = TEXT.get(key)
        if e:
            return e.get(lang) or e[DEFAULT_LANG]
    return str(level)


def _degradation_rows(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    d = _with_name(df, lang)
    d = d[[c for c in ("level", "unit_id", "name", *DEGRADATION_COLUMNS[4:]) if c in d.columns]].copy()
    if "level" in d.columns:
        d["level"] = [level_text(v, lang) for v in d["level"]]
    return d


def degradation_table(df: pd.DataFrame, lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """The degradation table (``DEGRADATION_COLUMNS``; other columns left out) with the unit name and
    level in ``lang`` and labelled headers."""
    return _relabel(_degradation_rows(df, lang), lang, degradation=True)


# --- the PDF ---------------------------------------------------------------------------------------
def _num(v: Any, col: str = "") -> str:
    if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and not np.isfinite(v)):
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}" if not str(col).endswith("year") and col != "year" else str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if str(col).endswith("_pct"):
            return f"{v:.2f}"
        if v == 0:
            return "0"
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:,.2f}" if abs(v) >= 1 else f"{v:.4f}"
    return str(v)


def _grid(pg, df: pd.DataFrame, heads: list[str], first: float = 0.2,
          weights: Mapping[str, float] | None = None) -> list:
    """A PDF table of ``df`` (cells formatted by column id), at most ``PDF_MAX_ROWS`` rows; the first
    column takes ``first`` of the width and the others share the rest (by ``weights``, default 1)."""
    n = len(df.columns)
    if not n:
        return []
    w = [float((weights or {}).get(c, 1.0)) for c in df.columns[1:]]
    rest = (1 - first) if n > 1 else 0
    widths = [(first if n > 1 else 1.0) * pg.width] + [rest * x / sum(w) * pg.width for x in w]
    rows = [[_num(v, c) for c, v in zip(df.columns, r)] for r in df.head(PDF_MAX_ROWS).itertuples(index=False)]
    out = [pg.table(heads, rows, widths)]
    if len(df) > PDF_MAX_ROWS:
        out.append(pg.para(t("lchg.pdf.rows_cut", pg.lang, n=PDF_MAX_ROWS, total=len(df)), "small"))
    return out


def _protected_sections(pg, res: ProtectedChange) -> list:
    from reportlab.platypus import KeepTogether, Spacer

    lang = pg.lang
    s = _with_name(res.summary, lang)
    if not len(s):
        return []
    cols = [c for c in ("name", "area_km2", "nodata_km2", "changed_km2", "changed_pct", "parcel_count")
            if c in s.columns]
    out = [pg.para(t("lchg.pdf.summary", lang), "h"),
           pg.para(t("lchg.pdf.years", lang, base=res.base_year, alt=res.alt_year,
                                  legend=res.legend_name or res.legend), "small"),
           *_grid(pg, s[cols], [column_text(c, lang) for c in cols], first=0.3)]
    shown = [c for c in CLASS_IDS if any(m.loc[c].sum() > 0 or m[c].sum() > 0 for m in res.matrices.values())]
    net = ["name", *(f"{c}_net_km2" for c in shown)]
    out += [pg.para(t("lchg.pdf.net", lang), "h"),
            *_grid(pg, s[net], [column_text("name", lang), *(class_label(c, lang) for c in shown)], first=0.22)]
    for lid, m in res.matrices.items():
        name = res.names[lid].pick(lang) if lid in res.names else lid
        f = matrix_frame(m, lang, res.base_year, res.alt_year, compact=True)
        block = [pg.para(t("lchg.pdf.matrix", lang, name=name), "h"),
                 *_grid(pg, f, [str(c) for c in f.columns], first=0.2)]
        out += [KeepTogether(block), pg.para(t("lchg.pdf.matrix.note", lang), "small"), Spacer(1, 3)]
    if len(res.parcels):
        top = _parcel_rows(res, lang).sort_values("area_ha", ascending=False, kind="stable").head(PDF_TOP_PARCELS)
        cols = ["name", "from_class", "to_class", "area_ha", "lonlat"]
        out += [pg.para(t("lchg.pdf.parcels", lang), "h"),
                pg.para(t("lchg.pdf.parcels.note", lang, n=f"{len(res.parcels):,}", min=f"{res.min_parcel_m2:,.0f}",
                          k=len(top)), "small"),
                *_grid(pg, top[cols], [column_text(c, lang, res.base_year, res.alt_year) for c in cols], first=0.26)]
    notes = [AREA_METHODS[res.area_method].pick(lang), t("lchg.about.matrix", lang), t("lchg.about.parcels", lang),
             *(n.pick(lang) for n in res.notes)]
    return out + [pg.para(t("lchg.pdf.notes", lang), "h"), *(pg.para(n, "small") for n in notes)]


def _degradation_section(pg, df: pd.DataFrame | None) -> list:
    from reportlab.platypus import KeepTogether

    if df is None:
        return []
    d = _degradation_rows(df, pg.lang)
    heads = [column_text(c, pg.lang, degradation=True) for c in d.columns]
    return [KeepTogether([pg.para(t("lchg.pdf.degradation", pg.lang), "h"),
                          *_grid(pg, d, heads, first=0.08, weights={"name": 2.0, "period": 1.4})])]


def trajectory_wide(df: pd.DataFrame, lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """A long trajectory table (level, unit_id, name_zh, name_en, year, class, area_km2) as one row per
    unit and class, one column per year (ids: ``name``, ``class``, ``<year>``; km²); rows that are 0
    in every year left out; the level column only when there are several."""
    d = _with_name(df, lang)
    keys = [c for c in ("level", "unit_id", "name") if c in d.columns and (c != "level" or d[c].nunique() > 1)]
    w = d.pivot_table(index=[*keys, "class"], columns="year", values="area_km2", aggfunc="sum", sort=False)
    w = w[w.abs().sum(axis=1) > 0]
    w = w[sorted(w.columns)].reset_index()
    w["class"] = [class_label(c, lang) for c in w["class"]]
    if "level" in w.columns:
        w["level"] = [level_text(v, lang) for v in w["level"]]
    w.columns = [str(c) for c in w.columns]
    return w.drop(columns=["unit_id"]) if "name" in w.columns and "unit_id" in w.columns else w


def _trajectory_section(pg, df: pd.DataFrame | None) -> list:
    from reportlab.platypus import KeepTogether

    if df is None:
        return []
    lang = pg.lang
    if {"class", "year", "area_km2"} <= set(df.columns):
        d = trajectory_wide(df, lang)
        heads = [f"{c} (km²)" if c.isdigit() else column_text(c, lang, degradation=True) for c in d.columns]
        d = d.rename(columns={c: f"{c}_km2" for c in d.columns if c.isdigit()})  # number format of an area
    else:
        d = _with_name(df, lang)
        heads = [column_text(c, lang, degradation=True) for c in d.columns]
    return [KeepTogether([pg.para(t("lchg.pdf.trajectories", lang), "h"),
                          *_grid(pg, d, heads, first=0.18, weights={"class": 1.5})])]


def landchange_pdf(*, title: str | None = None, date: _dt.date | str | None = None,
                   protected: ProtectedChange | None = None, degradation: pd.DataFrame | None = None,
                   trajectories: pd.DataFrame | None = None, sources: Sequence[Mapping[str, Any]] = (),
                   provenance: Mapping[str, Any] | None = None, lang: str = DEFAULT_LANG,
                   font: str | None = None) -> bytes:
    """The land-change report, A4 PDF bytes: title and date; the red-line / protected-area change
    (summary, net change per class, each layer's matrix, the largest parcels, notes); the degradation
    table (``DEGRADATION_COLUMNS``) and the trajectories when given; sources and provenance.
    Every user text (names, titles) is escaped: markup prints as typed. ``font``: see ``pdf_font``."""
    from reportlab.platypus import Spacer

    lang, fname, fdesc, date_s, pg = document.setup(lang, font, date)
    title = title or t("lchg.pdf.title", lang)
    story: list[Any] = [pg.para(title, "title"), pg.labelled(t("report.date", lang), date_s), Spacer(1, 4)]
    if protected is not None:
        story += _protected_sections(pg, protected)
    story += _degradation_section(pg, degradation)
    story += _trajectory_section(pg, trajectories)
    story += [*S.sources_section(pg, sources, fdesc), *S.provenance_section(pg, provenance)]
    return document.build(story, lang=lang, font=fname, font_desc=fdesc, title=title, footer=f"{title} · {date_s}",
                          subject=t("lchg.pdf.title", lang), provenance=provenance)

"""Every writer (may import ``core``, ``layers`` and ``indicators``; headers from the indicator table).

Exports: Excel workbook, GeoJSON, GeoPackage and the printable scenario report (PDF).

    excel_bytes({"parks": df, "ranking": ranked}, lang="zh")        # units in headers
    geojson_bytes(parks_gdf); gpkg_bytes(parks_gdf)                   # parks with indicators
    scenario_pdf(scenario="方案一", ranking=ranked, indicators=df, checklists=..., sources=manifest,
                 province=prov, zones=zones, parks=parks_gdf, lang="zh")

Column headers come from the declared indicator table (``indicators.table``) and, for the columns
added by siting and the checklist, from their ``COLUMN_LABELS``. All user text placed in the PDF
is XML-escaped (reportlab Paragraphs parse markup), so a park named ``<b>x</b> & y`` prints as
typed. Chinese in the PDF: an embedded TrueType CJK font when one is installed (Debian
``fonts-wqy-zenhei``, or the file named by ``GANSU_PDF_FONT``), else reportlab's built-in CID
font STSong-Light (not embedded: the PDF viewer supplies the glyphs). Text is extractable in
both cases.
"""
from __future__ import annotations

import datetime as _dt
import io
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from indicators import checklist as _checklist
from indicators import siting as _siting
from indicators import table as _table
from core.errors import InputError

INDICATORS_SHEET = "indicators"  # sheet name, same in both languages (scripts look for it)


def _tr(key: str, lang: str, **fmt) -> str:
    """Report wording comes from the one translation table (keys report.* and col.*)."""
    from core.i18n import t

    return t(key, lang, **fmt)


# --- column labels -----------------------------------------------------------------------------
def _label_parts(col: str) -> tuple[str, str, str] | None:
    ind = _table.BY_ID.get(col)
    if ind is not None:
        return ind.label_zh, ind.label_en, ind.unit
    for labels in (_siting.COLUMN_LABELS, _checklist.COLUMN_LABELS):
        if col in labels:
            return labels[col]
    for prefix, zh, en, unit in (("norm_", "归一化：", "Normalised: ", "0–1"), ("contrib_", "得分贡献：", "Contribution: ", "")):
        if col.startswith(prefix) and col[len(prefix):] in _table.BY_ID:
            ind = _table.BY_ID[col[len(prefix):]]
            return zh + ind.label_zh, en + ind.label_en, unit
    return None


def column_label(col: str, lang: str = "zh", bilingual: bool = False, with_unit: bool = True) -> str:
    """Header for a column: "森林面积 (km²)", "Forest area (km²)" or "森林面积 Forest area (km²)"."""
    parts = _label_parts(str(col))
    if parts is None:
        return str(col)
    zh, en, unit = parts
    text = f"{zh} {en}" if bilingual and zh != en else (zh if lang == "zh" else en)
    return f"{text} ({unit})" if with_unit and unit else text


# --- Excel -------------------------------------------------------------------------------------
_SHEET_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def safe_sheet_names(names: Iterable[str]) -> list[str]:
    """Excel-safe, unique (case-insensitive) sheet names of at most 31 characters."""
    out, seen = [], set()
    for i, name in enumerate(names):
        s = _SHEET_BAD.sub("_", str(name)).strip().strip("'").strip() or f"Sheet{i + 1}"
        if s.lower() == "history":
            s = "History_"
        s = s[:31]
        base, k = s, 2
        while s.lower() in seen:
            suffix = f"_{k}"
            s = base[:31 - len(suffix)] + suffix
            k += 1
        seen.add(s.lower())
        out.append(s)
    return out


def _cell(v: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, pd.Timestamp):
        return v.tz_convert(None).to_pydatetime() if v.tzinfo else v.to_pydatetime()
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.replace(tzinfo=None) if isinstance(v, _dt.datetime) else v
    if isinstance(v, (list, tuple, set)):
        v = "; ".join(map(str, v))
    if hasattr(v, "geom_type"):
        v = v.wkt
    return ILLEGAL_CHARACTERS_RE.sub("", str(v))


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Drop geometry columns (GeoDataFrame or shapely values) from a table for Excel."""
    geo = getattr(df, "_geometry_column_name", None)
    drop = [c for c in df.columns if c == geo or str(df[c].dtype) == "geometry"]
    return pd.DataFrame(df.drop(columns=drop))


def _columns_sheet(sheets: Mapping[str, pd.DataFrame], lang: str, bilingual: bool) -> pd.DataFrame:
    """Every indicator of the declared table, plus the other columns found in the sheets."""
    t = _table.table_frame()
    rows = []
    siting_dirs = {}
    for c in _siting.CRITERIA:
        siting_dirs[c] = _siting.direction(c)
    for r in t.itertuples():
        rows.append({"id": r.id, "label": _both(r.label_zh, r.label_en, lang, bilingual), "unit": r.unit,
                     "description": _both(r.description_zh, r.description_en, lang, bilingual),
                     "direction": r.direction, "siting_direction": siting_dirs.get(r.id, ""), "kind": r.kind})
    known = set(t["id"])
    for df in sheets.values():
        for c in _plain(df).columns:
            c = str(c)
            if c in known:
                continue
            known.add(c)
            parts = _label_parts(c)
            zh, en, unit = parts if parts else (c, c, "")
            rows.append({"id": c, "label": _both(zh, en, lang, bilingual), "unit": unit, "description": "",
                         "direction": "", "siting_direction": "", "kind": ""})
    out = pd.DataFrame(rows)
    heads = {k: _both(_tr(f"col.{k}", "zh"), _tr(f"col.{k}", "en"), lang, bilingual) for k in out.columns}
    return out.rename(columns=heads)


def _both(zh: str, en: str, lang: str, bilingual: bool) -> str:
    if bilingual and zh != en:
        return f"{zh} {en}"
    return zh if lang == "zh" else en


def excel_bytes(sheets: Mapping[str, pd.DataFrame], lang: str = "zh", bilingual: bool = False,
                indicators_sheet: bool = True) -> bytes:
    """An .xlsx workbook: one sheet per table, headers with units in ``lang`` (or zh + en when
    ``bilingual``), plus an "indicators" sheet describing every column. Geometry columns are
    dropped; text that looks like a formula is stored as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    if not sheets:
        raise InputError("没有可导出的表格", "nothing to export: no table given")
    tables = [(str(k), _plain(v), False) for k, v in sheets.items()]
    if indicators_sheet:
        tables.append((INDICATORS_SHEET, _columns_sheet(sheets, lang, bilingual), True))
    names = safe_sheet_names(k for k, _, _ in tables)
    wb = Workbook()
    wb.remove(wb.active)
    for name, (_, df, is_doc) in zip(names, tables):
        ws = wb.create_sheet(name)
        heads = list(map(str, df.columns)) if is_doc else [column_label(str(c), lang, bilingual) for c in df.columns]
        ws.append(heads)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in df.itertuples(index=False, name=None):
            ws.append([_cell(v) for v in row])
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # never a formula from user text
        ws.freeze_panes = "A2"
        for j, h in enumerate(heads, start=1):
            width = max([_width(h)] + [_width(v) for v in df.iloc[:200, j - 1]]) if len(df) else _width(h)
            ws.column_dimensions[get_column_letter(j)].width = min(max(8, width + 2), 60)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _width(v: Any) -> int:
    s = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s[:80])


# --- GeoJSON and GeoPackage --------------------------------------------------------------------
_RESERVED = {"fid", "geom", "geometry", "ogc_fid"}


def safe_field_names(columns: Iterable[str], max_len: int = 63) -> dict[str, str]:
    """Map column → field name safe for GPKG/GeoJSON: word characters (CJK kept) and "_", not
    starting with a digit, not a reserved name (fid, geom), unique case-insensitively."""
    out, seen = {}, set()
    for c in columns:
        s = re.sub(r"\W+", "_", str(c), flags=re.UNICODE).strip("_") or "field"
        if s[0].isdigit():
            s = "f_" + s
        if s.lower() in _RESERVED:
            s = s + "_"
        s = s[:max_len]
        base, k = s, 2
        while s.lower() in seen:
            suffix = f"_{k}"
            s = base[:max_len - len(suffix)] + suffix
            k += 1
        seen.add(s.lower())
        out[c] = s
    return out


def _vector_ready(gdf, to_wgs84: bool):
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError("园区数据须为 GeoDataFrame", "parks must be a GeoDataFrame")
    if gdf.crs is None:
        raise InputError("园区图层没有坐标参考系", "the parks layer has no CRS")
    geo = gdf.geometry.name
    attrs = pd.DataFrame(gdf.drop(columns=[geo]))
    clean = {}
    for c in attrs.columns:
        s = attrs[c]
        if s.dtype == object:
            vals = [_cell(v) for v in s]
            kinds = {type(v) for v in vals if v is not None}
            if kinds and kinds <= {bool}:
                s = pd.array(vals, dtype="boolean")
            elif kinds <= {int, float} and kinds:
                s = pd.to_numeric(pd.Series(vals, dtype=object), errors="coerce").to_numpy()
            else:
                s = pd.Series([None if v is None else str(v) for v in vals], dtype=object).to_numpy()
        clean[c] = s
    names = safe_field_names(attrs.columns)
    out = gpd.GeoDataFrame({names[c]: clean[c] for c in attrs.columns}, geometry=gdf.geometry.values, crs=gdf.crs)
    return out.to_crs(4326) if to_wgs84 else out


def _write_bytes(gdf, suffix: str, driver: str, **kw) -> bytes:
    with tempfile.TemporaryDirectory(prefix="gansu-export-") as d:
        path = Path(d) / f"parks{suffix}"
        gdf.to_file(path, driver=driver, engine="pyogrio", **kw)
        return path.read_bytes()


def geojson_bytes(gdf) -> bytes:
    """Parks with their indicators as RFC 7946 GeoJSON (WGS84 lon/lat, UTF-8)."""
    return _write_bytes(_vector_ready(gdf, to_wgs84=True), ".geojson", "GeoJSON", layer_options={"RFC7946": "YES"})


def gpkg_bytes(gdf, layer: str = "parks") -> bytes:
    """Parks with their indicators as a GeoPackage (one layer, CRS of the input, safe field names)."""
    layer = safe_field_names([layer])[layer]
    return _write_bytes(_vector_ready(gdf, to_wgs84=False), ".gpkg", "GPKG", layer=layer)


# --- PDF fonts ---------------------------------------------------------------------------------
CID_FONT = "STSong-Light"
TTF_CANDIDATES: tuple[tuple[str, int], ...] = (  # TrueType-flavoured CJK fonts reportlab can embed
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # Debian fonts-wqy-zenhei
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),  # Debian fonts-wqy-microhei
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # Debian fonts-arphic-uming
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),  # Debian fonts-droid-fallback
)
_REGISTERED: dict[str, str] = {}


def pdf_font(preference: str | None = None) -> tuple[str, str]:
    """(reportlab font name, description) of the CJK font for the PDF.

    ``preference``: "cid" forces STSong-Light; a path (.ttf/.ttc[:index]) embeds that file; None
    → ``GANSU_PDF_FONT`` if set, else the first installed ``TTF_CANDIDATES``, else STSong-Light.
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    pref = preference if preference is not None else os.environ.get("GANSU_PDF_FONT") or None
    candidates: list[tuple[str, int]] = []
    if pref and pref.lower() != "cid":
        path, _, idx = pref.partition(":") if not Path(pref).is_file() else (pref, "", "")
        if not Path(path).is_file():
            raise InputError(f"找不到 PDF 字体文件：{path}", f"PDF font file not found: {path}")
        candidates.append((path, int(idx or 0)))
    elif pref is None:
        candidates.extend(c for c in TTF_CANDIDATES if Path(c[0]).is_file())
    for path, idx in candidates:
        key = f"{path}:{idx}"
        if key not in _REGISTERED:
            name = f"CJK-{Path(path).stem}-{idx}"
            try:
                pdfmetrics.registerFont(TTFont(name, path, subfontIndex=idx))
            except Exception as e:  # a CFF-flavoured or broken file: try the next one
                if pref:
                    raise InputError(f"无法嵌入字体 {path}：{e}（需要 TrueType 轮廓字体）",
                                     f"cannot embed font {path}: {e} (TrueType outlines needed)") from None
                continue
            _REGISTERED[key] = name
        return _REGISTERED[key], f"embedded TrueType {Path(path).name}"
    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT, f"{CID_FONT} (Adobe-GB1 CID font, not embedded)"


# --- the map -----------------------------------------------------------------------------------
_ZONE_COLORS = ("#cfe8cf", "#cde3f3", "#f3e3c3", "#e6d5ef", "#f6d6d6", "#e0e0c8", "#d4efe9")


def _to_lonlat(gdf):
    if gdf is None or len(gdf) == 0:
        return None
    if gdf.crs is None:
        raise InputError("地图图层没有坐标参考系", "a map layer has no CRS")
    return gdf.to_crs(4326)


def _rings(geom) -> list[list[tuple[float, float]]]:
    import shapely

    out = []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        out.append(list(poly.exterior.coords))
        out.extend(list(r.coords) for r in poly.interiors)
    return out


def _map_drawing(province, zones, parks, park_labels: Mapping[str, tuple[str, bool]], lang: str,
                 font: str, width: float, zone_field: str | None):
    """A vector map (reportlab Drawing) and its extent note."""
    from reportlab.graphics.shapes import FILL_EVEN_ODD, Circle, Drawing, Line, Path as RPath, Rect, String
    from reportlab.lib import colors
    from reportlab.pdfbase.pdfmetrics import stringWidth

    province, zones, parks = _to_lonlat(province), _to_lonlat(zones), _to_lonlat(parks)
    layers = [g for g in (province, zones, parks) if g is not None]
    if not layers:
        return None, ""
    base = province if province is not None else (zones if zones is not None else parks)
    w, s, e, n = base.total_bounds
    if parks is not None:
        pw, ps, pe, pn = parks.total_bounds
        w, s, e, n = min(w, pw), min(s, ps), max(e, pe), max(n, pn)
    pad = 0.03 * max(e - w, n - s, 0.05)
    w, s, e, n = w - pad, s - pad, e + pad, n + pad
    lat0 = (s + n) / 2
    k = math.cos(math.radians(lat0))
    # legend: parks, then zones (full names, wrapped into rows right of the scale bar)
    items = [(colors.HexColor("#c0392b"), _tr("report.park", lang)), (colors.HexColor("#7f7f7f"), _tr("report.park_excluded", lang))]
    zone_fill = []
    if zones is not None:
        field = zone_field or next((f for f in (f"name_{lang}", "name_zh", "zone", "name") if f in zones.columns), None)
        for i, (_, z) in enumerate(zones.iterrows()):
            col = z.get("color") if "color" in zones.columns else None
            fallback = colors.HexColor(_ZONE_COLORS[i % len(_ZONE_COLORS)])
            try:
                fill = colors.HexColor(col) if isinstance(col, str) and col else fallback
            except (ValueError, TypeError):
                fill = fallback
            fill = colors.Color(fill.red, fill.green, fill.blue, alpha=0.55)
            zone_fill.append(fill)
            if field:
                items.append((fill, str(z[field])[:60]))
    left = width * 0.22
    pos, x, y = [], left, 0.0
    for _, text in items:
        wd = 11 + stringWidth(text, font, 6.5) + 12
        if x + wd > width and x > left:
            x, y = left, y + 11
        pos.append((x, y))
        x += wd
    legend_h = max(24.0, y + 20)
    scale = min(width / ((e - w) * k), 380 / (n - s))
    height = (n - s) * scale + legend_h
    d = Drawing(width, height)
    x0 = (width - (e - w) * k * scale) / 2

    def xy(lon, lat):
        return x0 + (lon - w) * k * scale, legend_h + (lat - s) * scale

    tol = max(e - w, n - s) / 1500  # about half a point: invisible simplification

    def poly_path(geom, fill, stroke, stroke_width):
        pts, ops = [], []
        for ring in _rings(geom.simplify(tol, preserve_topology=True) if tol > 0 else geom):
            for i, (lon, lat) in enumerate(ring):
                pts.extend(xy(lon, lat))
                ops.append(0 if i == 0 else 1)
            ops.append(3)
        if not pts:
            return None
        return RPath(pts, ops, fillColor=fill, strokeColor=stroke, strokeWidth=stroke_width, fillMode=FILL_EVEN_ODD)

    shapes = []
    if zones is not None:
        for fill, geom in zip(zone_fill, zones.geometry):
            p = poly_path(geom, fill, colors.white, 0.3)
            if p is not None:
                shapes.append(p)

    if province is not None:
        for geom in province.geometry:
            p = poly_path(geom, None, colors.black, 0.8)
            if p is not None:
                shapes.append(p)
    if parks is not None:
        ids = parks["park_id"].astype(str) if "park_id" in parks.columns else pd.Series(map(str, range(len(parks))))
        for pid, geom in zip(ids, parks.geometry):
            if geom is None or geom.is_empty:
                continue
            label, excluded = park_labels.get(pid, ("", False))
            col = colors.HexColor("#7f7f7f") if excluded else colors.HexColor("#c0392b")
            p = poly_path(geom, col, col, 0.5)
            if p is not None:
                shapes.append(p)
            c = geom.representative_point()
            cx, cy = xy(c.x, c.y)
            shapes.append(Circle(cx, cy, 5.5, fillColor=colors.white, strokeColor=col, strokeWidth=1.2))
            if label:
                shapes.append(String(cx, cy - 2.4, label, fontName=font, fontSize=6.5, fillColor=col, textAnchor="middle"))
    for sh in shapes:
        d.add(sh)
    # scale bar (true at lat0: one plotted degree = 111.32 km on both axes)
    km_per_pt = 111.32 / scale
    nice = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
    bar_km = max([b for b in nice if b / km_per_pt <= width * 0.2] or [nice[0]])
    by = legend_h - 10
    d.add(Line(0, by, bar_km / km_per_pt, by, strokeColor=colors.black, strokeWidth=1.5))
    d.add(String(0, by + 4, f"{bar_km:g} km", fontName=font, fontSize=7))
    for (lx, ly), (fill, text) in zip(pos, items):
        d.add(Rect(lx, legend_h - 12 - ly, 8, 8, fillColor=fill, strokeColor=colors.grey, strokeWidth=0.3))
        d.add(String(lx + 11, legend_h - 10 - ly, text, fontName=font, fontSize=6.5))
    note = _tr("report.map_note", lang, w=w + pad, e=e - pad, s=s + pad, n=n - pad, lat0=lat0)
    return d, note


# --- the PDF -----------------------------------------------------------------------------------
def _fmt(v: Any, col: str = "", lang: str = "zh") -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return _tr("report.yes" if v else "report.no", lang)
    if isinstance(v, (int, np.integer)):
        return f"{v:,}"
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if col == "score":
            return f"{v:.3f}"
        if col == "rank":
            return f"{v:.0f}"
        if col.endswith("_pct") or col.endswith("_km") or col.endswith("_km2"):
            return f"{v:,.2f}" if 0 < abs(v) < 10 else f"{v:,.1f}"
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
    return str(v)


def _key_columns(df: pd.DataFrame) -> list[str]:
    want = ["name", "area_km2", "carbon_stock_tc", "carbon_sink_tco2_yr", "green_coverage_pct",
            *[c for c in df.columns if str(c).startswith("dist_")],
            "redline_overlap_km2", "redline_overlap_pct", "zone", "reliability"]
    return [c for c in want if c in df.columns]


def scenario_pdf(*, scenario: str, ranking: pd.DataFrame, indicators: pd.DataFrame | None = None,
                 checklists: Mapping[str, tuple[pd.DataFrame, str]] | None = None,
                 credits: Mapping[str, Mapping[str, Any]] | None = None,
                 sources: Sequence[Mapping[str, Any]] = (), province=None, zones=None, parks=None,
                 lang: str = "zh", title: str | None = None, date: _dt.date | str | None = None,
                 weights: Mapping[str, float] | None = None, sensitivity: pd.DataFrame | None = None,
                 zone_field: str | None = None, font: str | None = None) -> bytes:
    """A printable A4 report of one scenario (PDF bytes).

    ``ranking``: ``siting.rank`` output (weights from its ``attrs`` unless ``weights`` is given);
    ``indicators``: engine rows of the parks (key columns shown with units, ordered as the
    ranking); ``checklists``: park_id → ``checklist.evaluate`` result; ``credits``: park_id →
    ``checklist.credit_check`` result; ``sources``: manifest entries (layer, source, licence,
    year[, status]); ``province``/``zones``/``parks``: GeoDataFrames in any CRS for the map (parks
    matched by ``park_id``); ``sensitivity``: ``siting.sensitivity`` output. ``font``: see
    ``pdf_font``. Every user text is escaped: markup in names prints literally.
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    lang = "en" if lang == "en" else "zh"
    fname, fdesc = pdf_font(font)
    date = date or _dt.date.today()
    date_s = date.isoformat() if isinstance(date, (_dt.date, _dt.datetime)) else str(date)
    title = title or _tr("report.title", lang)
    styles = {
        "title": ParagraphStyle("t", fontName=fname, fontSize=16, leading=21, spaceAfter=4, wordWrap="CJK"),
        "h": ParagraphStyle("h", fontName=fname, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=4,
                            textColor=colors.HexColor("#1f3b57"), wordWrap="CJK"),
        "p": ParagraphStyle("p", fontName=fname, fontSize=8.5, leading=11.5, wordWrap="CJK"),
        "small": ParagraphStyle("s", fontName=fname, fontSize=7, leading=9, textColor=colors.HexColor("#444444"),
                                wordWrap="CJK"),
        "cell": ParagraphStyle("c", fontName=fname, fontSize=7, leading=8.6, wordWrap="CJK"),
        "head": ParagraphStyle("hd", fontName=fname, fontSize=7, leading=8.6, textColor=colors.white, wordWrap="CJK"),
    }

    def P(text: Any, style: str = "p") -> Paragraph:
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), styles[style])

    def table(header: list[str], rows: list[list[Any]], widths: list[float] | None = None,
              status_col: int | None = None) -> Table:
        data = [[P(h, "head") for h in header]] + [[P(v, "cell") for v in r] for r in rows]
        tbl = Table(data, colWidths=widths, repeatRows=1)
        style = [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f3b57")),
                 ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa5b1")),
                 ("VALIGN", (0, 0), (-1, -1), "TOP"),
                 ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f3f5f7")]),
                 ("LEFTPADDING", (0, 0), (-1, -1), 2.5), ("RIGHTPADDING", (0, 0), (-1, -1), 2.5)]
        if status_col is not None:
            for i, r in enumerate(rows, start=1):
                shade = {"pass": "#d9f2d9", "fail": "#f8d7d7", "missing": "#fff3cd"}.get(_status_of(r[status_col]))
                if shade:
                    style.append(("BACKGROUND", (status_col, i), (status_col, i), colors.HexColor(shade)))
        tbl.setStyle(TableStyle(style))
        return tbl

    doc_buf = io.BytesIO()
    margin = 14 * mm
    doc = SimpleDocTemplate(doc_buf, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=margin + 4, title=f"{title} — {scenario}", author="Gansu siting dashboard",
                            subject=scenario, keywords=f"font: {fdesc}")
    fw = A4[0] - 2 * margin
    story: list[Any] = [P(title, "title"),
                        P(f"{_tr('report.scenario', lang)}：{scenario}" if lang == "zh" else f"Scenario: {scenario}"),
                        P(f"{_tr('report.date', lang)}：{date_s}" if lang == "zh" else f"Date: {date_s}"),
                        Spacer(1, 4)]

    ranking = ranking.reset_index(drop=True)
    ids = ranking["park_id"].astype(str).tolist() if "park_id" in ranking.columns else [str(i) for i in range(len(ranking))]
    names = dict(zip(ids, ranking["name"].astype(str) if "name" in ranking.columns else ids))
    excluded = dict(zip(ids, ranking["excluded"].astype(bool) if "excluded" in ranking.columns else [False] * len(ids)))
    map_no = {pid: str(i + 1) for i, pid in enumerate(ids)}

    # map
    drawing, note = _map_drawing(province, zones, parks, {p: (map_no[p], excluded[p]) for p in ids}, lang, fname,
                                 fw, zone_field)
    if drawing is not None:
        story += [P(_tr("report.map", lang), "h"), drawing, P(note, "small")]

    # ranking
    story.append(P(_tr("report.ranking", lang), "h"))
    rows = []
    for i, r in ranking.iterrows():
        reason = r.get(f"exclusion_reason_{lang}", "") or ""
        flag = r.get(f"flag_note_{lang}", "") or ""
        miss = r.get("missing", "") or ""
        if miss:
            miss = ("缺失（按最差计）：" if lang == "zh" else "missing (counted worst): ") + \
                   ", ".join(column_label(m, lang, with_unit=False) for m in str(miss).split("; "))
        rows.append([map_no[ids[i]], r.get("name", ""), _fmt(r.get("rank"), "rank", lang),
                     _fmt(r.get("score"), "score", lang), "\n".join(x for x in (reason, flag, miss) if x)])
    story.append(table([_tr("report.map_no", lang), column_label("name", lang), column_label("rank", lang),
                        column_label("score", lang), _tr("report.notes", lang)], rows,
                       [0.08 * fw, 0.27 * fw, 0.08 * fw, 0.1 * fw, 0.47 * fw]))

    # weights and method
    w = dict(weights if weights is not None else ranking.attrs.get("weights", {}))
    if w:
        dirs = ranking.attrs.get("directions", {})
        wrows = [[column_label(c, lang), _tr("report.higher" if dirs.get(c, _siting.direction(c)) > 0 else "report.lower", lang),
                  f"{100 * v:.1f}%"] for c, v in w.items()]
        story += [P(_tr("report.weights", lang), "h"),
                  table([column_label("criterion", lang), _tr("report.direction", lang), _tr("report.weight", lang)],
                        wrows, [0.55 * fw, 0.25 * fw, 0.2 * fw])]
    g = ranking.attrs.get("green_threshold_pct", _siting.GREEN_THRESHOLD_PCT)
    story.append(Spacer(1, 3))
    story.append(P(_tr("report.method", lang, g=g), "small"))
    if sensitivity is not None:
        story.append(P(_tr("report.sensitivity", lang), "h"))
        if sensitivity.empty:
            story.append(P(_tr("report.stable", lang)))
        else:
            srows = [[r[f"criterion_label_{lang}"], r["change"], r["name"], _fmt(r["rank_from"], "rank"),
                      _fmt(r["rank_to"], "rank")] for _, r in sensitivity.iterrows()]
            story.append(table([column_label("criterion", lang), column_label("change", lang), column_label("name", lang),
                                column_label("rank_from", lang), column_label("rank_to", lang)], srows,
                               [0.3 * fw, 0.14 * fw, 0.32 * fw, 0.12 * fw, 0.12 * fw]))

    # indicators
    if indicators is not None and len(indicators):
        ind = indicators.reset_index(drop=True)
        if "park_id" in ind.columns:
            pos = {str(p): i for i, p in enumerate(ind["park_id"].astype(str))}
            ind = ind.iloc[[pos[p] for p in ids if p in pos]].reset_index(drop=True)
        cols = _key_columns(ind)
        if cols:
            story.append(P(_tr("report.indicators", lang), "h"))
            irows = []
            for _, r in ind.iterrows():
                irows.append([_fmt(r[c], c, lang) if c != "reliability" else _reliability(r[c], lang) for c in cols])
            first = 0.16 * fw if "name" in cols else 0
            rest = (fw - first) / max(1, len(cols) - (1 if first else 0))
            story.append(table([column_label(c, lang) for c in cols], irows,
                               [first if c == "name" else rest for c in cols]))

    # checklists
    if checklists:
        story.append(P(_tr("report.checklist", lang), "h"))
        for pid, (cl, overall) in checklists.items():
            pid = str(pid)
            crows = [[r[f"label_{lang}"], r[f"threshold_text_{lang}"], r[f"value_text_{lang}"],
                      _status(r["status"], lang), r[f"note_{lang}"]] for _, r in cl.iterrows()]
            head = P(f"{names.get(pid, pid)} — {_tr('report.overall', lang)}：{_status(overall, lang)}"
                     if lang == "zh" else f"{names.get(pid, pid)} — {_tr('report.overall', lang)}: {_status(overall, lang)}")
            block = [head, Spacer(1, 2),
                     table([column_label("label_zh" if lang == "zh" else "label_en", lang), column_label(f"threshold_text_{lang}", lang),
                            column_label("value", lang), column_label("status", lang), column_label(f"note_{lang}", lang)],
                           crows, [0.3 * fw, 0.12 * fw, 0.1 * fw, 0.1 * fw, 0.38 * fw], status_col=3)]
            cr = (credits or {}).get(pid)
            if cr:
                block += [Spacer(1, 2), P(f"{_tr('report.credit', lang)}：{_status(cr['status'], lang)} — {cr[f'note_{lang}']}")]
            story += [KeepTogether(block), Spacer(1, 6)]

    # sources
    if sources:
        story.append(P(_tr("report.sources", lang), "h"))
        keys = ["layer", "status", "source", "licence", "year"]
        if not any("status" in s for s in sources):
            keys.remove("status")
        srows = [[s.get(k, "") for k in keys] for s in sources]
        widths = {"layer": 0.15, "status": 0.12, "source": 0.43, "licence": 0.17, "year": 0.13}
        tot = sum(widths[k] for k in keys)
        story.append(table([_tr(f"col.{k}", lang) for k in keys], srows, [widths[k] / tot * fw for k in keys]))
    story.append(Spacer(1, 6))
    story.append(P(f"PDF font: {fdesc}", "small"))

    footer = f"{title} · {scenario} · {date_s}"

    def on_page(canvas, doc_):
        canvas.saveState()
        canvas.setFont(fname, 7)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(margin, 8 * mm, footer[:110])
        canvas.drawRightString(A4[0] - margin, 8 * mm, _tr("report.page", lang, n=doc_.page))
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return doc_buf.getvalue()


def _status(s: str, lang: str) -> str:
    zh, en = _checklist.STATUS_LABELS.get(s, (s, s))
    return zh if lang == "zh" else en


def _status_of(text: str) -> str:
    for k, (zh, en) in _checklist.STATUS_LABELS.items():
        if text in (zh, en, k):
            return "missing" if k == "incomplete" else k
    return ""


def _reliability(v: Any, lang: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
        return "—"
    return {"low": ("低", "low"), "ok": ("良好", "ok")}.get(str(v), (str(v), str(v)))[0 if lang == "zh" else 1]

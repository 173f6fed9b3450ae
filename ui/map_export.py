"""The Map page's export: under the map, a panel (``export_panel``) that makes the current view (from
st_folium's bounds, ``view_bounds``) or all of Gansu into a PNG and a one-page PDF. The layers, legend
sections and sources are what the map shows (``export_layers``: the same loaders, catalog styles,
legends and user datasets as ``ui.maplayers``, in WGS84 without the GCJ-02 shift); a side-by-side
comparison is drawn with both layers and a note. Rendering is ``reports.mapexport`` and
``reports.pdf.mappage``.
"""
from __future__ import annotations

import datetime as dt

import streamlit as st

from core import paths
from core.errors import GansuError
from core.i18n import t
from layers import catalog
from reports import mapexport as mx
from reports.pdf.mappage import map_page_pdf
from ui import common, data_in_use
from ui.map_legends import landcover_colors, landcover_legend_section, legend_section
from ui.maplayers import WS_LC_ALT, compare_choice, dataset_or_none, layer_opacity
from ui import parks as parks_ui

# st_folium's returned objects this module needs: none at first. The map's view ("bounds") is added
# to what the map reports only while "current view" is chosen (``wants_view``, ``mapview.view_report_group``):
# a reported view reruns the map's fragment, on opening and after every pan.
RETURNED: list[str] = []
EXTENT_KEY = "map_export_extent"


def wants_view() -> bool:
    """Whether the export's extent is the map's current view (the map then reports its view)."""
    return st.session_state.get(EXTENT_KEY) == "view"


def view_bounds(out) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the map's current view from st_folium's value, or None."""
    b = (out or {}).get("bounds") if isinstance(out, dict) else None
    try:
        sw, ne = b["_southWest"], b["_northEast"]
        w, s, e, n = float(sw["lng"]), float(sw["lat"]), float(ne["lng"]), float(ne["lat"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (e > w and n > s) or n - s > 60:
        return None
    return max(w, -180.0), max(s, -85.0), min(e, 180.0), min(n, 85.0)


def export_layers(specs: list[catalog.LayerSpec], visible: dict, lang: str) -> tuple[list, list, list]:
    """(export layers bottom first, legend sections, sources with badges) of what the map shows,
    from the same loaders, styles and legends as the map (no GCJ shift: the export is WGS84)."""
    layers, legend, sources = [], [], []
    lc_op = float(st.session_state.get("map_lc_opacity", 0.7))
    man = {r.get("layer"): r for r in common.manifest(common.build_id()).get("layers", [])}

    def badge(status):
        return t(f"map.status.{status}", lang)

    for spec in specs:
        if not visible.get(spec.id):
            continue
        if spec.kind == "raster":
            user_lc = dataset_or_none(data_in_use.landcover_dataset)
            if user_lc is not None:
                layers.insert(0, mx.RasterLayer(user_lc.display_path, dict(landcover_colors(user_lc.legend)),
                                                lc_op, user_lc.nodata))
                legend.append(landcover_legend_section(user_lc.legend, lang, user_lc.label(lang)))
                sources.append((f"{user_lc.label(lang)}: {user_lc.source or user_lc.name}", badge("user")))
                continue
            layers.insert(0, mx.RasterLayer(paths.landcover_path(), dict(landcover_colors(spec.legend)), lc_op))
            legend.append(legend_section(spec, lang, spec.title(lang)))
            sources.append((f"{spec.title(lang)}: {man.get(spec.id, {}).get('source', '')}", badge(spec.status)))
            continue
        if spec.source == "store:parks":
            gdf = parks_ui.current_parks()
            gdf = gdf[gdf["source"] != "illustrative"]
            if gdf.empty:
                continue
            rec = None
        else:
            gdf, rec = common.load_layer(spec.id)
        fc_spec = common.spec_for(spec.id, gdf) if rec else spec
        fills = None
        cf = spec.style.get("color_field")
        if cf and cf in gdf.columns:
            fills = list(gdf[cf].astype(str))
        layers.append(mx.VectorLayer(gdf, spec.style, layer_opacity(spec.id), fills))
        title = f"{spec.title(lang)} · {badge('user' if rec else spec.status)}"
        fc = None
        if cf and cf in gdf.columns:
            fc = common.layer_geojson(spec.id, common.build_id(), rec["upload_id"] if rec else None, False)
        legend.append(legend_section(fc_spec, lang, title, fc))
        src = rec.get("name", "") if rec else man.get(spec.id, {}).get("source", "")
        sources.append((f"{spec.title(lang)}: {src}", badge("user" if rec else spec.status)))
    alt = dataset_or_none(data_in_use.landcover_alt_dataset)
    if alt is not None and visible.get(WS_LC_ALT):
        layers.insert(0, mx.RasterLayer(alt.display_path, dict(landcover_colors(alt.legend)), lc_op, alt.nodata))
        legend.append(landcover_legend_section(alt.legend, lang, f"{t('inuse.second_year', lang)}: {alt.label(lang)}"))
        sources.append((f"{alt.label(lang)}: {alt.source or alt.name}", badge("user")))
    return layers, legend, sources


def build_export(specs, visible, lang: str, bounds) -> tuple[bytes, bytes]:
    """(PNG, PDF) of the map with the layers on, for ``bounds`` (None: all of Gansu)."""
    notes = [t("mv.export.crs", lang)]
    choice = compare_choice()
    if choice is not None:  # the compared layers are drawn too (no swipe on paper): said in a note
        visible = {**visible, **{c: True for c in choice}}
        notes.append(t("mv.export.compare_note", lang))
    layers, legend, sources = export_layers(specs, visible, lang)
    date = dt.date.today().isoformat()
    ex = mx.Export(title=t("mv.export.title", lang), layers=layers, legend=legend, sources=sources, date=date,
                   notes=notes, labels={"legend": t("map.legend", lang), "sources": t("mv.export.sources", lang),
                                        "date": t("mv.export.date", lang), "north": {"zh": "北", "en": "N"}[lang]})
    png = mx.render_png(ex, bounds or mx.GANSU_BOUNDS)
    pdf = map_page_pdf(png, title=ex.title, date=date, sources=sources, sources_label=t("mv.export.sources", lang))
    return png, pdf


def export_panel(out, specs: list[catalog.LayerSpec], visible: dict, lang: str) -> None:
    """Under the map: choose the extent, make the PNG and the PDF page, download them."""
    with st.expander(t("mv.export", lang)):
        extent = st.radio(t("mv.export.extent", lang), ["gansu", "view"], horizontal=True, key=EXTENT_KEY,
                          format_func=lambda o: t(f"mv.export.{o}", lang))
        view = (view_bounds(out) or view_bounds(st.session_state.get("main_map"))) if extent == "view" else None
        if extent == "view" and view is None:  # chosen just now: the map reports its view in a moment
            st.caption(t("mv.export.view_wait", lang))
        if st.button(t("mv.export.make", lang), key="map_export_make", disabled=extent == "view" and view is None):
            try:
                st.session_state["map_export"] = build_export(specs, visible, lang, view if extent == "view" else None)
            except (GansuError, OSError, ValueError) as e:
                why = e.message(lang) if isinstance(e, GansuError) else type(e).__name__
                st.error(t("mv.export.error", lang, why=why))
        made = st.session_state.get("map_export")
        if made:
            st.download_button(t("mv.export.png", lang), made[0], "gansu_map.png", "image/png", key="map_export_png")
            st.download_button(t("mv.export.pdf", lang), made[1], "gansu_map.pdf", "application/pdf",
                               key="map_export_pdf")

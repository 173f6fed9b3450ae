"""Headline figures for the Home page, computed from the data (cached by build and upload)."""
from __future__ import annotations

import streamlit as st

from core import paths
from indicators.legends import CLASS_BY_ID
from core import crs
from ui import common


@st.cache_data(show_spinner=False)
def headline(build: str, zones_upload: str | None) -> dict:
    from indicators.landcover import raster_class_totals

    province = common._load_layer("province", build, None)
    prefectures = common._load_layer("prefectures", build, None)
    counties = common._load_layer("counties", build, None)
    parks = common._load_layer("parks_demo", build, None)
    zones = common._load_layer("zones", build, zones_upload)
    area = float(crs.equal_area_km2(province).sum())
    zone_area = crs.equal_area_km2(zones)
    zrows = [{"name_zh": a, "name_en": b, "area_km2": round(float(x), 0),
              "share_pct": round(100 * float(x) / area, 1)}
             for a, b, x in zip(zones["name_zh"], zones["name_en"], zone_area)]
    per_code = raster_class_totals(paths.landcover_path(), "igbp",
                                   mask_geom=province.geometry.iloc[0], mask_crs="EPSG:4326")
    totals = per_code.groupby("class")["area_km2"].sum().to_dict()
    lc_total = sum(totals.values()) or 1.0
    lrows = [{"class": k, "label_zh": CLASS_BY_ID[k].label_zh, "label_en": CLASS_BY_ID[k].label_en,
              "color": CLASS_BY_ID[k].color, "share_pct": round(100 * v / lc_total, 2)}
             for k, v in sorted(totals.items(), key=lambda kv: -kv[1]) if v > 0]
    return {"province_area_km2": area, "n_prefectures": len(prefectures),
            "n_counties": len(counties), "n_parks": len(parks), "zones": zrows, "landcover": lrows}

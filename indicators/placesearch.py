"""Offline place search (the Map page): province, prefecture, county and park names, typed in Chinese
characters, pinyin (with or without spaces/tones, or initials) or English.

The index is built from layers already in the data (the build's boundaries and the parks); a
name's keys are its Chinese name, its pinyin (pypinyin, toneless, joined), its pinyin initials
and its English name, all normalised (lower case, NFKC, no spaces/hyphens/apostrophes). A query
matches a key exactly, as a prefix or as a substring (initials: exact or prefix only); results
are ranked by match, then province → prefecture → county → park, then shorter names.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from pypinyin import Style, lazy_pinyin

KINDS = ("province", "prefecture", "county", "park")
_STRIP = re.compile(r"[\s\-_'’·.,，。()（）]+")


@dataclass(frozen=True)
class Place:
    kind: str  # province | prefecture | county | park
    id: str
    name_zh: str
    name_en: str
    parent_zh: str  # the prefecture of a county, the county of a park ("" otherwise)
    geometry: object  # shapely geometry, WGS84
    keys: tuple[str, ...] = ()
    initials: str = ""

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return tuple(float(v) for v in self.geometry.bounds)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", str(text or "")).lower())
    text = text.replace("u\u0308", "v")  # ü, ǘ, ǚ … are written v in pinyin keys (before the marks go)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))  # tone marks
    return _STRIP.sub("", text)


def _pinyin(name: str) -> tuple[str, str]:
    syll = [s for s in lazy_pinyin(name, style=Style.NORMAL, errors="ignore", v_to_u=False) if s]
    return normalise("".join(syll)), "".join(s[0] for s in syll if s).lower()


def _place(kind: str, id_: str, name_zh: str, name_en: str, parent: str, geom) -> Place:
    py, ini = _pinyin(name_zh)
    keys = tuple(dict.fromkeys(k for k in (normalise(name_zh), py, normalise(name_en)) if k))
    return Place(kind, str(id_), str(name_zh), str(name_en or name_zh), str(parent or ""), geom, keys, ini)


def _col(gdf: gpd.GeoDataFrame, name: str, default="") -> list:
    if name in gdf.columns:
        return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in gdf[name]]
    return [default] * len(gdf)


def _wgs84(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if gdf is None or not len(gdf):
        return None
    return gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf


def build_index(province: gpd.GeoDataFrame | None = None, prefectures: gpd.GeoDataFrame | None = None,
                counties: gpd.GeoDataFrame | None = None, parks: gpd.GeoDataFrame | None = None) -> list[Place]:
    """Every nameable place of the given layers (columns as in the build: ``name_zh``,
    ``name_en``, ``adcode``; counties ``prefecture_zh``; parks ``park_id`` and ``name`` or
    ``name_zh``, optionally ``county_zh``)."""
    out: list[Place] = []
    for kind, gdf in (("province", province), ("prefecture", prefectures), ("county", counties)):
        g = _wgs84(gdf)
        if g is None:
            continue
        for zh, en, code, parent, geom in zip(_col(g, "name_zh"), _col(g, "name_en"), _col(g, "adcode"),
                                              _col(g, "prefecture_zh"), g.geometry.values):
            if zh and geom is not None and not geom.is_empty:
                out.append(_place(kind, code, zh, en, parent, geom))
    g = _wgs84(parks)
    if g is not None:
        names = _col(g, "name") if "name" in g.columns else _col(g, "name_zh")
        for pid, zh, en, parent, geom in zip(_col(g, "park_id"), names, _col(g, "name_en"), _col(g, "county_zh"),
                                             g.geometry.values):
            if zh and geom is not None and not geom.is_empty:
                out.append(_place("park", pid, zh, en, parent, geom))
    return out


def search(index: list[Place], query: str, limit: int = 10) -> list[Place]:
    """Places matching ``query``, best first (at most ``limit``)."""
    q = normalise(query)
    if not q:
        return []
    scored = []
    for p in index:
        score = None
        for k in p.keys:
            if k == q:
                s = 0
            elif k.startswith(q):
                s = 1
            elif q in k:
                s = 2
            else:
                continue
            score = s if score is None else min(score, s)
        if len(q) >= 2 and q.isascii() and p.initials:
            if p.initials == q:
                score = 1 if score is None else min(score, 1)
            elif p.initials.startswith(q):
                score = 3 if score is None else min(score, 3)
        if score is not None:
            scored.append((score, KINDS.index(p.kind), len(p.name_zh), p.name_zh, p))
    scored.sort(key=lambda r: r[:4])
    return [r[-1] for r in scored[:limit]]

"""Vegetated share of a park on the land-cover map (植被覆盖占比，地图估算), and when it may be
offered as a hint for the park's greening coverage (绿化覆盖率).

The two are different things. The admission criterion "园区绿化覆盖率须达到15%及以上" (Anhui annex 1,
2.6) is the greening of a built or planned park: the vertical projection of its trees, shrubs,
lawns and roof greening. A land-cover map counts natural vegetation pixels (steppe, forest,
meadow) inside a boundary, which says nothing about a park's greening: on the 5 km default map a
new park on steppe is "100% vegetated". So the greening coverage is entered per park (planned or
measured, with its source and date) and the checklist uses only that; the map value is shown as
a hint, labelled as such, and only when the map is fine enough for it to mean something:
at least ``MIN_RELIABLE_PIXELS`` pixels of ``HINT_MAX_PIXEL_M`` m or finer.

Vegetation = forest + shrub + grassland + (herbaceous) wetland by default (cropland is not), as a
share of the park area that has land-cover data. The 20% green-space (绿地率) cap of industrial
land applies to enterprise plots, not to a park, and is not computed here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError
from core.text import Text
from layers.legends import CLASS_IDS, DEFAULT_GREEN_CLASSES

MIN_RELIABLE_PIXELS = 100  # fewer pixels: class areas are coarse (also the engine's "low" reliability)
HINT_MAX_PIXEL_M = 30.0  # a hint needs 30 m land cover or finer (CLCD, GlobeLand30, WorldCover 10 m)
# the pixel size is the square root of a pixel's mean ground area under the park: a 30 m grid in a
# conformal projection (UTM, scale factor up to ~1.001) or 1 arc-second in lon/lat must still count
# as 30 m, so 1% is allowed on top
PIXEL_TOLERANCE = 1.01


def green_classes(classes=None) -> tuple[str, ...]:
    """The land-cover classes counted as vegetation (default forest, shrub, grassland, wetland)."""
    classes = tuple(DEFAULT_GREEN_CLASSES if classes is None else classes)
    bad = [c for c in classes if c not in CLASS_IDS]
    if bad:
        raise InputError(f"未知植被类别 {bad}；可用类别：{list(CLASS_IDS)}",
                         f"unknown vegetation class(es) {bad}; use {list(CLASS_IDS)}")
    return classes


def vegetated_share(class_m2: pd.DataFrame, classes=None) -> pd.DataFrame:
    """``vegetated_share_pct`` per polygon: vegetation area / area with land-cover data × 100
    (NaN without data)."""
    classes = green_classes(classes)
    valid = class_m2.sum(axis=1).to_numpy()
    veg = class_m2[list(classes)].sum(axis=1).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(valid > 0, 100.0 * veg / valid, np.nan)
    return pd.DataFrame({"vegetated_share_pct": pct}, index=class_m2.index)


def pixel_size_m(inside_m2, pixels) -> np.ndarray:
    """Mean pixel side (m) under each polygon: √(polygon area inside the raster / pixels it covers).
    Computed from the dataset in use, in either pixel-area mode; NaN where no pixel is covered."""
    inside = np.asarray(inside_m2, dtype="float64")
    n = np.asarray(pixels, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.sqrt(np.clip(inside, 0.0, None) / np.where(n > 0, n, 1.0)), np.nan)


def hint_ok(pct, pixels, pixel_m) -> bool:
    """May the map value be offered as a greening hint (a value, ≥ 100 pixels of ≤ 30 m)?"""
    vals = [_float(v) for v in (pct, pixels, pixel_m)]
    if any(v is None for v in vals):
        return False
    _, n, size = vals
    return n >= MIN_RELIABLE_PIXELS and size <= HINT_MAX_PIXEL_M * PIXEL_TOLERANCE


def hint_flags(pct, pixels, pixel_m) -> pd.array:
    """``vegetated_share_hint`` per polygon: True/False, NA without land-cover data."""
    out = [pd.NA if _float(p) is None else hint_ok(p, n, m) for p, n, m in zip(pct, pixels, pixel_m)]
    return pd.array(out, dtype="boolean")


@dataclass(frozen=True)
class MapHint:
    """The map's vegetated share for one park, and whether it is a usable hint (``ok``)."""
    pct: float | None
    pixels: float | None
    pixel_m: float | None
    ok: bool

    def text(self) -> Text:
        """What the page, the exports and the CLI say about the map value."""
        if self.pct is None:
            return Text("地图上无该园区的土地覆盖数据，无参考值", "no land-cover data under the park: no map hint")
        if self.ok:
            return Text(f"地图参考：植被覆盖占比 {self.pct:.1f}%（{self.pixels:,.0f} 个 {self.pixel_m:.0f} m 像元）。"
                        "仅为参考：是自然与人工植被的占比，不是园区绿化覆盖率，核对不使用该值",
                        f"map hint: vegetated share {self.pct:.1f}% ({self.pixels:,.0f} pixels of {self.pixel_m:.0f} m). "
                        "A hint only: natural and planted vegetation, not the park's greening coverage; the check "
                        "does not use it")
        why = []
        if self.pixel_m is not None and self.pixel_m > HINT_MAX_PIXEL_M * PIXEL_TOLERANCE:
            why.append(Text(f"像元约 {self.pixel_m:,.0f} m，粗于 {HINT_MAX_PIXEL_M:.0f} m",
                            f"pixels of about {self.pixel_m:,.0f} m, coarser than {HINT_MAX_PIXEL_M:.0f} m"))
        if self.pixels is not None and self.pixels < MIN_RELIABLE_PIXELS:
            why.append(Text(f"仅 {self.pixels:,.1f} 个像元（< {MIN_RELIABLE_PIXELS}）",
                            f"only {self.pixels:,.1f} pixels (< {MIN_RELIABLE_PIXELS})"))
        if not why:  # a table without the pixel columns (e.g. written before they existed)
            why.append(Text("像元数或像元尺寸未知", "pixel count or pixel size unknown"))
        zh, en = "、".join(w.zh for w in why), ", ".join(w.en for w in why)
        return Text(f"地图植被覆盖占比（{self.pct:.1f}%）不可作参考：{zh}",
                    f"the map's vegetated share ({self.pct:.1f}%) is not usable as a hint: {en}")


def map_hint(row) -> MapHint:
    """The hint of one engine row (a mapping or Series with ``vegetated_share_pct``,
    ``landcover_pixels`` and ``landcover_pixel_m``; absent or NaN = no map value)."""
    get = (lambda k: None) if row is None else (lambda k: _float(row.get(k)))
    pct, n, size = get("vegetated_share_pct"), get("landcover_pixels"), get("landcover_pixel_m")
    return MapHint(pct, n, size, hint_ok(pct, n, size))


def _float(v) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None

"""Green coverage (绿化覆盖率) from land cover, against the 15% admission floor and 20% cap.

Green = forest + shrub + grassland + (herbaceous) wetland by default (DOMAIN.md §2: cropland is
not green coverage), as a share of the park area that has land-cover data.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import InputError
from layers.legends import CLASS_IDS, DEFAULT_GREEN_CLASSES

GREEN_THRESHOLD_PCT = 15.0  # Anhui zero-carbon park admission criterion (园区绿化覆盖率 >= 15%)
GREEN_CAP_PCT = 20.0  # industrial-land green-space ratio (绿地率) cap: advisory
MIN_RELIABLE_PIXELS = 100


def green_classes(classes=None) -> tuple[str, ...]:
    classes = tuple(DEFAULT_GREEN_CLASSES if classes is None else classes)
    bad = [c for c in classes if c not in CLASS_IDS]
    if bad:
        raise InputError(f"未知绿化类别 {bad}；可用类别：{list(CLASS_IDS)}",
                         f"unknown green class(es) {bad}; use {list(CLASS_IDS)}")
    return classes


def green_coverage(class_m2: pd.DataFrame, threshold_pct: float = GREEN_THRESHOLD_PCT,
                   classes=None, cap_pct: float = GREEN_CAP_PCT) -> pd.DataFrame:
    """green_coverage_pct, green_pass, green_over_cap per polygon (NaN / NA without data)."""
    classes = green_classes(classes)
    valid = class_m2.sum(axis=1).to_numpy()
    green = class_m2[list(classes)].sum(axis=1).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(valid > 0, 100.0 * green / valid, np.nan)
    has = ~np.isnan(pct)
    out = pd.DataFrame({"green_coverage_pct": pct}, index=class_m2.index)
    out["green_pass"] = pd.array(np.where(has, pct >= threshold_pct, False), dtype="boolean")
    out["green_over_cap"] = pd.array(np.where(has, pct > cap_pct, False), dtype="boolean")
    out.loc[~has, ["green_pass", "green_over_cap"]] = pd.NA
    return out

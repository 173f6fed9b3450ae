"""TEST DATA, made in code (not a real land cover): a three-year CLCD-coded series (2000, 2010, 2020)
on a 1 km grid in the project's Albers CRS over part of the Hexi Corridor's east end (民勤, 古浪,
凉州, 永昌, 天祝 …), about 200 × 300 pixels, 0 = no data on the top five rows. Known changes:
2000 → 2010 every grassland pixel of an even block becomes barren (grassland → other land:
degraded in the UNCCD default matrix); 2010 → 2020 every barren pixel of a third of the blocks
becomes grassland again (other land → grassland: improved)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests import workspace_fixtures as wf

BOX = (102.0, 37.0, 104.2, 39.6)  # lon/lat
YEARS = (2000, 2010, 2020)
RES = 1000.0  # metres (Albers)


def arrays() -> tuple[object, list[np.ndarray]]:
    """(transform, [codes of each year])."""
    t, w, h = wf.grid(BOX, res=RES)
    r = np.arange(h)[:, None] // 23
    c = np.arange(w)[None, :] // 19
    y0 = (1 + (r * 7 + c * 3) % 9).astype("uint8")
    y0[:5, :] = 0
    y1 = y0.copy()
    y1[(y0 == 4) & ((r + c) % 2 == 0)] = 7  # grassland → barren
    y2 = y1.copy()
    y2[(y1 == 7) & ((r + c) % 3 == 0)] = 4  # barren → grassland
    return t, [y0, y1, y2]


def write_series(folder: Path, stem: str = "test_clcd") -> dict[int, Path]:
    """The three years as GeoTIFFs in ``folder``: {year: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    t, arrs = arrays()
    return {y: wf.write_tif(folder / f"{stem}_{y}.tif", a, t) for y, a in zip(YEARS, arrs)}

"""Land-cover legends: raster codes -> canonical classes.

Canonical classes are the vocabulary of every indicator (``lc_<class>_km2``, vegetated share,
sink rates). Built-in legends follow DOMAIN.md §4; mapping choices that are judgement calls are
written in ``Legend.notes`` so the UI can show them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.errors import InputError


@dataclass(frozen=True)
class CanonicalClass:
    id: str
    label_en: str
    label_zh: str
    color: str  # display colour, hex


CLASSES: tuple[CanonicalClass, ...] = (
    CanonicalClass("forest", "Forest", "森林", "#1a7f37"),
    CanonicalClass("shrub", "Shrub", "灌木", "#8fbf3f"),
    CanonicalClass("grassland", "Grassland", "草地", "#d9e67a"),
    CanonicalClass("cropland", "Cropland", "耕地", "#f2c14e"),
    CanonicalClass("wetland", "Wetland", "湿地", "#3fa7a0"),
    CanonicalClass("water", "Water", "水体", "#2b6cb0"),
    CanonicalClass("snow_ice", "Snow and ice", "冰雪", "#e8f4fa"),
    CanonicalClass("barren", "Barren", "裸地", "#c9b18f"),
    CanonicalClass("built_up", "Built-up", "建设用地", "#c0392b"),
)
CLASS_IDS: tuple[str, ...] = tuple(c.id for c in CLASSES)
CLASS_BY_ID = {c.id: c for c in CLASSES}

# The vegetated share on the map (植被覆盖占比; not the checklist's greening coverage, 绿化覆盖率, which is
# entered per park): trees, shrubs, grass and herbaceous wetland.
DEFAULT_GREEN_CLASSES: tuple[str, ...] = ("forest", "shrub", "grassland", "wetland")


@dataclass(frozen=True)
class Legend:
    id: str
    name: str
    codes: dict[int, str]  # raster code -> canonical class id
    nodata: frozenset[int] = frozenset()  # codes that mean "no data" besides the raster's nodata
    notes: str = ""
    code_labels: dict[int, str] = field(default_factory=dict)

    def __post_init__(self):
        bad = sorted({c for c in self.codes.values() if c not in CLASS_BY_ID})
        if bad:
            raise InputError(
                f"图例 {self.id!r} 含未知类别 {bad}；可用类别：{list(CLASS_IDS)}",
                f"legend {self.id!r}: unknown class(es) {bad}; use one of {list(CLASS_IDS)}",
            )

    def class_of(self, code: int) -> str | None:
        return self.codes.get(int(code))


def _legend(id_, name, table, nodata=(), notes=""):
    codes = {code: cls for code, cls, _ in table}
    labels = {code: label for code, _, label in table}
    return Legend(id_, name, codes, frozenset(nodata), notes, labels)


WORLDCOVER = _legend(
    "worldcover", "ESA WorldCover 10 m",
    [(10, "forest", "Tree cover"), (20, "shrub", "Shrubland"), (30, "grassland", "Grassland"),
     (40, "cropland", "Cropland"), (50, "built_up", "Built-up"),
     (60, "barren", "Bare / sparse vegetation"), (70, "snow_ice", "Snow and ice"),
     (80, "water", "Permanent water bodies"), (90, "wetland", "Herbaceous wetland"),
     (95, "wetland", "Mangroves"), (100, "grassland", "Moss and lichen")],
    nodata=(0,),
    notes="Mangroves -> wetland; moss and lichen -> grassland (herbaceous cover). 0 = no data.",
)
CLCD = _legend(
    "clcd", "CLCD 30 m (Yang & Huang)",
    [(1, "cropland", "Cropland"), (2, "forest", "Forest"), (3, "shrub", "Shrub"),
     (4, "grassland", "Grassland"), (5, "water", "Water"), (6, "snow_ice", "Snow/Ice"),
     (7, "barren", "Barren"), (8, "built_up", "Impervious"), (9, "wetland", "Wetland")],
    nodata=(0,),
    notes="0 = no data.",
)
GLOBELAND30 = _legend(
    "globeland30", "GlobeLand30",
    [(10, "cropland", "Cultivated land"), (20, "forest", "Forest"), (30, "grassland", "Grassland"),
     (40, "shrub", "Shrubland"), (50, "wetland", "Wetland"), (60, "water", "Water bodies"),
     (70, "grassland", "Tundra"), (80, "built_up", "Artificial surfaces"),
     (90, "barren", "Bare land"), (100, "snow_ice", "Permanent snow and ice")],
    nodata=(0, 255),
    notes="Tundra -> grassland (alpine herbaceous cover). 0 and 255 = no data.",
)
IGBP = _legend(
    "igbp", "MODIS IGBP (MCD12Q1 type 1 / MCD12C1)",
    [(0, "water", "Water (MCD12C1)"), (1, "forest", "Evergreen needleleaf forest"),
     (2, "forest", "Evergreen broadleaf forest"), (3, "forest", "Deciduous needleleaf forest"),
     (4, "forest", "Deciduous broadleaf forest"), (5, "forest", "Mixed forest"),
     (6, "shrub", "Closed shrublands"), (7, "shrub", "Open shrublands"),
     (8, "shrub", "Woody savannas"), (9, "grassland", "Savannas"),
     (10, "grassland", "Grasslands"), (11, "wetland", "Permanent wetlands"),
     (12, "cropland", "Croplands"), (13, "built_up", "Urban and built-up"),
     (14, "cropland", "Cropland/natural vegetation mosaic"), (15, "snow_ice", "Snow and ice"),
     (16, "barren", "Barren"), (17, "water", "Water (MCD12Q1)")],
    nodata=(255,),
    notes=("0 (MCD12C1) and 17 (MCD12Q1) are both water; 255 = fill. Forest = IGBP forests 1-5 only "
           "(Gansu forest share ~4.9% on MCD12C1 2019, as DOMAIN.md §2 quotes); woody savanna -> "
           "shrub and savanna -> grassland (both green, not forest); cropland/natural mosaic -> "
           "cropland. Assumptions: give a legend CSV to map them otherwise."),
)

BUILTIN: dict[str, Legend] = {lg.id: lg for lg in (WORLDCOVER, CLCD, GLOBELAND30, IGBP)}
ALIASES = {"mcd12c1": "igbp", "mcd12q1": "igbp", "modis": "igbp", "esa_worldcover": "worldcover",
           "globeland": "globeland30"}


def get_legend(legend: "str | Legend | Path") -> Legend:
    """A built-in legend by id (or alias), a Legend object, or a legend CSV path."""
    if isinstance(legend, Legend):
        return legend
    key = str(legend).strip().lower()
    key = ALIASES.get(key, key)
    if key in BUILTIN:
        return BUILTIN[key]
    if str(legend).lower().endswith(".csv") and Path(legend).is_file():
        return load_legend_csv(legend)
    raise InputError(
        f"未知图例 {legend!r}；内置图例：{sorted(BUILTIN)}，或提供 CSV 文件",
        f"unknown legend {legend!r}; built-in legends: {sorted(BUILTIN)} or a CSV file",
    )


def load_legend_csv(path: "str | Path", legend_id: str | None = None) -> Legend:
    """Read a custom legend: columns ``code,class`` (+ optional ``label``, ``nodata``).

    ``class`` is a canonical class id (forest, shrub, ...) or empty / ``nodata`` for codes that
    mean "no data". A truthy ``nodata`` column does the same.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"无法读取图例 CSV {path}：{exc}", f"cannot read legend CSV {path}: {exc}") from exc
    df.columns = [c.strip().lower() for c in df.columns]
    missing = {"code", "class"} - set(df.columns)
    if missing:
        raise InputError(
            f"图例 CSV {path} 需要 code,class 列（缺少 {sorted(missing)}）",
            f"legend CSV {path} needs columns code,class (missing {sorted(missing)})",
        )
    codes, labels, nodata = {}, {}, set()
    for i, row in df.iterrows():
        try:
            code = int(float(row["code"]))
        except ValueError:
            raise InputError(f"图例 CSV {path} 第 {i + 2} 行：代码 {row['code']!r} 不是整数",
                             f"legend CSV {path}, row {i + 2}: code {row['code']!r} is not an integer") from None
        cls = row["class"].strip().lower()
        flag = row.get("nodata", "").strip().lower() in {"1", "true", "yes", "y"}
        if flag or cls in {"", "nodata", "no_data"}:
            nodata.add(code)
            continue
        codes[code] = cls
        if row.get("label", ""):
            labels[code] = row["label"]
    return Legend(legend_id or path.stem, path.name, codes, frozenset(nodata), f"from {path.name}", labels)

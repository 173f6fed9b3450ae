"""Land change per unit from a land-cover series: class areas per year (trajectories, MapBiomas
style: unit × class × year), their trends, the land degradation verdict (SDG 15.3.1 land-cover
sub-indicator, ``indicators.ldn``) over a baseline and a reporting period, and desertification
proxies (vegetated land ↔ barren).

One tiled pass over all the years (``tiled.zonal_transitions``: each polygon cut at the pixel grid
once per work tile and reused for every year, exact coverage fractions and real pixel areas —
geodesic on a geographic grid — Dask when asked). The units are the base polygons (counties) and
every level with its own polygons (red line, parks, an uploaded zone file) in the same pass; a
level of unions of base units (prefecture, schematic zone, province) is the sum of its units'
code-pair areas, so every level adds up exactly.

Areas always add up to the unit's area: for a period, improved + stable + degraded + no data =
the unit's area, where "no data" is what has no class in either year (nodata values, mask bands,
outside the rasters). All years must lie on one grid (refused by name otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from core.errors import InputError
from core.text import Text
from indicators import ldn, trend
from indicators.zonestats import Level
from layers.legends import CLASS_IDS, DEFAULT_GREEN_CLASSES, Legend, get_legend
from zonal import tiled
from zonal.pairraster import NO_CODE
from zonal.rastersource import LandcoverRaster

ALGO_VERSION = "landchange-1"  # part of every cache key: bump when the numbers change
NOD = -1  # a side without a class (nodata, mask band) in the pair table
# vegetated land for the desertification proxy: the vegetated share's classes and cropland (sand
# encroaching on oasis farmland, as along the Minqin and Hexi oases, is desertification too)
VEGETATED = (*DEFAULT_GREEN_CLASSES, "cropland")
UNIT_COLS = ["level", "unit_id", "name_zh", "name_en"]


@dataclass
class UnitPairs:
    """``units``: one row per unit (key = row position): level, unit_id, name_zh, name_en, area_km2.
    ``pairs``: key, year_from, year_to, code_from, code_to, area_km2 between consecutive years of
    ``years`` and over each of ``periods`` (a side without a class is ``NOD``; cells without a class
    in both years left out)."""

    units: pd.DataFrame
    pairs: pd.DataFrame
    years: list[int]
    legend: str  # as given: a built-in id or the path of a legend CSV
    periods: list[tuple[int, int]] = field(default_factory=list)  # steps besides the consecutive years

    def steps(self) -> list[tuple[int, int]]:
        """Every (year_from, year_to) with pairs: consecutive years, then the periods."""
        return list(zip(self.years[:-1], self.years[1:])) + [p for p in self.periods
                                                               if p not in zip(self.years[:-1], self.years[1:])]

    def to_frame(self) -> pd.DataFrame:
        """One table (for the store's result cache); ``from_frame`` reads it back."""
        u = self.units.assign(part="unit", key=np.arange(len(self.units)))
        p = self.pairs.assign(part="pair")
        out = pd.concat([u, p], ignore_index=True)
        out.attrs = {}
        out["legend"] = self.legend
        out["years"] = ",".join(str(y) for y in self.years)
        out["periods"] = ",".join(f"{a}-{b}" for a, b in self.periods)
        return out

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> "UnitPairs":
        u = df[df["part"] == "unit"].sort_values("key")[[*UNIT_COLS, "area_km2"]].reset_index(drop=True)
        p = df[df["part"] == "pair"][["key", "year_from", "year_to", "code_from", "code_to", "area_km2"]]
        p = p.astype({"key": int, "year_from": int, "year_to": int, "code_from": int, "code_to": int})
        years = [int(y) for y in str(df["years"].iloc[0]).split(",")]
        per = str(df["periods"].iloc[0]) if "periods" in df.columns else ""
        periods = [tuple(int(y) for y in x.split("-")) for x in per.split(",") if x]
        return cls(u, p.reset_index(drop=True), years, str(df["legend"].iloc[0]), periods)


def check_grid(rasters, names=None) -> None:
    """Every year on the grid of the first (CRS, transform and size exactly, as the tiled engine
    compares them), or an InputError naming the file that differs and how."""
    names = list(names) if names is not None else [str(r) for r in rasters]
    with LandcoverRaster(rasters[0]) as first:
        for r, name in zip(rasters[1:], names[1:]):
            with LandcoverRaster(r) as other:
                diffs = []
                if not first.crs.equals(other.crs):
                    diffs.append(f"CRS {other.crs.to_string()} vs {first.crs.to_string()}")
                if (first.width, first.height) != (other.width, other.height):
                    diffs.append(f"size {other.width}×{other.height} vs {first.width}×{first.height}")
                if tuple(first.transform)[:6] != tuple(other.transform)[:6]:
                    diffs.append(f"transform {tuple(other.transform)[:6]!r} vs {tuple(first.transform)[:6]!r}")
            if diffs:
                raise InputError(
                    f"{name} 与 {names[0]} 不在同一格网上（{'；'.join(diffs)}）：序列的各年须像元完全一致，本系统不会私自重采样。",
                    f"{name} is not on the grid of {names[0]} ({'; '.join(diffs)}): every year of a series needs "
                    "identical pixels, and the dashboard never resamples silently.")


def chain(periods: list[tuple[int, int]]) -> list[int]:
    """The years to read so that every period is a consecutive step: [b0, b1, r0, r1] without
    repeats of a neighbour (b1 == r0 read once)."""
    out: list[int] = []
    for a, b in periods:
        if a >= b:
            raise InputError(f"时段 {a}–{b} 的起始年须早于结束年", f"period {a}–{b}: the first year must come before the last")
        for y in (a, b):
            if not out or out[-1] != y:
                out.append(y)
    if sorted(out) != out:
        raise InputError(f"时段须依次排列（{periods}）", f"the periods must follow one another in time ({periods})")
    return out


def unit_pairs(base: Level, levels: list[Level], rasters, years, legend: str | Legend, *, periods=(),
               scheduler=None, workers=None, cache_dir=None, progress=None, pixel_area: str = "ground",
               names=None) -> UnitPairs:
    """Code-pair areas between consecutive years, and over each of ``periods`` ((first, last) years
    of the series, e.g. a baseline 2000–2015 of an annual series), for every unit of ``base`` and
    ``levels`` in one pass."""
    legend_ref = str(legend) if not isinstance(legend, Legend) else legend.id  # a CSV keeps its path
    legend = get_legend(legend)
    years = [int(y) for y in years]
    if len(set(years)) != len(years):
        raise InputError(f"年份重复：{years}", f"repeated years: {years}")
    order = sorted(range(len(years)), key=lambda k: years[k])  # the steps run forward in time
    rasters = [str(rasters[k]) for k in order]
    names = [list(names)[k] for k in order] if names is not None else None
    years = [years[k] for k in order]
    check_grid(rasters, names)
    pos = {y: k for k, y in enumerate(years)}
    periods = [(int(a), int(b)) for a, b in periods]
    for a, b in periods:
        if a not in pos or b not in pos or pos[a] >= pos[b]:
            raise InputError(f"时段 {a}–{b} 的年份须为序列 {years} 中的先后两年",
                             f"period {a}–{b} must name two years of the series {years}, the first one earlier")
    consecutive = set(zip(years[:-1], years[1:]))
    periods = list(dict.fromkeys(p for p in periods if p not in consecutive))
    own = [lv for lv in levels if lv.polygons is not None]
    groups = [base.polygons] + [lv.polygons for lv in own]
    crs = groups[0].crs
    if any(g.crs is None for g in groups):
        raise InputError("统计单元没有坐标参考系", "the units have no CRS")
    geoms = gpd.GeoSeries(pd.concat([g.to_crs(crs).geometry for g in groups], ignore_index=True), crs=crs)
    # split="all": every unit cut at the work tiles, each tile read once for all units (zone statistics)
    res = tiled.zonal_transitions(geoms, rasters, years, legend, split="all", scheduler=scheduler, workers=workers,
                                  cache_dir=cache_dir, progress=progress, pixel_area=pixel_area,
                                  extra=[(pos[a], pos[b]) for a, b in periods])
    nod = []
    for r in rasters:
        with LandcoverRaster(r, legend) as src:
            nod.append(src.nodata_codes() | {NO_CODE})
    pr = res.pairs.copy()
    yf, yt = pr["year_from"].to_numpy(), pr["year_to"].to_numpy()
    cf, ct = pr["code_from"].to_numpy().copy(), pr["code_to"].to_numpy().copy()
    for y, k in pos.items():
        cf[(yf == y) & np.isin(cf, list(nod[k]))] = NOD
        ct[(yt == y) & np.isin(ct, list(nod[k]))] = NOD
    pr["code_from"], pr["code_to"] = cf, ct
    pr = pr[(pr["code_from"] != NOD) | (pr["code_to"] != NOD)]
    unknown = sorted({int(c) for c in np.concatenate([pr["code_from"], pr["code_to"]]) if c != NOD
                      and legend.class_of(int(c)) is None})
    if unknown:
        raise InputError(f"栅格含图例 {legend.id!r} 未列出的代码 {unknown}；请选择其他图例或提供图例 CSV（code,class）",
                         f"the rasters have code(s) {unknown} that legend {legend.id!r} does not list; choose "
                         "another legend or give a legend CSV (code,class)")
    pr = pr.groupby(["unit", "year_from", "year_to", "code_from", "code_to"], as_index=False)["area_m2"].sum()
    # units: the base and own-polygon levels as read, the others summed from the base units
    starts = np.cumsum([0] + [len(g) for g in groups])
    rows, key_of_unit = [], np.full(len(geoms), -1)
    aggregated: list[tuple[int, np.ndarray]] = []  # (first key of the level, base index -> key)
    g = 0
    for lv in [base] + levels:
        first = len(rows)
        rows += [(lv.name, str(i), zh, en) for i, zh, en in zip(lv.ids, lv.names_zh, lv.names_en)]
        if lv is base or lv.polygons is not None:
            key_of_unit[starts[g]:starts[g + 1]] = np.arange(first, first + len(lv.ids))
            g += 1
        else:
            at = {str(i): k for k, i in enumerate(lv.ids)}
            parent = base.polygons[lv.parent_field].astype(str).to_numpy()
            aggregated.append((first, np.array([at.get(p, -1) for p in parent])))
    units = pd.DataFrame(rows, columns=UNIT_COLS)
    area = np.zeros(len(units))
    area[key_of_unit] = res.total_m2
    parts = [pr.assign(key=key_of_unit[pr["unit"].to_numpy()])]
    nb = len(base.polygons)
    base_pairs = pr[pr["unit"] < nb]
    for first, parent_pos in aggregated:
        pp = parent_pos[base_pairs["unit"].to_numpy()]
        ok = pp >= 0
        parts.append(base_pairs[ok].assign(key=first + pp[ok]))
        np.add.at(area, first + parent_pos[parent_pos >= 0], res.total_m2[:nb][parent_pos >= 0])
    pairs = pd.concat(parts, ignore_index=True)
    pairs = pairs.groupby(["key", "year_from", "year_to", "code_from", "code_to"], as_index=False, sort=True)["area_m2"].sum()
    pairs["area_km2"] = pairs.pop("area_m2") / 1e6
    units["area_km2"] = area / 1e6
    return UnitPairs(units, pairs, years, legend_ref, periods)


def _classes(codes: pd.Series, legend: Legend) -> pd.Series:
    return codes.map(lambda c: "nodata" if c == NOD else legend.class_of(int(c)))


# --- trajectories and trends -------------------------------------------------------------------
def trajectories(up: UnitPairs, legend: str | Legend | None = None) -> pd.DataFrame:
    """Class areas per unit and year (long: level, unit_id, name_zh, name_en, year, class, area_km2);
    ``class`` "nodata" is the unit's area without a class that year, so each unit-year adds up to
    the unit's area."""
    legend = get_legend(legend or up.legend)
    steps = pd.DataFrame(list(zip(up.years[:-1], up.years[1:])), columns=["year_from", "year_to"])
    p = up.pairs.merge(steps, on=["year_from", "year_to"])  # consecutive years only: each year counted once
    frames = []
    for k, y in enumerate(up.years):
        if k < len(up.years) - 1:
            side = p[p["year_from"] == y].groupby(["key", "code_from"])["area_km2"].sum()
        else:
            side = p[p["year_to"] == y].groupby(["key", "code_to"])["area_km2"].sum()
        s = side.reset_index()
        s.columns = ["key", "code", "area_km2"]
        s = s[s["code"] != NOD]
        s["class"] = _classes(s["code"], legend)
        cls = s.groupby(["key", "class"])["area_km2"].sum().unstack("class")
        cls = cls.reindex(index=range(len(up.units)), columns=list(CLASS_IDS)).fillna(0.0)
        cls["nodata"] = np.maximum(up.units["area_km2"].to_numpy() - cls.sum(axis=1).to_numpy(), 0.0)
        long = cls.stack().rename("area_km2").reset_index().rename(columns={"level_0": "key"})
        long.columns = ["key", "class", "area_km2"]
        frames.append(long.assign(year=y))
    out = pd.concat(frames, ignore_index=True)
    out = up.units[UNIT_COLS].reset_index(names="key").merge(out, on="key")
    return out[[*UNIT_COLS, "year", "class", "area_km2"]].sort_values(["level", "unit_id", "class", "year"],
                                                                        kind="stable").reset_index(drop=True)


def trends(traj: pd.DataFrame, window: tuple[int, int] | None = None, classes=None) -> pd.DataFrame:
    """Per unit and class over ``window`` (first, last year; default all): Theil–Sen slope (km²/yr),
    Mann–Kendall S and two-sided p (both NaN below ``trend.MIN_YEARS`` years), the number of years,
    the first and last areas."""
    if window is not None and window[0] >= window[1]:
        raise InputError(f"趋势时段 {window[0]}–{window[1]} 的起始年须早于结束年",
                         f"trend window {window[0]}–{window[1]}: the first year must come before the last")
    t = traj[traj["class"] != "nodata"]
    if classes is not None:
        t = t[t["class"].isin(list(classes))]
    if window is not None:
        t = t[(t["year"] >= window[0]) & (t["year"] <= window[1])]
    rows = []
    for key, g in t.groupby([*UNIT_COLS, "class"], sort=False, dropna=False):  # a unit without a name stays
        g = g.sort_values("year")
        # the same cells summed in another order differ in the last digits: signs and ties of the
        # Mann–Kendall test are taken on areas rounded to 1e-9 km² (1e-3 m²)
        s, p = trend.mann_kendall(g["year"], g["area_km2"].round(9))
        slope = trend.theil_sen(g["year"], g["area_km2"]) if len(g) >= trend.MIN_YEARS else np.nan
        rows.append((*key, slope, s, p, len(g), float(g["area_km2"].iloc[0]), float(g["area_km2"].iloc[-1])))
    return pd.DataFrame(rows, columns=[*UNIT_COLS, "class", "trend_km2_yr", "mk_s", "mk_p", "n_years",
                                       "first_km2", "last_km2"])


# --- degradation (SDG 15.3.1 land-cover sub-indicator) and desertification ---------------------
def degradation(up: UnitPairs, periods: dict[str, tuple[int, int]], matrix: pd.DataFrame | None = None,
                reclass: dict[str, str] | None = None, legend: str | Legend | None = None) -> pd.DataFrame:
    """Per unit and period (e.g. {"baseline": (2000, 2015), "reporting": (2015, 2020)}; each a step
    computed by ``unit_pairs``: two consecutive years of the series, or one of its ``periods``): improved, stable, degraded and no-data km² and % of the
    unit's area (the four add up to it), and the desertification proxy: vegetated → barren
    (``desertified_km2``), barren → vegetated (``rehabilitated_km2``)."""
    legend = get_legend(legend or up.legend)
    matrix = ldn.load_matrix() if matrix is None else matrix
    reclass = ldn.load_reclass() if reclass is None else reclass
    cu = ldn.code_classes(legend, reclass)
    out = []
    for name, (a, b) in periods.items():
        if (a, b) not in up.steps():
            raise InputError(f"时段 {a}–{b} 未在此次计算中（已算：{up.steps()}）",
                             f"period {a}–{b} was not computed in this run (computed: {up.steps()})")
        p = up.pairs[(up.pairs["year_from"] == a) & (up.pairs["year_to"] == b)]
        valid = p[(p["code_from"] != NOD) & (p["code_to"] != NOD)]
        verdict = np.array([int(matrix.at[cu[int(f)], cu[int(t)]]) for f, t in
                            zip(valid["code_from"], valid["code_to"])], dtype=int)
        cf, ct = _classes(valid["code_from"], legend), _classes(valid["code_to"], legend)
        frame = pd.DataFrame({"key": valid["key"].to_numpy(), "area": valid["area_km2"].to_numpy(), "v": verdict,
                              "des": (cf.isin(VEGETATED) & (ct == "barren")).to_numpy(),
                              "reh": ((cf == "barren") & ct.isin(VEGETATED)).to_numpy()})
        area = up.units["area_km2"].to_numpy()
        res = up.units[UNIT_COLS].copy()
        res.insert(4, "period", name)
        res.insert(5, "year_from", a)
        res.insert(6, "year_to", b)
        for v, col in ((1, "improved_km2"), (0, "stable_km2"), (-1, "degraded_km2")):
            s = frame[frame["v"] == v].groupby("key")["area"].sum()
            res[col] = s.reindex(range(len(res))).fillna(0.0).to_numpy()
        known = res[["improved_km2", "stable_km2", "degraded_km2"]].sum(axis=1).to_numpy()
        res["nodata_km2"] = np.maximum(area - known, 0.0)
        res["area_km2"] = area
        with np.errstate(invalid="ignore", divide="ignore"):
            for c in ("improved", "stable", "degraded", "nodata"):
                res[f"{c}_pct"] = np.where(area > 0, 100.0 * res[f"{c}_km2"].to_numpy() / area, np.nan)
        for col, flag in (("desertified_km2", "des"), ("rehabilitated_km2", "reh")):
            s = frame[frame[flag]].groupby("key")["area"].sum() if len(frame) else pd.Series(dtype=float)
            res[col] = s.reindex(range(len(res))).fillna(0.0).to_numpy()
        res["desertification_net_km2"] = res["desertified_km2"] - res["rehabilitated_km2"]
        out.append(res)
    return pd.concat(out, ignore_index=True)


def transitions_unccd(up: UnitPairs, period: tuple[int, int], reclass: dict[str, str] | None = None,
                      legend: str | Legend | None = None) -> pd.DataFrame:
    """The UNCCD-class transition areas of a period per unit (long: level, unit_id, from, to, area_km2),
    for the hand check of every verdict and for export."""
    legend = get_legend(legend or up.legend)
    reclass = ldn.load_reclass() if reclass is None else reclass
    cu = ldn.code_classes(legend, reclass)
    p = up.pairs[(up.pairs["year_from"] == period[0]) & (up.pairs["year_to"] == period[1])]
    p = p[(p["code_from"] != NOD) & (p["code_to"] != NOD)]
    t = pd.DataFrame({"key": p["key"].to_numpy(), "from": p["code_from"].map(lambda c: cu[int(c)]).to_numpy(),
                      "to": p["code_to"].map(lambda c: cu[int(c)]).to_numpy(), "area_km2": p["area_km2"].to_numpy()})
    t = t.groupby(["key", "from", "to"], as_index=False)["area_km2"].sum()
    return up.units[["level", "unit_id"]].reset_index(names="key").merge(t, on="key").drop(columns="key")


# --- labels of the columns (tables, Excel headers, CLI workbook) -------------------------------
_T = Text
LABELS: dict[str, Text] = {
    "level": _T("层级", "level"), "unit_id": _T("单元编号", "unit id"), "name_zh": _T("名称", "name (Chinese)"),
    "name_en": _T("英文名称", "name"), "period": _T("时段", "period"), "year_from": _T("起始年", "first year"),
    "year_to": _T("结束年", "last year"), "year": _T("年份", "year"), "class": _T("地类", "class"),
    "improved_km2": _T("改善（km²）", "improved (km²)"), "stable_km2": _T("稳定（km²）", "stable (km²)"),
    "degraded_km2": _T("退化（km²）", "degraded (km²)"), "nodata_km2": _T("无数据（km²）", "no data (km²)"),
    "area_km2": _T("面积（km²）", "area (km²)"),
    "improved_pct": _T("改善（%）", "improved (%)"), "stable_pct": _T("稳定（%）", "stable (%)"),
    "degraded_pct": _T("退化（%）", "degraded (%)"), "nodata_pct": _T("无数据（%）", "no data (%)"),
    "desertified_km2": _T("植被→裸地（沙化代理，km²）", "vegetated → barren (desertification proxy, km²)"),
    "rehabilitated_km2": _T("裸地→植被（km²）", "barren → vegetated (km²)"),
    "desertification_net_km2": _T("沙化净增（km²）", "net desertification (km²)"),
    "trend_km2_yr": _T("Theil–Sen 趋势（km²/年）", "Theil–Sen trend (km²/yr)"),
    "mk_s": _T("Mann–Kendall S", "Mann–Kendall S"), "mk_p": _T("Mann–Kendall p 值", "Mann–Kendall p-value"),
    "n_years": _T("年数", "years"), "first_km2": _T("首年面积（km²）", "first-year area (km²)"),
    "last_km2": _T("末年面积（km²）", "last-year area (km²)"),
    "from": _T("初始类别", "initial class"), "to": _T("最终类别", "final class"),
}

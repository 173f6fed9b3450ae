"""Measures of declared inputs: the columns a park gets from an input that ``layers.inputs`` declares
with ``measure=NAME`` (a distance to a new kind of feature, a raster criterion, a DEM, an exclusion
layer, grid access).

A measure is ``fn(parks, value, spec, params) -> array | DataFrame``: ``parks`` a GeoSeries of the
park polygons, ``value`` a GeoDataFrame (vector input) or the path of a raster, ``spec`` the
``layers.inputs.Input``, ``params`` what the input's value carried after its file (``FILE:NAME:…``;
empty for a plain file). One array fills the declaration's ``column``; a DataFrame brings its own
columns, each declared in the indicator table (``indicators.table``: static entries, or ``declare``
for the ones named by the value, e.g. ``crit_ghi_mean``).

Built in:
- ``distance_km``: geodesic distance (km) to the nearest feature (``indicators.transport.nearest_km``).
- ``raster_mean``: the mean of a raster's valid cells inside each park — every cell weighted by the
  exact fraction of it the park covers (the exactextract quantity) × its ground area
  (``zonal.rasterstats.criterion_stats``); nodata cells left out; NaN when the park covers none.
- ``raster_criterion`` (``--criterion FILE:NAME:STAT:DIRECTION[:UNIT]``): one statistic of a
  continuous raster (mean, min, max, p10, p90, same weights) as ``crit_<NAME>_<STAT>``.
- ``terrain`` (``--dem FILE``): ``elev_mean_m``, ``slope_mean_deg``, ``slope_p90_deg`` (``zonal.terrain``).
- ``exclusion`` (``--exclusion FILE:KIND[:BUFFER_M]``): overlap, share, distance, buffer ring and
  verdict against an exclusion layer (``indicators.exclusions``).
- ``grid_distance`` (``--grid FILE:KIND``): distance to substations or transmission lines.
"""
from __future__ import annotations

import re
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from core.errors import InputError
from core.text import Text
from indicators import table
from indicators.exclusions import exclusion_measures
from indicators.transport import nearest_km
from layers import inputs as declared
from zonal.rasterstats import criterion_stats
from zonal.terrain import terrain_stats

Measure = Callable[..., "np.ndarray | pd.DataFrame"]
MEASURES: dict[str, Measure] = {}
BUILT_IN = ("distance_km", "raster_mean", "raster_criterion", "terrain", "exclusion", "grid_distance")
STATS = ("mean", "min", "max", "p10", "p90")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


def register_measure(name: str) -> Callable[[Measure], Measure]:
    """Decorator: ``@register_measure("name")`` makes ``fn`` the measure an input names."""
    def deco(fn: Measure) -> Measure:
        if name in MEASURES and MEASURES[name] is not fn:
            raise ValueError(f"measure {name!r} is already registered")
        MEASURES[name] = fn
        return fn
    return deco


def unregister_measure(name: str) -> None:
    if name in BUILT_IN:
        raise ValueError(f"measure {name!r} is built in")
    MEASURES.pop(name, None)


def measure(spec, parks: gpd.GeoSeries, value, params: dict | None = None) -> pd.DataFrame:
    """The columns ``spec``'s measure gives the parks (a DataFrame, one row per park)."""
    fn = MEASURES.get(spec.measure)
    if fn is None:
        raise InputError(f"输入“{spec.label.zh}”的计算方法 {spec.measure!r} 未注册。",
                         f"input '{spec.label.en}': measure {spec.measure!r} is not registered.")
    out = fn(parks, value, spec, **({"params": params} if spec.params else {}))
    if not isinstance(out, pd.DataFrame):
        out = np.asarray(out, dtype="float64")
        if out.shape != (len(parks),):
            raise ValueError(f"measure {spec.measure!r} returned {out.shape}, expected ({len(parks)},)")
        out = pd.DataFrame({spec.column: out})
    if len(out) != len(parks):
        raise ValueError(f"measure {spec.measure!r} returned {len(out)} rows, expected {len(parks)}")
    return out.reset_index(drop=True)


def items(spec, value) -> list[tuple[object, dict]]:
    """(value, params) pairs of an entry of ``RunInputs.extra``: a list of them for an input whose
    values carry parameters, else the one value."""
    return list(value) if spec.params else [(value, {})]


def run_columns(extra: dict) -> list[str]:
    """The columns the declared inputs of ``extra`` ({input id: value}) fill, in order."""
    out: list[str] = []
    for input_id, value in extra.items():
        spec = declared.get(input_id)
        for _v, params in items(spec, value):
            out += [c for c in columns_of(spec, params) if c not in out]
    return out


def columns_of(spec, params: dict | None = None) -> list[str]:
    """The columns ``spec`` fills (with ``params`` for an input whose value carries them)."""
    if spec.column:
        return [spec.column]
    if spec.measure == "terrain":
        return ["elev_mean_m", "slope_mean_deg", "slope_p90_deg"]
    if spec.measure == "raster_criterion":
        return [params["column"]]
    if spec.measure == "exclusion":
        return [f"excl_{params['kind']}_{s}" for s in ("overlap_km2", "overlap_pct", "dist_km", "buffer_km2", "verdict")]
    if spec.measure == "grid_distance":
        return [f"dist_{params['kind']}_km"]
    raise ValueError(f"input {spec.id}: no column declared for measure {spec.measure!r}")


# --- the values of inputs with parameters: FILE:… -------------------------------------------------
def parse_criterion(value: str, *, declare: bool = True) -> tuple[str, dict]:
    """``FILE:NAME:STAT:DIRECTION[:UNIT]`` → (file, params); declares ``crit_<NAME>_<STAT>`` (unless
    ``declare=False``: a workspace registration checks the value, its runs declare it)."""
    form = "FILE:NAME:STAT:DIRECTION[:UNIT]"
    parts = str(value).split(":")
    direction_at = next((i for i in range(len(parts) - 1, 0, -1) if parts[i].lower() in ("higher", "lower")), None)
    if direction_at is None or direction_at < 3:
        raise InputError(f"--criterion 的格式应为 {form}（方向 higher 或 lower），收到 {value!r}",
                         f"--criterion expects {form} (DIRECTION higher or lower), got {value!r}")
    path = ":".join(parts[: direction_at - 2])
    name, stat, direction = parts[direction_at - 2].strip().lower(), parts[direction_at - 1].strip().lower(), \
        parts[direction_at].strip().lower()
    unit = ":".join(parts[direction_at + 1:]).strip()
    return path, criterion_params({"name": name, "stat": stat, "direction": 1 if direction == "higher" else -1,
                                   "unit": unit}, declare=declare)


def criterion_params(params: dict, *, declare: bool = True, replace: bool = False) -> dict:
    """A criterion's parameters ({name, stat, direction ±1, unit}: what ``parse_criterion`` reads from a
    flag value, or a workspace dataset's record) checked, with its column ``crit_<NAME>_<STAT>``
    declared in the indicator table; returns them with ``column``. ``replace``: the column's meaning
    may change (a long-running dashboard whose data in use changed; one run never holds two datasets
    with one column: ``storage.workspace.use``), else a second meaning is refused (two flags of one run)."""
    name, stat, unit = str(params.get("name", "")), str(params.get("stat", "")), str(params.get("unit") or "")
    d = params.get("direction")
    if not NAME_RE.match(name):
        raise InputError(f"--criterion 的名称须为小写字母、数字或下划线（≤ 31 个字符）：{name!r}",
                         f"--criterion NAME must be lower-case letters, digits or _ (≤ 31 characters): {name!r}")
    if stat not in STATS:
        raise InputError(f"--criterion 的统计量须为 {STATS} 之一：{stat!r}", f"--criterion STAT must be one of {STATS}: {stat!r}")
    if d not in (1, -1):
        raise InputError(f"--criterion 的方向须为 higher 或 lower：{d!r}", f"--criterion DIRECTION must be higher or lower: {d!r}")
    column = f"crit_{name}_{stat}"
    if not declare:
        return {"name": name, "stat": stat, "direction": d, "unit": unit, "column": column}
    if replace:
        table.DECLARED.pop(column, None)
    table.declare(table.Indicator(
        column, unit, Text(f"准则 {name}（{stat}）", f"Criterion {name} ({stat})"),
        Text(f"栅格 {name} 在园区内的{stat}（按精确覆盖比例 × 像元地面面积加权）；{'越高越好' if d > 0 else '越低越好'}。",
             f"{stat} of the raster {name} in the park (weighted by exact coverage × ground cell area); "
             f"{'higher' if d > 0 else 'lower'} is better."), d, "criteria", fmt="{:,.2f}", input="criterion"))
    return {"name": name, "stat": stat, "direction": d, "unit": unit, "column": column}


def parse_exclusion(value: str) -> tuple[str, dict]:
    """``FILE:KIND[:BUFFER_M]`` → (file, params)."""
    form = "FILE:KIND[:BUFFER_M]"
    parts = str(value).split(":")
    kind_at = next((i for i in range(len(parts) - 1, 0, -1) if parts[i].strip() in table.EXCLUSION_KINDS), None)
    if kind_at is None:
        raise InputError(f"--exclusion 的格式应为 {form}（类型：{list(table.EXCLUSION_KINDS)}），收到 {value!r}",
                         f"--exclusion expects {form} (KIND: {list(table.EXCLUSION_KINDS)}), got {value!r}")
    buffer = ":".join(parts[kind_at + 1:]).strip()
    try:
        buffer_m = float(buffer) if buffer else 0.0
    except ValueError:
        buffer_m = -1.0
    if not (np.isfinite(buffer_m) and buffer_m >= 0):
        raise InputError(f"--exclusion 的缓冲距离须为不小于 0 的米数：{buffer!r}",
                         f"--exclusion BUFFER_M must be metres ≥ 0: {buffer!r}")
    return ":".join(parts[:kind_at]), {"kind": parts[kind_at].strip(), "buffer_m": buffer_m}


def parse_grid(value: str) -> tuple[str, dict]:
    """``FILE:KIND`` (substation | power_line) → (file, params)."""
    path, _, kind = str(value).rpartition(":")
    if not path or kind.strip() not in table.GRID_KINDS:
        raise InputError(f"--grid 的格式应为 FILE:类型（{list(table.GRID_KINDS)}），收到 {value!r}",
                         f"--grid expects FILE:KIND ({list(table.GRID_KINDS)}), got {value!r}")
    return path, {"kind": kind.strip()}


PARSERS: dict[str, Callable[[str], tuple[str, dict]]] = {"criterion": parse_criterion, "exclusion": parse_exclusion,
                                                        "grid": parse_grid}


def read_params(kind: str, value: str) -> tuple[str, dict]:
    """``PARSERS[kind](value)`` declaring nothing: the check of a workspace dataset's parameters when it
    is registered or changed (its runs declare them: ``stored_params``)."""
    return parse_criterion(value, declare=False) if kind == "criterion" else PARSERS[kind](value)


def stored_params(spec, params: dict) -> dict:
    """The parameters a workspace dataset keeps in its record (what ``read_params`` returned when it
    was registered) as its measure takes them: a criterion's checked again and its column declared
    with the meaning of the data in use (the indicator table of this process may not have seen it,
    or may hold an earlier meaning)."""
    return criterion_params(params, replace=True) if spec.params == "criterion" else dict(params)


# --- the measures ---------------------------------------------------------------------------------
@register_measure("distance_km")
def distance_km(parks: gpd.GeoSeries, value: gpd.GeoDataFrame, spec) -> np.ndarray:
    return nearest_km(parks, value.geometry)


@register_measure("raster_mean")
def raster_mean(parks: gpd.GeoSeries, value, spec) -> np.ndarray:
    """Mean of the valid cells of the raster at ``value`` inside each park, each cell weighted by the
    exact share the park covers × its ground area (``zonal.rasterstats``: the park's window only, in
    strips; nodata, masked and non-finite cells left out)."""
    return criterion_stats(parks, str(value), ("mean",))["mean"].to_numpy(dtype="float64")


@register_measure("raster_criterion")
def raster_criterion(parks: gpd.GeoSeries, value, spec, params: dict) -> pd.DataFrame:
    stats = criterion_stats(parks, str(value), (params["stat"],))
    return pd.DataFrame({params["column"]: stats[params["stat"]].to_numpy(dtype="float64")})


@register_measure("terrain")
def terrain(parks: gpd.GeoSeries, value, spec) -> pd.DataFrame:
    return terrain_stats(parks, str(value))[["elev_mean_m", "slope_mean_deg", "slope_p90_deg"]]


@register_measure("exclusion")
def exclusion(parks: gpd.GeoSeries, value: gpd.GeoDataFrame, spec, params: dict) -> pd.DataFrame:
    out = exclusion_measures(parks, value, params["kind"], params["buffer_m"])
    return out[columns_of(spec, params)]


@register_measure("grid_distance")
def grid_distance(parks: gpd.GeoSeries, value: gpd.GeoDataFrame, spec, params: dict) -> pd.DataFrame:
    return pd.DataFrame({f"dist_{params['kind']}_km": nearest_km(parks, value.geometry)})

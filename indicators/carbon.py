"""Carbon stock (InVEST Carbon semantics) and annual sink.

Pools table: ``lucode,c_above,c_below,c_soil,c_dead`` in t C/ha keyed by the raster's own codes
(InVEST reads only these five columns; ``class``/``label``/``source`` are for people).
Stock = sum over codes of area (ha) x (c_above + c_below + c_soil + c_dead); CO2e = x 44/12;
with an alternative raster, change = alternative - baseline (InVEST's sequestration).
Default table: ``tables/carbon_density.csv`` by class and zone, expanded to the raster's codes by
``indicators.pooltable`` (a source per row); a park across zones takes each piece's zone densities
(``stock_by_zone``). Carbon at stake (what building on the land would release) comes from the same
rows and ``tables/carbon_conversion.csv``.
Sink: ``tables/sink_rates.csv``, t CO2/ha/yr per canonical class.

Ranges: a pools row may carry ``c_low, c_high`` (total density, t C/ha: the cited
study's range, or a documented ± share where only a mean is published, ``range_source`` says
which); a sink row ``rate_low, rate_high``. Missing → no range (low = central = high). Each row
must satisfy low ≤ central ≤ high. ``stock`` then adds ``carbon_stock_low_tc`` and
``carbon_stock_high_tc``, ``sink_range`` the sink's low and high.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from core import paths
from core.errors import InputError
from layers import tableschema
from layers.legends import Legend
from indicators import pooltable
from indicators.table import POOLS

TABLES = paths.TABLES
CO2_PER_C = 44.0 / 12.0
POOL_COLUMNS = tuple(f"c_{p}" for p in POOLS)


def default_pools_path(legend: Legend | None = None) -> Path:
    """The default density table (by class and zone; expanded to any legend's codes)."""
    return pooltable.DENSITY_CSV


def default_tables_sha256() -> str:
    """SHA-256 of the default density and conversion tables together (run fingerprints)."""
    import hashlib

    h = hashlib.sha256()
    for p in (pooltable.DENSITY_CSV, pooltable.CONVERSION_CSV):
        h.update(p.read_bytes())
    return h.hexdigest()


def load_pool_table(pools=None, legend: Legend | None = None) -> pooltable.PoolTable:
    """Densities by raster code, province default and per zone (``indicators.pooltable``)."""
    return pooltable.load_pool_table(pools, legend)


def load_pools(pools=None, legend: Legend | None = None) -> pd.DataFrame:
    """The province-default densities indexed by lucode (float t C/ha), with ``c_low``/``c_high``,
    the at-stake densities and ``source``. ``attrs['default']`` tells its origin.

    ``pools``: None (the project's table, expanded to the legend's codes), a CSV path or a DataFrame."""
    return load_pool_table(pools, legend).default


def check_codes(code_m2: pd.DataFrame, pools: pd.DataFrame, raster_name: str) -> None:
    present = sorted(int(c) for c in code_m2.columns if (code_m2[c] > 0).any())
    missing = sorted(set(present) - set(int(i) for i in pools.index))
    if missing:
        raise InputError(
            f"{raster_name} 中的土地覆盖代码 {missing} 不在碳库表中；请补充 lucode,c_above,c_below,c_soil,c_dead 行",
            f"land-cover code(s) {missing} of {raster_name} are missing from the carbon pools table "
            f"(it lists {sorted(int(i) for i in pools.index)}); add rows lucode,c_above,c_below,c_soil,c_dead",
        )


def stock(code_m2: pd.DataFrame, pools: pd.DataFrame) -> pd.DataFrame:
    """Per polygon from code areas (m²): carbon_<pool>_tc, carbon_stock_tc, carbon_stock_tco2e, the
    stock range (carbon_stock_low/high_tc) and, when the table has them, carbon at stake
    (carbon_at_stake_tc and its low/high)."""
    ha = code_m2 / 1e4
    codes = [int(c) for c in ha.columns]
    table = pools.reindex(codes)
    dens = table[list(POOL_COLUMNS)].fillna(0.0).to_numpy(dtype="float64")
    area = ha.to_numpy(dtype="float64")
    per_pool = area @ dens  # (parks, 4) t C
    out = pd.DataFrame(per_pool, index=code_m2.index, columns=[f"carbon_{p}_tc" for p in POOLS])
    out["carbon_stock_tc"] = per_pool.sum(axis=1)
    out["carbon_stock_tco2e"] = out["carbon_stock_tc"] * CO2_PER_C
    for end in ("low", "high"):
        col = f"c_{end}"
        d = table[col].fillna(0.0).to_numpy(dtype="float64") if col in table.columns else dens.sum(axis=1)
        out[f"carbon_stock_{end}_tc"] = area @ d
    if "at_stake" in table.columns:
        for col, name in (("at_stake", "carbon_at_stake_tc"), ("at_stake_low", "carbon_at_stake_low_tc"),
                          ("at_stake_high", "carbon_at_stake_high_tc")):
            out[name] = area @ table[col].fillna(0.0).to_numpy(dtype="float64")
    return out


def stock_by_zone(pieces: list[tuple[int, str | None, pd.Series]], n: int, table) -> pd.DataFrame:
    """The stock columns of ``stock`` for ``n`` parks made of pieces ``(park index, zone key, code
    areas m²)``: each piece with its zone's densities (``table``: a ``pooltable.PoolTable``; key
    None = the province default), summed per park in a fixed order."""
    frames = []
    for i, key, codes in pieces:
        st = stock(codes.to_frame().T, table.for_zone(key))
        frames.append(st.set_axis([i]))
    if not frames:
        return pd.DataFrame(index=range(n))
    return pd.concat(frames).groupby(level=0, sort=True).sum().reindex(range(n))


def load_sink_rates(rates=None) -> pd.DataFrame:
    """Sink rates indexed by canonical class: rate_tco2_ha_yr (+ flagged, source)."""
    # columns, numbers and canonical classes checked in one place (layers/tableschema.py)
    df = tableschema.read(rates if rates is not None else TABLES / "sink_rates.csv", "sink_rates")
    if "flagged" not in df.columns:
        df["flagged"] = "no"
    for c in ("rate_low", "rate_high"):
        v = pd.to_numeric(df[c], errors="coerce") if c in df.columns else pd.Series(float("nan"), index=df.index)
        df[c] = v.fillna(df["rate_tco2_ha_yr"]).astype("float64")
    bad = (df["rate_low"] > df["rate_tco2_ha_yr"] + 1e-9) | (df["rate_high"] < df["rate_tco2_ha_yr"] - 1e-9)
    if bad.any():
        rows = [int(i) + 2 for i in df.index[bad]]
        raise InputError(f"碳汇速率表第 {rows} 行须满足 rate_low ≤ rate_tco2_ha_yr ≤ rate_high",
                         f"sink rates table row(s) {rows}: need rate_low ≤ rate_tco2_ha_yr ≤ rate_high")
    return df.set_index("class")


def sink(class_m2: pd.DataFrame, rates: pd.DataFrame) -> pd.Series:
    """Annual sink (t CO2/yr) = sum over classes of area (ha) x rate; classes without a rate: 0."""
    r = rates["rate_tco2_ha_yr"].reindex(class_m2.columns).fillna(0.0)
    return (class_m2 / 1e4) @ r


def sink_range(class_m2: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    """Low and high annual sink (t CO2/yr) from ``rate_low``/``rate_high``."""
    out = {}
    for end in ("low", "high"):
        col = f"rate_{end}" if f"rate_{end}" in rates.columns else "rate_tco2_ha_yr"
        out[f"carbon_sink_{end}_tco2_yr"] = (class_m2 / 1e4) @ rates[col].reindex(class_m2.columns).fillna(0.0)
    return pd.DataFrame(out, index=class_m2.index)


def flagged_sink_classes(rates: pd.DataFrame) -> set[str]:
    f = rates["flagged"].astype(str).str.lower().isin({"yes", "true", "1", "y"})
    return set(rates.index[f])


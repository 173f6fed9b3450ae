"""Carbon density tables: by land-cover class and, where a source supports it, by zone.

Two forms are read:

- the project's default, ``tables/carbon_density.csv``: one row per canonical class (forest,
  grassland …) for the province (``zone`` empty) and extra rows for a zone where a source gives a
  different density (alpine meadow in Gannan, desert steppe in Hexi, Gannan peat …). It is expanded
  to the raster's own codes through the legend (any legend, a custom CSV legend included);
- a user's table in InVEST's form, ``lucode,c_above,c_below,c_soil,c_dead`` (t C/ha), optionally
  with a ``zone`` column (rows without a zone are the default) and ``soil_depth_cm``.

Every row may carry ``c_low``/``c_high`` (total density range) and says its source. A zone key
matches a zone polygon by its ``zone_id`` or its name (``layers/catalog`` normalises uploaded zone
files to these fields); zones without rows use the default rows.

Carbon at stake when land is built on (``tables/carbon_conversion.csv``, by class): biomass and
dead organic matter are lost, and a share of the top 0–30 cm of soil carbon
(``soil_loss_share`` × the 0–30 cm part of ``c_soil``: all of it when the row is measured to 30 cm,
``topsoil_share`` of it when measured to 100 cm). Its low/high use ``soil_loss_low/high``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core import paths
from core.errors import InputError
from layers import tableschema
from layers.legends import CLASS_IDS, Legend

POOL_COLUMNS = ("c_above", "c_below", "c_soil", "c_dead")
DENSITY_CSV = paths.TABLES / "carbon_density.csv"
CONVERSION_CSV = paths.TABLES / "carbon_conversion.csv"
DEFAULT_DEPTH_CM = 100.0  # a user table without soil_depth_cm: rows read as 0–100 cm (said in a note)
STAKE_COLUMNS = ("at_stake", "at_stake_low", "at_stake_high")
VERIFIED = ("yes", "partial", "no", "n/a")  # the ``verified`` flag of a density row


@dataclass(frozen=True)
class PoolTable:
    """Densities indexed by raster code: ``default`` (province) and ``by_zone`` (each a full table,
    the zone's own rows over the default ones). Columns: the four pools, ``c_low``, ``c_high``,
    ``soil_depth_cm``, the at-stake densities ``at_stake`` / ``at_stake_low`` / ``at_stake_high``
    (t C/ha) and ``source``."""

    default: pd.DataFrame
    by_zone: dict[str, pd.DataFrame] = field(default_factory=dict)
    origin: str = "default"  # default | user
    sources: tuple[str, ...] = ()  # files read (for provenance)

    @property
    def zoned(self) -> bool:
        return bool(self.by_zone)

    def for_zone(self, key: str | None) -> pd.DataFrame:
        return self.by_zone.get(key, self.default) if key else self.default

    def match_zone(self, *names) -> str | None:
        """The zone key among ``names`` (a zone's id, Chinese and English names) that has rows."""
        for n in names:
            if n is not None and str(n).strip() in self.by_zone:
                return str(n).strip()
        return None


def _ranges(df: pd.DataFrame, raw: pd.DataFrame, name_zh: str, name_en: str) -> None:
    central = df[list(POOL_COLUMNS)].sum(axis=1)
    for c in ("c_low", "c_high"):
        v = pd.to_numeric(raw[c], errors="coerce") if c in raw.columns else pd.Series(np.nan, index=raw.index)
        df[c] = v.fillna(central).astype("float64").to_numpy()
    bad = (df["c_low"] > central + 1e-9) | (df["c_high"] < central - 1e-9)
    if bad.any():
        rows = [int(i) + 2 for i in df.index[bad]]
        raise InputError(f"{name_zh}第 {rows} 行须满足 c_low ≤ 四库之和 ≤ c_high",
                         f"{name_en} row(s) {rows}: need c_low ≤ sum of the four pools ≤ c_high")


def load_conversion(path=None) -> pd.DataFrame:
    """Soil-loss parameters of carbon at stake, by class (row ``default`` for classes not listed)."""
    raw = tableschema.read(path if path is not None else CONVERSION_CSV, "carbon_conversion")
    need = ("class", "topsoil_share", "soil_loss_share", "soil_loss_low", "soil_loss_high")
    num = raw[list(need[1:])].astype("float64")
    bad = ((num < 0) | (num > 1)).any(axis=1) | (num["soil_loss_low"] > num["soil_loss_share"]) | (
        num["soil_loss_share"] > num["soil_loss_high"])
    if bad.any():
        rows = [int(i) + 2 for i in num.index[bad]]
        raise InputError(f"碳转换参数表第 {rows} 行：比例须在 0–1 之间且 low ≤ share ≤ high",
                         f"carbon conversion table row(s) {rows}: shares must lie in 0–1 with low ≤ share ≤ high")
    num.index = raw["class"]
    if "default" not in num.index:
        raise InputError("碳转换参数表缺少 default 行", "carbon conversion table: no 'default' row")
    num["source"] = raw["source"].to_numpy() if "source" in raw.columns else ""
    return num


def _at_stake(table: pd.DataFrame, classes: list[str | None], conv: pd.DataFrame) -> pd.DataFrame:
    """Add the at-stake densities (t C/ha) to a code-indexed table whose rows have ``classes``."""
    par = conv.reindex([c if c in conv.index else "default" for c in classes])
    depth = table["soil_depth_cm"].to_numpy()
    top = np.where(depth <= 30.0, 1.0, par["topsoil_share"].to_numpy())  # the 0–30 cm part of c_soil
    veg = (table["c_above"] + table["c_below"] + table["c_dead"]).to_numpy()
    soil = table["c_soil"].to_numpy() * top
    out = table.copy()
    out["at_stake"] = veg + par["soil_loss_share"].to_numpy() * soil
    out["at_stake_low"] = veg + par["soil_loss_low"].to_numpy() * soil
    out["at_stake_high"] = veg + par["soil_loss_high"].to_numpy() * soil
    return out


def _finish(rows: pd.DataFrame, classes: list, conv: pd.DataFrame) -> pd.DataFrame:
    out = _at_stake(rows, classes, conv)
    out.index.name = "lucode"
    return out


def load_pool_table(pools=None, legend: Legend | None = None, conversion=None) -> PoolTable:
    """The density table for ``legend``: the project default (``pools`` None) or a user's table
    (CSV path or DataFrame in InVEST's form, optional ``zone`` and ``soil_depth_cm`` columns)."""
    conv = load_conversion(conversion)
    if pools is None:
        if legend is None:
            raise InputError("默认碳密度表需要图例", "the default carbon density table needs a legend")
        return _from_classes(legend, conv)
    return _from_lucodes(pools, legend, conv)


def _from_classes(legend: Legend, conv: pd.DataFrame) -> PoolTable:
    raw = tableschema.read(DENSITY_CSV, "carbon_density")
    raw["zone"] = raw["zone"].fillna("").astype(str).str.strip()
    num = raw[list(POOL_COLUMNS)].astype("float64")
    _ranges(num, raw, "碳密度表", "carbon density table")
    num["soil_depth_cm"] = pd.to_numeric(raw.get("soil_depth_cm"), errors="coerce").fillna(DEFAULT_DEPTH_CM)
    num["source"] = raw["source"].fillna("").astype(str)
    num["label_en"] = raw.get("label_en", raw["class"]).fillna("").astype(str)
    num["zone"], num["class"] = raw["zone"], raw["class"]
    if num.duplicated(["zone", "class"]).any():
        raise InputError("碳密度表中同一分区、同一类别出现两次", "carbon density table lists a (zone, class) twice")
    base = num[num["zone"] == ""].set_index("class")
    if missing := sorted(set(CLASS_IDS) - set(base.index)):
        raise InputError(f"碳密度表缺少全省默认行：{missing}", f"carbon density table: no province row for {missing}")
    codes = sorted(legend.codes)
    classes = [legend.codes[c] for c in codes]
    cols = [*POOL_COLUMNS, "c_low", "c_high", "soil_depth_cm", "source", "label_en"]

    def expand(by_class: pd.DataFrame) -> pd.DataFrame:
        t = by_class.reindex(classes)[cols]
        t.index = pd.Index(codes, name="lucode")
        return _finish(t, classes, conv)

    default = expand(base)
    by_zone = {}
    for zone, rows in num[num["zone"] != ""].groupby("zone"):
        merged = base.copy()
        merged.loc[rows["class"].to_numpy(), cols] = rows.set_index("class")[cols]
        by_zone[zone] = expand(merged)
    default.attrs["default"] = True
    return PoolTable(default, by_zone, "default", (str(DENSITY_CSV), str(CONVERSION_CSV)))


def _from_lucodes(pools, legend: Legend | None, conv: pd.DataFrame) -> PoolTable:
    raw = tableschema.read(pools, "carbon_pools")
    num = raw[["lucode", *POOL_COLUMNS]].astype("float64")
    _ranges(num, raw, "碳库表", "carbon pools table")
    num["lucode"] = num["lucode"].astype("int64")
    num["soil_depth_cm"] = (pd.to_numeric(raw["soil_depth_cm"], errors="coerce").fillna(DEFAULT_DEPTH_CM)
                            if "soil_depth_cm" in raw.columns else DEFAULT_DEPTH_CM)
    num["source"] = raw["source"].fillna("").astype(str) if "source" in raw.columns else ""
    num["label_en"] = raw["label"].fillna("").astype(str) if "label" in raw.columns else ""
    num["zone"] = raw["zone"].fillna("").astype(str).str.strip() if "zone" in raw.columns else ""
    dup = num.duplicated(["zone", "lucode"])
    if dup.any():
        codes = sorted(num.loc[dup, "lucode"].tolist())
        raise InputError(f"碳库表中 lucode {codes} 重复", f"carbon pools table lists lucode(s) {codes} twice")
    cols = [*POOL_COLUMNS, "c_low", "c_high", "soil_depth_cm", "source", "label_en"]
    base = num[num["zone"] == ""].set_index("lucode")[cols]
    zoned = num[num["zone"] != ""]
    if len(zoned) and (extra := sorted(set(zoned["lucode"]) - set(base.index))):
        raise InputError(f"碳库表：分区行的 lucode {extra} 没有默认行（zone 为空）",
                         f"carbon pools table: zone rows for lucode(s) {extra} have no default row (empty zone)")

    def cls_of(codes) -> list:
        return [legend.class_of(int(c)) if legend is not None else None for c in codes]

    default = _finish(base, cls_of(base.index), conv)
    default.attrs["default"] = False
    by_zone = {}
    for zone, rows in zoned.groupby("zone"):
        merged = base.copy()
        merged.loc[rows["lucode"].to_numpy(), cols] = rows.set_index("lucode")[cols]
        by_zone[zone] = _finish(merged, cls_of(merged.index), conv)
    src = () if isinstance(pools, pd.DataFrame) else (str(Path(pools)),)
    return PoolTable(default, by_zone, "user", src + (str(CONVERSION_CSV),))


def density_table() -> pd.DataFrame:
    """The default density table as published (one row per class and zone; zone "" = province),
    with the total density and the at-stake density of each row — for the Data page and the docs."""
    raw = tableschema.read(DENSITY_CSV, "carbon_density")
    raw["zone"] = raw["zone"].fillna("").astype(str)
    if bad := sorted(set(raw["verified"].fillna("").astype(str)) - set(VERIFIED)):
        raise InputError(f"碳密度表：verified 须为 {VERIFIED} 之一（而非 {bad}）",
                         f"carbon density table: verified must be one of {VERIFIED}, not {bad}")
    conv = load_conversion()
    num = raw[list(POOL_COLUMNS)].astype("float64")
    total = num.sum(axis=1)
    num["soil_depth_cm"] = pd.to_numeric(raw["soil_depth_cm"], errors="coerce").fillna(DEFAULT_DEPTH_CM)
    staked = _at_stake(num, list(raw["class"]), conv)
    out = raw.copy()
    out["c_total"] = total.round(6)
    out["at_stake"] = staked["at_stake"].round(6)
    return out


def density_markdown() -> str:
    """The density table as a Markdown table for docs/carbon.md (a test keeps the two equal)."""
    d = density_table()
    lines = ["| class | zone | biome | above / below / soil / dead | total | low–high | at stake | soil depth | verified |"
             " source |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in d.to_dict("records"):
        depth = f"{float(r['soil_depth_cm']):g} cm" if str(r["soil_depth_cm"]) not in ("", "nan") else "—"
        pools = " / ".join(f"{float(r[c]):g}" for c in POOL_COLUMNS)
        src = str(r["source"]).replace("|", "/")
        lines.append(f"| {r['class']} | {r['zone'] or 'province'} | {r['label_en']} | {pools} | {r['c_total']:g} | "
                     f"{float(r['c_low']):g}–{float(r['c_high']):g} | {r['at_stake']:g} | {depth} | {r['verified']} | "
                     f"{src} |")
    return "\n".join(lines) + "\n"

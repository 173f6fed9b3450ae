"""The two tables behind the targets: the plan's targets and the official statistics.

- ``tables/targets.csv``: one row per (indicator, region, target year) with the target value,
  a comparator (``>=``, ``>``, ``<=``, ``~`` = "about"), the direction (``higher``/``lower`` is
  better), a base year for relative targets (CO2 per GDP "vs 2020" / "vs 2005" are separate
  indicators because their bases differ), the quoted source clause and the target's basis (口径,
  ``basis``/``basis_en``: what the plan measures, or that it does not say). A region other than
  the province is a prefecture's own target.
- official statistics: ``indicator, region, year, value, unit, source`` and, optional,
  ``basis, source_url, source_date, quote, note`` (seed: ``tables/official_stats_gansu.csv``, a
  copy of ``../shared/data/official_stats_gansu.csv`` — 67 published values with title, link, date
  and verbatim quote — plus the project columns: the target-table id, the basis (口径), the numeric
  value and ``publication`` (rows restating one inventory/census share it); users edit them in the
  app, the store keeps them and their edits win).

Pure pandas, no Streamlit. Progress is in ``indicators.target_progress``, bases in
``indicators.target_bases``; ``indicators.targets`` gathers them.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from core import paths
from core.errors import InputError

TARGETS_CSV = paths.TABLES / "targets.csv"
OFFICIAL_SEED_CSV = paths.TABLES / "official_stats_gansu.csv"

TARGET_COLUMNS = ("indicator", "label_zh", "label_en", "unit", "region", "target_year",
                  "target_value", "comparator", "direction", "base_year", "source_doc",
                  "source_clause")
TARGET_OPTIONAL = ("basis", "basis_en")  # the target's basis (口径); "" when a table has none
STAT_COLUMNS = ("indicator", "region", "year", "value", "unit", "source")
STAT_OPTIONAL = ("basis", "source_url", "source_date", "quote", "note")
STAT_ALL = STAT_COLUMNS + STAT_OPTIONAL + ("origin",)  # origin: "seed" (cited press value) | "user"
STAT_TEXT = ("indicator", "region", "unit", "source") + STAT_OPTIONAL + ("origin",)
CITATION_KEY = ("indicator", "region", "year", "value", "source", "source_url", "quote")  # one published value
PROVINCE = "甘肃省"
COMPARATORS = (">=", ">", "<=", "<", "~")


# --- tables ------------------------------------------------------------------------------------
def load_targets(path: str | Path | None = None) -> pd.DataFrame:
    """The targets table, validated (types, comparators, directions)."""
    path = Path(path) if path else TARGETS_CSV
    df = pd.read_csv(path, encoding="utf-8-sig", dtype={"region": str, "source_clause": str})
    missing = [c for c in TARGET_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"目标表 {path.name} 缺少列 {missing}",
                         f"targets table {path.name} lacks columns {missing}")
    df["target_year"] = pd.to_numeric(df["target_year"], errors="raise").astype("int64")
    df["target_value"] = pd.to_numeric(df["target_value"], errors="raise").astype("float64")
    df["base_year"] = pd.to_numeric(df["base_year"], errors="coerce").astype("Int64")
    for c in TARGET_OPTIONAL:
        df[c] = df[c].map(cell_text) if c in df.columns else ""
    bad = sorted(set(df["comparator"]) - set(COMPARATORS))
    if bad:
        raise InputError(f"目标表含未知比较符 {bad}", f"targets table: unknown comparator(s) {bad}")
    bad = sorted(set(df["direction"]) - {"higher", "lower"})
    if bad:
        raise InputError(f"目标表的方向须为 higher/lower，实际为 {bad}",
                         f"targets table: direction must be higher/lower, got {bad}")
    return df[list(TARGET_COLUMNS + TARGET_OPTIONAL)].reset_index(drop=True)  # file order (DOMAIN.md §1 order)


def indicator_table(targets: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator: id, labels, unit, direction (first target row of each)."""
    cols = ["indicator", "label_zh", "label_en", "unit", "direction", "base_year"]
    return targets[cols].drop_duplicates("indicator").reset_index(drop=True)


def load_seed_stats(path: str | Path | None = None) -> pd.DataFrame:
    """The cited seed (``official_stats_gansu.csv``: the shared table + ``indicator_id, basis,
    value_num``) in the statistics schema; every row is marked ``origin = seed`` (a press reprint
    of an official release: shown with "verify against the original publication")."""
    df = pd.read_csv(Path(path) if path else OFFICIAL_SEED_CSV, encoding="utf-8-sig", dtype=str,
                     keep_default_na=False)
    units = dict(zip(*[load_targets()[c] for c in ("indicator", "unit")]))
    out = pd.DataFrame({
        "indicator": df["indicator_id"], "region": df["region"], "year": df["year"],
        "value": df["value_num"], "unit": df["indicator_id"].map(units), "source": df["source_title"],
        "basis": df["basis"], "source_url": df["source_url"], "source_date": df["source_date"],
        "quote": df["quote"], "note": df["note"], "origin": "seed"})
    return normalise_stats(out)


def normalise_stats(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in STAT_OPTIONAL:
        if c not in out.columns:
            out[c] = ""
    if "origin" not in out.columns:
        out["origin"] = "user"
    out = out[list(STAT_ALL)]
    out["year"] = pd.to_numeric(out["year"]).astype("int64")
    out["value"] = pd.to_numeric(out["value"]).astype("float64")
    for c in STAT_TEXT:
        out[c] = out[c].map(cell_text)
    out.loc[out["origin"] == "", "origin"] = "user"
    return out.sort_values(["indicator", "region", "basis", "year", "source"], kind="stable").reset_index(drop=True)


def mark_user_edits(df: pd.DataFrame, seed: pd.DataFrame) -> pd.DataFrame:
    """``origin = seed`` only for rows identical to a seed row (same key, value, unit, source and
    citation); any other row — new, or a seed row the user changed — is ``user``."""
    key = ["indicator", "region", "year", "basis", "value", "unit", "source", "source_url", "source_date", "quote"]
    seeded = set(map(tuple, seed[key].astype(str).to_numpy()))
    out = df.copy()
    same = [tuple(r) in seeded for r in out[key].astype(str).to_numpy()]
    out["origin"] = ["seed" if s and o == "seed" else "user" for s, o in zip(same, out["origin"])]
    return out


def cell_text(v) -> str:
    """A cell as text: None/NaN/<NA> → "" (never the strings "None"/"nan")."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


def read_stats_bytes(data: bytes) -> pd.DataFrame:
    """CSV bytes of official statistics (UTF-8 with or without BOM, else GB18030) → DataFrame of
    strings, not yet validated (``validate_stats`` does that). Raises InputError."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError("文件不是 UTF-8 或 GB18030 文本", "the file is not UTF-8 or GB18030 text")
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"无法解析为 CSV 表格：{e}", f"not a readable CSV table: {e}") from None


def validate_stats(df: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Check an uploaded/edited statistics table; return it normalised or raise InputError.

    Checks: the six columns (``basis, source_url, source_date, quote, note, origin`` may be added;
    any other column is refused, so a wrong file is not half-read),
    non-empty indicator/region/source, integer years 1949–2100, numeric values, known indicators
    (id, or its Chinese/English label, which is mapped to the id), no duplicate
    (indicator, region, year), the unit equal to the indicator's unit when given.
    """
    df = df.copy()
    df.columns = [str(c).strip().lower().lstrip("\ufeff") for c in df.columns]
    missing = [c for c in STAT_COLUMNS if c not in df.columns]
    extra = [c for c in df.columns if c not in STAT_ALL]
    if missing or extra:
        raise InputError(
            f"统计表须恰好包含列 {', '.join(STAT_COLUMNS)}（缺少：{missing or '无'}；多余：{extra or '无'}）",
            f"the statistics table needs exactly the columns {', '.join(STAT_COLUMNS)} "
            f"(missing: {missing or 'none'}; unexpected: {extra or 'none'})")
    if df.empty:
        raise InputError("统计表没有数据行", "the statistics table has no rows")
    ind = indicator_table(targets)
    alias = {}
    for r in ind.itertuples():
        alias[r.indicator.lower()] = r.indicator
        alias[str(r.label_zh).strip().lower()] = r.indicator
        alias[str(r.label_en).strip().lower()] = r.indicator
    units = dict(zip(ind["indicator"], ind["unit"]))
    for c in STAT_OPTIONAL + ("origin",):
        if c not in df.columns:
            df[c] = ""
    for c in STAT_TEXT:
        df[c] = df[c].map(cell_text)
    rows = lambda mask: [int(i) + 2 for i in df.index[mask]]  # noqa: E731 - CSV line numbers
    unknown = ~df["indicator"].str.lower().isin(alias)
    if unknown.any():
        names = sorted(set(df.loc[unknown, "indicator"]))
        raise InputError(
            f"第 {rows(unknown)} 行含未知指标 {names}；可用指标：{sorted(units)}",
            f"unknown indicator(s) {names} in row(s) {rows(unknown)}; use one of {sorted(units)}")
    df["indicator"] = df["indicator"].str.lower().map(alias)
    value = pd.to_numeric(df["value"], errors="coerce")
    if value.isna().any():
        bad = value.isna()
        raise InputError(f"第 {rows(bad)} 行的数值不是数字：{list(df.loc[bad, 'value'])}",
                         f"non-numeric value(s) in row(s) {rows(bad)}: {list(df.loc[bad, 'value'])}")
    year = pd.to_numeric(df["year"], errors="coerce")
    bad = year.isna() | (year % 1 != 0) | (year < 1949) | (year > 2100)
    if bad.any():
        raise InputError(f"年份须为 1949–2100 的整数；见第 {rows(bad)} 行",
                         f"year must be a whole number 1949–2100; row(s) {rows(bad)}")
    for c, zh in (("region", "地区"), ("source", "来源")):
        empty = df[c] == ""
        if empty.any():
            raise InputError(f"第 {rows(empty)} 行的{zh}为空：每个数值都须注明{zh}",
                             f"empty {c} in row(s) {rows(empty)}: every value needs its {c}")
    df["unit"] = np.where(df["unit"] == "", df["indicator"].map(units), df["unit"])
    wrong = df["unit"] != df["indicator"].map(units)
    if wrong.any():
        raise InputError(
            f"第 {rows(wrong)} 行的单位与目标单位不一致（应为 {sorted(set(df.loc[wrong, 'indicator'].map(units)))}）",
            f"unit differs from the target's unit in row(s) {rows(wrong)} "
            f"(expected {sorted(set(df.loc[wrong, 'indicator'].map(units)))})")
    df["value"], df["year"] = value, year.astype("int64")
    key = ["indicator", "region", "year", "basis"]
    dup = df.duplicated(key, keep=False) & (df.groupby(key)["value"].transform("nunique") > 1)
    dup |= df.duplicated(key + ["source"], keep=False)
    if dup.any():
        raise InputError(f"第 {rows(dup)} 行的指标/地区/年份/口径重复（同一口径同一年只能有一个数值；不同口径请填写“口径”列）",
                         f"duplicate indicator/region/year/basis in row(s) {rows(dup)} (one value per year "
                         "and basis; give different bases in the basis column)")
    return normalise_stats(df)


"""Bases (口径) of official statistics, what progress may use them for, and restatements.

``tables/target_bases.csv``: one row per (indicator, basis) — ``indicator`` ``*`` for a basis
name any indicator may carry — with its English name, its ``use`` and whether it is verified:

- ``progress``: the target's measure; progress and trends may use it (one basis at a time);
- ``other_measure``: another indicator published under this one's name (surface water "达到功能
  类别要求" is not "达到或好于Ⅲ类"): shown as a reference, never used for the target;
- ``other_base``: measured against another base year (兰州 "较2015年" under the vs-2020
  indicator): a reference, never selectable, never in progress;
- ``incomparable``: the source itself calls it not comparable with the current basis (the
  wetland protection rate of the 2nd wetland survey): a reference, shown without a gap.

A basis the catalogue does not know (a user's own) is usable, named as typed. ``verified = no``
marks a basis whose definition is inferred (shown as unverified; never chained with others,
like every basis).

Restatements: seed rows that repeat one publication (forest coverage 11.33% for 2018 and 2023 is
the 9th national forest inventory, 2014–2018, restated) share a ``publication`` key in the seed's
project column; ``publications`` gives every row its key (a row the seed does not mark, or a
user's row, is its own publication). A trend needs two distinct publications.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core import paths
from core.errors import InputError
from indicators.target_tables import CITATION_KEY, OFFICIAL_SEED_CSV, cell_text

BASES_CSV = paths.TABLES / "target_bases.csv"
BASIS_COLUMNS = ("indicator", "basis", "basis_en", "use", "verified", "reason_zh", "reason_en")
USES = ("progress", "other_measure", "other_base", "incomparable")
ANY = "*"


@dataclass(frozen=True)
class Basis:
    indicator: str
    basis: str
    basis_en: str
    use: str
    verified: bool
    reason_zh: str
    reason_en: str

    @property
    def usable(self) -> bool:
        return self.use == "progress"

    def label(self, lang: str) -> str:
        """The basis as users read it: Chinese as published; English with the Chinese in
        brackets (the published name is what a reader searches for)."""
        if not self.basis:
            return "—"
        if lang == "en" and self.basis_en and self.basis_en != self.basis:
            return f"{self.basis_en} ({self.basis})"
        return self.basis


def load_bases(path: str | Path | None = None) -> pd.DataFrame:
    path = Path(path) if path else BASES_CSV
    df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    missing = [c for c in BASIS_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"口径表 {path.name} 缺少列 {missing}", f"bases table {path.name} lacks columns {missing}")
    bad = sorted(set(df["use"]) - set(USES))
    if bad:
        raise InputError(f"口径表的用途须为 {USES}，实际为 {bad}", f"bases table: use must be one of {USES}, got {bad}")
    bad = sorted(set(df["verified"]) - {"yes", "no"})
    if bad:
        raise InputError(f"口径表的 verified 须为 yes/no，实际为 {bad}", f"bases table: verified must be yes/no, got {bad}")
    if df.duplicated(["indicator", "basis"]).any():
        raise InputError("口径表中同一指标的口径重复", "bases table: a basis appears twice for one indicator")
    return df[list(BASIS_COLUMNS)].map(str.strip)


@functools.lru_cache(maxsize=4)
def _catalogue(path: str, mtime: float) -> dict[tuple[str, str], Basis]:
    df = load_bases(path)
    return {(r.indicator, r.basis): Basis(r.indicator, r.basis, r.basis_en, r.use, r.verified == "yes",
                                          r.reason_zh, r.reason_en) for r in df.itertuples(index=False)}


def catalogue() -> dict[tuple[str, str], Basis]:
    return _catalogue(str(BASES_CSV), BASES_CSV.stat().st_mtime)


def basis_info(indicator: str, basis: str) -> Basis:
    """The catalogue's entry of ``basis`` under ``indicator`` (else under ``*``); a basis it does
    not know is usable and keeps its name."""
    cat = catalogue()
    b = cell_text(basis)
    found = cat.get((indicator, b)) or cat.get((ANY, b))
    if found is not None:
        return Basis(indicator, b, found.basis_en, found.use, found.verified, found.reason_zh, found.reason_en)
    return Basis(indicator, b, b, "progress", True, "", "")


def basis_label(indicator: str, basis: str, lang: str) -> str:
    return basis_info(indicator, basis).label(lang)


def usable_mask(stats: pd.DataFrame) -> pd.Series:
    """True for rows whose basis progress may use."""
    return pd.Series([basis_info(i, b).usable for i, b in zip(stats["indicator"], stats["basis"])],
                     index=stats.index, dtype=bool)


# --- the seed's project columns, by citation ----------------------------------------------------
def _citation(df: pd.DataFrame) -> list[tuple]:
    cols = [df[c].map(lambda v: f"{float(v):.10g}") if c == "value" else df[c].astype(str) for c in CITATION_KEY]
    return list(zip(*cols))


@functools.lru_cache(maxsize=4)
def _seed_columns(path: str, mtime: float) -> dict[tuple, tuple[str, str]]:
    """citation → (basis, publication) of every seed row."""
    raw = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    rows = pd.DataFrame({"indicator": raw["indicator_id"], "region": raw["region"], "year": raw["year"],
                         "value": raw["value_num"], "source": raw["source_title"], "source_url": raw["source_url"],
                         "quote": raw["quote"]}).map(cell_text)
    pub = raw["publication"].map(cell_text) if "publication" in raw.columns else [""] * len(raw)
    return dict(zip(_citation(rows), zip(raw["basis"].map(cell_text), pub)))


def seed_columns() -> dict[tuple, tuple[str, str]]:
    return _seed_columns(str(OFFICIAL_SEED_CSV), OFFICIAL_SEED_CSV.stat().st_mtime)


def refresh_seed(stats: pd.DataFrame) -> pd.DataFrame:
    """Seed rows (``origin = seed``: identical to a published, cited row) take the current seed's
    basis: a store seeded before a basis was corrected (the 2019/2020 good-air days, the
    functional-class water row) reads as the seed now says. Users' rows are untouched."""
    if stats.empty:
        return stats
    cols = seed_columns()
    out = stats.copy()
    keys = _citation(out)
    for i, (k, origin) in enumerate(zip(keys, out["origin"])):
        if origin == "seed" and k in cols:
            out.iat[i, out.columns.get_loc("basis")] = cols[k][0]
    return out


def publications(stats: pd.DataFrame) -> pd.Series:
    """One key per row: the seed's ``publication`` for a seed row that restates one (same value
    from the same inventory or census), else the row's own (year, source)."""
    cols = seed_columns()
    own = [f"{y}|{s}|{u}" for y, s, u in zip(stats["year"], stats["source"], stats["source_url"])]
    keys = []
    for k, origin, o in zip(_citation(stats) if len(stats) else [], stats["origin"], own):
        pub = cols.get(k, ("", ""))[1] if origin == "seed" else ""
        keys.append(f"pub|{pub}" if pub else o)
    return pd.Series(keys, index=stats.index, dtype=object)

"""The land-cover sub-indicator of SDG 15.3.1 (land degradation neutrality), as the UNCCD's Good
Practice Guidance (v2, 2021) and Trends.Earth compute it: every land-cover class is reclassed to
the 7 UNCCD classes and every transition from an initial to a final year is rated improved (1),
stable (0) or degraded (−1) by a transition matrix.

Declared tables (``layers.tableschema``; defaults in ``tables/``):

- ``unccd_classes.csv``: canonical class → UNCCD class (Trends.Earth's nesting of the ESA CCI
  legend: shrubland → grassland, snow/ice and bare → other land). Every legend reaches the UNCCD
  classes through its canonical classes (``layers.legends``), so one table serves all legends.
- ``ldn_matrix_unccd.csv``: the UNCCD default matrix (rows initial class, columns final class).
  It is an editable parameter: an office may rate cropland → grassland (退耕还草, degraded in the
  default) otherwise and save its matrix under a name (``save_matrix``); the matrix used is
  exported with every result.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core import paths
from core.errors import InputError
from core.text import Text
from layers import tableschema
from layers.legends import CLASS_IDS, Legend

T = Text
UNCCD = ("tree_covered", "grassland", "cropland", "wetland", "artificial", "other_land", "water_body")
UNCCD_LABELS: dict[str, Text] = {
    "tree_covered": T("有林地（乔木覆盖）", "tree-covered"), "grassland": T("草地", "grassland"),
    "cropland": T("耕地", "cropland"), "wetland": T("湿地", "wetland"), "artificial": T("人工地表", "artificial"),
    "other_land": T("其他土地", "other land"), "water_body": T("水体", "water body"),
}
VERDICTS = {1: "improved", 0: "stable", -1: "degraded"}
VERDICT_LABELS: dict[str, Text] = {"improved": T("改善", "improved"), "stable": T("稳定", "stable"),
                                   "degraded": T("退化", "degraded"), "nodata": T("无数据", "no data")}
MATRIX_KIND = "ldn_matrix"  # kind of a saved matrix among the store's result tables
DEFAULT_MATRIX = "unccd_default"


def _check_keys(keys: pd.Series, allowed, zh: str, en: str) -> None:
    """Every value of ``keys`` among ``allowed``, none twice, none missing (zh/en: the table and what
    its keys are, for the message)."""
    if bad := sorted(set(keys) - set(allowed)):
        raise InputError(f"{zh}含未知值 {bad}；可用：{list(allowed)}", f"{en}: unknown value(s) {bad}; use {list(allowed)}")
    if dup := sorted(set(keys[keys.duplicated()])):
        raise InputError(f"{zh}中 {dup} 出现多次", f"{en}: {dup} appear twice")
    if missing := sorted(set(allowed) - set(keys)):
        raise InputError(f"{zh}缺少 {missing}", f"{en}: {missing} missing")


def load_reclass(src=None) -> dict[str, str]:
    """Canonical class → UNCCD class (every canonical class mapped, to a UNCCD class)."""
    df = tableschema.read(src if src is not None else paths.TABLES / "unccd_classes.csv", "unccd_classes")
    df["unccd_class"] = df["unccd_class"].astype(str).str.strip().str.lower()
    if bad := sorted(set(df["unccd_class"]) - set(UNCCD)):
        raise InputError(f"UNCCD 七类归并表含未知 UNCCD 类别 {bad}；可用：{list(UNCCD)}",
                         f"UNCCD reclass table: unknown UNCCD class(es) {bad}; use {list(UNCCD)}")
    _check_keys(df["class"], CLASS_IDS, "UNCCD 七类归并表的类别", "UNCCD reclass table, classes")
    return dict(zip(df["class"], df["unccd_class"]))


def load_matrix(src=None) -> pd.DataFrame:
    """The 7 × 7 matrix (index: initial class, columns: final class; values −1, 0, 1) from a CSV
    path, a DataFrame in the table's layout (a ``from`` column) or the default."""
    df = tableschema.read(src if src is not None else paths.TABLES / "ldn_matrix_unccd.csv", "ldn_matrix")
    df["from"] = df["from"].astype(str).str.strip().str.lower()
    _check_keys(df["from"], UNCCD, "退化矩阵的行", "degradation matrix, rows")
    m = df.set_index("from").loc[list(UNCCD), list(UNCCD)].astype(int)
    m.index.name, m.columns.name = "from", "to"
    moved = [c for c in UNCCD if m.loc[c, c] != 0]
    if moved:  # a class kept is stable by definition (UNCCD GPG 2021, Trends.Earth's matrix)
        raise InputError(f"退化矩阵的对角线须为 0（类别未变即稳定），{moved[0]}→{moved[0]} 为 {m.loc[moved[0], moved[0]]}",
                         f"the degradation matrix's diagonal must be 0 (a class kept is stable); "
                         f"{moved[0]}→{moved[0]} is {m.loc[moved[0], moved[0]]}")
    return m


def matrix_table(m: pd.DataFrame, source: str = "") -> pd.DataFrame:
    """The matrix in the table's layout (``from`` + the 7 columns + ``source``): what is saved,
    exported and read back by ``load_matrix``."""
    out = m.loc[list(UNCCD), list(UNCCD)].astype(int).reset_index()
    out.columns = ["from", *UNCCD]
    out["source"] = source
    return out


def saved_matrices(store) -> pd.DataFrame:
    """The saved matrices (newest version of each name first): table_id, name, version, created_by."""
    tabs = store.result_tables()
    return tabs[tabs["kind"] == MATRIX_KIND].reset_index(drop=True) if len(tabs) else tabs


def save_matrix(store, name: str, m: pd.DataFrame, source: str = "", *, actor=None) -> dict:
    """Save a matrix under ``name`` as a new version (earlier versions kept; who saved it is logged)."""
    load_matrix(matrix_table(m, source))  # the same checks as a file
    return store.put_result_table(name, MATRIX_KIND, matrix_table(m, source), {"source": source}, actor=actor)


def key_areas(src=None) -> pd.DataFrame:
    """The action plan's key 三北 areas (county-level units named in the seed, with the quote)."""
    return tableschema.read(src if src is not None else paths.TABLES / "key_areas.csv", "key_areas")


def code_classes(legend: Legend, reclass: dict[str, str]) -> dict[int, str]:
    """Raster code → UNCCD class for every code of the legend."""
    return {int(code): reclass[cls] for code, cls in legend.codes.items()}


def verdict_of(matrix: pd.DataFrame, code_unccd: dict[int, str], code_from: int, code_to: int) -> int:
    return int(matrix.at[code_unccd[int(code_from)], code_unccd[int(code_to)]])


def verdict_lut(legend: Legend, reclass: dict[str, str], matrix: pd.DataFrame, max_code: int = 255):
    """(index, m7): ``index[c]`` the position of code c's UNCCD class in ``UNCCD`` (−1: not a class
    of the legend, i.e. no data) for codes 0..max_code; ``m7[i, j]`` the verdict of class i → j."""
    index = np.full(max_code + 1, -1, dtype=np.int8)
    for code, cls in code_classes(legend, reclass).items():
        if 0 <= code <= max_code and code not in legend.nodata:
            index[code] = UNCCD.index(cls)
    m7 = matrix.loc[list(UNCCD), list(UNCCD)].to_numpy().astype(np.int16)
    return index, m7

"""Parameter tables, declared once: the columns of every table input (carbon pools and densities,
carbon conversion, sink rates, checklist criteria, zones), each with its kind, unit, bounds and
meaning, and the one place that reads and validates them (``read``). The loaders in ``indicators``
and ``layers.catalog`` call ``read`` and then apply only the rules that tie rows together (ranges
low ≤ central ≤ high, a default row, duplicates). ``docs/tables.md`` is generated from ``SCHEMAS``
(``markdown``; a test keeps it equal).

A bad table gets one bilingual message naming the table, the column and the file rows (row 2 is the
first data row, as a spreadsheet shows it).

May import: ``core`` and ``layers.legends`` (the canonical land-cover classes).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError
from core.text import Text
from layers.legends import CLASS_IDS

KINDS = ("number", "integer", "text", "class", "flag")
NA_TOKENS = ["", "NA", "N/A", "n/a", "#N/A", "NaN", "nan"]  # an empty number cell, as spreadsheets write it


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # number | integer | text | class (a canonical land-cover class) | flag (yes/no)
    about: Text
    unit: str = ""
    required: bool = True  # the column must be there and, for numbers, hold a value on every row
    low: float | None = None  # bounds of a number (inclusive)
    high: float | None = None
    extra: tuple[str, ...] = ()  # values a class column takes besides the canonical classes


@dataclass(frozen=True)
class TableSchema:
    id: str
    label: Text
    columns: tuple[Column, ...]
    file: str | None = None  # the project's default in tables/

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


T = Text
_SOURCE = Column("source", "text", T("来源（文献、页码、表）", "source (reference, page, table)"), required=False)
_POOLS = (
    Column("c_above", "number", T("地上生物量碳", "above-ground biomass carbon"), "t C/ha", low=0),
    Column("c_below", "number", T("地下生物量碳", "below-ground biomass carbon"), "t C/ha", low=0),
    Column("c_soil", "number", T("土壤有机碳（至 soil_depth_cm）", "soil organic carbon (to soil_depth_cm)"), "t C/ha",
           low=0),
    Column("c_dead", "number", T("枯落物与枯死木碳", "litter and dead wood carbon"), "t C/ha", low=0),
    Column("soil_depth_cm", "number", T("土壤碳的深度", "depth of the soil carbon"), "cm", required=False, low=0),
    Column("c_low", "number", T("四库之和的下限", "low end of the four pools' sum"), "t C/ha", required=False, low=0),
    Column("c_high", "number", T("四库之和的上限", "high end of the four pools' sum"), "t C/ha", required=False,
           low=0),
)
SCHEMAS: dict[str, TableSchema] = {s.id: s for s in (
    TableSchema("carbon_pools", T("碳库表", "carbon pools table"), (
        Column("lucode", "integer", T("土地覆被栅格的编码", "code of the land-cover raster")),
        *_POOLS,
        Column("zone", "text", T("分区（空：全省默认）", "zone (empty: the province default)"), required=False),
        Column("label", "text", T("类别名称", "class name"), required=False),
        _SOURCE)),
    TableSchema("carbon_density", T("碳密度表", "carbon density table"), (
        Column("class", "class", T("标准地类", "canonical land-cover class")),
        Column("zone", "text", T("分区编号（空：全省默认）", "zone id (empty: the province default)"), required=False),
        Column("label_zh", "text", T("中文名称", "Chinese name"), required=False),
        Column("label_en", "text", T("英文名称", "English name"), required=False),
        *_POOLS,
        Column("verified", "text", T("核实状态", "verification status"), required=False),
        _SOURCE,
        Column("range_source", "text", T("范围的来源", "source of the range"), required=False)),
        file="carbon_density.csv"),
    TableSchema("carbon_conversion", T("碳转换参数表", "carbon conversion table"), (
        Column("class", "class", T("标准地类（default：其余各类）", "canonical class (default: every other class)"),
               extra=("default",)),
        Column("topsoil_share", "number", T("0–30 cm 占土壤碳的比例", "share of the soil carbon in 0–30 cm"), "0–1",
               low=0, high=1),
        Column("soil_loss_share", "number", T("建设时表层土壤碳的损失比例", "share of topsoil carbon lost when built"),
               "0–1", low=0, high=1),
        Column("soil_loss_low", "number", T("损失比例下限", "low end of the loss share"), "0–1", low=0, high=1),
        Column("soil_loss_high", "number", T("损失比例上限", "high end of the loss share"), "0–1", low=0, high=1),
        _SOURCE), file="carbon_conversion.csv"),
    TableSchema("sink_rates", T("碳汇速率表", "sink rates table"), (
        Column("class", "class", T("标准地类", "canonical land-cover class")),
        Column("rate_tco2_ha_yr", "number", T("年碳汇速率", "annual sink rate"), "t CO2/ha/yr"),
        Column("flagged", "flag", T("不确定、须注明（yes/no）", "uncertain, shown with a note (yes/no)"),
               required=False),
        Column("rate_low", "number", T("速率下限", "low end of the rate"), "t CO2/ha/yr", required=False),
        Column("rate_high", "number", T("速率上限", "high end of the rate"), "t CO2/ha/yr", required=False),
        _SOURCE), file="sink_rates.csv"),
    TableSchema("checklist_criteria", T("准入清单条目表", "checklist criteria table"), (
        Column("id", "text", T("条目编号", "criterion id")),
        Column("label_zh", "text", T("中文名称", "Chinese label")),
        Column("label_en", "text", T("英文名称", "English label")),
        Column("unit", "text", T("单位", "unit"), required=False),
        Column("kind", "text", T("类型", "kind")),
        Column("comparator", "text", T("比较方式（>=、<=、yes …）", "comparator (>=, <=, yes …)"), required=False),
        Column("threshold", "number", T("阈值", "threshold"), "the criterion's unit", required=False),
        Column("clause_ref", "text", T("条款", "clause"), required=False),
        Column("veto", "flag", T("一票否决", "veto"), required=False),
        _SOURCE), file="checklist_criteria.csv"),
    TableSchema("zones", T("分区归属表", "zone assignment table"), (
        Column("adcode", "text", T("县级行政区划代码", "county administrative code")),
        Column("county", "text", T("县名", "county name"), required=False),
        Column("zone_id", "text", T("分区编号（见 zone_names.csv）", "zone id (see zone_names.csv)")),
        Column("reason", "text", T("归属理由", "reason for the assignment"), required=False),
        Column("previous_zone_id", "text", T("上次评审前的分区", "zone before the last review"), required=False)),
        file="zones.csv"),
    TableSchema("unccd_classes", T("UNCCD 七类归并表", "UNCCD 7-class reclass table"), (
        Column("class", "class", T("标准地类", "canonical land-cover class")),
        Column("unccd_class", "text", T("UNCCD 类别（tree_covered、grassland、cropland、wetland、artificial、"
                                        "other_land、water_body）", "UNCCD class (tree_covered, grassland, cropland, "
                                        "wetland, artificial, other_land, water_body)")),
        _SOURCE), file="unccd_classes.csv"),
    TableSchema("ldn_matrix", T("土地退化转移矩阵", "land degradation transition matrix"), (
        Column("from", "text", T("初始 UNCCD 类别（行）", "initial UNCCD class (row)")),
        *(Column(c, "integer", T(f"变为 {c}：1 改善、0 稳定、-1 退化", f"to {c}: 1 improved, 0 stable, -1 degraded"),
                 "-1/0/1", low=-1, high=1)
          for c in ("tree_covered", "grassland", "cropland", "wetland", "artificial", "other_land", "water_body")),
        _SOURCE), file="ldn_matrix_unccd.csv"),
    TableSchema("key_areas", T("重点区域表", "key areas table"), (
        Column("name_zh", "text", T("县级单元中文名", "county-level unit, Chinese name")),
        Column("name_en", "text", T("英文名", "English name"), required=False),
        _SOURCE), file="key_areas.csv"),
)}


def _bad(schema: TableSchema, col: str, rows, zh: str, en: str) -> InputError:
    rows = [int(i) + 2 for i in rows][:20]
    return InputError(f"{schema.label.zh}第 {rows} 行的 {col} 列{zh}", f"{schema.label.en} row(s) {rows}, column {col}: {en}")


def read(src, schema_id: str) -> pd.DataFrame:
    """The table (a CSV path or a DataFrame) checked against its schema: header names trimmed and
    lower-cased, required columns present, numbers numeric and within bounds, classes canonical
    (lower-cased), flags yes/no. Number columns come back as float64 (integer columns as int64)."""
    schema = SCHEMAS[schema_id]
    if isinstance(src, pd.DataFrame):
        df = src.reset_index(drop=src.index.name is None).copy()
    else:
        try:
            df = pd.read_csv(src, encoding="utf-8-sig", keep_default_na=False, na_values=[""], dtype=str)
        except (OSError, ValueError) as exc:
            raise InputError(f"无法读取{schema.label.zh} {src}：{exc}",
                             f"cannot read the {schema.label.en} {src}: {exc}") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    if missing := [c for c in schema.required if c not in df.columns]:
        need = ", ".join(f"{c.name} ({c.unit})" if c.unit else c.name for c in schema.columns if c.required)
        raise InputError(f"{schema.label.zh}缺少列 {missing}；必需的列：{need}",
                         f"{schema.label.en}: missing column(s) {missing}; required: {need}")
    for c in schema.columns:
        if c.name not in df.columns:
            continue
        v = df[c.name]
        text = v.astype(str).str.strip()
        blank = v.isna() | (text.isin(NA_TOKENS) if c.kind in ("number", "integer") else text.eq(""))
        if c.required and c.kind in ("text", "class") and blank.any():
            raise _bad(schema, c.name, df.index[blank], "不能为空", "must not be empty")
        if c.kind in ("number", "integer"):
            num = pd.to_numeric(v.where(~blank), errors="coerce")
            if (bad := (num.isna() & ~blank) | (blank & c.required)).any():
                raise _bad(schema, c.name, df.index[bad], "须为数值", "must be a number")
            if c.kind == "integer" and (num.dropna() % 1 != 0).any():
                raise _bad(schema, c.name, num.dropna().index[num.dropna() % 1 != 0], "须为整数", "must be an integer")
            out = (num < c.low if c.low is not None else False) | (num > c.high if c.high is not None else False)
            if np.any(out):
                span = f"{'' if c.low is None else c.low}–{'' if c.high is None else c.high}"
                raise _bad(schema, c.name, df.index[out], f"须在 {span} 之间", f"must lie in {span}")
            df[c.name] = num.astype("int64") if c.kind == "integer" and not num.isna().any() else num.astype("float64")
        elif c.kind == "class":
            cls = v.astype(str).str.strip().str.lower()
            if (bad := ~cls.isin([*CLASS_IDS, *c.extra])).any():
                raise InputError(f"{schema.label.zh}含未知类别 {sorted(set(cls[bad]))}；可用类别：{[*CLASS_IDS, *c.extra]}",
                                 f"{schema.label.en}: unknown class(es) {sorted(set(cls[bad]))}; use "
                                 f"{[*CLASS_IDS, *c.extra]}")
            df[c.name] = cls
        elif c.kind == "flag":
            f = v.fillna("").astype(str).str.strip().str.lower()
            if (bad := ~f.isin(["", "yes", "no", "true", "false", "1", "0", "y", "n"])).any():
                raise _bad(schema, c.name, df.index[bad], "须为 yes 或 no", "must be yes or no")
    return df


def markdown() -> str:
    """The tables of docs/tables.md."""
    out = []
    for s in SCHEMAS.values():
        where = f" — default `tables/{s.file}`" if s.file else ""
        out += [f"## {s.label.en} / {s.label.zh} (`{s.id}`){where}", "",
                "| column | kind | unit | required | bounds | meaning |", "|---|---|---|---|---|---|"]
        for c in s.columns:
            bounds = "" if c.low is None and c.high is None else f"{'' if c.low is None else c.low}–" \
                                                                   f"{'' if c.high is None else c.high}"
            out.append(f"| `{c.name}` | {c.kind} | {c.unit} | {'yes' if c.required else ''} | {bounds} | "
                       f"{c.about.en} / {c.about.zh} |")
        out.append("")
    return "\n".join(out)

"""The one declared table of per-park indicators.

CLI columns, UI tables, Excel headers and reports all come from ``INDICATORS``. Adding an
indicator = one entry here + the function that fills it (see ``engine.py``).
``direction``: +1 higher is better, -1 lower is better, 0 not ranked.
"""
from __future__ import annotations

from dataclasses import dataclass

from indicators.legends import CLASSES, CLASS_IDS

TRANSPORT_KINDS: tuple[str, ...] = ("expressway", "major_road", "railway", "station", "airport")
_KIND_LABELS = {
    "expressway": ("expressway", "高速公路"),
    "major_road": ("major road (trunk/primary)", "干线公路"),
    "railway": ("railway", "铁路"),
    "station": ("railway station", "火车站"),
    "airport": ("airport", "机场"),
}
POOLS: tuple[str, ...] = ("above", "below", "soil", "dead")
_POOL_LABELS = {
    "above": ("aboveground biomass", "地上生物量"),
    "below": ("belowground biomass", "地下生物量"),
    "soil": ("soil organic carbon", "土壤有机碳"),
    "dead": ("dead organic matter", "枯落物/死有机质"),
}


@dataclass(frozen=True)
class Indicator:
    id: str
    unit: str
    label_zh: str
    label_en: str
    description_en: str
    description_zh: str
    direction: int  # +1 higher is better, -1 lower is better, 0 not ranked
    kind: str  # group: id, landcover, carbon, green, transport, conflict, quality

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def description(self, lang: str = "zh") -> str:
        return self.description_zh if lang == "zh" else self.description_en


I = Indicator
_BASE: list[Indicator] = [
    I("park_id", "", "园区编号", "Park ID", "Identifier of the park.", "园区标识。", 0, "id"),
    I("name", "", "园区名称", "Name", "Name of the park.", "园区名称。", 0, "id"),
    I("area_km2", "km²", "面积", "Area",
      "Park area, equal-area (Albers China) after any geometry repair.",
      "园区面积（中国 Albers 等积投影，几何修复后）。", 0, "id"),
    I("landcover_coverage_pct", "%", "土地覆盖数据覆盖率", "Land-cover coverage",
      "Share of the park area that has land-cover data (inside the raster, not nodata).",
      "园区面积中有土地覆盖数据的比例（位于栅格内且非无数据值）。", 0, "quality"),
    I("landcover_pixels", "px", "覆盖像元数", "Pixels covered",
      "Coverage-weighted number of land-cover pixels the park spans.",
      "园区覆盖的土地覆盖像元数（按覆盖比例加权）。", 0, "quality"),
]
_LANDCOVER = [
    I(f"lc_{c.id}_km2", "km²", f"{c.label_zh}面积", f"{c.label_en} area",
      f"Area of {c.label_en.lower()} in the park, from exact pixel-coverage fractions.",
      f"园区内{c.label_zh}面积（按像元精确覆盖比例计算）。", 0, "landcover")
    for c in CLASSES
]
_CARBON = [
    I("carbon_stock_tc", "t C", "碳储量", "Carbon stock",
      "Stock in the four InVEST pools: sum over pixels of covered area (ha) x carbon density.",
      "四个碳库（InVEST）的碳储量：各像元覆盖面积（公顷）× 碳密度之和。", +1, "carbon"),
    I("carbon_stock_tco2e", "t CO2e", "碳储量（CO2当量）", "Carbon stock (CO2e)",
      "Carbon stock x 44/12.", "碳储量 × 44/12。", +1, "carbon"),
    *[I(f"carbon_{p}_tc", "t C", f"{_POOL_LABELS[p][1]}碳储量", f"Carbon stock, {_POOL_LABELS[p][0]}",
        f"Carbon in the {_POOL_LABELS[p][0]} pool (c_{p}).", f"{_POOL_LABELS[p][1]}碳库（c_{p}）碳储量。",
        +1, "carbon") for p in POOLS],
    I("carbon_stock_alt_tc", "t C", "情景碳储量", "Carbon stock, alternative",
      "Carbon stock on the alternative land-cover raster.", "替代（情景）土地覆盖下的碳储量。", +1, "carbon"),
    I("carbon_change_tc", "t C", "碳储量变化", "Carbon change",
      "Alternative minus baseline stock (InVEST sequestration).", "情景碳储量减基准碳储量（InVEST 固碳量）。",
      +1, "carbon"),
    I("carbon_change_tco2e", "t CO2e", "碳储量变化（CO2当量）", "Carbon change (CO2e)",
      "Carbon change x 44/12.", "碳储量变化 × 44/12。", +1, "carbon"),
    I("carbon_sink_tco2_yr", "t CO2/yr", "年碳汇", "Annual carbon sink",
      "Sum over classes of area (ha) x sink rate (t CO2/ha/yr).", "各类面积（公顷）× 碳汇速率之和。",
      +1, "carbon"),
]
_GREEN = [
    I("green_coverage_pct", "%", "绿化覆盖率", "Green coverage",
      "Vegetated share (forest, shrub, grassland, wetland by default) of the park area with data.",
      "有数据园区面积中植被（默认森林、灌木、草地、湿地）所占比例。", +1, "green"),
    I("green_pass", "", "绿化覆盖率达标", "Green coverage passes",
      "Green coverage at or above the threshold (15% by default, Anhui zero-carbon park criterion).",
      "绿化覆盖率不低于阈值（默认 15%，零碳园区准入标准）。", +1, "green"),
    I("green_over_cap", "", "超过绿地率上限提示", "Above 20% advisory",
      "Green share above 20%: industrial-land green-space ratio (绿地率) cap; advisory only.",
      "植被占比超过 20%：工业用地绿地率上限，仅为提示。", 0, "green"),
]
_TRANSPORT = [
    I(f"dist_{k}_km", "km", f"距{_KIND_LABELS[k][1]}距离", f"Distance to {_KIND_LABELS[k][0]}",
      f"Geodesic distance from the park boundary to the nearest {_KIND_LABELS[k][0]} (0 if touching).",
      f"园区边界到最近{_KIND_LABELS[k][1]}的大地线距离（相接或相交为 0）。", -1, "transport")
    for k in TRANSPORT_KINDS
]
_CONFLICT = [
    I("redline_overlap_km2", "km²", "与红线重叠面积", "Red-line overlap",
      "Park area inside red-line / protected polygons (dissolved, no double counting).",
      "园区与生态保护红线/保护地重叠面积（先融合，不重复计算）。", -1, "conflict"),
    I("redline_overlap_pct", "%", "与红线重叠比例", "Red-line overlap share",
      "Red-line overlap as a share of the park area.", "重叠面积占园区面积的比例。", -1, "conflict"),
    I("zone", "", "所属屏障分区", "Zone", "Zone holding the largest share of the park.",
      "园区面积占比最大的分区。", 0, "conflict"),
    I("zone_share_pct", "%", "所属分区占比", "Share in zone", "Share of the park in that zone.",
      "园区位于该分区的面积比例。", 0, "conflict"),
    I("zones", "", "涉及分区", "Zones touched", "Every zone the park touches, largest share first.",
      "园区涉及的所有分区（按占比从大到小）。", 0, "conflict"),
]
_QUALITY = [
    I("reliability", "", "可靠性", "Reliability",
      "'low' when the park spans fewer than ~100 land-cover pixels or little of it has data.",
      "园区覆盖的土地覆盖像元少于约 100 个或数据覆盖不足时为“低”。", 0, "quality"),
    I("reason", "", "原因", "Reason", "Why values are empty (e.g. park outside the raster).",
      "数值为空的原因（如园区位于栅格范围外）。", 0, "quality"),
    I("reason_zh", "", "原因（中文）", "Reason (Chinese)", "The reason, in Chinese.",
      "数值为空的原因（中文）。", 0, "quality"),
    I("warnings", "", "提示", "Warnings", "Assumptions and repairs that affect this row.",
      "影响本行结果的假设与几何修复说明。", 0, "quality"),
    I("warnings_zh", "", "提示（中文）", "Warnings (Chinese)",
      "The warnings, in Chinese: same notes in the same order, joined with \"；\".",
      "影响本行结果的假设与几何修复说明（中文，与英文提示逐条对应，以“；”分隔）。", 0, "quality"),
]

INDICATORS: tuple[Indicator, ...] = tuple(_BASE + _LANDCOVER + _CARBON + _GREEN + _TRANSPORT
                                          + _CONFLICT + _QUALITY)
BY_ID: dict[str, Indicator] = {ind.id: ind for ind in INDICATORS}


def get(id_: str) -> Indicator:
    return BY_ID[id_]


def label(id_: str, lang: str = "zh", with_unit: bool = False) -> str:
    """Display label of an indicator column (falls back to the id for unknown columns)."""
    ind = BY_ID.get(id_)
    if ind is None:
        return id_
    text = ind.label(lang)
    return f"{text} ({ind.unit})" if with_unit and ind.unit else text


def columns_for(classes=CLASS_IDS, kinds=(), has_alt: bool = False, pools: bool = True,
                conflicts: bool = True) -> list[str]:
    """Ordered output columns for a run: classes and transport kinds present, alternative or not."""
    cols = []
    for ind in INDICATORS:
        if ind.kind == "landcover" and ind.id[3:-4] not in classes:
            continue
        if ind.kind == "transport" and ind.id[5:-3] not in kinds:
            continue
        if ind.id in {"carbon_stock_alt_tc", "carbon_change_tc", "carbon_change_tco2e"} and not has_alt:
            continue
        if not pools and ind.id.startswith("carbon_") and ind.id[7:-3] in POOLS:
            continue
        if not conflicts and ind.kind == "conflict":
            continue
        cols.append(ind.id)
    return cols


def table_frame(lang: str | None = None):
    """The declared table as a DataFrame (for the Excel 'indicators' sheet and the docs)."""
    import pandas as pd

    df = pd.DataFrame([ind.__dict__ for ind in INDICATORS])
    return df if lang is None else df.assign(label=df[f"label_{lang}"], description=df[f"description_{lang}"])

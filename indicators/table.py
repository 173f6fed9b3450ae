"""The one declared table of per-park indicators.

CLI columns, UI tables, Excel headers and reports all come from ``INDICATORS``. Adding an
indicator = one entry here + the function that fills it (see ``engine.py``).

Every entry says explicitly what it is (no parsing of ids): ``group`` (id, landcover, carbon,
green, transport, conflict, quality), ``lc_class`` / ``pool`` / ``transport_kind`` for the
per-class, per-pool and per-kind columns, ``scenario`` for the columns that need an alternative
raster, ``fmt`` (display format, e.g. ``"{:,.0f}"``) and ``summary`` (shown in the short tables
of the Parks page and the scenario report). Labels and descriptions are ``Text(zh, en)``.
``direction``: +1 higher is better, -1 lower is better, 0 not ranked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from core.errors import InputError
from core.text import Text
from layers import inputs
from layers.legends import CLASSES, CLASS_IDS
from storage.workspace import TRANSPORT_KINDS  # the one list of transport kinds (its home: layers)

KIND_LABELS: dict[str, Text] = {
    "expressway": Text("高速公路", "expressway"),
    "major_road": Text("干线公路", "major road (trunk/primary)"),
    "railway": Text("铁路", "railway"),
    "station": Text("火车站", "railway station"),
    "airport": Text("机场", "airport"),
}
POOLS: tuple[str, ...] = ("above", "below", "soil", "dead")
POOL_LABELS: dict[str, Text] = {
    "above": Text("地上生物量", "aboveground biomass"),
    "below": Text("地下生物量", "belowground biomass"),
    "soil": Text("土壤有机碳", "soil organic carbon"),
    "dead": Text("枯落物/死有机质", "dead organic matter"),
}
GROUPS: tuple[str, ...] = ("id", "landcover", "carbon", "green", "transport", "conflict", "quality", "criteria")


@dataclass(frozen=True)
class Indicator:
    id: str
    unit: str
    text: Text  # label, Chinese first
    about: Text  # definition, Chinese first
    direction: int  # +1 higher is better, -1 lower is better, 0 not ranked
    group: str  # one of GROUPS
    fmt: str = ""  # display format of a value ("{:,.0f}"); "" = shown as is
    summary: bool = False  # one of the columns of the short tables (Parks page, scenario report)
    lc_class: str | None = None  # land-cover class of a per-class area
    pool: str | None = None  # carbon pool of a per-pool stock
    transport_kind: str | None = None  # transport kind of a distance
    scenario: bool = False  # needs the alternative (scenario) land-cover raster
    input: str | None = None  # filled only when this declared input (layers/inputs.py) is given
    text_value: bool = False  # a text column (a verdict, a note), not a number

    def label(self, lang: str = "zh") -> str:
        return self.text.pick(lang)

    def description(self, lang: str = "zh") -> str:
        return self.about.pick(lang)

    def format(self, value) -> str:
        """``value`` with the display format (``str(value)`` when there is none or it does not apply)."""
        if self.fmt:
            try:
                return self.fmt.format(value)
            except (TypeError, ValueError):
                pass
        return str(value)

    # the flat names older callers read
    @property
    def label_zh(self) -> str:
        return self.text.zh

    @property
    def label_en(self) -> str:
        return self.text.en

    @property
    def description_zh(self) -> str:
        return self.about.zh

    @property
    def description_en(self) -> str:
        return self.about.en

    @property
    def kind(self) -> str:
        return self.group


def I(id_: str, unit: str, zh: str, en: str, about_zh: str, about_en: str, direction: int, group: str,
      **kw) -> Indicator:
    return Indicator(id_, unit, Text(zh, en), Text(about_zh, about_en), direction, group, **kw)


_BASE: list[Indicator] = [
    I("park_id", "", "园区编号", "Park ID", "园区标识。", "Identifier of the park.", 0, "id", summary=True),
    I("name", "", "园区名称", "Name", "园区名称。", "Name of the park.", 0, "id", summary=True),
    I("area_km2", "km²", "面积", "Area", "园区面积（中国 Albers 等积投影，几何修复后）。",
      "Park area, equal-area (Albers China) after any geometry repair.", 0, "id", fmt="{:,.2f}", summary=True),
    I("landcover_coverage_pct", "%", "土地覆盖数据覆盖率", "Land-cover coverage",
      "园区面积中有土地覆盖数据的比例（位于栅格内且非无数据值）。",
      "Share of the park area that has land-cover data (inside the raster, not nodata).", 0, "quality",
      fmt="{:.1f}"),
    I("landcover_pixels", "px", "覆盖像元数", "Pixels covered", "园区覆盖的土地覆盖像元数（按覆盖比例加权）。",
      "Coverage-weighted number of land-cover pixels the park spans.", 0, "quality", fmt="{:,.1f}"),
]
_LANDCOVER = [
    I(f"lc_{c.id}_km2", "km²", f"{c.label_zh}面积", f"{c.label_en} area",
      f"园区内{c.label_zh}面积（按像元精确覆盖比例计算）。",
      f"Area of {c.label_en.lower()} in the park, from exact pixel-coverage fractions.", 0, "landcover",
      fmt="{:,.2f}", lc_class=c.id)
    for c in CLASSES
]
_RANGE_ABOUT = ("低/高值：按碳库表每行的密度范围（引用研究的范围；仅有均值时为注明的 ±比例）计算；不参与排序。",
                "Low/high: from each pools-table row's density range (the cited study's range, or a documented "
                "± share where only a mean is published); not ranked.")
_CARBON = [
    I("carbon_stock_low_tc", "t C", "碳储量（低值）", "Carbon stock, low", _RANGE_ABOUT[0], _RANGE_ABOUT[1], 0,
      "carbon", fmt="{:,.0f}", summary=True),
    I("carbon_stock_tc", "t C", "碳储量", "Carbon stock", "四个碳库（InVEST）的碳储量：各像元覆盖面积（公顷）× 碳密度之和。",
      "Stock in the four InVEST pools: sum over pixels of covered area (ha) x carbon density.", +1, "carbon",
      fmt="{:,.0f}", summary=True),
    I("carbon_stock_tco2e", "t CO2e", "碳储量（CO2当量）", "Carbon stock (CO2e)", "碳储量 × 44/12。",
      "Carbon stock x 44/12.", +1, "carbon", fmt="{:,.0f}", summary=True),
    I("carbon_stock_high_tc", "t C", "碳储量（高值）", "Carbon stock, high", _RANGE_ABOUT[0], _RANGE_ABOUT[1], 0,
      "carbon", fmt="{:,.0f}", summary=True),
    I("carbon_stock_tc_per_ha", "t C/ha", "单位面积碳储量", "Carbon stock per hectare",
      "碳储量除以园区内有土地覆盖数据的面积（公顷）；按所在分区与生物群落的碳密度。",
      "Carbon stock divided by the park area with land-cover data (ha); densities by zone and biome.", +1,
      "carbon", fmt="{:,.1f}", summary=True),
    I("carbon_at_stake_low_tc", "t C", "受威胁碳量（低值）", "Carbon at stake, low",
      "土壤流失比例取低值（IPCC 2006 第1层：建设用地土壤碳不变）时的受威胁碳量；不参与排序。",
      "Carbon at stake with the low soil-loss share (IPCC 2006 Tier 1: settlement soil carbon unchanged); "
      "not ranked.", 0, "carbon", fmt="{:,.0f}"),
    I("carbon_at_stake_tc", "t C", "受威胁碳量", "Carbon at stake",
      "若在此建设园区将释放的碳：全部生物量和死有机质，加上表层 0–30 cm 土壤有机碳中按比例流失的部分"
      "（比例及来源见 tables/carbon_conversion.csv）。选址时越低越好。",
      "Carbon a park built here would release: all biomass and dead organic matter plus the lost share of the "
      "top 0–30 cm soil organic carbon (share and source in tables/carbon_conversion.csv). Lower is better "
      "for siting.", -1, "carbon", fmt="{:,.0f}", summary=True),
    I("carbon_at_stake_high_tc", "t C", "受威胁碳量（高值）", "Carbon at stake, high",
      "表层 0–30 cm 土壤有机碳全部流失（表土剥离）时的受威胁碳量；不参与排序。",
      "Carbon at stake if the whole top 0–30 cm of soil carbon is lost (topsoil stripped); not ranked.", 0,
      "carbon", fmt="{:,.0f}"),
    I("carbon_at_stake_tc_per_ha", "t C/ha", "单位面积受威胁碳量", "Carbon at stake per hectare",
      "受威胁碳量除以园区内有土地覆盖数据的面积（公顷）：与园区大小无关，用于选址比较。",
      "Carbon at stake divided by the park area with land-cover data (ha): independent of park size, for "
      "comparing sites.", -1, "carbon", fmt="{:,.1f}", summary=True),
    *[I(f"carbon_{p}_tc", "t C", f"{POOL_LABELS[p].zh}碳储量", f"Carbon stock, {POOL_LABELS[p].en}",
        f"{POOL_LABELS[p].zh}碳库（c_{p}）碳储量。", f"Carbon in the {POOL_LABELS[p].en} pool (c_{p}).",
        +1, "carbon", fmt="{:,.0f}", pool=p) for p in POOLS],
    I("carbon_stock_alt_tc", "t C", "情景碳储量", "Carbon stock, alternative", "替代（情景）土地覆盖下的碳储量。",
      "Carbon stock on the alternative land-cover raster.", +1, "carbon", fmt="{:,.0f}", scenario=True),
    I("carbon_change_tc", "t C", "碳储量变化", "Carbon change", "情景碳储量减基准碳储量（InVEST 固碳量）。",
      "Alternative minus baseline stock (InVEST sequestration).", +1, "carbon", fmt="{:,.0f}", scenario=True),
    I("carbon_change_tco2e", "t CO2e", "碳储量变化（CO2当量）", "Carbon change (CO2e)", "碳储量变化 × 44/12。",
      "Carbon change x 44/12.", +1, "carbon", fmt="{:,.0f}", scenario=True),
    I("carbon_sink_low_tco2_yr", "t CO2/yr", "年碳汇（低值）", "Annual carbon sink, low",
      "按碳汇速率表每行的 rate_low 计算；不参与排序。", "From each sink-rate row's rate_low; not ranked.", 0, "carbon",
      fmt="{:,.0f}", summary=True),
    I("carbon_sink_tco2_yr", "t CO2/yr", "年碳汇", "Annual carbon sink", "各类面积（公顷）× 碳汇速率之和。",
      "Sum over classes of area (ha) x sink rate (t CO2/ha/yr).", +1, "carbon", fmt="{:,.0f}", summary=True),
    I("carbon_sink_tco2_ha_yr", "t CO2/ha/yr", "单位面积年碳汇（受威胁）", "Annual sink per hectare (at stake)",
      "年碳汇除以园区内有土地覆盖数据的面积（公顷）：未开发土地的碳汇强度，建园后随之失去；与园区大小无关，"
      "选址时越低越好。", "Annual sink divided by the park area with land-cover data (ha): the sink of the "
      "undeveloped land, lost when the park is built; independent of park size, lower is better for siting.", -1,
      "carbon", fmt="{:,.2f}"),
    I("carbon_sink_high_tco2_yr", "t CO2/yr", "年碳汇（高值）", "Annual carbon sink, high",
      "按碳汇速率表每行的 rate_high 计算；不参与排序。", "From each sink-rate row's rate_high; not ranked.", 0, "carbon",
      fmt="{:,.0f}", summary=True),
]
_GREEN = [
    I("vegetated_share_pct", "%", "植被覆盖占比（地图估算）", "Vegetated share of the park (map)",
      "土地覆盖图上，园区有数据面积中植被（默认森林、灌木、草地、湿地）所占比例。不是准入标准的园区绿化覆盖率"
      "（建成或规划园区的乔木、灌木、草坪和屋顶绿化）：后者在准入清单页或命令行 answers 文件中按园区填报"
      "（规划值或实测值，注明来源和日期）。仅当园区覆盖至少 100 个 30 m 或更细的像元时作为参考显示；不参与选址排序。",
      "Share of the park area with land-cover data that is vegetation on the map (forest, shrub, grassland, "
      "wetland by default). Not the admission criterion's greening coverage of the park (trees, shrubs, lawns, "
      "roof greening of a built or planned park), which is entered per park on the Checklist page or in the CLI "
      "answers file (planned or measured, with its source and date). Shown as a hint only when the park covers "
      "at least 100 pixels of 30 m or finer; not a siting criterion.", 0, "green", fmt="{:.1f}", summary=True),
    I("vegetated_share_hint", "", "可作绿化参考", "Usable as a greening hint",
      "植被覆盖占比可作为绿化覆盖率的参考：园区覆盖至少 100 个像元且像元不粗于 30 m。即便如此也只是参考，准入核对只用填报值。",
      "The vegetated share may be shown as a hint for the greening coverage: the park covers at least 100 "
      "pixels of 30 m or finer. Even then it is a hint: the admission check uses the entered value only.", 0,
      "green", summary=True),
    I("landcover_pixel_m", "m", "土地覆盖像元尺寸", "Land-cover pixel size",
      "园区内土地覆盖像元的平均边长：√(园区在栅格内的面积 / 覆盖像元数)，取自所用的数据集（默认 MODIS 约 5 km）。",
      "Mean side of the land-cover pixels under the park: √(park area inside the raster / pixels covered), "
      "from the dataset in use (the default MODIS: about 5 km).", 0, "quality", fmt="{:,.0f}"),
]
_TRANSPORT = [
    I(f"dist_{k}_km", "km", f"距{KIND_LABELS[k].zh}距离", f"Distance to {KIND_LABELS[k].en}",
      f"园区边界到最近{KIND_LABELS[k].zh}的大地线距离（相接或相交为 0）。",
      f"Geodesic distance from the park boundary to the nearest {KIND_LABELS[k].en} (0 if touching).", -1,
      "transport", fmt="{:,.1f}", summary=True, transport_kind=k)
    for k in TRANSPORT_KINDS
]
_CONFLICT = [
    I("redline_overlap_km2", "km²", "与红线重叠面积", "Red-line overlap", "园区与生态保护红线/保护地重叠面积（先融合，不重复计算）。",
      "Park area inside red-line / protected polygons (dissolved, no double counting).", -1, "conflict",
      fmt="{:,.2f}", summary=True),
    I("redline_overlap_pct", "%", "与红线重叠比例", "Red-line overlap share", "重叠面积占园区面积的比例。",
      "Red-line overlap as a share of the park area.", -1, "conflict", fmt="{:.1f}", summary=True),
    I("zone", "", "所属屏障分区", "Zone", "园区面积占比最大的分区。", "Zone holding the largest share of the park.",
      0, "conflict", summary=True),
    I("zone_share_pct", "%", "所属分区占比", "Share in zone", "园区位于该分区的面积比例。",
      "Share of the park in that zone.", 0, "conflict", fmt="{:.1f}"),
    I("zones", "", "涉及分区", "Zones touched", "园区涉及的所有分区（按占比从大到小）。",
      "Every zone the park touches, largest share first.", 0, "conflict"),
]
_QUALITY = [
    I("reliability", "", "可靠性", "Reliability", "园区覆盖的土地覆盖像元少于约 100 个或数据覆盖不足时为“低”。",
      "'low' when the park spans fewer than ~100 land-cover pixels or little of it has data.", 0, "quality",
      summary=True),
    I("reason", "", "原因", "Reason", "数值为空的原因（如园区位于栅格范围外）。",
      "Why values are empty (e.g. park outside the raster).", 0, "quality"),
    I("reason_zh", "", "原因（中文）", "Reason (Chinese)", "数值为空的原因（中文）。", "The reason, in Chinese.", 0,
      "quality"),
    I("warnings", "", "提示", "Warnings", "影响本行结果的假设与几何修复说明。",
      "Assumptions and repairs that affect this row.", 0, "quality"),
    I("warnings_zh", "", "提示（中文）", "Warnings (Chinese)",
      "影响本行结果的假设与几何修复说明（中文，与英文提示逐条对应，以“；”分隔）。",
      "The warnings, in Chinese: same notes in the same order, joined with \"；\".", 0, "quality"),
]

# Columns of the siting-criterion inputs (layers/inputs.py: dem, grid, exclusion), present only in a
# run that gives them; a criterion raster's columns are declared when its flag is read (``declare``).
GRID_KINDS: dict[str, Text] = {"substation": Text("变电站", "substation"), "power_line": Text("输电线", "transmission line")}
EXCLUSION_KINDS: dict[str, Text] = {
    "redline": Text("生态保护红线", "ecological protection red line"), "basic_farmland": Text("永久基本农田", "permanent basic farmland"),
    "urban_boundary": Text("城镇开发边界", "urban development boundary"), "reserve": Text("自然保护地", "protected area"),
    "wetland_park": Text("湿地公园", "wetland park"), "other": Text("其他", "other exclusion")}
_CRITERIA = [
    I("elev_mean_m", "m", "平均高程", "Mean elevation", "园区内 DEM 高程的面积加权均值。",
      "Area-weighted mean of the DEM's elevation in the park.", 0, "criteria", fmt="{:,.0f}", input="dem"),
    I("slope_mean_deg", "°", "平均坡度", "Mean slope", "Horn 法坡度的面积加权均值；坡度越大，场地平整成本越高。",
      "Area-weighted mean of the slope (Horn's method); steeper means costlier site works.", -1, "criteria",
      fmt="{:.1f}", input="dem"),
    I("slope_p90_deg", "°", "坡度（p90）", "Slope, 90th percentile", "园区面积的 90% 坡度不超过此值。",
      "90% of the park's area is no steeper than this.", -1, "criteria", fmt="{:.1f}", input="dem"),
    *[I(f"dist_{k}_km", "km", f"距{v.zh}距离", f"Distance to {v.en}", f"园区到最近{v.zh}的大地线距离：接入电网越近越好。",
        f"Geodesic distance from the park to the nearest {v.en}: nearer grid access is better.", -1, "criteria",
        fmt="{:,.1f}", input="grid") for k, v in GRID_KINDS.items()],
    *[ind for k, v in EXCLUSION_KINDS.items() for ind in (
        I(f"excl_{k}_overlap_km2", "km²", f"与{v.zh}重叠面积", f"Overlap with {v.en}",
          f"园区位于{v.zh}内的面积（等积投影，图层先融合）。", f"Park area inside the {v.en} (equal-area, layer dissolved).",
          -1, "criteria", fmt="{:,.3f}", input="exclusion"),
        I(f"excl_{k}_overlap_pct", "%", f"与{v.zh}重叠比例", f"Overlap with {v.en}, share", "重叠面积占园区面积的比例。",
          "The overlap as a share of the park.", -1, "criteria", fmt="{:.1f}", input="exclusion"),
        I(f"excl_{k}_dist_km", "km", f"距{v.zh}距离", f"Distance to {v.en}", "大地线距离，相接或重叠为 0。",
          "Geodesic distance, 0 when touching or overlapping.", -1 if k == "urban_boundary" else +1, "criteria",
          fmt="{:,.2f}", input="exclusion"),
        I(f"excl_{k}_buffer_km2", "km²", f"位于{v.zh}缓冲区内面积", f"Inside the {v.en} buffer",
          "园区位于缓冲带（图层外、缓冲距离内）的面积。", "Park area in the buffer ring (outside the layer, within the buffer).",
          0, "criteria", fmt="{:,.3f}", input="exclusion"),
        I(f"excl_{k}_verdict", "", f"{v.zh}审查结论", f"{v.en}: verdict", "冲突 / 缓冲区内 / 无冲突。",
          "conflict / within_buffer / clear.", 0, "criteria", input="exclusion", text_value=True))],
]

INDICATORS: tuple[Indicator, ...] = tuple(_BASE + _LANDCOVER + _CARBON + _GREEN + _TRANSPORT
                                          + _CONFLICT + _QUALITY + _CRITERIA)
BY_ID: dict[str, Indicator] = {ind.id: ind for ind in INDICATORS}
POOL_IDS: dict[str, str] = {ind.pool: ind.id for ind in INDICATORS if ind.pool}  # pool -> column


DECLARED: dict[str, Indicator] = {}  # columns declared when an input's value is read (crit_<name>_<stat>)


def declare(ind: Indicator) -> Indicator:
    """Declare a column whose id, unit and direction come from an input's value (a criterion raster's
    FILE:NAME:STAT:DIRECTION:UNIT); the same id must keep the same meaning."""
    old = DECLARED.get(ind.id)
    if old is not None and (old.unit, old.direction) != (ind.unit, ind.direction):
        raise InputError(f"列 {ind.id} 已以不同的单位或方向声明", f"column {ind.id} is already declared with another "
                         "unit or direction")
    DECLARED[ind.id] = ind
    return ind


def measured() -> dict[str, Indicator]:
    """column id → Indicator of the declared inputs with a measure (``layers.inputs``): the column,
    unit, label, definition and direction come from the input's declaration; then the columns
    declared from inputs' values (``declare``)."""
    fixed = {i.column: Indicator(i.column, i.units, i.column_label or i.label, i.help, i.direction, "criteria",
                                 fmt="{:,.2f}", summary=True)
             for i in inputs.measured() if i.column}
    return {**fixed, **DECLARED}


def get(id_: str) -> Indicator:
    return BY_ID[id_] if id_ in BY_ID else measured()[id_]


def label(id_: str, lang: str = "zh", with_unit: bool = False) -> str:
    """Display label of an indicator column (falls back to the id for unknown columns)."""
    ind = BY_ID.get(id_) or measured().get(id_)
    if ind is None:
        return id_
    text = ind.label(lang)
    return f"{text} ({ind.unit})" if with_unit and ind.unit else text


def columns_for(classes=CLASS_IDS, kinds=(), has_alt: bool = False, pools: bool = True,
                conflicts: bool = True, measured_inputs: Iterable[str] = ()) -> list[str]:
    """Ordered output columns for a run: classes and transport kinds present, alternative or not,
    then the columns the run's declared inputs fill (``measured_inputs``: column ids, in order)."""
    cols = []
    for ind in INDICATORS:
        if ind.lc_class is not None and ind.lc_class not in classes:
            continue
        if ind.transport_kind is not None and ind.transport_kind not in kinds:
            continue
        if ind.scenario and not has_alt:
            continue
        if ind.pool is not None and not pools:
            continue
        if ind.group == "conflict" and not conflicts:
            continue
        if ind.input is not None:  # a criterion input's column: listed by the run that has it
            continue
        cols.append(ind.id)
    return cols + [c for c in measured_inputs if c not in cols]


def summary_columns(present: Iterable[str] | None = None, exclude: Iterable[str] = ()) -> list[str]:
    """The ``summary=True`` columns in table order; only those in ``present`` when given."""
    have = None if present is None else {str(c) for c in present}
    drop = set(exclude)
    return [ind.id for ind in (*INDICATORS, *measured().values())
            if ind.summary and ind.id not in drop and (have is None or ind.id in have)]


def formats(columns: Iterable[str] | None = None) -> dict[str, str]:
    """id → display format of the indicator columns that have one (for ``Styler.format``)."""
    known = {**BY_ID, **measured()}
    cols = known if columns is None else [c for c in columns if c in known]
    return {c: known[c].fmt for c in cols if known[c].fmt}


def table_frame(lang: str | None = None):
    """The declared table as a DataFrame (for the Excel 'columns' sheet and the docs)."""
    import pandas as pd

    rows = [{"id": i.id, "unit": i.unit, "label_zh": i.text.zh, "label_en": i.text.en,
             "description_zh": i.about.zh, "description_en": i.about.en, "direction": i.direction,
             "group": i.group, "kind": i.group, "fmt": i.fmt, "summary": i.summary, "lc_class": i.lc_class,
             "pool": i.pool, "transport_kind": i.transport_kind, "scenario": i.scenario} for i in INDICATORS]
    df = pd.DataFrame(rows)
    if lang is None:
        return df
    return df.assign(label=[i.label(lang) for i in INDICATORS],
                     description=[i.description(lang) for i in INDICATORS])

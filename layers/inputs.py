"""Run inputs, declared once: every file or table a computation reads, with its kind, workspace role,
command-line flag, default, units, how it enters the fingerprint and provenance, and its bilingual
label and help (InVEST's ``MODEL_SPEC`` is the model: typed inputs from which the CLI, the form and
the docs are generated).

Generated from this table: the workspace roles and their labels (``storage.workspace.ROLES``,
``ROLE_LABELS``), the slots of the data in use and the Data page's selectors
(``ui.workspace_ui.in_use_selectors``), the input flags of every command (``cli.inputs_cli``),
``RunInputs.extra`` and the provenance record of a run (``indicators.runs``), and the inputs table
of ``docs/inputs.md`` (``markdown_table``; a test keeps the file equal to it).

Adding a vector distance input or a raster criterion is one ``Input(...)`` here (or ``register``
from a plug-in or a test) with ``measure`` naming a function of ``indicators.measures`` — the
built-in ``distance_km`` and ``raster_mean`` or one registered with ``register_measure`` — plus tests;
see docs/extending.md.

May import: ``core`` only.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.text import Text

KINDS = ("raster", "polygons", "lines", "points", "lines_points", "osm", "table")
VECTOR_KINDS = ("polygons", "lines", "points", "lines_points")


@dataclass(frozen=True)
class Input:
    id: str  # slot id: the key of the data in use, the RunInputs part, the provenance role
    kind: str  # one of KINDS
    label: Text
    help: Text
    role: str | None = None  # workspace role of the datasets that fill it (None: files/tables only)
    flag: str | None = None  # command-line flag (None: no flag)
    commands: tuple[str, ...] = ("parks",)  # the commands that take the flag
    multiple: bool = False  # several files (the flag repeats / takes several values)
    metavar: str | None = None
    required: str = "no"  # "no" | "without_workspace" (required unless --workspace)
    selector: str | None = None  # Data page selector of the data in use: "one" | "many" | None
    default: str | None = None  # catalog layer (or table) used when nothing is chosen
    replaces: str | None = None  # catalog layer a dataset in use replaces (red line, zones)
    units: str | None = None  # units of the values a raster holds (criteria) or of the measure
    fingerprint: str = "sha256"  # how the content enters the fingerprint: sha256 (file) | geometry (layer)
    measure: str | None = None  # indicators.measures function: its columns per park (extension inputs)
    params: str | None = None  # a value is FILE:… with parameters, read by this indicators.measures parser
    column: str | None = None  # the column a one-column measure fills, its unit in the name ("dist_river_km")
    column_label: Text | None = None  # the column's label (default: the input's label)
    direction: int = 0  # ranking: +1 higher is better, -1 lower is better, 0 not ranked

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"input {self.id}: kind {self.kind!r} not in {KINDS}")
        if self.selector not in (None, "one", "many"):
            raise ValueError(f"input {self.id}: selector {self.selector!r}")
        if self.measure and self.kind not in ("raster", *VECTOR_KINDS):
            raise ValueError(f"input {self.id}: a measure needs a raster or vector input")
        if self.measure and not self.params and bool(self.column) != bool(self.units):
            raise ValueError(f"input {self.id}: a measure needs its column id and units")
        if self.measure and self.multiple and not self.params:
            raise ValueError(f"input {self.id}: a measured input takes one file unless its values carry parameters")

    @property
    def dest(self) -> str:
        """The argparse destination of the flag."""
        return (self.flag or f"--{self.id}").lstrip("-").replace("-", "_")

    @property
    def is_vector(self) -> bool:
        return self.kind in VECTOR_KINDS


T = Text
BUILTIN: tuple[Input, ...] = (
    Input("landcover", "raster", T("土地覆被", "land cover"),
          T("土地覆被栅格（整数编码）", "land-cover raster (integer codes)"),
          role="landcover", flag="--landcover", required="without_workspace", selector="one", default="landcover",
          commands=("parks", "siting", "zonestats")),
    Input("landcover_alt", "raster", T("第二期土地覆被（可选，用于变化）", "second land-cover year (optional, for change)"),
          T("另一期（情景）土地覆被：碳储量及其变化", "alternative (scenario) raster: stock and change"),
          role="landcover", flag="--landcover-alt", selector="one", commands=("parks", "siting")),
    Input("landcover_series", "raster", T("土地覆被年度序列", "land-cover series"),
          T("每年一个土地覆被文件，图例与格网相同：变化轨迹、趋势、土地退化",
            "one land-cover file per year, same legend and grid: trajectories, trends, land degradation"),
          role="landcover", flag="--landcover-series", multiple=True, metavar="FILE", selector="many",
          commands=("degradation",)),
    Input("transport", "lines_points", T("交通", "transport"),
          T("交通图层及类型（expressway、major_road、railway、station、airport）",
            "transport layer and kind (expressway, major_road, railway, station, airport)"),
          role="transport", flag="--transport", multiple=True, metavar="FILE:KIND", selector="many",
          default="airports", units="km", commands=("parks", "siting")),
    Input("osm", "osm", T("OSM 交通", "OSM transport"),
          T("OSM 数据（.osm.pbf 或 .osm），按标签规则读取", "OSM extract (.osm.pbf or .osm) read with tag rules"),
          role="osm", flag="--osm", commands=("parks", "siting")),
    Input("redline", "polygons", T("生态保护红线", "red line"),
          T("生态保护红线 / 保护地面（多个文件合并）", "red-line / protected-area polygons (several files are merged)"),
          role="redline", flag="--redline", multiple=True, metavar="FILE", selector="one",
          default="protection_proxy", replaces="protection_proxy", fingerprint="geometry",
          commands=("parks", "siting")),
    Input("zones", "polygons", T("“四屏一廊”分区", "zones"),
          T("分区面（默认：内置示意性“四屏一廊”分区，亦决定各分区的碳密度）",
            "zone polygons (default: the built-in schematic 四屏一廊 zones, which also choose the carbon "
            "densities of each zone)"),
          role="zones", flag="--zones", selector="one", default="zones", replaces="zones", fingerprint="geometry",
          commands=("parks", "siting")),
    Input("parks", "polygons", T("园区", "parks"),
          T("园区边界：.shp（含附属文件）、.gdb 文件夹、.zip、.gpkg、.kml/.kmz、.geojson/.topojson、.csv/.txt、.xlsx",
            "park polygons: .shp (with sidecars), .gdb folder, .zip, .gpkg, .kml/.kmz, .geojson/.topojson, "
            ".csv/.txt, .xlsx"),
          role="parks", flag="--parks", required="without_workspace", fingerprint="geometry",
          commands=("parks", "siting")),
    # zone statistics (gansu zonestats): the units and the later land-cover years
    Input("units", "polygons", T("统计单元", "units"),
          T("统计单元面（县、分区……）：.gpkg、.shp、.zip、.geojson、.kml……",
            "unit polygons (county, zone …): .gpkg, .shp, .zip, .geojson, .kml …"),
          flag="--units", required="without_workspace", fingerprint="geometry", commands=("zonestats", "degradation")),
    Input("years", "raster", T("后续年份土地覆被", "later land-cover years"),
          T("同一格网上的后续年份土地覆被：逐年各类面积与相邻年份间的转移（写在 --out 旁：<名>_years / <名>_transitions）",
            "later land-cover years on the same grid: class areas per year and transitions between consecutive "
            "years (written next to --out as <name>_years / <name>_transitions)"),
          flag="--years", multiple=True, metavar="RASTER", commands=("zonestats",)),
    # siting criteria: several criterion rasters, exclusion layers and grid layers at once, each dataset
    # with the parameters its flag value carries (kept in its workspace record)
    Input("criterion", "raster", T("准则栅格", "criterion raster"),
          T("连续值栅格作为选址准则（如太阳总辐射 kWh/m²/yr、风速 m/s、水资源压力指数）：FILE:名称:统计量:方向[:单位]，"
            "统计量 mean|min|max|p10|p90（按精确覆盖比例 × 像元地面面积加权），方向 higher|lower",
            "a continuous raster as a siting criterion (e.g. solar GHI kWh/m²/yr, wind speed m/s, water stress): "
            "FILE:NAME:STAT:DIRECTION[:UNIT], STAT mean|min|max|p10|p90 (weighted by exact coverage × ground cell "
            "area), DIRECTION higher|lower; adds crit_<NAME>_<STAT>"),
          role="criterion", flag="--criterion", multiple=True, metavar="FILE:NAME:STAT:DIRECTION[:UNIT]",
          selector="many", measure="raster_criterion", params="criterion", commands=("parks", "siting")),
    Input("dem", "raster", T("数字高程模型", "DEM"),
          T("数字高程模型（米）：高程均值、坡度均值与 p90（Horn 法，地理坐标栅格按椭球面上的像元边长）",
            "digital elevation model (metres): mean elevation, mean and p90 slope (Horn's method; geographic DEMs "
            "with cell sizes on the ellipsoid); adds elev_mean_m, slope_mean_deg, slope_p90_deg"),
          role="dem", flag="--dem", selector="one", measure="terrain", commands=("parks", "siting")),
    Input("exclusion", "polygons", T("排除图层", "exclusion layer"),
          T("排除图层及其类型与缓冲距离：FILE:类型[:缓冲米]，类型 redline|basic_farmland|urban_boundary|reserve|"
            "wetland_park|other",
            "an exclusion layer, its kind and an optional buffer: FILE:KIND[:BUFFER_M], KIND redline|basic_farmland|"
            "urban_boundary|reserve|wetland_park|other; adds excl_<KIND>_overlap_km2/_pct, _dist_km, _verdict"),
          role="exclusion", flag="--exclusion", multiple=True, metavar="FILE:KIND[:BUFFER_M]", selector="many",
          measure="exclusion", params="exclusion", commands=("parks", "siting")),
    Input("grid", "lines_points", T("电网设施", "grid"),
          T("电网设施（变电站点、输电线）：FILE:类型，类型 substation|power_line",
            "grid access: substations (points) and transmission lines: FILE:KIND, KIND substation|power_line; adds "
            "dist_<KIND>_km"),
          role="grid", flag="--grid", multiple=True, metavar="FILE:KIND", selector="many", measure="grid_distance",
          params="grid", commands=("parks", "siting")),
    Input("carbon_pools", "table", T("碳库表", "carbon pools"),
          T("InVEST 碳库表 CSV：lucode,c_above,c_below,c_soil,c_dead（t C/ha）",
            "InVEST pools CSV lucode,c_above,c_below,c_soil,c_dead (t C/ha)"),
          flag="--carbon-pools", units="t C/ha", default="carbon_density.csv", commands=("parks", "siting")),
    Input("sink_rates", "table", T("碳汇速率表", "sink rates"),
          T("碳汇速率表 CSV：class,rate_tco2_ha_yr", "CSV class,rate_tco2_ha_yr"),
          flag="--sink-rates", units="t CO2/ha/yr", default="sink_rates.csv", commands=("parks", "siting")),
)

_REGISTRY: dict[str, Input] = {i.id: i for i in BUILTIN}
# keys of the run fingerprint (indicators.runs) besides the inputs' own ids: a new input may not take one
RESERVED = frozenset({"legend", "legend_file", "alt", "zone_field", "pools", "rates", "green_classes", "pixel_area",
                      "algo"})


def register(spec: Input) -> Input:
    """Add an input (a plug-in, a test). Its id, flag and role must be new or belong to one input."""
    if spec.id in _REGISTRY or spec.id in RESERVED:
        raise ValueError(f"input {spec.id!r} is already declared or names a part of the run fingerprint")
    if spec.replaces:
        raise ValueError(f"input {spec.id!r}: only the built-in red line and zones replace a catalog layer")
    if spec.flag and any(i.flag == spec.flag for i in _REGISTRY.values()):
        raise ValueError(f"flag {spec.flag} is already declared")
    _REGISTRY[spec.id] = spec
    return spec


def unregister(input_id: str) -> None:
    """Remove an input added by ``register`` (the built-in ones stay)."""
    if input_id in {i.id for i in BUILTIN}:
        raise ValueError(f"input {input_id!r} is built in")
    _REGISTRY.pop(input_id, None)


def all_inputs() -> tuple[Input, ...]:
    return tuple(_REGISTRY.values())


def get(input_id: str) -> Input:
    return _REGISTRY[input_id]


def for_command(command: str) -> tuple[Input, ...]:
    return tuple(i for i in _REGISTRY.values() if i.flag and command in i.commands)


def slots() -> tuple[Input, ...]:
    """The inputs chosen in the data in use (the Data page's selectors), in declaration order."""
    return tuple(i for i in _REGISTRY.values() if i.selector)


def roles() -> tuple[str, ...]:
    """The workspace roles a dataset can have, in declaration order (osm datasets become transport)."""
    return tuple(dict.fromkeys(i.role for i in _REGISTRY.values() if i.role and i.kind != "osm"))


def role_labels() -> dict[str, Text]:
    """Role → label: the label of the first input declaring the role."""
    out: dict[str, Text] = {}
    for i in _REGISTRY.values():
        if i.role and i.role not in out:
            out[i.role] = i.label
    return out


class RoleLabels(Mapping):
    """``role_labels()`` as a live mapping: a role registered later has its label too."""

    def __getitem__(self, role: str) -> Text:
        return role_labels()[role]

    def __iter__(self):
        return iter(role_labels())

    def __len__(self) -> int:
        return len(role_labels())


def measured() -> tuple[Input, ...]:
    """The inputs that add columns through a declared measure (extension inputs)."""
    return tuple(i for i in _REGISTRY.values() if i.measure)


def markdown_table() -> str:
    """The inputs table of docs/inputs.md."""
    head = ("| id | kind | workspace role | flag (commands) | Data page | default | units | fingerprint | "
            "label (zh / en) |\n|---|---|---|---|---|---|---|---|---|\n")
    rows = []
    for i in BUILTIN:
        flag = f"`{i.flag}`{' …' if i.multiple else ''} ({', '.join(i.commands)})" if i.flag else ""
        rows.append(f"| `{i.id}` | {i.kind} | {i.role or ''} | {flag} | {i.selector or ''} | {i.default or ''} | "
                    f"{i.units or ''} | {i.fingerprint} | {i.label.zh} / {i.label.en} |")
    return head + "\n".join(rows) + "\n"

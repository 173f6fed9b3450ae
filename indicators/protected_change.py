"""Land-cover change inside red lines and protected areas between two years: the transition matrix
and net change per class of each layer, and the parcels of change as polygons.

``protected_change(layers, base, alt, legend, base_year=…, alt_year=…)``: ``layers`` is a list of
(layer id, display name "中文|English" or a ``Text``, polygons). Each layer's polygons are dissolved
into one unit (overlapping polygons count once) and go through ``change.transitions`` (the exact
tiled engine: coverage fractions, real pixel areas, one pass for every layer); with ``name_field``,
each distinct value of that field in a layer is a unit as well (``polygon_summary``).

Parcels of change (``parcels_of`` for one layer): connected pixels (4-connectivity, edge-sharing)
with the same (from class, to class), from ≠ to, both years with data, vectorised block by block
(windows of at most ``MAX_BLOCK`` px over the layer's bounding box, never the whole raster), the
pieces of one parcel cut at block edges merged (in pixel coordinates, exact), then clipped to the
layer (boundary pixels cut exactly); a parcel is kept when its area is at least ``min_parcel_m2``.
Parcel and layer areas (``AREA_METHODS``, like the zonal engine's ground pixel areas): planar on
an equal-area grid (CLCD's Albers); geodesic on the raster's ellipsoid for a geographic grid, and
for another projected grid (UTM, Gauss-Krüger: vertices to the CRS's own lon/lat first), where a
planar area would be off by the projection's areal scale.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rasterio.features
import shapely
import shapely.affinity
import shapely.geometry
from affine import Affine

from core.errors import InputError
from core.text import Text
from indicators import change
from layers.legends import CLASS_IDS, Legend, get_legend
from zonal.rastersource import LandcoverRaster

MAX_BLOCK = 2048  # largest read window (pixels per side)
MAX_PARCELS = 50_000  # more parcels than this: the largest are kept (a note says so)
AREA_METHODS = {
    "geodesic": Text("图斑面积：按栅格椭球面测地计算（地理坐标格网）", "parcel areas: geodesic on the raster's ellipsoid (geographic grid)"),
    "planar": Text("图斑面积：等积投影平面面积", "parcel areas: planar on the raster's equal-area grid"),
    "geodesic_lonlat": Text("图斑面积：顶点转换为经纬度后按椭球面测地计算（非等积投影格网）",
                            "parcel areas: geodesic on the ellipsoid, vertices taken to lon/lat (grid in a projection "
                            "that is not equal-area)"),
}
_K = len(CLASS_IDS)
_BOTH = list(CLASS_IDS)  # classes with data in both years (matrix rows/columns without nodata)
PARCEL_COLUMNS = ["layer", "from_class", "to_class", "area_ha"]


@dataclass
class ProtectedChange:
    # one row per layer: layer, name_zh, name_en, area_km2, valid_km2 (data in both years), nodata_km2
    # (no data in a year, or outside the raster), changed_km2, changed_pct (of valid_km2), <class>_net_km2
    # for every class (over valid_km2: they add up to 0), parcel_count (found, before the cap; None
    # without parcels)
    summary: pd.DataFrame
    matrices: dict[str, pd.DataFrame]  # layer id -> from-class × to-class km² (change.MATRIX_CLASSES)
    parcels: gpd.GeoDataFrame  # EPSG:4326: layer, from_class, to_class, area_ha, geometry
    base_year: int
    alt_year: int
    legend: str
    names: dict[str, Text]  # layer id -> display name
    min_parcel_m2: float
    area_method: str  # a key of AREA_METHODS
    notes: list[Text] = field(default_factory=list)
    polygon_summary: pd.DataFrame | None = None  # with name_field: one row per (layer, polygon)
    polygon_matrices: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)
    legend_name: str = ""


def layer_name(name) -> Text:
    """A display name: a ``Text``, or "中文|English", or one string for both languages."""
    if isinstance(name, Text):
        return name
    if isinstance(name, tuple) and len(name) == 2:
        return Text(str(name[0]), str(name[1]))
    s = str(name)
    zh, sep, en = s.partition("|")
    return Text(zh.strip(), en.strip()) if sep else Text(s, s)


def _dissolve(geoms) -> shapely.Geometry:
    vals = [g for g in np.asarray(geoms, dtype=object) if g is not None and not shapely.is_empty(g)]
    vals = [g if shapely.is_valid(g) else shapely.make_valid(g) for g in vals]
    u = shapely.union_all(vals) if vals else shapely.Polygon()
    polys = [p for p in shapely.get_parts(u) if p.geom_type in ("Polygon", "MultiPolygon")]
    if len(polys) == 1:
        return polys[0]
    return shapely.union_all(polys) if polys else shapely.Polygon()


def _stats(m: pd.DataFrame, area_m2: float) -> dict:
    """The summary numbers of one unit from its matrix (km²) and its area (m²)."""
    both = m.loc[_BOTH, _BOTH]
    valid = float(both.to_numpy().sum())
    changed = valid - float(np.trace(both.to_numpy()))
    row = {"area_km2": area_m2 / 1e6, "valid_km2": valid, "nodata_km2": max(area_m2 / 1e6 - valid, 0.0),
           "changed_km2": changed, "changed_pct": 100.0 * changed / valid if valid > 0 else float("nan")}
    for c in CLASS_IDS:  # over the cells with data in both years: Σ net = 0
        row[f"{c}_net_km2"] = float(both[c].sum() - both.loc[c].sum())
    return row


def protected_change(layers, base_raster, alt_raster, legend: str | Legend, *, base_year: int, alt_year: int,
                     min_parcel_m2: float = 10_000, parcels: bool = True, name_field: str | None = None,
                     block: int = MAX_BLOCK, max_parcels: int = MAX_PARCELS) -> ProtectedChange:
    """Transition matrix, net change per class and parcels of change inside each layer (see module doc)."""
    legend = get_legend(legend)
    block = int(min(max(block, 1), MAX_BLOCK))
    ids = [str(lid) for lid, _, _ in layers]
    if len(set(ids)) != len(ids):
        raise InputError(f"图层编号重复：{ids}", f"layer ids repeat: {ids}")
    with LandcoverRaster(base_raster, legend) as src:
        crs, kind = src.crs, src.area.kind
    notes: list[Text] = []
    names: dict[str, Text] = {}
    units, unit_keys, layer_geoms = [], [], {}
    for lid, name, gdf in layers:
        lid = str(lid)
        names[lid] = layer_name(name)
        geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
        if geoms.crs is None:
            raise InputError(f"图层“{names[lid].zh}”没有坐标参考系", f"layer “{names[lid].en}” has no CRS")
        local = geoms.to_crs(crs) if not pyproj.CRS(geoms.crs).equals(crs) else geoms
        g = _dissolve(local.values)
        if g.is_empty:
            notes.append(Text(f"图层“{names[lid].zh}”没有面要素，未统计", f"layer “{names[lid].en}” has no polygons: left out"))
            continue
        layer_geoms[lid] = g
        units.append(g)
        unit_keys.append((lid, None))
        if name_field is not None and isinstance(gdf, gpd.GeoDataFrame) and name_field in gdf.columns:
            for pname, sub in local.groupby(gdf[name_field].astype(str).to_numpy(), sort=False):
                pg = _dissolve(sub.values)
                if not pg.is_empty:
                    units.append(pg)
                    unit_keys.append((lid, str(pname)))
    if not units:
        raise InputError("没有可统计的红线或保护地图层", "no red-line or protected-area layer with polygons to report on")
    tags = [f"u{i}" for i in range(len(units))]
    res = change.transitions(gpd.GeoSeries(units, crs=crs), base_raster, alt_raster, legend, names=tags,
                             include_total=False)
    areas = area_m2(np.asarray(units, dtype=object), crs, kind)
    rows, prow, matrices, pmat = [], [], {}, {}
    for tag, (lid, pname), a in zip(tags, unit_keys, areas):
        m = res.matrices[tag]
        head = {"layer": lid, "name_zh": names[lid].zh, "name_en": names[lid].en}
        if pname is None:
            matrices[lid] = m
            rows.append({**head, **_stats(m, a)})
            if rows[-1]["valid_km2"] <= 0:
                notes.append(Text(f"图层“{names[lid].zh}”范围内没有两期均有数据的像元",
                                  f"layer “{names[lid].en}”: no pixel with data in both years"))
        else:
            pmat[(lid, pname)] = m
            prow.append({**head, "polygon": pname, **_stats(m, a)})
    parcel_parts, found = [], {}
    if parcels:
        for lid, g in layer_geoms.items():
            p = parcels_of(g, base_raster, alt_raster, legend, min_parcel_m2=min_parcel_m2, block=block,
                           max_parcels=max_parcels)
            found[lid] = p.attrs["found"]
            p.insert(0, "layer", lid)
            parcel_parts.append(p)
    out = gpd.GeoDataFrame(pd.concat(parcel_parts, ignore_index=True), geometry="geometry", crs=crs) if parcel_parts \
        else gpd.GeoDataFrame({c: [] for c in PARCEL_COLUMNS}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    n = sum(found.values())
    if n > max_parcels:
        out = out.sort_values("area_ha", ascending=False, kind="stable").head(max_parcels)
        notes.append(Text(f"变化图斑共 {n:,} 个，超过上限 {max_parcels:,}：可下载图层只含面积最大的 {max_parcels:,} 个",
                          f"{n:,} parcels of change, more than the cap of {max_parcels:,}: the downloadable layer "
                          f"holds the largest {max_parcels:,}"))
    for r in rows:  # every parcel found, the capped ones included
        r["parcel_count"] = int(found.get(r["layer"], 0)) if parcels else None
    order = {lid: i for i, lid in enumerate(ids)}  # the layers in the order given, largest parcels first
    out = out.assign(_o=out["layer"].map(order)).sort_values(["_o", "area_ha"], ascending=[True, False], kind="stable")
    out = out.drop(columns="_o").reset_index(drop=True).to_crs(4326)
    return ProtectedChange(pd.DataFrame(rows), matrices, out, int(base_year), int(alt_year), legend.id, names,
                           float(min_parcel_m2), kind_method(kind), notes,
                           pd.DataFrame(prow) if name_field is not None else None, pmat, legend.name)


def kind_method(kind: str) -> str:
    """The parcel-area method (``AREA_METHODS`` key) of a ``PixelArea.kind``."""
    return {"geographic": "geodesic", "equal_area": "planar"}.get(kind, "geodesic_lonlat")


def area_m2(geoms: np.ndarray, crs: pyproj.CRS, kind: str) -> np.ndarray:
    """Ground area (m²) of geometries in the raster's CRS, by ``kind_method(kind)``."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return np.zeros(0)
    method = kind_method(kind)
    if method == "planar":
        return shapely.area(geoms)
    if method == "geodesic_lonlat":
        to_geo = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(to_geo.transform(xy[:, 0], xy[:, 1])))
    geod = crs.get_geod() or pyproj.Geod(ellps="WGS84")
    return np.array([abs(geod.geometry_area_perimeter(shapely.force_2d(g))[0]) for g in geoms])


def _lut(src: LandcoverRaster, legend: Legend) -> dict[int, int]:
    """Raster code -> class index (0.._K-1), nodata codes left out."""
    nod = src.nodata_codes()
    pos = {c: i for i, c in enumerate(CLASS_IDS)}
    return {int(code): pos[cls] for code, cls in legend.codes.items() if int(code) not in nod}


def _classes(codes: np.ndarray, lut: dict[int, int]) -> np.ndarray:
    """Class index of each code (-1: no data or not in the legend)."""
    if codes.dtype.kind == "u" and codes.dtype.itemsize <= 2:  # a lookup table (8/16-bit land cover)
        table = np.full(1 << (8 * codes.dtype.itemsize), -1, np.int16)
        for code, i in lut.items():
            if 0 <= code < len(table):
                table[code] = i
        return table[codes]
    u, inv = np.unique(codes, return_inverse=True)
    m = np.array([lut.get(int(c), -1) for c in u], dtype=np.int16)
    return m[inv].reshape(codes.shape)


def _touched(geom_px, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """Pixels of the window the polygon (pixel coordinates) may touch: GDAL's all-touched raster
    grown by one pixel (never misses a cut pixel; the extra ones are clipped away exactly)."""
    clip = shapely.clip_by_rect(geom_px, c0 - 2, r0 - 2, c1 + 2, r1 + 2)
    h, w = r1 - r0 + 2, c1 - c0 + 2
    if clip.is_empty:
        return np.zeros((h - 2, w - 2), bool)
    m = rasterio.features.rasterize([clip], out_shape=(h, w), transform=Affine.translation(c0 - 1, r0 - 1),
                                    all_touched=True, fill=0, default_value=1, dtype="uint8").astype(bool)
    g = m.copy()
    g[1:] |= m[:-1]
    g[:-1] |= m[1:]
    g[:, 1:] |= m[:, :-1]
    g[:, :-1] |= m[:, 1:]
    return g[1:-1, 1:-1]


def _sieve(m: np.ndarray, min_px: float) -> np.ndarray:
    """Drop connected groups of changed pixels fewer than ``min_px`` that do not touch the block's
    edge (a group touching it may continue in the next block): a frame of 1s around the block joins
    those to one large group. Only an optimisation: every group that could make a parcel stays."""
    size = int(np.ceil(min_px))
    h, w = m.shape
    if size <= 1 or 2 * (h + w) + 4 < size:
        return m
    s = np.ones((h + 2, w + 2), np.uint8)
    s[1:-1, 1:-1] = m
    return rasterio.features.sieve(s, size, connectivity=4)[1:-1, 1:-1].astype(bool) & m


def _polygons(shapes) -> tuple[np.ndarray, np.ndarray]:
    """(codes, polygons) of ``rasterio.features.shapes`` output, built in one vectorised call."""
    codes, rings, owner = [], [], []
    for k, (gj, v) in enumerate(shapes):
        codes.append(int(v))
        rings += gj["coordinates"]
        owner += [k] * len(gj["coordinates"])
    if not codes:
        return np.zeros(0, int), np.zeros(0, dtype=object)
    lengths = np.fromiter((len(r) for r in rings), int, len(rings))
    xy = np.fromiter(chain.from_iterable(chain.from_iterable(rings)), float, 2 * int(lengths.sum())).reshape(-1, 2)
    lr = shapely.linearrings(xy, indices=np.repeat(np.arange(len(rings)), lengths))
    return np.array(codes), shapely.polygons(lr, indices=np.array(owner))


class _Kept:
    """The parcels found so far (world coordinates, clipped, ≥ the minimum area); with a cap, only
    the largest ``cap`` are held (``found`` counts them all)."""

    def __init__(self, geom_px, crs, kind, t: Affine, min_m2: float, cap: int | None):
        self.geom_px, self.crs, self.kind, self.t, self.min_m2, self.cap = geom_px, crs, kind, t, min_m2, cap
        shapely.prepare(geom_px)
        self.codes, self.geoms, self.areas, self.found = [], [], [], 0

    def add(self, codes: np.ndarray, px: np.ndarray, rect: tuple | None = None) -> None:
        """Finished parcels in pixel coordinates: clipped to the layer (the layer's piece in ``rect``,
        the parcels' block, or else in each parcel's bounds: a long red line is never intersected
        whole), to world coordinates, kept when large enough."""
        if not len(px):
            return
        px = px.copy()
        out = ~shapely.contains(self.geom_px, px)
        if out.any():
            if rect is not None:
                local = shapely.intersection(self.geom_px, shapely.box(*rect))
            else:
                local = shapely.intersection(self.geom_px, shapely.box(*shapely.bounds(px[out]).T))
            px[out] = shapely.intersection(px[out], local)
        t = self.t
        world = shapely.transform(px, lambda xy: np.column_stack([t.a * xy[:, 0] + t.b * xy[:, 1] + t.c,
                                                                  t.d * xy[:, 0] + t.e * xy[:, 1] + t.f]))
        parts, idx = shapely.get_parts(world, return_index=True)
        poly = shapely.get_type_id(parts) == 3  # polygons only (a clip may leave lines or points)
        parts, idx = parts[poly], idx[poly]
        area = area_m2(parts, self.crs, self.kind)
        keep = (area >= self.min_m2) & (area > 0)
        self.found += int(keep.sum())
        self.codes.append(codes[idx[keep]])
        self.geoms.append(parts[keep])
        self.areas.append(area[keep])
        if self.cap is not None and sum(len(a) for a in self.areas) > 2 * self.cap:
            self._prune()

    def _prune(self) -> None:
        c, g, a = (np.concatenate(x) for x in (self.codes, self.geoms, self.areas))
        top = np.argsort(-a, kind="stable")[: self.cap]
        self.codes, self.geoms, self.areas = [c[top]], [g[top]], [a[top]]

    def frame(self) -> gpd.GeoDataFrame:
        if self.cap is not None and self.areas:
            self._prune()
        c = np.concatenate(self.codes) if self.codes else np.zeros(0, int)
        g = np.concatenate(self.geoms) if self.geoms else np.zeros(0, dtype=object)
        a = np.concatenate(self.areas) if self.areas else np.zeros(0)
        out = gpd.GeoDataFrame({"from_class": [CLASS_IDS[x // _K] for x in c],
                                "to_class": [CLASS_IDS[x % _K] for x in c], "area_ha": a / 1e4}, geometry=gpd.GeoSeries(g, crs=self.crs), crs=self.crs)
        out = out.sort_values("area_ha", ascending=False, kind="stable").reset_index(drop=True)
        out.attrs["found"] = self.found
        return out


def parcels_of(geom, base_raster, alt_raster, legend: str | Legend, *, min_parcel_m2: float = 10_000,
               block: int = MAX_BLOCK, max_parcels: int | None = None) -> gpd.GeoDataFrame:
    """Parcels of change inside one polygon ``geom`` (in the rasters' CRS): from_class, to_class,
    area_ha and geometry (rasters' CRS), largest first; ``attrs["found"]``: how many there are (with
    ``max_parcels``, only the largest that many are returned). The rasters are read in windows of
    at most ``block`` px per side over the polygon's bounding box."""
    legend = get_legend(legend)
    block = int(min(max(block, 1), MAX_BLOCK))
    with LandcoverRaster(base_raster, legend) as a, LandcoverRaster(alt_raster, legend) as b:
        diffs = change.grid_difference(a, b)
        if diffs:
            raise change.GridMismatch("两个栅格不在同一格网上：" + "；".join(diffs),
                                      "the two rasters are not on the same grid: " + "; ".join(diffs))
        t = a.transform
        inv = ~t
        geom_px = shapely.affinity.affine_transform(geom, [inv.a, inv.b, inv.d, inv.e, inv.xoff, inv.yoff])
        kept = _Kept(geom_px, a.crs, a.area.kind, t, float(min_parcel_m2), max_parcels)
        x0, y0, x1, y1 = geom_px.bounds if not geom_px.is_empty else (0, 0, 0, 0)
        wr0, wr1 = max(int(np.floor(y0)), 0), min(int(np.ceil(y1)), a.height)
        wc0, wc1 = max(int(np.floor(x0)), 0), min(int(np.ceil(x1)), a.width)
        lut_a, lut_b = _lut(a, legend), _lut(b, legend)
        edge_codes, edge_px = [], []
        for r0 in range(wr0, wr1, block):
            r1 = min(r0 + block, wr1)
            for c0 in range(wc0, wc1, block):
                c1 = min(c0 + block, wc1)
                inside = _touched(geom_px, r0, r1, c0, c1)
                if not inside.any():
                    continue
                fa = _classes(a.read(r0, r1, c0, c1), lut_a)
                fb = _classes(b.read(r0, r1, c0, c1), lut_b)
                m = inside & (fa >= 0) & (fb >= 0) & (fa != fb)
                if min_parcel_m2 > 0 and m.any():
                    w = np.max(a.area.weights(r0, r1, c0, c1))
                    m = _sieve(m, min_parcel_m2 / (float(w) * (1 + 1e-6)))
                if not m.any():
                    continue
                code = (fa.astype(np.int32) * _K + fb).astype(np.int32)
                codes, px = _polygons(rasterio.features.shapes(code, mask=m, connectivity=4,
                                                               transform=Affine.translation(c0, r0)))
                bx0, by0, bx1, by1 = shapely.bounds(px).T
                cut = ((bx0 <= c0) & (c0 > wc0)) | ((bx1 >= c1) & (c1 < wc1)) | \
                      ((by0 <= r0) & (r0 > wr0)) | ((by1 >= r1) & (r1 < wr1))
                kept.add(codes[~cut], px[~cut], (c0 - 1, r0 - 1, c1 + 1, r1 + 1))  # whole parcels
                edge_codes.append(codes[cut])  # pieces that may continue in the next block
                edge_px.append(px[cut])
    if edge_codes:  # one parcel cut at block edges: the union of its pieces (of one transition)
        codes, px = np.concatenate(edge_codes), np.concatenate(edge_px)
        for v in np.unique(codes):
            # pieces sharing an edge become one polygon; pieces meeting at a corner stay apart (the
            # interior of a valid polygon is connected): 4-connectivity, as within a block
            merged = shapely.get_parts(shapely.union_all(px[codes == v]))
            kept.add(np.full(len(merged), v), shapely.simplify(merged, 0.0))  # drop collinear vertices
    return kept.frame()

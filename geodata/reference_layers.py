"""Reference layers of the build beside the boundaries: Gansu's airports (airportsdata package) and,
when ``../shared/geodata`` exists, the Natural Earth rivers, glaciers, geographic regions and
populated places (``NE_FILES``; each missing file is skipped with a notice)."""
from __future__ import annotations

import geopandas as gpd
import shapely

from core import crs, paths
from geodata.sources import BuildError, log, read_path

NE_FILES = {
    "ne_rivers": "ne10m_rivers_gansu_bbox.geojson",
    "ne_glaciers": "ne10m_glaciated_gansu.geojson",
    "ne_regions": "ne10m_geography_regions_gansu.geojson",
    "ne_cities": "ne10m_populated_places_gansu.geojson",
}


def airports_layer(province: shapely.Geometry) -> gpd.GeoDataFrame:
    import airportsdata

    ap = airportsdata.load("ICAO")
    recs = [{"icao": v["icao"], "iata": v["iata"] or None, "name": v["name"], "city": v["city"],
             "elevation_ft": v["elevation"], "geometry": shapely.Point(v["lon"], v["lat"])}
            for v in ap.values() if v["country"] == "CN"]
    gdf = gpd.GeoDataFrame(recs, crs=crs.WGS84)
    gdf = gdf[gdf.within(province)].sort_values("icao").reset_index(drop=True)
    if gdf.empty:
        raise BuildError("airportsdata has no airport inside Gansu: the package looks corrupt")
    return gdf


def natural_earth(province: shapely.Geometry) -> dict[str, gpd.GeoDataFrame]:
    if not paths.SHARED_GEODATA.is_dir():
        log(f"notice: {paths.SHARED_GEODATA} not found: Natural Earth layers skipped")
        return {}
    out = {}
    for layer, fname in NE_FILES.items():
        p = paths.SHARED_GEODATA / fname
        if not p.is_file():
            log(f"notice: {p} missing: layer {layer} skipped")
            continue
        gdf = read_path(p, polygons_only=False, assume_crs=crs.WGS84).to_crs(crs.WGS84)
        keep = [c for c in ("name", "name_zh", "featurecla", "scalerank", "pop_max") if c in gdf]
        gdf = gdf[keep + ["geometry"]]
        gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
        if layer in ("ne_glaciers", "ne_cities"):
            gdf = gdf[gdf.intersects(province)].reset_index(drop=True)
        out[layer] = gdf
    return out

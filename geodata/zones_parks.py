"""The layers the build draws from the editable tables in ``tables/``: the schematic zones (counties
dissolved by ``zones.csv``, named by ``zone_names.csv``; every county in exactly one zone) and the
illustrative demo parks (``parks_demo.csv``: a square of the nominal area around a point that must
lie in its county)."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from core import crs, paths
from geodata.sources import BuildError
from layers import tableschema


def zones_layer(counties: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    table = tableschema.read(paths.TABLES / "zones.csv", "zones")  # columns checked in one place
    names = pd.read_csv(paths.TABLES / "zone_names.csv")
    dup = table[table["adcode"].duplicated()]
    if len(dup):
        raise BuildError(f"zones.csv lists counties twice: {', '.join(dup['adcode'])}")
    unknown_zone = set(table["zone_id"]) - set(names["zone_id"])
    if unknown_zone:
        raise BuildError(f"zones.csv uses zone ids not in zone_names.csv: {sorted(unknown_zone)}")
    missing = set(counties["adcode"]) - set(table["adcode"])
    extra = set(table["adcode"]) - set(counties["adcode"])
    if missing or extra:
        raise BuildError(f"zones.csv does not match the counties: missing {sorted(missing)}, "
                         f"unknown {sorted(extra)}")
    c = counties.merge(table[["adcode", "zone_id"]], on="adcode")
    z = c.dissolve(by="zone_id", as_index=False)[["zone_id", "geometry"]]
    z["geometry"] = shapely.make_valid(z.geometry.values)
    z = z.merge(names, on="zone_id")
    z["n_counties"] = z["zone_id"].map(c.groupby("zone_id").size())
    z["schematic"] = True
    z["area_km2"] = crs.equal_area_km2(z).round(1)
    return z, c[["adcode", "name_zh", "zone_id"]]


def parks_layer(counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    t = pd.read_csv(paths.TABLES / "parks_demo.csv", dtype={"adcode": str})
    recs = []
    for r in t.itertuples():
        county = counties[counties["adcode"] == r.adcode]
        if county.empty:
            raise BuildError(f"parks_demo.csv {r.park_id}: unknown county adcode {r.adcode}")
        centre = shapely.Point(r.lon, r.lat)
        if not county.geometry.iloc[0].contains(centre):
            raise BuildError(f"parks_demo.csv {r.park_id} ({r.name_zh}): point {r.lon},{r.lat} "
                             f"is not inside {county['name_zh'].iloc[0]} ({r.adcode})")
        recs.append({"park_id": r.park_id, "name_zh": r.name_zh, "name_en": r.name_en,
                     "county_adcode": r.adcode, "county_zh": county["name_zh"].iloc[0],
                     "prefecture_zh": county["prefecture_zh"].iloc[0],
                     "nominal_area_km2": float(r.nominal_area_km2), "named_in": r.named_in,
                     "illustrative": True,
                     "geometry": crs.square_of_area(r.lon, r.lat, r.nominal_area_km2)})
    return gpd.GeoDataFrame(recs, crs=crs.WGS84)

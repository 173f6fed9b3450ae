"""The siting criteria of issue 23 end to end on the command line: a DEM, a criterion raster, an
exclusion layer with a buffer and grid access, ranked with SMAA — every number by hand.

Three 600 m × 600 m parks in UTM 48N (EPSG:32648, 30 m cells), side by side 1 km apart (x = 0, 1000,
2000). The DEM is the plane z = 1000 + 0.1·x: every park's slope is atan(0.1) = 5.7106°; the mean
elevation is the plane at the park's centre. The criterion raster ("ghi") holds 1500 west of
x = 900, 1600 up to x = 1900, 1700 beyond: each park sits in one band. A reserve covers the
western half of park A (overlap 0.18 km², 50%); park B is 700 m east of the reserve's edge, inside an
800 m buffer; park C is 1.7 km from it. A substation stands 2 km north of each park's centre line.
"""
from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

from cli.__main__ import main
from indicators import provenance
from tests.indicator_fixtures import write_raster

UTM = "EPSG:32648"
K = 0.9996  # UTM's scale factor on the central meridian (x = 500 km)
X0, Y0 = 500_000.0, 4_000_000.0  # the grid's north-west corner
T = Affine(30, 0, X0, 0, -30, Y0)
PARKS = [shapely.box(X0 + 60 + k * 1000, Y0 - 660, X0 + 660 + k * 1000, Y0 - 60) for k in range(3)]


@pytest.fixture()
def files(tmp_path):
    gpd.GeoDataFrame({"park_id": ["A", "B", "C"], "name": ["甲", "乙", "丙"]}, geometry=PARKS,
                     crs=UTM).to_file(tmp_path / "parks.gpkg")
    cols = np.arange(100)
    xc = 15.0 + 30.0 * cols  # cell-centre x from the grid's west edge
    write_raster(tmp_path / "dem.tif", np.tile((1000 + 0.1 * xc).astype("float32"), (40, 1)), T, crs=UTM,
                 nodata=-9999)
    ghi = np.where(xc < 900, 1500, np.where(xc < 1900, 1600, 1700)).astype("float32")
    write_raster(tmp_path / "ghi.tif", np.tile(ghi, (40, 1)), T, crs=UTM, nodata=-9999)
    write_raster(tmp_path / "lc.tif", np.full((40, 100), 10, "uint8"), T, crs=UTM, nodata=0)
    gpd.GeoDataFrame(geometry=[shapely.box(X0 - 1000, Y0 - 2000, X0 + 360, Y0 + 1000)],
                     crs=UTM).to_file(tmp_path / "reserve.gpkg")
    gpd.GeoDataFrame(geometry=[shapely.Point(X0 + 360 + k * 1000, Y0 + 1940) for k in range(3)],
                     crs=UTM).to_file(tmp_path / "subs.gpkg")
    return tmp_path


def test_dem_criterion_exclusion_grid_and_smaa(files, capsys):
    out = files / "ranking.csv"
    rc = main(["siting", "--parks", files / "parks.gpkg", "--landcover", files / "lc.tif", "--no-zones",
               "--dem", files / "dem.tif", "--criterion", f"{files / 'ghi.tif'}:ghi:mean:higher:kWh/m2/yr",
               "--exclusion", f"{files / 'reserve.gpkg'}:reserve:800", "--grid", f"{files / 'subs.gpkg'}:substation",
               "--weights", "crit_ghi_mean=1,slope_mean_deg=1", "--draws", "4000", "--seed", "7", "--out", out])
    assert rc == 0, capsys.readouterr().err
    df = pd.read_csv(out).set_index("park_id")
    slope = math.degrees(math.atan(0.1))
    assert df["slope_mean_deg"].tolist() == pytest.approx([slope] * 3, abs=0.01)  # every park on the plane
    assert df.loc["B", "elev_mean_m"] == pytest.approx(1000 + 0.1 * 1360, abs=1e-6)  # the plane at B's centre
    assert df.loc[["B", "C"], "crit_ghi_mean"].tolist() == pytest.approx([1600.0, 1700.0], rel=1e-12)
    # A half inside the reserve: excluded; B 700 m from it with an 800 m buffer; C clear
    # areas and distances on the ground: UTM's scale on its central meridian is 0.9996 (the parks lie
    # within 3 km of it, where it grows by < 1e-7)
    assert df.loc["A", "excl_reserve_overlap_km2"] == pytest.approx(0.18 / K**2, rel=1e-6)
    assert df.loc["A", "excl_reserve_overlap_pct"] == pytest.approx(50.0, rel=1e-6)
    assert df["excl_reserve_verdict"].to_dict() == {"A": "conflict", "B": "within_buffer", "C": "clear"}
    assert bool(df.loc["A", "excluded"]) and df.loc["A", "excluded_because"] == "reserve"
    assert df.loc["B", "excl_reserve_dist_km"] == pytest.approx(0.7 / K, rel=1e-6)
    assert df.loc["B", "dist_substation_km"] == pytest.approx(2.0 / K, rel=1e-6)
    # equal slopes, C the sunniest: C dominates B, so it ranks first in every SMAA draw
    assert df.loc["C", "rank"] == 1 and df.loc["C", "acceptability_rank1"] == 1.0
    assert df.loc["B", "acceptability_rank2"] == 1.0
    rec = json.loads(provenance.sidecar_path(out).read_text())
    assert rec["thresholds"]["smaa_draws"] == 4000 and rec["thresholds"]["smaa_seed"] == 7
    roles = {d["role"] for d in rec["datasets"]}
    assert {"dem", "criterion", "exclusion", "grid"} <= roles


def test_a_malformed_criterion_is_refused_in_both_languages(files, capsys):
    rc = main(["parks", "--parks", files / "parks.gpkg", "--landcover", files / "lc.tif", "--no-zones",
               "--criterion", f"{files / 'ghi.tif'}:ghi:median:higher", "--out", files / "x.csv"])
    err = capsys.readouterr().err
    assert rc == 2 and "--criterion STAT must be one of" in err and "统计量须为" in err

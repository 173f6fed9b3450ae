"""``gansu siting``: the Siting page's model on the command line, on the indicators ``gansu parks``
computes from the same flags. Hand-computed: a railway along the parallel 36.02°N; each park's
distance is the meridian arc from its northern edge (pyproj's Geod), the only criterion is that
distance (lower is better), so the min–max score of the middle park is (d_far − d) / (d_far − d_near)."""
from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from pyproj import Geod

from cli.__main__ import main
from indicators import provenance
from tests.indicator_fixtures import write_raster

TOPS = (36.010, 36.002, 36.001)


@pytest.fixture()
def files(tmp_path):
    parks = [shapely.box(103.702, top - 0.003, 103.705, top) for top in TOPS]
    gpd.GeoDataFrame({"park_id": ["A", "B", "C"], "name": ["甲", "乙", "丙"]}, geometry=parks,
                     crs=4326).to_file(tmp_path / "parks.geojson", driver="GeoJSON")
    gpd.GeoDataFrame(geometry=[shapely.LineString([(103.6, 36.02), (103.8, 36.02)])],
                     crs=4326).to_file(tmp_path / "rail.geojson", driver="GeoJSON")
    write_raster(tmp_path / "lc.tif", np.full((30, 20), 10, "uint8"), Affine(0.001, 0, 103.70, 0, -0.001, 36.02),
                 crs="EPSG:4326", nodata=0)
    return tmp_path


def test_siting_ranks_by_the_weights_and_records_them(files, capsys):
    out = files / "ranking.csv"
    rc = main(["siting", "--parks", files / "parks.geojson", "--landcover", files / "lc.tif", "--no-zones",
               "--transport", f"{files / 'rail.geojson'}:railway", "--weight", "dist_railway_km=3", "--out", out])
    assert rc == 0, capsys.readouterr().err
    df = pd.read_csv(out)
    d = [Geod(ellps="WGS84").inv(103.703, top, 103.703, 36.02)[2] / 1000.0 for top in TOPS]
    assert list(df["park_id"]) == ["A", "B", "C"] and list(df["rank"]) == [1, 2, 3]
    assert list(df["score"]) == pytest.approx([1.0, (d[2] - d[1]) / (d[2] - d[0]), 0.0], abs=1e-6)
    assert list(df["dist_railway_km"]) == pytest.approx(d, rel=1e-6)
    rec = json.loads(provenance.sidecar_path(out).read_text())
    assert rec["weights"] == {"dist_railway_km": 1.0} and rec["thresholds"]["exclude_redline"] is True
    body = {k: v for k, v in rec.items() if k not in ("inputs_sha256", "time")}
    assert rec["inputs_sha256"] == provenance.sha256_bytes(json.dumps(body, sort_keys=True, ensure_ascii=False).encode())


def test_a_malformed_weight_is_refused_in_both_languages(files, capsys):
    rc = main(["siting", "--parks", files / "parks.geojson", "--landcover", files / "lc.tif",
               "--weight", "dist_railway_km", "--out", files / "x.csv"])
    err = capsys.readouterr().err
    assert rc == 2 and "--weight must be CRITERION=NUMBER: dist_railway_km" in err and "--weight 须为 准则=数值" in err


def test_smaa_leaves_out_a_criterion_weighted_zero(files, capsys):
    """A criterion with weight 0 is not part of the score, so SMAA draws no weight for it."""
    out = files / "r.csv"
    rc = main(["siting", "--parks", files / "parks.geojson", "--landcover", files / "lc.tif", "--no-zones",
               "--transport", f"{files / 'rail.geojson'}:railway", "--weights", "dist_railway_km=1,carbon_at_stake_tc_per_ha=0",
               "--draws", "500", "--out", out])
    assert rc == 0, capsys.readouterr().err
    df = pd.read_csv(out)
    assert "central_w_dist_railway_km" in df.columns and "central_w_carbon_at_stake_tc_per_ha" not in df.columns
    assert df.loc[df["park_id"] == "A", "acceptability_rank1"].iloc[0] == 1.0  # the nearest park, whatever the draw

"""Issue 13: carbon as a range and the pixel-area mode, on a constructed 30 m UTM zone 48N raster.

The raster: 40 × 40 cells of 30 m, origin (392010, 3990000) in EPSG:32648 (near Lanzhou); rows
0–19 CLCD code 2 (forest), rows 20–39 code 4 (grassland). The park covers rows 10–29 and columns
10–29 exactly: 200 forest + 200 grassland cells = 18 ha + 18 ha at 900 m² per cell.

Hand-computed (province-default densities of tables/carbon_density.csv, no zones given:
forest 37.33 + 9.33 + 175 + 2.0 = 223.66 t C/ha, range 140.46–296.03; grassland 0.395 + 2.446 + 85.4
+ 0 = 88.241, range 47.54–334.2; forest sink 3.35 t CO2/ha/yr, range 2.9–4.3):
- nominal stock = 18 × 223.66 + 18 × 88.241 = 5614.218 t C (InVEST: Σ cells × 900 m² × density);
  low = 18 × 140.46 + 18 × 47.54 = 3384.0; high = 18 × 296.03 + 18 × 334.2 = 11344.14;
- carbon at stake (tables/carbon_conversion.csv: biomass + dead + 0.2 × 0.5 × soil of a 0–100 cm row):
  forest 48.66 + 17.5 = 66.16, grassland 2.841 + 8.54 = 11.381 t C/ha → 18 × 66.16 + 18 × 11.381 =
  1395.738 t C, 38.7705 t C/ha over the 36 ha; low (no soil loss) 18 × 48.66 + 18 × 2.841 = 927.018,
  high (all of the top 30 cm) 18 × (48.66 + 87.5) + 18 × (2.841 + 42.7) = 3270.618;
- sink = 18 × 3.35 = 60.3 (low 52.2, high 77.4) t CO2/yr;
- ground = nominal ÷ the projection's areal scale at the park (pyproj ``get_factors``).
"""
from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from affine import Affine

from indicators.engine import compute_parks
from tests.indicator_fixtures import parks_gdf, write_raster

UTM48 = "EPSG:32648"
X0, Y0, CELL = 392010.0, 3990000.0, 30.0


@pytest.fixture(scope="module")
def utm(tmp_path_factory):
    data = np.full((40, 40), 4, dtype="uint8")
    data[:20] = 2
    path = write_raster(tmp_path_factory.mktemp("utm") / "clcd_utm48.tif", data,
                        Affine(CELL, 0, X0, 0, -CELL, Y0), crs=UTM48, nodata=0)
    park = shapely.box(X0 + 10 * CELL, Y0 - 30 * CELL, X0 + 30 * CELL, Y0 - 10 * CELL)
    return path, parks_gdf([park], crs=UTM48, name=["P"])


def run(utm, mode):
    path, parks = utm
    return compute_parks(parks, landcover=path, legend="clcd", pixel_area=mode).iloc[0]


def test_nominal_equals_invest_definition(utm):
    r = run(utm, "nominal")
    cells_ha = 200 * 900 / 1e4  # per class
    assert r["carbon_stock_tc"] == pytest.approx(cells_ha * 223.66 + cells_ha * 88.241, rel=1e-9, abs=0)
    assert r["carbon_stock_tc"] == pytest.approx(5614.218, rel=1e-9)
    assert r["carbon_stock_tc_per_ha"] == pytest.approx(5614.218 / 36, rel=1e-9)
    assert r["lc_forest_km2"] == pytest.approx(0.18, rel=1e-9)


def test_carbon_range_low_central_high(utm):
    r = run(utm, "nominal")
    assert r["carbon_stock_low_tc"] == pytest.approx(3384.0, rel=1e-9)
    assert r["carbon_stock_high_tc"] == pytest.approx(11344.14, rel=1e-9)
    assert r["carbon_stock_low_tc"] <= r["carbon_stock_tc"] <= r["carbon_stock_high_tc"]
    assert r["carbon_sink_tco2_yr"] == pytest.approx(60.3, rel=1e-9)
    assert r["carbon_sink_low_tco2_yr"] == pytest.approx(52.2, rel=1e-9)
    assert r["carbon_sink_high_tco2_yr"] == pytest.approx(77.4, rel=1e-9)


def test_carbon_at_stake_is_biomass_plus_the_lost_topsoil_share(utm):
    r = run(utm, "nominal")
    assert r["carbon_at_stake_tc"] == pytest.approx(1395.738, rel=1e-9)
    assert r["carbon_at_stake_tc_per_ha"] == pytest.approx(38.7705, rel=1e-9)
    assert r["carbon_at_stake_low_tc"] == pytest.approx(927.018, rel=1e-9)
    assert r["carbon_at_stake_high_tc"] == pytest.approx(3270.618, rel=1e-9)


def test_ground_differs_by_the_areal_scale(utm):
    nominal, ground = run(utm, "nominal"), run(utm, "ground")
    lon, lat = pyproj.Transformer.from_crs(UTM48, 4326, always_xy=True).transform(X0 + 20 * CELL, Y0 - 20 * CELL)
    k = pyproj.Proj(UTM48).get_factors(lon, lat).areal_scale  # ≈ 0.99947 here (west of 105°E)
    assert abs(k - 1) > 1e-4  # the modes really differ at this place
    assert ground["carbon_stock_tc"] == pytest.approx(nominal["carbon_stock_tc"] / k, rel=1e-6)
    assert ground["carbon_stock_low_tc"] == pytest.approx(nominal["carbon_stock_low_tc"] / k, rel=1e-6)


def test_bad_mode_and_range_tables_are_refused(utm, tmp_path):
    from core.errors import InputError
    from indicators import carbon

    path, parks = utm
    with pytest.raises(InputError) as e:
        compute_parks(parks, landcover=path, legend="clcd", pixel_area="exact")
    assert "ground or nominal" in e.value.en and "像元面积" in e.value.zh
    bad = tmp_path / "pools.csv"
    bad.write_text("lucode,c_above,c_below,c_soil,c_dead,c_low,c_high\n2,1,1,1,1,5,6\n4,1,1,1,1,1,4\n",
                   encoding="utf-8")
    with pytest.raises(InputError, match="c_low"):
        carbon.load_pools(bad)
    # a table without ranges: low = central = high
    plain = tmp_path / "plain.csv"
    plain.write_text("lucode,c_above,c_below,c_soil,c_dead\n2,100,0,0,0\n4,10,0,0,0\n", encoding="utf-8")
    r = compute_parks(parks, landcover=path, legend="clcd", carbon_pools=plain, pixel_area="nominal").iloc[0]
    assert r["carbon_stock_low_tc"] == r["carbon_stock_tc"] == r["carbon_stock_high_tc"] == pytest.approx(1980.0)


def test_cli_pixel_area_and_provenance_sidecar(utm, tmp_path):
    import json
    import subprocess
    import sys

    from core import paths

    path, parks = utm
    pk = tmp_path / "park.gpkg"
    parks.to_file(pk, driver="GPKG")
    outs = {}
    for mode in ("nominal", "ground"):
        out = tmp_path / f"{mode}.csv"
        r = subprocess.run([sys.executable, "-m", "cli", "parks", "--parks", str(pk), "--landcover", str(path),
                            "--legend", "clcd", "--pixel-area", mode, "--no-zones", "--out", str(out)], cwd=paths.REPO,
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr
        outs[mode] = json.loads((tmp_path / f"{mode}.csv.provenance.json").read_text(encoding="utf-8"))
        import pandas as pd

        row = pd.read_csv(out).iloc[0]
        assert row["carbon_stock_tc"] == pytest.approx(run(utm, mode)["carbon_stock_tc"], rel=1e-9)  # CLI = engine (the GeoPackage round trip moves vertices by < 1e-8 m)
    assert outs["nominal"]["pixel_area"] == "nominal" and outs["ground"]["pixel_area"] == "ground"
    assert outs["nominal"]["tables"] == outs["ground"]["tables"]
    assert outs["nominal"]["inputs_sha256"] != outs["ground"]["inputs_sha256"]
    lc = [d for d in outs["nominal"]["datasets"] if d["role"] == "landcover"][0]
    from indicators.provenance import file_sha256

    assert lc["sha256"] == file_sha256(path)

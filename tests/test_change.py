"""Transition matrices between two land-cover rasters on the same grid."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine

from indicators import change
from layers.legends import CLASS_IDS, CLCD
from tests.test_zonestats import ALBERS, PX, X0, Y0, make_raster, px_box

KM2 = 900 / 1e6


def class_px(a: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    out = {c: 0.0 for c in change.MATRIX_CLASSES}
    for code, n in zip(*np.unique(a[mask], return_counts=True)):
        out[CLCD.class_of(int(code)) if code != 0 else "nodata"] += n
    return out


@pytest.fixture()
def pair(tmp_path):
    rng = np.random.default_rng(5)
    base = rng.integers(1, 10, size=(40, 60)).astype(np.uint8)
    alt = base.copy()
    flip = rng.random((40, 60)) < 0.3
    alt[flip] = rng.integers(1, 10, size=flip.sum()).astype(np.uint8)
    base[0:3, 0:5] = 0  # no data in the baseline only
    alt[10:12, 40:60] = 0  # no data in the alternative only
    zones = gpd.GeoDataFrame({"name": ["W", "E"]}, geometry=[px_box(0, 0, 25, 40), px_box(25, 0, 60, 40)],
                             crs=ALBERS).to_crs(4326)
    return (make_raster(tmp_path / "base.tif", base), make_raster(tmp_path / "alt.tif", alt), base, alt, zones)


def test_rows_sum_to_baseline_and_columns_to_alternative_class_areas(pair):
    b_path, a_path, base, alt, zones = pair
    res = change.transitions(zones, b_path, a_path, "clcd", names=["W", "E"])
    cols = np.arange(60)[None, :].repeat(40, axis=0)
    masks = {"W": cols < 25, "E": cols >= 25, change.TOTAL: np.ones((40, 60), bool)}
    for z, m in masks.items():
        mat = res.matrices[z]
        exp_b, exp_a = class_px(base, m), class_px(alt, m)
        both_nodata = ((base == 0) & (alt == 0) & m).sum()
        exp_b["nodata"] -= both_nodata
        exp_a["nodata"] -= both_nodata
        for c in change.MATRIX_CLASSES:
            assert mat.loc[c].sum() == pytest.approx(exp_b[c] * KM2, rel=1e-6, abs=1e-12), (z, c)
            assert mat[c].sum() == pytest.approx(exp_a[c] * KM2, rel=1e-6, abs=1e-12), (z, c)
        # diagonal: unchanged pixels of each class
        for c in CLASS_IDS:
            codes = [k for k, v in CLCD.codes.items() if v == c]
            same = (np.isin(base, codes) & np.isin(alt, codes) & m).sum()
            assert mat.loc[c, c] == pytest.approx(same * KM2, rel=1e-6, abs=1e-12)
    s = res.summary.set_index("zone")
    fb, fa = class_px(base, masks["W"])["forest"], class_px(alt, masks["W"])["forest"]
    assert s.loc["W", "forest_net_km2"] == pytest.approx((fa - fb) * KM2, rel=1e-6, abs=1e-12)
    # carbon change = Σ alt − Σ base over CLCD pools (InVEST semantics)
    from indicators import carbon

    pools = carbon.load_pools(None, CLCD)
    dens = (pools[["c_above", "c_below", "c_soil", "c_dead"]].sum(axis=1))
    tot = lambda a: sum(dens.get(int(c), 0.0) * n * 0.09 for c, n in zip(*np.unique(a[a > 0], return_counts=True)))  # noqa: E731
    assert s.loc[change.TOTAL, "carbon_change_tc"] == pytest.approx(tot(alt) - tot(base), rel=1e-6)


def test_different_grids_are_refused_not_resampled(pair, tmp_path):
    b_path, _, base, _, zones = pair
    with rasterio.open(tmp_path / "shifted.tif", "w", driver="GTiff", width=60, height=40, count=1,
                       dtype="uint8", crs=ALBERS, transform=Affine(PX, 0, X0 + 15, 0, -PX, Y0), nodata=0) as ds:
        ds.write(base, 1)
    with pytest.raises(change.GridMismatch) as e:
        change.transitions(zones, b_path, tmp_path / "shifted.tif", "clcd")
    assert "same grid" in e.value.en and "重采样" in e.value.zh
    coarse = make_raster(tmp_path / "coarse.tif", base[:20, :30])
    with pytest.raises(change.GridMismatch, match="size"):
        change.transitions(zones, b_path, coarse, "clcd")

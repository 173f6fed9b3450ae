"""``python -m cli parks`` end to end: every output format, and bad input."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

import reports
from indicators import table
from cli.__main__ import main
from tests.indicator_fixtures import legend_csv, parks_gdf, pools_csv, pools_frame, write_raster

REPO = Path(__file__).resolve().parent.parent
T = Affine(30, 0, 0, 0, -30, 600)


@pytest.fixture()
def inputs(tmp_path):
    base = np.array([[1, 1, 2, 2, 3] * 4] * 20, "uint8")
    write_raster(tmp_path / "lc.tif", base, T, nodata=9)
    write_raster(tmp_path / "alt.tif", np.where(base == 1, 3, base).astype("uint8"), T, nodata=9)
    legend_csv(tmp_path / "legend.csv")
    pools_csv(tmp_path / "pools.csv")
    parks = parks_gdf([shapely.box(0, 0, 300, 300), shapely.box(300, 300, 600, 600), shapely.box(9000, 0, 9300, 300)],
                      name=["甲园区", "乙园区", "外部"])
    parks.to_file(tmp_path / "parks.gpkg", driver="GPKG")
    gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 700), (600, 700)])], crs=parks.crs).to_file(tmp_path / "rail.gpkg")
    gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 150, 300), shapely.box(100, 0, 200, 300)],
                     crs=parks.crs).to_file(tmp_path / "red.gpkg")
    gpd.GeoDataFrame({"zone": ["Z1"]}, geometry=[shapely.box(-100, -100, 700, 700)], crs=parks.crs).to_file(tmp_path / "zones.gpkg")
    return tmp_path


def _args(d: Path, out: str, *extra) -> list[str]:
    return ["parks", "--parks", str(d / "parks.gpkg"), "--landcover", str(d / "lc.tif"),
            "--legend-file", str(d / "legend.csv"), "--carbon-pools", str(d / "pools.csv"),
            "--landcover-alt", str(d / "alt.tif"), "--transport", f"{d / 'rail.gpkg'}:railway",
            "--redline", str(d / "red.gpkg"), "--zones", str(d / "zones.gpkg"), "--out", str(d / out), *extra]


def _cli(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def _check(df: pd.DataFrame):
    assert list(df["park_id"]) == ["P1", "P2", "P3"]
    assert list(df["name"]) == ["甲园区", "乙园区", "外部"]
    assert df.loc[0, "redline_overlap_km2"] == pytest.approx(0.06, rel=1e-6)  # 200 x 300 m, dissolved
    assert df.loc[0, "zone"] == "Z1"
    assert df.loc[0, "carbon_change_tc"] < 0
    assert str(df.loc[2, "reason"]).startswith("park outside the land-cover raster")
    for col in ("lc_forest_km2", "carbon_stock_tc", "carbon_stock_tco2e", "carbon_stock_alt_tc",
                "carbon_sink_tco2_yr", "vegetated_share_pct", "vegetated_share_hint", "landcover_pixel_m", "dist_railway_km",
                "redline_overlap_pct", "reliability", "landcover_coverage_pct", "area_km2"):
        assert col in df.columns


def test_cli_csv_and_xlsx_subprocess(inputs):
    res = _cli(_args(inputs, "out.csv"))
    assert res.returncode == 0, res.stderr
    df = pd.read_csv(inputs / "out.csv")  # UTF-8 with BOM: pandas and Excel both read it
    _check(df)
    assert pd.isna(df["vegetated_share_hint"].iloc[2]) and "green_pass" not in df.columns
    res = _cli(_args(inputs, "out.xlsx"))
    assert res.returncode == 0, res.stderr
    # Excel is read by people: labelled headers (Chinese by default), ids in the "columns" sheet
    xl = pd.read_excel(inputs / "out.xlsx", sheet_name="parks")
    assert "碳储量 (t C)" in xl.columns and "carbon_stock_tc" not in xl.columns
    ids = {v: k for k, v in reports.labels_for(list(table.BY_ID), "zh").items()}
    _check(xl.rename(columns=ids))
    sheet = pd.read_excel(inputs / "out.xlsx", sheet_name="columns")
    assert list(sheet.columns[:4]) == ["字段", "名称", "单位", "说明"]
    assert set(df.columns) <= set(sheet["字段"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cli_excel_has_the_same_headers_as_the_ui_excel(inputs, monkeypatch, lang):
    """``--out x.xlsx --lang`` writes the Parks page's Excel headers for the same result."""
    import reports.table
    from ui import report

    seen = {}
    real = reports.table.write_table

    def spy(result, out, geoms=None, lang="zh", **kw):  # kw: provenance (issue 13)
        seen["result"] = result
        return real(result, out, geoms, lang=lang, **kw)

    monkeypatch.setattr(reports.table, "write_table", spy)
    assert main(_args(inputs, "cli.xlsx", "--lang", lang)) == 0
    cli = (inputs / "cli.xlsx").read_bytes()
    ui = report.parks_excel(seen["result"], lang)
    for sheet in ("parks", "columns"):
        assert reports.header_row(cli, sheet) == reports.header_row(ui, sheet)
    heads = reports.header_row(cli, "parks")
    assert heads[:2] == (["园区编号", "园区名称"] if lang == "zh" else ["Park ID", "Name"])
    assert not set(heads) & set(seen["result"].columns)  # no raw id as a header
    assert ("距铁路距离 (km)" if lang == "zh" else "Distance to railway (km)") in heads


@pytest.mark.parametrize("ext", ["geojson", "gpkg", "parquet"])
def test_cli_vector_outputs(inputs, ext):
    assert main(_args(inputs, f"out.{ext}")) == 0
    path = inputs / f"out.{ext}"
    gdf = gpd.read_parquet(path) if ext == "parquet" else gpd.read_file(path)
    _check(pd.DataFrame(gdf.drop(columns="geometry")))
    assert gdf.geometry.iloc[0].geom_type == "Polygon"
    assert gdf.crs.to_epsg() == 4326 if ext == "geojson" else gdf.crs is not None


def test_cli_bad_input_exit_code_and_message(inputs, tmp_path, capsys):
    pools_frame({1: (1, 1, 1, 1)}).to_csv(tmp_path / "short.csv", index=False)
    args = _args(inputs, "x.csv")
    args[args.index("--carbon-pools") + 1] = str(tmp_path / "short.csv")
    res = _cli(args)
    assert res.returncode == 2
    assert "[2, 3]" in res.stderr and "missing from the carbon pools table" in res.stderr
    assert "碳库表" in res.stderr
    assert "Traceback" not in res.stderr

    def bilingual(args, en: str, zh: str) -> str:
        """exit 2, "error: <en>" and "错误：<zh>" on stderr, no traceback, no output file."""
        capsys.readouterr()
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "error: " in err and "错误：" in err, err
        assert en in err, (en, err)
        assert zh in err, (zh, err)
        assert "Traceback" not in err
        return err

    nocrs = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 300, 300)])
    with pytest.warns(UserWarning):
        nocrs.to_file(tmp_path / "nocrs.gpkg")
    args = _args(inputs, "y.csv")
    args[args.index("--parks") + 1] = str(tmp_path / "nocrs.gpkg")
    bilingual(args, "coordinate reference system", "坐标")
    # metres labelled as degrees (GeoJSON is always WGS84): clear error, not a crash
    (tmp_path / "wrong.geojson").write_text(nocrs.to_json(), encoding="utf-8")
    args[args.index("--parks") + 1] = str(tmp_path / "wrong.geojson")
    bilingual(args, "coordinate", "坐标")
    args[args.index("--parks") + 1] = str(tmp_path / "missing.gpkg")
    bilingual(args, "missing.gpkg", "missing.gpkg")
    bilingual(_args(inputs, "z.txt"), "--out must end with one of", "--out 的扩展名须为")
    assert not (inputs / "y.csv").exists() and not (inputs / "z.txt").exists()


def test_indicators_never_import_streamlit():
    code = ("import sys, indicators.engine, cli.__main__; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('streamlit', 'pages', 'ui')]; print(bad)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert res.stdout.strip() == "[]", res.stderr


def test_the_old_command_name_hands_over_to_python_m_cli(tmp_path):
    """``python -m indicators`` (the name before the CLI moved to cli/) still works: it says so and
    runs ``python -m cli`` with the same arguments in a new process (no upward import)."""
    res = subprocess.run([sys.executable, "-m", "indicators", "parks", "--out", str(tmp_path / "x.csv")],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert "python -m indicators is now python -m cli" in res.stderr and "已更名为" in res.stderr
    assert res.returncode == 2  # the same refusal as python -m cli: --parks is required
    assert "--parks is required" in res.stderr and "缺少 --parks" in res.stderr

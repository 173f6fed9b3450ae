"""Run inputs declared once (layers/inputs.py): a throw-away vector distance input and a raster
input added through the declarations alone (plus one function) reach the CLI help, the Data page
selectors, the run (RunInputs, the engine's columns, the fingerprint) and the provenance record.

Hand-computed answers: the rivers line runs along the parallel 36.02°N; park A's northern edge is
at 36.01°N, so its distance is the meridian arc between the two parallels (pyproj's Geod over the
two points — the shortest way between parallels follows a meridian). The criterion raster holds
its column index in every cell (0.001° cells from 103.70°E, 36.02°N); park A covers columns 2–4
whole, park B half of column 10 and all of column 11, park C columns 12–13 of which 13 is nodata.
"""
from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import Geod
from streamlit.testing.v1 import AppTest

from cli.__main__ import build_parser, main
from core.text import Text
from indicators import measures, provenance, runs, table
from layers import inputs
from storage import raster_register, vector_register
from storage import workspace as ws
from storage.store import Store
from tests import workspace_fixtures
from tests.indicator_fixtures import write_raster
from zonal.coverage import coverage

GRID = Affine(0.001, 0, 103.70, 0, -0.001, 36.02)
PARKS = [shapely.box(103.702, 36.005, 103.705, 36.010),  # A: columns 2-4, rows 10-14
         shapely.box(103.7105, 36.000, 103.712, 36.002),  # B: half of column 10, all of column 11, rows 18-19
         shapely.box(103.712, 36.000, 103.714, 36.001)]  # C: columns 12-13 (13 is nodata), row 19
RIVER_LAT = 36.02
STEEP = 11.0


def steep_share_pct(parks, path, spec):
    """The throw-away function: share (%) of a park's valid covered cells with a value >= 11."""
    import rasterio

    out = np.full(len(parks), np.nan)
    with rasterio.open(path) as ds:
        vals = ds.read(1, masked=True)
        for k, geom in enumerate(parks.to_crs(ds.crs).values):
            frac, r0, c0 = coverage(geom, ds.transform)
            v = vals[r0:r0 + frac.shape[0], c0:c0 + frac.shape[1]]
            ok = ~np.ma.getmaskarray(v) & (frac > 0)
            out[k] = 100.0 * frac[ok & (v.data >= STEEP)].sum() / frac[ok].sum()
    return out


RIVERS = inputs.Input("rivers", "lines", Text("河流", "rivers"), Text("河流线（取最近距离）", "river lines (nearest distance)"),
                      role="rivers", flag="--rivers", selector="one", measure="distance_km", column="dist_rivers_km",
                      units="km", direction=-1, column_label=Text("距河流距离", "distance to rivers"))
SLOPE = inputs.Input("slope", "raster", Text("坡度", "slope"), Text("坡度栅格（度）", "slope raster (degrees)"),
                     role="slope", flag="--slope", selector="one", measure="steep_share_pct", column="steep_share_pct",
                     units="%", direction=-1, column_label=Text("陡坡占比", "steep share"))


@pytest.fixture()
def declared():
    measures.register_measure("steep_share_pct")(steep_share_pct)
    inputs.register(RIVERS)
    inputs.register(SLOPE)
    try:
        yield
    finally:
        inputs.unregister("rivers")
        inputs.unregister("slope")
        measures.unregister_measure("steep_share_pct")


@pytest.fixture()
def files(tmp_path):
    gpd.GeoDataFrame({"park_id": ["A", "B", "C"], "name": ["甲", "乙", "丙"]}, geometry=PARKS,
                     crs=4326).to_file(tmp_path / "parks.geojson", driver="GeoJSON")
    gpd.GeoDataFrame(geometry=[shapely.LineString([(103.6, RIVER_LAT), (103.8, RIVER_LAT)])],
                     crs=4326).to_file(tmp_path / "rivers.geojson", driver="GeoJSON")
    value = np.tile(np.arange(20, dtype="float32"), (20, 1))
    value[:, 13] = -9999
    write_raster(tmp_path / "slope.tif", value, GRID, crs="EPSG:4326", nodata=-9999)
    write_raster(tmp_path / "lc.tif", np.full((20, 20), 10, "uint8"), GRID, crs="EPSG:4326", nodata=0)
    return tmp_path


def _expected_km() -> float:
    return Geod(ellps="WGS84").inv(103.703, 36.01, 103.703, RIVER_LAT)[2] / 1000.0


def test_the_declarations_generate_roles_slots_flags_and_columns(declared):
    assert "rivers" in inputs.roles() and "slope" in inputs.roles()
    assert ws.ROLE_LABELS["rivers"] == Text("河流", "rivers")
    assert [i.id for i in inputs.slots()][-2:] == ["rivers", "slope"]
    assert table.label("dist_rivers_km", "zh", with_unit=True) == "距河流距离 (km)"
    assert table.get("steep_share_pct").direction == -1
    assert table.columns_for(kinds=(), measured_inputs=("dist_rivers_km",))[-1] == "dist_rivers_km"


def test_the_cli_help_names_the_new_inputs(declared, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["parks", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--rivers RIVERS river lines (nearest distance); adds the column dist_rivers_km (km)" in text
    assert "--slope SLOPE slope raster (degrees); adds the column steep_share_pct (%)" in text
    with pytest.raises(SystemExit):
        build_parser().parse_args(["siting", "--help"])  # not a siting input: commands=("parks",)
    assert "--rivers" not in capsys.readouterr().out


def test_the_cli_computes_the_new_columns_and_records_them_in_the_provenance(declared, files, capsys):
    out = files / "parks.csv"
    rc = main(["parks", "--parks", files / "parks.geojson", "--landcover", files / "lc.tif", "--no-zones",
               "--rivers", files / "rivers.geojson", "--slope", files / "slope.tif", "--out", out])
    assert rc == 0, capsys.readouterr().err
    import pandas as pd

    df = pd.read_csv(out)
    assert list(df.columns[-2:]) == ["dist_rivers_km", "steep_share_pct"]
    assert df.loc[0, "dist_rivers_km"] == pytest.approx(_expected_km(), rel=1e-6)
    assert list(df["steep_share_pct"]) == pytest.approx([0.0, 100.0 / 1.5, 100.0], abs=1e-9)
    rec = json.loads(provenance.sidecar_path(out).read_text())
    roles = {d["role"]: d for d in rec["datasets"]}
    assert roles["rivers"]["sha256"] == provenance.file_sha256(files / "rivers.geojson")
    assert roles["slope"]["sha256"] == provenance.file_sha256(files / "slope.tif")


def test_raster_mean_weights_each_cell_by_the_share_the_park_covers(files):
    parks = gpd.GeoSeries(PARKS, crs=4326)
    got = measures.raster_mean(parks, str(files / "slope.tif"), None)
    assert list(got) == pytest.approx([3.0, (10 * 0.5 + 11 * 1.0) / 1.5, 12.0], abs=1e-9)


def test_a_measure_needs_its_column_and_units():
    with pytest.raises(ValueError, match="column id and units"):
        inputs.Input("x", "lines", Text("x", "x"), Text("x", "x"), measure="distance_km", column="dist_x_km")
    with pytest.raises(ValueError, match="takes one file"):
        inputs.Input("x", "lines", Text("x", "x"), Text("x", "x"), measure="distance_km", column="dist_x_km",
                     units="km", multiple=True)
    with pytest.raises(ValueError, match="names a part of the run fingerprint"):
        inputs.register(inputs.Input("pools", "lines", Text("x", "x"), Text("x", "x")))


def test_the_docs_table_is_generated_from_the_declarations():
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "inputs.md").read_text(encoding="utf-8")
    assert inputs.markdown_table() in doc


@pytest.fixture()
def store(dataset, tmp_path, monkeypatch):
    yield from workspace_fixtures.page_store(tmp_path, monkeypatch)


def test_the_workspace_and_the_data_page_take_the_new_inputs(declared, files, store):
    from core import paths

    river = vector_register.register_vector(store, files / "rivers.geojson", "rivers")
    slope = raster_register.register_raster(store, files / "slope.tif", "slope")
    store.close()  # the page opens the store itself
    at = AppTest.from_file(str(paths.REPO / "pages" / "data.py"), default_timeout=180)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    box = at.selectbox(key="ws_use_rivers")
    assert box.label == "Rivers" and at.selectbox(key="ws_use_slope").label == "Slope"
    assert box.value == "none" and box.options[0] == "(none)"
    box.set_value(river.id)
    at.selectbox(key="ws_use_slope").set_value(slope.id)
    at.button(key="ws_use_apply").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    s = Store(paths.store_path())
    try:
        assert ws.in_use(s)["rivers"] == [river.id] and ws.in_use(s)["slope"] == [slope.id]
        run = runs.inputs_from_workspace(s)
        assert {d[0] for d in run.datasets} >= {"rivers", "slope"}
        # the dataset (one registration: its stored features), its content and what the declaration computes
        assert run.parts["rivers"] == [river.id, river.sha256, "distance_km", "dist_rivers_km"]
        assert run.parts["slope"] == [slope.id, provenance.file_sha256(files / "slope.tif"), "steep_share_pct",
                                      "steep_share_pct"]
        parks = gpd.GeoDataFrame({"park_id": ["A"], "name": ["甲"]}, geometry=PARKS[:1], crs=4326)
        row = runs.compute_cached(s, parks, run)
        assert row.loc[0, "dist_rivers_km"] == pytest.approx(_expected_km(), rel=1e-6)
        assert row.loc[0, "steep_share_pct"] == 0.0
        ws.use(s, "rivers", [])
        assert runs.inputs_from_workspace(s).fingerprint != run.fingerprint
    finally:
        s.close()


def test_a_declared_criterion_with_a_direction_is_ranked_by_siting(declared, files, capsys):
    """The rivers distance (direction -1) is a siting criterion like the built-in ones: the nearest
    park ranks first when it is the only weight."""
    out = files / "ranking.csv"
    with pytest.raises(SystemExit):  # not a siting input yet (commands=("parks",)): argparse refuses the flag
        main(["siting", "--parks", files / "parks.geojson", "--landcover", files / "lc.tif", "--no-zones",
              "--out", out, "--weight", "dist_rivers_km=1", "--rivers", files / "rivers.geojson"])
    assert "unrecognized arguments: --rivers" in capsys.readouterr().err
    inputs.unregister("rivers")
    inputs.register(dataclasses.replace(RIVERS, commands=("parks", "siting")))
    rc = main(["siting", "--parks", files / "parks.geojson", "--landcover", files / "lc.tif", "--no-zones",
               "--rivers", files / "rivers.geojson", "--weight", "dist_rivers_km=1", "--out", out])
    assert rc == 0, capsys.readouterr().err
    import pandas as pd

    df = pd.read_csv(out)
    assert list(df["park_id"]) == ["A", "B", "C"] and list(df["rank"]) == [1, 2, 3]  # 36.01 > 36.002 > 36.001 °N

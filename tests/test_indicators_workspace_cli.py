"""``python -m cli parks --workspace``: the data in use of the store (as saved by the
dashboard or ``python -m cli workspace use``), explicit flags overriding their part, results
through the dashboard's cache. Real files made in code (tests/workspace_fixtures.py), a real store."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from indicators import runs
from indicators.engine import compute_parks
from layers import catalog
from storage import raster_register
from storage.store import Store
from tests import workspace_fixtures as wf

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture()
def env(tmp_path, dataset):
    e = {**os.environ, "GANSU_STORE": str(tmp_path / "ws.duckdb"), "GANSU_WORKSPACE_DIR": str(tmp_path / "workspace"),
         "GANSU_IMPORT_DIR": str(tmp_path / "import")}
    lc = wf.clcd_landcover(tmp_path / "clcd_2020.tif")
    alt = wf.clcd_landcover(tmp_path / "clcd_2023.tif", shift=3)
    old = {k: os.environ.get(k) for k in ("GANSU_WORKSPACE_DIR", "GANSU_IMPORT_DIR")}
    os.environ.update({k: e[k] for k in old})
    s = Store(e["GANSU_STORE"])
    raster_register.register_landcover(s, [lc], legend="clcd", year=2020, use=True)
    near = gpd.GeoDataFrame(geometry=[shapely.box(103.60, 36.45, 103.62, 36.47)], crs=4326)
    s.add_parks(near, names=["用户园区"], source="upload")
    s.close()  # one writer per store file: the CLI opens it next
    yield {"env": e, "lc": lc, "alt": alt, "dir": tmp_path}
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "parks", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def _same_numbers(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a["park_id"].astype(str)) == list(b["park_id"].astype(str))
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        if a[col].dtype.kind == "f":
            np.testing.assert_allclose(a[col].to_numpy(float), pd.to_numeric(b[col]).to_numpy(float),
                                       rtol=1e-9, atol=0, equal_nan=True, err_msg=col)


def _explicit(store, parks, landcover, inputs) -> pd.DataFrame:
    """compute_parks on explicit inputs: the same files as the workspace names."""
    return compute_parks(parks, landcover=landcover, legend="clcd", transport=inputs.transport,
                         redline=inputs.redline, zones=inputs.zones, zone_field=inputs.zone_field,
                         id_field="park_id", name_field="name")


def test_workspace_cli_equals_compute_cached_and_explicit_flags(env):
    e, d = env["env"], env["dir"]
    r = _cli(e, "--workspace", "--out", str(d / "ws.csv"))
    assert r.returncode == 0, r.stderr
    assert "clcd_2020.tif" in r.stdout and "sha256" in r.stdout  # names the data it used
    assert "built-in protection proxy" in r.stdout and "parks: illustrative parks" in r.stdout
    cli = pd.read_csv(d / "ws.csv", dtype={"park_id": str})
    s = Store(e["GANSU_STORE"])
    try:
        parks = runs.all_parks(s, catalog.read_default("parks_demo"))
        assert len(cli) == len(parks) and cli["name"].iloc[-1] == "用户园区"  # demo + saved parks
        inputs = runs.inputs_from_workspace(s)
        assert runs.missing(s, parks, inputs) == []  # the CLI filled the dashboard's cache
        cached = runs.compute_cached(s, parks, inputs)
        explicit = _explicit(s, parks, str(env["lc"]), inputs)
    finally:
        s.close()
    _same_numbers(cached, cli)
    _same_numbers(explicit.reindex(columns=cached.columns), cli)
    lanzhou = cli["park_id"].isin(["P01", "P02", "P09"])
    assert (cli.loc[lanzhou, "reliability"] == "ok").all()


def test_explicit_landcover_overrides_the_workspace(env):
    e, d = env["env"], env["dir"]
    r = _cli(e, "--workspace", "--landcover", str(env["alt"]), "--legend", "clcd", "--out", str(d / "alt.csv"))
    assert r.returncode == 0, r.stderr
    assert "clcd_2023.tif" in r.stdout and "clcd_2020.tif" not in r.stdout
    cli = pd.read_csv(d / "alt.csv", dtype={"park_id": str})
    s = Store(e["GANSU_STORE"])
    try:
        parks = runs.all_parks(s, catalog.read_default("parks_demo"))
        inputs = runs.inputs_from_workspace(s)
        base = runs.compute_cached(s, parks, inputs)
        explicit = _explicit(s, parks, str(env["alt"]), inputs)
    finally:
        s.close()
    _same_numbers(explicit.reindex(columns=base.columns), cli)
    lanzhou = cli["park_id"].isin(["P01", "P02", "P09"]).to_numpy()
    assert not np.allclose(base.loc[lanzhou, "lc_forest_km2"], cli.loc[lanzhou, "lc_forest_km2"])


def test_workspace_with_a_changed_file_exits_2_in_both_languages(env):
    e, d = env["env"], env["dir"]
    with open(env["lc"], "ab") as f:  # the referenced file changes after registration
        f.write(b"\0" * 16)
    r = _cli(e, "--workspace", "--out", str(d / "bad.csv"))
    assert r.returncode == 2, r.stderr
    assert "error: " in r.stderr and "changed after it was registered" in r.stderr
    assert "错误：" in r.stderr and "已被修改" in r.stderr
    assert not (d / "bad.csv").exists()


def test_without_workspace_parks_and_landcover_are_required(env):
    r = _cli(env["env"], "--out", str(env["dir"] / "x.csv"))
    assert r.returncode == 2 and "--parks is required" in r.stderr and "缺少 --parks" in r.stderr

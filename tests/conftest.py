"""Shared fixtures. The default dataset is built once (fast no-op when current); every test
session uses its own DuckDB store so the user's saved work is never touched."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ARTIFACTS = REPO / "tests" / "_artifacts"
ARTIFACTS.mkdir(exist_ok=True)
os.environ.setdefault("GANSU_TEST_ARTIFACTS", str(ARTIFACTS))
os.environ["GANSU_STORE"] = str(ARTIFACTS / f"test-store-{os.getpid()}.duckdb")
# GANSU_TEST_SESSION_STORE=postgresql: the session's store (pages, CLI, the ``store`` fixture) is a
# PostgreSQL database of a throw-away cluster instead (the whole suite on the other back end)
_SESSION_CLUSTER = None
if os.environ.get("GANSU_TEST_SESSION_STORE") == "postgresql":
    import tempfile

    from storage.pgcluster import Cluster

    _SESSION_CLUSTER = Cluster(Path(tempfile.mkdtemp(prefix="gansu-pg-", dir="/tmp"))).start()
    os.environ["GANSU_STORE"] = _SESSION_CLUSTER.new_database(f"session_{os.getpid()}")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running (crash and load tests); still run by make test")
    # pytest-xdist's --dist loadfile hands out the files with the most tests first unless told not to,
    # which would undo the long-files-first order below (a one-test crash file could then start last)
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def _long_first(item) -> int:
    """0 for a test of a long file (browser, crash and load tests), 1 otherwise."""
    return 0 if item.path.name.startswith("test_browser_") or item.get_closest_marker("slow") else 1


def pytest_collection_modifyitems(session, config, items):
    """The long files first (a stable sort: the order inside a file is kept), so that with two
    workers (``make test``: pytest-xdist, a file whole to one worker) no long file starts last and
    runs alone at the end."""
    items.sort(key=_long_first)


@pytest.fixture(scope="session")
def dataset():
    from core import paths
    from geodata import build

    build.build()
    return paths.require_current()


@pytest.fixture(scope="session")
def gpkg(dataset):
    from core import paths

    return paths.gpkg_path()


@pytest.fixture()
def store(dataset):
    """The session's store with no saved parks before and after the test."""
    from core import paths
    from storage.store import Store

    s = Store(paths.store_path())
    s.delete_parks(list(s.parks()["park_id"]))
    yield s
    s.delete_parks(list(s.parks()["park_id"]))


def pytest_sessionfinish(session, exitstatus):
    if _SESSION_CLUSTER is not None:
        _SESSION_CLUSTER.stop()
    for pattern in (f"test-store-{os.getpid()}.duckdb*", "browser-store-*.duckdb*"):
        for p in ARTIFACTS.glob(pattern):
            p.unlink(missing_ok=True)


# --- the store's two back ends (storage.pg): tests that take ``store_at`` run on both -------------
BACKENDS = ("duckdb", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster():
    """A throw-away PostgreSQL + PostGIS cluster for this test process (``storage.pgcluster``: a
    Unix socket in a temporary folder, no TCP), stopped and deleted at the end. ``make test``
    installs the server; without it the PostgreSQL tests fail with the reason (never skip)."""
    import tempfile

    from storage.pgcluster import Cluster

    c = Cluster(Path(tempfile.mkdtemp(prefix="gansu-pg-", dir="/tmp"))).start()  # short: socket paths are capped
    yield c
    c.stop()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture()
def store_at(request, backend, tmp_path):
    """``location(name="s")``: where a store of this test lives on its back end — a DuckDB file in
    ``tmp_path``, or a new PostgreSQL database (the same name gives the same place, to reopen it);
    the databases are dropped after the test."""
    import uuid

    made: dict[str, str] = {}
    cluster = request.getfixturevalue("pg_cluster") if backend == "postgresql" else None

    def location(name: str = "s"):
        if cluster is None:
            return tmp_path / f"{name}.duckdb"
        if name not in made:
            made[name] = f"t_{uuid.uuid4().hex[:16]}"
            cluster.new_database(made[name])
        return cluster.url(made[name])

    location.backend = backend
    location.cluster = cluster
    yield location
    for db in made.values():
        cluster.drop_database(db)


@pytest.fixture()
def raster_reads(monkeypatch):
    """Counts zone-statistics raster passes (``zonestats.compute`` calls) and the units read
    (polygons handed to the tiled engine's ``zonal_codes``, which zone statistics read through),
    so a test can prove a cached result is reused."""
    from zonal import tiled
    from indicators import zonestats

    counts = {"passes": 0, "units": 0}
    real_compute, real_zonal = zonestats.compute, tiled.zonal_codes

    def compute(*a, **k):
        counts["passes"] += 1
        return real_compute(*a, **k)

    def zonal_codes(polygons, *a, **k):
        counts["units"] += len(polygons)
        return real_zonal(polygons, *a, **k)

    monkeypatch.setattr(zonestats, "compute", compute)
    monkeypatch.setattr(tiled, "zonal_codes", zonal_codes)
    return counts

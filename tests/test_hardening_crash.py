"""Crash safety (slow, but run by `make test`): SIGKILL at random points of

- a save loop (parks, scenarios, checklist inputs, replacement layers, each save one
  transaction; "confirmed" = the save returned, what the UI reports as saved): 50 trials, the
  kill 0.05–0.5 s after the store opened, a few during the open itself (WAL replay);
- the data build (``geodata.build.build(force=True)``): 15 trials, the kill anywhere between the
  start and the end of a build (~4 s), i.e. while reading inputs, writing the GeoPackage, writing
  the manifest, checking or publishing.

Each trial runs in a process forked from a helper that imported everything once, so a trial costs
the save loop or the build, not Python start-up. After every trial: the store opens and holds
every confirmed save; the dataset in use is complete (``verify_build``) and is the old build or a
new complete one, never a half-built one.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core import paths

REPO = Path(__file__).resolve().parent.parent
SAVE_TRIALS = int(os.environ.get("GANSU_CRASH_SAVE_TRIALS", "50"))
BUILD_TRIALS = int(os.environ.get("GANSU_CRASH_BUILD_TRIALS", "15"))

pytestmark = pytest.mark.slow

# The helper process: forks one child per trial, kills it with SIGKILL at a random moment,
# checks the aftermath in the next child (store) or itself (build), prints one JSON line per trial.
HELPER = r'''
import json, os, random, select, signal, sys, time
mode, target, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)

import geopandas as gpd, shapely
from layers.store import Store
from core import paths
from geodata import build
G = gpd.GeoDataFrame({"k": [1], "名称": ["甲"]}, geometry=[shapely.box(104, 36, 104.01, 36.01)], crs=4326)
confirmed = {"parks": [], "scenarios": [], "layers": [], "checklist": -1}


def report(**kw):
    print(json.dumps(kw), flush=True)


def check_store(s):
    """Every save confirmed so far is present (run in a fresh process after each kill)."""
    parks = set(s.parks()["park_id"])
    scen = set(s.scenarios())
    layers = set(s.query_df("SELECT upload_id FROM user_layers")["upload_id"])
    nfeat = s.query_df("SELECT upload_id, count(*) AS n FROM user_features GROUP BY upload_id")
    nfeat = dict(zip(nfeat["upload_id"], nfeat["n"]))
    ck = s.checklist("C").get("i", -1)
    missing = [p for p in confirmed["parks"] if p not in parks] + \
              [x for x in confirmed["scenarios"] if x not in scen] + \
              [u for u in confirmed["layers"] if u not in layers or nfeat.get(u) != 3]
    if ck < confirmed["checklist"]:
        missing.append(f"checklist {ck} < {confirmed['checklist']}")
    return missing


def save_child(w, trial):
    out = os.fdopen(w, "w", buffering=1)
    s = Store(target)
    missing = check_store(s)
    out.write("READY " + json.dumps(missing) + "\n")
    i = 0
    g3 = gpd.GeoDataFrame({"n": [1, 2, 3]}, geometry=[shapely.box(100 + j, 35, 101 + j, 36) for j in range(3)], crs=4326)
    while True:
        k = i % 4
        if k == 0:
            out.write("PARK " + s.add_parks(G, names=[f"t{trial}-{i}"], source="drawn")[0] + "\n")
        elif k == 1:
            s.save_scenario(f"t{trial}-{i}", ["P01"], {"w": i})
            out.write(f"SCEN t{trial}-{i}\n")
        elif k == 2:
            seq = trial * 100000 + i
            s.save_checklist("C", {"i": seq})
            out.write(f"CHECK {seq}\n")
        else:
            out.write("LAYER " + s.save_user_layer(g3, replaces="zones", name=f"t{trial}", original_filename="x.zip",
                                                   source_crs="EPSG:4326") + "\n")
        i += 1


def build_child(w, trial):
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    build.build(force=True)
    os.write(w, b"DONE\n")
    os._exit(0)


BUILD_SECONDS = [None]


def run_trial(trial, kill=True):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            (save_child if mode == "save" else build_child)(w, trial)
        except BaseException as e:
            os.write(w, f"ERROR {e!r}\n".encode())
        os._exit(1)
    os.close(w)
    t0 = time.monotonic()
    buf, ready_at = b"", None
    early = mode == "save" and rng.random() < 0.1  # kill while the store opens (WAL replay)
    if mode == "save":
        delay = rng.uniform(0.0, 0.1) if early else rng.uniform(0.05, 0.5)
    else:
        delay = rng.uniform(0.05, 1.05 * BUILD_SECONDS[0]) if kill else 600.0
    while True:
        base = t0 if (early or mode == "build") else ready_at
        if base is not None and time.monotonic() >= base + delay:
            break
        timeout = 0.01 if base is None else max(0.0, base + delay - time.monotonic())
        rl, _, _ = select.select([r], [], [], min(timeout, 0.05))
        if rl:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            buf += chunk
            if ready_at is None and b"READY" in buf:
                ready_at = time.monotonic()
        if time.monotonic() - t0 > 120:
            break
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        buf += chunk
    os.close(r)
    lines = buf.decode(errors="replace").split("\n")[:-1]  # a partial last line is not a confirmation
    return time.monotonic() - t0, lines


old = paths.current_dir().name if mode == "build" else None
if mode == "build":  # one complete build first: how long a build takes here sets the kill window
    BUILD_SECONDS[0], lines = run_trial(-1, kill=False)
    report(full_build_seconds=round(BUILD_SECONDS[0], 2), completed="DONE" in lines,
           problems=build.verify_build(paths.current_dir()), current=paths.current_dir().name)
for trial in range(n):
    elapsed, lines = run_trial(trial)
    errors = [ln for ln in lines if ln.startswith("ERROR")]
    if mode == "save":
        ready = [json.loads(ln[6:]) for ln in lines if ln.startswith("READY ")]
        n_conf = 0
        for ln in lines:
            kind, _, val = ln.partition(" ")
            if kind == "PARK":
                confirmed["parks"].append(val)
            elif kind == "SCEN":
                confirmed["scenarios"].append(val)
            elif kind == "LAYER":
                confirmed["layers"].append(val)
            elif kind == "CHECK":
                confirmed["checklist"] = max(confirmed["checklist"], int(val))
            n_conf += kind in ("PARK", "SCEN", "LAYER", "CHECK")
        report(trial=trial, killed_after=round(elapsed, 3), confirmed=n_conf, errors=errors,
               missing_seen_by_next_open=None, ready=bool(ready), missing_before=ready[0] if ready else None)
    else:
        done = any(ln == "DONE" for ln in lines)
        cur = paths.current_dir()
        problems = build.verify_build(cur)
        try:
            paths.require_current()
            app_ok = True
        except Exception as e:
            app_ok = repr(e)
        report(trial=trial, killed_after=round(elapsed, 3), completed=done, current=cur.name, old=old,
               problems=problems, app_ok=app_ok, errors=errors,
               stray_links=[p.name for p in paths.data_root().glob(".current-*")])
if mode == "save":  # final check in a fresh process
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        s = Store(target)
        os.write(w, json.dumps(check_store(s)).encode())
        s.close()
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    report(final_missing=json.loads(data or b"null"), confirmed_total=len(confirmed["parks"]) + len(confirmed["scenarios"]) + len(confirmed["layers"]))
'''


def _run_helper(mode: str, target: str, n: int, seed: int, env: dict) -> list[dict]:
    r = subprocess.run([sys.executable, "-c", HELPER, mode, target, str(n), str(seed)], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=600)
    lines = [json.loads(ln) for ln in r.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"helper failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return lines


def test_sigkill_in_save_loops_never_loses_a_confirmed_save(tmp_path):
    rows = _run_helper("save", str(tmp_path / "crash.duckdb"), SAVE_TRIALS, 20261122, dict(os.environ))
    trials, final = rows[:-1], rows[-1]
    assert len(trials) == SAVE_TRIALS >= 50 or SAVE_TRIALS < 50
    assert not [t for t in trials if t["errors"]], [t for t in trials if t["errors"]][:3]
    # every trial after the first opened the store and found every earlier confirmed save
    opened = [t for t in trials if t["ready"]]
    assert len(opened) >= 0.8 * len(trials)
    assert all(t["missing_before"] == [] for t in opened), [t for t in opened if t["missing_before"]][:3]
    assert final["final_missing"] == [] and final["confirmed_total"] > 100
    killed_mid_loop = sum(1 for t in trials if t["confirmed"] > 0)
    print(f"\ncrash test (saves): {len(trials)} SIGKILL trials, {killed_mid_loop} mid-loop, "
          f"{len(trials) - len(opened)} during open; {final['confirmed_total']} confirmed saves, 0 lost")


def test_sigkill_in_data_builds_leaves_the_old_or_a_new_complete_build(dataset, tmp_path):
    root = tmp_path / "data"
    cur = paths.current_dir()
    (root / "builds").mkdir(parents=True)
    shutil.copytree(cur, root / "builds" / cur.name)
    os.symlink(Path("builds") / cur.name, root / "current")
    env = {**os.environ, "GANSU_DATA_DIR": str(root)}
    rows = _run_helper("build", "-", BUILD_TRIALS, 7, env)
    full, trials = rows[0], rows[1:]
    assert full["completed"] and full["problems"] == [] and full["current"] != cur.name, full
    assert len(trials) == BUILD_TRIALS
    for t in trials:
        assert t["problems"] == [] and t["app_ok"] is True, t
        assert not t["errors"], t
    # the build in use is the old one or one that a build completed (published after its checks)
    ids = {t["current"] for t in trials}
    assert all(i == cur.name or i.split("-")[-1] == cur.name.split("-")[-1] for i in ids)
    published = sum(1 for a, b in zip([full["current"]] + [t["current"] for t in trials], trials) if b["current"] != a)
    print(f"\ncrash test (builds): a build takes {full['full_build_seconds']} s; {len(trials)} SIGKILL trials at "
          f"0.05–{1.05 * full['full_build_seconds']:.1f} s, {published} ended with a new build in use, "
          f"{len(trials) - published} with the previous one; every one complete")

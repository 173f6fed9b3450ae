"""Crash safety (slow, but run by `make test`): SIGKILL at random points of

- a save loop (parks, scenarios, checklist inputs, replacement layers, each save one
  transaction; "confirmed" = the save returned, what the UI reports as saved): 50 trials, the
  kill 0.05–0.5 s after the store opened, a few during the open itself (WAL replay); on DuckDB and
  on PostgreSQL (``store_at``: there the server rolls back a killed client's open transaction and
  frees its write lock; the next trial's open waits for that);
- the data build (``geodata.build.build(force=True)``): 15 trials, the kill anywhere between the
  start and the end of a build (~4 s), i.e. while reading inputs, writing the GeoPackage, writing
  the manifest, checking or publishing; every third trial aimed at the writing of the new build
  (counted from the child's marker of its land-cover step).

Markers the child writes to the parent (inside each save's transaction, at each build step and
around the switch to a new build) tell where each kill landed; the tests assert that kills did land
inside transactions and while a new build was being written, not only that the store survived.

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
import contextlib, json, os, random, select, signal, sys, time
mode, target, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)

import geopandas as gpd, shapely
from storage.store import Store
from core import paths
from geodata import build, manifest
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
    # a save killed inside its transaction leaves nothing of itself: no layer with some of its features
    missing += [f"torn layer {u}: {nfeat.get(u, 0)} features" for u in layers if nfeat.get(u, 0) != 3]
    if ck < confirmed["checklist"]:
        missing.append(f"checklist {ck} < {confirmed['checklist']}")
    return missing


def save_child(w, trial):
    out = os.fdopen(w, "w", buffering=1)
    s = Store(target)
    missing = check_store(s)
    out.write("READY " + json.dumps(missing) + "\n")
    real_tx = s.transaction

    @contextlib.contextmanager
    def traced():  # markers around every write, so the parent knows where the kill landed
        with real_tx() as cur:
            out.write("TX\n")  # inside the transaction, before its writes
            yield cur
            out.write("COMMIT\n")  # the writes done, the commit next
        out.write("TXEND\n")  # committed

    s.transaction = traced
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
    real_log, real_publish = build.log, build.publish

    def log(msg):  # each step of the build: the second (land cover) writes the first file of the new build
        os.write(w, f"STEP {msg}\n".encode())
        real_log(msg)

    def publish(tmp, build_id):  # right before and after the switch to the new build
        os.write(w, b"PUBLISH\n")
        out = real_publish(tmp, build_id)
        os.write(w, b"PUBLISHED\n")
        return out

    build.log, build.publish = log, publish
    build.build(force=True)
    os.write(w, b"DONE\n")
    os._exit(0)


BUILD_SECONDS = [None]
WRITE_SECONDS = [None]  # from the land-cover step (the first file of the new build) to the end
WRITING_AFTER = [None]


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
    buf, ready_at, writing_at = b"", None, None
    early = mode == "save" and rng.random() < 0.1  # kill while the store opens (WAL replay)
    # every third build trial is aimed at the writing of the new build: its kill moment counts from
    # the land-cover step (waiting on that marker, not on a time), the others from the start
    aim = mode == "build" and kill and trial % 3 == 0
    if mode == "save":
        delay = rng.uniform(0.0, 0.1) if early else rng.uniform(0.05, 0.5)
    elif aim:
        delay = rng.uniform(0.05, 0.8 * WRITE_SECONDS[0])
    else:
        delay = rng.uniform(0.05, 1.05 * BUILD_SECONDS[0]) if kill else 600.0
    while True:
        base = writing_at if aim else t0 if (early or mode == "build") else ready_at
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
            if writing_at is None and buf.count(b"STEP ") >= 2:
                writing_at = time.monotonic()
                WRITING_AFTER[0] = writing_at - t0
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
prev_current = old
if mode == "build":  # one complete build first: how long a build takes here sets the kill window
    BUILD_SECONDS[0], lines = run_trial(-1, kill=False)
    WRITE_SECONDS[0] = BUILD_SECONDS[0] - WRITING_AFTER[0]
    prev_current = paths.current_dir().name
    report(full_build_seconds=round(BUILD_SECONDS[0], 2), completed="DONE" in lines,
           problems=manifest.verify_build(paths.current_dir()), current=paths.current_dir().name)
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
        marks = [ln for ln in lines if ln in ("TX", "COMMIT", "TXEND")]
        report(trial=trial, killed_after=round(elapsed, 3), confirmed=n_conf, errors=errors,
               missing_seen_by_next_open=None, ready=bool(ready), missing_before=ready[0] if ready else None,
               killed_in_transaction=bool(marks) and marks[-1] != "TXEND")
    else:
        done = any(ln == "DONE" for ln in lines)
        before = prev_current
        cur = paths.current_dir()
        prev_current = cur.name
        problems = manifest.verify_build(cur)
        try:
            paths.require_current()
            app_ok = True
        except Exception as e:
            app_ok = repr(e)
        steps = [ln for ln in lines if ln.startswith("STEP ")]
        report(trial=trial, killed_after=round(elapsed, 3), completed=done, current=cur.name, old=old,
               problems=problems, app_ok=app_ok, errors=errors, before=before,
               stray_links=[p.name for p in paths.data_root().glob(".current-*")],
               # where the kill landed: while the new build was being written (its files: from the
               # land-cover step on, before the switch), or after the switch to it
               mid_write=len(steps) >= 2 and "PUBLISH" not in lines, published="PUBLISHED" in lines)
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


def test_sigkill_in_save_loops_never_loses_a_confirmed_save(store_at):
    rows = _run_helper("save", str(store_at("crash")), SAVE_TRIALS, 20261122, dict(os.environ))
    trials, final = rows[:-1], rows[-1]
    assert len(trials) == SAVE_TRIALS >= 50 or SAVE_TRIALS < 50
    assert not [t for t in trials if t["errors"]], [t for t in trials if t["errors"]][:3]
    # every trial after the first opened the store and found every earlier confirmed save
    opened = [t for t in trials if t["ready"]]
    assert len(opened) >= 0.8 * len(trials)
    assert all(t["missing_before"] == [] for t in opened), [t for t in opened if t["missing_before"]][:3]
    assert final["final_missing"] == [] and final["confirmed_total"] > 100
    killed_mid_loop = sum(1 for t in trials if t["confirmed"] > 0)
    # the kills did land inside writes (between BEGIN and the end of COMMIT), not only between saves
    in_tx = sum(1 for t in trials if t["killed_in_transaction"])
    assert in_tx >= max(3, len(opened) // 5), (in_tx, len(opened))
    print(f"\ncrash test (saves, {store_at.backend}): {len(trials)} SIGKILL trials, {killed_mid_loop} mid-loop, "
          f"{in_tx} inside a transaction, {len(trials) - len(opened)} during open; "
          f"{final['confirmed_total']} confirmed saves, 0 lost")


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
        if t["mid_write"]:  # killed while writing the new build: the one before stays in use
            assert t["current"] == t["before"], t
        if t["published"]:  # killed after the switch: the new, complete build is in use
            assert t["current"] != t["before"], t
    # the kills did land while a new build was being written, not only before it started
    mid = sum(1 for t in trials if t["mid_write"])
    aimed = [t for t in trials if t["trial"] % 3 == 0]  # killed a moment after writing began
    assert sum(1 for t in aimed if t["mid_write"]) >= len(aimed) // 2, \
        [(t["trial"], t["killed_after"], t["mid_write"], t["published"]) for t in trials]
    # the build in use is the old one or one that a build completed (published after its checks)
    ids = {t["current"] for t in trials}
    assert all(i == cur.name or i.split("-")[-1] == cur.name.split("-")[-1] for i in ids)
    published = sum(1 for a, b in zip([full["current"]] + [t["current"] for t in trials], trials) if b["current"] != a)
    print(f"\ncrash test (builds): a build takes {full['full_build_seconds']} s; {len(trials)} SIGKILL trials at "
          f"0.05–{1.05 * full['full_build_seconds']:.1f} s, {mid} while the new build was being written, "
          f"{published} ended with a new build in use, "
          f"{len(trials) - published} with the previous one; every one complete")

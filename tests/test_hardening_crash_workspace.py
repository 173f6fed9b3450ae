"""Crash safety of imports into the workspace (slow, run by `make test`): SIGKILL at random points of
a loop that registers datasets through ``storage.workspace`` — one land-cover file and a mosaic of
four tiles (hash, scan pass, display copy, VRT), an OSM extract, a transport file, a red line,
zones and parks, most of them put in use as they are registered.

``GANSU_CRASH_IMPORT_TRIALS`` trials (default 15), the kill 0.05–1.2 s after the store opened (a
few during the open itself). Each trial is a process forked from a helper that imported everything
once; the next trial's child checks the aftermath before it starts registering, a last child checks
the end state: the store opens; every dataset listed is complete (its files exist and open, its
features/pixels are all there, ``verify`` passes); every confirmed registration is listed; the
data in use names only listed datasets, and the land cover in use is the one before the trial or
one registered (completely) during it. Then the folders left by killed imports are swept and the
dashboard's run inputs are assembled from what is in use. On DuckDB and on PostgreSQL (``store_at``:
the dataset files are the workspace folder's either way; the store's rows are the database's).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TRIALS = int(os.environ.get("GANSU_CRASH_IMPORT_TRIALS", "15"))

pytestmark = pytest.mark.slow

HELPER = r'''
import contextlib, json, os, random, select, signal, sys, time
from pathlib import Path
target, folder, n, seed = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)

import geopandas as gpd, rasterio, shapely
from storage.store import Store
from storage import raster_register, vector_register
from storage import workspace as ws
from tests import workspace_fixtures as wf

BOX = (103.55, 36.40, 103.85, 36.62)  # ~ 900 x 800 pixels of 30 m
lc = wf.clcd_landcover(folder / "clcd.tif", box=BOX)
tiles = wf.quadrant_tiles(lc, folder / "tiles")
osm = wf.osm_near(103.66, 36.52, folder / "lz.osm")
rail = folder / "rail.gpkg"
gpd.GeoDataFrame(geometry=[shapely.LineString([(103.6, 36.4 + i / 100), (103.8, 36.45 + i / 100)]) for i in range(40)],
                 crs=4326).to_file(rail, layer="rail")
red = folder / "red.gpkg"
gpd.GeoDataFrame({"name": [f"r{i}" for i in range(30)]},
                 geometry=[shapely.box(103.6 + i / 200, 36.45, 103.602 + i / 200, 36.47) for i in range(30)],
                 crs=4326).to_file(red, layer="red")
zones = folder / "zones.gpkg"
gpd.GeoDataFrame({"zone": ["甲", "乙"]}, geometry=[shapely.box(92, 32, 100, 43), shapely.box(100, 32, 109, 43)],
                 crs=4326).to_file(zones, layer="zones")
parks = folder / "parks.gpkg"
gpd.GeoDataFrame({"name": ["一", "二", "三"]}, geometry=[shapely.box(103.6 + i / 50, 36.5, 103.61 + i / 50, 36.51)
                                                       for i in range(3)], crs=4326).to_file(parks, layer="parks")


def register(s, i):
    k = i % 7
    if k == 0:
        return raster_register.register_landcover(s, [lc], legend="clcd", year=2000 + i % 30, use=True)
    if k == 1:
        return raster_register.register_landcover(s, tiles, legend="clcd", use=True)
    if k == 2:
        return vector_register.register_osm(s, osm, use=True)
    if k == 3:
        return vector_register.register_vector(s, rail, "transport", kind="railway", use=rng.random() < 0.5)
    if k == 4:
        return vector_register.register_vector(s, red, "redline", use=True)
    if k == 5:
        return vector_register.register_vector(s, zones, "zones", use=True)
    return vector_register.register_vector(s, parks, "parks")


def check(s, confirmed, prev_lc):
    """Problems in the store after a kill (empty list: everything complete)."""
    probs = []
    listed = {d.id: d for d in ws.datasets(s)}
    feats = s.query_df("SELECT dataset_id, count(*) AS n FROM dataset_features GROUP BY dataset_id")
    feats = dict(zip(feats["dataset_id"], feats["n"]))
    uf = s.query_df("SELECT upload_id, count(*) AS n FROM user_features GROUP BY upload_id")
    uf = dict(zip(uf["upload_id"], uf["n"]))
    park_ids = set(s.parks()["park_id"])
    for d in listed.values():
        try:
            ws.verify(d)
        except Exception as e:
            probs.append(f"{d.id} verify: {e}")
        if d.role == "landcover":
            for p in (d.raster_path, d.display_path):
                if not p or not Path(p).is_file():
                    probs.append(f"{d.id} missing {p}")
                    continue
                try:
                    with rasterio.open(p) as r:
                        r.read(1, window=((r.height - 1, r.height), (0, r.width)))
                except Exception as e:
                    probs.append(f"{d.id} unreadable {p}: {e}")
            if not d.codes or sum(d.codes.values()) > d.n_pixels:
                probs.append(f"{d.id} codes")
        elif d.role == "transport" and feats.get(d.id, 0) != d.n_features:
            probs.append(f"{d.id} transport features {feats.get(d.id, 0)} != {d.n_features}")
        elif d.role in ("redline", "zones") and uf.get(d.upload_id, 0) != d.n_features:
            probs.append(f"{d.id} {d.role} features {uf.get(d.upload_id, 0)} != {d.n_features}")
        elif d.role == "parks" and (len(d.park_ids) != d.n_features or not set(d.park_ids) <= park_ids):
            probs.append(f"{d.id} parks")
    probs += [f"confirmed {i} lost" for i in confirmed if i not in listed]
    chosen = ws.in_use(s)
    for role, ids in chosen.items():
        probs += [f"in use {role}: {i} not listed" for i in ids if i != ws.BUILTIN_AIRPORTS and i not in listed]
    lc_now = chosen.get("landcover", [])
    if lc_now != prev_lc and not (lc_now and lc_now[0] in listed):
        probs.append(f"land cover in use {lc_now}: neither the previous {prev_lc} nor a registered one")
    return probs, lc_now, sorted(listed)


def child(w, trial, confirmed, prev_lc):
    out = os.fdopen(w, "w", buffering=1)
    s = Store(target)
    probs, lc_now, listed = check(s, confirmed, prev_lc)
    out.write("READY " + json.dumps({"problems": probs, "lc": lc_now, "listed": listed}) + "\n")
    real_tx = s.transaction

    @contextlib.contextmanager
    def traced():  # markers around the store's writes, so the parent knows where the kill landed
        with real_tx() as cur:
            out.write("TX\n")
            yield cur
        out.write("TXEND\n")

    s.transaction = traced
    i = trial
    while True:
        out.write(f"BEGIN {i}\n")  # files hashed, scanned, copied, then the store's transaction
        d = register(s, i)
        out.write(f"REG {d.id} {d.role}\n")
        i += 1


def run_trial(trial, confirmed, prev_lc, final=False):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            if final:
                s = Store(target)
                probs, lc_now, listed = check(s, confirmed, prev_lc)
                swept = ws.sweep_orphans(s, min_age_s=0)
                left = [p.name for p in ws.paths.workspace_dir().iterdir() if p.name not in set(listed)]
                probs2, _, _ = check(s, confirmed, prev_lc)
                from indicators import runs
                inputs = runs.inputs_from_workspace(s)
                os.write(w, ("FINAL " + json.dumps({"problems": probs + probs2, "lc": lc_now, "listed": listed,
                             "swept": len(swept), "left": left, "inputs_landcover": inputs.landcover}) + "\n").encode())
                s.close()
                os._exit(0)
            child(w, trial, confirmed, prev_lc)
        except BaseException as e:
            os.write(w, f"ERROR {e!r}\n".encode())
        os._exit(1)
    os.close(w)
    t0 = time.monotonic()
    early = not final and rng.random() < 0.1  # kill while the store opens (WAL replay)
    delay = rng.uniform(0.0, 0.15) if early else rng.uniform(0.05, 1.2)
    buf, ready_at = b"", None
    while not final:
        base = t0 if early else ready_at
        if base is not None and time.monotonic() >= base + delay:
            break
        rl, _, _ = select.select([r], [], [], 0.01 if base is None else min(0.05, max(0.0, base + delay - time.monotonic())))
        if rl:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            buf += chunk
            if ready_at is None and b"READY" in buf:
                ready_at = time.monotonic()
        if time.monotonic() - t0 > 60:
            break
    if not final:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    while chunk := os.read(r, 65536):
        buf += chunk
    os.close(r)
    return time.monotonic() - t0, buf.decode(errors="replace").split("\n")[:-1]


confirmed, prev_lc = [], []
for trial in range(n):
    elapsed, lines = run_trial(trial, confirmed, prev_lc)
    ready = [json.loads(ln[6:]) for ln in lines if ln.startswith("READY ")]
    regs = [ln.split()[1:] for ln in lines if ln.startswith("REG ")]
    if ready:
        prev_lc = ready[0]["lc"]
    lc_before = prev_lc
    confirmed += [i for i, _ in regs]
    for i, role in regs:  # what a confirmed registration put in use (land cover: the newest)
        if role == "landcover":
            prev_lc = [i]
    marks = [ln.split()[0] for ln in lines if ln.split()[:1] in (["BEGIN"], ["REG"], ["TX"], ["TXEND"])]
    print(json.dumps({"trial": trial, "killed_after": round(elapsed, 3), "ready": bool(ready),
                      # killed while registering (after BEGIN, before its REG), and inside the store's write
                      "mid_registration": bool(marks) and marks[-1] != "REG",
                      "in_transaction": bool(marks) and marks[-1] == "TX",
                      "problems": ready[0]["problems"] if ready else None, "lc_before": lc_before,
                      "registered": len(regs), "roles": sorted({r for _, r in regs}),
                      "errors": [ln for ln in lines if ln.startswith("ERROR")]}), flush=True)
_, lines = run_trial(n, confirmed, prev_lc, final=True)
final = [json.loads(ln[6:]) for ln in lines if ln.startswith("FINAL ")]
print(json.dumps({"final": final[0] if final else None, "confirmed": len(confirmed),
                  "errors": [ln for ln in lines if ln.startswith("ERROR")]}), flush=True)
'''


def test_sigkill_during_imports_leaves_complete_datasets_and_the_data_in_use(tmp_path, store_at):
    env = {**os.environ, "GANSU_WORKSPACE_DIR": str(tmp_path / "workspace"), "GANSU_IMPORT_DIR": str(tmp_path / "import")}
    (tmp_path / "files").mkdir()
    r = subprocess.run([sys.executable, "-c", HELPER, str(store_at("crash")), str(tmp_path / "files"),
                        str(TRIALS), "20261127"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    rows = [json.loads(ln) for ln in r.stdout.splitlines() if ln.startswith("{")]
    assert rows and "final" in rows[-1], f"helper failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    trials, end = rows[:-1], rows[-1]
    assert len(trials) == TRIALS
    assert not [t for t in trials if t["errors"]], [t for t in trials if t["errors"]][:3]
    opened = [t for t in trials if t["ready"]]
    assert len(opened) >= 0.6 * len(trials)
    assert all(t["problems"] == [] for t in opened), [t for t in opened if t["problems"]][:3]
    final = end["final"]
    assert final is not None and not end["errors"], end
    assert final["problems"] == [], final["problems"][:5]
    assert final["left"] == []  # folders of killed imports swept, every registered one kept
    assert end["confirmed"] >= 5
    mid = sum(1 for t in trials if t["registered"] > 0)
    # the kills did land while a registration was writing (its files or its transaction)
    writing = sum(1 for t in trials if t["mid_registration"])
    in_tx = sum(1 for t in trials if t["in_transaction"])
    assert writing >= len(opened) // 2, [(t["killed_after"], t["mid_registration"]) for t in trials]
    print(f"\ncrash test (imports, {store_at.backend}): {len(trials)} SIGKILL trials, "
          f"{len(trials) - len(opened)} during the open, {mid} after at least one confirmed registration, "
          f"{writing} while registering ({in_tx} inside the "
          f"store's transaction); {end['confirmed']} confirmed registrations, "
          f"{len(final['listed'])} datasets listed, all complete; {final['swept']} folders of killed imports swept")

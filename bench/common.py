"""Run each side of a benchmark in its own subprocess; report time and peak RSS side by side
(peak RSS of the timed statement alone, see ``_CHILD``)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Child template: setup code runs untimed, then the timed statement; prints JSON. Peak memory is
# that of the timed statement: the kernel's high-water mark is reset (/proc/self/clear_refs) right
# before it and read (VmHWM) right after, so untimed setup (building inputs) is not counted;
# ``base_mb`` is the resident memory when the timed statement starts (what setup left behind).
_CHILD = """
import json, resource, time, sys
sys.path.insert(0, {repo!r})
{setup}
def _status(field):
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) / 1024 for l in f if l.startswith(field + ":"))
    except (OSError, StopIteration):
        return None
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    _reset = True
except OSError:
    _reset = False
_base = _status("VmRSS")
t0 = time.perf_counter()
{stmt}
dt = time.perf_counter() - t0
_peak = _status("VmHWM") if _reset else None
print(json.dumps({{"seconds": dt, "peak_mb": _peak or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "base_mb": _base, "check": str({check})}}))
"""


def run_side(setup: str, stmt: str, check: str = "None", timeout: float = 900) -> dict:
    code = _CHILD.format(repo=str(REPO), setup=setup, stmt=stmt, check=check)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=REPO)
    if res.returncode != 0:
        raise RuntimeError(f"benchmark side failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def compare(title: str, ours: tuple[str, str, str], peer: tuple[str, str, str], peer_name: str,
            repeats: int = 2) -> dict:
    """Alternate the two sides ``repeats`` times; best time, max peak RSS of each."""
    o_runs, p_runs = [], []
    for _ in range(repeats):
        o_runs.append(run_side(*ours))
        p_runs.append(run_side(*peer))
    o = min(r["seconds"] for r in o_runs)
    p = min(r["seconds"] for r in p_runs)
    om = max(r["peak_mb"] for r in o_runs)
    pm = max(r["peak_mb"] for r in p_runs)
    print(f"\n== {title}")
    print(f"{'side':<28}{'time s':>10}{'peak RSS MB':>14}")
    print(f"{'ours':<28}{o:>10.3f}{om:>14.0f}")
    print(f"{peer_name:<28}{p:>10.3f}{pm:>14.0f}")
    print(f"{'ratio ours/peer':<28}{o / p:>10.3f}{om / pm:>14.3f}")
    print(f"checks: ours={o_runs[0]['check']} peer={p_runs[0]['check']}")
    return {"title": title, "ours_s": o, "peer_s": p, "ratio": o / p, "ours_mb": om, "peer_mb": pm,
            "mem_ratio": om / pm}

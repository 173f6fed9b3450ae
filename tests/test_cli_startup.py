"""``python -m cli parks --help`` loads no cluster and no compiler: Dask, distributed and numba are
imported only by the commands that run on them (start-up time). Checked on ``sys.modules`` of a
fresh process, not with a clock."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ["dask", "distributed", "numba"]

# runs ``python -m cli ARGS`` in this process (after ``before``), then prints what was loaded
PROBE = """
import json, runpy, sys
{before}
sys.argv = ["cli", *{args!r}]
try:
    runpy.run_module("cli", run_name="__main__", alter_sys=True)
    code = 0
except SystemExit as exc:
    code = exc.code
print(json.dumps({{"code": code, "loaded": sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))}}))
"""


def _probe(args: list[str], before: str = "") -> tuple[str, dict]:
    res = subprocess.run([sys.executable, "-c", PROBE.format(before=before, args=args, heavy=HEAVY)],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    lines = res.stdout.strip().splitlines()
    assert lines, res.stderr
    return "\n".join(lines[:-1]), json.loads(lines[-1])


def test_parks_help_imports_no_dask_distributed_or_numba():
    text, got = _probe(["parks", "--help"])
    assert got["code"] == 0 and "--parks" in text and "--landcover" in text  # the help was printed
    assert got["loaded"] == [], got["loaded"]


def test_the_probe_sees_a_heavy_import():
    """The check above can fail: numba loaded before the command is reported."""
    _, got = _probe(["parks", "--help"], before="import zonal.kernels")
    assert got["code"] == 0 and got["loaded"] == ["numba"]

"""Two processes writing one PostgreSQL store at the same time (what the CLI and several dashboard
processes do): every save of both is there and the audit log's hash chain did not fork. Each
process adds a park and appends an audit row per round; the rounds start together (both wait for
the test's "GO i"), so the two processes' transactions race each round. What keeps the chain
whole: every write transaction first takes one advisory lock (``storage.pg.WRITE_LOCK``), so
reading the chain's head and appending to it never interleave between processes.

PostgreSQL only: DuckDB admits one writing process (a second one is refused: tests/test_store.py)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from storage import audit
from storage.store import Store

REPO = Path(__file__).resolve().parent.parent
ROUNDS = 20

WRITER = r"""
import sys
import geopandas as gpd, shapely
from storage import audit
from storage.store import Store
tag, url, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = Store(url)
g = gpd.GeoDataFrame({"k": [1]}, geometry=[shapely.box(104, 36, 104.01, 36.01)], crs=4326)
print("READY", flush=True)
for i in range(rounds):
    if sys.stdin.readline().strip() != f"GO {i}":
        sys.exit(3)
    pid = s.add_parks(g, names=[f"{tag}-{i}"], source="drawn")[0]
    with s.transaction() as cur:
        audit.record(cur, tag, "concurrency_probe", "test", f"{tag}-{i}")
    print("DONE", i, pid, flush=True)
s.close()
"""


@pytest.mark.parametrize("backend", ["postgresql"])  # store_at on PostgreSQL only (see the docstring)
def test_two_processes_writing_at_once_lose_nothing_and_keep_one_audit_chain(store_at):
    url = str(store_at("shared"))
    Store(url).close()  # made (migrations applied) before the race: the race is about the writes
    procs = {tag: subprocess.Popen([sys.executable, "-c", WRITER, tag, url, str(ROUNDS)], cwd=REPO, text=True,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for tag in ("A", "B")}
    done: dict[str, list[str]] = {tag: [] for tag in procs}
    try:
        for tag, p in procs.items():
            assert p.stdout.readline().strip() == "READY", p.stderr.read()[-3000:]
        for i in range(ROUNDS):
            for p in procs.values():  # both start round i together
                p.stdin.write(f"GO {i}\n")
                p.stdin.flush()
            for tag, p in procs.items():
                line = p.stdout.readline().split()
                assert line[:2] == ["DONE", str(i)], f"writer {tag}, round {i}: {line}\n{p.stderr.read()[-3000:]}"
                done[tag].append(line[2])
        for tag, p in procs.items():
            p.stdin.close()
            assert p.wait(timeout=60) == 0, p.stderr.read()[-3000:]
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    s = Store(url)
    try:
        parks = s.parks()
        assert sorted(parks["name"]) == sorted(f"{t}-{i}" for t in "AB" for i in range(ROUNDS))
        assert set(parks["park_id"]) == set(done["A"]) | set(done["B"]) and len(parks) == 2 * ROUNDS
        probes = audit.rows(s, limit=10_000, action="concurrency_probe").sort_values("seq")
        assert sorted(probes["item_id"]) == sorted(f"{t}-{i}" for t in "AB" for i in range(ROUNDS))
        # both wrote in every round: in the log's order the writer changes at least once a round
        actors = list(probes["actor"])
        assert sum(a != b for a, b in zip(actors, actors[1:])) >= ROUNDS - 1, actors
        added = audit.rows(s, limit=10_000, action="park_add")
        assert sorted(added["item_id"]) == sorted(parks["park_id"])
        v = audit.verify(s)  # one chain: no row's previous hash is another's too
        assert v.ok, v.message.en
        assert v.rows == len(audit.rows(s, limit=10_000)) >= 4 * ROUNDS
    finally:
        s.close()

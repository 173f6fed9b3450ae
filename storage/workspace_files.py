"""Where the workspace folder of a dataset lives while it moves between the workspace and the
recycle bin, so that a crash at any point loses nothing (``storage.workspace`` calls these).

A dataset's folder is ``<workspace>/<id>``; a binned dataset's folder waits in
``<workspace>/.bin/<id>``. File moves cannot be part of the store transaction, so they are
ordered around it:

- **remove**: commit the store change first (the dataset becomes a bin entry), then move the
  folder into ``.bin``;
- **restore**: move the folder out of ``.bin`` first, then commit (the bin entry becomes a dataset);
- **empty the bin**: commit first, then delete the files.

Hence at every moment a listed dataset's folder is at ``<workspace>/<id>``, and a binned
dataset's folder is at either place — both are "owned". The orphan sweep reads datasets and bin
entries in one query (one snapshot: never between the two halves of a commit) and deletes only
folders owned by neither; it also finishes interrupted moves (``reconcile``). Moves, purges and
sweeps of one process hold ``MOVES``; another process cannot change the store meanwhile (DuckDB:
one writer).

May import: ``core`` (it is part of ``layers``).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import threading
from pathlib import Path

from core import paths

MOVES = threading.RLock()
DATASET_DIR = re.compile(r"D[0-9A-F]{9}")


def bin_dir() -> Path:
    """Where the workspace folders of binned datasets wait (not a dataset id: never swept as one)."""
    return paths.workspace_dir() / ".bin"


def owners(store) -> dict[str, str]:
    """{dataset id: "dataset" | "bin"} — listed datasets and binned ones, one consistent snapshot."""
    df = store.query_df("SELECT dataset_id AS id, 'dataset' AS place FROM datasets UNION ALL "
                        "SELECT item_id, 'bin' FROM recycle_bin WHERE item_type = 'dataset'")
    out: dict[str, str] = {}
    for i, place in zip(df["id"], df["place"]):
        out[i] = "dataset" if out.get(i) == "dataset" else place
    return out


def referenced_paths(store) -> set[str]:
    """Every file path a listed dataset or a dataset in the recycle bin depends on."""
    df = store.query_df("SELECT CAST(record AS VARCHAR) AS record FROM datasets UNION ALL SELECT json_extract_string(payload, '$.dataset.record') "
                        "FROM recycle_bin WHERE item_type = 'dataset'")
    out = set()
    for rec in df["record"]:
        if isinstance(rec, str):
            out |= {f.get("path") for f in json.loads(rec).get("files") or []}
    return out


def into_bin(dataset_id: str) -> None:
    """Move ``<workspace>/<id>`` to ``.bin/<id>`` (nothing to do when it is there already)."""
    folder, binned = paths.workspace_dir() / dataset_id, bin_dir() / dataset_id
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(binned, ignore_errors=True)  # a stale copy of the same dataset (ids are unique)
        binned.parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder, binned)


def out_of_bin(dataset_id: str) -> None:
    """Move ``.bin/<id>`` back to ``<workspace>/<id>`` (nothing to do when it is there already)."""
    folder, binned = paths.workspace_dir() / dataset_id, bin_dir() / dataset_id
    if binned.is_dir() and not folder.exists():
        os.replace(binned, folder)


def reconcile(store, snapshot: dict[str, str] | None = None) -> list[Path]:
    """Finish moves a crash interrupted: a binned dataset's folder still in the workspace goes to
    ``.bin``; a listed dataset's folder still in ``.bin`` comes back; a ``.bin`` folder owned by
    nothing (the bin entry was purged, the files not yet) is deleted. Returns what was deleted."""
    own = owners(store) if snapshot is None else snapshot
    root, gone = paths.workspace_dir(), []
    for i, place in own.items():
        if place == "bin" and (root / i).is_dir() and not (bin_dir() / i).exists():
            into_bin(i)
    if bin_dir().is_dir():
        for p in bin_dir().iterdir():
            if not DATASET_DIR.fullmatch(p.name) or p.is_symlink() or not p.is_dir():
                continue
            if own.get(p.name) == "dataset":
                out_of_bin(p.name)
            elif p.name not in own:
                shutil.rmtree(p, ignore_errors=True)
                gone.append(p)
    return gone


def sweep_orphans(store, min_age_s: float = 24 * 3600) -> list[Path]:
    """Delete workspace folders that no dataset owns: what a killed or failed import left (a copied
    upload, a partial display copy or VRT). Only folders named like a dataset id, owned neither by
    a listed dataset nor by one in the recycle bin (one snapshot of both), whose newest file is
    older than ``min_age_s``, so an import still running in another process is never touched.
    Moves a crash interrupted are finished first (``storage.workspacereconcile``: this also
    deletes ``.bin`` folders whose bin entry was purged). Referenced files (import folder) are
    outside the workspace and never deleted."""
    import time

    root = paths.workspace_dir()
    if not root.is_dir():
        return []
    with MOVES:
        known = owners(store)
        out = reconcile(store, known)
        now = time.time()
        for p in root.iterdir():
            if p.name in known or not p.is_dir() or p.is_symlink() or not DATASET_DIR.fullmatch(p.name):
                continue
            try:
                newest = max([p.stat().st_mtime] + [f.stat().st_mtime for f in p.rglob("*")])
            except OSError:
                continue
            if now - newest >= min_age_s:
                shutil.rmtree(p, ignore_errors=True)
                out.append(p)
    return out

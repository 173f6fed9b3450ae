"""Result tables handed from the command line to a running dashboard.

DuckDB allows one writer: while the dashboard runs it holds the store, so ``python -m cli …
--into-store NAME`` cannot write there. The CLI then queues the table in a folder next to the
store (``<store>-inbox/``: a Parquet file, then a JSON note written last as the "complete" mark)
and the dashboard takes queued tables in (``ingest``) when its Data page opens, as the server's
shell (the one that ran the command), each as a new version, audited like a direct write.
"""
from __future__ import annotations

import getpass
import json
import os
import uuid
from pathlib import Path

import pandas as pd

from layers.accounts import SHELL


def inbox_dir(store_path: str | Path) -> Path:
    p = Path(store_path)
    return p.with_name(f"{p.stem}-inbox")


def queue(store_path: str | Path, name: str, kind: str, df: pd.DataFrame, args: dict | None = None) -> Path:
    """Write one table to the inbox; returns the note's path."""
    folder = inbox_dir(store_path)
    folder.mkdir(parents=True, exist_ok=True)
    key = uuid.uuid4().hex
    data = folder / f"{key}.parquet"
    tmp = folder / f".{key}.parquet.tmp"
    df.to_parquet(tmp, index=False)
    os.replace(tmp, data)
    note = {"name": name, "kind": kind, "args": args or {}, "data": data.name, "queued_by": _user()}
    tmp = folder / f".{key}.json.tmp"
    tmp.write_text(json.dumps(note, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / f"{key}.json")  # the mark: the table is complete
    return folder / f"{key}.json"


def pending(store_path: str | Path) -> list[Path]:
    folder = inbox_dir(store_path)
    return sorted(folder.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name)) if folder.is_dir() else []


def ingest(store) -> list[dict]:
    """Move every complete queued table into ``store`` (oldest first); returns what was stored.

    Each note is claimed first (renamed to ``.taking``: two sessions opening the Data page at once
    cannot store it twice); a note that cannot be read goes to ``failed/`` with its data, so one
    bad file never blocks the ones behind it."""
    out = []
    for note_path in pending(store.path):
        claimed = note_path.with_suffix(".taking")
        try:
            os.replace(note_path, claimed)
        except FileNotFoundError:  # another session took it
            continue
        data = None
        try:
            note = json.loads(claimed.read_text(encoding="utf-8"))
            data = claimed.with_name(note["data"])
            df = pd.read_parquet(data)
            args = {**note.get("args", {}), "queued_by": note.get("queued_by", "")}
            out.append(store.put_result_table(note["name"], note["kind"], df, args, actor=SHELL))
        except Exception:  # noqa: BLE001 - any unreadable note is set aside, named in failed/
            failed = claimed.parent / "failed"
            failed.mkdir(exist_ok=True)
            os.replace(claimed, failed / claimed.with_suffix(".json").name)
            if data is not None and data.exists():
                os.replace(data, failed / data.name)
            continue
        claimed.unlink()
        data.unlink(missing_ok=True)
    return out


def failed(store_path: str | Path) -> list[Path]:
    """Notes that could not be taken in (kept for a person to look at)."""
    folder = inbox_dir(store_path) / "failed"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name (containers): not worth failing a run for
        return ""

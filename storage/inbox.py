"""Result tables handed from the command line to a running dashboard.

DuckDB allows one writer: while the dashboard runs it holds the store, so ``python -m cli …
--into-store NAME`` cannot write there. The CLI then queues the table in a folder next to the
store (``<store>-inbox/``, owner-only 0700: a Parquet file, then a JSON note written last as the
"complete" mark) and the dashboard takes queued tables in (``ingest``) when a signed-in editor or
admin (anyone in single-user mode) opens the Data page: each as a new version, stored and audited
as done by that user on behalf of whoever queued it.

Whoever queued it is the note file's owner on disk (its uid's login name), never what the note
says; a note or data file owned by another user than the server's (or not a plain file) is set
aside in ``failed/`` untouched. On systems without user ids (Windows) the owner check is skipped.

A PostgreSQL store has no inbox: many processes write it at once, so the CLI stores the table
itself (``ingest`` returns nothing there).
"""
from __future__ import annotations

import json
import os
import stat
import uuid
from pathlib import Path

import pandas as pd

from core.errors import PermissionDenied

try:
    import pwd
except ImportError:  # Windows: no user database
    pwd = None


def inbox_dir(store_path: str | Path) -> Path:
    if str(store_path).startswith(("postgresql://", "postgres://")):
        raise ValueError("a PostgreSQL store has no inbox: the command line writes to it directly")
    p = Path(store_path)
    return p.with_name(f"{p.stem}-inbox")


def _owner_only(folder: Path) -> Path:
    """Create ``folder`` (mode 0700), or make it 0700 when it is ours; never follows a symlink."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = folder.lstat()
    if stat.S_ISDIR(st.st_mode) and (not hasattr(os, "geteuid") or st.st_uid == os.geteuid()):
        os.chmod(folder, 0o700)
    return folder


def queue(store_path: str | Path, name: str, kind: str, df: pd.DataFrame, args: dict | None = None) -> Path:
    """Write one table to the inbox; returns the note's path."""
    folder = _owner_only(inbox_dir(store_path))
    key = uuid.uuid4().hex
    data = folder / f"{key}.parquet"
    tmp = folder / f".{key}.parquet.tmp"
    df.to_parquet(tmp, index=False)
    os.replace(tmp, data)
    note = {"name": name, "kind": kind, "args": args or {}, "data": data.name}
    tmp = folder / f".{key}.json.tmp"
    tmp.write_text(json.dumps(note, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / f"{key}.json")  # the mark: the table is complete
    return folder / f"{key}.json"


def pending(store_path: str | Path) -> list[Path]:
    folder = inbox_dir(store_path)
    return sorted(folder.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name)) if folder.is_dir() else []


class _Foreign(Exception):
    """A note or data file of another user, or not a plain file: set aside, never read."""


def _own_file(path: Path, uid: int | None) -> int | None:
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode) or (uid is not None and st.st_uid != uid):
        raise _Foreign(path.name)
    return st.st_uid if uid is not None else None


def user_name(uid: int | None) -> str:
    """The login name of ``uid`` (the number when it has none; "" when there are no uids)."""
    if uid is None:
        return ""
    try:
        return pwd.getpwuid(uid).pw_name if pwd is not None else str(uid)
    except KeyError:
        return str(uid)


def ingest(store, actor, *, server_uid: int | None = None) -> list[dict]:
    """Move every complete queued table into ``store`` (oldest first) as ``actor``; returns what was
    stored. Nothing happens unless ``actor`` may add data (a signed-in editor or admin, anyone in
    single-user mode): the notes wait for such a user. ``server_uid``: the user whose files are
    trusted (default: this process's effective uid).

    Each note is claimed first (renamed to ``.taking``: two sessions opening the Data page at once
    cannot store it twice); a note that cannot be read or is another user's goes to ``failed/`` with
    its data, so one bad file never blocks the ones behind it."""
    if store.path is None or not store.allowed(actor, "editor"):  # PostgreSQL: the CLI writes to the store itself
        return []
    uid = server_uid if server_uid is not None else (os.geteuid() if hasattr(os, "geteuid") else None)
    out = []
    for note_path in pending(store.path):
        claimed = note_path.with_suffix(".taking")
        try:
            os.replace(note_path, claimed)
        except FileNotFoundError:  # another session took it
            continue
        data = None
        try:
            owner = _own_file(claimed, uid)
            note = json.loads(claimed.read_text(encoding="utf-8"))
            data = claimed.with_name(note["data"])
            _own_file(data, uid)
            df = pd.read_parquet(data)
            by = user_name(owner)
            args = {**note.get("args", {}), "queued_by": by}
            out.append(store.put_result_table(note["name"], note["kind"], df, args, actor=actor, on_behalf_of=by))
        except PermissionDenied:  # the user lost the right meanwhile: the note waits for another
            os.replace(claimed, note_path)
            break
        except Exception:  # noqa: BLE001 - any unreadable or foreign note is set aside, named in failed/
            folder = _owner_only(claimed.parent / "failed")
            os.replace(claimed, folder / claimed.with_suffix(".json").name)
            if data is not None and data.parent == claimed.parent and data.is_file():
                os.replace(data, folder / data.name)
            continue
        claimed.unlink()
        data.unlink(missing_ok=True)
    return out


def failed(store_path: str | Path) -> list[Path]:
    """Notes that could not be taken in (kept for a person to look at)."""
    folder = inbox_dir(store_path) / "failed"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []

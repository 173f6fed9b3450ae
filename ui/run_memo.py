"""Reads that many parts of one page run repeat (the data in use, a dataset's record, an active
replacement layer, the parks version, the build id): made once per script run and shared by every
caller in that run.

A page run asked the store the same questions again and again (the Parks page read the data in use
ten times, 64 queries a run). ``once`` keeps each answer for the rest of the run: a run sees the
store as it was at its first read of a thing, plus every write this process made since — the pages'
store (``CountingStore``) counts its committed transactions, and a write anywhere in the process (a
button's callback, a background job) makes the next read in the run fresh. Writes by other
processes (the CLI, another dashboard process on the same PostgreSQL store) are seen by the next
run. Outside a script run (the CLI, a plain function call in a test) nothing is kept.

Every caller gets its own deep copy: nobody can change what the next caller reads.
"""
from __future__ import annotations

import contextlib
import copy
import threading
from typing import Any, Callable, Hashable

from streamlit.runtime.scriptrunner import get_script_run_ctx

from storage.store import Store

MAX_SESSIONS = 512  # runs kept (one per session: its current run); the oldest is dropped past this
_LOCK = threading.Lock()
# session id -> (this run's marker, {id(store) or None: (the store's write count, {key: value})})
_RUNS: dict[str, tuple[object, dict]] = {}


class CountingStore(Store):
    """The store the pages use: a ``Store`` that counts its committed transactions (``writes``)."""

    writes = 0

    @contextlib.contextmanager
    def transaction(self):
        try:
            with super().transaction() as cur:
                yield cur
        finally:  # after COMMIT (or ROLLBACK: counting a failed write only costs a fresh read)
            self.writes += 1


def _run_values(store) -> dict | None:
    """The values kept for the current script run and ``store`` (a new dict when the run or the
    store's write count changed since), or None outside a script run."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return None
    marker = ctx.cursors  # a new dict at the start of every script run (and every fragment run)
    writes = getattr(store, "writes", None)
    with _LOCK:
        run = _RUNS.get(ctx.session_id)
        if run is None or run[0] is not marker:
            run = (marker, {})
            _RUNS.pop(ctx.session_id, None)
            _RUNS[ctx.session_id] = run
            while len(_RUNS) > MAX_SESSIONS:
                _RUNS.pop(next(iter(_RUNS)))
        slot = None if store is None else id(store)
        kept = run[1].get(slot)
        if kept is None or kept[0] != writes:
            kept = run[1][slot] = (writes, {})
        return kept[1]


def once(key: Hashable, make: Callable[[], Any], store=None, *, shared: bool = False) -> Any:
    """``make()``, made once per script run for ``key`` (with ``store``: again after any write the
    store counted; a store that does not count its writes: never kept); a deep copy for every caller
    (``shared``: the object itself, for what is one object for the whole process anyway, such as
    the store). An exception is not kept (raised again next time)."""
    if store is not None and getattr(store, "writes", None) is None:
        return make()
    values = _run_values(store)
    if values is None:
        return make()
    if key not in values:
        values[key] = make()
    return values[key] if shared else copy.deepcopy(values[key])

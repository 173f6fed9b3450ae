"""A small background job queue for long computations, with progress.

One job per key (e.g. raster content × legend × unit set): ``submit`` starts a daemon thread
the first time and returns the same ``Job`` on every later call, so reruns of a page poll the
job instead of starting it again. A failed job is retried once ``retry_after`` seconds have
passed. Errors are kept as bilingual ``InputError`` (an unexpected exception is wrapped).
No Streamlit here: pages show ``job.fraction`` and ``job.phase`` as they like.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any, Callable

import streamlit as st

from core.errors import InputError
from core.i18n import t

PHASES = ("queued", "hashing", "computing", "done", "error")


@dataclasses.dataclass
class Job:
    key: tuple
    phase: str = "queued"  # one of PHASES; the work function sets the intermediate ones
    done: int = 0
    total: int = 0
    started: float = dataclasses.field(default_factory=time.time)
    error: InputError | None = None
    result: Any = None
    thread: threading.Thread | None = None

    @property
    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0

    def progress(self, done: int, total: int) -> None:
        """Progress callback for the work function (``progress=job.progress``)."""
        self.done, self.total = done, total


_JOBS: dict[tuple, Job] = {}
_JOBS_LOCK = threading.Lock()


def _run(job: Job, fn: Callable[..., Any], args: tuple) -> None:
    try:
        job.result = fn(job, *args)
        job.phase = "done"
    except InputError as e:
        job.error, job.phase = e, "error"
    except Exception as e:  # noqa: BLE001 - shown to the user, bilingual wrapper
        job.error, job.phase = InputError(f"计算失败：{e}", f"computation failed: {e}"), "error"


def any_running() -> bool:
    """Whether a background job's thread is still at work (``ui.heap`` freezes nothing then)."""
    with _JOBS_LOCK:
        return any(j.thread is not None and j.thread.is_alive() for j in _JOBS.values())


def submit(key: tuple, fn: Callable[..., Any], *args, name: str = "gansu-job", retry_after: float = 5.0) -> Job:
    """The job for ``key``: the existing one, or a new thread running ``fn(job, *args)`` whose
    return value becomes ``job.result``."""
    with _JOBS_LOCK:
        job = _JOBS.get(key)
        if job is None or job.phase == "error" and time.time() - job.started > retry_after:
            job = Job(key)
            job.thread = threading.Thread(target=_run, args=(job, fn, args), name=name, daemon=True)
            _JOBS[key] = job
            job.thread.start()
    return job


def get(key: tuple) -> Job | None:
    return _JOBS.get(key)


def clear() -> None:
    """Forget every job (tests; running threads finish on their own)."""
    with _JOBS_LOCK:
        _JOBS.clear()


def wait_all(timeout: float | None = None) -> bool:
    """Wait for every job's thread to finish (``timeout`` seconds in all bounds a failure); True
    when none is running any more. For tests and scripts that must see the finished state."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for job in list(_JOBS.values()):
        if job.thread is not None:
            job.thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    return not any(j.thread is not None and j.thread.is_alive() for j in list(_JOBS.values()))


def follow(state: Callable[[], Any], lang: str, caption_key: str) -> None:
    """A progress bar that follows a running job (``state()`` gives an object with ``.state`` and
    ``.job``) and reruns the page when it ends; ``caption_key`` says what runs in the background."""
    @st.fragment(run_every=1.0)
    def _poll():
        r = state()
        if r.state != "running":
            st.rerun()
        j = r.job
        st.progress(j.fraction, text=t(f"targets.lc.phase.{j.phase}", lang, done=j.done, total=j.total))
        st.caption(t(caption_key, lang))

    _poll()

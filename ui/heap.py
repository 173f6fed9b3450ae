"""The dashboard server's heap: the libraries every page uses imported once at start-up and moved
out of the garbage collector's sight, so the full collection Streamlit makes after every script run
(``runner.postScriptGC``) is cheap.

Streamlit calls ``gc.collect(2)`` at the end of every script run (it frees promptly what a run left
in reference cycles). That collection walks every container object the process holds; after the
first page runs the server holds ~440,000 of them, almost all made by imports (pandas, GeoPandas,
plotly's validators, folium, the pinyin dictionaries of the place search, numba's compiler), and the
walk cost 0.1–0.15 CPU s per run: as much as the page itself.

- ``preload_and_freeze`` (``ui.serve``, before the server starts): imports those modules (what the
  first visitor would have waited for), collects once, then ``gc.freeze()`` moves every object alive
  at that moment to the permanent generation: later collections no longer walk them.
- ``settle`` (app.py, at the start of every run): the pages import more on their first visit (their
  ``ui`` modules, plotly's and numba's lazily loaded parts); when the process has imported modules
  since the last freeze and no other script run is in flight, collect and freeze again. After the
  first visit of each page the collections walk only what the sessions and the runs make (~100
  objects instead of ~60,000 after start-up alone, ~440,000 before).

Nothing alive is lost: a frozen object is still freed when its last reference goes. Only a frozen
object that later becomes part of unreachable *cycles* is not collected until the next freeze,
which thaws everything first and collects it (``freeze``); after the last freeze (``MAX_FREEZES``;
the module set stops growing once every page has been visited) such cycles stay: modules and
caches live as long as the process anyway, and a freeze waits while another run or a background
job is at work, so their temporaries are never frozen. Only the server
started by ``ui.serve`` does this (tests and ``streamlit run app.py`` keep Python's defaults).
"""
from __future__ import annotations

import gc
import importlib
import pkgutil
import sys
import threading

from ui import jobs

# our library packages (no streamlit in them: tests/test_import_order.py) and the UI's libraries
PACKAGES = ("core", "layers", "storage", "zonal", "indicators", "reports")
LIBRARIES = ("pandas", "geopandas", "shapely", "pyproj", "pyogrio", "duckdb", "plotly.express",
             "plotly.graph_objects", "folium", "folium.plugins", "branca.element", "jinja2")


def preload() -> list[str]:
    """Import the library packages' modules and the UI's libraries; the names that could not be
    imported (an optional dependency missing: the page that needs it says so when it runs)."""
    failed = []
    for name in LIBRARIES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that fails to import: its page says why when it runs
            failed.append(name)
    for pkg in PACKAGES:
        try:
            mod = importlib.import_module(pkg)
        except Exception:  # noqa: BLE001 - a module that fails to import: its page says why when it runs
            failed.append(pkg)
            continue
        for info in pkgutil.walk_packages(mod.__path__, pkg + "."):
            try:
                importlib.import_module(info.name)
            except Exception:  # noqa: BLE001 - a module that fails to import: its page says why when it runs
                failed.append(info.name)
    return failed


def freeze() -> int:
    """Put every object alive now in the permanent generation (how many): what an earlier freeze
    holds is thawed first and collected with the rest, so what was alive at an earlier freeze and is
    garbage now (an ended session's state, an evicted cache entry) is freed rather than kept."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


MAX_FREEZES = 16  # freezes after start-up, per process
SCRIPT_THREAD = "ScriptRunner.scriptThread"  # the name Streamlit gives the thread of a script run
_LOCK = threading.Lock()
_STATE = {"enabled": False, "modules": 0, "freezes": 0}


def preload_and_freeze() -> int:
    preload()
    with _LOCK:
        _STATE.update(enabled=True, modules=len(sys.modules))
        return freeze()


def _other_runs_in_flight() -> bool:
    """Another session's script run, or a background job (``ui.jobs``), is at work: its temporaries
    would be frozen with the rest."""
    me = threading.current_thread()
    return jobs.any_running() or any(t is not me and t.name.startswith(SCRIPT_THREAD) for t in threading.enumerate())


def settle() -> bool:
    """At the start of a script run: freeze again when modules were imported since the last freeze
    and no other run or background job is in flight (its temporaries are not frozen). True when it froze."""
    if not _STATE["enabled"] or len(sys.modules) == _STATE["modules"] or _STATE["freezes"] >= MAX_FREEZES:
        return False
    with _LOCK:
        n = len(sys.modules)
        if n == _STATE["modules"] or _STATE["freezes"] >= MAX_FREEZES or _other_runs_in_flight():
            return False
        freeze()
        _STATE.update(modules=n, freezes=_STATE["freezes"] + 1)
        return True

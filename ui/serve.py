"""Start the dashboard: ``python -m ui.serve [streamlit options]`` (what `make run` does).

Why not plain ``streamlit run app.py``: Streamlit picks its multipage mode once per process from
the first session. Because our page scripts live in ``pages/``, a first visitor arriving on a
deep link (e.g. a shared ``/map?...`` URL) would get the legacy "pages directory" mode, without
the language switch and translated navigation of app.py. We pin the st.navigation mode before
the server starts. Plain ``streamlit run app.py`` still works when the first visit is to ``/``.

It serves ``asgi.py``: the dashboard (app.py) and the map's tile service (``ui.tileserver``,
``/tiles/…``) on one address and port.

The browser-side upload limit (``server.maxUploadSize``) follows ``GANSU_MAX_UPLOAD_MB``
(core/limits.py), so raising or lowering the app's limit moves both, unless the caller passes
its own ``--server.maxUploadSize``.

Safe by default (``ui.exposure``): it listens on 127.0.0.1 unless the caller passes
``--server.address`` (or sets ``STREAMLIT_SERVER_ADDRESS``); on another address with no account in
the store it refuses to start (exit 2, saying how to create the first admin) unless
``GANSU_SINGLE_USER=1``. Files the server creates (the store, its WAL, uploads, workspace folders)
are owner-only: the process runs with umask 077.
"""
import os
import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from core import limits, paths
from ui import exposure, heap

APP = str(Path(__file__).resolve().parent.parent / "asgi.py")  # app.py + the map's tile service


def streamlit_args(argv: list[str]) -> list[str]:
    args = list(argv)
    if not any(a.startswith("--server.maxUploadSize") for a in args):
        args += ["--server.maxUploadSize", str(max(1, int(round(limits.MAX_UPLOAD_BYTES / 2**20))))]
    named = any(a == exposure.ADDRESS_FLAG or a.startswith(exposure.ADDRESS_FLAG + "=") for a in args)
    if not named and not os.environ.get("STREAMLIT_SERVER_ADDRESS"):
        args += [exposure.ADDRESS_FLAG, "127.0.0.1"]  # this machine only, unless told otherwise
    return ["streamlit", "run", APP, *args]


def main(argv: list[str] | None = None) -> None:
    PagesManager.uses_pages_directory = False  # app.py always calls st.navigation
    args = streamlit_args(sys.argv[1:] if argv is None else argv)
    os.umask(0o077)  # store, WAL, uploads, workspace folders: owner only
    verdict = exposure.startup_check(exposure.bind_address(args[3:]), paths.store_path())
    if verdict is not None:
        kind, text = verdict
        label = ("error", "错误") if kind == "refuse" else ("warning", "警告")
        print(f"{label[0]}: {text.en}\n\n{label[1]}：{text.zh}", file=sys.stderr, flush=True)
        if kind == "refuse":
            sys.exit(2)
    heap.preload_and_freeze()  # the pages' libraries imported now, out of the per-run collection's sight
    sys.argv = args
    sys.exit(cli.main())


if __name__ == "__main__":
    main()

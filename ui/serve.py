"""Start the dashboard: ``python -m ui.serve [streamlit options]`` (what `make run` does).

Why not plain ``streamlit run app.py``: Streamlit picks its multipage mode once per process from
the first session. Because our page scripts live in ``pages/``, a first visitor arriving on a
deep link (e.g. a shared ``/map?...`` URL) would get the legacy "pages directory" mode, without
the language switch and translated navigation of app.py. We pin the st.navigation mode before
the server starts. Plain ``streamlit run app.py`` still works when the first visit is to ``/``.

The browser-side upload limit (``server.maxUploadSize``) follows ``GANSU_MAX_UPLOAD_MB``
(layers/limits.py), so raising or lowering the app's limit moves both, unless the caller passes
its own ``--server.maxUploadSize``.
"""
import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def streamlit_args(argv: list[str]) -> list[str]:
    from core.limits import MAX_UPLOAD_BYTES

    args = list(argv)
    if not any(a.startswith("--server.maxUploadSize") for a in args):
        args += ["--server.maxUploadSize", str(max(1, int(round(MAX_UPLOAD_BYTES / 2**20))))]
    return ["streamlit", "run", APP, *args]


def main(argv: list[str] | None = None) -> None:
    PagesManager.uses_pages_directory = False  # app.py always calls st.navigation
    sys.argv = streamlit_args(sys.argv[1:] if argv is None else argv)
    sys.exit(cli.main())


if __name__ == "__main__":
    main()

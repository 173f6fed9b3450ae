"""The server the launcher runs (``python -m ui.serve``, i.e. ``make run``): Streamlit's dashboard
(app.py) plus the map's tile service (``ui.tileserver``: ``/tiles/…``) on the same address and
port, one process. ``streamlit run asgi.py`` finds ``app`` and serves it with uvicorn."""
from pathlib import Path

import streamlit as st

from ui import tileserver

app = st.App(str(Path(__file__).resolve().parent / "app.py"), routes=tileserver.routes())

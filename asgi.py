"""The server the launcher runs (``python -m ui.serve``, i.e. ``make run``): Streamlit's dashboard
(app.py) plus the map's tile service (``ui.tileserver``: ``/tiles/…``) and the sign-in cookie's
routes (``ui.session_cookie``: ``/auth/cookie``, ``/auth/signout``) on the same address and port,
one process. ``streamlit run asgi.py`` finds ``app`` and serves it with uvicorn."""
from pathlib import Path

import streamlit as st

from ui import session_cookie, tileserver

app = st.App(str(Path(__file__).resolve().parent / "app.py"),
             routes=tileserver.routes() + session_cookie.routes())

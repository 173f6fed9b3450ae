"""The sign-in check of a fragment's rerun: a click, a drawing or the export on the Map reruns the
map's fragment alone (``ui.map_shown``), and app.py's gate (``ui.auth.gate``) does not run then."""
from __future__ import annotations

import streamlit as st

from core import paths
from storage.db import StoreError
from ui import auth, common
from ui.session import current, touch


def check() -> None:
    """At the start of a fragment (the Map's map, ``ui.map_shown``): a click, a drawing or the
    export reruns the fragment alone, and app.py's ``gate`` does not run then. The sign-in is checked
    as the gate would: signed in but expired, disabled or with another role or office since (or
    nobody signed in while anonymous viewing is off) reruns the whole page, whose gate then shows
    the login form or applies the new rights; otherwise the interaction counts as activity
    (``touch``: using the map keeps the session alive). In a full run the gate has just passed, so
    this finds nothing to do."""
    try:
        s = common.cached_store(str(paths.store_path()))
    except (StoreError, OSError):
        return
    if s.single_user():
        return
    p = current()  # None when the idle time has passed (the session is then cleared)
    if p is None:
        if st.session_state.get("auth_expired") or not auth.anonymous_view():  # the login form says why
            st.rerun(scope="app")
        return
    stored = s.principal(p)
    if stored is None or (stored.role, stored.office) != (p.role, p.office):
        st.rerun(scope="app")
    touch(st.session_state)
    auth.seen(p)

"""The versions of parks, checklists and scenarios this browser session last showed, for optimistic
saves (``storage.row_versions``): a save sends the version its user saw, and the store refuses it
when another session saved the row since (who and when in the message).

A page remembers the versions after it showed the rows and handled a save (``remember``); a save —
in a later run, after the user's click — sends what was remembered then (``expected``), not what
the store holds now (that would always match). Before the first remembered run, no version is sent
(the store then saves as before). Imports nothing of ``ui`` but ``ui.common``.
"""
from __future__ import annotations

import streamlit as st

from ui import common

_KEY = "_seen_versions"


def remember(table: str) -> None:
    st.session_state.setdefault(_KEY, {})[table] = common.store().row_versions(table)


def expected(table: str, key: str) -> int | None:
    """The version of ``key`` when this session last showed ``table`` (0: it had no row then)."""
    seen = st.session_state.get(_KEY, {}).get(table)
    return None if seen is None else seen.get(str(key), 0)

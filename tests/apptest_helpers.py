"""Shared AppTest helpers: run one page script in a language, and read the headers a user sees."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent


def run_page(page: str, lang: str = "zh", timeout: float = 180, no_errors: bool = False, **state) -> AppTest:
    """Run ``pages/<page>`` once with ``lang`` and the given session state; no exception allowed
    (and no ``st.error`` either when ``no_errors``)."""
    at = AppTest.from_file(str(REPO / "pages" / page), default_timeout=timeout)
    at.session_state["lang"] = lang
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if no_errors:
        assert not at.error, [e.value for e in at.error]
    return at


def map_script(component) -> str:
    """All the JS the page sends one streamlit-folium map (a ``component_instance`` element): the
    map's own script and what is swapped in over it (feature groups, layer control)."""
    args = json.loads(component.proto.json_args)
    return "\n".join(args.get(k) or "" for k in ("script", "feature_group", "layer_control"))


def shown_headers(df_element) -> list[str]:
    """Headers as the browser shows them: the column config's label, else the column name (and
    the index name when the index is shown)."""
    config = json.loads(df_element.proto.columns or "{}")
    value = df_element.value
    heads = [(config.get(str(c)) or {}).get("label") or str(c) for c in value.columns]
    if value.index.name is not None:
        heads.append(str(value.index.name))
    return heads


def run_with_editor(at: AppTest, edits: dict[str, dict], timeout: float | None = None) -> AppTest:
    """Rerun ``at`` as the browser does after a user edited ``st.data_editor`` tables: ``edits``
    maps an editor's key to its state as the frontend sends it,
    ``{"edited_rows": {row: {column: value}}, "added_rows": [{column: value}], "deleted_rows": []}``.
    AppTest's public way: the state is assigned to the editor's key in ``at.session_state`` before
    the run (it stays there, as the browser keeps a table's edits until the next one). Pending
    ``set_value``/``click`` calls on other widgets go with it."""
    keys = {e.key for e in at.data_editor}
    for key, state in edits.items():
        assert key in keys, f"no data editor with key {key!r}: {sorted(k for k in keys if k)}"
        at.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **state}
    at.run(timeout=timeout)
    assert not at.exception, [e.value for e in at.exception]
    return at


def capture_downloads(monkeypatch) -> dict[str, bytes]:
    """Every file a page hands to a download button during a run, by file name, taken where the page
    calls Streamlit's public ``download_button`` (``st.download_button`` and the same method of a
    column, the sidebar or a container): bytes as given, deferred ones (a callable, made when
    clicked) made at once in the script run, as a click would."""
    import inspect

    import streamlit as st
    from streamlit.delta_generator import DeltaGenerator  # the type of st.container(), st.columns()

    got: dict[str, bytes] = {}
    real = DeltaGenerator.download_button
    signature = inspect.signature(real)

    def capture(self, *args, **kwargs):
        given = signature.bind(self, *args, **kwargs).arguments
        data, name = given.get("data"), given.get("file_name")
        if name:
            made = data() if callable(data) else data
            made = made.getvalue() if hasattr(made, "getvalue") else made
            got[name] = made.encode() if isinstance(made, str) else bytes(made)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", capture)
    main = st.download_button.__self__  # the main area, where st.download_button draws
    monkeypatch.setattr(st, "download_button", lambda *args, **kwargs: capture(main, *args, **kwargs))
    return got

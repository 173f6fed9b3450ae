"""Streamlit glue shared by the pages: language, the store, cached layer loaders.

Pages stay thin: they read state, call these cached functions and ``layers``/``indicators``,
and render. Caches are keyed by the build id and the active upload id, so a rebuild or an
upload invalidates exactly what changed.
"""
from __future__ import annotations

import os
import re

import streamlit as st

from core import paths
from layers import catalog
from ui import map_rasters, map_vectors
from core.i18n import t
from core.text import DEFAULT_LANG, LANGS
from core.errors import GansuError
from storage import workspace as ws
from storage.db import StoreError
from storage.store import Store
from ui import run_memo, session, tileserver
from ui.mdtext import md


def lang() -> str:
    value = st.session_state.get("lang")
    if value not in LANGS:
        qp = st.query_params.get("lang")
        value = qp if qp in LANGS else DEFAULT_LANG
        st.session_state["lang"] = value
    return value


def language_switch() -> str:
    """Rendered once, by app.py, in the sidebar (fixed label so the widget keeps its state)."""
    if st.session_state.get("lang_switch") not in LANGS:
        st.session_state["lang_switch"] = lang()
    choice = st.sidebar.radio("语言 / Language", list(LANGS),
                              format_func=lambda x: {"zh": "中文", "en": "English"}[x],
                              horizontal=True, key="lang_switch")
    st.session_state["lang"] = choice
    if st.query_params.get("lang") != choice:
        st.query_params["lang"] = choice
    return choice


def require_data(lg: str) -> bool:
    try:
        paths.require_current()
        return True
    except paths.DataCorrupt as e:  # say what is damaged; the message names the repair command
        st.error(t("err.data_missing", lg) + f"\n\n{e}")
        return False
    except paths.DataMissing:
        st.error(t("err.data_missing", lg))
        return False


@st.cache_resource(show_spinner=False)
def cached_store(path: str) -> Store:
    s = run_memo.CountingStore(path)  # counts its writes: a run's kept reads are made again after one
    tileserver.use_store(s)  # the map's tile service checks its grants against this store
    return s


@st.cache_resource(show_spinner=False, max_entries=16)
def _catalog_synced(path: str, build: str) -> str:
    """The build's layer catalog written to the store: once per process, store and build (it was
    once per session: the same rows every time)."""
    cached_store(path).sync_catalog(catalog.catalog_rows())
    return build


def store() -> Store:
    """The store (one per process), its layer catalog synced with the build; looked up once per run."""
    try:
        return run_memo.once(("store",), _open_store, shared=True)
    except StoreError as e:  # e.g. locked by another process: say so, keep the app alive
        st.error(e.message(lang()))
        st.stop()


def _open_store() -> Store:
    path = str(paths.store_path())
    s = cached_store(path)
    _catalog_synced(path, build_id())
    return s


def build_id() -> str:
    """The data build in use (the folder ``data/current`` points at), read once per run."""
    return run_memo.once(("build_id",), lambda: paths.current_dir().name)


@st.cache_data(show_spinner=False)
def manifest(build: str) -> dict:
    return catalog.manifest()


@st.cache_resource(show_spinner=False, max_entries=8)
def _available_layers(build: str) -> tuple[catalog.LayerSpec, ...]:
    return tuple(catalog.available_layers())


def available_layers() -> list[catalog.LayerSpec]:
    """``layers.catalog.available_layers`` of the build in use (the catalog's own frozen entries),
    listed once per build rather than by opening the GeoPackage on every run of the Map page."""
    return list(_available_layers(build_id()))


def active_upload(layer_id: str) -> dict | None:
    """The active replacement of a replaceable layer (its upload record), or None; read once per run."""
    spec = catalog.BY_ID[layer_id]
    if not spec.replaceable:
        return None
    s = store()
    return run_memo.once(("active_upload", layer_id), lambda: s.active_user_layer(layer_id), s)


def in_use() -> dict[str, list[str]]:
    """The data in use (``storage.workspace.in_use``: {role: dataset ids}), read once per run."""
    s = store()
    return run_memo.once(("in_use",), lambda: ws.in_use(s), s)


def dataset(dataset_id: str) -> ws.Dataset:
    """A registered dataset (``storage.workspace.get``: InputError when there is none), read once per run."""
    s = store()
    return run_memo.once(("dataset", dataset_id), lambda: ws.get(s, dataset_id), s)


def load_layer(layer_id: str):
    """(GeoDataFrame, upload record or None), cached by build and upload."""
    rec = active_upload(layer_id)
    gdf = cached_layer(layer_id, build_id(), rec["upload_id"] if rec else None)
    return gdf, rec


@st.cache_data(show_spinner=False, max_entries=64)
def cached_layer(layer_id: str, build: str, upload_id: str | None):
    if upload_id:
        return store().load_user_layer(upload_id)
    return catalog.read_default(layer_id)


@st.cache_data(show_spinner=False, max_entries=64)
def layer_geojson(layer_id: str, build: str, upload_id: str | None, gcj: bool) -> dict:
    gdf = cached_layer(layer_id, build, upload_id)
    return map_vectors.geojson_for(gdf, spec_for(layer_id, gdf if upload_id else None), gcj=gcj,
                                   simplify_deg=0.002)


def spec_for(layer_id: str, uploaded=None) -> catalog.LayerSpec:
    """Catalog entry; for an uploaded replacement, its tooltip lists the file's own columns."""
    spec = catalog.BY_ID[layer_id]
    if uploaded is None:
        return spec
    cols = [c for c in uploaded.columns if c != uploaded.geometry.name][:8]
    return catalog.LayerSpec(**{**spec.__dict__, "tooltip": tuple(cols)})


@st.cache_data(show_spinner=False)
def landcover_overlay(build: str, colors: tuple) -> tuple[str, list]:
    return map_rasters.landcover_png(paths.landcover_path(), dict(colors))


def tianditu_key() -> str | None:
    """From TIANDITU_KEY or Streamlit secrets; never displayed, logged or put in a URL."""
    key = os.environ.get("TIANDITU_KEY")
    if key:
        return key
    try:
        return st.secrets.get("tianditu_key")
    except Exception:  # no secrets.toml
        return None


def active_upload_id(layer_id: str) -> str | None:
    rec = active_upload(layer_id)
    return rec["upload_id"] if rec else None


def page_link(page: str, label: str, icon: str | None = None) -> None:
    """st.page_link when the page is part of the app's navigation (normal use); plain text when
    a page script runs alone (AppTest, or `streamlit run pages/x.py`)."""
    from streamlit.errors import StreamlitAPIException

    try:
        st.page_link(page, label=label, icon=icon)
    except StreamlitAPIException:
        st.markdown(f"- {label}")


# --- shareable URLs: a link reopens the same view (never a key or a secret)
def init_from_query(prefix: str, ids: list[str], param: str) -> None:
    """On a session's first visit, tick the checkboxes ``prefix+id`` listed in ``?param=a,b``."""
    flag = f"_init_{prefix}"
    if st.session_state.get(flag):
        return
    st.session_state[flag] = True
    raw = st.query_params.get(param)
    if raw is None:
        return
    wanted = set(raw.split(","))
    for i in ids:
        st.session_state[f"{prefix}{i}"] = i in wanted


def share_state(params: dict[str, str]) -> None:
    for k, v in params.items():
        if v is None or v == "":
            if k in st.query_params:
                del st.query_params[k]
        elif st.query_params.get(k) != v:
            st.query_params[k] = v


def page(title_key: str, intro_key: str | None = None) -> str:
    """Common page preamble: title, intro, and a clear stop when the data is not built."""
    lg = lang()
    st.title(t(title_key, lg))
    if intro_key:
        st.caption(t(intro_key, lg))
    if not require_data(lg):
        st.stop()
    data_in_use_line(lg)
    return lg


def data_in_use_line(lg: str) -> None:
    """The compact "data in use" line (``status_line``) under the title. A page
    stays usable when the store cannot be opened (locked, unwritable): the line is left out and
    the pages that need the store say why themselves."""
    try:
        cached_store(str(paths.store_path()))
    except (StoreError, OSError):
        return
    status_line(lg)


def actor():
    """Who is acting in this session, for the store (its checks and its log): the signed-in account
    (a ``storage.accounts.Principal``, a ``str`` carrying role and office) when accounts are
    configured; None when nobody is signed in (the store refuses every change); in single-user
    mode (no account) the name the user typed in the sidebar, else "local"."""
    p = session.current()
    if p is not None:
        return p
    if not store().single_user():
        return None
    return st.session_state.get("user_name") or "local"


# --- the data in use, one line under each title (``ui.data_in_use`` re-exports these) ---------------
def badge(status: str, lang: str) -> str:
    """A layer's status as a short text badge (no emoji: intranet machines often lack emoji fonts)."""
    return f"[{t(f'map.status.{status}', lang)}]"


def _default(layer_id: str, lang: str) -> str:
    spec = catalog.BY_ID[layer_id]
    return f"{badge(spec.status, lang)} {spec.title(lang)}"


def summary(lang: str) -> list[str]:
    """One short item per role: what each role uses now, with its status badge."""
    chosen = in_use()
    items = []
    lc = chosen.get("landcover", [])
    items.append(f"{ws.ROLE_LABELS['landcover'].pick(lang)}: "
                 + (f"{badge('user', lang)} {md(dataset(lc[0]).label(lang))}" if lc else _default("landcover", lang)))
    alt = chosen.get("landcover_alt", [])
    if alt:
        items.append(f"{t('inuse.second_year', lang)}: {badge('user', lang)} {md(dataset(alt[0]).label(lang))}")
    tr = [(_default("airports", lang) if i == ws.BUILTIN_AIRPORTS else f"{badge('user', lang)} {md(dataset(i).name)}")
          for i in chosen.get("transport", [])]
    items.append(f"{ws.ROLE_LABELS['transport'].pick(lang)}: " + (", ".join(tr) if tr else "—"))
    for role, layer in ws.REPLACES.items():
        ids = chosen.get(role, [])
        items.append(f"{ws.ROLE_LABELS[role].pick(lang)}: "
                     + (f"{badge('user', lang)} {md(dataset(ids[0]).name)}" if ids else _uploaded_or_default(layer, lang)))
    return items


def _uploaded_or_default(layer_id: str, lang: str) -> str:
    rec = active_upload(layer_id)
    if rec:
        return f"{badge('user', lang)} {md(rec['name'])}"
    return _default(layer_id, lang)


def status_line(lang: str) -> None:
    """The compact line under each page title: the data in use and a link to change it."""
    try:
        items = summary(lang)
    except GansuError as e:
        show_error(e, lang)
        return
    st.caption(t("inuse.title", lang) + " · ".join(items))
    page_link("pages/data.py", t("inuse.change", lang), icon=":material/database:")


# --- a refused input, shown to whoever is looking -----------------------------------------------------
# a server path in a message: in brackets (spaces allowed up to the closing one) or standing alone
_BRACKETED_PATH = re.compile(r"([(（])\s*(?:/|[A-Za-z]:[\\/])[^)）\n]*([)）])")
_BARE_PATH = re.compile(r"(?<![\w.~/\\:-])(?:/|[A-Za-z]:[\\/])[^\s,，;；:：)）]+")  # not a URL's //host


def hide_paths(text: str) -> str:
    """``text`` with every absolute server path (``/srv/…``, ``C:\\…``) replaced by "…"."""
    return _BARE_PATH.sub("…", _BRACKETED_PATH.sub(r"\1…\2", text))


def show_error(e: GansuError, lg: str, *, warn: bool = False) -> None:
    """A refused input's message in an error (or warning) box: as literal text (it may carry a park,
    dataset or file name somebody typed: ``md``), and with server paths hidden unless the viewer is an
    admin (who can act on them)."""
    text = e.message(lg)
    try:
        admin = store().allowed(actor(), "admin")
    except Exception:  # noqa: BLE001 - no store: show no path
        admin = False
    (st.warning if warn else st.error)(md(text if admin else hide_paths(text)))

"""Names typed by one user are shown to others through Markdown (captions, messages, headers,
labels): unescaped, a park named ``![x](http://…/p.png)`` becomes an image every visitor's browser
fetches and ``[click](javascript:…)`` a link. ``ui.mdtext.md`` escapes them; here a park and a
dataset with such a name are shown on the Parks, Siting, Checklist and Data pages, and every
Markdown text that shows them must hold the escaped name (literal text once rendered) and no
markup made of it."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from tests.apptest_helpers import run_page

from ui.mdtext import md, unescape

REPO = Path(__file__).resolve().parent.parent
NAME = "![x](http://127.0.0.1:1/p.png) [click](javascript:alert(1)) **bold**"


def test_md_escapes_every_markup_and_renders_back_to_the_text():
    assert md(NAME) == ("\\!\\[x\\]\\(http\\:\\/\\/127\\.0\\.0\\.1\\:1\\/p\\.png\\) \\[click\\]\\(javascript\\:alert"
                        "\\(1\\)\\) \\*\\*bold\\*\\*")
    assert md("a\nb\r# c") == "a b \\# c"  # no new line: no heading, list or quote
    assert md(":red[x] $x$ <b>&amp;") == "\\:red\\[x\\] \\$x\\$ \\<b\\>\\&amp\\;"
    assert md("园区 一号") == "园区 一号" and md(None) == ""
    for s in (NAME, "a_b*c`d~e|f\\g", "<script>alert(1)</script>", "P-01 (新区) #2"):
        assert unescape(md(s)) == s


def markdown_texts(at: AppTest) -> list[str]:
    """Every text of the page that Streamlit renders as Markdown: Markdown and captions, headers,
    alerts, expander and tab labels, widget labels."""
    out = [e.value for e in list(at.markdown) + list(at.caption) + list(at.title) + list(at.header)
           + list(at.subheader) + list(at.error) + list(at.warning) + list(at.info) + list(at.success)]
    out += [e.label for e in list(at.expander) + list(at.tabs)]
    out += [w.label for w in list(at.checkbox) + list(at.radio) + list(at.selectbox) + list(at.multiselect)
            + list(at.text_input) + list(at.slider) + list(at.button) + list(at.metric)]
    return [str(v) for v in out if v]


def assert_literal(at: AppTest, page: str) -> None:
    texts = markdown_texts(at)
    showing = [v for v in texts if "p.png" in v or "p\\.png" in v]
    assert showing, f"{page}: the name is not shown in any Markdown text"
    for v in showing:
        assert md(NAME) in v, f"{page}: shown unescaped: {v!r}"
        for markup in ("![x](", "[click](", "**bold**"):
            assert markup not in v, f"{page}: {markup} in {v!r}"


def _page(page: str, **state) -> AppTest:
    return run_page(page, "en", timeout=300, **state)


@pytest.fixture()
def hostile(store):
    """A park on the protection proxy (so the Siting page excludes it and names it) and a transport
    dataset in use (named in every page's "data in use" line), both named ``NAME``."""
    from core import paths
    from storage import vector_register
    from storage import workspace as ws

    proxy = gpd.read_file(paths.gpkg_path(), layer="protection_proxy")
    p = max(proxy.geometry, key=lambda g: g.area).representative_point()
    park = gpd.GeoDataFrame(geometry=[shapely.box(p.x - 0.01, p.y - 0.01, p.x + 0.01, p.y + 0.01)], crs=4326)
    pid = store.add_parks(park, names=[NAME], source="upload")[0]
    line = gpd.GeoDataFrame({"kind": ["railway"]}, geometry=[shapely.LineString([(103.5, 36.0), (104.0, 36.2)])],
                            crs=4326)
    before = ws.in_use(store)["transport"]
    ds = vector_register.register_vector(store, line.to_json().encode(), "transport", filename="rail.geojson", kind="railway",
                                         name=NAME, use=True)
    yield pid
    ws.use(store, "transport", before)
    ws.remove(store, ds.id, confirm=True)


def test_hostile_names_are_literal_text_on_every_page(hostile):
    pid = hostile
    at = _page("parks.py", parks_selected=pid)
    assert_literal(at, "parks")
    assert any(md(NAME) in h.value for h in at.subheader)  # the detail card's title
    at = _page("siting.py", siting_parks=["P01", "P02", pid], _siting_init=True, siting_name=NAME)
    at.button(key="siting_save").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert_literal(at, "siting")
    assert any(md(NAME) in e.value for e in at.error)  # excluded: on the protection proxy
    assert any(md(NAME) in s.value for s in at.success)  # the saved scenario's name
    from core import paths
    from storage.store import Store

    Store(paths.store_path()).delete_scenario(NAME)
    at = _page("checklist.py", check_park=pid)
    assert_literal(at, "checklist")
    at = _page("data.py")
    assert_literal(at, "data")


# --- review of the fixes: error messages that carry a dataset's name and a server folder ------------
@pytest.fixture()
def gone_landcover(dataset, tmp_path, monkeypatch):
    """A store with accounts whose land cover in use (named ``NAME``) lost its file: the message
    names the dataset and the server folder the file was in."""
    from storage import accounts, raster_register
    from storage.accounts import SHELL, Principal
    from storage.store import Store
    from tests import workspace_fixtures as wf

    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "workspace"))
    monkeypatch.setenv("GANSU_IMPORT_DIR", str(tmp_path / "import"))
    s = Store(tmp_path / "md.duckdb")
    accounts.add(s, "root", "Passwort-fuer-Tests-1", "admin", actor=SHELL)
    accounts.add(s, "vic", "Passwort-fuer-Tests-1", "viewer", actor=SHELL)
    folder = tmp_path / "srv-secret-folder"
    folder.mkdir()
    lc = wf.clcd_landcover(folder / "lc.tif", box=(103.55, 36.35, 103.75, 36.5))
    raster_register.register_landcover(s, [lc], legend="clcd", name=NAME, use=True, actor=Principal("root", "admin", None, "password"))
    s.close()
    lc.unlink()
    monkeypatch.setenv("GANSU_STORE", str(tmp_path / "md.duckdb"))
    return folder


def _signed_in(name: str, role: str) -> dict:
    import time

    return {"name": name, "role": role, "office": None, "source": "password", "seen": time.time()}


def test_an_error_naming_a_dataset_is_literal_text_and_hides_server_folders_from_non_admins(gone_landcover):
    at = _page("home.py", auth_session=_signed_in("vic", "viewer"))
    errors = [e.value for e in at.error if "p\\.png" in e.value or "p.png" in e.value]
    assert errors, [e.value for e in at.error]
    for v in errors:
        assert md(NAME) in v and "![x](" not in v and "[click](" not in v, v
        assert str(gone_landcover) not in unescape(v) and "srv-secret-folder" not in unescape(v), v
    at = _page("home.py", auth_session=_signed_in("root", "admin"))  # the admin, who can fix it, sees where
    errors = [unescape(e.value) for e in at.error if "p\\.png" in e.value]
    assert errors and all(str(gone_landcover) in v for v in errors), [e.value for e in at.error]

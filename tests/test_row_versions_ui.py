"""The pages send the version they showed: a park's attributes, its name and its checklist saved by
another session after this page was shown are not overwritten — the page says who changed it and
asks for a reload (``ui.seen_versions``, ``storage.row_versions``). Real pages (AppTest), the
session's store; the other session writes through the store as its page would."""
from __future__ import annotations

import geopandas as gpd
import shapely

from core import paths
from storage.store import Store
from tests.apptest_helpers import run_page, run_with_editor


def _park():
    return gpd.GeoDataFrame({"名称": ["x"]}, geometry=[shapely.box(104.2, 36.5, 104.23, 36.52)], crs=4326)


def _errors(at) -> str:
    return " ".join(str(e.value) for e in at.error)


def test_attributes_saved_by_another_session_after_the_page_was_shown_are_kept(store):
    pid = store.add_parks(_park(), names=["属性园区"], source="upload")[0]
    at = run_page("parks.py", "en", parks_attr_target=pid)  # this session shows version 1
    other = Store(paths.store_path())
    other.update_park_attrs(pid, {"行业": "风电"}, actor="另一位", expected_version=1)  # another session saves first
    at.button(key="parks_attr_save").click()
    run_with_editor(at, {"parks_attr_editor": {"added_rows": [{"key": "行业", "value": "光伏"}]}})
    assert "was changed by 另一位" in _errors(at) and "you saw version 1" in _errors(at)
    assert other.parks().set_index("park_id").loc[pid, "attrs"] == {"行业": "风电"}  # nothing lost
    # the page has now shown version 2: saving again (the user saw the change) goes through
    at.button(key="parks_attr_save").click()
    run_with_editor(at, {"parks_attr_editor": {"added_rows": [{"key": "等级", "value": "省级"}]}})
    assert not at.error, _errors(at)
    assert other.parks().set_index("park_id").loc[pid, "attrs"]["等级"] == "省级"


def test_a_rename_after_another_session_renamed_the_park_is_refused_in_chinese(store):
    pid = store.add_parks(_park(), names=["改名前"], source="upload")[0]
    at = run_page("parks.py", "zh")
    edits = {"parks_editor": {"edited_rows": {0: {"name": "我改的名"}}}}
    run_with_editor(at, edits)  # the user types the new name (a rerun: the page shows version 1) …
    Store(paths.store_path()).rename_park(pid, "别人改的名", actor="另一位", expected_version=1)  # … another session renames …
    at.button(key="parks_manage_apply").click()  # … and then the user applies
    run_with_editor(at, edits)
    assert "已被 另一位" in _errors(at) and "您的更改未保存" in _errors(at)
    assert list(Store(paths.store_path()).parks()["name"]) == ["别人改的名"]

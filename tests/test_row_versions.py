"""Two sessions saving the same park, checklist or scenario: the later save is told who saved it and
when, and nothing is silently lost (``storage.row_versions``) — on both back ends; on PostgreSQL the
two sessions are two connections, as two dashboard processes are."""
from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from storage import accounts
from storage.accounts import SHELL, Principal
from storage.row_versions import StaleEdit
from storage.store import Store

PW = "correct horse 1"
ED1 = Principal("ed1", "editor", "一处", "password")
ROOT = Principal("root", "admin", None, "password")


@pytest.fixture()
def two(store_at):
    """(session A, session B, park id): A is ed1 (the park's owner), B an admin; two connections on
    PostgreSQL, one store object on DuckDB (one writer per file)."""
    a = Store(store_at("s"))
    accounts.add(a, "root", PW, "admin", actor=SHELL)
    accounts.add(a, "ed1", PW, "editor", office="一处", actor=SHELL)
    pid = a.add_parks(gpd.GeoDataFrame(geometry=[shapely.box(103, 36, 103.2, 36.2)], crs=4326), names=["兰州新区"],
                      source="test", source_file="p.gpkg", source_crs="EPSG:4326", actor=ED1)[0]
    b = Store(store_at("s")) if store_at.backend == "postgresql" else a
    yield a, b, pid
    for s in {id(a): a, id(b): b}.values():
        s.close()


def test_the_later_of_two_renames_is_refused_with_who_and_when(two):
    a, b, pid = two
    seen_a = a.row_versions("parks")[pid]
    seen_b = b.row_versions("parks")[pid]
    assert seen_a == seen_b == 1
    b.rename_park(pid, "兰州新区（管理员）", actor=ROOT, expected_version=seen_b)
    with pytest.raises(StaleEdit) as e:
        a.rename_park(pid, "兰州新区（一处）", actor=ED1, expected_version=seen_a)
    assert "root" in e.value.en and "version 2" in e.value.en and "you saw version 1" in e.value.en
    assert "root" in e.value.zh and "版本 2" in e.value.zh
    assert list(a.parks()["name"]) == ["兰州新区（管理员）"]  # B's save kept, A's not written
    a.update_park_attrs(pid, {"level": "省级"}, actor=ED1, expected_version=a.row_versions("parks")[pid])  # after a reload
    assert b.row_versions("parks")[pid] == 3 and b.parks()["attrs"].iloc[0] == {"level": "省级"}


def test_a_checklist_first_saved_by_another_session_is_not_overwritten(two):
    a, b, pid = two
    assert a.row_versions("checklist").get(pid, 0) == 0  # neither session saw a saved checklist
    b.save_checklist(pid, {"green_pct": "16"}, actor=ROOT, expected_version=0)
    with pytest.raises(StaleEdit, match="checklist") as e:
        a.save_checklist(pid, {"green_pct": "9"}, actor=ED1, expected_version=0)
    assert "准入核查表" in e.value.zh
    assert a.checklist(pid) == {"green_pct": "16"}
    a.save_checklist(pid, {"green_pct": "9"}, actor=ED1, expected_version=1)
    assert b.checklist(pid) == {"green_pct": "9"} and b.row_versions("checklist")[pid] == 2


def test_a_scenario_saved_meanwhile_is_not_overwritten_and_no_version_keeps_the_old_rule(two):
    a, b, pid = two
    a.save_scenario("方案一", [pid], {"carbon_stock_tc": 1.0}, actor=ED1, expected_version=0)
    v = a.scenarios()["方案一"]["row_version"]
    b.save_scenario("方案一", [pid], {"carbon_stock_tc": 3.0}, actor=ROOT, expected_version=v)
    with pytest.raises(StaleEdit):
        a.save_scenario("方案一", [pid], {"carbon_stock_tc": 2.0}, actor=ED1, expected_version=v)
    assert b.scenarios()["方案一"]["weights"] == {"carbon_stock_tc": 3.0}
    a.save_scenario("方案一", [pid], {"carbon_stock_tc": 2.0}, actor=ED1)  # no version given (the CLI): saved
    assert b.scenarios()["方案一"]["row_version"] == 3


def test_a_park_deleted_by_another_session_is_reported_as_deleted(two):
    a, b, pid = two
    seen = a.row_versions("parks")[pid]
    b.delete_parks([pid], actor=ROOT)
    with pytest.raises(StaleEdit, match="deleted"):
        a.update_park_attrs(pid, {"x": 1}, actor=ED1, expected_version=seen)

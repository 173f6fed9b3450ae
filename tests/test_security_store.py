"""Store and workspace rules a security review found missing: removing data in use needs an admin
(and a restore puts it back), a park's checklist is its owner's, and a crash between the store
commit and the file moves never loses a binned dataset's files — on real throw-away stores and
real files (GANSU_WORKSPACE_DIR / GANSU_STORE in tmp_path)."""
from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from core.errors import PermissionDenied
from storage import accounts
from storage import raster_register, vector_register
from storage import workspace as ws
from storage.accounts import SHELL, Principal
from storage.store import Store
from tests import workspace_fixtures as wf

PASSWORD = "Geheim-Passwort-7731"
BOX = (103.60, 36.50, 103.66, 36.55)  # ~ 180 × 190 pixels of 30 m: a small land cover


def P(name, role="editor"):
    return Principal(name, role, None, "password")


ADMIN = P("root", "admin")


@pytest.fixture()
def acc_store(tmp_path, monkeypatch, store_at):
    monkeypatch.setenv("GANSU_LOGIN_DELAY_S", "0")
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "workspace"))
    monkeypatch.setenv("GANSU_IMPORT_DIR", str(tmp_path / "import"))
    s = Store(store_at("acc"))
    accounts.add(s, "root", PASSWORD, "admin", actor=SHELL)
    accounts.add(s, "ed1", PASSWORD, "editor", office="规划一处", actor=SHELL)
    accounts.add(s, "ed2", PASSWORD, "editor", office="规划二处", actor=SHELL)
    yield s
    s.close()


@pytest.fixture()
def lc_file(tmp_path):
    return wf.clcd_landcover(tmp_path / "lc.tif", box=BOX)


def _redline(tmp_path, name="red.geojson", x=103.6):
    f = tmp_path / name
    gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(x, 36.4, x + 0.1, 36.6)], crs=4326).to_file(f)
    return f


# --- removing data in use ------------------------------------------------------------------------
def test_an_editor_cannot_remove_their_own_dataset_while_it_is_in_use(acc_store, tmp_path, lc_file):
    s = acc_store
    red = vector_register.register_vector(s, _redline(tmp_path), "redline", actor=P("ed1"))
    lc = raster_register.register_landcover(s, [lc_file], legend="clcd", actor=P("ed1"))
    ws.use(s, "redline", [red.id], actor=ADMIN)
    ws.use(s, "landcover", [lc.id], actor=ADMIN)
    for d in (red, lc):
        with pytest.raises(PermissionDenied) as e:
            ws.remove(s, d.id, confirm=True, actor=P("ed1"))
        assert "in use" in e.value.en and "admin" in e.value.en and "使用中" in e.value.zh and "管理员" in e.value.zh
        with pytest.raises(PermissionDenied):  # the store itself refuses (server side), whatever the caller
            s.delete_dataset(d.id, actor=P("ed1"))
    assert s.active_user_layer("protection_proxy")["upload_id"] == red.upload_id
    assert ws.in_use(s)["landcover"] == [lc.id] and {d.id for d in ws.datasets(s)} == {red.id, lc.id}
    assert (ws.paths.workspace_dir() / lc.id / "cog.tif").is_file()
    ws.use(s, "landcover", [], actor=ADMIN)  # not in use any more: the owner may remove it
    ws.remove(s, lc.id, actor=P("ed1"))
    assert [d.id for d in ws.datasets(s)] == [red.id]


def test_restoring_a_dataset_an_admin_removed_while_in_use_puts_it_back_in_use(acc_store, tmp_path, lc_file):
    s = acc_store
    red = vector_register.register_vector(s, _redline(tmp_path), "redline", actor=P("ed1"))
    lc = raster_register.register_landcover(s, [lc_file], legend="clcd", actor=P("ed1"))
    ws.use(s, "redline", [red.id], actor=ADMIN)
    ws.use(s, "landcover", [lc.id], actor=ADMIN)
    ws.remove(s, red.id, confirm=True, actor=ADMIN)
    ws.remove(s, lc.id, confirm=True, actor=ADMIN)
    assert ws.in_use(s)["redline"] == [] and ws.in_use(s)["landcover"] == []
    bins = dict(zip(s.bin_entries()["item_id"], s.bin_entries()["bin_id"]))
    ws.restore(s, bins[red.id], actor=ADMIN)
    ws.restore(s, bins[lc.id], actor=ADMIN)
    assert ws.in_use(s)["redline"] == [red.id] and ws.in_use(s)["landcover"] == [lc.id]
    assert s.active_user_layer("protection_proxy")["upload_id"] == red.upload_id
    # the role moved on meanwhile (an admin chose other data): the restore leaves that choice alone
    other = vector_register.register_vector(s, _redline(tmp_path, "red2.geojson", 103.8), "redline", actor=ADMIN)
    ws.remove(s, red.id, confirm=True, actor=ADMIN)
    ws.use(s, "redline", [other.id], actor=ADMIN)
    ws.restore(s, s.bin_entries()["bin_id"].iloc[0], actor=ADMIN)
    assert ws.in_use(s)["redline"] == [other.id] and red.id in {d.id for d in ws.datasets(s)}
    assert list(s.query_df("SELECT upload_id FROM user_layers WHERE active")["upload_id"]) == [other.upload_id]
    lc2 = raster_register.register_landcover(s, [lc_file], legend="clcd", actor=ADMIN)
    ws.remove(s, lc.id, confirm=True, actor=ADMIN)
    ws.use(s, "landcover", [lc2.id], actor=ADMIN)
    ws.restore(s, s.bin_entries()["bin_id"].iloc[0], actor=ADMIN)
    assert ws.in_use(s)["landcover"] == [lc2.id]


# --- checklists ---------------------------------------------------------------------------------
def test_a_parks_checklist_belongs_to_the_parks_owner(acc_store):
    s = acc_store
    pid = s.add_parks(gpd.GeoDataFrame(geometry=[shapely.box(104.2, 36.5, 104.23, 36.52)], crs=4326),
                      names=["甲的园区"], source="drawn", actor=P("ed1"))[0]
    with pytest.raises(PermissionDenied) as e:  # another editor saving first used to own it
        s.save_checklist(pid, {"a": 1}, actor=P("ed2"))
    assert "owner" in e.value.en and "所有者" in e.value.zh and s.checklist(pid) == {}
    s.save_checklist(pid, {"a": 2}, actor=P("ed1"))
    s.save_checklist(pid, {"a": 3}, actor=ADMIN)  # an admin may; the park's owner still owns it
    assert s.checklist(pid) == {"a": 3}
    assert s.checklist_access(pid) == ("owner", "ed1")
    # a built-in demo park (not in the store) is everyone's: its checklist is an admin's to save
    assert s.checklist_access("P01") == ("admin", None)
    with pytest.raises(PermissionDenied):
        s.save_checklist("P01", {"a": 1}, actor=P("ed1"))
    s.save_checklist("P01", {"a": 4}, actor=ADMIN)
    assert s.checklist("P01") == {"a": 4}


# --- file moves and the orphan sweep ------------------------------------------------------------------
def _upload(s, lc_file, actor=ADMIN):
    return raster_register.register_landcover_upload(s, lc_file.read_bytes(), "lc.tif", legend="clcd", actor=actor)


def test_a_crash_after_the_delete_commits_never_lets_the_sweep_delete_the_binned_files(acc_store, lc_file):
    s = acc_store
    d = _upload(s, lc_file)
    folder = ws.paths.workspace_dir() / d.id
    assert (folder / "upload.tif").is_file()
    s.delete_dataset(d.id, actor=ADMIN)  # the first half of ws.remove: committed, then the process dies
    ws.sweep_orphans(s, min_age_s=0)
    bid = s.bin_entries()["bin_id"].iloc[0]
    ws.restore(s, bid, actor=ADMIN)
    back = ws.get(s, d.id)
    assert back.raster_path == str(folder / "upload.tif") and (folder / "upload.tif").is_file()
    ws.verify(back)
    assert (folder / "cog.tif").is_file() and not (ws.bin_dir() / d.id).exists()


def test_a_crash_after_the_restore_commits_is_repaired_by_the_sweep(acc_store, lc_file):
    s = acc_store
    d = _upload(s, lc_file)
    ws.remove(s, d.id, actor=ADMIN)
    assert (ws.bin_dir() / d.id / "upload.tif").is_file()
    s.restore_from_bin(s.bin_entries()["bin_id"].iloc[0], actor=ADMIN)  # committed, the folder still binned
    ws.sweep_orphans(s, min_age_s=0)
    assert (ws.paths.workspace_dir() / d.id / "upload.tif").is_file() and not (ws.bin_dir() / d.id).exists()
    ws.verify(ws.get(s, d.id))


def test_a_crash_after_the_purge_commits_leaves_nothing_the_sweep_keeps(acc_store, lc_file):
    s = acc_store
    d = _upload(s, lc_file)
    ws.remove(s, d.id, actor=ADMIN)
    s.empty_bin(actor=ADMIN)  # the store rows are gone, the process dies before the files go
    assert (ws.bin_dir() / d.id).is_dir()
    ws.sweep_orphans(s, min_age_s=0)
    assert not (ws.bin_dir() / d.id).exists()


def test_purging_one_dataset_keeps_an_osm_file_a_binned_dataset_still_reads(acc_store, tmp_path):
    s = acc_store
    osm_dir = ws.paths.workspace_dir() / "osm"
    osm_dir.mkdir(parents=True)
    osm = wf.osm_near(103.66, 36.52, osm_dir / "0123456789abcdef.osm")  # where the Data page writes uploads
    a = vector_register.register_osm(s, osm, actor=ADMIN)
    b = vector_register.register_osm(s, osm, actor=ADMIN)
    ws.remove(s, a.id, actor=ADMIN)
    ws.remove(s, b.id, actor=ADMIN)
    bins = dict(zip(s.bin_entries()["item_id"], s.bin_entries()["bin_id"]))
    ws.empty_bin(s, [bins[a.id]], actor=ADMIN)
    assert osm.is_file()  # b, in the bin, still needs it
    ws.restore(s, bins[b.id], actor=ADMIN)
    ws.verify(ws.get(s, b.id))
    ws.remove(s, b.id, actor=ADMIN)
    ws.empty_bin(s, actor=ADMIN)
    assert not osm.exists()  # nobody needs it any more


def test_the_sweep_keeps_folders_of_binned_datasets_and_deletes_true_orphans(acc_store, lc_file):
    s = acc_store
    d = _upload(s, lc_file)
    orphan = ws.paths.workspace_dir() / "D012345678"
    orphan.mkdir()
    (orphan / "upload.part").write_bytes(b"x")
    s.delete_dataset(d.id, actor=ADMIN)
    swept = ws.sweep_orphans(s, min_age_s=0)
    assert swept == [orphan] and not orphan.exists()
    assert (ws.bin_dir() / d.id / "upload.tif").is_file()  # the interrupted move is finished, not swept

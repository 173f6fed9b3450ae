"""docs/data.md: a referenced file "that was changed or removed afterwards is reported by name (in both
languages) and never used" — also when the edit kept the file's size and its modification time
was put back (``layers.fileid``), and also when the change lies past the first 8 MiB chunk the
hash reads at a time. Every file here is larger than one chunk of ``workspace.sha256_file``
(8 MiB) and of ``provenance.file_sha256`` (1 MiB), so hashing only the first chunk is caught."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import rasterio

from indicators import provenance
from zonal import tileplan
from layers import fileid
from storage import raster_register, vector_register
from storage import workspace as ws
from layers.readers import filegdb
from tests import workspace_fixtures as wf

CHUNK = 8 << 20  # workspace.sha256_file's default chunk


@pytest.fixture()
def store(tmp_path, monkeypatch):
    yield from wf.workspace_store(tmp_path, monkeypatch)


def _big_landcover(path: Path) -> Path:
    """An uncompressed tiled GeoTIFF of 3200 × 3200 CLCD codes (~10 MB: past the 8 MiB chunk);
    a pixel written later is rewritten in place, so the file keeps its size."""
    t, _, _ = wf.grid()
    codes = wf.clcd_codes(3200, 3200)
    profile = dict(driver="GTiff", width=3200, height=3200, count=1, dtype="uint8", transform=t, crs=wf.EQUAL_AREA,
                   nodata=0, tiled=True, blockxsize=256, blockysize=256, compress="none")
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(codes, 1)
    return path


def _edit_last_pixel_keeping_size_and_mtime(path: Path) -> int:
    """Change one pixel of the last tile, put the modification time back; returns the offset of
    the first changed byte."""
    before, st = path.read_bytes(), path.stat()
    with rasterio.open(path, "r+") as ds:
        a = ds.read(1, window=((3100, 3101), (3100, 3101)))
        ds.write(np.where(a == 5, 6, 5).astype("uint8"), 1, window=((3100, 3101), (3100, 3101)))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.read_bytes()
    assert len(after) == len(before) and path.stat().st_mtime_ns == st.st_mtime_ns  # size and mtime as before
    diff = np.flatnonzero(np.frombuffer(before, np.uint8) != np.frombuffer(after, np.uint8))
    assert diff.size, "the edit changed nothing"
    return int(diff[0])


def test_a_registered_file_edited_keeping_size_and_mtime_is_rehashed_and_refused(store, tmp_path):
    f = _big_landcover(tmp_path / "import" / "big.tif")
    assert f.stat().st_size > CHUNK + (1 << 20)
    d = raster_register.register_landcover(store, [f], legend="clcd", year=2020)
    assert d.files[0].sha256 == hashlib.sha256(f.read_bytes()).hexdigest()  # the whole file, not a chunk
    assert _edit_last_pixel_keeping_size_and_mtime(f) > CHUNK  # the change lies past the first chunk
    assert (f.stat().st_size, f.stat().st_mtime_ns) == (d.files[0].size, d.files[0].mtime_ns)
    with pytest.raises(ws.InputError) as e:
        ws.verify(d)
    assert "changed after it was registered" in e.value.en and "在登记后已被修改" in e.value.zh
    assert "big.tif" in e.value.en and "big.tif" in e.value.zh  # reported by name


def test_a_touched_file_is_accepted_and_a_later_edit_keeping_its_size_and_mtime_refused(store, tmp_path):
    """The hash of a version checked once is remembered (``workspace._sha_of_version``): a file
    touched, checked (accepted), then edited with size and that modification time put back must
    not be taken for the version already checked."""
    f = _big_landcover(tmp_path / "import" / "touched.tif")
    d = raster_register.register_landcover(store, [f], legend="clcd", year=2020)
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 5_000_000_000))  # touched, not changed
    ws.verify(d)
    touched = f.stat().st_mtime_ns
    _edit_last_pixel_keeping_size_and_mtime(f)
    assert f.stat().st_mtime_ns == touched
    with pytest.raises(ws.InputError) as e:
        ws.verify(d)
    assert "changed after it was registered" in e.value.en


def test_a_moved_in_copy_with_the_same_size_and_mtime_is_refused(tmp_path):
    """A file swapped in by a rename (another inode), with the same size and modification time and
    different bytes past the first chunk."""
    data = np.random.default_rng(7).integers(0, 256, CHUNK + 4096, dtype=np.uint8).tobytes()
    f = tmp_path / "ref.bin"
    f.write_bytes(data)
    d = ws.Dataset(id="x", role="landcover", name="ref", original_filename="ref.bin", storage="reference",
                   files=(ws.file_ref(f),))
    st = f.stat()
    other = tmp_path / "other.bin"
    other.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # the last byte differs
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(other, f)
    assert (f.stat().st_size, f.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    with pytest.raises(ws.InputError) as e:
        ws.verify(d)
    assert "changed after it was registered" in e.value.en


@pytest.mark.parametrize("hasher", [ws.sha256_file, provenance.file_sha256], ids=["workspace", "provenance"])
def test_file_hashes_read_the_whole_file(tmp_path, hasher):
    data = np.random.default_rng(3).integers(0, 256, CHUNK + 3 * (1 << 20) + 17, dtype=np.uint8).tobytes()
    f = tmp_path / "data.bin"
    f.write_bytes(data)
    assert hasher(f) == hashlib.sha256(data).hexdigest()
    f.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))  # only the last byte changed
    assert hasher(f) == hashlib.sha256(f.read_bytes()).hexdigest() != hashlib.sha256(data).hexdigest()


def test_the_gdb_folder_hash_reads_the_whole_file(tmp_path):
    """``filegdb.folder_sha256`` hashes each file's name, size and whole content (8 MiB reads):
    a file just over one chunk whose last byte changes must change the hash."""
    gdb = tmp_path / "x.gdb"
    gdb.mkdir()
    data = np.random.default_rng(5).integers(0, 256, CHUNK + 1, dtype=np.uint8).tobytes()
    (gdb / "a00000001.gdbtable").write_bytes(data)
    (gdb / "gdb").write_bytes(b"hi")

    def expected(content: bytes) -> str:  # names in order, each "name\0size\0" then the bytes
        h = hashlib.sha256()
        h.update(b"a00000001.gdbtable\0" + str(CHUNK + 1).encode() + b"\0" + content)
        h.update(b"gdb\x002\x00hi")
        return h.hexdigest()

    before = filegdb.folder_sha256(gdb)
    assert before == expected(data)
    edited = data[:-1] + bytes([data[-1] ^ 0xFF])  # only the last byte, past the first chunk
    (gdb / "a00000001.gdbtable").write_bytes(edited)
    after = filegdb.folder_sha256(gdb)
    assert after == expected(edited) != before


def test_the_tile_cache_fingerprint_moves_with_an_edit_keeping_size_and_mtime(tmp_path):
    """The tiled engine's cache key (``tileplan.raster_fingerprint``) is not hashed content: it must
    still change when the file is edited in place with its size and modification time put back."""
    f = _big_landcover(tmp_path / "fp.tif")
    before = tileplan.raster_fingerprint(f)
    assert tileplan.raster_fingerprint(f) == before  # stable while nothing changes
    _edit_last_pixel_keeping_size_and_mtime(f)
    assert tileplan.raster_fingerprint(f) != before
    assert fileid.fingerprint(f).ctime_ns != 0


def test_referenced_files_are_never_deleted_by_a_removal_or_an_emptied_bin(store, tmp_path):
    """docs/data.md: "referenced files are never deleted" — the dataset in use removed (confirmed), the
    recycle bin emptied: the files in the import folder are all still there, byte for byte."""
    from tests.workspace_fixtures import osm_near, quadrant_tiles

    import_dir = tmp_path / "import"
    tiles = quadrant_tiles(wf.clcd_landcover(tmp_path / "src.tif"), import_dir / "tiles")
    osm = osm_near(103.66, 36.52, import_dir / "lz.osm")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in tiles + [osm]}
    lc = raster_register.register_landcover(store, tiles, legend="clcd", use=True)
    tr = vector_register.register_osm(store, osm, use=True)
    for d in (lc, tr):
        ws.remove(store, d.id, confirm=True)
    ws.empty_bin(store)
    assert ws.datasets(store) == [] and not (ws.paths.workspace_dir() / lc.id).exists()
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in before if p.is_file()} == before

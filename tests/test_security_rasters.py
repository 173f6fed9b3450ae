"""Hostile land-cover rasters: what an uploaded or imported file may make GDAL read, fetch or
allocate, and who may name a file on the server.

- GDAL never sniffs a user's raster: an XML virtual raster (VRT) uploaded under a ``.tif`` name
  (Data page: ``register_landcover_upload``; Targets page: ``save_uploaded_raster``; a member of a
  zip of tiles) is refused as a VRT before GDAL opens it, and nothing of the file it points at
  (a secrets file with a known marker) reaches a message, the store or the workspace;
- a VRT in the import folder may only name GeoTIFFs inside the import folder: raw bands
  (``VRTRawRasterBand``, any letter case), ``/vsicurl/`` and ``http://`` sources (no connection is
  made: a local listening socket records none), files outside the folder (absolute, ``../`` or a
  symbolic link), derived bands, overviews and mask bands pointing elsewhere are refused by name;
- a VRT declaring 10¹² pixels over one small tile padded to 80 MB is refused with a clear
  message (it used to ask numpy for a 12.8 GB strip); the registration scan reads bounded windows;
- the engine (``LandcoverRaster``, ``landcover_at``) opens only GeoTIFFs and checked VRTs;
- the Targets page reads typed server paths for admins only, inside the import folder or
  ``GANSU_RASTER_ROOTS``; its uploads in ``data/user_rasters`` are pruned by age and count;
- a zip of two tiles uploaded from the Data page becomes one mosaic.
"""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import rasterio
from affine import Affine

from core.errors import InputError, PermissionDenied
from storage import raster_register, raster_scan
from storage import workspace as ws
from storage.store import Store
from tests import workspace_fixtures as wf

REPO = Path(__file__).resolve().parent.parent
SECRET = b'cookie_secret = "GANSU-TEST-SECRET-8c41f2"\n'  # 44 bytes
MARKER = "GANSU-TEST-SECRET-8c41f2"
SMALL_BOX = (103.55, 36.35, 103.75, 36.5)


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("GANSU_IMPORT_DIR", str(tmp_path / "import"))
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "workspace"))
    monkeypatch.setenv("GANSU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GANSU_RASTER_ROOTS", raising=False)
    (tmp_path / "import").mkdir()
    secret = tmp_path / "secrets.toml"
    secret.write_bytes(SECRET)
    s = Store(tmp_path / "store.duckdb")
    yield SimpleNamespace(store=s, tmp=tmp_path, secret=secret, imp=tmp_path / "import", ws=tmp_path / "workspace")
    s.close()


# --- hostile files, written here ------------------------------------------------------------------
def raw_vrt(secret: Path, width: int, height: int, dtype: str = "Byte", offset: int = 0, lower: bool = False) -> bytes:
    """A VRT whose band reads the bytes of ``secret`` (``lower``: every tag in lower case, which
    GDAL reads the same)."""
    size = {"Byte": 1, "UInt64": 8}[dtype]
    xml = (f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}"><SRS>EPSG:4326</SRS>'
           '<GeoTransform>103.5, 0.001, 0, 36.5, 0, -0.001</GeoTransform>'
           f'<VRTRasterBand dataType="{dtype}" band="1" subClass="VRTRawRasterBand"><NoDataValue>0</NoDataValue>'
           f'<SourceFilename relativetoVRT="0">{secret}</SourceFilename><ImageOffset>{offset}</ImageOffset>'
           f'<PixelOffset>{size}</PixelOffset><LineOffset>{size * width}</LineOffset><ByteOrder>LSB</ByteOrder>'
           '</VRTRasterBand></VRTDataset>')
    if lower:
        for tag in ("VRTRasterBand", "SourceFilename", "ImageOffset", "PixelOffset", "LineOffset", "subClass"):
            xml = xml.replace(tag, tag.lower())
    return xml.encode()


def simple_vrt(source: str, width: int, height: int, *, tile: int | None = None, transform: str | None = None,
               relative: bool = False, extra_band: str = "", band_attrs: str = "") -> bytes:
    """A VRT with one SimpleSource (``tile`` × ``tile`` pixels at the origin, default the whole raster)."""
    t = tile or width
    th = tile or height
    return (f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}"><SRS>EPSG:4326</SRS>'
            f'<GeoTransform>{transform or "103.5, 0.001, 0, 36.5, 0, -0.001"}</GeoTransform>'
            f'<VRTRasterBand dataType="Byte" band="1"{band_attrs}><NoDataValue>0</NoDataValue>{extra_band}'
            f'<SimpleSource><SourceFilename relativeToVRT="{int(relative)}">{source}</SourceFilename>'
            f'<SourceBand>1</SourceBand><SourceProperties RasterXSize="{t}" RasterYSize="{th}" DataType="Byte" '
            f'BlockXSize="{t}" BlockYSize="1"/><SrcRect xOff="0" yOff="0" xSize="{t}" ySize="{th}"/>'
            f'<DstRect xOff="0" yOff="0" xSize="{t}" ySize="{th}"/></SimpleSource>'
            '</VRTRasterBand></VRTDataset>').encode()


def lonlat_tif(path: Path, data: np.ndarray, res: float = 0.001) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return wf.write_tif(path, data, Affine(res, 0, 103.5, 0, -res, 36.5), crs="EPSG:4326", nodata=0)


def store_text(s: Store) -> str:
    """Every value of every table of the store, as text."""
    tables = s.query_df("SELECT table_name FROM information_schema.tables")["table_name"]
    return " ".join(s.query_df(f'SELECT * FROM "{t}"').astype(str).to_csv() for t in tables)


def assert_nothing_leaked(e: InputError, env) -> None:
    text = e.en + e.zh
    assert MARKER not in text and str(env.secret) not in text
    codes = sorted(set(SECRET))  # what a "codes outside the legend" message would list
    assert str(codes[:3])[1:-1] not in text, text
    assert ws.datasets(env.store) == []
    assert MARKER not in store_text(env.store)
    leftovers = [p for p in env.ws.rglob("*") if p.is_file()] if env.ws.exists() else []
    assert leftovers == [], leftovers


def assert_refused_as_uploaded_vrt(e: InputError, name: str) -> None:
    """Refused by its content (XML), before GDAL opened it, named as the user named it."""
    assert e.en.startswith(f"{name} is not a GeoTIFF: it holds XML") and "an uploaded VRT is refused" in e.en, e.en
    assert e.zh.startswith(f"{name} 不是 GeoTIFF：其内容为 XML") and "不接受上传的 VRT" in e.zh, e.zh


# --- finding 1: VRT content in uploads ---------------------------------------------------------------
@pytest.mark.parametrize("legend", [None, "clcd"])
def test_raw_band_vrt_named_tif_uploaded_on_the_data_page_is_refused(env, legend):
    with pytest.raises(InputError) as e:
        raster_register.register_landcover_upload(env.store, raw_vrt(env.secret, 11, 4), "evil.tif", legend=legend)
    assert_refused_as_uploaded_vrt(e.value, "evil.tif")
    assert_nothing_leaked(e.value, env)


def test_raw_band_vrt_named_tif_uploaded_on_the_targets_page_is_refused(env):
    from ui import raster_sources as rs

    with pytest.raises(InputError) as e:
        rs.save_uploaded_raster("evil.tif", raw_vrt(env.secret, 11, 4))
    assert_refused_as_uploaded_vrt(e.value, "evil.tif")
    assert MARKER not in e.value.en + e.value.zh
    assert list(rs.user_raster_dir().iterdir()) == []


def test_uint64_raw_band_at_an_offset_never_prints_its_value(env):
    value = int.from_bytes(SECRET[8:16], "little")  # what the old refusal printed
    xml = raw_vrt(env.secret, 1, 1, "UInt64", offset=8)
    with pytest.raises(InputError) as e:
        raster_register.register_landcover_upload(env.store, xml, "evil.tif", legend="clcd")
    assert str(value) not in e.value.en + e.value.zh
    assert_refused_as_uploaded_vrt(e.value, "evil.tif")
    assert_nothing_leaked(e.value, env)
    (env.imp / "evil.tif").write_bytes(xml)  # the same file in the import folder (an admin registers it)
    with pytest.raises(InputError) as e:
        raster_register.register_landcover(env.store, [env.imp / "evil.tif"], legend="clcd")
    assert str(value) not in e.value.en + e.value.zh and "VRTRawRasterBand" in e.value.en
    assert "VRTRawRasterBand" in e.value.zh
    assert_nothing_leaked(e.value, env)


@pytest.mark.parametrize("how", ["absolute", "relative", "symlink"])
def test_import_folder_vrt_naming_a_file_outside_the_folder_is_refused(env, how):
    outside = lonlat_tif(env.tmp / "elsewhere" / "private_lc.tif", np.full((20, 30), 3, "uint8"))
    if how == "absolute":
        xml = simple_vrt(str(outside), 30, 20)
    elif how == "relative":
        xml = simple_vrt("../elsewhere/private_lc.tif", 30, 20, relative=True)
    else:
        (env.imp / "private_lc.tif").symlink_to(outside)
        xml = simple_vrt("private_lc.tif", 30, 20, relative=True)
    (env.imp / "mosaic.vrt").write_bytes(xml)
    with pytest.raises(InputError) as e:
        raster_register.register_landcover(env.store, [env.imp / "mosaic.vrt"], legend="clcd")
    assert "private_lc.tif" in e.value.en and "outside the import folder" in e.value.en, e.value.en
    assert "导入目录之外" in e.value.zh
    assert ws.datasets(env.store) == []


@pytest.mark.parametrize("scheme", ["/vsicurl/http", "http"])
def test_import_folder_vrt_with_a_network_source_is_refused_without_a_connection(env, monkeypatch, scheme):
    monkeypatch.setenv("GDAL_HTTP_TIMEOUT", "3")  # bounded, should the request be made after all
    monkeypatch.setenv("GDAL_HTTP_MAX_RETRY", "0")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)  # the kernel completes (and queues) any TCP connection: accept() shows it afterwards
    try:
        url = f"{scheme}://127.0.0.1:{srv.getsockname()[1]}/x.tif"
        (env.imp / "remote.vrt").write_bytes(simple_vrt(url, 10, 10))
        with pytest.raises(InputError) as e:
            raster_register.register_landcover(env.store, [env.imp / "remote.vrt"], legend="clcd")
        assert url in e.value.en and url in e.value.zh, e.value.en
        srv.setblocking(False)
        with pytest.raises(BlockingIOError):  # nothing queued: no connection was attempted
            srv.accept()
    finally:
        srv.close()
    assert ws.datasets(env.store) == []


@pytest.mark.parametrize("what, needle", [
    ("lowercase_raw_band", "VRTRawRasterBand"), ("derived_band", "VRTDerivedRasterBand"), ("overview", "Overview"),
    ("mask_band", "MaskBand"), ("nested_vrt_source", "inner.tif"), ("not_xml_for_python", "XML"),
    ("entity", "DOCTYPE")])
def test_import_folder_vrt_structures_that_read_other_files_are_refused(env, what, needle):
    tile = lonlat_tif(env.imp / "tile.tif", np.full((10, 10), 3, "uint8"))
    src = '<SimpleSource><SourceFilename relativeToVRT="1">tile.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource>'
    head = ('<VRTDataset rasterXSize="10" rasterYSize="10"><SRS>EPSG:4326</SRS>'
            '<GeoTransform>103.5, 0.001, 0, 36.5, 0, -0.001</GeoTransform>')
    band = '<VRTRasterBand dataType="Byte" band="1"><NoDataValue>0</NoDataValue>'
    elsewhere = f'<SourceFilename relativeToVRT="0">{env.secret}</SourceFilename><SourceBand>1</SourceBand>'
    xml = {
        "lowercase_raw_band": raw_vrt(env.secret, 11, 4, lower=True).decode(),
        "derived_band": head + '<VRTRasterBand dataType="Byte" band="1" subClass="VRTDerivedRasterBand">'
                               f'<NoDataValue>0</NoDataValue><PixelFunctionType>inv</PixelFunctionType>{src}'
                               '</VRTRasterBand></VRTDataset>',
        "overview": head + f'{band}{src}<Overview>{elsewhere}</Overview></VRTRasterBand></VRTDataset>',
        "mask_band": head + f'{band}{src}</VRTRasterBand><MaskBand><VRTRasterBand dataType="Byte"><SimpleSource>'
                            f'{elsewhere}</SimpleSource></VRTRasterBand></MaskBand></VRTDataset>',
        "nested_vrt_source": head + f'{band}<SimpleSource><SourceFilename relativeToVRT="1">inner.tif'
                                    '</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>',
        "not_xml_for_python": head + band.replace('band="1"', "band=1") + f'{src}</VRTRasterBand></VRTDataset>',
        "entity": '<!DOCTYPE x [<!ENTITY f SYSTEM "file:///etc/hostname">]>' + head + f'{band}{src}</VRTRasterBand>'
                  '</VRTDataset>',
    }[what]
    (env.imp / "inner.tif").write_bytes(raw_vrt(env.secret, 11, 4))  # a VRT under a .tif name, used as a source
    (env.imp / "x.vrt").write_text(xml)
    with pytest.raises(InputError) as e:
        raster_register.register_landcover(env.store, [env.imp / "x.vrt"], legend="clcd")
    assert "x.vrt" in e.value.en and needle in e.value.en and needle in e.value.zh, e.value.en
    assert_nothing_leaked(e.value, env)
    assert tile.exists()


def test_a_plain_import_folder_vrt_over_tiles_inside_it_is_accepted(env):
    """The control: a VRT as gdalbuildvrt writes it, over GeoTIFFs in the import folder."""
    a = np.arange(1, 10, dtype="uint8").repeat(40).reshape(10, 36)
    lonlat_tif(env.imp / "tiles" / "t.tif", a)
    (env.imp / "tiles.vrt").write_bytes(simple_vrt("tiles/t.tif", 36, 10, relative=True))
    d = raster_register.register_landcover(env.store, [env.imp / "tiles.vrt"], legend="clcd")
    assert d.codes == {c: 40 for c in range(1, 10)} and d.n_pixels == 360


# --- finding 5: a VRT declaring 10¹² pixels ------------------------------------------------------
def test_a_vrt_of_10_to_the_12_pixels_over_one_large_file_is_refused(env):
    tile = lonlat_tif(env.imp / "tile.tif", np.full((100, 100), 3, "uint8"), res=1e-6)
    os.truncate(tile, 80 << 20)  # "any large file": 80 MB (sparse), the GeoTIFF still reads
    (env.imp / "huge.vrt").write_bytes(simple_vrt("tile.tif", 100_000_000, 10_000, tile=100, relative=True,
                                                  transform="10.0, 1e-06, 0, 40.0, 0, -1e-06"))
    with pytest.raises(InputError) as e:
        raster_register.register_landcover(env.store, [env.imp / "huge.vrt"], legend="clcd")
    assert "1e+12" in e.value.en and "1e+12" in e.value.zh, e.value.en
    assert "huge.vrt" in e.value.en
    assert ws.datasets(env.store) == []


def test_a_mosaic_over_the_pixel_cap_is_refused_even_when_its_tiles_cover_it(env, monkeypatch):
    from core import limits

    lonlat_tif(env.imp / "tile.tif", np.full((1000, 2000), 3, "uint8"))
    (env.imp / "big.vrt").write_bytes(simple_vrt("tile.tif", 2000, 1000, relative=True))
    monkeypatch.setattr(limits, "MAX_MOSAIC_PIXELS", 10**6)
    with pytest.raises(InputError) as e:
        raster_register.register_landcover(env.store, [env.imp / "big.vrt"], legend="clcd")
    assert "GANSU_MAX_MOSAIC_PIXELS" in e.value.en and "GANSU_MAX_MOSAIC_PIXELS" in e.value.zh and "2e+06" in e.value.en
    monkeypatch.setattr(limits, "MAX_MOSAIC_PIXELS", 2 * 10**6)  # at the cap: accepted
    assert raster_register.register_landcover(env.store, [env.imp / "big.vrt"], legend="clcd").codes == {3: 2 * 10**6}


def test_scan_reads_windows_of_bounded_size_and_counts_the_same(env, monkeypatch):
    wins = list(raster_scan.scan_windows(10**7, 1000, 128, 128, 4 << 20))
    assert max((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in wins) <= 4 << 20
    assert sum((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in wins) == 10**10  # every pixel once
    rng = np.random.default_rng(4)
    a = rng.integers(0, 10, (300, 5000), dtype="uint8")
    f = lonlat_tif(env.tmp / "wide.tif", a)
    whole = raster_scan.scan_raster(f, 0)
    monkeypatch.setattr(raster_scan, "SCAN_READ_PIXELS", 3000)  # windows of a few blocks, not whole rows
    assert len(list(raster_scan.scan_windows(5000, 300, 256, 256, raster_scan.SCAN_READ_PIXELS))) > 20
    parts = raster_scan.scan_raster(f, 0)
    expect = {int(c): int(n) for c, n in zip(*np.unique(a[a != 0], return_counts=True))}
    assert whole["codes"] == parts["codes"] == expect


# --- the engine opens GeoTIFFs and checked VRTs only ------------------------------------------------
def test_the_engine_refuses_a_raw_band_vrt_under_a_tif_name(env):
    from zonal import rastersource
    from indicators import pointquery

    p = env.tmp / "evil.tif"
    p.write_bytes(raw_vrt(env.secret, 11, 4))
    with pytest.raises(InputError) as e:
        with rastersource.LandcoverRaster(p):
            pass
    assert MARKER not in e.value.en
    with pytest.raises(InputError) as e:
        pointquery.landcover_at(str(p), "clcd", 103.5005, 36.4995)  # the first pixel: 'c' (99)
    assert "99" not in e.value.en + e.value.zh and MARKER not in e.value.en


def test_raw_raster_bands_are_disabled_process_wide():
    env = {k: v for k, v in os.environ.items() if k != "GDAL_VRT_ENABLE_RAWRASTERBAND"}
    out = subprocess.run([sys.executable, "-c", "import os, core; print(os.environ.get('GDAL_VRT_ENABLE_RAWRASTERBAND'))"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "NO", out.stderr


@pytest.mark.skipif(tuple(int(v) for v in rasterio.__gdal_version__.split(".")[:2]) < (3, 12),
                    reason=f"rasterio's GDAL {rasterio.__gdal_version__} ignores GDAL_VRT_ENABLE_RAWRASTERBAND "
                           "(honoured from GDAL 3.12): the VRT check before opening is the guard")
def test_gdal_itself_refuses_raw_bands(env):
    p = env.tmp / "raw.vrt"
    p.write_bytes(raw_vrt(env.secret, 11, 4))
    code = f"import core, rasterio\ntry:\n rasterio.open({str(p)!r}).read(1)\nexcept Exception:\n print('refused')"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "refused", out.stdout


# --- reliability: a zip of land-cover tiles ----------------------------------------------------------
def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_a_zip_of_two_tiles_uploaded_on_the_data_page_becomes_one_mosaic(env):
    lc = wf.clcd_landcover(env.tmp / "lc.tif", box=SMALL_BOX)
    tiles = wf.quadrant_tiles(lc, env.tmp / "tiles")[:2]  # the top half: two tiles side by side
    data = _zip({"clcd/a.tif": tiles[0].read_bytes(), "clcd/b.tif": tiles[1].read_bytes(), "readme.txt": b"two tiles"})
    d = raster_register.register_landcover_upload(env.store, data, "clcd_tiles.zip", legend="clcd", year=2021)
    arrays = [rasterio.open(t).read(1) for t in tiles]
    top = np.hstack(arrays)
    expect = {int(c): int(n) for c, n in zip(*np.unique(top[top != 0], return_counts=True))}
    assert d.codes == expect and d.n_pixels == top.size and d.storage == "workspace"
    assert d.name == "clcd_tiles" and d.original_filename == "clcd_tiles.zip" and d.year == 2021
    assert d.raster_path.endswith("mosaic.vrt") and len(d.files) == 2
    assert all(Path(f.path).is_relative_to(env.ws / d.id) for f in d.files)  # copies kept with the dataset
    with rasterio.open(d.raster_path) as m:
        assert (m.read(1) == top).all()
    ws.verify(d)


@pytest.mark.parametrize("evil", ["raw", "simple"])
def test_a_zip_holding_a_vrt_renamed_tif_is_refused(env, evil):
    lc = wf.clcd_landcover(env.tmp / "lc.tif", box=SMALL_BOX)
    tiles = wf.quadrant_tiles(lc, env.tmp / "tiles")[:2]
    outside = lonlat_tif(env.tmp / "elsewhere" / "private_lc.tif", np.full((20, 30), 3, "uint8"))
    bad = raw_vrt(env.secret, 11, 4) if evil == "raw" else simple_vrt(str(outside), 30, 20)
    data = _zip({"a.tif": tiles[0].read_bytes(), "evil.tif": bad})
    with pytest.raises(InputError) as e:
        raster_register.register_landcover_upload(env.store, data, "tiles.zip", legend="clcd")
    assert_refused_as_uploaded_vrt(e.value, "evil.tif")
    assert_nothing_leaked(e.value, env)


# --- finding 7: the Targets page's server paths and uploads ---------------------------------------------
def test_typed_server_paths_only_for_admins_and_only_inside_the_allowed_folders(env, monkeypatch):
    from ui import raster_sources as rs

    a = np.full((20, 30), 3, "uint8")
    outside = lonlat_tif(env.tmp / "elsewhere" / "private_lc.tif", a)
    inside = lonlat_tif(env.imp / "lc.tif", a)
    assert rs.check_raster_path(str(inside), admin=True) == inside.resolve()
    for text in (str(outside), str(env.imp / ".." / "elsewhere" / "private_lc.tif")):
        with pytest.raises(InputError) as e:
            rs.check_raster_path(text, admin=True)
        assert "GANSU_RASTER_ROOTS" in e.value.en and "GANSU_RASTER_ROOTS" in e.value.zh
    (env.imp / "link.tif").symlink_to(outside)
    with pytest.raises(InputError, match="GANSU_RASTER_ROOTS"):
        rs.check_raster_path(str(env.imp / "link.tif"), admin=True)
    with pytest.raises(PermissionDenied) as e:  # never for a viewer or an editor, even inside
        rs.check_raster_path(str(inside), admin=False)
    assert "admin" in e.value.en and "管理员" in e.value.zh
    monkeypatch.setenv("GANSU_RASTER_ROOTS", str(env.tmp / "elsewhere"))  # declared folders replace the default
    assert rs.check_raster_path(str(outside), admin=True) == outside.resolve()
    with pytest.raises(InputError, match="GANSU_RASTER_ROOTS"):
        rs.check_raster_path(str(inside), admin=True)


def test_targets_page_uploads_are_pruned_by_age_and_count(env):
    from core import limits
    from tests.hostile import corpus
    from ui import raster_sources as rs

    folder = rs.user_raster_dir()
    good = corpus.tif()
    now = time.time()
    old = folder / f"{'a' * 64}.tif"
    old.write_bytes(good)
    os.utime(old, (now - 3 * 86400, now - 3 * 86400))  # three days old
    recent = []
    for i in range(limits.USER_RASTER_MAX_FILES + 3):
        p = folder / f"{i:064d}.tif"
        p.write_bytes(good)
        os.utime(p, (now - 3600 + i, now - 3600 + i))  # an hour old, oldest first
        recent.append(p)
    kept = rs.save_uploaded_raster("lc.tif", corpus.tif(nodata=0))
    assert kept.exists() and not old.exists()
    left = sorted(folder.glob("*.tif"))
    assert len(left) == limits.USER_RASTER_MAX_FILES
    assert [p for p in recent if p.exists()] == recent[4:]  # the four oldest went, the new upload stays
    assert limits.USER_RASTER_MAX_AGE_S == 24 * 3600
    os.utime(kept, (now - 20 * 3600, now - 20 * 3600))  # used again after 20 hours: its age starts again
    assert rs.save_uploaded_raster("lc.tif", corpus.tif(nodata=0)) == kept and now - kept.stat().st_mtime < 3600


def _copy_default_landcover(dst: Path) -> Path:
    from core import paths

    dst.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(paths.landcover_path()) as src:
        prof, data = src.profile, src.read(1)
    with rasterio.open(dst, "w", **prof) as out:
        out.write(data, 1)
    return dst


def _targets(lang: str, **state):
    from tests.apptest_helpers import run_page

    return run_page("targets.py", lang, targets_lc_source="path", targets_lc_legend="igbp", **state)


def test_targets_page_refuses_a_typed_path_outside_the_import_folder(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("GANSU_IMPORT_DIR", str(tmp_path / "import"))
    monkeypatch.delenv("GANSU_RASTER_ROOTS", raising=False)
    outside = _copy_default_landcover(tmp_path / "elsewhere" / "lc.tif")
    inside = _copy_default_landcover(tmp_path / "import" / "lc.tif")
    at = _targets("en", targets_lc_path=str(outside))
    assert any("GANSU_RASTER_ROOTS" in e.value for e in at.error), [e.value for e in at.error]
    assert not any(m.label.startswith("Forest share") for m in at.metric)
    at = _targets("en", targets_lc_path=str(inside))  # the control: inside the import folder
    assert not at.error, [e.value for e in at.error]
    assert any(m.label.startswith("Forest share") for m in at.metric)


def test_targets_page_refuses_a_typed_path_for_a_viewer(dataset, tmp_path, monkeypatch):
    from storage import accounts
    from storage.accounts import SHELL

    s = Store(tmp_path / "accounts.duckdb")
    accounts.add(s, "root", "Passwort-fuer-Tests-1", "admin", actor=SHELL)
    accounts.add(s, "vic", "Passwort-fuer-Tests-1", "viewer", actor=SHELL)
    s.close()
    monkeypatch.setenv("GANSU_STORE", str(tmp_path / "accounts.duckdb"))
    monkeypatch.setenv("GANSU_IMPORT_DIR", str(tmp_path / "import"))
    inside = _copy_default_landcover(tmp_path / "import" / "lc.tif")
    session = {"name": "vic", "role": "viewer", "office": None, "source": "password", "seen": time.time()}
    at = _targets("zh", targets_lc_path=str(inside), auth_session=session)
    assert any("管理员" in e.value for e in at.error), [e.value for e in at.error]
    assert not any(m.label.startswith("森林占比") for m in at.metric)
    assert not [w for w in at.text_input if w.key == "targets_lc_path"]  # not offered either


# --- review of the fixes: a zip of tiles far apart, and overviews that read other files -------------
class ScanStarted(Exception):
    """Raised by the progress callback: the registration scan began reading pixels."""


def _no_scan(row, height):
    raise ScanStarted(f"the registration scan started (row {row} of {height})")


def _tif_bytes(west: float, north: float, data: np.ndarray, res: float = 1e-5, tags: dict | None = None) -> bytes:
    """A lon/lat GeoTIFF (nodata 0) as bytes; ``tags``: {namespace: {key: value}} written into it."""
    from rasterio.io import MemoryFile

    with MemoryFile() as m:
        with m.open(driver="GTiff", width=data.shape[1], height=data.shape[0], count=1, dtype=data.dtype.name,
                    crs="EPSG:4326", transform=Affine(res, 0, west, 0, -res, north), nodata=0) as d:
            d.write(data, 1)
            for ns, kv in (tags or {}).items():
                d.update_tags(ns=ns, **kv)
        return m.read()


def test_a_zip_of_two_tiles_a_million_pixels_apart_is_refused_before_the_scan(env):
    """Two 4 × 4 tiles placed 10⁶ pixels apart: the mosaic the app writes declares ~10¹² pixels and
    its tiles cover 32 of them; it is checked like an import-folder VRT before any pixel is read."""
    far = 10**6
    tile = np.full((4, 4), 10, "uint8")
    data = _zip({"a.tif": _tif_bytes(95.0, 42.0, tile), "b.tif": _tif_bytes(95.0 + 1e-5 * far, 42.0 - 1e-5 * far, tile)})
    with pytest.raises(InputError) as e:
        raster_register.register_landcover_upload(env.store, data, "tiles.zip", legend="igbp", progress=_no_scan)
    assert "cover only 32" in e.value.en and "10%" in e.value.en and "tiles.zip" in e.value.en, e.value.en
    assert "只覆盖其中 32" in e.value.zh, e.value.zh
    assert ws.datasets(env.store) == [] and not [p for p in env.ws.rglob("*") if p.is_file()]


def test_an_uploaded_mosaic_stays_under_the_per_request_pixel_limit(env, monkeypatch):
    """Each tile is under GANSU_MAX_RASTER_PIXELS, their mosaic is not: refused for an upload (one
    request), accepted from the import folder (where GANSU_MAX_MOSAIC_PIXELS applies)."""
    from core import limits

    monkeypatch.setattr(limits, "MAX_RASTER_PIXELS", 10**6)
    top, bottom = np.full((600, 1000), 10, "uint8"), np.full((600, 1000), 12, "uint8")
    res = 1e-3
    a, b = _tif_bytes(100.0, 40.0, top, res), _tif_bytes(100.0, 40.0 - 600 * res, bottom, res)
    with pytest.raises(InputError) as e:
        raster_register.register_landcover_upload(env.store, _zip({"a.tif": a, "b.tif": b}), "two.zip", legend="igbp",
                                                  progress=_no_scan)
    assert "1.2e+06" in e.value.en and "GANSU_MAX_RASTER_PIXELS" in e.value.en and "tiles.zip" not in e.value.en
    assert "GANSU_MAX_RASTER_PIXELS" in e.value.zh
    assert ws.datasets(env.store) == []
    (env.imp / "a.tif").write_bytes(a)
    (env.imp / "b.tif").write_bytes(b)
    d = raster_register.register_landcover(env.store, [env.imp / "a.tif", env.imp / "b.tif"], legend="igbp")
    assert d.codes == {10: 600_000, 12: 600_000} and d.n_pixels == 1_200_000


def _overview_vrt(source: Path, size: int) -> str:
    """A VRT (plain SimpleSource, no raw band) that shows ``source`` as a ``size`` × ``size`` overview."""
    return (f'<VRTDataset rasterXSize="{size}" rasterYSize="{size}"><VRTRasterBand dataType="Byte" band="1">'
            f'<SimpleSource><SourceFilename relativeToVRT="0">{source}</SourceFilename><SourceBand>1</SourceBand>'
            '</SimpleSource></VRTRasterBand></VRTDataset>')


@pytest.fixture()
def private_tif(env) -> Path:
    """A server raster the uploader must not see: every pixel 77."""
    return lonlat_tif(env.tmp / "private" / "other.tif", np.full((32, 32), 77, "uint8"))


def test_a_geotiff_whose_metadata_names_an_overview_file_is_refused(env, private_tif):
    evil = _tif_bytes(103.5, 36.5, np.full((64, 64), 3, "uint8"), res=1e-3,
                      tags={"OVERVIEWS": {"OVERVIEW_FILE": _overview_vrt(private_tif, 32)}})
    with pytest.raises(InputError) as e:
        raster_register.register_landcover_upload(env.store, evil, "evil.tif", legend="clcd")
    assert "overview" in e.value.en and "evil.tif" in e.value.en and "概视图" in e.value.zh, e.value.en
    assert str(private_tif) not in e.value.en + e.value.zh
    assert ws.datasets(env.store) == []
    with pytest.raises(InputError):  # the Targets page's check (validate_geotiff) refuses it too
        from layers.readers import validate_geotiff

        validate_geotiff(evil, "evil.tif")


def test_user_rasters_are_opened_without_their_overviews(env, private_tif):
    """A reduced-resolution read of a GeoTIFF with a sibling .ovr (or OVERVIEW_FILE metadata) that is
    a VRT over another file returns the GeoTIFF's own pixels, never the other file's."""
    from layers.readers.gdal_safety import open_raster, open_upload

    own = np.full((64, 64), 3, "uint8")
    f = lonlat_tif(env.tmp / "up" / "a.tif", own)
    (env.tmp / "up" / "a.tif.ovr").write_text(_overview_vrt(private_tif, 32))
    with open_raster(f) as ds:
        assert set(np.unique(ds.read(1, out_shape=(32, 32))).tolist()) == {3}
    meta = _tif_bytes(103.5, 36.5, own, res=1e-3, tags={"OVERVIEWS": {"OVERVIEW_FILE": _overview_vrt(private_tif, 32)}})
    with open_upload(meta, "m.tif") as ds:
        assert set(np.unique(ds.read(1, out_shape=(32, 32))).tolist()) == {3}


def test_a_zip_cannot_put_an_overview_file_beside_its_tiles(env, private_tif):
    """Members are extracted under generated names (``m<n><ext>``), so ``a.tif.ovr`` or
    ``b.tif.aux.xml`` never lands beside its tile, where GDAL would read it as the tile's overview
    or metadata: the mosaic read at a reduced resolution shows the tiles' own codes."""
    res = 1e-3
    a, b = _tif_bytes(100.0, 40.0, np.full((64, 64), 10, "uint8"), res), _tif_bytes(100.064, 40.0, np.full((64, 64), 12, "uint8"), res)
    data = _zip({"t/a.tif": a, "t/b.tif": b, "t/a.tif.ovr": _overview_vrt(private_tif, 32).encode(),
                 "t/b.tif.aux.xml": b"<PAMDataset/>", "readme.txt": b"two tiles"})
    d = raster_register.register_landcover_upload(env.store, data, "tiles.zip", legend="igbp")
    assert d.codes == {10: 64 * 64, 12: 64 * 64}
    kept = {p.name for p in (env.ws / d.id).rglob("*") if p.is_file()}
    tiles = {Path(f.path).name for f in d.files}
    assert len(tiles) == 2 and not {f"{t}{s}" for t in tiles for s in (".ovr", ".aux.xml", ".msk")} & kept, kept
    from layers.readers.gdal_safety import open_raster

    with open_raster(d.raster_path) as m:
        assert set(np.unique(m.read(1, out_shape=(32, 64))).tolist()) == {10, 12}

"""User vector files are never sniffed by GDAL, and a referenced file cannot be swapped unseen.

GDAL picks a driver from a file's content, so an XML "virtual dataset" (OGR VRT) or a GDAL
algorithm pipeline (GDALG, JSON) uploaded as ``parks.geojson``, ``.gpkg``, ``.kml``, a zipped
``.shp`` … would read any file the server can read (``SrcDataSource=CSV:/path``) or make the server
fetch any URL (``/vsicurl/http://…``). Every entry is covered: uploads (``read_vector``,
``list_layers``), files on disk (``read_path``, ``list_path_layers``, ``read_osm``), the workspace
(bytes and the import folder) and the command line. A local socket server records every
connection, so "no request was sent" is observed, not assumed.

The second half: a referenced file edited with its size kept and its modification time put back
is still refused (the fingerprint includes ctime, inode and device, which a user cannot put
back), while a file that was only touched is accepted; the raster hash and tile caches key on
the same fingerprint.
"""
from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from core.errors import InputError, UploadError
from layers import readers
from storage import import_folder, vector_register
from storage import workspace as ws
from storage.store import Store
from tests.indicator_fixtures import write_raster

REPO = Path(__file__).resolve().parent.parent
MARKER = "GANSU_SECRET_MARKER_7f3a"
SQUARE = "POLYGON((104 36,104.1 36,104.1 36.1,104 36.1,104 36))"


# --- hostile files ------------------------------------------------------------------------------
@pytest.fixture()
def secret(tmp_path) -> Path:
    """A server file the attacker wants: one header line, the marker on the next."""
    p = tmp_path / "server" / "secrets.txt"
    p.parent.mkdir()
    p.write_text(f"cookie_secret\n{MARKER}\n", encoding="utf-8")
    return p


def ogr_vrt(src: str, layer: str = "evil", sql_table: str | None = "secrets", extra: str = "") -> bytes:
    """An OGR VRT that turns every line of ``src`` into a feature with a square polygon (so the
    app's own checks accept it, and the line becomes an attribute the Parks page previews)."""
    sql = (f"<SrcSQL dialect=\"SQLITE\">SELECT *, ST_GeomFromText('{SQUARE}', 4326) AS geometry "
           f"FROM {sql_table}</SrcSQL>" if sql_table else "")
    return (f"<OGRVRTDataSource>\n  <OGRVRTLayer name=\"{layer}\">\n    <SrcDataSource>{src}</SrcDataSource>\n"
            f"    {sql}{extra}\n  </OGRVRTLayer>\n</OGRVRTDataSource>\n").encode()


def gdalg(secret: Path) -> bytes:
    """A GDAL algorithm pipeline (JSON, the GDALG driver) reading the secret as CSV."""
    cl = (f"gdal vector pipeline ! read {secret} --input-format CSV ! sql --dialect SQLITE --sql "
          f"\"SELECT *, ST_GeomFromText('{SQUARE}', 4326) AS geometry FROM secrets\" ! write --of stream x")
    return json.dumps({"type": "gdal_streamed_alg", "command_line": cl}).encode()


def osm_vrt(secret: Path) -> bytes:
    """An OGR VRT with the three layers the OSM reader asks for, every line of the secret a
    motorway (the geometry is what the transport layers keep)."""
    layers = []
    for name, geom in (("lines", "LINESTRING(104 36,104.1 36)"), ("points", "POINT(104 36)"),
                       ("multipolygons", SQUARE)):
        layers.append(f"<OGRVRTLayer name=\"{name}\"><SrcDataSource>CSV:{secret}</SrcDataSource>"
                      f"<SrcSQL dialect=\"SQLITE\">SELECT *, 'motorway' AS highway, '\"railway\"=>\"station\"' AS "
                      f"other_tags, ST_GeomFromText('{geom}', 4326) AS geometry FROM secrets</SrcSQL></OGRVRTLayer>")
    return ("<OGRVRTDataSource>" + "".join(layers) + "</OGRVRTDataSource>").encode()


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    return buf.getvalue()


def hostile_uploads(vrt: bytes) -> dict[str, bytes]:
    """The VRT under every name a vector upload accepts (a zipped Shapefile and a KMZ included)."""
    return {"parks.geojson": vrt, "parks.json": vrt, "parks.gpkg": vrt, "parks.kml": vrt,
            "parks.zip": zipped({"p.shp": vrt, "p.shx": vrt, "p.dbf": vrt}),
            "parks.kmz": zipped({"doc.kml": vrt}), "parks.csv": vrt}


def assert_refused_as(e: pytest.ExceptionInfo, en: str, zh: str) -> None:
    msg = f"{e.value.en}\n{e.value.zh}"
    assert en in e.value.en and zh in e.value.zh, msg
    assert "refused" in e.value.en and "拒绝" in e.value.zh, msg
    assert MARKER not in msg


VRT_EN, VRT_ZH = "GDAL virtual dataset (VRT)", "GDAL 虚拟数据集（VRT）"


# --- finding 1: OGR VRT / GDALG content under a vector name ---------------------------------------
@pytest.mark.parametrize("name", list(hostile_uploads(b"")))
def test_vrt_upload_is_refused_by_name(name, secret):
    data = hostile_uploads(ogr_vrt(f"CSV:{secret}"))[name]
    with pytest.raises(UploadError) as e:
        readers.read_vector(name, data, polygons_only=True)
    assert_refused_as(e, VRT_EN, VRT_ZH)


@pytest.mark.parametrize("name", list(hostile_uploads(b"")))
def test_vrt_file_on_disk_is_refused(name, secret, tmp_path):
    data = hostile_uploads(ogr_vrt(f"CSV:{secret}"))[name]
    f = tmp_path / name
    f.write_bytes(data)
    with pytest.raises(UploadError) as e:
        readers.read_path(f, what="--parks")
    assert_refused_as(e, VRT_EN, VRT_ZH)
    assert "--parks" in e.value.en


def test_vrt_shapefile_on_disk_with_its_sidecars_is_refused(secret, tmp_path):
    vrt = ogr_vrt(f"CSV:{secret}")
    for ext in (".shp", ".shx", ".dbf"):
        (tmp_path / f"p{ext}").write_bytes(vrt)
    with pytest.raises(UploadError) as e:
        readers.read_path(tmp_path / "p.shp")
    assert_refused_as(e, VRT_EN, VRT_ZH)


def test_layer_prompt_never_opens_a_vrt(secret, tmp_path):
    vrt = ogr_vrt(f"CSV:{secret}")
    with pytest.raises(UploadError) as e:
        readers.list_layers("parks.gpkg", vrt)
    assert_refused_as(e, VRT_EN, VRT_ZH)
    f = tmp_path / "parks.gpkg"
    f.write_bytes(vrt)
    with pytest.raises(UploadError) as e:
        readers.list_path_layers(f)
    assert_refused_as(e, VRT_EN, VRT_ZH)


def test_gdal_pipeline_json_named_geojson_is_refused(secret):
    with pytest.raises(UploadError) as e:
        readers.read_vector("parks.geojson", gdalg(secret))
    assert_refused_as(e, "GDAL algorithm pipeline (GDALG)", "GDAL 算法管道（GDALG）")


def test_vrt_named_osm_is_refused(secret, tmp_path):
    """The OSM reader (CLI --osm, the Data page's OSM registration) opened any content too."""
    f = tmp_path / "gansu.osm"
    f.write_bytes(osm_vrt(secret))
    with pytest.raises(InputError) as e:
        readers.read_osm(f)
    assert_refused_as(e, VRT_EN, VRT_ZH)


@pytest.mark.parametrize("name, data, en", [
    ("parks.geojson", lambda: _gpkg_bytes(), "GeoPackage"),
    ("parks.gpkg", lambda: _poly_geojson(), "not a GeoPackage"),
    ("parks.gpkg", lambda: _sqlite_bytes(), "not a GeoPackage"),
    ("parks.kml", lambda: b'<?xml version="1.0"?><gpx version="1.1"><trk/></gpx>', "<gpx>"),
    ("parks.geojson", lambda: _poly_geojson().decode().encode("utf-16"), "UTF-16"),
    ("parks.zip", lambda: zipped({"p.shp": _poly_geojson(), "p.shx": b"x" * 100, "p.dbf": b"x" * 40}), ".shp"),
    ("parks.json", lambda: json.dumps({"geometryType": "esriGeometryPolygon", "spatialReference": {"wkid": 4326},
                                       "features": [{"attributes": {"name": "甲"}, "geometry": {"rings": [[
                                           [104, 36], [104.1, 36], [104.1, 36.1], [104, 36]]]}}]}).encode(), "Esri JSON"),
])
def test_content_must_match_the_extension(name, data, en):
    """What the extension claims is checked on the bytes; GDAL is never left to guess."""
    with pytest.raises(UploadError) as e:
        readers.read_vector(name, data())
    assert en in e.value.en and "refused" in e.value.en and "拒绝" in e.value.zh, e.value.en


def _poly_geojson() -> bytes:
    return gpd.GeoDataFrame({"name": ["甲"]}, geometry=[shapely.box(104, 36, 104.1, 36.1)], crs=4326).to_json().encode()


def _gpkg_bytes() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "p.gpkg"
        gpd.read_file(io.BytesIO(_poly_geojson())).to_file(p, driver="GPKG")
        return p.read_bytes()


def _sqlite_bytes() -> bytes:
    """A GeoPackage whose application id was reset: an SQLite database, not a GeoPackage."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "p.gpkg"
        p.write_bytes(_gpkg_bytes())
        with sqlite3.connect(p) as c:
            c.execute("PRAGMA application_id = 0")
        return p.read_bytes()


def test_legitimate_files_still_read_with_the_forced_drivers(tmp_path):
    g = gpd.GeoDataFrame({"name": ["甲园区"]}, geometry=[shapely.box(104, 36, 104.1, 36.1)], crs=4326)
    for name, driver in (("p.geojson", "GeoJSON"), ("p.gpkg", "GPKG"), ("p.kml", "KML"), ("p.shp", "ESRI Shapefile")):
        g.to_file(tmp_path / name, driver=driver, engine="pyogrio")
        res = readers.read_path(tmp_path / name)
        assert list(res.gdf["Name" if name == "p.kml" else "name"]) == ["甲园区"], name  # KML: its Name element
        assert res.gdf.geometry.iloc[0].symmetric_difference(shapely.box(104, 36, 104.1, 36.1)).area < 1e-12, name
    bom = b"\xef\xbb\xbf\n  " + _poly_geojson()  # a UTF-8 BOM and blank space before the JSON
    assert list(readers.read_vector("p.geojson", bom).gdf["name"]) == ["甲"]


def test_only_the_declared_ogr_drivers_are_registered():
    """Process-wide: the drivers that follow references to other files or URLs are gone."""
    import pyogrio

    drivers = set(pyogrio.list_drivers())
    assert not drivers & {"OGR_VRT", "GDALG", "WFS", "HTTP", "OAPIF", "GML", "SQLite", "GPSBabel", "ADBC"}
    assert {"GeoJSON", "GPKG", "ESRI Shapefile", "KML", "OSM", "CSV"} <= drivers


# --- the workspace and the command line -----------------------------------------------------------
@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("GANSU_IMPORT_DIR", str(tmp_path / "import"))
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "workspace"))
    (tmp_path / "import").mkdir()
    s = Store(tmp_path / "store.duckdb")
    yield s
    s.close()


def _nothing_saved(store) -> None:
    assert ws.datasets(store) == []
    parks = store.parks()
    assert len(parks) == 0 and MARKER not in parks.to_string()


def test_workspace_upload_of_a_vrt_is_refused(store, secret):
    with pytest.raises(UploadError) as e:
        vector_register.register_vector(store, ogr_vrt(f"CSV:{secret}"), "parks", filename="parks.geojson")
    assert_refused_as(e, VRT_EN, VRT_ZH)
    _nothing_saved(store)


@pytest.mark.parametrize("name", ["parks.geojson", "parks.gpkg", "parks.kml"])
def test_workspace_import_folder_vrt_is_refused(store, secret, tmp_path, name):
    f = tmp_path / "import" / name
    f.write_bytes(ogr_vrt(f"CSV:{secret}"))
    with pytest.raises(UploadError) as e:
        vector_register.register_vector(store, import_folder.in_import_dir(Path(name)), "redline")
    assert_refused_as(e, VRT_EN, VRT_ZH)
    _nothing_saved(store)


def test_workspace_import_folder_osm_vrt_is_refused(store, secret, tmp_path):
    (tmp_path / "import" / "gansu.osm").write_bytes(osm_vrt(secret))
    with pytest.raises(InputError) as e:
        vector_register.register_osm(store, import_folder.in_import_dir(Path("gansu.osm")))
    assert_refused_as(e, VRT_EN, VRT_ZH)
    _nothing_saved(store)


@pytest.mark.parametrize("flag", ["--parks", "--osm"])
def test_cli_refuses_a_vrt_input_with_exit_2(secret, tmp_path, flag):
    write_raster(tmp_path / "lc.tif", np.ones((4, 4), "uint8"), Affine(30, 0, 0, 0, -30, 120), nodata=0)
    parks = tmp_path / "good.geojson"
    parks.write_bytes(_poly_geojson())
    evil = tmp_path / ("parks.geojson" if flag == "--parks" else "gansu.osm")
    evil.write_bytes(ogr_vrt(f"CSV:{secret}") if flag == "--parks" else osm_vrt(secret))
    args = ["--parks", str(evil)] if flag == "--parks" else ["--parks", str(parks), "--osm", str(evil)]
    r = subprocess.run([sys.executable, "-m", "cli", "parks", *args, "--landcover", str(tmp_path / "lc.tif"),
                        "--out", str(tmp_path / "out.csv")], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 2, r.stderr
    assert VRT_EN in r.stderr and VRT_ZH in r.stderr
    assert flag != "--parks" or "--parks" in r.stderr
    assert MARKER not in r.stdout + r.stderr and not (tmp_path / "out.csv").exists()


# --- no request leaves the server ----------------------------------------------------------------
class Recorder:
    """A local HTTP server that records every connection it accepts (before answering 404)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections: list[str] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        self.sock.settimeout(0.05)
        while not self._done.is_set():
            try:
                conn, addr = self.sock.accept()
            except OSError:
                continue
            self.connections.append(f"{addr}")  # recorded before the client can get an answer
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self):
        self._done.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture()
def recorder():
    r = Recorder()
    yield r
    r.close()


@pytest.mark.parametrize("src", ["/vsicurl/{url}/secrets.csv", "CSV:/vsicurl/{url}/secrets.csv", "{url}/p.geojson"])
def test_vrt_with_a_remote_source_sends_no_request(recorder, src):
    with pytest.raises(UploadError) as e:
        readers.read_vector("parks.geojson", ogr_vrt(src.format(url=recorder.url), sql_table=None))
    assert recorder.connections == []
    assert_refused_as(e, VRT_EN, VRT_ZH)


def test_wfs_description_named_geojson_sends_no_request(recorder):
    """GDAL's WFS driver opens an ``<OGRWFSDataSource>`` XML file and queries the URL inside."""
    wfs = f"<OGRWFSDataSource><URL>{recorder.url}/wfs?SERVICE=WFS</URL></OGRWFSDataSource>".encode()
    with pytest.raises(UploadError) as e:
        readers.read_vector("parks.geojson", wfs)
    assert recorder.connections == []
    assert_refused_as(e, "GDAL web-service description", "GDAL 网络服务描述")


def test_gdal_network_reads_are_off_process_wide(recorder):
    """Whatever reaches GDAL (through pyogrio, as the readers use it), /vsicurl/ makes no request."""
    import pyogrio

    with pytest.raises(Exception):  # noqa: B017,PT011 - any GDAL error: the point is the request
        pyogrio.read_info(f"/vsicurl/{recorder.url}/parks.geojson")
    assert recorder.connections == []


# --- finding 11: a referenced file swapped with its size and mtime put back ----------------------
def _dataset(path: Path, ref=None) -> ws.Dataset:
    return ws.Dataset(id="d1", role="landcover", name="lc", original_filename=path.name, storage="reference",
                      files=(ref or ws.file_ref(path),))


def _edit_keeping_size_and_mtime(path: Path, ref_ctime_ns: int | None) -> None:
    """Change one byte, then put the modification time back (what any user can do). Repeated
    until the change time differs from the one recorded (the kernel's clock ticks coarsely)."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    while ref_ctime_ns is not None and path.stat().st_ctime_ns == ref_ctime_ns:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


def test_verify_refuses_a_same_size_edit_with_mtime_put_back(tmp_path):
    f = tmp_path / "lc.tif"
    f.write_bytes(b"A" * 4096)
    d = _dataset(f)
    ws.verify(d)  # unchanged: accepted
    _edit_keeping_size_and_mtime(f, f.stat().st_ctime_ns)
    with pytest.raises(InputError) as e:
        ws.verify(d)
    assert "changed after it was registered" in e.value.en and "已被修改" in e.value.zh


def test_verify_accepts_a_file_that_was_only_touched(tmp_path):
    f = tmp_path / "lc.tif"
    f.write_bytes(b"A" * 4096)
    d = _dataset(f)
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    ws.verify(d)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # and back: still the same bytes
    ws.verify(d)


def test_verify_of_an_older_record_without_inode_rehashes(tmp_path):
    """Records written before the fingerprint held ctime/inode/device: re-hashed, not trusted."""
    f = tmp_path / "lc.tif"
    f.write_bytes(b"A" * 4096)
    st = f.stat()
    old = ws.Dataset.from_record({"id": "d1", "role": "landcover", "name": "lc", "original_filename": "lc.tif",
                                  "storage": "reference", "files": [{"path": str(f.resolve()), "size": st.st_size,
                                                                     "mtime_ns": st.st_mtime_ns,
                                                                     "sha256": ws.sha256_file(f)}]})
    ws.verify(old)
    _edit_keeping_size_and_mtime(f, None)
    with pytest.raises(InputError):
        ws.verify(old)


def test_raster_hash_and_tile_cache_keys_follow_a_same_size_edit(tmp_path):
    from zonal import tileplan
    from ui import raster_sources as rs

    f = tmp_path / "lc.tif"
    write_raster(f, np.ones((8, 8), "uint8"), Affine(30, 0, 0, 0, -30, 240), nodata=0)
    key, fp = rs.file_key(f), tileplan.raster_fingerprint(f)
    before = f.stat().st_ctime_ns
    _edit_keeping_size_and_mtime(f, before)
    assert rs.file_key(f) != key
    assert tileplan.raster_fingerprint(f) != fp


# --- review of the fixes: a GeoJSON "crs" member that makes GDAL fetch a URL -----------------------
def _crs_geojson(crs: dict | None, *, where: str = "top", key: str = "crs", pad_features: int = 0) -> bytes:
    """A FeatureCollection of one square (in the middle of ``pad_features`` others) with ``crs`` as the
    member ``key`` of the collection (``where="top"``) or of that square's geometry (``"geometry"``)."""
    square = {"type": "Polygon", "coordinates": [[[104, 36], [104.1, 36], [104.1, 36.1], [104, 36.1], [104, 36]]]}
    feats = [{"type": "Feature", "properties": {"title": f"p{i}"}, "geometry": square} for i in range(pad_features)]
    evil = {"type": "Feature", "properties": {"title": "evil"}, "geometry": dict(square)}
    fc = {"type": "FeatureCollection", "features": [*feats[:pad_features // 2], evil, *feats[pad_features // 2:]]}
    if crs is not None:
        (fc if where == "top" else evil["geometry"])[key] = crs
    return json.dumps(fc).encode()


def _link(url: str, typ: str = "link", field: str = "href") -> dict:
    return {"type": typ, "properties": {field: url, "type": "ogcwkt"}}


@pytest.mark.parametrize("variant", ["link-href", "url-url", "link-url", "upper-case", "geometry", "escaped-key",
                                     "middle-of-a-large-file"])
def test_a_geojson_crs_member_naming_a_url_is_refused_without_a_request(recorder, variant):
    """GDAL's GeoJSON driver fetches the URL of a ``link`` or ``url`` crs over plain HTTP — at the
    top, on a geometry, under an upper-case or \\u-escaped member name, anywhere in the file."""
    url = f"{recorder.url}/{variant}"
    data = {"link-href": lambda: _crs_geojson(_link(url)),
            "url-url": lambda: _crs_geojson(_link(url, "url", "url")),
            "link-url": lambda: _crs_geojson(_link(url, "link", "url")),
            "upper-case": lambda: _crs_geojson(_link(url, "LINK"), key="CRS"),
            "geometry": lambda: _crs_geojson(_link(url), where="geometry"),
            "escaped-key": lambda: _crs_geojson(_link(url)).replace(b'"crs"', b'"\\u0063rs"'),
            "middle-of-a-large-file": lambda: _crs_geojson(_link(url), where="geometry", pad_features=20000)}[variant]()
    with pytest.raises(UploadError) as e:
        readers.read_vector("parks.geojson", data)
    assert recorder.connections == []
    assert "'crs'" in e.value.en and "crs" in e.value.zh and "name" in e.value.en, e.value.en
    assert recorder.url not in e.value.en + e.value.zh  # the URL is not echoed either


def test_a_geojson_crs_of_another_kind_than_a_name_is_refused_and_a_name_still_reads():
    with pytest.raises(UploadError):
        readers.read_vector("parks.geojson", _crs_geojson({"type": "EPSG", "properties": {"code": 4326}}))
    r = readers.read_vector("parks.geojson", _crs_geojson({"type": "name", "properties": {"name": "EPSG:4490"}}))
    assert r.gdf.crs.to_epsg() == 4326 and len(r.gdf) == 1  # read as CGCS2000, stored as WGS 84
    assert any("EPSG:4490" in n.en for n in r.notes)


def test_gdal_http_requests_go_to_a_dead_proxy_in_both_gdal_copies(recorder, tmp_path, monkeypatch):
    """The second line, for whatever reaches GDAL unchecked: pyogrio's GDAL (a GeoJSON link crs read
    directly) and rasterio's (a CRS given as a URL) send nothing to the address they are given."""
    import pyogrio
    from rasterio.crs import CRS

    for var in ("NO_PROXY", "no_proxy"):  # a host listed there bypasses any proxy (documented limit)
        monkeypatch.delenv(var, raising=False)
    p = tmp_path / "direct.geojson"
    p.write_bytes(_crs_geojson(_link(f"{recorder.url}/pyogrio")))
    pyogrio.read_dataframe(f"GeoJSON:{p}")
    with pytest.raises(Exception):  # noqa: B017,PT011 - any GDAL error: the point is the request
        CRS.from_user_input(f"{recorder.url}/rasterio")
    assert recorder.connections == []

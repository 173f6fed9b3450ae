"""Resource limits for user input, in one place. Each one can be changed with an environment
variable (read when this module is imported, i.e. at app start); over a limit the user gets a
clear message in the UI language and nothing is saved — never an out-of-memory crash.

=========================  ==========================  =========  ===============================
limit                      environment variable        default    what it bounds
=========================  ==========================  =========  ===============================
MAX_UPLOAD_BYTES           GANSU_MAX_UPLOAD_MB         200 MB     one uploaded file (bytes)
MAX_UNZIPPED_BYTES         GANSU_MAX_UNZIPPED_MB       1024 MB    sum of the *declared* sizes of
                                                                  a zip/KMZ's members, checked
                                                                  before anything is extracted
MAX_ZIP_MEMBERS            GANSU_MAX_ZIP_MEMBERS       2000       members of one zip/KMZ
MAX_ZIP_RATIO              GANSU_MAX_ZIP_RATIO         200        uncompressed/compressed size of a
                                                                  member larger than 16 MB (bombs)
MAX_FEATURES               GANSU_MAX_FEATURES          200000     features (rows) of one upload,
                                                                  from the header, before reading
MAX_VERTICES               GANSU_MAX_VERTICES          20000000   coordinates of one upload
MAX_RASTER_PIXELS          GANSU_MAX_RASTER_PIXELS     2e9        raster pixels one request may
                                                                  read (width × height of a
                                                                  land-cover GeoTIFF)
MAX_COMPUTE_BYTES          GANSU_MAX_COMPUTE_MB        4096 MB    memory of one computation: a
                                                                  vector upload is refused when its
                                                                  estimated in-memory size (file
                                                                  size × 4) exceeds it; a raster
                                                                  whose internal block (read at
                                                                  once by GDAL) would take more
                                                                  than 1/8 of it is refused
MAX_MOSAIC_PIXELS          GANSU_MAX_MOSAIC_PIXELS     1e11       pixels of a land-cover VRT mosaic
                                                                  (registration reads each once)
USER_RASTER_MAX_FILES      GANSU_USER_RASTERS_MAX      20         GeoTIFFs uploaded on the Targets
                                                                  page kept in data/user_rasters
                                                                  (the oldest go first)
USER_RASTER_MAX_AGE_S      GANSU_USER_RASTERS_HOURS    24 h       … and how long one is kept after
                                                                  its last use
=========================  ==========================  =========  ===============================

A GeoTIFF is also refused when its header declares far more pixels than the file can hold
(``MIN_BYTES_PER_MPIXEL``: fewer than 64 bytes per million pixels — a forged header or a
truncated file), whatever the limits above; a VRT mosaic when its tiles cover less than
``MIN_VRT_COVERAGE`` (10 %) of the grid it declares.

Server paths typed on the Targets page (admins only) must lie in the import folder
(``GANSU_IMPORT_DIR``) or, when ``GANSU_RASTER_ROOTS`` is set (folders separated by ``os.pathsep``,
``:`` on Linux), in one of those folders instead — never anywhere else on the server.
"""
from __future__ import annotations

import os

MB = 1024 * 1024


def _num(var: str, default: float) -> float:
    raw = os.environ.get(var, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value > 0 else default


MAX_UPLOAD_BYTES = int(_num("GANSU_MAX_UPLOAD_MB", 200) * MB)
MAX_UNZIPPED_BYTES = int(_num("GANSU_MAX_UNZIPPED_MB", 1024) * MB)
MAX_ZIP_MEMBERS = int(_num("GANSU_MAX_ZIP_MEMBERS", 2000))
MAX_ZIP_RATIO = float(_num("GANSU_MAX_ZIP_RATIO", 200))
ZIP_RATIO_MIN_BYTES = 16 * MB  # small members may compress extremely well (empty .dbf etc.)
MAX_FEATURES = int(_num("GANSU_MAX_FEATURES", 200_000))
MAX_VERTICES = int(_num("GANSU_MAX_VERTICES", 20_000_000))
MAX_RASTER_PIXELS = int(_num("GANSU_MAX_RASTER_PIXELS", 2_000_000_000))
MAX_COMPUTE_BYTES = int(_num("GANSU_MAX_COMPUTE_MB", 4096) * MB)
VECTOR_MEMORY_FACTOR = 4  # in-memory bytes per file byte while reading, repairing, reprojecting
MAX_BLOCK_BYTES = MAX_COMPUTE_BYTES // 8  # one GeoTIFF block (strip or tile) decoded at once
MIN_BYTES_PER_MPIXEL = 64  # fewer bytes per million declared pixels: nothing behind the header
MAX_MOSAIC_PIXELS = int(_num("GANSU_MAX_MOSAIC_PIXELS", 1e11))
MIN_VRT_COVERAGE = 0.1  # share of a VRT's declared grid its tiles must cover
USER_RASTER_MAX_FILES = int(_num("GANSU_USER_RASTERS_MAX", 20))
USER_RASTER_MAX_AGE_S = _num("GANSU_USER_RASTERS_HOURS", 24) * 3600


def table() -> list[tuple[str, str, str]]:
    """(name, environment variable, value in force) for docs/limits.md and the Data page."""
    return [
        ("upload size", "GANSU_MAX_UPLOAD_MB", f"{MAX_UPLOAD_BYTES / MB:g} MB"),
        ("unzipped size", "GANSU_MAX_UNZIPPED_MB", f"{MAX_UNZIPPED_BYTES / MB:g} MB"),
        ("zip members", "GANSU_MAX_ZIP_MEMBERS", f"{MAX_ZIP_MEMBERS}"),
        ("zip compression ratio", "GANSU_MAX_ZIP_RATIO", f"{MAX_ZIP_RATIO:g}"),
        ("features", "GANSU_MAX_FEATURES", f"{MAX_FEATURES}"),
        ("vertices", "GANSU_MAX_VERTICES", f"{MAX_VERTICES}"),
        ("raster pixels per request", "GANSU_MAX_RASTER_PIXELS", f"{MAX_RASTER_PIXELS:.3g}"),
        ("memory per computation", "GANSU_MAX_COMPUTE_MB", f"{MAX_COMPUTE_BYTES / MB:g} MB"),
        ("pixels of a land-cover mosaic (VRT)", "GANSU_MAX_MOSAIC_PIXELS", f"{MAX_MOSAIC_PIXELS:.3g}"),
        ("Targets-page uploads kept", "GANSU_USER_RASTERS_MAX", f"{USER_RASTER_MAX_FILES}"),
        ("Targets-page uploads kept for", "GANSU_USER_RASTERS_HOURS", f"{USER_RASTER_MAX_AGE_S / 3600:g} h"),
    ]

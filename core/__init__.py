"""The bottom room: what every other room shares. Imports nothing of ours.

The house has one direction (``tests/test_import_order.py`` enforces it)::

    core ← layers ← storage ← zonal ← indicators ← reports ← cli, ui ← pages, app.py
                     (geodata, the data build, beside zonal)

- ``core/``: CRS (CGCS2000, Gauss–Krüger zones, GCJ-02), geometry repair, limits, the bilingual
  text and error types, the translation table and data paths (the ``tables/`` folder included).
- ``layers/``: the reader registry, the layer catalog, legends (imports core).
- ``storage/``: the DuckDB store, accounts, audit log, inbox, statistics, the workspace.
- ``zonal/``: the exact zonal engine (coverage, land-cover histograms, tiled/Dask runs).
- ``geodata/``: the default dataset build.
- ``indicators/``: per-park indicators, policy and declared run inputs.
- ``reports/``: every writer, headers from the indicator table.
- ``cli/``: every command line, ``gansu parks|siting|targets|zonestats|checklist|workspace|admin|build``
  (imports every room up to reports, never ui).
- ``ui/``: Streamlit glue (imports any room below it); ``pages/`` and ``app.py`` sit on top.

Nothing imports upward; ``streamlit`` is imported only in ``ui/``, ``pages/`` and ``app.py``.
"""

import os as _os

# GDAL (both copies: rasterio's and pyogrio's) reads these from the environment on every open, so
# setting them here — every module of ours imports ``core`` first — holds for the whole process and
# for the processes it starts. A VRT band reading raw bytes of any file is refused (honoured from
# GDAL 3.12; the raster checks in ``layers.readers.gdal_safety`` refuse such VRTs before GDAL sees
# them whatever the version), and no ``/vsicurl/`` (or ``http://``) name is ever fetched.
_os.environ["GDAL_VRT_ENABLE_RAWRASTERBAND"] = "NO"
_os.environ["CPL_VSIL_CURL_ALLOWED_FILENAME"] = "/no-network-access/"
# GDAL's plain HTTP fetches (a CRS given as a URL, a GeoJSON "link" crs) go to a proxy where nothing
# listens (port 1 on this machine: only root could listen there), so none reaches the address it names;
# hosts in the NO_PROXY environment variable bypass it (libcurl reads that itself): docs/security.md
_os.environ["GDAL_HTTP_PROXY"] = "127.0.0.1:1"
_os.environ["GDAL_HTTPS_PROXY"] = "127.0.0.1:1"

"""The process-wide rules of the GDAL that reads vectors (the one pyogrio bundles or links).

GDAL chooses a driver from a file's *content*. Several drivers read other files or URLs named
inside the file — an OGR VRT (``<OGRVRTDataSource>``, ``SrcDataSource=CSV:/any/path``), a GDAL
algorithm pipeline (GDALG: JSON with a command line), WFS/OAPIF/HTTP service descriptions, GML
schema downloads, PDS labels, MapInfo seamless tables … — so a user's file must never reach them.

pyogrio (0.13) has no "allowed drivers" argument, and GDAL's ``DRIVER:path`` prefix exists only for
some drivers (``GeoJSON:``, ``TopoJSON:``, ``GPKG:``, ``CSV:``; the readers use them). So every vector driver
outside ``ALLOWED`` is deregistered: GDAL drops the drivers named in the ``OGR_SKIP`` configuration
option at the end of driver registration, and pyogrio's registration is run again after setting
it (registration only adds drivers that are missing, so this is idempotent). The drivers left
never follow a reference in a file's content (LIBKML was checked: no request for a NetworkLink,
a remote styleUrl or a Model href; TopoJSON decodes the arcs of its own file, ``TopoJSON:``
forces it; OpenFileGDB reads the table files of its ``.gdb`` folder, which name no other file,
and the readers stage only those files). With the content of each file checked against its
extension first (``signature``), GDAL never sniffs a user's file.

Network: ``CPL_VSIL_CURL_ALLOWED_FILENAME`` set to a name no URL can have makes every
``/vsicurl/``-family open fail before a connection; ``LIBKML_RESOLVE_STYLE=NO`` pins remote
styles off. GDAL has no switch for its plain HTTP fetcher (which the GeoJSON driver uses for a
``link``/``url`` crs member: ``geojson`` refuses those first), so as a second line every such fetch
is sent to a proxy where nothing listens (``GDAL_HTTP_PROXY``/``GDAL_HTTPS_PROXY`` = ``DEAD_PROXY``;
``core`` sets the same for rasterio's GDAL). Limit: libcurl bypasses a proxy for the hosts listed in
the ``NO_PROXY``/``no_proxy`` environment variable of the server process.

The rasters (rasterio, its own GDAL) are not concerned: this changes only pyogrio's GDAL.
"""
from __future__ import annotations

import os

# the vector drivers the readers and writers of this project use; every other one is removed
ALLOWED = frozenset({"GeoJSON", "TopoJSON", "GPKG", "ESRI Shapefile", "OpenFileGDB", "KML", "LIBKML", "CSV", "OSM",
                     "MEM"})
NO_NETWORK = "/no-network-access/"  # CPL_VSIL_CURL_ALLOWED_FILENAME: matches no /vsicurl/ name
# GDAL_HTTP(S)_PROXY: every plain-HTTP fetch of GDAL goes to this proxy, where nothing listens (a port
# below 1024 on this machine: only root could listen there), so it fails before reaching its address
DEAD_PROXY = "127.0.0.1:1"

_applied = False


def apply() -> None:
    """Deregister every vector driver outside ``ALLOWED`` and turn /vsicurl/ off (idempotent)."""
    global _applied
    if _applied:
        return
    import pyogrio
    from pyogrio import _ogr

    present = set(pyogrio.list_drivers())
    extra = {d for d in (os.environ.get("OGR_SKIP", "") + "," + os.environ.get("GDAL_SKIP", "")).split(",") if d}
    skip = sorted((present - ALLOWED) | extra)
    pyogrio.set_gdal_config_options({
        "OGR_SKIP": ",".join(skip),  # comma-separated: driver names may contain spaces ("MapInfo File")
        "CPL_VSIL_CURL_ALLOWED_FILENAME": NO_NETWORK,
        "LIBKML_RESOLVE_STYLE": "NO",
        "GDAL_HTTP_PROXY": DEAD_PROXY,
        "GDAL_HTTPS_PROXY": DEAD_PROXY,
    })
    _ogr._register_drivers()  # GDALAllRegister: re-registers nothing, then drops the OGR_SKIP drivers
    left = set(pyogrio.list_drivers()) - ALLOWED
    if left:  # never read user files with a driver that follows references
        raise RuntimeError(f"GDAL vector drivers could not be removed: {', '.join(sorted(left))}")
    _applied = True

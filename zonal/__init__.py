"""The exact zonal engine (= InVEST and exactextract): coverage fractions of polygons on a raster
grid (``coverage``), the land-cover raster source and its class histogram by park (``landcover``),
the compiled run counter (``kernels``), zone keys and transitions (``zonesplit``), and the tiled
plan/run with its Dask cluster (``tiled``, ``distributed``, ``tileresult``).

Public surface: ``landcover.LandcoverRaster``, ``landcover.class_areas``,
``landcover.raster_class_totals``, ``coverage.pieces``, ``tiled.plan``/``tiled.run`` (see each
module). Policy (carbon densities, thresholds, zones' meaning) lives above, in ``indicators``.

May import: ``core`` and ``layers`` (the raster readers, legends, file identity) only.
"""

"""The exact zonal engine (= InVEST and exactextract): coverage fractions of polygons on a raster
grid (``coverage``), the land-cover raster source (``rastersource``) with its pixel areas
(``pixelarea``), code histograms (``histogram``) and window weights (``cells``), the exact code
areas of one polygon (``polygonstats``), per-polygon code and class areas (``landcover``), the
compiled run counter (``kernels``), zone keys (``zonesplit``), and the tiled engine: tiles
(``tilegrid``), plan (``tileplan``), task (``tiletask``, ``tileresult``), kernel for split polygons
(``tilekernel``), several years' steps in one read (``tilesteps``), two years as transition codes
(``pairraster``), its entry points (``tiled``) and
its Dask cluster (``distributed``).
Continuous rasters per polygon: area-weighted criterion statistics (``rasterstats``), DEM slope by Horn (``terrain``).

Public surface: ``rastersource.LandcoverRaster``, ``landcover.zonal_codes``,
``landcover.class_areas``, ``landcover.raster_class_totals``, ``coverage.pieces``,
``tileplan.plan``, ``tiled.zonal_codes``/``tiled.zonal_transitions`` (see each module). Policy
(carbon densities, thresholds, zones' meaning) lives above, in ``indicators``.

May import: ``core`` and ``layers`` (the raster readers, legends, file identity) only.
"""

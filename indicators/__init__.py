"""Per-park indicators (pure computation: no streamlit, no pages, no ui).

May import: ``core`` and ``layers`` (readers, rasters) only. The command line that writes its
tables through ``reports`` is the room above, ``cli/``.

Entry points: ``indicators.engine.compute_parks`` (one row per park), ``zonal.landcover``
(``class_areas``, ``raster_class_totals``), the declared table ``indicators.table``; the CLI is
``python -m cli parks ...`` (``python -m indicators`` hands over to it).
"""

"""Per-park indicators (pure computation: no streamlit, no pages, no ui).

May import: ``core`` and ``layers`` (readers, rasters) only. The CLI entry point
(``__main__.py``) also uses ``reports`` to write its tables.

Entry points: ``indicators.engine.compute_parks`` (one row per park), ``indicators.landcover``
(``class_areas``, ``raster_class_totals``), the declared table ``indicators.table`` and the CLI
``python -m indicators parks ...``.
"""

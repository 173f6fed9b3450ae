"""Files in, layers out: the reader registry (every vector/raster/OSM format as a small plug-in,
used by the CLI, the UI and the data build alike), the layer catalog (one declaration per layer),
raster checks and the DuckDB store.

May import: ``core`` only (see ``core/__init__.py`` for the order of the house).
"""

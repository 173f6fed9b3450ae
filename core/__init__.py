"""The bottom room: what every other room shares. Imports nothing of ours.

The house has one direction (``tests/test_import_order.py`` enforces it)::

    core  ←  layers  ←  geodata, indicators  ←  reports  ←  ui  ←  pages, app.py

- ``core/``: CRS (CGCS2000, Gauss–Krüger zones, GCJ-02), geometry repair, limits, the bilingual
  text and error types, the translation table and data paths (the tables folder included).
- ``layers/``: the reader registry, the layer catalog, the DuckDB store (imports core).
- ``geodata/``: the default dataset build and its editable tables (imports core and layers).
- ``indicators/``: pure computation and the CLI (imports core and layers; its ``__main__`` entry
  point also uses reports to write files).
- ``reports/``: every writer, headers from the indicator table (imports core, layers, indicators).
- ``ui/``: Streamlit glue (imports any room below it); ``pages/`` and ``app.py`` sit on top.

Nothing imports upward; ``streamlit`` is imported only in ``ui/``, ``pages/`` and ``app.py``.
"""

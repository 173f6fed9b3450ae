"""The default Gansu dataset build (``python -m cli build``) and its editable tables (zones,
demo parks, carbon pools, sink rates, targets, checklist criteria).

May import: ``core`` and ``layers`` (the readers) only. The build fills data; what a layer is
(titles, status, provenance, legend, style) is declared once in ``layers/catalog.toml``.
"""

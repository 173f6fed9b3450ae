"""Streamlit glue: language, cached loaders keyed by build and content hashes, background jobs
with progress, charts, map building blocks, the launcher.

May import: ``core``, ``layers``, ``geodata``, ``indicators``, ``reports`` (never ``pages``).
"""

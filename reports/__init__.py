"""The exporter room: every writer. May import ``core``, ``layers`` and ``indicators`` (never
``ui``); headers always come from the indicator table.

- ``labels``: column headers (label + unit in the chosen language) from the indicator table,
  the siting/checklist columns and the translation table.
- ``excel``: the one Excel writer (labelled headers + a "columns" sheet of definitions).
- ``csv``: CSV with stable ids; ``vector``: GeoJSON, GeoPackage, GeoParquet.
- Every CSV and Excel file is written by ``csv`` or ``excel``: each text cell and header goes
  through ``formula_safe`` (``core.spreadsheet``), so no cell of an export starts a formula.
- ``table``: ``write_table`` for the CLI (CSV/Parquet keep ids, Excel labelled like the UI's).
- ``pdf``: the printable scenario report, one function per section.

    excel_bytes({"parks": df, "ranking": ranked}, lang="zh")        # units in headers
    geojson_bytes(parks_gdf); gpkg_bytes(parks_gdf)                   # parks with indicators
    scenario_pdf(scenario="方案一", ranking=ranked, indicators=df, checklists=..., sources=manifest,
                 province=prov, zones=zones, parks=parks_gdf, lang="zh")
"""
from __future__ import annotations

from core.spreadsheet import formula_safe, formula_safe_frame
from reports.csv import csv_bytes, write_csv
from reports.excel import (COLUMNS_SHEET, INDICATORS_SHEET, cell_value, columns_sheet, excel_bytes, header_row,
                           safe_sheet_names)
from reports.labels import column_label, label_parts, labels_for, relabel, value_text
from reports.pdf import CID_FONT, TTF_CANDIDATES, pdf_font, scenario_pdf
from reports.table import OUT_FORMATS, write_report, write_table
from reports.vector import geojson_bytes, gpkg_bytes, parquet_bytes, read_provenance, safe_field_names, write_vector

__all__ = [
    "COLUMNS_SHEET", "INDICATORS_SHEET", "cell_value", "columns_sheet", "excel_bytes", "header_row",
    "safe_sheet_names", "column_label", "label_parts", "labels_for", "relabel", "value_text", "csv_bytes", "write_csv",
    "geojson_bytes", "gpkg_bytes", "parquet_bytes", "safe_field_names", "write_vector", "write_table",
    "OUT_FORMATS", "write_report", "read_provenance", "scenario_pdf", "pdf_font", "CID_FONT", "TTF_CANDIDATES",
    "formula_safe", "formula_safe_frame",
]

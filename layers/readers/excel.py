"""Parks as an Excel workbook (``.xlsx``), read with openpyxl (never GDAL): each worksheet is a
table like a parks CSV (``csv.parks_from_table``: a WKT/EWKT column, or lon/lat plus an area).

The file is a zip: it must hold the spreadsheet parts (``signature.check_excel``) and pass the zip
checks of every archive (``archive.safe_members``: member count, declared size, compression
ratio) before openpyxl opens it; an XML part declaring a DOCTYPE or entities is refused. Cells
are read as their stored values (a formula gives its last computed value). Sheets holding a
header and at least one row are the layers: with several, the user chooses one (the page's layer
box, ``--layer``).
"""
from __future__ import annotations

import datetime as dt
import io
import re
import warnings
import zipfile

import pandas as pd

from core.errors import UploadError
from core.text import Text
from layers.readers import archive, signature
from layers.readers.csv import parks_from_table
from layers.readers.ogr import choose_layer
from layers.readers.registry import limit

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)
KIND = Text("Excel 工作簿", "Excel workbook")


def _open(source):
    """The checked workbook (openpyxl, read-only, stored values)."""
    import openpyxl  # start-up time: only an Excel upload loads openpyxl

    signature.check_excel(None, source.head(signature.HEAD))
    zf = source.open_zip()
    with zf:
        members = archive.safe_members(zf)
        signature.check_excel([m.filename for m in members], source.head(4))
        for info in members:
            if info.filename.lower().endswith((".xml", ".rels")):
                with zf.open(info) as f:
                    if _DOCTYPE.search(f.read(4096)):
                        raise UploadError("Excel 工作簿含有 DOCTYPE/实体声明（可能读取外部文件），已拒绝。",
                                          "the Excel workbook declares a DOCTYPE/entities (could read external files): "
                                          "refused.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's notes on styles and extensions it drops
            return openpyxl.load_workbook(io.BytesIO(source.data) if source.data is not None else source.path,
                                          read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as e:
        raise UploadError("Excel 工作簿已损坏，无法读取。", f"the Excel workbook cannot be read ({type(e).__name__}).") from None


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    return str(v)


def _rows(ws, stop: int | None = None) -> list[list[str]]:
    """Non-empty rows as text cells (at most ``stop``); more than the feature limit is refused."""
    cap = limit("MAX_FEATURES") + 1  # + the header
    out = []
    for row in ws.iter_rows(values_only=True):
        cells = [_cell(v) for v in row]
        if not any(c.strip() for c in cells):
            continue
        out.append(cells)
        if stop is not None and len(out) >= stop:
            break
        if len(out) > cap:
            raise UploadError(f"工作表“{ws.title[:60]}”行数过多（上限 {cap - 1}）。",
                              f"too many rows in the sheet '{ws.title[:60]}' (limit {cap - 1}).")
    return out


def _tables(wb) -> list[str]:
    """Sheets with a header and at least one row."""
    return [ws.title for ws in wb.worksheets if len(_rows(ws, stop=2)) >= 2]


def sheets(source) -> list[str]:
    wb = _open(source)
    try:
        return _tables(wb)
    finally:
        wb.close()


def read(source, folder, layer: str | None, notes: list):
    wb = _open(source)
    try:
        names = _tables(wb)
        if not names:
            raise UploadError("Excel 工作簿中没有含表头和数据行的工作表。",
                              "the Excel workbook has no sheet with a header and rows.")
        layer = choose_layer(KIND, names, layer, Text("（非空）工作表", "(non-empty) sheet"))
        rows = _rows(wb[layer])
    finally:
        wb.close()
    header = []
    for i, h in enumerate(rows[0]):
        h = h.strip() or f"column_{i + 1}"
        header.append(h if h not in header else f"{h}_{i + 1}")
    width = len(header)
    df = pd.DataFrame([(r + [""] * width)[:width] for r in rows[1:]], columns=header, dtype=str)
    gdf, more = parks_from_table(df, [], source.swap_axes, what="Excel")
    notes.extend(more)
    return gdf, layer


def layers(source, folder) -> list[str]:
    names = sheets(source)
    return names if len(names) > 1 else []

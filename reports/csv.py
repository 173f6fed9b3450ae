"""CSV: stable column ids (users script against them), UTF-8 with BOM (Excel opens it right).

The one CSV writer: every CSV the dashboard and the command line write goes through
``csv_bytes``, which makes each text cell and header ``core.spreadsheet.formula_safe`` (text
starting with ``= + - @``, tab or CR gets a leading ``'``; numbers stay numbers)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.spreadsheet import formula_safe_frame
from reports.excel import plain


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The table as CSV bytes: ids as headers, geometry columns dropped, UTF-8 with BOM, CRLF line
    ends, no cell or header that a spreadsheet would take as a formula."""
    # CRLF line ends (RFC 4180): a field holding a CR or LF is then quoted, so a "\r=…" cell
    # cannot start a new row that begins with a formula
    return formula_safe_frame(plain(df)).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(df))
    return path

"""CSV: stable column ids (users script against them), UTF-8 with BOM (Excel opens it right)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports.excel import plain


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The table as CSV bytes: ids as headers, geometry columns dropped, UTF-8 with BOM."""
    return plain(df).to_csv(index=False).encode("utf-8-sig")


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(df))
    return path

"""Spreadsheet cells that never start a formula: ``formula_safe(value)``.

A CSV or Excel file is opened in a spreadsheet; a text cell beginning with ``=``, ``+``, ``-`` or
``@`` (or a tab or carriage return, also after leading spaces) is taken there as a formula — with
``=HYPERLINK(…)`` or DDE (``=cmd|' /C calc'!A0``) it sends data away or runs a program. Park,
dataset, scenario and result-table names, column names of uploaded files, notes and the name typed
at a failed login all reach exports. Following OWASP ("CSV injection"), such text gets a leading
``'``: the spreadsheet shows it as text, and a reader sees that the text was changed.

- Only text is touched: numbers (a negative number included), booleans, dates and missing
  values pass as they are.
- Text that is a plain decimal number (``"-5"``, ``"+3.5"``, ``"-1e3"``) passes too: a
  spreadsheet reads it as that number, never as a formula, and prefixing it would change the data
  of tables that carry numbers as text (official statistics, target values, ids) for the scripts
  that read the CSV back. ``"-2+3"`` or ``"-"`` is not a plain number: it gets the ``'``.

The writers (``reports.csv``, ``reports.excel``) apply it to every cell and every header; it lives
in ``core`` because the shell's audit export (``cli.admin_cli``, below ``reports``) needs it too.
"""
from __future__ import annotations

import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def formula_safe(value):
    """``value`` as a spreadsheet cell that is never a formula (see the module docstring)."""
    if not isinstance(value, str) or not value:
        return value
    first = value[0] if value[0] in "\t\r" else value.lstrip()[:1]
    if first and first in TRIGGERS and not _NUMBER.fullmatch(value):
        return PREFIX + value
    return value


def formula_safe_frame(df):
    """A copy of a DataFrame with ``formula_safe`` text in every header and non-numeric column
    (numeric, boolean and datetime columns are left as they are)."""
    out = df.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        kind = getattr(col.dtype, "kind", "O")
        if kind in "biufcmM":  # numbers, booleans, dates: never text
            continue
        out.isetitem(i, col.astype(object).map(formula_safe))
    out.columns = [formula_safe(c) for c in out.columns]
    return out

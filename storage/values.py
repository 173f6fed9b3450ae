"""How the store writes values: a name as stored and shown (control characters removed, trimmed,
capped), and JSON text of attribute dicts whose values may be numpy, pandas or date types (NaN
becomes null, anything else unknown its text)."""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd


def clean_name(name, limit: int) -> str:
    """A name as stored and shown: control characters (NUL, ESC, ...) removed, trimmed, capped.
    Markup is kept as text: every view escapes it."""
    text = "".join(ch if ch.isprintable() or ch == " " else " " for ch in str(name))
    return " ".join(text.split())[:limit]


def to_json(obj) -> str:
    return json.dumps({k: jsonable(v) for k, v in obj.items()} if isinstance(obj, dict) else obj,
                      ensure_ascii=False)


def jsonable(v):
    if v is None or isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, float):
        return None if v != v else v
    if hasattr(v, "item"):
        return jsonable(v.item())
    if isinstance(v, (dt.date, dt.datetime, pd.Timestamp)):
        return str(v)
    return str(v)

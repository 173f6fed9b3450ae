"""Row operations the parts of ``Store`` share, each run inside the caller's open transaction and
without a role check of its own (the calling Store method has authorised the actor): a park row
read, taken out with its checklist row or put back, an entry put in the recycle bin, a dataset
registered, a role of the data in use set (the last two logged in the audit chain)."""
from __future__ import annotations

import datetime as dt
import json
import uuid

from storage import audit
from storage.accounts import Principal
from storage.db import StoreError
from storage.schema import PARK_COLS


def park_row(cur, park_id: str) -> dict | None:
    r = cur.execute("SELECT park_id, name, ST_AsWKB(geom), attrs, source, source_file, source_crs, "
                    "created_at, updated_at, created_by, office FROM parks WHERE park_id = ?", [park_id]).fetchone()
    if r is None:
        return None
    out = dict(zip(PARK_COLS, r))
    out["geom"] = bytes(out["geom"]).hex()
    return out


def take_park(cur, park_id: str) -> dict | None:
    """Remove a park and its checklist row, returning both as a bin payload."""
    row = park_row(cur, park_id)
    if row is None:
        return None
    ck = cur.execute("SELECT inputs, updated_at, created_by, office FROM checklist WHERE park_id = ?",
                     [park_id]).fetchone()
    cur.execute("DELETE FROM parks WHERE park_id = ?", [park_id])
    cur.execute("DELETE FROM checklist WHERE park_id = ?", [park_id])
    return {"park": row, "checklist": list(ck) if ck else None}


def put_park(cur, payload: dict) -> str:
    row = payload["park"]
    if cur.execute("SELECT 1 FROM parks WHERE park_id = ?", [row["park_id"]]).fetchone():
        raise StoreError(f"园区 {row['park_id']} 已存在，无法还原。", f"park {row['park_id']} exists already: not restored.")
    vals = [bytes.fromhex(row["geom"]) if c == "geom" else row[c] for c in PARK_COLS]
    cur.execute(f"INSERT INTO parks ({', '.join(PARK_COLS)}) VALUES (?, ?, ST_GeomFromWKB(?), ?, ?, ?, ?, ?, ?, ?, ?)",
                vals)
    if payload.get("checklist"):
        inputs, at, by, office = payload["checklist"]
        cur.execute("INSERT OR REPLACE INTO checklist (park_id, inputs, updated_at, created_by, office) "
                    "VALUES (?, ?, ?, ?, ?)", [row["park_id"], inputs, at, by, office])
    return row["park_id"]


def bin_put(cur, p, item_type, item_id, name, owner, office, payload) -> str:
    bid = "B" + uuid.uuid4().hex[:11].upper()
    cur.execute("INSERT INTO recycle_bin VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [bid, item_type, item_id, name, owner, office, str(p), dt.datetime.now(),
                 json.dumps(payload, ensure_ascii=False, default=str)])
    return bid


def insert_dataset(cur, dataset_id: str, role: str, record: dict, p: Principal) -> None:
    rec = {**record, "created_by": str(p), "office": p.office}
    cur.execute("INSERT INTO datasets (dataset_id, role, record, added_at, created_by, office) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [dataset_id, role, json.dumps(rec, ensure_ascii=False, default=str), dt.datetime.now(),
                 str(p), p.office])
    audit.record(cur, p, "dataset_add", "dataset", dataset_id, after=rec, details={"role": role})


def set_in_use_row(cur, role: str, dataset_ids: list[str], p=None) -> None:
    old = cur.execute("SELECT dataset_ids FROM data_in_use WHERE role = ?", [role]).fetchone()
    cur.execute("INSERT OR REPLACE INTO data_in_use VALUES (?, ?, ?)",
                [role, json.dumps(list(dataset_ids)), dt.datetime.now()])
    audit.record(cur, p, "in_use", "data_in_use", role, before=json.loads(old[0]) if old else None,
                 after=list(dataset_ids))

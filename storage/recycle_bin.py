"""The recycle bin (``RecycleBin``, a part of ``Store``): deleted parks, scenarios and datasets wait
here until their owner or an admin restores them (same id, name and geometry) or an admin empties
the bin. A dataset removed while in use goes back in use when an admin restores it and its role
still falls back."""
from __future__ import annotations

import json

import pandas as pd

from storage import audit
from storage.access import mutating
from storage.db import StoreError
from storage.item_rows import put_park, set_in_use_row
from storage.schema import SCENARIO_COLS


class RecycleBin:
    """The recycle bin of ``Store`` (one of its parts: ``self`` is the store)."""

    # --- recycle bin: parks, scenarios and datasets wait here; owner or admin restores, admin empties
    def bin_entries(self) -> pd.DataFrame:
        return self.query_df("SELECT bin_id, item_type, item_id, name, owner, office, deleted_by, deleted_at "
                             "FROM recycle_bin ORDER BY deleted_at DESC, bin_id")

    def bin_entry(self, bin_id: str) -> dict | None:
        df = self.query_df("SELECT * FROM recycle_bin WHERE bin_id = ?", [bin_id])
        if df.empty:
            return None
        out = df.iloc[0].to_dict()
        out["payload"] = json.loads(out["payload"])
        return out

    @mutating("owner")
    def restore_from_bin(self, bin_id: str, *, actor=None) -> dict:
        """Put an item back as it was (same id, name, geometry: a park's cached indicator rows,
        keyed by content, apply again). A dataset removed while in use goes back in use when an
        admin restores it and its role still falls back (nobody chose other data meanwhile); the
        roles put back are listed in the returned entry's ``back_in_use``."""
        entry = self.bin_entry(bin_id)
        if entry is None:
            raise StoreError(f"回收站中没有 {bin_id}。", f"{bin_id} is not in the recycle bin.")
        p = self.authorize(actor, "owner", entry["owner"], what=f"{entry['item_type']}:{entry['item_id']}")
        pl = entry["payload"]
        with self.transaction() as cur:
            if entry["item_type"] == "park":
                put_park(cur, pl)
            elif entry["item_type"] == "scenario":
                row = pl["scenario"]
                if cur.execute("SELECT 1 FROM scenarios WHERE name = ?", [row["name"]]).fetchone():
                    raise StoreError(f"已有同名方案“{row['name']}”：请先改名或删除它。",
                                     f"a scenario named '{row['name']}' exists: rename or delete it first.")
                cur.execute(f"INSERT INTO scenarios ({', '.join(SCENARIO_COLS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [row[c] for c in SCENARIO_COLS])
            elif entry["item_type"] == "dataset":
                d = pl["dataset"]
                if cur.execute("SELECT 1 FROM datasets WHERE dataset_id = ?", [d["dataset_id"]]).fetchone():
                    raise StoreError(f"数据集 {d['dataset_id']} 已存在。", f"dataset {d['dataset_id']} exists already.")
                cur.execute("INSERT INTO datasets (dataset_id, role, record, added_at, created_by, office) "
                            "VALUES (?, ?, ?, ?, ?, ?)", [d["dataset_id"], d["role"], d["record"], d["added_at"],
                                                          d["created_by"], d["office"]])
                for park in pl.get("parks") or []:
                    put_park(cur, park)
                if p.at_least("admin"):  # the data in use is an admin's to change
                    entry["back_in_use"] = self._back_in_use(cur, p, pl)
            cur.execute("DELETE FROM recycle_bin WHERE bin_id = ?", [bin_id])
            audit.record(cur, p, "restore", entry["item_type"], entry["item_id"], after=pl, details={"bin_id": bin_id})
        return entry

    def _back_in_use(self, cur, p, pl: dict) -> list[str]:
        """Put a restored dataset back in the roles it had where they still fall back."""
        back = []
        for role_, before in (pl.get("in_use") or {}).items():
            row = cur.execute("SELECT dataset_ids FROM data_in_use WHERE role = ?", [role_]).fetchone()
            if row is None or json.loads(row[0]) == pl["in_use_after"][role_]:
                set_in_use_row(cur, role_, before, p=p)
                back.append(role_)
        upload = json.loads(pl["dataset"]["record"]).get("upload_id")
        layer = cur.execute("SELECT replaces FROM user_layers WHERE upload_id = ?", [upload]).fetchone() if upload else None
        if pl.get("upload_was_active") and layer and not cur.execute(
                "SELECT 1 FROM user_layers WHERE replaces = ? AND active", [layer[0]]).fetchone():
            cur.execute("UPDATE user_layers SET active = true WHERE upload_id = ?", [upload])
            audit.record(cur, p, "layer_activate", "user_layer", upload, before=[], after=[upload],
                         details={"replaces": layer[0], "restored": True})
            back.append(pl["dataset"]["role"])
        return back

    @mutating("admin")
    def empty_bin(self, bin_ids: list[str] | None = None, *, actor=None) -> list[dict]:
        """Delete for good (admin): every entry, or ``bin_ids``. Returns the entries removed, so the
        workspace can delete the files of purged datasets."""
        p = self.authorize(actor, "admin", what="bin:")
        with self.transaction() as cur:
            sql = "SELECT bin_id, item_type, item_id, name, payload FROM recycle_bin"
            rows = cur.execute(sql + (f" WHERE bin_id IN ({', '.join('?' * len(bin_ids))})" if bin_ids else ""),
                               list(bin_ids or [])).fetchall()
            out = []
            for bid, kind, item_id, name, payload in rows:
                pl = json.loads(payload)
                if kind == "dataset":
                    rec = json.loads(pl["dataset"]["record"])
                    cur.execute("DELETE FROM dataset_features WHERE dataset_id = ?", [item_id])
                    if rec.get("upload_id"):
                        cur.execute("DELETE FROM user_features WHERE upload_id = ?", [rec["upload_id"]])
                        cur.execute("DELETE FROM user_layers WHERE upload_id = ?", [rec["upload_id"]])
                cur.execute("DELETE FROM recycle_bin WHERE bin_id = ?", [bid])
                audit.record(cur, p, "bin_purge", kind, item_id, before=pl, details={"bin_id": bid, "name": name})
                out.append({"bin_id": bid, "item_type": kind, "item_id": item_id, "payload": pl})
        return out

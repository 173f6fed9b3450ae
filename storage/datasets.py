"""Workspace datasets and the data in use (``DatasetItems``, a part of ``Store``): a dataset's
record (``storage.workspace.Dataset`` as JSON) and features, which datasets each role of the data in
use names, and removing a dataset to the recycle bin. A dataset in use is an admin's to remove: the
roles naming it fall back to the rest of their list in the same transaction."""
from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import shapely

from core.errors import PermissionDenied
from layers import inputs
from storage import audit
from storage.access import mutating
from storage.db import StoreError
from storage.item_rows import bin_put, insert_dataset, set_in_use_row, take_park
from storage.values import to_json


class DatasetItems:
    """The workspace datasets and the data in use of ``Store`` (one of its parts: ``self`` is the store)."""

    # --- workspace datasets (records are storage.workspace.Dataset as JSON)
    @mutating("editor")
    def add_dataset(self, dataset_id: str, role: str, record: dict,
                    features: gpd.GeoDataFrame | None = None, kinds: list[str] | None = None,
                    use: tuple[str, list[str]] | None = None, *, actor=None) -> None:
        """Register a dataset (and its features, EPSG:4326) and optionally put it in use (admin), all
        in one transaction: a failed or killed import leaves the store as it was."""
        p = self.authorize(actor, "admin" if use is not None else "editor", what=f"dataset:{dataset_id}")
        rows = []
        if features is not None:
            if features.crs is None or features.crs.to_epsg() != 4326:
                raise StoreError("dataset features are stored in EPSG:4326; reproject first")
            props = features.drop(columns=features.geometry.name).to_dict("records")
            ks = kinds if kinds is not None else [None] * len(features)
            rows = [(dataset_id, i, k, shapely.to_wkb(g), to_json(pr))
                    for i, (g, pr, k) in enumerate(zip(features.geometry.values, props, ks))]
        with self.transaction() as cur:
            insert_dataset(cur, dataset_id, role, record, p)
            if rows:
                cur.executemany("INSERT INTO dataset_features VALUES (?, ?, ?, ST_GeomFromWKB(?), ?)", rows)
            if use is not None:
                set_in_use_row(cur, *use, p=p)

    def datasets(self) -> list[dict]:
        df = self.query_df("SELECT record FROM datasets ORDER BY added_at, dataset_id")
        return [json.loads(r) for r in df["record"]]

    def dataset_record(self, dataset_id: str) -> dict | None:
        df = self.query_df("SELECT record FROM datasets WHERE dataset_id = ?", [dataset_id])
        return json.loads(df["record"].iloc[0]) if len(df) else None

    def dataset_features(self, dataset_id: str, kind: str | None = None) -> gpd.GeoDataFrame:
        sql = ("SELECT fid, kind, ST_AsWKB(geom) AS wkb, props FROM dataset_features WHERE dataset_id = ?"
               + (" AND kind = ?" if kind else "") + " ORDER BY fid")
        df = self.query_df(sql, [dataset_id, kind] if kind else [dataset_id])
        props = pd.DataFrame([json.loads(p) for p in df["props"]]) if len(df) else pd.DataFrame()
        props["kind"] = list(df["kind"]) if len(df) else []
        geoms = shapely.from_wkb([bytes(b) for b in df["wkb"]]) if len(df) else []
        return gpd.GeoDataFrame(props, geometry=list(geoms), crs="EPSG:4326")

    @mutating("owner")
    def delete_dataset(self, dataset_id: str, *, actor=None) -> str | None:
        """Move a dataset to the recycle bin (returns the bin id): its record and, for a parks file,
        its parks; its features stay in the store until the bin is emptied. Its owner or an admin;
        one in use (a role of the data in use names it, or its red line / zones layer is active)
        also needs the right to change the data in use (an admin): every role naming it falls back
        to the rest of its list and the layer to the proxy/schematic one, in the same transaction,
        and what was in use is kept in the bin entry (``restore_from_bin`` puts it back)."""
        p = self.authorize(actor, "owner", self.owner_of("datasets", "dataset_id", dataset_id),
                           what=f"dataset:{dataset_id}")
        if not p.at_least("admin"):
            with self.transaction() as cur:
                using = self._dataset_uses(cur, dataset_id)
            if using:
                try:
                    self.authorize(actor, "admin", what=f"dataset:{dataset_id}")
                except PermissionDenied:
                    raise _in_use_refusal(using) from None
        bid = None
        with self.transaction() as cur:
            r = cur.execute("SELECT role, record, added_at, created_by, office FROM datasets WHERE dataset_id = ?",
                            [dataset_id]).fetchone()
            if r is None:
                return None
            role, record, added_at, by, office = r
            using = self._dataset_uses(cur, dataset_id)
            if using and not p.at_least("admin"):  # put in use since the check above
                raise _in_use_refusal(using)
            rec = json.loads(record)
            parks = [x for x in (take_park(cur, pid) for pid in rec.get("park_ids") or []) if x]
            upload = rec.get("upload_id")
            if upload:
                cur.execute("UPDATE user_layers SET active = false WHERE upload_id = ?", [upload])
            in_use = {k: v for k, v in using.items() if not k.startswith("layer:")}
            after = {k: [i for i in ids if i != dataset_id] for k, ids in in_use.items()}
            for role_, ids in after.items():
                set_in_use_row(cur, role_, ids, p=p)
            cur.execute("DELETE FROM datasets WHERE dataset_id = ?", [dataset_id])
            payload = {"dataset": {"dataset_id": dataset_id, "role": role, "record": record,
                                   "added_at": str(added_at), "created_by": by, "office": office},
                       "parks": parks, "upload_was_active": len(using) > len(in_use),
                       "in_use": in_use, "in_use_after": after}
            bid = bin_put(cur, p, "dataset", dataset_id, rec.get("name") or dataset_id, by, office, payload)
            audit.record(cur, p, "dataset_delete", "dataset", dataset_id, before=rec,
                         details={"to": "bin", "in_use": sorted(using)})
        return bid

    @mutating("owner")
    def update_dataset_params(self, dataset_id: str, params: dict, *, actor=None) -> None:
        """Change the parameters kept in a dataset's record (a criterion's name, statistic, direction
        and unit, an exclusion layer's kind and buffer, a grid layer's kind). Its owner or an admin;
        one in use changes the data everyone uses, so it needs an admin."""
        p = self.authorize(actor, "owner", self.owner_of("datasets", "dataset_id", dataset_id),
                           what=f"dataset:{dataset_id}")
        with self.transaction() as cur:
            using = self._dataset_uses(cur, dataset_id)
            if using and not p.at_least("admin"):
                raise _in_use_refusal(using)
            _set_record_field(cur, p, dataset_id, "params", dict(params), "dataset_params")

    @mutating("admin")
    def update_dataset_display(self, dataset_id: str, display_path: str, *, actor=None) -> None:
        """Point a raster dataset's map copy at a new file (its COG, ``gansu workspace tiles``): the
        data and every number stay as they were; an admin's maintenance, logged."""
        p = self.authorize(actor, "admin", what=f"dataset:{dataset_id}")
        with self.transaction() as cur:
            _set_record_field(cur, p, dataset_id, "display_path", str(display_path), "dataset_display")

    @staticmethod
    def _dataset_uses(cur, dataset_id: str) -> dict[str, list]:
        """{role: dataset ids in use} for every role of the data in use naming the dataset, and
        ``layer:<its role>`` when the red line / zones layer it provides is the active one."""
        out = {role: ids for role, ids in ((r, json.loads(d)) for r, d in
                                            cur.execute("SELECT role, dataset_ids FROM data_in_use").fetchall())
               if dataset_id in ids}
        rec = cur.execute("SELECT role, record FROM datasets WHERE dataset_id = ?", [dataset_id]).fetchone()
        upload = json.loads(rec[1]).get("upload_id") if rec else None
        if upload and cur.execute("SELECT active FROM user_layers WHERE upload_id = ?", [upload]).fetchone() == (True,):
            out[f"layer:{rec[0]}"] = [upload]
        return out

    def in_use(self) -> dict[str, list[str]]:
        df = self.query_df("SELECT role, dataset_ids FROM data_in_use")
        return {r.role: json.loads(r.dataset_ids) for r in df.itertuples()}

    @mutating("admin")
    def set_in_use(self, role: str, dataset_ids: list[str], *, actor=None) -> None:
        p = self.authorize(actor, "admin", what=f"in_use:{role}")
        with self.transaction() as cur:
            set_in_use_row(cur, role, dataset_ids, p=p)


def _in_use_refusal(using: dict) -> PermissionDenied:
    slots = {i.id: i.label for i in inputs.slots()}  # the slots of the data in use: layers/inputs.py
    names = [slots.get(k.split(":")[-1], (k, k)) for k in sorted(using)]
    return PermissionDenied(f"该数据集正在使用中（{'、'.join(n[0] for n in names)}）：删除它会改变所有人使用的数据，"
                            "只有管理员可以执行。请管理员先改用其他数据，或由管理员删除。",
                            f"this dataset is in use ({', '.join(n[1] for n in names)}): removing it changes the data "
                            "everyone uses, so only an admin can do it. Ask an admin to put other data in use first, "
                            "or to remove it.")


def _set_record_field(cur, actor, dataset_id: str, key: str, value, action: str) -> None:
    """One field of a dataset's record changed inside the caller's transaction, logged (before, after)."""
    r = cur.execute("SELECT record FROM datasets WHERE dataset_id = ?", [dataset_id]).fetchone()
    if r is None:
        raise StoreError(f"没有编号为 {dataset_id} 的数据集。", f"no dataset with id {dataset_id}.")
    before = json.loads(r[0])
    after = {**before, key: value}
    cur.execute("UPDATE datasets SET record = ? WHERE dataset_id = ?",
                [json.dumps(after, ensure_ascii=False, default=str), dataset_id])
    audit.record(cur, actor, action, "dataset", dataset_id, before=before.get(key), after=value)

"""Saved parks (uploaded or drawn candidates; the demo parks stay in the GeoPackage) and each park's
admission checklist inputs: ``ParkItems``, a part of ``Store``. A deleted park goes to the recycle
bin with its checklist row; the audit log records a hash of its content, not the geometry."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

import geopandas as gpd
import shapely

from core.errors import PermissionDenied
from storage import audit, row_versions
from storage.access import mutating
from storage.db import StoreError
from storage.item_rows import bin_put, insert_dataset, park_row, take_park
from storage.schema import PARK_COLS
from storage.values import clean_name, to_json


class ParkItems:
    """The parks and checklists of ``Store`` (one of its parts: ``self`` is the store)."""

    # --- parks (uploaded or drawn candidates); demo parks stay in the GeoPackage
    @mutating("editor")
    def add_parks(self, gdf: gpd.GeoDataFrame, *, names: list[str], source: str,
                  source_file: str | None = None, source_crs: str | None = None,
                  dataset: tuple[str, str, dict] | None = None, actor=None) -> list[str]:
        """Insert polygons (EPSG:4326) with their names and other attributes, all or nothing.
        ``dataset`` = (id, role, record) registers the file in the workspace in the same transaction."""
        p = self.authorize(actor, "editor", what="park:")
        if gdf.crs is None or gdf.crs.to_epsg() != 4326:
            raise StoreError("parks are stored in EPSG:4326; reproject first")
        now = dt.datetime.now()
        attrs = gdf.drop(columns=gdf.geometry.name).to_dict("records")
        ids, rows = [], []
        for name, geom, a in zip(names, gdf.geometry.values, attrs):
            pid = "U" + uuid.uuid4().hex[:7].upper()
            ids.append(pid)
            rows.append((pid, clean_name(name, 200), shapely.to_wkb(geom), to_json(a), source,
                         source_file, source_crs, now, now, str(p), p.office))
        with self.transaction() as cur:
            cur.executemany(f"INSERT INTO parks ({', '.join(PARK_COLS)}) "
                            "VALUES (?, ?, ST_GeomFromWKB(?), ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if dataset is not None:
                insert_dataset(cur, dataset[0], dataset[1], {**dataset[2], "park_ids": ids}, p)
            for r in rows:
                audit.record(cur, p, "park_add", "park", r[0], after=_park_content(r[0], r[1], r[2], r[3]),
                             details={"source": source, "file": source_file})
        return ids

    def parks(self) -> gpd.GeoDataFrame:
        df = self.query_df("SELECT park_id, name, ST_AsWKB(geom) AS wkb, attrs, source, source_file, "
                           "source_crs, created_at, updated_at, created_by, office FROM parks "
                           "ORDER BY created_at, park_id")
        geoms = shapely.from_wkb([bytes(b) for b in df["wkb"]]) if len(df) else []
        out = gpd.GeoDataFrame(df.drop(columns=["wkb"]), geometry=list(geoms), crs="EPSG:4326")
        out["attrs"] = [json.loads(a) if a else {} for a in out["attrs"]]
        return out

    def parks_version(self) -> str:
        """Changes whenever any saved park changes: cache key for indicators."""
        row = self.query_df("SELECT count(*) AS n, max(updated_at) AS t, "
                            "string_agg(park_id || ':' || name, ',' ORDER BY park_id) AS s FROM parks")
        key = f"{row['n'].iloc[0]}|{row['t'].iloc[0]}|{row['s'].iloc[0]}"
        return hashlib.sha1(key.encode()).hexdigest()[:16]

    @mutating("owner")
    def rename_park(self, park_id: str, name: str, *, actor=None, expected_version: int | None = None) -> None:
        """Rename a park (its owner or an admin); ``expected_version``: the version the user's copy
        was read at (``storage.row_versions``: refused when someone saved it since)."""
        if expected_version is not None and park_id not in self.row_versions("parks"):  # gone since it was read
            raise row_versions.deleted("parks", park_id)
        p = self.authorize(actor, "owner", self.owner_of("parks", "park_id", park_id), what=f"park:{park_id}")
        with self.transaction() as cur:
            old = park_row(cur, park_id)
            version = row_versions.check(cur, "parks", park_id, expected_version, old["name"] if old else None)
            cur.execute("UPDATE parks SET name = ?, updated_at = ?, row_version = ?, updated_by = ? WHERE park_id = ?",
                        [clean_name(name, 200), dt.datetime.now(), version, str(p), park_id])
            if old is not None:
                audit.record(cur, p, "park_rename", "park", park_id, before={"name": old["name"]},
                             after={"name": clean_name(name, 200)})

    @mutating("owner")
    def update_park_attrs(self, park_id: str, attrs: dict, *, actor=None, expected_version: int | None = None) -> None:
        if expected_version is not None and park_id not in self.row_versions("parks"):  # gone since it was read
            raise row_versions.deleted("parks", park_id)
        p = self.authorize(actor, "owner", self.owner_of("parks", "park_id", park_id), what=f"park:{park_id}")
        with self.transaction() as cur:
            old = park_row(cur, park_id)
            version = row_versions.check(cur, "parks", park_id, expected_version, old["name"] if old else None)
            cur.execute("UPDATE parks SET attrs = ?, updated_at = ?, row_version = ?, updated_by = ? WHERE park_id = ?",
                        [to_json(attrs), dt.datetime.now(), version, str(p), park_id])
            if old is not None:
                audit.record(cur, p, "park_attrs", "park", park_id, before=old["attrs"], after=to_json(attrs))

    def row_versions(self, table: str) -> dict[str, int]:
        """{key: version} of every park (``parks``), checklist (``checklist``) or scenario
        (``scenarios``) row (``storage.row_versions``; a key without a row: version 0)."""
        col = row_versions.TABLES[table]
        df = self.query_df(f"SELECT {col} AS k, coalesce(row_version, 1) AS v FROM {table}")
        return {str(k): int(v) for k, v in zip(df["k"], df["v"])}

    @mutating("owner")
    def delete_parks(self, park_ids: list[str], *, actor=None) -> list[str]:
        """Move parks (and their checklist) to the recycle bin; returns the bin ids. All or nothing:
        one park the actor may not delete refuses the whole call."""
        p = None
        for pid in park_ids:
            p = self.authorize(actor, "owner", self.owner_of("parks", "park_id", pid), what=f"park:{pid}")
        if p is None:  # nothing to delete: still only for someone who may change data
            self.authorize(actor, "editor", what="park:")
            return []
        out = []
        with self.transaction() as cur:
            for pid in park_ids:
                payload = take_park(cur, pid)
                if payload is None:
                    continue
                row = payload["park"]
                out.append(bin_put(cur, p, "park", pid, row["name"], row["created_by"], row["office"], payload))
                audit.record(cur, p, "park_delete", "park", pid,
                             before=_park_content(pid, row["name"], row["geom"], row["attrs"]), details={"to": "bin"})
        return out

    # --- admission checklist inputs, per park
    def checklist_access(self, park_id: str) -> tuple[str, str | None]:
        """What saving a park's checklist needs (``authorize``'s need and owner): a saved park's
        checklist belongs to the park's owner (or an admin); a park not in the store — the built-in
        illustrative parks, shared by everyone — is an admin's to fill in. So nobody claims a
        checklist by saving first, also not for a park id waiting in the recycle bin."""
        df = self.query_df("SELECT created_by FROM parks WHERE park_id = ?", [park_id])
        if not len(df):
            return "admin", None
        owner = df["created_by"].iloc[0]
        return "owner", owner if isinstance(owner, str) and owner else None

    @mutating("owner")
    def save_checklist(self, park_id: str, inputs: dict, *, actor=None, expected_version: int | None = None) -> None:
        """Save a park's checklist inputs (``checklist_access``: the park's owner or an admin; a
        demo park: an admin). The row is the park's owner's whoever saves it. ``expected_version``:
        the version the form was read at (0: no checklist then; ``storage.row_versions``)."""
        need, owner = self.checklist_access(park_id)
        try:
            p = self.authorize(actor, need, owner, what=f"checklist:{park_id}")
        except PermissionDenied as e:
            who = self.principal(actor)
            if need != "admin" or who is None or not who.at_least("editor"):
                raise
            raise PermissionDenied("内置示例园区的准入核查表为所有人共享，只有管理员可以保存；您可以评估而不保存，"
                                   "或将园区另存为自己的园区后填写。",
                                   "the checklist of a built-in demo park is shared by everyone: only an admin can "
                                   "save it. You can evaluate without saving, or save the park as your own first.") from e
        with self.transaction() as cur:
            old = cur.execute("SELECT inputs, created_by, office FROM checklist WHERE park_id = ?", [park_id]).fetchone()
            park = cur.execute("SELECT created_by, office FROM parks WHERE park_id = ?", [park_id]).fetchone()
            by, office = park if park else (str(p), p.office)
            version = row_versions.check(cur, "checklist", park_id, expected_version)
            cur.execute("INSERT OR REPLACE INTO checklist (park_id, inputs, updated_at, created_by, office, row_version, "
                        "updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [park_id, to_json(inputs), dt.datetime.now(), by, office, version, str(p)])
            audit.record(cur, p, "checklist_save", "checklist", park_id, before=old[0] if old else None,
                         after=to_json(inputs))

    def checklist(self, park_id: str) -> dict:
        df = self.query_df("SELECT inputs FROM checklist WHERE park_id = ?", [park_id])
        return json.loads(df["inputs"].iloc[0]) if len(df) else {}


def _park_content(park_id, name, geom, attrs) -> dict:
    """What identifies a park's content in the audit log (its hash is logged, not the geometry)."""
    g = geom.hex() if isinstance(geom, (bytes, bytearray)) else geom
    return {"park_id": park_id, "name": name, "geom": g, "attrs": attrs}

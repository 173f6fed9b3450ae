"""Official replacement layers (``UserLayers``, a part of ``Store``): a user's file that replaces a
schematic or proxy layer (zones, the red line), stored in EPSG:4326 feature by feature; putting one
in use, or back to the built-in layer, is an admin's."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

import geopandas as gpd
import pandas as pd
import shapely

from storage import audit
from storage.access import mutating
from storage.db import StoreError
from storage.item_rows import insert_dataset
from storage.values import jsonable


class UserLayers:
    """The official replacement layers of ``Store`` (one of its parts: ``self`` is the store)."""

    # --- user layers (official replacements of schematic/proxy layers)
    @mutating("editor")
    def save_user_layer(self, gdf: gpd.GeoDataFrame, *, replaces: str, name: str,
                        original_filename: str, source_crs: str | None, active: bool = True,
                        dataset: tuple[str, str, dict] | None = None, actor=None) -> str:
        """Store an official replacement layer (EPSG:4326); ``active`` puts it in use (admin).
        ``dataset`` = (id, role, record) registers it in the workspace in the same transaction."""
        p = self.authorize(actor, "admin" if active else "editor", what=f"layer:{replaces}")
        if gdf.crs is None or gdf.crs.to_epsg() != 4326:
            raise StoreError("user layers are stored in EPSG:4326; reproject first")
        upload_id = uuid.uuid4().hex
        props = gdf.drop(columns=gdf.geometry.name)
        rows = [(upload_id, i, shapely.to_wkb(g),
                 json.dumps({k: jsonable(v) for k, v in p_.items()}, ensure_ascii=False))
                for i, (g, p_) in enumerate(zip(gdf.geometry.values, props.to_dict("records")))]
        with self.transaction() as cur:
            if active:
                cur.execute("UPDATE user_layers SET active = false WHERE replaces = ?", [replaces])
            cur.execute("INSERT INTO user_layers (upload_id, replaces, name, original_filename, source_crs, "
                        "n_features, created_at, active, created_by, office) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [upload_id, replaces, name, original_filename, source_crs, len(gdf),
                         dt.datetime.now(), active, str(p), p.office])
            cur.executemany("INSERT INTO user_features VALUES (?, ?, ST_GeomFromWKB(?), ?)", rows)
            if dataset is not None:
                insert_dataset(cur, dataset[0], dataset[1], {**dataset[2], "upload_id": upload_id}, p)
            audit.record(cur, p, "layer_upload" + ("_in_use" if active else ""), "user_layer", upload_id,
                         after={"replaces": replaces, "name": name, "n": len(gdf), "sha": _rows_sha(rows)},
                         details={"file": original_filename, "dataset": dataset[0] if dataset else None})
        return upload_id

    @mutating("admin")
    def activate_user_layer(self, replaces: str, upload_id: str, *, actor=None) -> None:
        p = self.authorize(actor, "admin", what=f"user_layer:{upload_id}")
        with self.transaction() as cur:
            before = cur.execute("SELECT upload_id FROM user_layers WHERE replaces = ? AND active", [replaces]).fetchall()
            cur.execute("UPDATE user_layers SET active = false WHERE replaces = ?", [replaces])
            cur.execute("UPDATE user_layers SET active = true WHERE upload_id = ? AND replaces = ?", [upload_id, replaces])
            audit.record(cur, p, "layer_activate", "user_layer", upload_id, before=[r[0] for r in before],
                         after=[upload_id], details={"replaces": replaces})

    def active_user_layer(self, replaces: str) -> dict | None:
        df = self.query_df("SELECT * FROM user_layers WHERE replaces = ? AND active "
                           "ORDER BY created_at DESC LIMIT 1", [replaces])
        return None if df.empty else df.iloc[0].to_dict()

    def load_user_layer(self, upload_id: str) -> gpd.GeoDataFrame:
        df = self.query_df("SELECT fid, ST_AsWKB(geom) AS wkb, props FROM user_features "
                           "WHERE upload_id = ? ORDER BY fid", [upload_id])
        props = pd.DataFrame([json.loads(p) for p in df["props"]]) if len(df) else pd.DataFrame()
        geoms = shapely.from_wkb([bytes(b) for b in df["wkb"]])
        return gpd.GeoDataFrame(props, geometry=list(geoms), crs="EPSG:4326")

    @mutating("admin")
    def revert_user_layer(self, replaces: str, *, actor=None) -> None:
        p = self.authorize(actor, "admin", what=f"layer:{replaces}")
        with self.transaction() as cur:
            before = cur.execute("SELECT upload_id FROM user_layers WHERE replaces = ? AND active", [replaces]).fetchall()
            cur.execute("UPDATE user_layers SET active = false WHERE replaces = ?", [replaces])
            audit.record(cur, p, "layer_revert", "layer", replaces, before=[r[0] for r in before], after=[])


def _rows_sha(rows) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(r[2] or b"")
        h.update(str(r[3]).encode())
    return h.hexdigest()

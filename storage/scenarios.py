"""Named scenarios (a selection of parks, indicator weights and settings): ``ScenarioItems``, a
part of ``Store``. Overwriting or deleting one needs its owner or an admin; a deleted scenario
waits in the recycle bin."""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from storage import audit, row_versions
from storage.access import mutating
from storage.item_rows import bin_put
from storage.schema import SCENARIO_COLS
from storage.values import clean_name, to_json


class ScenarioItems:
    """The named scenarios of ``Store`` (one of its parts: ``self`` is the store)."""

    # --- named scenarios (selection + weights + settings)
    @mutating("owner")
    def save_scenario(self, name: str, selection: list[str], weights: dict, settings: dict | None = None,
                      *, actor=None, expected_version: int | None = None) -> None:
        """Save a scenario; overwriting one of the same name needs its owner or an admin.
        ``expected_version``: the version the user loaded (0: a new name; ``storage.row_versions``)."""
        key = clean_name(name, 120)
        exists = len(self.query_df("SELECT 1 FROM scenarios WHERE name = ?", [key]))
        p = self.authorize(actor, "owner" if exists else "editor", self.owner_of("scenarios", "name", key),
                           what=f"scenario:{key}")
        now = dt.datetime.now()
        with self.transaction() as cur:
            old = cur.execute("SELECT created_at, created_by, office, selection, weights, settings FROM scenarios "
                              "WHERE name = ?", [key]).fetchone()
            version = row_versions.check(cur, "scenarios", key, expected_version)
            vals = [key, json.dumps(list(selection)), to_json(weights), to_json(settings or {}),
                    old[0] if old else now, now, old[1] if old else str(p), old[2] if old else p.office]
            cur.execute(f"INSERT OR REPLACE INTO scenarios ({', '.join(SCENARIO_COLS)}, row_version, updated_by) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [*vals, version, str(p)])
            audit.record(cur, p, "scenario_save", "scenario", key, before=list(old[3:]) if old else None,
                         after=vals[1:4])

    def scenarios(self) -> dict[str, dict]:
        df = self.query_df("SELECT * FROM scenarios ORDER BY updated_at DESC")
        return {r.name: {"selection": json.loads(r.selection), "weights": json.loads(r.weights),
                         "settings": json.loads(r.settings), "updated_at": r.updated_at,
                         "created_by": r.created_by, "office": r.office,
                         "row_version": int(r.row_version) if pd.notna(r.row_version) else 1}
                for r in df.itertuples()}

    @mutating("owner")
    def delete_scenario(self, name: str, *, actor=None) -> str | None:
        """Move a scenario to the recycle bin (returns the bin id)."""
        key = clean_name(name, 120)
        p = self.authorize(actor, "owner", self.owner_of("scenarios", "name", key), what=f"scenario:{key}")
        with self.transaction() as cur:
            r = cur.execute(f"SELECT {', '.join(SCENARIO_COLS)} FROM scenarios WHERE name = ?", [key]).fetchone()
            if r is None:
                return None
            row = {c: (str(v) if isinstance(v, dt.datetime) else v) for c, v in zip(SCENARIO_COLS, r)}
            cur.execute("DELETE FROM scenarios WHERE name = ?", [key])
            bid = bin_put(cur, p, "scenario", key, key, row["created_by"], row["office"], {"scenario": row})
            audit.record(cur, p, "scenario_delete", "scenario", key, before=[row["selection"], row["weights"],
                                                                             row["settings"]], details={"to": "bin"})
        return bid

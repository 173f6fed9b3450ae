"""Store tables for the targets page: official statistics and cached zone statistics.

Own tables in the DuckDB store (``storage.store.Store``), every write one transaction, every
query parameterised:

- ``official_stats_v2(indicator, region, year, value, unit, source, basis, source_url,
  source_date, quote, note, origin, updated_at)``: the official statistics users edit or upload;
  seeded once (only published, cited values, ``origin = seed``) from
  ``tables/official_stats_gansu.csv``. A store made before the statistics had bases and citations has the six-column
  ``official_stats``: its rows the user added are carried over (``origin = user``, they win over a
  seed row of the same indicator, region and year), the two old seed rows are superseded by the
  cited seed; the old table is left as it was.
- ``zone_stats_cache(cache_key, raster_sha256, legend, polygons_key, algo, created_at, n_rows,
  seconds, payload)``: land-cover proxy statistics of one raster content × legend × unit set,
  as Parquet bytes, so a province raster is read once and every later visit reads the store.
"""
from __future__ import annotations

import datetime as dt
import io
import os

import pandas as pd

from storage import audit
from storage.store import Store

STAT_COLUMNS = ("indicator", "region", "year", "value", "unit", "source", "basis", "source_url", "source_date",
                "quote", "note", "origin")
OLD_SEED_SOURCES_PREFIX = ("8th national forest inventory (2009–2013)", "cnfma.com citing People's Daily")
TABLE = "official_stats_v2"



def ensure(store: Store, seed: pd.DataFrame | None = None) -> None:
    """(The tables are the store's: ``storage.migrations``.) Insert ``seed`` once (never again, even if the user empties the table).
    Rows a user added to a pre-issue-13 store are carried over and win over the seed."""
    with store.transaction() as cur:
        seeded = cur.execute("SELECT value FROM stats_meta WHERE key = 'official_seeded_v2'").fetchall()
        if seeded or seed is None:
            return
        old = cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'official_stats'").fetchone()[0]
        user = pd.DataFrame(columns=list(STAT_COLUMNS))
        if old:
            user = cur.execute("SELECT indicator, region, year, value, unit, source FROM official_stats").df()
            user = user[~user["source"].astype(str).str.startswith(OLD_SEED_SOURCES_PREFIX)]
            user = user.assign(basis="", source_url="", source_date="", quote="", note="", origin="user")
        taken = set(zip(user["indicator"], user["region"], user["year"].astype(int)))
        keep = [(i, r, int(y)) not in taken for i, r, y in zip(seed["indicator"], seed["region"], seed["year"])]
        _insert(cur, pd.concat([user, seed[keep]], ignore_index=True) if len(user) else seed[keep])
        cur.execute("INSERT INTO stats_meta VALUES ('official_seeded_v2', ?)", [dt.datetime.now().isoformat()])


def _cell(v) -> str:
    return "" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)


def _insert(cur, df: pd.DataFrame) -> None:
    now = dt.datetime.now()
    d = df.copy()
    for c in STAT_COLUMNS:
        if c not in d.columns:
            d[c] = "user" if c == "origin" else ""
    rows = [(str(r.indicator), str(r.region), int(r.year), float(r.value), _cell(r.unit), str(r.source),
             _cell(r.basis), _cell(r.source_url), _cell(r.source_date), _cell(r.quote), _cell(r.note),
             _cell(r.origin) or "user", now)
            for r in d[list(STAT_COLUMNS)].itertuples(index=False)]
    if rows:
        cur.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def official_stats(store: Store) -> pd.DataFrame:
    df = store.query_df(
        f"SELECT {', '.join(STAT_COLUMNS)} FROM {TABLE} ORDER BY indicator, region, basis, year, source")
    df["year"] = df["year"].astype("int64")
    df["value"] = df["value"].astype("float64")
    for c in STAT_COLUMNS:
        if c not in ("year", "value"):
            df[c] = df[c].map(_cell)
    return df


def replace_official_stats(store: Store, df: pd.DataFrame, *, actor=None) -> None:
    """The whole table becomes ``df`` (already validated), atomically. Official statistics are an
    admin's to change once accounts exist (refused on the server side otherwise); logged."""
    who = store.authorize(actor, "admin", what="official_stats:")
    with store.transaction() as cur:
        cur.execute(f"DELETE FROM {TABLE}")
        _insert(cur, df)
        audit.record(cur, who, "replace", "official_stats", None, None, {"rows": len(df)})


def upsert_official_stats(store: Store, df: pd.DataFrame, *, actor=None) -> int:
    """Add rows; a row with the same (indicator, region, year, basis) replaces the stored ones.
    An admin's change once accounts exist (refused on the server side otherwise); logged."""
    who = store.authorize(actor, "admin", what="official_stats:")
    with store.transaction() as cur:
        audit.record(cur, who, "upsert", "official_stats", None, None, {"rows": len(df)})
        for r in df.itertuples(index=False):
            cur.execute(f"DELETE FROM {TABLE} WHERE indicator = ? AND region = ? AND year = ? AND basis = ?",
                        [str(r.indicator), str(r.region), int(r.year), _cell(getattr(r, "basis", ""))])
        _insert(cur, df)
    return len(df)


# --- zone statistics cache ---------------------------------------------------------------------
def cache_key(raster_sha256: str, legend: str, polygons_key: str, algo: str) -> str:
    return f"{algo}:{legend}:{raster_sha256[:32]}:{polygons_key[:32]}"


def get_zone_stats(store: Store, key: str) -> pd.DataFrame | None:
    df = store.query_df("SELECT payload, seconds, created_at FROM zone_stats_cache WHERE cache_key = ?", [key])
    if df.empty:
        return None
    out = pd.read_parquet(io.BytesIO(bytes(df["payload"].iloc[0])))
    out.attrs["seconds"] = float(df["seconds"].iloc[0])
    out.attrs["created_at"] = str(df["created_at"].iloc[0])
    return out


MAX_CACHE_ENTRIES = int(os.environ.get("GANSU_ZONE_STATS_CACHE_MAX", "64"))


def put_zone_stats(store: Store, key: str, *, raster_sha256: str, legend: str, polygons_key: str,
                   algo: str, seconds: float, df: pd.DataFrame, max_entries: int | None = None) -> None:
    """Store one result; the cache keeps the ``max_entries`` newest results (older rasters,
    legends or unit sets drop out first), in the same transaction."""
    keep = MAX_CACHE_ENTRIES if max_entries is None else max_entries
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    with store.transaction() as cur:
        cur.execute("DELETE FROM zone_stats_cache WHERE cache_key = ?", [key])
        cur.execute("INSERT INTO zone_stats_cache VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [key, raster_sha256, legend, polygons_key, algo, dt.datetime.now(), len(df),
                     float(seconds), buf.getvalue()])
        cur.execute("DELETE FROM zone_stats_cache WHERE cache_key NOT IN (SELECT cache_key FROM zone_stats_cache "
                    "ORDER BY created_at DESC, cache_key LIMIT ?)", [max(1, keep)])

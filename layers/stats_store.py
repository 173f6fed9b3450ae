"""Store tables for the targets page: official statistics and cached zone statistics.

Own tables in the DuckDB store (``layers.store.Store``), every write one transaction, every
query parameterised:

- ``official_stats(indicator, region, year, value, unit, source, updated_at)``: the official
  statistics users edit or upload; seeded once (only published, cited values) from
  ``geodata/official_stats.csv`` the first time the table is created.
- ``zone_stats_cache(cache_key, raster_sha256, legend, polygons_key, algo, created_at, n_rows,
  seconds, payload)``: land-cover proxy statistics of one raster content × legend × unit set,
  as Parquet bytes, so a province raster is read once and every later visit reads the store.
"""
from __future__ import annotations

import datetime as dt
import io
import os

import pandas as pd

from layers.store import Store

STAT_COLUMNS = ("indicator", "region", "year", "value", "unit", "source")

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS stats_meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS official_stats (
        indicator VARCHAR NOT NULL, region VARCHAR NOT NULL, year INTEGER NOT NULL,
        value DOUBLE NOT NULL, unit VARCHAR, source VARCHAR NOT NULL, updated_at TIMESTAMP,
        PRIMARY KEY (indicator, region, year))""",
    """CREATE TABLE IF NOT EXISTS zone_stats_cache (
        cache_key VARCHAR PRIMARY KEY, raster_sha256 VARCHAR, legend VARCHAR, polygons_key VARCHAR,
        algo VARCHAR, created_at TIMESTAMP, n_rows INTEGER, seconds DOUBLE, payload BLOB)""",
]


def ensure(store: Store, seed: pd.DataFrame | None = None) -> None:
    """Create the tables; insert ``seed`` once (never again, even if the user empties the table)."""
    with store.transaction() as cur:
        for stmt in SCHEMA:
            cur.execute(stmt)
        seeded = cur.execute("SELECT value FROM stats_meta WHERE key = 'official_seeded'").fetchall()
        if not seeded and seed is not None:
            _insert(cur, seed)
            cur.execute("INSERT INTO stats_meta VALUES ('official_seeded', ?)", [dt.datetime.now().isoformat()])


def _insert(cur, df: pd.DataFrame) -> None:
    now = dt.datetime.now()
    rows = [(str(r.indicator), str(r.region), int(r.year), float(r.value), str(r.unit), str(r.source), now)
            for r in df[list(STAT_COLUMNS)].itertuples(index=False)]
    if rows:
        cur.executemany("INSERT INTO official_stats VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def official_stats(store: Store) -> pd.DataFrame:
    df = store.query_df(
        "SELECT indicator, region, year, value, unit, source FROM official_stats "
        "ORDER BY indicator, region, year")
    df["year"] = df["year"].astype("int64")
    df["value"] = df["value"].astype("float64")
    return df


def replace_official_stats(store: Store, df: pd.DataFrame) -> None:
    """The whole table becomes ``df`` (already validated), atomically."""
    with store.transaction() as cur:
        cur.execute("DELETE FROM official_stats")
        _insert(cur, df)


def upsert_official_stats(store: Store, df: pd.DataFrame) -> int:
    """Add rows; a row with the same (indicator, region, year) replaces the stored one."""
    with store.transaction() as cur:
        for r in df[list(STAT_COLUMNS)].itertuples(index=False):
            cur.execute("DELETE FROM official_stats WHERE indicator = ? AND region = ? AND year = ?",
                        [str(r.indicator), str(r.region), int(r.year)])
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


def cached_entries(store: Store) -> pd.DataFrame:
    return store.query_df("SELECT cache_key, legend, n_rows, seconds, created_at FROM zone_stats_cache "
                          "ORDER BY created_at DESC")

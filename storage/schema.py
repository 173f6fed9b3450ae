"""The store's tables: the ``CREATE TABLE`` statements run each time a store opens, the migrations
that give a store made before accounts its ownership columns, and the column order of park and
scenario rows (the recycle bin keeps them in that order and puts them back in it)."""
from __future__ import annotations

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS layer_catalog (
        layer_id VARCHAR PRIMARY KEY, title_zh VARCHAR, title_en VARCHAR, kind VARCHAR,
        status VARCHAR, source VARCHAR, licence VARCHAR, year VARCHAR, resolution VARCHAR,
        crs VARCHAR, derivation VARCHAR, n_features INTEGER, updated_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS user_layers (
        upload_id VARCHAR PRIMARY KEY, replaces VARCHAR, name VARCHAR, original_filename VARCHAR,
        source_crs VARCHAR, n_features INTEGER, created_at TIMESTAMP, active BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS user_features (
        upload_id VARCHAR, fid INTEGER, geom GEOMETRY, props JSON)""",
    """CREATE TABLE IF NOT EXISTS parks (
        park_id VARCHAR PRIMARY KEY, name VARCHAR, geom GEOMETRY, attrs JSON, source VARCHAR,
        source_file VARCHAR, source_crs VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS checklist (
        park_id VARCHAR PRIMARY KEY, inputs JSON, updated_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS scenarios (
        name VARCHAR PRIMARY KEY, selection JSON, weights JSON, settings JSON,
        created_at TIMESTAMP, updated_at TIMESTAMP)""",
    # the workspace (storage/workspace.py): the user's own datasets and the data in use
    """CREATE TABLE IF NOT EXISTS datasets (
        dataset_id VARCHAR PRIMARY KEY, role VARCHAR, record JSON, added_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS dataset_features (
        dataset_id VARCHAR, fid INTEGER, kind VARCHAR, geom GEOMETRY, props JSON)""",
    """CREATE TABLE IF NOT EXISTS data_in_use (
        role VARCHAR PRIMARY KEY, dataset_ids JSON, updated_at TIMESTAMP)""",
    # per-park indicator rows keyed by the content hashes of every input (indicators/runs.py)
    """CREATE TABLE IF NOT EXISTS park_results (
        key VARCHAR PRIMARY KEY, row JSON, created_at TIMESTAMP)""",
    # deleted parks, scenarios and datasets wait here until restored or the bin is emptied
    """CREATE TABLE IF NOT EXISTS recycle_bin (
        bin_id VARCHAR PRIMARY KEY, item_type VARCHAR, item_id VARCHAR, name VARCHAR, owner VARCHAR,
        office VARCHAR, deleted_by VARCHAR, deleted_at TIMESTAMP, payload JSON)""",
    # final tables of CLI runs (national parks, zone statistics, years): every version kept
    """CREATE TABLE IF NOT EXISTS result_tables (
        table_id VARCHAR PRIMARY KEY, name VARCHAR, version INTEGER, kind VARCHAR, created_at TIMESTAMP,
        created_by VARCHAR, office VARCHAR, n_rows BIGINT, sha256 VARCHAR, args JSON, data BLOB)""",
]
# ownership of the user's items (stores made before accounts get the columns, empty = admin's)
MIGRATIONS = [f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {col} VARCHAR"
              for table in ("parks", "scenarios", "checklist", "datasets", "user_layers")
              for col in ("created_by", "office")]
PARK_COLS = ("park_id", "name", "geom", "attrs", "source", "source_file", "source_crs", "created_at",
             "updated_at", "created_by", "office")
SCENARIO_COLS = ("name", "selection", "weights", "settings", "created_at", "updated_at", "created_by", "office")

# the targets page's tables (storage/stats_store.py): official statistics and cached zone statistics
STATS_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS stats_meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS official_stats_v2 (
        indicator VARCHAR NOT NULL, region VARCHAR NOT NULL, year INTEGER NOT NULL,
        value DOUBLE NOT NULL, unit VARCHAR, source VARCHAR NOT NULL, basis VARCHAR NOT NULL DEFAULT '',
        source_url VARCHAR, source_date VARCHAR, quote VARCHAR, note VARCHAR, origin VARCHAR,
        updated_at TIMESTAMP, PRIMARY KEY (indicator, region, year, basis, source))""",
    """CREATE TABLE IF NOT EXISTS zone_stats_cache (
        cache_key VARCHAR PRIMARY KEY, raster_sha256 VARCHAR, legend VARCHAR, polygons_key VARCHAR,
        algo VARCHAR, created_at TIMESTAMP, n_rows INTEGER, seconds DOUBLE, payload BLOB)""",
]

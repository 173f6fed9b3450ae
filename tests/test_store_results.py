"""A query's DataFrame looks the same on both back ends: ``storage.pg.Cursor.df()`` gives the dtypes
DuckDB's ``df()`` gives for each SQL type (integers, NULL integers, timestamps and NULL timestamps,
booleans, doubles, text), for rows and for an empty result — so code written against one back end
reads the other's results alike."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from storage import accounts
from storage.accounts import SHELL
from storage.store import Store

PW = "a long enough passphrase 1"


def _fill(s: Store) -> None:
    accounts.add(s, "root", PW, "admin", actor=SHELL)
    pid = s.add_parks(gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(104, 36, 104.1, 36.1)], crs=4326),
                      names=["甲"], source="drawn", actor=SHELL)[0]
    s.save_checklist(pid, {"green_pct": 16.5}, actor=SHELL)
    s.save_scenario("方案", [pid], {"k": 1.0}, {"w": [1]}, actor=SHELL)
    s.put_result_table("t", "zonestats", pd.DataFrame({"a": [1.5]}), actor=SHELL)


def test_query_results_have_duckdbs_dtypes_on_postgresql(tmp_path, pg_cluster):
    url = pg_cluster.new_database("t_result_dtypes")
    duck, pg = Store(tmp_path / "a.duckdb"), Store(url)
    try:
        for s in (duck, pg):
            _fill(s)
        tables = sorted(duck.query_df("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
                        ["table_name"])
        assert {"accounts", "audit_log", "parks", "result_tables", "scenarios"} <= set(tables)
        for t in tables:
            cols = [c for c in duck.query_df(f"SELECT * FROM {t} LIMIT 0").columns if c != "geom"]  # geometry: ST_AsWKB
            for where in ("", " WHERE 1 = 0"):
                sql = f"SELECT {', '.join(cols)} FROM {t}{where}"
                a, b = duck.query_df(sql), pg.query_df(sql)
                assert dict(b.dtypes.astype(str)) == dict(a.dtypes.astype(str)), (sql, a.dtypes, b.dtypes)
                assert isinstance(b.index, pd.RangeIndex) and (len(b) > 0) is (len(a) > 0), sql
        # by hand: the columns of an account as DuckDB types them, NULLs included
        row = pg.query_df("SELECT failed, locked_until, last_login, disabled, created_at FROM accounts")
        assert dict(row.dtypes.astype(str)) == {"failed": "int32", "locked_until": "datetime64[us]",
                                               "last_login": "datetime64[us]", "disabled": "bool",
                                               "created_at": "datetime64[us]"}
        assert pd.isna(row["locked_until"].iloc[0]) and int(row["failed"].iloc[0]) == 0
        nulls = pg.query_df("SELECT CAST(NULL AS INTEGER) AS i, CAST(NULL AS BOOLEAN) AS b, "
                            "CAST(NULL AS VARCHAR) AS v, sum(n_rows) AS total FROM result_tables")
        assert dict(nulls.dtypes.astype(str)) == {"i": "Int32", "b": "boolean", "v": "object", "total": "float64"}
        assert nulls["total"].iloc[0] == 1.0  # sum of a BIGINT: numeric on PostgreSQL, a float as on DuckDB
    finally:
        duck.close()
        pg.close()
        pg_cluster.drop_database("t_result_dtypes")

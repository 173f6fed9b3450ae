"""The store itself, from the server's shell:

    gansu store copy SRC DST        # DuckDB file ⇄ postgresql://… (DST must be a new store), rows checked
    gansu store grant ROLE          # PostgreSQL: the dashboard's role may not change the audit log
    gansu store info                # back end, schema migrations applied, rows per table

SRC, DST: a DuckDB file or a ``postgresql://`` URL (``GANSU_STORE`` is the default SRC of ``info``
and ``grant``). The shell acts as an admin, as in ``gansu admin``. Errors: exit 2, English and
Chinese. A password in a URL is never printed (``storage.pg.redacted``).
"""
from __future__ import annotations

import argparse
import sys

from core import paths
from core.errors import GansuError, InputError
from storage import migrations, pg, store_copy
from storage.accounts import SHELL
from storage.store import Store


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gansu store", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("copy", help="copy every table of SRC into the new store DST, every row checked")
    c.add_argument("src")
    c.add_argument("dst")
    g = sub.add_parser("grant", help="PostgreSQL: give an existing role what the dashboard needs, the audit "
                                     "log insert-only")
    g.add_argument("role")
    sub.add_parser("info", help="the back end, its schema migrations and rows per table")
    return p


def _open(location) -> Store:
    return Store(location)


def main(argv: list[str]) -> int:
    a = build_parser().parse_args(argv)
    try:
        if a.command == "copy":
            if str(a.src) == str(a.dst):
                raise InputError("源与目标是同一个存储。", "the source and the destination are the same store.")
            src = _open(a.src)
            try:
                dst = _open(a.dst)
                try:
                    digests = store_copy.copy(src, dst, actor=SHELL)
                finally:
                    dst.close()
            finally:
                src.close()
            n = sum(r for r, _h in digests.values())
            print(f"copied {len(digests)} tables, {n} rows: {src.label} → {dst.label}; every table's SHA-256 "
                  f"matches\n已复制 {len(digests)} 张表、{n} 行：{src.label} → {dst.label}；每张表的 SHA-256 一致")
            print(store_copy.summary(digests))
            return 0
        s = _open(paths.store_path())
        try:
            if a.command == "grant":
                if s.backend != "postgresql":
                    raise InputError("grant 只用于 PostgreSQL 存储（GANSU_STORE=postgresql://…）。",
                                     "grant is for a PostgreSQL store (GANSU_STORE=postgresql://…).")
                try:
                    stmts = pg.grant_statements(a.role)
                except ValueError:
                    raise InputError(f"角色名 {a.role!r} 无效（小写字母、数字、下划线）。",
                                     f"not a plain role name: {a.role!r} (lower-case letters, digits, _).") from None
                s.authorize(SHELL, "admin", what="store:grant")
                with s.transaction() as cur:
                    for stmt in stmts:
                        cur.execute(stmt)
                print(f"role {a.role}: every table, the audit log insert-only ({s.label})\n"
                      f"角色 {a.role}：可读写各表，审计日志只能追加（{s.label}）")
                return 0
            done = s.query_df("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
            print(f"store: {s.label} ({s.backend}); migrations {list(done['version'])} of "
                  f"{[m.version for m in migrations.MIGRATIONS if s.backend in m.backends]}")
            with s.transaction() as cur:
                for t in store_copy.tables():
                    n = cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    print(f"  {t}: {n}")
            return 0
        finally:
            s.close()
    except GansuError as exc:
        print(f"error: {exc.en}\n错误：{exc.zh}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

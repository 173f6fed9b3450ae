"""A throw-away PostgreSQL + PostGIS cluster: for the tests (``tests/conftest.py`` starts one per test
worker), the benchmarks, and trying the PostgreSQL back end on a laptop::

    python -m storage.pgcluster start /tmp/gansu-pg     # prints the GANSU_STORE URL
    python -m storage.pgcluster stop /tmp/gansu-pg

It lives in a folder of its own, listens on a Unix socket in that folder only (no TCP port), trusts
local connections (it is reachable only through that socket, whose folder is owner-only) and is
deleted by ``stop``. The server programs come from Debian's ``postgresql-15`` and
``postgresql-15-postgis-3`` (``make test`` installs them). PostgreSQL refuses to run as root: as
root the cluster is made and run by the ``postgres`` system user, who then owns the folder.

Not for production: a real deployment uses the department's PostgreSQL (docs/deploy.md).
May import: ``core`` only.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from core.errors import GansuError

SUPERUSER = "gansu"
TEMPLATE = "gansu_template"  # a database with PostGIS, copied for each new database


class ClusterError(GansuError):
    """The throw-away cluster cannot be made or started: (zh, en)."""


def bindir() -> Path:
    """The newest installed PostgreSQL server's programs (initdb, pg_ctl, postgres)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        raise ClusterError("未安装 PostgreSQL 服务器：sudo apt-get install postgresql-15 postgresql-15-postgis-3（make test 会自动安装）。",
                           "the PostgreSQL server is not installed: sudo apt-get install postgresql-15 "
                           "postgresql-15-postgis-3 (make test installs it).")
    return Path(found[-1]).parent


def postgis_installed() -> bool:
    return bool(glob.glob("/usr/share/postgresql/*/extension/postgis.control"))


@dataclass(frozen=True)
class Cluster:
    folder: Path

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        return self.folder

    def url(self, database: str = "gansu") -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def _run(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:  # PostgreSQL refuses root: run its programs as the postgres user
            args = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(args, capture_output=True, text=True, **kw)

    def start(self) -> "Cluster":
        if not postgis_installed():
            raise ClusterError("未安装 PostGIS：sudo apt-get install postgresql-15-postgis-3（make test 会自动安装）。",
                               "PostGIS is not installed: sudo apt-get install postgresql-15-postgis-3 (make test "
                               "installs it).")
        b = bindir()
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.folder, pw.pw_uid, pw.pw_gid)
        if not (self.data / "PG_VERSION").exists():
            r = self._run([str(b / "initdb"), "-D", str(self.data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8",
                           "--locale=C.UTF-8", "--no-sync"])
            if r.returncode:
                raise ClusterError(f"initdb 失败：{r.stderr.strip()}", f"initdb failed: {r.stderr.strip()}")
        if self._run([str(b / "pg_ctl"), "-D", str(self.data), "status"]).returncode == 0:
            return self  # already running (started earlier from this folder)
        opts = (f"-k {self.socket_dir} -c listen_addresses='' -c fsync=on -c max_connections=60 "
                "-c shared_buffers=32MB")
        r = self._run([str(b / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.folder / "server.log"),
                       "-w", "-t", "60", "start"])
        if r.returncode:
            log = (self.folder / "server.log").read_text(errors="replace")[-2000:] if (self.folder / "server.log").exists() else ""
            raise ClusterError(f"PostgreSQL 无法启动：{r.stderr.strip()} {log}", f"PostgreSQL did not start: {r.stderr.strip()} {log}")
        if not self.sql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{TEMPLATE}'"):
            self.sql("postgres", f"CREATE DATABASE {TEMPLATE}")
            self.sql(TEMPLATE, "CREATE EXTENSION IF NOT EXISTS postgis")
        return self

    def sql(self, database: str, statement: str) -> list[tuple]:
        import psycopg  # start-up time: only the PostgreSQL tests and benchmarks load it

        with psycopg.connect(self.url(database), autocommit=True) as con:
            cur = con.execute(statement)
            return cur.fetchall() if cur.description else []

    def new_database(self, name: str) -> str:
        """A new, empty database with PostGIS (a copy of the template); returns its URL."""
        self.sql("postgres", f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.sql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self, delete: bool = True) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([str(bindir() / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        if delete:
            shutil.rmtree(self.folder, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python -m storage.pgcluster start|stop FOLDER", file=sys.stderr)
        return 2
    c = Cluster(Path(argv[1]).resolve())
    try:
        if argv[0] == "start":
            c.start()
            if not c.sql("postgres", "SELECT 1 FROM pg_database WHERE datname = 'gansu'"):
                c.new_database("gansu")
            print(c.url("gansu"))
        else:
            c.stop()
    except GansuError as e:
        print(f"{e.zh}\n{e.en}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

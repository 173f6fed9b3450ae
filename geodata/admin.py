"""Server administration from the shell: accounts (the first admin included) and the audit log.

    python -m geodata.admin accounts add NAME --role admin|editor|viewer [--office X]   # password on stdin
    python -m geodata.admin accounts list
    python -m geodata.admin accounts disable|enable|unlock NAME
    python -m geodata.admin accounts reset NAME          # new password on stdin
    python -m geodata.admin accounts role NAME --role editor [--office X]
    python -m geodata.admin audit [--limit 50] [--out audit.csv]

The password is read from standard input (one line; typed without echo on a terminal), never from
the command line (it would stay in the shell history and the process list). The shell acts as an
admin: whoever can run it on the server can read the store file anyway. ``GANSU_STORE`` is
followed. DuckDB allows one writer: stop the dashboard first, or this exits 2 saying the store is
in use. Errors: exit 2, message in English and Chinese.
"""
from __future__ import annotations

import argparse
import getpass
import sys

from core import paths
from core.errors import GansuError
from layers import accounts, audit
from layers.accounts import SHELL


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m geodata.admin", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="area", required=True)
    acc = sub.add_parser("accounts", help="manage accounts")
    asub = acc.add_subparsers(dest="command", required=True)
    add = asub.add_parser("add", help="create an account (password on stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=accounts.ROLES)
    add.add_argument("--office", default=None)
    asub.add_parser("list", help="list accounts")
    for cmd in ("disable", "enable", "unlock", "reset"):
        asub.add_parser(cmd).add_argument("name")
    role = asub.add_parser("role", help="change an account's role or office")
    role.add_argument("name")
    role.add_argument("--role", required=True, choices=accounts.ROLES)
    role.add_argument("--office", default=None)
    au = sub.add_parser("audit", help="print or export the audit log")
    au.add_argument("--limit", type=int, default=50)
    au.add_argument("--out", default=None, help="write CSV here")
    return p


def _password(prompt: str) -> str:
    if sys.stdin.isatty():
        pw = getpass.getpass(prompt)
        if getpass.getpass("again / 再次输入: ") != pw:
            raise GansuError("两次输入的密码不一致。", "the two passwords differ.")
        return pw
    return sys.stdin.readline().rstrip("\r\n")


def _store():
    from layers.store import Store

    return Store(paths.store_path())


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    try:
        s = _store()
        if a.area == "audit":
            df = audit.rows(s, limit=a.limit)
            if a.out:
                df.to_csv(a.out, index=False)
                print(f"wrote {len(df)} rows to {a.out}")
            else:
                print(df.drop(columns=["details"]).to_string(index=False))
            return 0
        if a.command == "add":
            accounts.add(s, a.name, _password("password / 密码: "), a.role, office=a.office, actor=SHELL)
            print(f"added {a.name} ({a.role})")
        elif a.command == "list":
            print(accounts.list_accounts(s).to_string(index=False))
        elif a.command in ("disable", "enable"):
            accounts.set_disabled(s, a.name, a.command == "disable", actor=SHELL)
            print(f"{a.command}d {a.name}")
        elif a.command == "unlock":
            accounts.unlock(s, a.name, actor=SHELL)
            print(f"unlocked {a.name}")
        elif a.command == "reset":
            accounts.reset_password(s, a.name, _password("new password / 新密码: "), actor=SHELL)
            print(f"password of {a.name} reset")
        elif a.command == "role":
            accounts.set_role(s, a.name, a.role, office=a.office, actor=SHELL)
            print(f"{a.name}: {a.role}")
        return 0
    except GansuError as e:
        print(f"error: {e.en}\n错误：{e.zh}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

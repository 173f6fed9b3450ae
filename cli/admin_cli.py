"""Server administration from the shell: accounts (the first admin included) and the audit log.

    python -m cli admin accounts add NAME --role admin|editor|viewer [--office X]   # password on stdin
    python -m cli admin accounts list
    python -m cli admin accounts disable|enable|unlock NAME
    python -m cli admin accounts reset NAME          # new password on stdin
    python -m cli admin accounts role NAME --role editor [--office X]
    python -m cli admin accounts recovery-code NAME [--minutes 30]   # works while the dashboard runs
    python -m cli admin audit [--limit 50] [--out audit.csv]
    python -m cli admin audit verify                 # check the hash chain, print the head hash

The password is read from standard input (one line; typed without echo on a terminal), never from
the command line (it would stay in the shell history and the process list). The shell acts as an
admin: whoever can run it on the server can read the store file anyway. ``GANSU_STORE`` is
followed. DuckDB allows one writer: stop the dashboard first, or this exits 2 saying the store is
in use — except ``recovery-code``: it writes a one-time code beside the store (``storage.recovery``)
that unlocks NAME with a new password at the sign-in form, so a locked-out admin needs no downtime.
Files this command creates are owner-only (umask 077). Errors: exit 2, message in English and
Chinese. ``audit verify`` exits 1 when the chain is broken. Every cell printed from the store shows
control characters escaped (``terminal_text``): a name typed at the sign-in form can hold ESC
sequences or bidi overrides.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
import unicodedata

from core import paths
from core.errors import GansuError
from core.spreadsheet import formula_safe_frame
from storage import accounts, audit, recovery
from storage.accounts import SHELL
from storage.db import StoreLocked
from storage.store import Store


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gansu admin", description=__doc__.split("\n\n")[0])
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
    rc = asub.add_parser("recovery-code", help="print a one-time code that unlocks NAME at the sign-in form "
                                               "(works while the dashboard runs)")
    rc.add_argument("name")
    rc.add_argument("--minutes", type=float, default=recovery.DEFAULT_MINUTES, help="how long the code is valid")
    au = sub.add_parser("audit", help="print or export the audit log; 'verify' checks its hash chain")
    au.add_argument("check", nargs="?", choices=("show", "verify"), default="show")
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


def terminal_text(value) -> str:
    """``value`` as one safe line for a terminal: C0/C1 control characters (ESC, BEL, CSI …), DEL,
    line breaks, bidi overrides and other invisible format characters are shown escaped (``\\x1b``,
    ``\\u202e``), a backslash doubled so an escape cannot be faked."""
    out = []
    for ch in str(value):
        if ch == "\\":
            out.append("\\\\")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            o = ord(ch)
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
        else:
            out.append(ch)
    return "".join(out)


def _safe(df):
    """A copy of ``df`` with every text cell passed through ``terminal_text``."""
    out = df.copy()
    for c in out.columns:
        out[c] = [terminal_text(v) if isinstance(v, str) else v for v in out[c]]
    return out


def _store():
    return Store(paths.store_path())


def _recovery_code(name: str, minutes: float) -> int:
    """Check the name when the store can be opened; while the dashboard holds it, the sign-in form
    checks it when the code is used."""
    try:
        s = _store()
    except StoreLocked:
        acc, held = None, True
    else:
        acc, held = accounts.get(s, name), False
        s.close()
        if acc is None:
            raise GansuError(f"没有账户“{name}”。", f"no account '{name}'.")
        if acc["source"] != "password":
            raise GansuError(f"“{name}”是单点登录身份，没有密码。", f"'{name}' is a single sign-on identity: it has no password.")
        if acc["disabled"]:
            raise GansuError(f"账户“{name}”已停用：请先启用（accounts enable）。",
                             f"the account '{name}' is disabled: enable it first (accounts enable).")
    code = recovery.issue(paths.store_path(), name, minutes)
    print(f"recovery code for '{terminal_text(name)}' (valid for {minutes:g} minutes, once):\n"
          f"“{terminal_text(name)}”的恢复码（{minutes:g} 分钟内有效，仅可使用一次）：\n\n    {code}\n\n"
          "On the sign-in page open \"Locked out? Use a recovery code\" and enter the name, this code and a new "
          "password.\n在登录页打开“账户被锁定？使用恢复码”，输入账户名、此恢复码和新密码。")
    if held:
        print("(the dashboard holds the store: the name is checked when the code is used)\n"
              "（看板正在使用存储：账户名将在使用恢复码时核对）")
    return 0


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    os.umask(0o077)  # a store, WAL or recovery code created here: owner only
    if a.area == "accounts" and a.command == "recovery-code":
        return _recovery_code(a.name, a.minutes)
    s = _store()
    if a.area == "audit":
        if a.check == "verify":
            v = audit.verify(s)
            print(f"{v.message.en}\n{v.message.zh}")
            if v.chained_from and v.chained_from > 1:
                print(f"rows before seq {v.chained_from} were chained when the chain was introduced\n"
                      f"第 {v.chained_from} 行之前的记录在引入哈希链时一次性链接")
            print(f"head / 链头: {v.head}")
            return 0 if v.ok else 1
        df = audit.rows(s, limit=a.limit)
        if a.out:
            formula_safe_frame(df).to_csv(a.out, index=False, lineterminator="\r\n")  # no cell starts a formula
            print(f"wrote {len(df)} rows to {a.out}")
        else:
            print(_safe(df.drop(columns=["details"])).to_string(index=False))
        return 0
    if a.command == "add":
        accounts.add(s, a.name, _password("password / 密码: "), a.role, office=a.office, actor=SHELL)
        print(f"added {a.name} ({a.role})")
    elif a.command == "list":
        print(_safe(accounts.list_accounts(s)).to_string(index=False))
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

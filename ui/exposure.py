"""Who can reach this server, and whether that is safe: with no account in the store everyone acts
as an admin (single-user mode, meant for a laptop), so that must not be offered to a network by
accident.

- ``ui.serve`` (``make run``) listens on 127.0.0.1 unless ``--server.address`` (or
  ``STREAMLIT_SERVER_ADDRESS``) says otherwise; ``.streamlit/config.toml`` says 127.0.0.1 too.
- On any other address (``0.0.0.0``, a LAN address, unset = every interface) with no account in
  the store, ``ui.serve`` refuses to start (exit 2) and says how to create the first admin — unless
  ``GANSU_SINGLE_USER=1`` says single-user mode on the network is meant: then the console and every
  page warn that anyone who reaches the server is an admin.
- A server started around ``ui.serve`` (plain ``streamlit run`` on such an address) serves no page
  in that situation: every page shows the refusal instead (``ui.auth.gate``).
- Listening on 127.0.0.1 behind a reverse proxy (the recommended deployment) puts the server on the
  network all the same: with no account, a visit that looks proxied — a ``Forwarded``,
  ``X-Forwarded-For``/``-Host``/``-Proto``, ``X-Real-IP`` or ``Via`` header, or a ``Host`` that is
  not ``localhost`` or a loopback address (``remote_visit``) — gets no page either, unless
  ``GANSU_SINGLE_USER=1`` (then the warning). The headers only ever *add* a refusal: a visitor
  cannot use them to be let in.
"""
from __future__ import annotations

import functools
import ipaddress
import os
import re
import socket
from pathlib import Path

from core.text import Text
from storage import accounts, pg
from storage.db import StoreError
from storage.store import Store


def anonymous_view() -> bool:
    """``GANSU_ANONYMOUS_VIEW=1``: with accounts, a visitor who has not signed in may still look."""
    return os.environ.get("GANSU_ANONYMOUS_VIEW", "0").strip().lower() in ("1", "true", "yes", "on")

ADDRESS_FLAG = "--server.address"
ADMIN_CMD_ZH = "python -m cli admin accounts add <账户名> --role admin"
ADMIN_CMD_EN = "python -m cli admin accounts add <name> --role admin"


def bind_address(args: list[str], env=os.environ) -> str | None:
    """The address Streamlit will listen on for these options: the last ``--server.address``,
    else ``STREAMLIT_SERVER_ADDRESS``, else None (every interface)."""
    found = None
    for i, a in enumerate(args):
        if a == ADDRESS_FLAG and i + 1 < len(args):
            found = args[i + 1]
        elif a.startswith(ADDRESS_FLAG + "="):
            found = a.split("=", 1)[1]
    return found if found is not None else env.get("STREAMLIT_SERVER_ADDRESS")


@functools.lru_cache(maxsize=64)
def is_loopback(address: str | None) -> bool:
    """Only this machine can connect: 127.0.0.0/8, ::1, or a host name that resolves to those only."""
    addr = (address or "").strip().strip("[]")
    if not addr:
        return False  # unset or empty: Streamlit listens on every interface
    try:
        return ipaddress.ip_address(addr.split("%")[0]).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(addr, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos)


def single_user_explicit(env=os.environ) -> bool:
    return str(env.get("GANSU_SINGLE_USER", "")).strip().lower() in ("1", "true", "yes", "on")


def _where(address: str | None) -> tuple[str, str]:
    return (address, address) if address else ("所有网络接口", "every network interface")


def refusal(address: str | None, store_path=None) -> Text:
    """Why the server does not serve; ``store_path`` on the console only (pages do not show server paths)."""
    zh, en = _where(address)
    pz, pe = (f" {store_path} ", f" {store_path}") if store_path else ("", "")
    return Text(
        f"拒绝启动：看板将在 {zh} 上监听（其他计算机可以访问），但存储{pz}中没有任何账户——"
        f"每个访问者都将拥有管理员权限（可更改并永久删除数据）。\n"
        f"请先创建第一个管理员账户（密码从标准输入读取）：\n    {ADMIN_CMD_ZH}\n"
        f"或只在本机监听（去掉 --server.address，默认 127.0.0.1）；若确实要在网络上以单用户模式运行"
        f"（无需登录，人人都是管理员），请设置 GANSU_SINGLE_USER=1。",
        f"refusing to start: the dashboard would listen on {en} (reachable from other computers), but the "
        f"store{pe} has no account — every visitor would act as an admin (change and permanently "
        f"delete data).\nCreate the first admin account first (the password is read from standard input):\n"
        f"    {ADMIN_CMD_EN}\nor listen on this machine only (drop --server.address; the default is 127.0.0.1). "
        f"To run single-user on the network on purpose (no sign-in, everyone an admin), set GANSU_SINGLE_USER=1.")


def warning(address: str | None, via: Text | None = None) -> Text:
    zh, en = _where(address)
    vz, ve = (f"（本次访问{via.zh}）", f" (this visit: {via.en})") if via is not None else ("", "")
    return Text(
        f"单用户模式（GANSU_SINGLE_USER=1），在 {zh} 上监听{vz}：任何人只要能访问本服务器，无需登录即可作为管理员"
        f"更改并永久删除数据。要启用账户，请在服务器上创建第一个管理员：{ADMIN_CMD_ZH}",
        f"Single-user mode (GANSU_SINGLE_USER=1) on {en}{ve}: anyone who can reach this server changes and "
        f"permanently deletes data as an admin, without signing in. To turn accounts on, create the first "
        f"admin on the server: {ADMIN_CMD_EN}")


# headers a reverse proxy adds (any of them: the visit was forwarded from another computer)
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP", "Via")
_SHOWN_HOST = re.compile(r"[A-Za-z0-9.-]{1,100}|[0-9A-Fa-f:.]{2,45}")  # a name or an address: safe in a message


def _host_part(host: str) -> str:
    """``name:port`` → name, ``[::1]:port`` → ::1, a bare IPv6 address as it is."""
    h = host.strip()
    if h.startswith("["):
        return h[1:].split("]", 1)[0]
    return h.split(":", 1)[0] if h.count(":") == 1 else h


def remote_visit(headers) -> Text | None:
    """Why a request (its headers: any mapping, names in any letter case) looks like it comes from
    another computer — a proxy header, or a Host that is not ``localhost`` or a loopback address —
    or None for a visit from this machine (no Host at all: not a browser, nothing to tell)."""
    low = {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}
    for name in PROXY_HEADERS:
        if name.lower() in low:
            return Text(f"经反向代理转发：请求头 {name}", f"forwarded by a reverse proxy: request header {name}")
    if "host" not in low:
        return None
    h = _host_part(low["host"])
    if h.lower() == "localhost" or h.lower().endswith(".localhost"):
        return None
    try:
        if ipaddress.ip_address(h.split("%")[0]).is_loopback:
            return None
    except ValueError:
        pass
    shown = h if _SHOWN_HOST.fullmatch(h) else "?"
    return Text(f"请求的主机名为 {shown}，不是本机的回环地址（经反向代理或从其他计算机访问）",
                f"the request names the host {shown}, not this machine's loopback address (through a reverse "
                "proxy, or from another computer)")


def proxied_refusal(why: Text) -> Text:
    """No page for a visit from another computer while the store has no account (``remote_visit``)."""
    return Text(
        f"不提供页面：本次访问来自其他计算机（{why.zh}），但存储中没有任何账户——每个访问者都将拥有管理员权限"
        f"（可更改并永久删除数据）。看板虽只在本机地址上监听，经反向代理后网络上的任何人都能访问它。\n"
        f"请先在服务器上创建第一个管理员账户（密码从标准输入读取）：\n    {ADMIN_CMD_ZH}\n"
        f"若确实要经代理以单用户模式提供（无需登录，人人都是管理员），请设置 GANSU_SINGLE_USER=1。",
        f"no page is served: this visit comes from another computer ({why.en}), but the store has no account — "
        f"every visitor would act as an admin (change and permanently delete data). The dashboard listens on "
        f"this machine's address only, but through a reverse proxy anyone on the network reaches it.\n"
        f"Create the first admin account on the server first (the password is read from standard input):\n"
        f"    {ADMIN_CMD_EN}\nTo serve single-user mode through the proxy on purpose (no sign-in, everyone an "
        f"admin), set GANSU_SINGLE_USER=1.")


def _has_account(store_path) -> bool:
    if not pg.is_url(store_path) and not Path(store_path).exists():
        return False
    s = Store(store_path)
    try:
        return accounts.any_account(s)
    finally:
        s.close()


def startup_check(address: str | None, store_path, env=os.environ) -> tuple[str, Text] | None:
    """None: start. ``("warn", text)``: start, and say it. ``("refuse", text)``: do not start."""
    if is_loopback(address):
        return None
    try:
        if _has_account(store_path):
            return None
    except StoreError as e:  # cannot tell (locked by another process, damaged): do not guess
        return "refuse", Text(f"无法确认存储中是否有账户：{e.zh}", f"cannot tell whether the store has accounts: {e.en}")
    if single_user_explicit(env):
        return "warn", warning(address)
    return "refuse", refusal(address, store_path)

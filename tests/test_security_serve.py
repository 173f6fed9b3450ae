"""Safe by default: the dashboard listens on this machine only unless told otherwise, and a server
reachable from the network with no account (where everyone would act as admin) refuses to start
unless single-user mode is said to be meant (``GANSU_SINGLE_USER=1``) — then every page says so.

Real server processes (``python -m ui.serve``) on free ports; the bound sockets are read from the
kernel (``/proc/net/tcp*``), not inferred from the arguments."""
from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from storage import accounts
from storage.accounts import SHELL
from storage.store import Store
from tests.browser.harness import free_port
from ui.serve import streamlit_args

REPO = Path(__file__).resolve().parent.parent
PW = "Passwort-fuer-Tests-1"
linux_only = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads the kernel's socket table")


def _listening(port: int) -> set[str]:
    """Addresses with a listening TCP socket on ``port`` (IPv4 and IPv6), from the kernel's tables."""
    out = set()
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if state != "0A" or int(p, 16) != port:  # 0A = LISTEN
                continue
            raw = bytes.fromhex(addr)
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # 32-bit words, host order
            out.add(str(ipaddress.ip_address(raw)))
    return out


def _other_addresses() -> list[str]:
    """This machine's non-loopback addresses (``hostname -I``; may be none in a network namespace)."""
    try:
        words = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=10).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return []
    return [w for w in words if not ipaddress.ip_address(w.split("%")[0]).is_loopback]


def _serve(args: list[str], store: Path, **env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ui.serve", "--server.headless", "true",
                             "--server.fileWatcherType", "none", *args], cwd=REPO,
                            env={**os.environ, "GANSU_STORE": str(store), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        return proc.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.communicate()[0]


def _wait_healthy(proc: subprocess.Popen, port: int, timeout: float = 120) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            time.sleep(0.3)  # polling the server's health: waiting on its state
    return False


@pytest.mark.parametrize("argv,expected", [
    ([], "127.0.0.1"),  # nothing said: this machine only
    (["--server.address", "0.0.0.0"], "0.0.0.0"),  # the caller's choice is kept, not doubled
    (["--server.address=10.1.2.3"], None),
])
def test_serve_binds_to_loopback_unless_told_otherwise(argv, expected):
    args = streamlit_args(argv)
    named = [a for a in args if a.startswith("--server.address")]
    assert len(named) == 1, args
    if expected is not None:
        assert args[args.index("--server.address") + 1] == expected
    from ui import exposure  # the same reading of the arguments decides the start-up check

    assert exposure.bind_address(args[3:]) == (expected or "10.1.2.3")


@linux_only
def test_the_server_listens_on_loopback_only_and_keeps_its_files_private(tmp_path):
    port = free_port()
    proc = _serve(["--server.port", str(port)], tmp_path / "store.duckdb")
    try:
        assert _wait_healthy(proc, port), "ui.serve did not come up"
        bound = _listening(port)
        assert bound and all(ipaddress.ip_address(a).is_loopback for a in bound), bound
        for addr in _other_addresses():  # and nobody else gets an answer
            with socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET) as sock:
                sock.settimeout(3)
                assert sock.connect_ex((addr, port)) != 0, f"the dashboard answers on {addr}"
        umask = [ln.split()[1] for ln in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                 if ln.startswith("Umask:")]
        assert umask == ["0077"], umask  # files the server creates (store, WAL, uploads): owner only
    finally:
        _stop(proc)


def test_a_network_address_without_any_account_refuses_to_start(tmp_path):
    port = free_port()
    proc = _serve(["--server.address", "0.0.0.0", "--server.port", str(port)], tmp_path / "store.duckdb")
    try:
        code = proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        code = None
    out = _stop(proc)
    assert code == 2, f"ui.serve started on 0.0.0.0 with no account:\n{out[-2000:]}"
    assert "python -m cli admin accounts add" in out and "--role admin" in out
    assert "GANSU_SINGLE_USER=1" in out and "0.0.0.0" in out
    assert "没有任何账户" in out and "no account" in out  # both languages
    assert not _listening(port)


def test_the_start_check_decides_from_the_address_the_accounts_and_the_explicit_mode(tmp_path):
    from ui import exposure

    store = tmp_path / "s.duckdb"
    assert exposure.startup_check("127.0.0.1", store, {}) is None  # a laptop: nothing to say
    assert exposure.startup_check("localhost", store, {}) is None
    assert exposure.startup_check("::1", store, {}) is None
    for addr in ("0.0.0.0", "", None, "192.0.2.7", "::"):
        kind, msg = exposure.startup_check(addr, store, {})
        assert kind == "refuse" and "python -m cli admin accounts add" in msg.en, addr
    kind, msg = exposure.startup_check("0.0.0.0", store, {"GANSU_SINGLE_USER": "1"})
    assert kind == "warn" and "anyone" in msg.en and "任何人" in msg.zh
    s = Store(store)
    accounts.add(s, "root", PW, "admin", actor=SHELL)
    s.close()
    assert exposure.startup_check("0.0.0.0", store, {}) is None  # accounts: every change needs a sign-in


def _gate_then_marker():
    import streamlit as st

    from ui import auth, common

    auth.gate(common.lang())
    st.markdown("PAGE CONTENT")


def _gate_on(address: str) -> AppTest:
    """The gate and a marker page run as if Streamlit listened on ``address``."""
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", address)
    try:
        at = AppTest.from_function(_gate_then_marker, default_timeout=120)
        at.session_state["lang"] = "en"
        at.run()
    finally:
        st_config.set_option("server.address", before)
    return at


@pytest.mark.parametrize("single_user", ["1", "0"])
def test_pages_warn_or_refuse_when_a_network_address_has_no_account(dataset, tmp_path, monkeypatch, single_user):
    monkeypatch.setenv("GANSU_STORE", str(tmp_path / "single.duckdb"))
    monkeypatch.setenv("GANSU_SINGLE_USER", single_user)
    at = _gate_on("0.0.0.0")
    assert not at.exception, [e.value for e in at.exception]
    shown = "PAGE CONTENT" in [m.value for m in at.markdown]
    if single_user == "1":  # explicit: served, with a warning on every page
        assert shown and any("anyone who can reach" in w.value for w in at.warning), [w.value for w in at.warning]
    else:  # started around ui.serve (plain `streamlit run`): nothing served
        assert not shown and any("python -m cli admin accounts add" in e.value for e in at.error)


def test_pages_on_loopback_need_no_warning(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("GANSU_STORE", str(tmp_path / "single.duckdb"))
    at = _gate_on("127.0.0.1")
    assert "PAGE CONTENT" in [m.value for m in at.markdown] and not at.warning and not at.error


# --- review of the fixes: single-user mode behind a reverse proxy on this machine -------------------
GATE_APP = '''import streamlit as st

from ui import auth, common

auth.gate(common.lang())
st.markdown("PAGE CONTENT")
'''


def _visit(port: int, headers: dict, host: str | None = None) -> list[tuple[str, str]]:
    """One browser visit over Streamlit's WebSocket (``headers`` sent with the handshake, as a
    reverse proxy forwards them; ``host``: the Host header, the connection still goes to
    127.0.0.1): the (kind, text) of every Markdown and alert element of the first run."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    texts = []
    with connect(f"ws://{host or '127.0.0.1'}:{port}/_stcore/stream", sock=sock, subprotocols=["streamlit"],
                 additional_headers=headers, open_timeout=30) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = "lang=en"
        msg.rerun_script.page_script_hash = ""
        ws.send(msg.SerializeToString())
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(ws.recv(timeout=120))
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                if el.WhichOneof("type") == "markdown":
                    texts.append(("markdown", el.markdown.body))
                elif el.WhichOneof("type") == "alert":
                    texts.append(("alert", el.alert.body))
            if kind == "script_finished":
                return texts


@pytest.mark.parametrize("single_user", ["0", "1"])
def test_a_proxied_visit_to_a_loopback_server_with_no_account_is_refused_or_warned(tmp_path, single_user):
    """The recommended deployment (127.0.0.1 + a reverse proxy) with no account yet: a visit that
    arrives through the proxy (X-Forwarded-For, Forwarded, or a Host that is not this machine's
    loopback name) comes from another computer and must not be served as an admin — unless
    GANSU_SINGLE_USER=1, then with the warning. A visit from this machine is served as before."""
    app = tmp_path / "gate_app.py"
    app.write_text(GATE_APP, encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
                            cwd=REPO, env={**os.environ, "GANSU_STORE": str(tmp_path / "empty.duckdb"),
                                           "GANSU_SINGLE_USER": single_user, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert _wait_healthy(proc, port), "streamlit did not come up"
        assert _visit(port, {}) == [("markdown", "PAGE CONTENT")]  # this machine: no warning needed
        for headers, host in (({"X-Forwarded-For": "203.0.113.9"}, None),
                              ({"Forwarded": "for=203.0.113.9;proto=https"}, None),
                              ({}, "dashboard.example.gov.cn")):
            shown = _visit(port, headers, host)
            alerts = " ".join(text for kind, text in shown if kind == "alert")
            served = ("markdown", "PAGE CONTENT") in shown
            if single_user == "1":
                assert served and "anyone who can reach" in alerts, (headers, host, shown)
            else:
                assert not served and "python -m cli admin accounts add" in alerts, (headers, host, shown)
                assert "reverse proxy" in alerts
    finally:
        _stop(proc)


def test_what_makes_a_visit_look_proxied():
    from ui import exposure

    for local in ({}, {"host": "localhost:8501"}, {"Host": "127.0.0.1:8501"}, {"host": "[::1]:8501"},
                  {"host": "127.0.0.2"}, {"host": "LOCALHOST"}):
        assert exposure.remote_visit(local) is None, local
    for remote, why in (({"X-Forwarded-For": "10.0.0.8"}, "X-Forwarded-For"), ({"forwarded": "for=10.0.0.8"}, "Forwarded"),
                        ({"X-Real-IP": "10.0.0.8", "host": "localhost"}, "X-Real-IP"),
                        ({"X-Forwarded-Host": "gansu.example"}, "X-Forwarded-Host"),
                        ({"host": "gansu.example:443"}, "gansu.example"), ({"host": "192.0.2.7:8501"}, "192.0.2.7")):
        got = exposure.remote_visit(remote)
        assert got is not None and why in got.en, (remote, got)

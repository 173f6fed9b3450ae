"""`make run` (the README's first command) serves the dashboard. Run after `make test`'s own
setup, so it exercises the idempotent path: nothing to install, data up to date, server up."""
import ipaddress
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser.harness import free_port
from tests.test_security_serve import _listening

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not (REPO / ".venv" / ".installed").exists(), reason="needs the make-built venv")
def test_make_run_serves_the_dashboard(dataset, tmp_path):
    port = free_port()
    env = {**os.environ, "GANSU_STORE": str(tmp_path / "store.duckdb")}
    proc = subprocess.Popen(["make", "run", f"PORT={port}"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.time() + 600  # bounds a failure only: a loaded machine starts slowly
        ok = False
        while time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    ok = r.status == 200
                    break
            except OSError:
                time.sleep(0.5)
        assert ok, "make run did not serve the dashboard"
        bound = _listening(port)  # this machine only: the kernel's table of listening sockets
        assert bound and all(ipaddress.ip_address(a).is_loopback for a in bound), bound
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/app/static/vendor/leaflet/leaflet.js", timeout=5) as r:
            assert r.status == 200 and b"Leaflet" in r.read(2000)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
    assert "up to date" in out  # the data build was a no-op the second time


@pytest.mark.parametrize("env_mb,argv,expected", [
    ("5", [], "5"),  # the browser-side limit follows the app's limit
    ("0.5", [], "1"),  # Streamlit counts whole MB: never 0
    ("5", ["--server.maxUploadSize", "7"], "7"),  # an explicit option wins
])
def test_serve_passes_the_upload_limit_to_streamlit(env_mb, argv, expected):
    import json
    import sys

    code = f"import json; from ui.serve import streamlit_args; print(json.dumps(streamlit_args({argv!r})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={**os.environ, "GANSU_MAX_UPLOAD_MB": env_mb}).stdout
    args = json.loads(out)
    assert args[:2] == ["streamlit", "run"] and args[2].endswith("asgi.py")  # app.py + the tile routes
    assert args.count("--server.maxUploadSize") == 1
    assert args[args.index("--server.maxUploadSize") + 1] == expected

"""Offline map assets: copy Leaflet (PyPI xstatic-leaflet) and Leaflet.draw 1.0.4 (shipped as
static files by PyPI django-leaflet, installed --no-deps) into ./static/vendor/, and vendor the npm
Leaflet plugins in ``NPM_PACKAGES`` (pinned by version and sha512 integrity: ``npm pack`` once,
the tarball is kept in static/vendor/.npm/ and checked before use; leaflet-side-by-side ships
CommonJS only, so its index.js is wrapped to use the page's global ``L``).

Streamlit serves ./static at /app/static/ (``enableStaticServing`` in .streamlit/config.toml),
so the folium map inside the streamlit-folium iframe loads Leaflet from the dashboard's own
server and never from a CDN. Run by ``make`` (``python -m ui.assets``); idempotent.
"""
from __future__ import annotations

import base64
import filecmp
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENDOR = REPO / "static" / "vendor"
URL_PREFIX = "/app/static/vendor"

LEAFLET_FILES = ["leaflet.js", "leaflet.css", "images/layers.png", "images/layers-2x.png",
                 "images/marker-icon.png", "images/marker-icon-2x.png", "images/marker-shadow.png"]


DRAW_FILES = ["leaflet.draw.js", "leaflet.draw.css", "images/spritesheet.png",
              "images/spritesheet-2x.png", "images/spritesheet.svg"]


def _leaflet_src() -> Path:
    import xstatic.pkg.leaflet as xl

    return Path(xl.BASE_DIR)


def _draw_src() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("leaflet")  # django-leaflet's package folder (not imported)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("django-leaflet is not installed: pip install --no-deps -r requirements-nodeps.txt")
    return Path(list(spec.submodule_search_locations)[0]) / "static" / "leaflet" / "draw"


def _sources():
    yield "leaflet", _leaflet_src(), LEAFLET_FILES
    yield "leaflet-draw", _draw_src(), DRAW_FILES


# npm packages: version and the registry's sha512 integrity are pinned; ``files`` are copied out of
# the tarball's package/ folder; ``wrap`` files are CommonJS modules turned into browser scripts.
NPM_PACKAGES = {
    "leaflet-side-by-side": {
        "version": "2.2.0",
        "integrity": "sha512-JLN9dUoQgSJcZWowOOG19s4zpHasZfGsBeJ/ceObJ1f7vQ0OGGvx564yH7+JOF/zk1zNDi1RYjeJZUwVCC7YNA==",
        "files": ["layout.css", "range.css", "range-icon.png", "LICENSE"],
        "wrap": {"index.js": "leaflet-side-by-side.js"},
    },
}
SIDE_BY_SIDE_JS = f"{URL_PREFIX}/leaflet-side-by-side/leaflet-side-by-side.js"
SIDE_BY_SIDE_CSS = [f"{URL_PREFIX}/leaflet-side-by-side/layout.css", f"{URL_PREFIX}/leaflet-side-by-side/range.css"]

_WRAP = """/* {name} {version} (npm, integrity {integrity}), wrapped by ui/assets.py for a browser global L */
(function (L) {{
var module = {{exports: {{}}}}, exports = module.exports;
var require = function (name) {{ return name === 'leaflet' ? L : {{}}; }};
{body}
}})(window.L);
"""


class VendorError(Exception):
    """An npm package could not be fetched or did not match its pinned integrity."""


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _npm_tarball(name: str, pin: dict, vendor: Path) -> bytes:
    """The package tarball: from the cache (static/vendor/.npm/) or ``npm pack``; checked against
    the pinned integrity either way."""
    cache = vendor / ".npm"
    tgz = cache / f"{name}-{pin['version']}.tgz"
    if not tgz.is_file():
        if shutil.which("npm") is None:
            raise VendorError(f"npm is not installed (needed once to fetch {name}@{pin['version']})")
        cache.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["npm", "pack", f"{name}@{pin['version']}", "--pack-destination", str(cache),
                            "--silent"], capture_output=True, text=True, timeout=300)
        if r.returncode != 0 or not tgz.is_file():
            raise VendorError(f"npm pack {name}@{pin['version']} failed: {(r.stderr or r.stdout).strip()[-400:]}")
    data = tgz.read_bytes()
    if integrity_of(data) != pin["integrity"]:
        tgz.unlink()
        raise VendorError(f"{name}@{pin['version']}: tarball integrity {integrity_of(data)[:30]}… "
                          f"does not match the pinned {pin['integrity'][:30]}…")
    return data


def _npm_outputs(name: str, pin: dict) -> list[str]:
    return list(pin["files"]) + list(pin["wrap"].values())


def install_npm(vendor: Path = VENDOR, packages: dict = NPM_PACKAGES) -> list[Path]:
    """Vendor the pinned npm packages (no work when their files and stamp are current)."""
    written = []
    for name, pin in packages.items():
        out = vendor / name
        stamp = out / ".pinned"
        want = f"{pin['version']} {pin['integrity']}"
        if stamp.is_file() and stamp.read_text() == want and all((out / f).is_file() for f in _npm_outputs(name, pin)):
            continue
        data = _npm_tarball(name, pin, vendor)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            def member(rel):
                f = tar.extractfile(f"package/{rel}")
                if f is None:
                    raise VendorError(f"{name}@{pin['version']}: {rel} missing in the tarball")
                return f.read()

            out.mkdir(parents=True, exist_ok=True)
            for rel in pin["files"]:
                (out / rel).write_bytes(member(rel))
                written.append(out / rel)
            for rel, dst in pin["wrap"].items():
                body = member(rel).decode("utf-8")
                body = "\n".join(ln for ln in body.splitlines() if not ln.strip().startswith("require('./"))
                (out / dst).write_text(_WRAP.format(name=name, version=pin["version"], integrity=pin["integrity"],
                                                    body=body), encoding="utf-8")
                written.append(out / dst)
        stamp.write_text(want)
    return written


def install(vendor: Path = VENDOR) -> list[Path]:
    """Copy the assets when missing or different; return the files written."""
    written = []
    for name, src_root, files in _sources():
        for rel in files:
            src, dst = src_root / rel, vendor / name / rel
            if dst.is_file() and filecmp.cmp(src, dst, shallow=False):
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            written.append(dst)
    return written


def missing(vendor: Path = VENDOR) -> list[str]:
    return [f"{name}/{rel}" for name, _, files in _sources() for rel in files
            if not (vendor / name / rel).is_file()] + npm_missing(vendor)


def npm_missing(vendor: Path = VENDOR) -> list[str]:
    return [f"{name}/{rel}" for name, pin in NPM_PACKAGES.items() for rel in _npm_outputs(name, pin)
            if not (vendor / name / rel).is_file()]


def side_by_side_available(vendor: Path = VENDOR) -> bool:
    return not npm_missing(vendor)


if __name__ == "__main__":
    files = install()
    print(f"[ui.assets] {len(files)} file(s) copied to {VENDOR}" if files
          else f"[ui.assets] up to date ({VENDOR})")
    try:
        npm_files = install_npm()
        print(f"[ui.assets] npm plugins: {len(npm_files)} file(s) written" if npm_files
              else "[ui.assets] npm plugins up to date")
    except VendorError as e:  # the dashboard still runs; only the side-by-side view is unavailable
        print(f"[ui.assets] WARNING: {e}\n[ui.assets] the Map page's side-by-side comparison is unavailable "
              "until `make assets` can reach the npm registry (or the tarball is put in static/vendor/.npm/).",
              file=sys.stderr)
    sys.exit(0)

"""The provenance record of a result: which program, data, tables and settings produced it.

``record(...)`` returns a plain dict (JSON-able)::

    {"program": {"git_commit": "7e0eb7a…" | "unknown"}, "build_id": "20261127T…" | "unknown",
     "datasets": [{"role", "name", "file", "sha256"}, …],
     "tables": {"targets": sha256, "official_stats": sha256, "carbon_pools": sha256, …},
     "thresholds": {…}, "weights": {…}, "pixel_area": "ground" | "nominal",
     "inputs_sha256": sha256 of everything above, "time": ISO-8601 UTC}

``inputs_sha256`` hashes every part except ``time``: two runs on the same inputs give the same
hashes; a changed pool value changes ``tables.carbon_pools`` (and ``inputs_sha256``), nothing
else. Writers put the record in an Excel sheet (``rows``), a PDF section, GeoPackage/Parquet
metadata and the CLI's ``<out>.provenance.json`` sidecar (``write_sidecar``).

Reads files only (the git commit from ``.git`` without running git). May import ``core``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from core import paths

SCHEMA_VERSION = "provenance-1"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def frame_sha256(df: pd.DataFrame) -> str:
    """SHA-256 of a table's content (columns, then rows as CSV text; index ignored)."""
    return sha256_bytes(df.reset_index(drop=True).to_csv(index=False, lineterminator="\n").encode("utf-8"))


def table_sha256(obj: Any) -> str:
    """A table given as a DataFrame, a file path or bytes."""
    if isinstance(obj, pd.DataFrame):
        return frame_sha256(obj)
    if isinstance(obj, (bytes, bytearray)):
        return sha256_bytes(bytes(obj))
    return file_sha256(obj)


def git_commit(repo: str | Path | None = None) -> str:
    """The commit of the working copy, read from ``.git`` (HEAD → ref → loose or packed ref);
    "unknown" when there is no readable repository (an installed copy)."""
    git = Path(repo or paths.REPO) / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = Path(git.read_text().split(":", 1)[1].strip())
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head
        ref = head.split(":", 1)[1].strip()
        common = (git / (git / "commondir").read_text().strip()).resolve() if (git / "commondir").is_file() else git
        for base in (git, common):
            if (base / ref).is_file():
                return (base / ref).read_text().strip()
            packed = base / "packed-refs"
            if packed.is_file():
                for line in packed.read_text().splitlines():
                    parts = line.split()
                    if len(parts) == 2 and parts[1] == ref:
                        return parts[0]
    except (OSError, IndexError, ValueError):
        pass
    return "unknown"


def build_id() -> str:
    """The data build in use (``manifest.json``'s build_id), "unknown" without one."""
    try:
        return str(json.loads(paths.manifest_path().read_text(encoding="utf-8")).get("build_id") or "unknown")
    except (OSError, ValueError):
        return "unknown"


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    if isinstance(v, Path):
        return str(v)
    return v


def record(*, datasets: Iterable[Mapping[str, Any]] = (), tables: Mapping[str, Any] | None = None,
           thresholds: Mapping[str, Any] | None = None, weights: Mapping[str, Any] | None = None,
           pixel_area: str = "ground", extra: Mapping[str, Any] | None = None,
           commit: str | None = None, build: str | None = None, now: dt.datetime | None = None) -> dict:
    """The provenance record. ``tables``: name → DataFrame, file path or bytes (hashed here) or
    an already computed ``sha256:<hex>`` string; ``datasets``: dicts with role/name/file/sha256."""
    hashed = {}
    for k, v in (tables or {}).items():
        hashed[str(k)] = v[len("sha256:"):] if isinstance(v, str) and v.startswith("sha256:") else table_sha256(v)
    ds = [{k: str(d.get(k, "") or "") for k in ("role", "name", "file", "sha256")} for d in datasets]
    body = {
        "schema": SCHEMA_VERSION,
        "program": {"git_commit": commit if commit is not None else git_commit()},
        "build_id": build if build is not None else build_id(),
        "datasets": ds,
        "tables": dict(sorted(hashed.items())),
        "thresholds": _jsonable(dict(thresholds or {})),
        "weights": _jsonable(dict(weights or {})),
        "pixel_area": str(pixel_area),
        **({"extra": _jsonable(dict(extra))} if extra else {}),
    }
    body["inputs_sha256"] = sha256_bytes(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    body["time"] = (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")
    return body


def amend(rec: Mapping[str, Any], *, weights: Mapping[str, Any] | None = None,
          thresholds: Mapping[str, Any] | None = None) -> dict:
    """The record with weights and thresholds added (a ranking on a computed table) and its
    ``inputs_sha256`` computed again over the new body; ``time`` kept."""
    body = {k: v for k, v in rec.items() if k not in ("inputs_sha256", "time")}
    if weights is not None:
        body["weights"] = _jsonable({**body.get("weights", {}), **dict(weights)})
    if thresholds is not None:
        body["thresholds"] = _jsonable({**body.get("thresholds", {}), **dict(thresholds)})
    body["inputs_sha256"] = sha256_bytes(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    body["time"] = rec.get("time")
    return body


RUN_TABLE_PARTS = {"pools": "carbon_pools", "carbon_pools": "carbon_pools", "rates": "sink_rates",
                   "sink_rates": "sink_rates", "legend_file": "legend"}


def tables_from_parts(parts: Mapping[str, Any]) -> dict[str, str]:
    """The table hashes of a run fingerprint's parts (``indicators.runs.RunInputs.parts``) under
    the record's names (carbon_pools, sink_rates, legend), as ``sha256:<hex>`` for ``record``."""
    return {RUN_TABLE_PARTS[k]: f"sha256:{v}" for k, v in parts.items()
            if k in RUN_TABLE_PARTS and isinstance(v, str) and len(v) == 64}


def to_json(rec: Mapping[str, Any]) -> str:
    return json.dumps(rec, ensure_ascii=False, indent=2, sort_keys=True)


def sidecar_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".provenance.json")


def write_sidecar(out: str | Path, rec: Mapping[str, Any]) -> Path:
    """``<out>.provenance.json`` next to a CLI output."""
    p = sidecar_path(out)
    p.write_text(to_json(rec) + "\n", encoding="utf-8")
    return p


def rows(rec: Mapping[str, Any]) -> pd.DataFrame:
    """The record flattened to (key, value) rows: the Excel sheet and the PDF section."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, v: Any) -> None:
        if isinstance(v, Mapping):
            if not v:
                out.append((prefix, "—"))
            for k, x in v.items():
                walk(f"{prefix}.{k}" if prefix else str(k), x)
        elif isinstance(v, list):
            if not v:
                out.append((prefix, "—"))
            for i, x in enumerate(v):
                walk(f"{prefix}[{i}]", x)
        else:
            out.append((prefix, "—" if v is None or v == "" else str(v)))

    walk("", dict(rec))
    return pd.DataFrame(out, columns=["key", "value"])

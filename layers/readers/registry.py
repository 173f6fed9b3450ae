"""The reader registry: every input format as a small declared plug-in (in the manner of
pygeoapi's provider declarations), keyed by file extension.

A ``Reader`` names its format, the extensions it answers to, its kind (``vector``, ``raster`` or
``osm``), how it treats several layers in one file (``single``; ``all``: read every layer, e.g.
the folders of a Google Earth KML; ``choose``: the user names one, e.g. a GeoPackage) and the
function that reads it. The upload path (bytes), the path entry (CLI, data build) and the Data
page all look formats up here, so one format is read one way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Callable

from core import limits
from core.text import Text


@dataclass(frozen=True)
class Reader:
    name: str
    extensions: tuple[str, ...]
    kind: str  # vector | raster | osm
    layers: str  # single | all | choose
    read: Callable
    label: Text = field(default=Text("", ""))
    upload: bool = True  # offered to browser uploads (a bare .shp is not: its sidecars cannot come along)


REGISTRY: list[Reader] = []


def register(reader: Reader) -> Reader:
    """Declare a reader (a later declaration of the same name replaces the earlier one)."""
    REGISTRY[:] = [r for r in REGISTRY if r.name != reader.name]
    REGISTRY.append(reader)
    return reader


def ext_of(name: str) -> str:
    """Lower-case extension of a file name, double ones kept where declared (``.osm.pbf``)."""
    p = PurePosixPath(str(name).replace("\\", "/"))
    suffixes = [s.lower() for s in p.suffixes]
    if len(suffixes) >= 2 and "".join(suffixes[-2:]) in extensions():
        return "".join(suffixes[-2:])
    return p.suffix.lower()


def extensions(kind: str | None = None, upload_only: bool = False) -> set[str]:
    return {e for r in REGISTRY if (kind is None or r.kind == kind) and (r.upload or not upload_only)
            for e in r.extensions}


def reader_for(name: str, kind: str | None = None) -> Reader | None:
    """The reader declared for a file name's extension (optionally of one kind), or None."""
    ext = ext_of(name)
    for r in REGISTRY:
        if ext in r.extensions and (kind is None or r.kind == kind):
            return r
    return None


# where the limits are read: ``layers.readers`` registers itself on import (``limits_from``), as it
# registers the readers, so this module never imports the package that imports it. Until then (a
# plug-in used on its own): ``core.limits``.
_LIMITS: object = limits


def limits_from(holder: object) -> None:
    """Read the limits (``MAX_FEATURES`` …) from the attributes of ``holder`` from now on."""
    global _LIMITS
    _LIMITS = holder


def limit(name: str):
    """A limit as currently set on ``layers.readers`` (tests lower them with monkeypatch)."""
    return getattr(_LIMITS, name)

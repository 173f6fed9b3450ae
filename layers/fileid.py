"""One version of a file, told without reading it.

Size and modification time alone are not enough: anyone who may write a file can edit it keeping
its size and then put its modification time back (``os.utime``, ``touch -d``). What they cannot
put back without root is the inode change time (``st_ctime_ns``: every write, ``utime`` and
``chmod`` sets it to "now"), the inode number and the device (a file swapped in by a rename is
another inode). The fingerprint is all five; a file whose fingerprint differs from the one
recorded is hashed again (``storage.workspace.verify``) or treated as new (the raster hash and tile
caches: ``ui.raster_sources.file_key``, ``zonal.tileplan.raster_fingerprint``).
"""
from __future__ import annotations

import os
from typing import NamedTuple


class Fingerprint(NamedTuple):
    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    dev: int


def fingerprint(path_or_stat) -> Fingerprint:
    """The fingerprint of a path (following links) or of an ``os.stat_result``."""
    st = path_or_stat if isinstance(path_or_stat, os.stat_result) else os.stat(path_or_stat)
    return Fingerprint(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def text(fp: Fingerprint) -> str:
    """For hashing into cache keys."""
    return ":".join(str(v) for v in fp)

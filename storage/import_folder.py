"""The server's import folder (``GANSU_IMPORT_DIR``): the files an administrator may register in
place from the Data page (a File Geodatabase listed as its ``.gdb`` folder), and the check that a
path named there lies inside it. Registration references the files where they are, never copies
them (``storage.raster_register``, ``storage.vector_register``).

May import: ``core`` and ``layers`` only.
"""
from __future__ import annotations

from pathlib import Path

from core import paths
from core.errors import InputError


def import_files(folder: Path | None = None) -> list[Path]:
    """Files in the import folder (not recursing into hidden folders), for the Data page; a File
    Geodatabase is listed as its ``.gdb`` folder (registered whole), not as its inner files."""
    root = folder or paths.import_dir()
    if root.is_dir():
        gdbs = [p for p in root.rglob("*.gdb") if p.is_dir()
                and not any(part.startswith(".") for part in p.relative_to(root).parts)]
        if gdbs:
            files = [p for p in import_files_plain(root) if not any(g in p.parents for g in gdbs)]
            return sorted(files + [g for g in gdbs if not any(o in g.parents for o in gdbs)])
    return import_files_plain(root)


def import_files_plain(root: Path) -> list[Path]:
    """Every file under ``root`` outside hidden folders."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))


def in_import_dir(path: Path) -> Path:
    """The resolved path, refused when it is outside the import folder (UI registration)."""
    root = paths.import_dir()
    p = (root / path).resolve() if not Path(path).is_absolute() else Path(path).resolve()
    if root != p and root not in p.parents:
        raise InputError("只能登记导入目录中的文件。", f"only files inside the import folder ({root}) can be registered.")
    return p

"""Esri File Geodatabases, read with GDAL's OpenFileGDB driver: a ``.gdb`` folder on disk (CLI,
import folder) or zipped (uploads: ``parks.gdb.zip``, a zip holding one ``.gdb`` folder).

Only the geodatabase's own files (``signature.GDB_FILE``: ``a00000001.gdbtable`` … with their
indexes) are staged, under their own names (validated by that pattern: nothing else can reach
the folder GDAL opens), in a private ``upload.gdb``; the user's folder is never opened by GDAL.
Each table must carry a FileGDB header (``signature.check_filegdb``). Layers are the feature
classes (tables without geometry are not offered); with several, the user chooses one (the page's
layer box, ``--layer``).
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path, PurePosixPath

import pyogrio

from core import limits
from core.errors import UploadError
from core.text import Text
from layers.readers import archive, signature
from layers.readers.ogr import choose_layer, parse_error, read_ogr
from layers.readers.registry import limit

KIND = Text("文件地理数据库", "File Geodatabase")


def gdb_folders(names: list[str]) -> list[str]:
    """The ``.gdb`` folders among zip member paths (``x.gdb/a00000001.gdbtable`` → ``x.gdb``)."""
    found = []
    for n in names:
        parts = PurePosixPath(n).parts
        for i, p in enumerate(parts[:-1]):
            if p.lower().endswith(".gdb"):
                folder = "/".join(parts[:i + 1])
                if folder not in found:
                    found.append(folder)
                break
    return found


def _one_folder(folders: list[str]) -> str:
    if len(folders) > 1:
        shown = ", ".join(PurePosixPath(f).name for f in folders[:10])
        raise UploadError(f"压缩包中有 {len(folders)} 个文件地理数据库（{shown}）：请每个压缩包只放一个 .gdb 文件夹。",
                          f"the archive holds {len(folders)} File Geodatabases ({shown}): zip one .gdb folder per "
                          "archive.")
    return folders[0]


def stage(source, folder: Path) -> Path:
    """The geodatabase's files under ``folder/upload.gdb``; returns that folder."""
    dest = folder / "upload.gdb"
    dest.mkdir()
    staged: dict[str, Path] = {}
    if source.path is not None and source.path.is_dir():
        total = 0
        for p in sorted(source.path.iterdir()):
            if p.is_file() and not p.is_symlink() and signature.GDB_FILE.match(p.name):
                total += p.stat().st_size
                _check_memory(total)
                staged[p.name] = Path(shutil.copyfile(p, dest / p.name))
    else:
        zf = source.open_zip()
        with zf:
            members = archive.safe_members(zf)
            gdb = _one_folder(gdb_folders([m.filename.replace("\\", "/").strip("/") for m in members]))
            pairs = []
            for info in members:
                member = PurePosixPath(info.filename.replace("\\", "/").strip("/"))
                if str(member.parent) == gdb and signature.GDB_FILE.match(member.name) and member.name not in staged:
                    staged[member.name] = dest / member.name
                    pairs.append((info, staged[member.name]))
            _check_memory(sum(i.file_size for i, _ in pairs))
            archive.extract_to(zf, pairs)
    signature.check_filegdb(staged)
    return dest


def _check_memory(size: int) -> None:
    cap = limit("MAX_COMPUTE_BYTES")
    if size * limits.VECTOR_MEMORY_FACTOR > cap:
        raise UploadError(f"文件地理数据库过大，读取约需 {size * limits.VECTOR_MEMORY_FACTOR / 2**30:.1f} GB 内存（上限 "
                          f"{cap / 2**30:.1f} GB，GANSU_MAX_COMPUTE_MB）。请先导出所需图层。",
                          f"the File Geodatabase would need about {size * limits.VECTOR_MEMORY_FACTOR / 2**30:.1f} GB of "
                          f"memory to read (limit {cap / 2**30:.1f} GB, GANSU_MAX_COMPUTE_MB): export the layer you "
                          "need first.")


def feature_classes(path: Path) -> list[str]:
    """The layers with a geometry column (tables without locations are not offered)."""
    try:
        return [str(n) for n, geom in pyogrio.list_layers(signature.gdal_name(path, None)) if geom is not None]
    except Exception as e:  # noqa: BLE001 - unreadable geodatabase
        raise parse_error(e, path) from None


def read(source, folder: Path, layer: str | None, notes: list):
    path = stage(source, folder)
    names = feature_classes(path)
    if not names:
        raise UploadError("该文件地理数据库中没有含几何的图层（要素类）。",
                          "the File Geodatabase holds no layer with geometries (feature class).")
    layer = choose_layer(KIND, names, layer, Text("要素类", "feature class"))
    gdf, _, more = read_ogr(path, layer, kind=KIND)
    notes.extend(more)
    return gdf, layer


def layers(source, folder: Path) -> list[str]:
    names = feature_classes(stage(source, folder))
    return names if len(names) > 1 else []


def folder_sha256(path: Path) -> str:
    """One SHA-256 for a ``.gdb`` folder: its files' names and contents, in name order."""
    h = hashlib.sha256()
    for p in sorted(q for q in Path(path).iterdir() if q.is_file()):
        h.update(f"{p.name}\0{p.stat().st_size}\0".encode())
        with open(p, "rb") as f:
            while b := f.read(8 << 20):
                h.update(b)
    return h.hexdigest()

"""Zip safety for zipped Shapefiles and KMZ (uploads and files on disk alike): members are
checked before anything is extracted — no absolute or ``..`` paths, no links, no encryption,
member count, declared total size and compression ratio under the limits (zip bombs) — and
extracted under names we choose, counting the bytes actually written."""
from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from core import limits
from core.errors import UploadError
from layers.readers.registry import limit


def safe_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > limit("MAX_ZIP_MEMBERS"):
        raise UploadError("压缩包内文件过多。", "too many files in the archive.")
    max_unzipped, max_ratio = limit("MAX_UNZIPPED_BYTES"), limit("MAX_ZIP_RATIO")
    total = 0
    for info in infos:
        name = info.filename.replace("\\", "/")
        p = PurePosixPath(name)
        if name.startswith("/") or ".." in p.parts or (len(name) > 1 and name[1] == ":"):
            raise UploadError(f"压缩包含有不安全的路径“{info.filename}”（绝对路径或 ../），已拒绝。",
                              f"the archive contains an unsafe path '{info.filename}' (absolute or ../): rejected.")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UploadError(f"压缩包含有符号链接“{info.filename}”，已拒绝。",
                              f"the archive contains a symbolic link '{info.filename}': rejected.")
        if info.flag_bits & 0x1:
            raise UploadError(f"压缩包中的“{info.filename}”已加密，无法读取。",
                              f"'{info.filename}' in the archive is encrypted and cannot be read.")
        total += info.file_size
        if total > max_unzipped:
            raise UploadError(f"压缩包解压后过大（声明 {total / 1e6:.0f} MB 以上，上限 {max_unzipped / 1e6:.0f} MB，"
                              "可能是压缩炸弹），未解压即拒绝。",
                              f"the archive expands beyond the size limit (declares over {total / 1e6:.0f} MB, limit "
                              f"{max_unzipped / 1e6:.0f} MB; possible zip bomb): rejected before extraction.")
        if (info.file_size > limits.ZIP_RATIO_MIN_BYTES
                and info.file_size > max_ratio * max(info.compress_size, 1)):
            raise UploadError(f"压缩包中的“{info.filename}”压缩比异常（{info.file_size / max(info.compress_size, 1):.0f}:1，"
                              f"上限 {max_ratio:.0f}:1，可能是压缩炸弹），未解压即拒绝。",
                              f"'{info.filename}' has an abnormal compression ratio "
                              f"({info.file_size / max(info.compress_size, 1):.0f}:1, limit {max_ratio:.0f}:1; "
                              "possible zip bomb): rejected before extraction.")
    return [i for i in infos if not i.is_dir()]


def _ext(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def extract(zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], folder: Path) -> dict[str, Path]:
    """Extract under generated names; returns {lower-case member path (``/``): path on disk}.
    Members in sub-folders keep their folder in the key (``data/p.shp``)."""
    out = {}
    targets = []
    for n, info in enumerate(members):
        member = info.filename.replace("\\", "/").strip("/")
        ext = re.sub(r"[^a-z0-9.]", "", _ext(member))[:10]
        targets.append((info, folder / f"m{n}{ext}"))
        out.setdefault(member.lower(), targets[-1][1])
    extract_to(zf, targets)
    return out


def extract_to(zf: zipfile.ZipFile, targets: list[tuple[zipfile.ZipInfo, Path]]) -> None:
    """Extract each checked member to the path the caller chose, counting the bytes actually
    written against the size limit."""
    remaining = limit("MAX_UNZIPPED_BYTES")  # actual bytes written, over all members
    for info, target in targets:
        try:
            with zf.open(info) as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    remaining -= len(chunk)
                    if remaining < 0:
                        raise UploadError("压缩包解压后过大，已拒绝。", "the archive expands beyond the size limit: rejected.")
                    dst.write(chunk)
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            raise UploadError("压缩包已损坏，无法解压。", f"the zip archive is corrupt ({type(e).__name__}).") from None


def member_names(source) -> list[str]:
    """The checked members' paths of a zip source (``/`` separators), nothing extracted."""
    zf = source.open_zip()
    with zf:
        return [i.filename.replace("\\", "/").strip("/") for i in safe_members(zf)]


def extract_all(source, folder: Path) -> dict[str, Path]:
    """Check, then extract every member of a zip source (``common.Source``)."""
    zf = source.open_zip()
    with zf:
        return extract(zf, safe_members(zf), folder)

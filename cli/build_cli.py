"""``python -m cli build``: the default Gansu dataset (geodata/build.py and its stages) — built when its inputs
changed (a fast no-op otherwise), ``--force`` rebuilds, ``--print-dir`` prints the folder in use."""
from __future__ import annotations

import argparse
import errno
import sys

from core import paths
from geodata.build import build
from geodata.sources import BuildError


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="gansu build", description=__doc__.split("\n")[0])
    ap.add_argument("--force", action="store_true", help="rebuild even when up to date")
    ap.add_argument("--print-dir", action="store_true", help="print the dataset folder and exit")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.print_dir:
        try:
            print(paths.require_current())
        except paths.DataMissing as e:
            print(e, file=sys.stderr)
            return 1
        return 0
    try:
        build(force=args.force)
    except BuildError as e:
        print(f"[geodata.build] ERROR: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        if not isinstance(e, PermissionError) and e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        print(f"[geodata.build] ERROR: cannot write to the data folder {paths.data_root()} ({e}). Make it "
              f"writable or set GANSU_DATA_DIR to a writable folder; the data in use, if any, is unchanged. / "
              f"数据目录不可写，请设为可写或通过 GANSU_DATA_DIR 指定其他目录；现有数据未改动。", file=sys.stderr)
        return 2
    return 0

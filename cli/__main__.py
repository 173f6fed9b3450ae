"""Every command line of the project: ``gansu COMMAND …`` (the console script of pyproject.toml) or
``python -m cli COMMAND …``.

    gansu parks --parks parks.gpkg --landcover clcd_2020.tif --legend clcd --out parks.xlsx
    gansu parks --workspace --out parks.csv          # the data in use saved by the dashboard
    gansu siting --workspace --weight carbon_stock_tc=2 --out ranking.xlsx
    gansu targets --out targets.xlsx | gansu zonestats … | gansu checklist … | gansu degradation …
    gansu workspace add roads.gpkg --role transport --kind major_road --use
    gansu admin accounts add chief --role admin      # password on stdin
    gansu build [--force]                            # the default Gansu dataset
    gansu store copy store.duckdb postgresql://…     # a store into PostgreSQL (and back)

Exit codes: 0 success, 2 unusable input (message in English and Chinese on stderr, one handler for
every command). The input flags of ``parks`` and ``siting`` come from the declared inputs
(``layers/inputs.py``); docs/cli.md lists every flag.
"""
from __future__ import annotations

import argparse
import sys

from cli import checklist_cli, landchange_cli, parks_cli, siting_cli, targets_cli, tiled_cli
from core.errors import GansuError

# Commands with a parser of their own (their module is imported only when called: start-up time).
DELEGATED = {"workspace": ("cli.workspace_cli", "register files in the store, choose the data in use"),
             "admin": ("cli.admin_cli", "accounts, recovery codes and the audit log of the shared store"),
             "build": ("cli.build_cli", "build the default Gansu dataset (a no-op when current)"),
             "store": ("cli.store_cli", "copy a store between DuckDB and PostgreSQL; PostgreSQL grants; store info")}
COMMANDS = {"parks": parks_cli.run, "siting": siting_cli.run, "targets": targets_cli.run,
            "zonestats": tiled_cli.run_zonestats, "checklist": checklist_cli.run, "degradation": landchange_cli.run}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="gansu", description="Gansu ecological barriers and zero-carbon parks: "
                                                           "every command line (also: python -m cli).")
    sub = ap.add_subparsers(dest="command", required=True)
    parks_cli.add_parser(sub)
    siting_cli.add_parser(sub)
    targets_cli.add_parser(sub)
    tiled_cli.add_zonestats_parser(sub)
    checklist_cli.add_parser(sub)  # the checklist command (same rules as the Checklist page)
    landchange_cli.add_parser(sub)  # land degradation, trajectories and trends of a land-cover series
    for name, (_module, text) in DELEGATED.items():  # listed in the help; main() hands them their arguments
        sub.add_parser(name, help=text, add_help=False).add_argument("args", nargs=argparse.REMAINDER)
    return ap


def main(argv=None) -> int:
    """Run one command. One error handler: an unusable input (GansuError) prints its English and
    Chinese message and exits 2."""
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    try:
        if argv and argv[0] in DELEGATED:
            import importlib  # start-up time: a command's parser loads only when it is called

            return importlib.import_module(DELEGATED[argv[0]][0]).main(argv[1:])
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except GansuError as exc:  # InputError, UploadError, CRSMissing (with its guess) …
        print(f"error: {exc.en}\n错误：{exc.zh}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""``gansu targets``: progress towards the 2025/2030 targets, one row per target and region, from
the official statistics (a CSV, the dashboard's store, or the cited seed table), with provenance."""
from __future__ import annotations

from pathlib import Path

from core import paths
from core.errors import InputError


def add_parser(sub) -> None:
    t = sub.add_parser("targets", help="progress towards the 2025/2030 targets: one row per target and region")
    src = t.add_mutually_exclusive_group()
    src.add_argument("--stats", help="official statistics CSV (indicator,region,year,value,unit,source[,basis,...]); "
                                     "default: the dashboard's store (GANSU_STORE), else the cited seed")
    src.add_argument("--seed", action="store_true", help="use the cited seed table (tables/official_stats_gansu.csv)")
    t.add_argument("--basis", action="append", default=[], metavar="INDICATOR=BASIS",
                   help="basis (口径) of an indicator's progress (default: the basis of its latest value)")
    t.add_argument("--out", required=True, help="output: .csv (+ .provenance.json sidecar) or .xlsx (provenance sheet)")
    t.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the Excel headers")
    t.add_argument("--date", help="run date YYYY-MM-DD: years left and stale values are counted from it (default today)")


def run(a) -> int:
    # start-up time: the tables, the store and the writers load only when this command runs
    from indicators import provenance
    from indicators import targets as tg
    from reports import write_report
    from storage import stats_store
    from storage.store import Store

    out = Path(a.out)
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError("--out 的扩展名须为 .csv 或 .xlsx", "--out must end with .csv or .xlsx")
    targets = tg.load_targets()
    if a.stats and not Path(a.stats).is_file():
        raise InputError(f"找不到统计表文件 {a.stats}", f"statistics file not found: {a.stats}")
    if a.stats:
        stats, origin = tg.validate_stats(tg.read_stats_bytes(Path(a.stats).read_bytes()), targets), f"file {a.stats}"
    elif a.seed or not (isinstance(paths.store_path(), str) or paths.store_path().exists()):  # str: a PostgreSQL URL
        stats, origin = tg.load_seed_stats(), f"seed {tg.OFFICIAL_SEED_CSV.name}"
    else:
        store = Store(paths.store_path())
        try:
            stats_store.ensure(store, tg.load_seed_stats())
            stats, origin = tg.refresh_seed(stats_store.official_stats(store)), f"store {store.label}"
        finally:
            store.close()
    basis = {}
    for item in a.basis:
        if "=" not in item:
            raise InputError(f"--basis 须为 指标=口径：{item}", f"--basis must be INDICATOR=BASIS: {item}")
        k, v = item.split("=", 1)
        basis[k.strip()] = v.strip()
    run_date = tg.run_date_of(a.date)
    table = tg.report_table(targets, stats, basis, run_date)
    rec = provenance.record(tables={"targets": tg.TARGETS_CSV, "official_stats": stats, "bases": tg.BASES_CSV},
                            thresholds={"trend_years": tg.TREND_YEARS, "at_risk_ratio": tg.AT_RISK_RATIO,
                                        "about_tolerance": tg.ABOUT_TOLERANCE, "stale_years": tg.STALE_YEARS},
                            extra={"statistics": origin, "basis": basis, "run_date": run_date.isoformat()})
    write_report(table, out, rec, lang=a.lang, sheet="targets", extra=tg.report_labels())
    print(f"{len(table)} rows (targets × regions) → {out}; statistics: {origin}")
    return 0

"""``gansu siting``: rank candidate parks by weighted criteria — the Siting page's model
(``indicators.siting.rank``: min–max normalised criteria, weights summing to 1, parks on the red line
excluded unless ``--keep-redline``) on the indicators ``gansu parks`` computes from the same flags.

    gansu siting --workspace --weight carbon_stock_tc=2 --weight dist_railway_km=1 --out ranking.xlsx

Without ``--weight`` every criterion present weighs the same. The table is written like every
other (``reports.table.write_table``) with the weights and criteria in its provenance record."""
from __future__ import annotations

from pathlib import Path

from cli import parks_cli, tiled_cli
from core.errors import InputError


def add_parser(sub) -> None:
    p = parks_cli.add_parser(sub, "siting", "rank candidate parks by weighted criteria (the Siting page's model)")
    p.add_argument("--weight", action="append", default=[], metavar="CRITERION=W",
                   help="weight of a criterion (an indicator column with a direction, e.g. carbon_stock_tc=2); "
                        "default: every criterion present, equal weights / 准则权重")
    p.add_argument("--keep-redline", action="store_true",
                   help="rank parks that overlap the red line too (default: excluded, as on the Siting page)")


def parse_weights(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise InputError(f"--weight 须为 准则=数值：{item}", f"--weight must be CRITERION=NUMBER: {item}")
    return out


def run(a) -> int:
    from indicators import provenance, siting  # start-up time: the siting model loads when this command runs
    from reports.table import write_table

    weights = parse_weights(a.weight)
    result, geoms, prov = parks_cli.compute_table(a)
    criteria = list(weights) or siting.default_criteria(result)
    if not criteria:
        raise InputError("结果中没有可排序的准则。", "no rankable criterion in the results.")
    weights = weights or {c: 1.0 for c in criteria}
    ranked = siting.rank(result, weights, criteria, exclude_redline=not a.keep_redline)
    prov = provenance.amend(prov, weights=ranked.attrs["weights"], thresholds={"exclude_redline": not a.keep_redline})
    order = ranked["park_id"].astype(str).map({str(k): i for i, k in enumerate(result["park_id"])})
    out = Path(a.out)
    write_table(ranked, out, geoms.iloc[order.to_numpy()].reset_index(drop=True), lang=getattr(a, "lang", "zh"),
                provenance=prov)
    print(f"{int(ranked['rank'].notna().sum())} parks ranked, {int(ranked['excluded'].sum())} excluded -> {out}")
    tiled_cli.into_store(a, "siting", {"": ranked})
    return 0

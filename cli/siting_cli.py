"""``gansu siting``: rank candidate parks by weighted criteria — the Siting page's model
(``indicators.siting.rank``) on the indicators ``gansu parks`` computes from the same flags, or on a
table it wrote (``--from parks.csv``), with SMAA figures of how robust the ranking is.

    gansu siting --workspace --weights carbon_at_stake_tc_per_ha=2,dist_railway_km=1 --out ranking.xlsx
    gansu siting --from parks.csv --value-function dist_railway_km:piecewise:5=1,50=0 \\
        --unknown drop-criterion --draws 10000 --seed 13 --out ranking.csv

Without weights every criterion present weighs the same. Unknown values are never neutral:
``--unknown set-aside`` (default: the park is not ranked, ``cannot_rank_on`` says on what) or
``drop-criterion`` (the criterion is dropped for every park). ``--draws N`` adds the SMAA columns
(``acceptability_rank1…``, ``central_w_<criterion>``, ``confidence``; weights drawn ``--weights-mode
around`` the given ones, Dirichlet ``--concentration``, or ``simplex``: uniformly). The table is
written like every other (``reports.table.write_table``) with weights, value functions, the unknown
rule and the draws in its provenance record."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from cli import parks_cli, tiled_cli
from core.errors import InputError
from indicators import provenance, siting, siting_smaa, smaa
from indicators.siting_value import parse as parse_value_function
from reports import table as out_table


def add_parser(sub) -> None:
    p = parks_cli.add_parser(sub, "siting", "rank candidate parks by weighted criteria (the Siting page's model)")
    p.add_argument("--from", dest="from_table", metavar="PARKS_TABLE",
                   help="rank the parks of a table written by `gansu parks` (.csv or .parquet) instead of computing "
                        "them / 对 gansu parks 输出的表排序")
    p.add_argument("--weights", metavar="ID=W,…", help="weights, e.g. carbon_at_stake_tc_per_ha=2,dist_railway_km=1 "
                                                       "(default: every criterion present, equal weights) / 权重")
    p.add_argument("--weight", action="append", default=[], metavar="ID=W", help="one weight (repeatable)")
    p.add_argument("--value-function", action="append", default=[], metavar="ID:TYPE[:POINTS]",
                   help="linear (default), threshold:T or piecewise:x1=v1,x2=v2 (e.g. slope_mean_deg:piecewise:8=1,25=0)"
                        " / 价值函数")
    p.add_argument("--unknown", choices=siting.UNKNOWN_POLICIES, default="set-aside",
                   help="a park with an unknown weighted criterion is set aside (default) or the criterion dropped")
    p.add_argument("--keep-redline", action="store_true",
                   help="rank parks that overlap the red line too (default: excluded, as on the Siting page)")
    p.add_argument("--draws", type=int, default=0, metavar="N", help="SMAA draws (0: none; 10000 recommended)")
    p.add_argument("--seed", type=int, default=smaa.DEFAULT_SEED, help="SMAA seed (the same seed, the same figures)")
    p.add_argument("--weights-mode", choices=smaa.MODES, default="around",
                   help="SMAA weights: around the given ones (Dirichlet) or uniform on the simplex")
    p.add_argument("--concentration", type=float, default=smaa.DEFAULT_CONCENTRATION,
                   help="Dirichlet concentration of --weights-mode around (larger: closer to the given weights)")


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


def parse_value_functions(items: list[str]) -> dict:
    out = {}
    for item in items:
        cid, sep, rest = item.partition(":")
        if not sep or not cid.strip():
            raise InputError(f"--value-function 须为 准则:类型[:点]：{item}", f"--value-function must be ID:TYPE[:POINTS]: {item}")
        out[cid.strip()] = parse_value_function(rest)
    return out


def _from_table(path: str):
    p = Path(path)
    if not p.is_file():
        raise InputError(f"--from：找不到文件 {p}", f"--from: file {p} not found")
    try:
        df = pd.read_parquet(p) if p.suffix.lower() == ".parquet" else pd.read_csv(p, dtype={"park_id": str})
    except (OSError, ValueError) as e:
        raise InputError(f"--from：无法读取 {p.name}（{e}）", f"--from: cannot read {p.name} ({e})") from None
    if "park_id" not in df.columns:
        raise InputError(f"--from：{p.name} 没有 park_id 列（须为 gansu parks 的输出）",
                         f"--from: {p.name} has no park_id column (expected the output of gansu parks)")
    rec = provenance.record(datasets=[{"role": "parks_table", "name": p.name, "file": str(p),
                                       "sha256": provenance.file_sha256(p)}])
    return df, None, rec


def run(a) -> int:
    weights = parse_weights([w for w in (a.weights or "").split(",") if w.strip()] + a.weight)
    vfs = parse_value_functions(a.value_function)
    result, geoms, prov = _from_table(a.from_table) if a.from_table else parks_cli.compute_table(a)
    criteria = list(dict.fromkeys([*weights, *vfs])) or siting.default_criteria(result)
    if not criteria:
        raise InputError("结果中没有可排序的准则。", "no rankable criterion in the results.")
    weights = {c: weights.get(c, 0.0 if weights else 1.0) for c in criteria}
    ranked = siting.rank(result, weights, criteria, exclude_redline=not a.keep_redline, unknown=a.unknown,
                         value_functions=vfs)
    settings = {"exclude_redline": not a.keep_redline, "unknown": a.unknown, "dropped": ranked.attrs["dropped"],
                "value_functions": ranked.attrs["value_functions"]}
    if a.draws:
        acc, res = siting_smaa.acceptability(result, ranked, n=a.draws, seed=a.seed, mode=a.weights_mode,
                                             concentration=a.concentration)
        attrs = ranked.attrs
        ranked = ranked.merge(acc, on="park_id", how="left").set_axis(ranked.index) if len(acc) else ranked
        ranked.attrs = attrs
        settings.update(smaa_draws=res.n, smaa_seed=res.seed, smaa_mode=res.mode, smaa_concentration=res.concentration,
                        smaa_value_ranges=res.value_ranges)
    attrs = ranked.attrs  # the indicators after the ranking (terrain, exclusion verdicts, grid …), one row per park
    rest = [c for c in result.columns if c not in ranked.columns]
    ids = result["park_id"].astype(str)
    ranked = ranked.merge(result[rest].assign(park_id=ids.to_numpy()), on="park_id", how="left")
    ranked.attrs = attrs
    prov = provenance.amend(prov, weights=ranked.attrs["weights"], thresholds=settings)
    out = Path(a.out)
    shapes = None
    if geoms is not None:
        order = ranked["park_id"].astype(str).map({str(k): i for i, k in enumerate(result["park_id"])})
        shapes = geoms.iloc[order.to_numpy()].reset_index(drop=True)
    out_table.write_table(ranked, out, shapes, lang=getattr(a, "lang", "zh"), provenance=prov)
    aside = int((ranked["cannot_rank_on"] != "").sum())
    print(f"{int(ranked['rank'].notna().sum())} parks ranked, {aside} set aside (unknown values), "
          f"{int(ranked['excluded'].sum())} excluded -> {out}")
    tiled_cli.into_store(a, "siting", {"": ranked})
    return 0

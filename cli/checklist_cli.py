"""``python -m cli checklist --parks FILE --inputs answers.csv --out result.csv|xlsx``: the
admission checklist (Anhui annex 1) and the national indicators for many parks at once, with the
rules of the Checklist page (``indicators.checklist_answers.evaluate_park``).

``--parks``: the parks to evaluate — best the table ``python -m cli parks --out parks.csv`` wrote
(CSV or Parquet; also GeoJSON/GeoPackage): its ``vegetated_share_pct``, ``landcover_pixels`` and
``landcover_pixel_m`` give the map hint of the greening row, its ``carbon_sink_tco2_yr`` the sink
of the credit check. A park file without those columns works too (no hint, no sink). Every
park of the file is evaluated; answers for a park not in it are refused.

``--inputs``: the answers CSV (``park_id, criterion, value, not_applicable_reason, kind, source,
date``; see ``indicators.checklist_answers``). Output: one row per park and criterion of both
checklists, an overall row per park and checklist (id "overall", the reasons in the note), and
the credit rows when emissions and credits are given. Exit 2 with a bilingual message on bad input.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from core.errors import InputError
from indicators import checklist_answers as ca
from indicators import provenance
from reports.table import write_report

OUT = (".csv", ".xlsx")
TABLES = (".csv", ".parquet")


def add_parser(sub) -> None:
    c = sub.add_parser("checklist", help="admission checklist (Anhui annex 1) and national indicators for many parks")
    c.add_argument("--parks", required=True,
                   help="parks: the table of `python -m cli parks` (.csv/.parquet/.geojson/.gpkg, with park_id) "
                        "or any park file with a park_id field")
    c.add_argument("--layer", help="layer of a multi-layer --parks file")
    c.add_argument("--id-field", default="park_id", help="field with the park id (default park_id)")
    c.add_argument("--name-field", default="name", help="field with the park name (default name)")
    c.add_argument("--inputs", required=True,
                   help="answers CSV: park_id, criterion, value, not_applicable_reason, kind, source, date")
    c.add_argument("--out", required=True, help="output: .csv (column ids) or .xlsx (labelled headers)")
    c.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the Excel headers")


def _read_parks(a) -> pd.DataFrame:
    p = Path(a.parks)
    if not p.is_file():
        raise InputError(f"--parks：找不到文件 {p}", f"--parks: file {p} not found")
    if p.suffix.lower() == ".csv":
        df = pd.read_csv(p, dtype={a.id_field: str}, encoding="utf-8-sig")
    elif p.suffix.lower() == ".parquet":
        df = pd.read_parquet(p)
    elif p.suffix.lower() == ".xlsx":
        raise InputError("--parks 不能是 Excel（其表头是标签）：请用 python -m cli parks 输出的 .csv 或 .parquet",
                         "--parks cannot be Excel (its headers are labels): use the .csv or .parquet of python -m cli parks")
    else:
        from layers import readers  # start-up time: the vector readers (GDAL) load only for a vector --parks

        df = pd.DataFrame(readers.read_path(p, layer=a.layer, what="--parks").gdf.drop(columns="geometry"))
    if a.id_field not in df.columns:
        raise InputError(f"--parks 没有字段 {a.id_field!r}（现有字段：{list(df.columns)[:20]}）",
                         f"--parks has no field {a.id_field!r} (fields: {list(df.columns)[:20]})")
    ids = df[a.id_field].astype(str).str.strip()
    if ids.eq("").any() or ids.duplicated().any():
        raise InputError("--parks 的园区编号须非空且唯一", "--parks: park ids must be non-empty and unique")
    return df.assign(**{a.id_field: ids})


def _read_answers(path: str) -> dict[str, dict]:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"--inputs：找不到文件 {p}", f"--inputs: file {p} not found")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as e:
        raise InputError(f"--inputs 不是 UTF-8 CSV：{e}", f"--inputs is not a UTF-8 CSV: {e}") from None
    return ca.saved_from_rows(df)


def run(a) -> int:
    out = Path(a.out)
    if out.suffix.lower() not in OUT:
        raise InputError("--out 的扩展名须为 .csv 或 .xlsx", "--out must end with .csv or .xlsx")
    parks = _read_parks(a)
    answers = _read_answers(a.inputs)
    ids = list(parks[a.id_field])
    stray = sorted(set(answers) - set(ids))
    if stray:
        raise InputError(f"answers 中的园区不在 --parks 中：{stray[:10]}", f"answers name parks not in --parks: {stray[:10]}")
    names = parks[a.name_field].fillna("").astype(str) if a.name_field in parks.columns else pd.Series([""] * len(parks))
    frames = []
    for pid, name, (_, row) in zip(ids, names, parks.iterrows()):
        result = ca.evaluate_park(answers.get(pid, {}), row)
        frames.append(ca.result_rows(pid, name, result))
        print(f"{pid}\t{result.anhui.overall}\t{result.national.overall}")
    table = pd.concat(frames, ignore_index=True)
    rec = provenance.record(datasets=[{"role": "parks", "name": Path(a.parks).name, "file": str(a.parks),
                                       "sha256": provenance.file_sha256(a.parks)},
                                      {"role": "answers", "name": Path(a.inputs).name, "file": str(a.inputs),
                                       "sha256": provenance.file_sha256(a.inputs)}],
                            tables={"checklist_criteria": ca.ck.CRITERIA_CSV, "checklist_national": ca.ck.NATIONAL_CSV},
                            extra={"command": "checklist"})
    write_report(table, out, rec, lang=a.lang, sheet="checklist")
    print(f"wrote {out} ({len(table)} rows)", file=sys.stderr)
    return 0

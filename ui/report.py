"""Exports of the Parks and Siting pages, all written by ``reports``: the Parks Excel (same
labelled headers as the CLI's), and the scenario Excel workbook and printable PDF, assembled from
the ranking, the engine's indicators, each park's saved checklist and the data manifest."""
from __future__ import annotations

import pandas as pd

from indicators import checklist
from core.errors import InputError
from core.i18n import t
from core.text import Text
import reports
from ui import common, parks


def _checklists(sub: pd.DataFrame) -> tuple[dict, dict, pd.DataFrame]:
    store = common.store()
    per_park, credits, rows = {}, {}, []
    for r in sub.itertuples():
        inputs = store.checklist(r.park_id)
        em, cr = inputs.pop("_emissions_tco2", None), inputs.pop("_credits_tco2", None)
        try:
            table, overall = checklist.evaluate(inputs, r.green_coverage_pct, r.reliability)
        except InputError:
            table, overall = checklist.evaluate({}, r.green_coverage_pct, r.reliability)
        per_park[r.park_id] = (table, overall)
        if em not in (None, "") and cr not in (None, ""):
            try:
                credits[r.park_id] = checklist.credit_check(em, cr)
            except InputError:
                pass
        t = table.assign(park_id=r.park_id, name=r.name, overall=overall)
        rows.append(t)
    flat = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return per_park, credits, flat


def park_columns() -> dict[str, Text]:
    """Headers of the columns the Parks page adds to the engine's table."""
    return {"source": Text(t("parks.col.source", "zh"), t("parks.col.source", "en"))}


def parks_excel(df: pd.DataFrame, lang: str) -> bytes:
    """The Parks page's Excel download: the same labelled headers as ``python -m indicators
    parks --out x.xlsx --lang …`` (both are ``reports.excel_bytes``), park sources in words."""
    if "source" in df.columns:
        df = df.assign(source=[t(f"parks.source.{s}", lang) for s in df["source"]])
    return reports.excel_bytes({"parks": df}, lang, extra=park_columns())


def scenario_excel(sub: pd.DataFrame, ranked: pd.DataFrame, sens: pd.DataFrame, lang: str) -> bytes:
    _, _, flat = _checklists(sub)
    sheets = {"ranking": ranked, "indicators": sub.drop(columns=["warnings", "warnings_zh", "zones"], errors="ignore"),
              "sensitivity": sens, "checklist": flat}
    return reports.excel_bytes(sheets, lang)


def scenario_pdf(name: str, sub: pd.DataFrame, ranked: pd.DataFrame, lang: str) -> bytes:
    per_park, credits, _ = _checklists(sub)
    build = common.build_id()
    geo = parks.current_parks()
    return reports.scenario_pdf(
        scenario=name, ranking=ranked, indicators=sub, checklists=per_park, credits=credits,
        sources=common.manifest(build)["layers"],
        province=common._load_layer("province", build, None),
        zones=common._load_layer("zones", build, common.active_upload_id("zones")),
        parks=geo[geo["park_id"].isin(sub["park_id"])], lang=lang)

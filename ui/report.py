"""Exports of the Parks and Siting pages, all written by ``reports``: the Parks Excel (same
labelled headers as the CLI's), and the scenario Excel workbook and printable PDF, assembled from
the ranking, the engine's indicators, each park's saved checklist and the sources: the datasets
in use (file name, SHA-256, source, licence) and the built-in layers' provenance (manifest).
``reports`` never imports ``ui``: the records are assembled here and passed in."""
from __future__ import annotations

import pandas as pd

from indicators import checklist_answers
from indicators import table as ind
from core import paths
from core.errors import InputError
from core.i18n import t
from core.text import Text
import reports
from layers import catalog
from storage import workspace as ws
from ui import common, data_in_use, parks


def _checklists(sub: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """(park_id → ``checklist_answers.evaluate_park`` result, the flat rows of every park) from
    each park's saved answers and its indicator row (map hint, sink); answers the rules now refuse
    are evaluated as empty."""
    store = common.store()
    per_park, rows = {}, []
    for _, r in sub.iterrows():
        try:
            res = checklist_answers.evaluate_park(store.checklist(r["park_id"]), r)
        except InputError:
            res = checklist_answers.evaluate_park({}, r)
        per_park[r["park_id"]] = res
        rows.append(checklist_answers.result_rows(r["park_id"], r["name"], res))
    flat = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return per_park, flat


def park_columns() -> dict[str, Text]:
    """Headers of the columns the Parks page adds to the engine's table."""
    return {"source": Text(t("parks.col.source", "zh"), t("parks.col.source", "en"))}


def sources_records(lang: str) -> list[dict]:
    """What the numbers were computed on: every dataset in use (role, name, file, SHA-256,
    source, licence, status "uploaded by user", year), then the built-in layers from the build
    manifest (their file and its SHA-256 from the manifest too). Text in ``lang``."""
    out = []
    for role, d in data_in_use.datasets_in_use():
        role_text = t("inuse.second_year", lang) if role == "landcover_alt" else ws.ROLE_LABELS[d.role].pick(lang)
        out.append({"role": role_text, "layer": d.name, "file": d.original_filename, "sha256": d.sha256,
                    "source": d.source, "licence": d.licence, "status": t("map.status.user", lang),
                    "year": "" if d.year is None else str(d.year)})
    m = common.manifest(common.build_id())
    files = m.get("files", {})
    for e in m.get("layers", []):
        lid = e.get("layer", "")
        spec = catalog.BY_ID.get(lid)
        fname = paths.LANDCOVER_NAME if lid == "landcover" else paths.GPKG_NAME
        out.append({"role": t("src.builtin", lang), "layer": spec.title(lang) if spec else lid,
                    "file": fname if fname in files else "", "sha256": files.get(fname, {}).get("sha256", ""),
                    "source": e.get("source", ""), "licence": e.get("licence", ""),
                    "status": t(f"map.status.{e['status']}", lang) if e.get("status") else "",
                    "year": str(e.get("year", "") or "")})
    return out


def parks_excel(df: pd.DataFrame, lang: str, sources: list[dict] | None = None, provenance: dict | None = None) -> bytes:
    """The Parks page's Excel download: the same labelled headers as ``python -m cli
    parks --out x.xlsx --lang …`` (both are ``reports.excel_bytes``), park sources in words,
    and a "sources" sheet when ``sources`` (``sources_records``) is given."""
    if "source" in df.columns:
        df = df.assign(source=[t(f"parks.source.{s}", lang) for s in df["source"]])
    return reports.excel_bytes({"parks": df}, lang, extra=park_columns(), sources=sources, provenance=provenance)


def with_smaa(ranked: pd.DataFrame, smaa: pd.DataFrame | None) -> pd.DataFrame:
    """The ranking with the SMAA columns (``siting_smaa.acceptability``'s table) joined by park, as
    ``gansu siting --draws`` writes it; parks set aside or excluded get none. ``attrs`` kept."""
    if smaa is None or not len(smaa):
        return ranked
    out = ranked.merge(smaa, on="park_id", how="left").set_axis(ranked.index)
    out.attrs = ranked.attrs
    return out


def siting_columns(columns) -> dict[str, Text]:
    """Headers of the SMAA columns (``acceptability_rank<r>``, ``central_w_<criterion>``,
    ``confidence``) and of the contributions no table labels (criteria of declared inputs)."""
    out = {}
    for c in map(str, columns):
        if c.startswith("acceptability_rank"):
            r = c[len("acceptability_rank"):]
            out[c] = Text(t("siting.smaa.col.share", "zh", r=r), t("siting.smaa.col.share", "en", r=r))
        elif c.startswith("central_w_"):
            k = c[len("central_w_"):]
            out[c] = Text(t("siting.smaa.col.central_w", "zh", label=ind.label(k, "zh")),
                          t("siting.smaa.col.central_w", "en", label=ind.label(k, "en")))
        elif c == "confidence":
            out[c] = Text(t("siting.smaa.col.confidence_share", "zh"), t("siting.smaa.col.confidence_share", "en"))
        elif c.startswith("contrib_") and reports.label_parts(c) is None:
            k = c[len("contrib_"):]
            out[c] = Text(t("siting.col.contrib", "zh", label=ind.label(k, "zh")),
                          t("siting.col.contrib", "en", label=ind.label(k, "en")))
    return out


def scenario_excel(sub: pd.DataFrame, ranked: pd.DataFrame, sens: pd.DataFrame, lang: str,
                   sources: list[dict] | None = None, provenance: dict | None = None,
                   stability: pd.DataFrame | None = None, smaa: pd.DataFrame | None = None) -> bytes:
    """The Siting workbook: the ranking (score, each criterion's contribution, ``cannot_rank_on``,
    ``excluded_because`` and — when ``smaa`` is given — the SMAA columns), the indicators, the ±10%
    sensitivity, the checklists, the Monte Carlo's stability when given, the sources and provenance."""
    _, flat = _checklists(sub)
    ranking = with_smaa(ranked, smaa)
    sheets = {"ranking": ranking, "indicators": sub.drop(columns=["warnings", "warnings_zh", "zones"], errors="ignore"),
              "sensitivity": sens, "checklist": flat}
    if stability is not None:
        sheets["rank_stability"] = stability
    return reports.excel_bytes(sheets, lang, sources=sources, provenance=provenance,
                               extra=siting_columns(ranking.columns))


def scenario_pdf(name: str, sub: pd.DataFrame, ranked: pd.DataFrame, lang: str,
                 sources: list[dict] | None = None, provenance: dict | None = None) -> bytes:
    per_park, _ = _checklists(sub)
    build = common.build_id()
    geo = parks.current_parks()
    return reports.scenario_pdf(
        scenario=name, ranking=ranked, indicators=sub, checklists=per_park,
        sources=sources if sources is not None else sources_records(lang),
        province=common.cached_layer("province", build, None),
        zones=common.cached_layer("zones", build, common.active_upload_id("zones")),
        parks=geo[geo["park_id"].isin(sub["park_id"])], lang=lang, provenance=provenance)

"""The sections of the scenario report, one function each; every one returns a list of flowables.

``Page`` carries what they share: language, font, styles, usable width, and the two builders
``para`` (escaped text) and ``table`` (header row + rows). All user text is XML-escaped
(reportlab Paragraphs parse markup), so a park named ``<b>x</b> & y`` prints as typed.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence
from xml.sax.saxutils import escape

import pandas as pd

from core.i18n import t
from core.text import Text
from indicators import exclusions as _exclusions
from indicators import provenance as _prov
from indicators import siting as _siting
from indicators import table as _table
from reports.labels import column_label
from reports.pdf.cells import fmt_value, status, status_of
from reports.pdf.mapdraw import map_drawing

COLON = Text("：", ": ")
MISSING = Text("缺失（按最差计）：", "missing (counted worst): ")  # a ranking without ``cannot_rank_on``
CANNOT = Text("无法排序（准则值未知）：", "cannot rank on (unknown): ")


@dataclass
class Page:
    lang: str
    font: str
    width: float  # usable width in points
    styles: dict = field(default_factory=dict)

    def __post_init__(self):
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle

        f = self.font
        self.styles = {
            "title": ParagraphStyle("t", fontName=f, fontSize=16, leading=21, spaceAfter=4, wordWrap="CJK"),
            "h": ParagraphStyle("h", fontName=f, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=4,
                                textColor=colors.HexColor("#1f3b57"), wordWrap="CJK"),
            "p": ParagraphStyle("p", fontName=f, fontSize=8.5, leading=11.5, wordWrap="CJK"),
            "small": ParagraphStyle("s", fontName=f, fontSize=7, leading=9, textColor=colors.HexColor("#444444"),
                                    wordWrap="CJK"),
            "cell": ParagraphStyle("c", fontName=f, fontSize=7, leading=8.6, wordWrap="CJK"),
            # an English header breaks between words only (CJK wrapping breaks anywhere, "carbo-n")
            "head": ParagraphStyle("hd", fontName=f, fontSize=7, leading=8.6, textColor=colors.white,
                                   wordWrap="CJK" if self.lang == "zh" else None),
        }

    def para(self, text: Any, style: str = "p"):
        from reportlab.platypus import Paragraph

        return Paragraph(escape(str(text)).replace("\n", "<br/>"), self.styles[style])

    def labelled(self, label: str, value: Any, style: str = "p"):
        """"情景：方案一" / "Scenario: plan one"."""
        return self.para(f"{label}{COLON.pick(self.lang)}{value}", style)

    def table(self, header: list[str], rows: list[list[Any]], widths: list[float] | None = None,
              status_col: int | None = None):
        from reportlab.lib import colors
        from reportlab.platypus import Table, TableStyle

        data = [[self.para(h, "head") for h in header]] + [[self.para(v, "cell") for v in r] for r in rows]
        tbl = Table(data, colWidths=widths, repeatRows=1)
        style = [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f3b57")),
                 ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa5b1")),
                 ("VALIGN", (0, 0), (-1, -1), "TOP"),
                 ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f3f5f7")]),
                 ("LEFTPADDING", (0, 0), (-1, -1), 2.5), ("RIGHTPADDING", (0, 0), (-1, -1), 2.5)]
        if status_col is not None:
            for i, r in enumerate(rows, start=1):
                shade = {"pass": "#d9f2d9", "fail": "#f8d7d7", "missing": "#fff3cd"}.get(status_of(r[status_col]))
                if shade:
                    style.append(("BACKGROUND", (status_col, i), (status_col, i), colors.HexColor(shade)))
        tbl.setStyle(TableStyle(style))
        return tbl

    def head(self, col: str, with_unit: bool = True) -> str:
        return column_label(col, self.lang, with_unit=with_unit)


@dataclass
class Parks:
    """The parks of the scenario in ranking order: ids, names, exclusion and map numbers."""
    ids: list[str]
    names: dict[str, str]
    excluded: dict[str, bool]
    map_no: dict[str, str]

    @classmethod
    def of(cls, ranking: pd.DataFrame) -> "Parks":
        ids = ranking["park_id"].astype(str).tolist() if "park_id" in ranking.columns else [str(i) for i in range(len(ranking))]
        names = dict(zip(ids, ranking["name"].astype(str) if "name" in ranking.columns else ids))
        excluded = dict(zip(ids, ranking["excluded"].astype(bool) if "excluded" in ranking.columns else [False] * len(ids)))
        return cls(ids, names, excluded, {pid: str(i + 1) for i, pid in enumerate(ids)})


def title_section(pg: Page, title: str, scenario: str, date_s: str) -> list:
    from reportlab.platypus import Spacer

    return [pg.para(title, "title"), pg.labelled(t("report.scenario", pg.lang), scenario),
            pg.labelled(t("report.date", pg.lang), date_s), Spacer(1, 4)]


def map_section(pg: Page, parks_: Parks, province, zones, parks, zone_field: str | None) -> list:
    labels = {p: (parks_.map_no[p], parks_.excluded[p]) for p in parks_.ids}
    drawing, note = map_drawing(province, zones, parks, labels, pg.lang, pg.font, pg.width, zone_field)
    if drawing is None:
        return []
    return [pg.para(t("report.map", pg.lang), "h"), drawing, pg.para(note, "small")]


def ranking_section(pg: Page, parks_: Parks, ranking: pd.DataFrame) -> list:
    lang, fw = pg.lang, pg.width
    rows = []
    model = "cannot_rank_on" in ranking.columns  # the siting model's: unknowns set a park aside, never score worst
    for i, r in ranking.iterrows():
        reason = r.get(f"exclusion_reason_{lang}", "") or ""
        miss, head = (r.get("cannot_rank_on", ""), CANNOT) if model else (r.get("missing", ""), MISSING)
        if miss and isinstance(miss, str):
            miss = head.pick(lang) + ", ".join(pg.head(m, with_unit=False) for m in miss.split("; "))
        rows.append([parks_.map_no[parks_.ids[i]], r.get("name", ""), fmt_value(r.get("rank"), "rank", lang),
                     fmt_value(r.get("score"), "score", lang), "\n".join(x for x in (reason, miss) if x)])
    return [pg.para(t("report.ranking", lang), "h"),
            pg.table([t("report.map_no", lang), pg.head("name"), pg.head("rank"), pg.head("score"),
                      t("report.siting.notes" if model else "report.notes", lang)], rows,
                     [0.08 * fw, 0.27 * fw, 0.08 * fw, 0.1 * fw, 0.47 * fw])]


def compliance_section(pg: Page, parks_: Parks, indicators: pd.DataFrame | None) -> list:
    """合规性审查: each park against every control line and exclusion layer of the run — a verdict per
    layer (conflict / within buffer / clear) and overall (``indicators.exclusions.verdicts``)."""
    if indicators is None or "park_id" not in indicators.columns:
        return []
    v = _exclusions.verdicts(indicators)
    layers = [c for c in v.columns if c not in ("park_id", "overall")]
    if not layers:
        return []
    lang, fw = pg.lang, pg.width
    by_id = v.set_index("park_id")
    label = {**_exclusions.EXCLUSION_LABELS}
    rows = []
    for pid in parks_.ids:
        if pid not in by_id.index:
            continue
        r = by_id.loc[pid]
        cells = [_exclusions.VERDICT_LABELS[x].pick(lang) if x in _exclusions.VERDICT_LABELS else "—"
                 for x in [*(r[k] for k in layers), r["overall"]]]
        rows.append([parks_.map_no[pid], parks_.names[pid], *cells])
    w = 0.62 / (len(layers) + 1)
    return [pg.para(t("report.compliance", lang), "h"), pg.para(t("report.compliance.note", lang), "small"),
            pg.table([t("report.map_no", lang), pg.head("name"), *(label[k].pick(lang) for k in layers),
                      t("report.compliance.overall", lang)], rows,
                     [0.08 * fw, 0.3 * fw, *([w * fw] * (len(layers) + 1))])]


def weights_section(pg: Page, ranking: pd.DataFrame, weights: Mapping[str, float] | None) -> list:
    from reportlab.platypus import Spacer

    lang, fw = pg.lang, pg.width
    out = []
    w = dict(weights if weights is not None else ranking.attrs.get("weights", {}))
    if w:
        dirs = ranking.attrs.get("directions", {})
        rows = [[pg.head(c), t("report.higher" if dirs.get(c, _siting.direction(c)) > 0 else "report.lower", lang),
                 f"{100 * v:.1f}%"] for c, v in w.items()]
        out += [pg.para(t("report.weights", lang), "h"),
                pg.table([pg.head("criterion"), t("report.direction", lang), t("report.weight", lang)],
                         rows, [0.55 * fw, 0.25 * fw, 0.2 * fw])]
    dropped = ranking.attrs.get("dropped") or []
    if dropped:
        out.append(pg.para(t("report.siting.dropped", lang, names=", ".join(pg.head(c, with_unit=False)
                                                                              for c in dropped)), "small"))
    vfs = {c: v for c, v in (ranking.attrs.get("value_functions") or {}).items() if v != "linear"}
    if vfs:
        out.append(pg.para(t("report.siting.vf", lang, items="; ".join(f"{pg.head(c, with_unit=False)}: {v}"
                                                                         for c, v in vfs.items())), "small"))
    method = "report.siting.method" if "unknown" in ranking.attrs else "report.method"
    return out + [Spacer(1, 3), pg.para(t(method, lang), "small")]


def sensitivity_section(pg: Page, sensitivity: pd.DataFrame | None) -> list:
    if sensitivity is None:
        return []
    lang, fw = pg.lang, pg.width
    out = [pg.para(t("report.sensitivity", lang), "h")]
    if sensitivity.empty:
        return out + [pg.para(t("report.stable", lang))]
    rows = [[r[f"criterion_label_{lang}"], r["change"], r["name"], fmt_value(r["rank_from"], "rank_from", lang),
             fmt_value(r["rank_to"], "rank_to", lang)] for _, r in sensitivity.iterrows()]
    cols = ["criterion", "change", "name", "rank_from", "rank_to"]
    return out + [pg.table([pg.head(c) for c in cols], rows, [0.3 * fw, 0.14 * fw, 0.32 * fw, 0.12 * fw, 0.12 * fw])]


def indicators_section(pg: Page, parks_: Parks, indicators: pd.DataFrame | None) -> list:
    """The summary columns of the indicator table (``summary=True``), parks in ranking order. The
    columns are split over as many tables as it takes for every value to stay on one line (a
    number is never wrapped mid-number); each table repeats the park's name."""
    from reportlab.platypus import Spacer

    if indicators is None or not len(indicators):
        return []
    ind = indicators.reset_index(drop=True)
    if "park_id" in ind.columns:
        pos = {str(p): i for i, p in enumerate(ind["park_id"].astype(str))}
        ind = ind.iloc[[pos[p] for p in parks_.ids if p in pos]].reset_index(drop=True)
    cols = _table.summary_columns(ind.columns, exclude=("park_id",))  # the name column names the park
    if not cols:
        return []
    cells = {c: [fmt_value(v, c, pg.lang) for v in ind[c]] for c in cols}
    heads = {c: pg.head(c) for c in cols}
    lead = [c for c in cols if c == "name"]
    lead_w = 0.16 * pg.width if lead else 0.0
    out = [pg.para(t("report.indicators", pg.lang), "h")]
    for n, group in enumerate(column_groups(pg, [c for c in cols if c not in lead], cells, heads, pg.width - lead_w)):
        widths = [lead_w] * len(lead) + [w for _, w in group]
        shown = lead + [c for c, _ in group]
        rows = [[cells[c][i] for c in shown] for i in range(len(ind))]
        out += ([Spacer(1, 4)] if n else []) + [pg.table([heads[c] for c in shown], rows, widths)]
    return out


LATIN_WORD = re.compile(r"[^\s\u2e80-\u9fff\uff00-\uffef]+")  # a run a header may not break (CJK breaks anywhere)
CELL_PADDING = 2 * 2.5 + 1.5  # a table cell's left and right padding (``Page.table``) and a little slack


def column_groups(pg: Page, cols: list[str], cells: Mapping[str, list[str]], heads: Mapping[str, str],
                  width: float) -> list[list[tuple[str, float]]]:
    """``cols`` in order, cut into groups that fit ``width`` with every cell on one line: a column
    is as wide as its widest value, its header's longest word and a third of its header (at most
    three header lines); each group's spare width is shared out evenly. Returns
    [[(column, width), …], …]."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    size = pg.styles["cell"].fontSize

    def need(c: str) -> float:
        words = [stringWidth(w, pg.font, size) for w in LATIN_WORD.findall(str(heads[c]))]  # CJK wraps anywhere
        values = [stringWidth(v, pg.font, size) for v in cells[c]]
        third = stringWidth(str(heads[c]), pg.font, size) / 3
        return min(width, max(values + words + [third]) + CELL_PADDING)

    groups: list[list[tuple[str, float]]] = []
    for c in cols:
        w = need(c)
        if not groups or sum(x for _, x in groups[-1]) + w > width:
            groups.append([])
        groups[-1].append((c, w))
    out = []
    for g in groups:
        spare = (width - sum(w for _, w in g)) / len(g)
        out.append([(c, w + spare) for c, w in g])
    return out


def checklist_section(pg: Page, parks_: Parks, checklists: Mapping[str, Any] | None) -> list:
    """Per park (``indicators.checklist_answers.ParkResult``): the admission checklist with its
    overall verdict and reasons, the national indicators (indicative only) and the credit check
    with and without the park's sink."""
    from reportlab.platypus import KeepTogether, Spacer

    if not checklists:
        return []
    lang, fw = pg.lang, pg.width
    out = [pg.para(t("report.checklist", lang), "h")]
    cols = [f"label_{lang}", f"threshold_text_{lang}", "value", "status", f"note_{lang}"]
    widths = [0.3 * fw, 0.12 * fw, 0.1 * fw, 0.12 * fw, 0.36 * fw]
    for pid, res in checklists.items():
        pid = str(pid)
        block = []
        for v in (res.anhui, res.national):
            rows = [[r[f"label_{lang}"], r[f"threshold_text_{lang}"],
                     r[f"value_text_{lang}"], status(r["status"], lang), r[f"note_{lang}"]] for _, r in v.table.iterrows()]
            block += [pg.labelled(f"{parks_.names.get(pid, pid)} — {v.checklist.title.pick(lang)} — "
                                  f"{t('report.overall', lang)}", status(v.overall, lang)),
                      pg.para(v.reasons_text(lang), "small"), Spacer(1, 2),
                      pg.table([pg.head(c) for c in cols], rows, widths, status_col=3), Spacer(1, 4)]
        cr = res.credit
        if cr:
            lines = [f"{status(cr['status'], lang)} — {cr[f'note_{lang}']}", cr["without_sink"][f"note_{lang}"]]
            if cr["with_sink"] is not None:
                lines += [cr["with_sink"][f"note_{lang}"], cr[f"sink_note_{lang}"]]
            block += [pg.labelled(t("report.credit", lang), "\n".join(lines))]
        out += [KeepTogether(block[:5]), *block[5:], Spacer(1, 6)]
    return out


def sources_section(pg: Page, sources: Sequence[Mapping[str, Any]], font_desc: str) -> list:
    """Every source: manifest entries (layer, status, source, licence, year) and the datasets in
    use, which also carry ``role``, ``file`` and ``sha256``: their file names are a column and each
    SHA-256 is printed in full on its own line under the table (a hash is not wrapped in a cell)."""
    from reportlab.platypus import Spacer

    out = []
    if sources:
        keys = ["role", "layer", "status", "source", "licence", "year", "file"]
        for k in ("role", "status", "file"):
            if not any(s.get(k) for s in sources):
                keys.remove(k)
        rows = [[s.get(k, "") for k in keys] for s in sources]
        widths = {"role": 0.1, "layer": 0.15, "status": 0.12, "source": 0.43, "licence": 0.17, "year": 0.13,
                  "file": 0.16}
        tot = sum(widths[k] for k in keys)
        heads = [t(f"col.{k}", pg.lang) if k in ("layer", "status", "source", "licence", "year")
                 else t(f"src.col.{k}", pg.lang) for k in keys]
        out += [pg.para(t("report.sources", pg.lang), "h"),
                pg.table(heads, rows, [widths[k] / tot * pg.width for k in keys])]
        hashed = list(dict.fromkeys((s.get("file") or s.get("layer", ""), s["sha256"]) for s in sources
                                    if s.get("sha256")))  # one line per file
        if hashed:
            out += [Spacer(1, 3), pg.para(t("src.col.sha256", pg.lang), "small")]
            out += [pg.para(f"{f}: {h}", "small") for f, h in hashed]
    return out + [Spacer(1, 6), pg.para(f"PDF font: {font_desc}", "small")]


def provenance_section(pg: Page, provenance: Mapping[str, Any] | None) -> list:
    """The provenance record (``indicators.provenance``), one "key: value" line each."""
    if not provenance:
        return []
    out = [pg.para(t("prov.title", pg.lang), "h")]
    out += [pg.para(f"{k}: {v}", "small") for k, v in _prov.rows(provenance).itertuples(index=False)]
    return out


def date_text(date: _dt.date | str | None) -> str:
    date = date or _dt.date.today()
    return date.isoformat() if isinstance(date, (_dt.date, _dt.datetime)) else str(date)

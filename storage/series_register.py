"""Registering a land-cover series in one go: one file per year of one product (CLCD, GLC_FCS30D …),
referenced in place on the server. Every file is checked first — a year given twice, a file on
another grid (``storage.series_rules``: named, with how it differs) refuse the whole series before
a pixel is scanned — then each year is checked and scanned like a land cover
(``raster_register.landcover_record``: nodata, the legend, the map's COG), with the legend given
or detected on the first year imposed on the others, and all the years are added to the store in
one transaction (and, ``use``, put in use as the series): a refusal or a failure at any year leaves
nothing registered and no folder behind.

May import: ``core`` and ``layers`` only.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from core import paths
from core.errors import InputError
from storage import series_rules as rules
from storage.item_rows import insert_dataset, set_in_use_row
from storage.raster_register import landcover_record
from storage.raster_scan import Progress
from storage.workspace import Dataset, legend_key


def default_name(path: Path, year: int) -> str:
    """The series' name from its first file: the stem without its year ("clcd_2020" → "clcd")."""
    stem = re.sub(rf"(?<!\d){year}(?!\d)", "", path.stem).strip(" _-.")
    return stem or path.stem


def register_series(store, items: list[tuple[int, str | Path]], *, legend: str | None = None,
                    name: str | None = None, source: str = "", licence: str = "", nodata: float | None = None,
                    use: bool = False, actor=None, progress: Progress | None = None) -> list[Dataset]:
    """Register ``items`` = [(year, file)] as land-cover datasets of one series (one name, one legend:
    ``legend`` or the one detected on the first year; years in order) and return them in year order;
    ``use`` puts them in use in the ``landcover_series`` slot (an admin). Raises ``InputError``
    (bilingual, the file named) for fewer than two years, a year twice, a missing file, a file on
    another grid, codes outside the legend; ``NodataMissing`` / ``LegendAmbiguous`` as a land cover."""
    pairs = sorted(((int(y), Path(f).resolve()) for y, f in items), key=lambda p: p[0])
    labels = [f"{y} ({f.name})" for y, f in pairs]
    rules.check_count(len(pairs))
    rules.check_years(labels, [y for y, _ in pairs])
    for _, f in pairs:
        if not f.is_file():
            raise InputError(f"找不到文件 {f}。", f"file {f} not found.")
    store.authorize(actor, "admin" if use else "editor", what="dataset:series")  # refused before the scans
    # layers.readers loads every reader (pyogrio, geopandas): imported on first use, not at start-up time
    from layers.readers.gdal_safety import default_vrt_roots

    rules.check_grids(labels, [rules.grid_facts(f, f.name, vrt_roots=default_vrt_roots(f)) for _, f in pairs])
    series_name = name or default_name(pairs[0][1], pairs[0][0])
    recs: list[Dataset] = []
    try:
        lg = legend
        for y, f in pairs:
            rec = landcover_record(store, [f], legend=lg, year=y, name=series_name, source=source, licence=licence,
                                   nodata=nodata, progress=progress)
            recs.append(rec)
            lg = lg if lg is not None else rec.legend  # detected on the first year: imposed on the others
        rules.check_legends(labels, [legend_key(r.legend) for r in recs], [r.legend for r in recs])
        p = store.authorize(actor, "admin" if use else "editor", what=f"dataset:{recs[0].id}")
        with store.transaction() as cur:
            for rec in recs:
                insert_dataset(cur, rec.id, "landcover", rec.to_record(), p)
            if use:
                set_in_use_row(cur, rules.SLOT, [r.id for r in recs], p=p)
    except BaseException:
        for rec in recs:
            shutil.rmtree(paths.workspace_dir() / rec.id, ignore_errors=True)
        raise
    return recs

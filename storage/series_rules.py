"""The rules a land-cover series obeys: several land-cover datasets, one per year, chosen together
in the ``landcover_series`` slot of the data in use (``layers/inputs.py``) — at least two years,
each with its year, the years distinct, one legend, one pixel grid (CRS, pixel size, origin and
size). ``storage.workspace.use`` applies them to registered datasets (``check_series`` there),
``storage.series_register`` to the files before it registers any. Every refusal names the years
or files concerned, in Chinese and English.

May import: ``core`` and ``layers`` only.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from core.errors import InputError
from storage.raster_scan import tile_facts

SLOT = "landcover_series"  # the slot of the data in use (layers/inputs.py)


def check_count(n: int) -> None:
    if n < 2:
        raise InputError(f"土地覆被年度序列至少需要两个年份（现有 {n} 个）：请选择同一产品的多个年份。",
                         f"a land-cover series needs at least two years ({n} given): choose several years of one "
                         "product.")


def check_years(labels: list[str], years: list[int | None]) -> None:
    """Every member has a year, and no year comes twice."""
    missing = [lb for lb, y in zip(labels, years) if y is None]
    if missing:
        raise InputError(f"土地覆被年度序列中每个数据集都须有年份：{'、'.join(missing)} 没有年份（登记时用 --year 说明）。",
                         f"every dataset of a land-cover series needs its year: {', '.join(missing)} has none "
                         "(give --year when registering it).")
    twice = sorted(y for y, n in Counter(years).items() if n > 1)
    if twice:
        names = [lb for lb, y in zip(labels, years) if y in twice]
        yrs = ", ".join(map(str, twice))
        raise InputError(f"土地覆被年度序列中同一年份出现多次（{yrs}：{'、'.join(names)}）：每年只能有一个数据集。",
                         f"a year appears more than once in the land-cover series ({yrs}: {', '.join(names)}): "
                         "one dataset per year.")


def check_legends(labels: list[str], legend_keys: list[str | None], legends: list[str | None]) -> None:
    """One legend for all (``legend_keys``: what makes two legends the same, ``storage.workspace.legend_key``)."""
    for lb, k, lg in zip(labels[1:], legend_keys[1:], legends[1:]):
        if k != legend_keys[0]:
            a, b = _legend_name(legends[0]), _legend_name(lg)
            raise InputError(f"土地覆被年度序列须使用同一图例：{labels[0]} 为 {a}，{lb} 为 {b}。",
                             f"the years of a land-cover series must use one legend: {labels[0]} uses {a}, "
                             f"{lb} uses {b}.")


def _legend_name(legend: str | None) -> str:
    return Path(legend).name if legend and str(legend).endswith(".csv") else str(legend)


def grid_facts(path: str | Path, name: str, *, vrt_roots: list[Path] | None = None) -> dict:
    """CRS, transform, size (and the rest of ``raster_scan.tile_facts``) of one year's raster."""
    return tile_facts(Path(path), name, allow_vrt=True, vrt_roots=vrt_roots)


def _crs_text(crs) -> str:
    text = crs.to_string() if crs is not None else "—"
    return text if len(text) <= 80 else text[:77] + "…"


def grid_difference(f0: dict, f: dict) -> tuple[str, str] | None:
    """How the grid of ``f`` differs from that of ``f0`` (zh, en), None when it is the same."""
    if f["crs"] != f0["crs"]:
        a, b = _crs_text(f0["crs"]), _crs_text(f["crs"])
        return f"坐标系 {b}（应为 {a}）", f"CRS {b} instead of {a}"
    a, b = f0["transform"], f["transform"]
    # exact, as the engine compares them (zonal.pairraster.same_grid): a class map is never resampled
    if (a.a, a.b, a.d, a.e) != (b.a, b.b, b.d, b.e):
        return (f"像元大小 {abs(b.a):g} × {abs(b.e):g}（应为 {abs(a.a):g} × {abs(a.e):g}）",
                f"pixel size {abs(b.a):g} × {abs(b.e):g} instead of {abs(a.a):g} × {abs(a.e):g}")
    if (a.c, a.f) != (b.c, b.f):
        return (f"左上角 ({b.c!r}, {b.f!r})（应为 ({a.c!r}, {a.f!r})）",
                f"upper-left corner ({b.c!r}, {b.f!r}) instead of ({a.c!r}, {a.f!r})")
    if (f["width"], f["height"]) != (f0["width"], f0["height"]):
        return (f"大小 {f['width']} × {f['height']} 像元（应为 {f0['width']} × {f0['height']}）",
                f"size {f['width']} × {f['height']} pixels instead of {f0['width']} × {f0['height']}")
    return None


def check_grids(labels: list[str], facts: list[dict]) -> None:
    """Every year on the grid of the first: the first one that differs is named, with how."""
    for lb, f in zip(labels[1:], facts[1:]):
        diff = grid_difference(facts[0], f)
        if diff is not None:
            raise InputError(f"土地覆被年度序列的各年份须在同一格网上：{lb} 与 {labels[0]} 不同——{diff[0]}。"
                             "请先将各年份重采样到同一格网（坐标系、像元大小、左上角和大小均相同）。",
                             f"the years of a land-cover series must share one grid: {lb} differs from {labels[0]} — "
                             f"{diff[1]}. Resample the years onto one grid first (same CRS, pixel size, corner and "
                             "size).")

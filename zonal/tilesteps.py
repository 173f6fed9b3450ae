"""The tiled engine's kernel for several land-cover years (``tile_steps``): exact transition areas
of every unit inside one work tile, for every step (two years) at once.

The tile is read once in row bands: each band decodes every year's window once, cuts the units at
the grid once (``tilekernel.cut_band``, the same cut the single-year kernel uses), then, in the
counting thread (compiled, no GIL), turns each step's two windows into compact pair indices
(``pairraster.PairCompactor``) and counts them under the units' runs and boundary cells. Counting a
step costs ~0.8 ns a cell, so a series of n years and s steps costs one read of the n years plus
s cheap passes, instead of s two-year reads and s cuts.

For uint8 years without mask bands (``PairCompactor.eligible``). A step meeting more than 256
distinct (from, to) pairs in the tile gives None; the caller counts it on full pair codes
(``pairraster.PairRaster`` through ``tilekernel.tile_units``): the same codes either way.
"""
from __future__ import annotations

import numpy as np

from zonal.coverage import Pieces
from zonal.histogram import Histogram
from zonal.pairraster import PairCompactor
from zonal.tilekernel import Layout, Acc, cut_band, pipelined, run_areas
from zonal.tileresult import Partial


def tile_steps(srcs: list, steps: list[tuple[int, int]], span, units: list[tuple[int, Pieces]]
               ) -> list[dict[int, Partial] | None]:
    """For each step (positions in ``srcs``, rasters on one grid) the exact pair-index areas of
    every unit inside the tile ``span``, decoded to pair codes; None for a step with more than 256
    distinct pairs in the tile."""
    lay = Layout(srcs[0], span, units)
    if not lay.boxes:
        return [{} for _ in steps]
    acc = {i: Acc() for i, *_ in lay.boxes}  # total, inside, pixels: the same for every step
    hists = [{i: Histogram() for i in acc} for _ in steps]
    pairs = [PairCompactor(srcs[a], srcs[b]) for a, b in steps]
    failed = [False] * len(steps)
    used = sorted({k for st in steps for k in st})

    def read(b0):
        win = lay.window(b0)
        return None if win is None else {k: srcs[k].read(*win) for k in used}

    def count(wins, w_in, cells, runs):
        """Every step of one band (the counting thread: steps in order, so each step's pair
        indices are met in band order whatever the thread timing)."""
        got = []
        rse = [(rr, s, e) for _, rr, s, e in runs]
        for k, (a, b) in enumerate(steps):
            codes = None if failed[k] else pairs[k].compact(wins[a], wins[b])
            if codes is None:
                failed[k] = True
                got.append(None)
                continue
            edge = [np.bincount(codes[rr, cc], weights=wb, minlength=256) for _, rr, cc, wb in cells]
            got.append((edge, run_areas(codes, w_in, rse) if rse else None))
        return [i for i, *_ in cells], [i for i, *_ in runs], got

    def cut(b0, wins, counter):
        g0, g1 = lay.rows(b0)
        shape = None if wins is None else wins[used[0]].shape
        w_in, cells, runs = cut_band(srcs[0], shape, g0, g1, lay, acc)
        if not cells and not runs:
            return None
        return counter.submit(count, wins, w_in, cells, runs)

    def apply_counted(band):
        edge_ids, run_ids, got = band
        for k, res in enumerate(got):
            if res is None:
                continue
            edge, areas = res
            h = hists[k]
            for j, i in enumerate(edge_ids):
                h[i].add_u8(edge[j])
            for j, i in enumerate(run_ids):
                h[i].add_u8(areas[j])

    pipelined(lay.starts, read, cut, apply_counted)
    return [None if failed[k] else
            {i: Partial(pairs[k].decode(hists[k][i].as_dict()), a.total, a.inside, a.pixels) for i, a in acc.items()}
            for k in range(len(steps))]

"""Work tiles of the tiled engine: ``TileGrid`` (a regular grid of tiles over the raster's pixel grid)
and ``tile_grid``, which aligns the tiles to the source's own tiles: a VRT's source tiles when they
form a regular grid (national WorldCover/CLCD tile sets), otherwise whole internal blocks of the
file (about ``TILE_SIDE`` pixels a side). A task never reads more than
``core.limits.MAX_RASTER_PIXELS``. The tiles of the first/last row and column extend without end
beyond the raster, so every cell of the plane belongs to exactly one tile (parts of a polygon
outside the raster are accounted).
"""
from __future__ import annotations

from dataclasses import dataclass

from core import limits
from layers.readers.raster import open_raster, vrt_sources

TILE_SIDE = 8192  # work-tile side (pixels) for a single file: whole internal blocks
_FAR = 1 << 62  # outer tiles extend to "infinity"


@dataclass(frozen=True)
class TileGrid:
    """A regular grid of work tiles over the raster's pixel grid (origin at pixel 0, 0)."""

    width: int
    height: int
    tile_w: int
    tile_h: int
    source: str  # "vrt-tiles" or "blocks"

    @property
    def ncols(self) -> int:
        return max(1, -(-self.width // self.tile_w))

    @property
    def nrows(self) -> int:
        return max(1, -(-self.height // self.tile_h))

    def __len__(self) -> int:
        return self.ncols * self.nrows

    def window(self, t: int) -> tuple[int, int, int, int]:
        """(row0, row1, col0, col1) of tile ``t`` inside the raster."""
        i, j = divmod(t, self.ncols)
        return (i * self.tile_h, min((i + 1) * self.tile_h, self.height),
                j * self.tile_w, min((j + 1) * self.tile_w, self.width))

    def span(self, t: int) -> tuple[int, int, int, int]:
        """Like ``window`` but outer tiles extend without end (cells outside the raster)."""
        i, j = divmod(t, self.ncols)
        r0 = -_FAR if i == 0 else i * self.tile_h
        r1 = _FAR if i == self.nrows - 1 else (i + 1) * self.tile_h
        c0 = -_FAR if j == 0 else j * self.tile_w
        c1 = _FAR if j == self.ncols - 1 else (j + 1) * self.tile_w
        return r0, r1, c0, c1

    def tile_of(self, row: int, col: int) -> int:
        i = min(max(row, 0), self.height - 1) // self.tile_h
        j = min(max(col, 0), self.width - 1) // self.tile_w
        return int(i * self.ncols + j)

    def tiles_over(self, r0: int, r1: int, c0: int, c1: int) -> list[int]:
        """Tiles whose span meets the pixel window [r0, r1) × [c0, c1)."""
        i0 = min(max(r0, 0), self.height - 1) // self.tile_h
        i1 = min(max(r1 - 1, 0), self.height - 1) // self.tile_h
        j0 = min(max(c0, 0), self.width - 1) // self.tile_w
        j1 = min(max(c1 - 1, 0), self.width - 1) // self.tile_w
        return [i * self.ncols + j for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)]


def tile_grid(raster, tile_side: int | None = None) -> TileGrid:
    """Work tiles aligned to the raster's own tiles (see module docstring)."""
    with open_raster(raster) as ds:  # a GeoTIFF or a checked VRT: GDAL never guesses
        width, height = ds.width, ds.height
        bh, bw = (int(v) for v in ds.block_shapes[0])
        sources = vrt_sources(ds) if ds.driver == "VRT" else None
    tw = th = None
    kind = "blocks"
    if sources and tile_side is None:
        sw, sh = sources[0].width, sources[0].height
        if sw > 0 and sh > 0 and all(s.width == sw and s.height == sh and s.x % sw == 0 and s.y % sh == 0
                                     for s in sources):
            tw, th, kind = sw, sh, "vrt-tiles"
    if tw is None:
        side = tile_side or TILE_SIDE
        tw = bw * max(1, side // bw) if bw < width else width
        th = bh * max(1, side // bh) if bh < height else height
        if tw == width and bw >= width:  # a striped file: full-width tiles of whole strips
            th = max(bh, (side * side // max(width, 1)) // bh * bh)
    while tw * th > limits.MAX_RASTER_PIXELS:  # what one task reads stays within the limit
        if tw >= th:
            tw = max(bw, (tw // 2) // bw * bw) if bw < tw else tw // 2
        else:
            th = max(bh, (th // 2) // bh * bh) if bh < th else th // 2
    return TileGrid(width, height, max(1, min(tw, width)), max(1, min(th, height)), kind)

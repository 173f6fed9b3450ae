"""What one task of the tiled engine returns: per-polygon code areas (``Partial``) by step.

Shared by the engine (``zonal.tiletask`` and ``zonal.tilekernel`` compute them, ``zonal.tiled``
merges them) and ``zonal.distributed`` (which caches them on disk and reads them back), so the
runner needs nothing of the engine. Standard library only: ``python -m cli --help`` stays light.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Partial:
    """Code areas (m²) of one polygon inside one task; ``outside_m2`` only for whole polygons."""

    codes: dict[int, float]
    total_m2: float
    inside_m2: float
    pixels: float
    outside_m2: float = 0.0


@dataclass
class TaskResult:
    tile: int
    parts: dict[int, Partial] = field(default_factory=dict)  # step 0 (the only one for one year)
    steps: dict[int, dict[int, Partial]] = field(default_factory=dict)  # steps >= 1 (multi-year)

    def step(self, k: int) -> dict[int, Partial]:
        return self.parts if k == 0 else self.steps.setdefault(k, {})

"""Value functions of siting criteria: how a raw criterion value (t C/ha, km, °, …) becomes a value
between 0 (worst) and 1 (best) before it is weighted — the transformation curve of a suitability
model (ArcGIS Suitability Modeler), written down so a reviewer can redo it.

- ``linear`` (the default): min–max over the parks being ranked, in the criterion's siting
  direction (1 = the best park on it, 0 = the worst); a criterion equal for every park gives 1.
- ``threshold:T``: 1 on the good side of T (higher-is-better: value ≥ T; lower-is-better: ≤ T), else 0.
- ``piecewise:x1=v1,x2=v2,…``: straight lines between the points (x ascending, v in 0–1), the end
  values beyond them; e.g. slope ``piecewise:8=1,25=0`` — 8° or less is fully suitable, 25° or more
  not at all. The points carry the direction themselves.

``parse("piecewise:8=1,25=0")`` reads the command line's and the page's text form; ``text()`` writes it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import InputError

KINDS = ("linear", "threshold", "piecewise")


@dataclass(frozen=True)
class ValueFunction:
    kind: str = "linear"
    points: tuple[tuple[float, float], ...] = ()  # threshold: ((T, 1),); piecewise: (x, value) by x

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InputError(f"价值函数类型须为 {KINDS} 之一，而非 {self.kind!r}",
                             f"value function kind must be one of {KINDS}, not {self.kind!r}")
        if self.kind == "threshold" and len(self.points) != 1:
            raise InputError("阈值函数需要一个阈值", "a threshold function needs one threshold")
        if self.kind == "piecewise":
            xs = [p[0] for p in self.points]
            if len(xs) < 2 or any(b <= a for a, b in zip(xs, xs[1:])):
                raise InputError("分段线性函数需要至少两个点，x 递增", "a piecewise function needs ≥ 2 points with x ascending")
            if any(not 0 <= p[1] <= 1 for p in self.points):
                raise InputError("分段线性函数的取值须在 0–1 之间", "piecewise values must lie in 0–1")

    def apply(self, x: np.ndarray, direction: int) -> np.ndarray:
        """Values 0–1 of the raw values ``x`` (NaN stays NaN) of the parks being ranked."""
        x = np.asarray(x, dtype="float64")
        nan = np.isnan(x)
        if self.kind == "threshold":
            t = self.points[0][0]
            v = (x >= t) if direction > 0 else (x <= t)
            return np.where(nan, np.nan, v.astype("float64"))
        if self.kind == "piecewise":
            xs, vs = zip(*self.points)
            return np.where(nan, np.nan, np.interp(x, xs, vs))
        if nan.all():
            return np.full(len(x), np.nan)
        lo, hi = np.nanmin(x), np.nanmax(x)
        span = hi - lo
        if not span > 0 or span <= 1e-12 * max(abs(lo), abs(hi)):
            return np.where(nan, np.nan, 1.0)  # cannot discriminate
        v = (x - lo) / span if direction > 0 else (hi - x) / span
        return np.clip(v, 0.0, 1.0)

    def text(self) -> str:
        if self.kind == "linear":
            return "linear"
        if self.kind == "threshold":
            return f"threshold:{self.points[0][0]:g}"
        return "piecewise:" + ",".join(f"{a:g}={b:g}" for a, b in self.points)

    def constant_for(self, x: np.ndarray) -> bool:
        """A linear function over parks that all share one value (it cannot discriminate)."""
        if self.kind != "linear":
            return False
        x = np.asarray(x, dtype="float64")
        x = x[~np.isnan(x)]
        return len(x) > 0 and (np.ptp(x) == 0 or np.ptp(x) <= 1e-12 * np.max(np.abs(x)))


LINEAR = ValueFunction()


def parse(text: str) -> ValueFunction:
    """``linear`` | ``threshold:T`` | ``piecewise:x1=v1,x2=v2,…`` (bilingual error otherwise)."""
    kind, _, rest = str(text).strip().partition(":")
    kind = kind.strip().lower()
    try:
        if kind == "linear" and not rest:
            return LINEAR
        if kind == "threshold":
            return ValueFunction("threshold", ((float(rest), 1.0),))
        if kind == "piecewise":
            pts = tuple((float(a), float(b)) for a, b in (p.split("=") for p in rest.split(",") if p.strip()))
            return ValueFunction("piecewise", pts)
    except ValueError:
        pass
    raise InputError(f"无法识别的价值函数：{text!r}（linear、threshold:T 或 piecewise:x1=v1,x2=v2）",
                     f"value function not understood: {text!r} (linear, threshold:T or piecewise:x1=v1,x2=v2)")

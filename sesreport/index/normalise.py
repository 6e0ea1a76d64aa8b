"""One indicator's values across countries → comparable scores (higher always means more security).

Every function takes a 1-D array with NaN for missing countries and returns an array of the same
shape (NaN stays NaN) plus the parameters it actually used, so that the methodology can be printed.

Scales: ``minmax``, ``rank`` and ``distance_to_target`` give scores in [0, 1]; ``zscore`` gives
unbounded standard scores ("z" scale), centred on 0.

Invariances (tested): with observed goalposts, ``minmax`` and ``zscore`` give the same scores after
any change of unit ``a·x + b`` with ``a > 0``; ``rank`` after any increasing transformation. With
declared goalposts (or a declared target/worst), the goalposts are in the indicator's unit: rescale
them with the data, or the scores change.

For one country, improving its own value never lowers its own score under any of the four methods
(for ``zscore``: ``d z_c / d x_c = ((n-1)s² - (x_c - m)²) / (n s³) ≥ 0`` because ``|z| ≤ √(n-1)``).
"""

from __future__ import annotations

import math

import numpy as np

from .config import Normalisation

UNIT, Z = "unit", "z"


def transform(x: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Apply the declared transform; returns the values and a mask of values it could not take."""
    if how == "log":
        bad = ~np.isnan(x) & (x <= 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(bad | np.isnan(x), np.nan, np.log(np.where(x > 0, x, 1.0)))
        return out, bad
    return x, np.zeros(x.shape, dtype=bool)


def untransform(value: float | None, how: str) -> float | None:
    if value is None or not math.isfinite(value):
        return value
    return float(math.exp(value)) if how == "log" else float(value)


def forward(value: float | None, how: str) -> float | None:
    if value is None:
        return None
    return float(math.log(value)) if how == "log" else float(value)


def winsorise(x: np.ndarray, lower: float, upper: float) -> tuple[np.ndarray, float, float]:
    """Cap values at the lower and upper quantiles (linear interpolation) of the countries with data."""
    ok = ~np.isnan(x)
    if not ok.any():
        return x.copy(), math.nan, math.nan
    lo, hi = np.quantile(x[ok], [lower, upper])
    return np.clip(x, lo, hi), float(lo), float(hi)


def minmax(x: np.ndarray, higher_better: bool, lo: float | None = None,
           hi: float | None = None) -> tuple[np.ndarray, dict]:
    """(x − min) / (max − min); declared goalposts replace the observed extremes and values beyond them are
    scored as the goalpost. Inverted (max − x) / (max − min) for lower-is-better. A constant indicator scores 0.5."""
    ok = ~np.isnan(x)
    lo_used = float(np.min(x[ok])) if lo is None and ok.any() else lo
    hi_used = float(np.max(x[ok])) if hi is None and ok.any() else hi
    if lo_used is None or hi_used is None:
        return np.full(x.shape, np.nan), {"min": lo_used, "max": hi_used}
    if hi_used <= lo_used:
        score = np.where(ok, 0.5, np.nan)
    else:
        score = np.clip((x - lo_used) / (hi_used - lo_used), 0.0, 1.0)
        if not higher_better:
            score = 1.0 - score
    return score, {"min": lo_used, "max": hi_used}


def zscore(x: np.ndarray, higher_better: bool) -> tuple[np.ndarray, dict]:
    """(x − mean) / standard deviation (population, ddof 0); negated for lower-is-better. Constant: 0."""
    ok = ~np.isnan(x)
    if not ok.any():
        return np.full(x.shape, np.nan), {"mean": None, "sd": None}
    mean = float(np.mean(x[ok]))
    sd = float(np.std(x[ok]))
    score = np.where(ok, 0.0, np.nan) if sd == 0 else (x - mean) / sd
    return (score if higher_better else -score), {"mean": mean, "sd": sd}


def rank(x: np.ndarray, higher_better: bool) -> tuple[np.ndarray, dict]:
    """Percentile rank (r − 1) / (n − 1) with average ranks for ties; the best country scores 1. One country: 0.5."""
    ok = ~np.isnan(x)
    n = int(ok.sum())
    score = np.full(x.shape, np.nan)
    if n == 1:
        score[ok] = 0.5
    elif n > 1:
        values = x[ok] if higher_better else -x[ok]
        score[ok] = (_average_ranks(values) - 1.0) / (n - 1)
    return score, {"countries": n}


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    sorted_v = values[order]
    ranks = np.empty(len(values))
    # groups of equal values share the mean of their positions
    edges = np.flatnonzero(np.diff(sorted_v) != 0) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [len(values)]))
    mean_pos = (starts + ends - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(mean_pos, ends - starts)
    return ranks


def distance_to_target(x: np.ndarray, higher_better: bool, target: float,
                       worst: float | None = None) -> tuple[np.ndarray, dict]:
    """(x − worst) / (target − worst), capped to [0, 1]: a country at or beyond the target scores 1, the
    worst value 0 (the worst observed value unless declared). When every country meets the target all score 1."""
    ok = ~np.isnan(x)
    if worst is None:
        if not ok.any():
            return np.full(x.shape, np.nan), {"target": target, "worst": None}
        worst = float(np.min(x[ok]) if higher_better else np.max(x[ok]))
    span = target - worst
    if (higher_better and span <= 0) or (not higher_better and span >= 0):
        score = np.where(ok, 1.0, np.nan)
    else:
        score = np.clip((x - worst) / span, 0.0, 1.0)
    return score, {"target": target, "worst": worst}


def normalise(x: np.ndarray, norm: Normalisation, higher_better: bool,
              how: str = "none") -> tuple[np.ndarray, str, dict]:
    """Scores, their scale ('unit' or 'z') and the parameters used (in the indicator's own unit)."""
    method = norm.method
    if method == "minmax":
        score, p = minmax(x, higher_better, forward(norm.min, how), forward(norm.max, how))
        params = {"min": untransform(p["min"], how), "max": untransform(p["max"], how),
                  "min_from": "declared" if norm.min is not None else "observed",
                  "max_from": "declared" if norm.max is not None else "observed"}
        return score, UNIT, params
    if method == "zscore":
        score, p = zscore(x, higher_better)
        unit = "log units" if how == "log" else "indicator units"
        return score, Z, {"mean": p["mean"], "sd": p["sd"], "in": unit}
    if method == "rank":
        score, p = rank(x, higher_better)
        return score, UNIT, p
    if method == "distance_to_target":
        target = forward(norm.target, how)
        assert target is not None  # Normalisation requires a target for this method
        score, p = distance_to_target(x, higher_better, target, forward(norm.worst, how))
        return score, UNIT, {"target": untransform(p["target"], how), "worst": untransform(p["worst"], how),
                             "worst_from": "declared" if norm.worst is not None else "observed"}
    raise ValueError(method)


def clipped_by_goalposts(x: np.ndarray, norm: Normalisation, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Values beyond declared min-max goalposts (scored as the goalpost): mask and the goalpost used."""
    used = np.full(x.shape, np.nan)
    mask = np.zeros(x.shape, dtype=bool)
    if norm.method != "minmax":
        return mask, used
    lo, hi = forward(norm.min, how), forward(norm.max, how)
    if lo is not None:
        below = ~np.isnan(x) & (x < lo)
        mask |= below
        used[below] = norm.min
    if hi is not None:
        above = ~np.isnan(x) & (x > hi)
        mask |= above
        used[above] = norm.max
    return mask, used

"""Children's scores → a node's value: coverage rule, weights (equal, explicit, PCA) and aggregation.

Arrays are batched over Monte Carlo draws: children values are ``(D, C, k)`` (draws, countries,
children), availability ``(C, k)`` (it does not depend on weights or aggregation) and weights
``(D, k)``. A child without data for a country is left out and the weights of the others are
renormalised for that country (the usual "re-weighting over available components").

Geometric aggregation is only defined for positive numbers, so each child score is first brought
into [0, 1] (z-scores through the logistic function ``1 / (1 + e^(-1.702 z))``, which stays within
0.01 of the normal distribution function), then moved into [floor, 1] by ``floor + (1 - floor)·s``,
the weighted geometric mean taken, and the result moved back by ``(g - floor) / (1 - floor)``. A
country scoring 0 everywhere gets 0 and 1 everywhere gets 1, as with the arithmetic mean, and a
single zero pulls the node down hard without wiping it out (floor 0.01 is the familiar "rescale to
1–100 before a geometric mean").
"""

from __future__ import annotations

import numpy as np

LOGISTIC_SCALE = 1.702


def to_unit(values: np.ndarray) -> np.ndarray:
    """Map unbounded z-scores into (0, 1), increasing."""
    return 1.0 / (1.0 + np.exp(-LOGISTIC_SCALE * values))


def coverage_ok(avail: np.ndarray, min_count: int, min_share: float) -> np.ndarray:
    """Countries (rows of a (C, k) mask) with enough children with data; never true with none."""
    k = avail.shape[1]
    if k == 0:
        return np.zeros(avail.shape[0], dtype=bool)
    count = avail.sum(axis=1)
    return (count >= max(min_count, 1)) & (count + 1e-9 >= min_share * k)


def aggregate(values: np.ndarray, avail: np.ndarray, weights: np.ndarray, method: str, floor: float,
              z_children: np.ndarray) -> np.ndarray:
    """Weighted arithmetic or geometric mean over available children, (D, C, k) → (D, C).

    `z_children` (k,) marks children on the z scale (only used by the geometric mean)."""
    mask = avail[None, :, :]
    if method == "geometric":
        unit = np.where(z_children[None, None, :], to_unit(values), values)
        unit = floor + (1.0 - floor) * np.clip(unit, 0.0, 1.0)
        terms = np.log(np.where(mask, unit, 1.0))
    else:
        terms = np.where(mask, values, 0.0)
    w = weights[:, None, :] * mask  # (D, C, k)
    den = w.sum(axis=2)
    num = (terms * w).sum(axis=2)
    # all available children weighted 0 (possible with PCA or explicit zeros): fall back to equal weights
    zero = den <= 0
    if zero.any():
        eq = np.broadcast_to(mask, w.shape).astype(float)
        num = np.where(zero, (terms * eq).sum(axis=2), num)
        den = np.where(zero, eq.sum(axis=2), den)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = num / den
    if method == "geometric":
        return (np.exp(mean) - floor) / (1.0 - floor)
    return mean


def normalise_weights(raw: np.ndarray) -> np.ndarray:
    """Scale non-negative weights (last axis) to sum 1; all zero → equal."""
    raw = np.asarray(raw, dtype=float)
    total = raw.sum(axis=-1, keepdims=True)
    k = raw.shape[-1]
    if k == 0:
        return raw
    return np.where(total > 0, raw / np.where(total > 0, total, 1.0), 1.0 / k)


MIN_PCA_ROWS = 10


def pca_weights(values: np.ndarray, avail: np.ndarray) -> tuple[np.ndarray, str]:
    """Weights from the first principal component of the children's correlation matrix.

    Countries with data on every usable child (listwise); loadings are signed so that they sum to a
    positive number, negative ones set to 0 (a child moving against the common factor gets no weight),
    then scaled to sum 1. Falls back to equal weights, saying why, when PCA cannot be estimated."""
    c, k = values.shape
    equal = np.full(k, 1.0 / k) if k else np.zeros(0)
    usable = avail.any(axis=0)
    cols = np.flatnonzero(usable)
    if len(cols) < 2:
        return equal, "equal weights: PCA needs at least two children with data"
    rows = avail[:, cols].all(axis=1)
    n = int(rows.sum())
    if n < max(MIN_PCA_ROWS, len(cols) + 2):
        return equal, f"equal weights: only {n} countries have data on every child, too few for PCA"
    x = values[np.ix_(rows, cols)]
    sd = x.std(axis=0)
    if (sd == 0).any():
        return equal, "equal weights: a child does not vary across countries, PCA is undefined"
    z = (x - x.mean(axis=0)) / sd
    corr = z.T @ z / n
    eigval, eigvec = np.linalg.eigh(corr)
    v = eigvec[:, -1]
    if v.sum() < 0:
        v = -v
    v = np.clip(v, 0.0, None)
    if v.sum() <= 0:
        return equal, "equal weights: the first principal component has no positive loading"
    out = np.zeros(k)
    out[cols] = v / v.sum()
    share = float(eigval[-1] / eigval.sum())
    note = f"PCA on {n} countries with complete data; first component explains {share:.0%} of the variance"
    dropped = [int(i) for i in cols if out[i] == 0]
    if dropped:
        note += f"; {len(dropped)} child(ren) with a negative loading get weight 0"
    return out, note

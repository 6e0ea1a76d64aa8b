"""Invariants of the composite index, checked with Hypothesis.

- Monotonicity: improving one country's indicator in its good direction never lowers that country's
  value at any node above it. It holds for all four normalisations (min-max with observed or
  declared goalposts, z-score, rank, distance to target), with or without winsorisation, for
  arithmetic and geometric aggregation with fixed (equal or explicit) weights. It is not promised
  with PCA weights, which move with the data.
- Changing an indicator's unit (a·x + b, a > 0) leaves z-score and observed min-max results
  unchanged; with declared goalposts the goalposts must change with the data (else scores change).
  Rank results survive any increasing transformation.
- Explicit weights are normalised to sum 1; results do not depend on the order of input rows; a
  country without data for a form gets "insufficient data", never a zero.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sesreport.index import INSUFFICIENT, compute_index, spec_from_dict
from tests.test_index import CAT

# INDEX_EXAMPLES=2000 for a deeper search than the quick default
SETTINGS = settings(max_examples=int(os.environ.get("INDEX_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

CODES = ("emp", "unemp", "poor", "cover")
HIGHER = {"emp": True, "unemp": False, "poor": False, "cover": True}
TARGET = {"emp": 100.0, "unemp": 0.0, "poor": 0.0, "cover": 100.0}

METHODS = ("minmax", "minmax_declared", "zscore", "rank", "distance_to_target")


def norm_for(method: str, code: str, a: float = 1.0, b: float = 0.0):
    if method == "minmax_declared":
        return {"method": "minmax", "min": b, "max": a * 100.0 + b}
    if method == "distance_to_target":
        return {"method": "distance_to_target", "target": a * TARGET[code] + b}
    return method


def make_spec(method: str, aggregation: str = "arithmetic", weights=None, winsorise: bool = False,
              scale: dict[str, tuple[float, float]] | None = None):
    scale = scale or {}

    def entry(code):
        return {"normalisation": norm_for(method, code, *scale.get(code, (1.0, 0.0)))}

    lm = {"indicators": {"emp": entry("emp"), "unemp": entry("unemp")}}
    if weights is not None:
        lm["weights"] = {"emp": weights[0], "unemp": weights[1]}
    forms = {
        "labour_market": {"outcome": lm},
        "income": {"outcome": {"indicators": {"poor": entry("poor")}},
                   "process": {"indicators": {"cover": entry("cover")}}},
    }
    defaults = {"aggregation": aggregation,
                "winsorise": {"lower": 0.1, "upper": 0.9} if winsorise else "none",
                "coverage": {"min_count": 1}}
    return spec_from_dict({"label": "P", "reference_year": 2020, "forms": forms, "defaults": defaults,
                           "overall": {"coverage": {"min_count": 1}}}, CAT)


def to_frames(matrix: np.ndarray) -> dict[str, pd.DataFrame]:
    countries = [f"C{i:02d}" for i in range(matrix.shape[0])]
    out = {}
    for j, code in enumerate(CODES):
        col = matrix[:, j]
        keep = ~np.isnan(col)
        out[code] = pd.DataFrame({"iso3": np.array(countries)[keep], "year": 2020, "value": col[keep]})
    return out


# values on a half-point grid in [0, 100]: exact ties happen, near-ties that magnify rounding do not
cell = st.one_of(st.none(), st.integers(0, 200).map(lambda i: i / 2))


@st.composite
def matrices(draw, min_rows: int = 2, max_rows: int = 8):
    n = draw(st.integers(min_rows, max_rows))
    rows = [[draw(cell) for _ in CODES] for _ in range(n)]
    m = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)
    return m


def run(spec, m: np.ndarray, frames: dict | None = None):
    """The index over every row of the matrix as a country, with or without data."""
    return compute_index(spec, to_frames(m) if frames is None else frames,
                         countries=[f"C{i:02d}" for i in range(m.shape[0])])


@SETTINGS
@given(m=matrices(), method=st.sampled_from(METHODS), aggregation=st.sampled_from(("arithmetic", "geometric")),
       winsorise=st.booleans(), weights=st.none() | st.tuples(st.floats(0.1, 5), st.floats(0.1, 5)),
       data=st.data())
def test_improving_an_indicator_never_lowers_an_index_above_it(m, method, aggregation, winsorise, weights, data):
    present = np.argwhere(~np.isnan(m))
    if not len(present):
        return
    i, j = present[data.draw(st.integers(0, len(present) - 1))]
    delta = data.draw(st.integers(1, 100)) / 2
    code = CODES[j]
    better = m.copy()
    better[i, j] += delta if HIGHER[code] else -delta
    s = make_spec(method, aggregation, weights, winsorise)
    before = run(s, m)
    after = run(s, better)
    country = f"C{i:02d}"
    pd.testing.assert_series_equal(before.status.loc[country], after.status.loc[country])
    old, new = before.values.loc[country], after.values.loc[country]
    ok = old.notna()
    assert (new[ok] >= old[ok] - 1e-9).all(), (new[ok] - old[ok])[new[ok] < old[ok] - 1e-9]


@SETTINGS
@given(m=matrices(min_rows=3), method=st.sampled_from(("minmax", "zscore")), winsorise=st.booleans(),
       aggregation=st.sampled_from(("arithmetic", "geometric")),
       a=st.floats(0.01, 100), b=st.floats(-1000, 1000), j=st.integers(0, 3))
def test_change_of_unit_leaves_zscore_and_observed_minmax_unchanged(m, method, winsorise, aggregation, a, b, j):
    s = make_spec(method, aggregation, winsorise=winsorise)
    moved = m.copy()
    moved[:, j] = a * m[:, j] + b
    before, after = run(s, m), run(s, moved)
    pd.testing.assert_frame_equal(before.status, after.status)
    np.testing.assert_allclose(after.values.to_numpy(), before.values.to_numpy(), rtol=1e-7, atol=1e-7)


@SETTINGS
@given(m=matrices(min_rows=3), a=st.floats(0.01, 100), b=st.floats(-1000, 1000), j=st.integers(0, 3),
       method=st.sampled_from(("minmax_declared", "distance_to_target")))
def test_declared_goalposts_must_move_with_the_unit(m, a, b, j, method):
    moved = m.copy()
    moved[:, j] = a * m[:, j] + b
    before = run(make_spec(method), m)
    after = run(make_spec(method, scale={CODES[j]: (a, b)}), moved)
    np.testing.assert_allclose(after.values.to_numpy(), before.values.to_numpy(), rtol=1e-7, atol=1e-7)


def test_declared_goalposts_do_not_follow_the_data_alone():
    m = np.array([[10.0, 5.0, 20.0, 30.0], [40.0, 15.0, 10.0, 60.0]])
    s = make_spec("minmax_declared")
    before = run(s, m)
    after = run(s, m * 0.5)  # same countries in another unit, goalposts still 0–100
    assert before.scores.loc["C00", "emp"] == 0.10 and after.scores.loc["C00", "emp"] == 0.05


@SETTINGS
@given(m=matrices(min_rows=3), j=st.integers(0, 3))
def test_rank_survives_any_increasing_transformation(m, j):
    s = make_spec("rank")
    moved = m.copy()
    moved[:, j] = np.exp(m[:, j] / 25.0) - 3.0
    before, after = run(s, m), run(s, moved)
    np.testing.assert_allclose(after.values.to_numpy(), before.values.to_numpy(), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(w=st.lists(st.floats(0.0, 1000.0), min_size=2, max_size=2).filter(lambda w: sum(w) > 1e-6),
       f=st.lists(st.floats(0.0, 1000.0), min_size=2, max_size=2).filter(lambda f: sum(f) > 1e-6))
def test_weights_are_normalised(w, f):
    s = spec_from_dict({"label": "P", "reference_year": 2020,
                        "forms": {"labour_market": {"outcome": {"weights": {"emp": w[0], "unemp": w[1]},
                                                                "indicators": {"emp": None, "unemp": None}}},
                                  "income": {"weights": {"outcome": f[0], "process": f[1]},
                                             "outcome": {"indicators": ["poor"]},
                                             "process": {"indicators": ["cover"]}}}}, CAT)
    result = run(s, np.array([[10.0, 5.0, 20.0, 30.0], [40.0, 15.0, 10.0, 60.0]]))
    for node in result.method["nodes"]:
        if node["children"]:
            assert math.isclose(sum(node["weights"].values()), 1.0, rel_tol=1e-12)
    lm = next(n for n in result.method["nodes"] if n["id"] == "labour_market.outcome")["weights"]
    assert lm["emp"] == pytest_approx(w[0] / sum(w))
    inc = next(n for n in result.method["nodes"] if n["id"] == "income")["weights"]
    assert inc["income.outcome"] == pytest_approx(f[0] / sum(f))


def pytest_approx(x):
    import pytest

    return pytest.approx(x, rel=1e-12, abs=1e-15)


@SETTINGS
@given(m=matrices(min_rows=2), method=st.sampled_from(METHODS),
       aggregation=st.sampled_from(("arithmetic", "geometric")), seed=st.integers(0, 2**32 - 1))
def test_results_do_not_depend_on_row_order(m, method, aggregation, seed):
    s = make_spec(method, aggregation, winsorise=True)
    frames = to_frames(m)
    # an older year for some countries too, so that the latest-value choice is exercised
    frames = {c: pd.concat([f, f.assign(year=2015, value=f["value"] + 1)]) for c, f in frames.items()}
    rng = np.random.default_rng(seed)
    shuffled = {c: f.iloc[rng.permutation(len(f))] for c, f in reversed(list(frames.items()))}
    a, b = run(s, m, frames), run(s, m, shuffled)
    pd.testing.assert_frame_equal(a.values, b.values)
    pd.testing.assert_frame_equal(a.ranks, b.ranks)
    pd.testing.assert_frame_equal(a.flags, b.flags)
    pd.testing.assert_frame_equal(a.inputs, b.inputs)
    pd.testing.assert_series_equal(a.clusters, b.clusters)


@SETTINGS
@given(m=matrices(min_rows=2), method=st.sampled_from(METHODS), data=st.data())
def test_a_country_without_data_for_a_form_is_insufficient(m, method, data):
    i = data.draw(st.integers(0, m.shape[0] - 1))
    m = m.copy()
    m[i, 2:] = np.nan  # no income indicator for this country
    result = run(make_spec(method), m)
    country = f"C{i:02d}"
    assert result.status.at[country, "income"] == INSUFFICIENT
    assert math.isnan(result.values.at[country, "income"])
    assert pd.isna(result.ranks.at[country, "income"])
    if np.isnan(m[i, :2]).all():
        assert result.status.at[country, "overall"] == INSUFFICIENT
        assert math.isnan(result.values.at[country, "overall"])

"""The composite index engine: each normalisation and aggregation against arithmetic done by hand,
the tree and its coverage rule, clusters, Monte Carlo, config errors located to the line, and the
Socio-Economic Security index over the real files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sesreport.catalog import Catalog, Indicator
from sesreport.errors import UserError
from sesreport.index import (
    INSUFFICIENT,
    OK,
    build_index,
    compute_index,
    load_index_config,
    load_indices,
    run_sensitivity,
    spec_from_dict,
)
from sesreport.index import aggregate as agg
from sesreport.index import normalise as nz
from sesreport.index.clusters import assign_clusters
from sesreport.index.config import Clusters
from tests.conftest import need_real

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------------
# A small catalog and data


def make_catalog(**entries: tuple[str, str | None, str]) -> Catalog:
    """code=(direction, form, type)"""
    inds = {
        code: Indicator.model_validate({
            "label": {"en": code.upper()}, "unit": "percent", "decimals": 1, "direction": direction, "form": form,
            "topic": "labour_market", "type": kind, "definition": {"en": code}, "sources": [{"tidy": code}],
        })
        for code, (direction, form, kind) in entries.items()
    }
    return Catalog(inds, "test-catalog.yaml")


CAT = make_catalog(
    emp=("higher_better", "labour_market", "outcome"),
    unemp=("lower_better", "labour_market", "outcome"),
    poor=("lower_better", "income", "outcome"),
    cover=("higher_better", "income", "process"),
    share=("neutral", None, "outcome"),
    law=("higher_better", None, "input"),
)


def frames(values: dict[str, dict[str, float]], year: int = 2020) -> dict[str, pd.DataFrame]:
    return {code: pd.DataFrame({"iso3": list(v), "year": year, "value": list(v.values())})
            for code, v in values.items()}


def spec(forms: dict, **top):
    return spec_from_dict({"label": "Test index", "reference_year": 2020, "forms": forms, **top}, CAT)


TWO_FORMS = {
    "labour_market": {"outcome": {"indicators": {"emp": None, "unemp": None}}},
    "income": {"outcome": {"indicators": {"poor": None}}, "process": {"indicators": {"cover": None}}},
}


# ------------------------------------------------------------------------------------------------
# Normalisation, by hand


def test_minmax_observed():
    x = np.array([2.0, 4.0, 10.0, np.nan])
    s, p = nz.minmax(x, higher_better=True)
    # (x - 2) / (10 - 2)
    assert s[:3] == pytest.approx([0.0, 2 / 8, 1.0]) and np.isnan(s[3])
    assert p == {"min": 2.0, "max": 10.0}
    s, _ = nz.minmax(x, higher_better=False)
    # (10 - x) / 8
    assert s[:3] == pytest.approx([1.0, 6 / 8, 0.0])


def test_minmax_declared_goalposts_clip():
    x = np.array([2.0, 4.0, 25.0])
    s, p = nz.minmax(x, True, lo=0.0, hi=20.0)
    # 2/20, 4/20, and 25 beyond the goalpost scores as 20/20
    assert s == pytest.approx([0.1, 0.2, 1.0])
    assert p == {"min": 0.0, "max": 20.0}


def test_zscore():
    x = np.array([1.0, 2.0, 3.0, 6.0])
    s, p = nz.zscore(x, True)
    # mean 3; deviations -2, -1, 0, 3; variance (4+1+0+9)/4 = 3.5; sd = sqrt(3.5) = 1.8708
    sd = math.sqrt(3.5)
    assert p["mean"] == 3.0 and p["sd"] == pytest.approx(sd)
    assert s == pytest.approx([-2 / sd, -1 / sd, 0.0, 3 / sd])
    assert nz.zscore(x, False)[0] == pytest.approx([2 / sd, 1 / sd, 0.0, -3 / sd])


def test_rank_with_ties():
    x = np.array([5.0, 1.0, 5.0, 3.0, np.nan])
    s, _ = nz.rank(x, True)
    # sorted 1, 3, 5, 5 → ranks 1, 2, 3.5, 3.5 → (r - 1) / (4 - 1)
    assert s[:4] == pytest.approx([2.5 / 3, 0.0, 2.5 / 3, 1 / 3]) and np.isnan(s[4])
    s, _ = nz.rank(x, False)
    # lower is better: 1 is best (rank 4 of 4), 5 and 5 share ranks 1 and 2 → 1.5
    assert s[:4] == pytest.approx([0.5 / 3, 1.0, 0.5 / 3, 2 / 3])


def test_distance_to_target():
    s, p = nz.distance_to_target(np.array([50.0, 80.0, 110.0]), True, target=100.0)
    # worst observed 50: (x - 50) / (100 - 50); 110 is beyond the target → 1
    assert s == pytest.approx([0.0, 0.6, 1.0]) and p["worst"] == 50.0
    s, p = nz.distance_to_target(np.array([10.0, 40.0, 0.0]), False, target=0.0)
    # lower is better, worst observed 40: (x - 40) / (0 - 40)
    assert s == pytest.approx([0.75, 0.0, 1.0])
    s, _ = nz.distance_to_target(np.array([10.0, 40.0]), False, target=0.0, worst=80.0)
    # declared worst 80: (80 - 10) / 80, (80 - 40) / 80
    assert s == pytest.approx([0.875, 0.5])


def test_winsorise():
    x = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100], dtype=float)
    capped, lo, hi = nz.winsorise(x, 0.1, 0.9)
    # 11 values: the 10 % quantile sits at position 0.1 × 10 = 1 → 2; the 90 % one at 9 → 10
    assert (lo, hi) == (2.0, 10.0)
    assert capped[0] == 2.0 and capped[-1] == 10.0 and capped[1:-1].tolist() == x[1:-1].tolist()


# ------------------------------------------------------------------------------------------------
# Aggregation, by hand


def test_arithmetic_weighted():
    values = np.array([[[0.2, 0.8]]])
    w = agg.normalise_weights(np.array([[1.0, 3.0]]))
    assert w.tolist() == [[0.25, 0.75]]
    out = agg.aggregate(values, np.array([[True, True]]), w, "arithmetic", 0.01, np.array([False, False]))
    # 0.25 × 0.2 + 0.75 × 0.8 = 0.05 + 0.6
    assert out[0, 0] == pytest.approx(0.65)


def test_geometric_with_floor():
    values = np.array([[[0.2, 0.8], [0.0, 1.0]]])
    w = np.array([[0.5, 0.5]])
    out = agg.aggregate(values, np.ones((2, 2), bool), w, "geometric", 0.01, np.array([False, False]))
    # shift into [0.01, 1]: 0.01 + 0.99 × 0.2 = 0.208, 0.01 + 0.99 × 0.8 = 0.802
    # √(0.208 × 0.802) = 0.408431…, back: (0.408431 − 0.01) / 0.99 = 0.402455
    assert out[0, 0] == pytest.approx((math.sqrt(0.208 * 0.802) - 0.01) / 0.99)
    assert out[0, 0] == pytest.approx(0.402455, abs=1e-6)
    # a zero does not wipe the node out: (√(0.01 × 1) − 0.01) / 0.99 = 0.0909
    assert out[0, 1] == pytest.approx((0.1 - 0.01) / 0.99)


def test_geometric_z_scores_through_logistic():
    out = agg.aggregate(np.array([[[0.0, 0.0]]]), np.ones((1, 2), bool), np.array([[0.5, 0.5]]), "geometric", 0.01,
                        np.array([True, True]))
    # z = 0 → logistic 0.5 → 0.01 + 0.99 × 0.5 = 0.505, geometric mean 0.505, back to 0.5
    assert out[0, 0] == pytest.approx(0.5)


def test_missing_child_reweights():
    values = np.array([[[0.2, np.nan, 0.8]]])
    avail = np.array([[True, False, True]])
    w = agg.normalise_weights(np.array([[1.0, 1.0, 2.0]]))
    out = agg.aggregate(values, avail, w, "arithmetic", 0.01, np.zeros(3, bool))
    # (1 × 0.2 + 2 × 0.8) / (1 + 2)
    assert out[0, 0] == pytest.approx(0.6)


def test_coverage_rule():
    avail = np.array([[True, True, False, False], [True, False, False, False], [False] * 4])
    assert agg.coverage_ok(avail, 1, 0.5).tolist() == [True, False, False]  # 2 of 4 is half
    assert agg.coverage_ok(avail, 3, 0.0).tolist() == [False, False, False]
    assert agg.coverage_ok(avail, 0, 0.0).tolist() == [True, True, False]  # never with no child at all


def test_pca_weights_by_hand():
    a = np.linspace(0, 1, 12)
    values = np.column_stack([a, 2 * a + 1, -a])
    w, note = agg.pca_weights(values, np.ones(values.shape, bool))
    # all pairwise correlations are ±1: first eigenvector ∝ (1, 1, −1)/√3; the negative loading gets 0
    assert w == pytest.approx([0.5, 0.5, 0.0])
    assert "negative loading" in note
    w, note = agg.pca_weights(values[:4], np.ones((4, 3), bool))
    assert w == pytest.approx([1 / 3] * 3) and "too few" in note


# ------------------------------------------------------------------------------------------------
# The tree


DATA = frames({
    "emp": {"AAA": 40.0, "BBB": 60.0, "CCC": 80.0},
    "unemp": {"AAA": 20.0, "BBB": 10.0, "CCC": 5.0},
    "poor": {"AAA": 30.0, "BBB": 10.0},
    "cover": {"AAA": 20.0, "CCC": 90.0},
})


def test_small_index_by_hand():
    result = compute_index(spec(TWO_FORMS, overall={"coverage": {"min_count": 2}}), DATA)
    v = result.values
    # emp: (x − 40)/40 → A 0, B 0.5, C 1; unemp (lower better): (20 − x)/15 → A 0, B 2/3, C 1
    assert result.scores.loc["BBB", "unemp"] == pytest.approx(2 / 3)
    assert v.at["BBB", "labour_market"] == pytest.approx((0.5 + 2 / 3) / 2)
    # poor: A 30, B 10 → A 0, B 1; cover: A 20, C 90 → A 0, C 1
    # income for A: mean of outcome 0 and process 0; B: outcome only (1); C: process only (1)
    assert v.at["AAA", "income"] == 0.0
    assert v.at["BBB", "income"] == pytest.approx(1.0)
    assert v.at["CCC", "income"] == pytest.approx(1.0)
    # overall: mean of the two forms (the other five have no indicators)
    assert v.at["BBB", "overall"] == pytest.approx(((0.5 + 2 / 3) / 2 + 1.0) / 2)
    assert v.at["CCC", "overall"] == pytest.approx(1.0)
    assert result.ranks["overall"].tolist() == [3, 2, 1]
    # the cross-form outcome sub-index: labour market outcome and income outcome
    assert v.at["BBB", "overall.outcome"] == pytest.approx(((0.5 + 2 / 3) / 2 + 1.0) / 2)
    assert v.at["CCC", "overall.outcome"] == pytest.approx(1.0)  # income outcome missing: labour market only
    assert v.at["CCC", "overall.process"] == pytest.approx(1.0)
    assert result.status.at["AAA", "overall.input"] == INSUFFICIENT
    assert result.coverage.loc["AAA", "share"] == 1.0 and result.coverage.loc["BBB", "share"] == 0.75


def test_explicit_weights_are_normalised_and_reported():
    forms = {"labour_market": {"outcome": {"weights": {"emp": 3, "unemp": 1},
                                           "indicators": {"emp": None, "unemp": None}}}}
    result = compute_index(spec(forms), DATA)
    node = next(n for n in result.method["nodes"] if n["id"] == "labour_market.outcome")
    assert node["weights"] == {"emp": 0.75, "unemp": 0.25}
    # B: 0.75 × 0.5 + 0.25 × 2/3
    assert result.values.at["BBB", "labour_market"] == pytest.approx(0.75 * 0.5 + 0.25 * 2 / 3)


def test_insufficient_data_is_nan_never_zero():
    data = frames({"emp": {"AAA": 40.0, "BBB": 60.0}, "unemp": {"AAA": 20.0, "BBB": 10.0},
                   "poor": {"AAA": 30.0}, "cover": {"AAA": 20.0}})
    forms = {"labour_market": TWO_FORMS["labour_market"], "income": {"outcome": {"indicators": {"poor": None}}}}
    result = compute_index(spec(forms, overall={"coverage": {"min_count": 1}}), data)
    assert result.status.at["BBB", "income"] == INSUFFICIENT
    assert math.isnan(result.values.at["BBB", "income"])
    assert pd.isna(result.ranks.at["BBB", "income"])
    assert result.status.at["AAA", "income"] == OK
    # a form with no indicators at all, for everybody
    assert (result.status["work"] == INSUFFICIENT).all()
    assert "work" in result.method["forms_without_data"]


def test_coverage_rule_in_config():
    forms = {"labour_market": {"outcome": {"coverage": {"min_count": 2}, "indicators": {"emp": None, "unemp": None}}}}
    data = frames({"emp": {"AAA": 40.0, "BBB": 60.0}, "unemp": {"AAA": 20.0}})
    result = compute_index(spec(forms), data)
    assert result.status["labour_market"].tolist() == [OK, INSUFFICIENT]


def test_imputation_window_and_flags():
    rows = pd.DataFrame({"iso3": ["AAA", "AAA", "BBB", "CCC", "CCC"], "year": [2015, 2018, 2012, 2020, 2021],
                         "value": [50.0, 55.0, 70.0, 60.0, 99.0], "source_id": "s", "vintage": "v", "file": "f",
                         "line": [1, 2, 3, 4, 5]})
    forms = {"labour_market": {"outcome": {"imputation": {"window": 3}, "indicators": {"emp": None}}}}
    result = compute_index(spec(forms), {"emp": rows})
    # A: 2018 is within 3 years of 2020 → used, flagged; B: 2012 too old; C: 2020 (2021 is after the reference year)
    assert result.status["labour_market"].tolist() == [OK, INSUFFICIENT, OK]
    flags = result.flags.set_index(["iso3", "kind"])
    assert flags.loc[("AAA", "imputed"), "year"] == 2018 and flags.loc[("AAA", "imputed"), "used"] == 55.0
    assert flags.loc[("BBB", "outside_window"), "year"] == 2012
    assert ("CCC", "imputed") not in flags.index
    inputs = result.inputs.set_index("iso3")
    assert inputs.loc["CCC", "year"] == 2020 and inputs.loc["CCC", "value"] == 60.0 and inputs.loc["CCC", "line"] == 4
    none = compute_index(spec({"labour_market": {"outcome": {"imputation": "none", "indicators": {"emp": None}}}}),
                         {"emp": rows})
    assert none.status["labour_market"].tolist() == [INSUFFICIENT, INSUFFICIENT, OK]


def test_winsorised_and_clipped_values_are_flagged():
    values = {f"C{i:02d}": float(i) for i in range(1, 11)} | {"ZZZ": 100.0}
    forms = {"labour_market": {"outcome": {"winsorise": {"lower": 0.1, "upper": 0.9}, "indicators": {"emp": None}}}}
    result = compute_index(spec(forms), frames({"emp": values}))
    w = result.flags[result.flags["kind"] == "winsorised"].set_index("iso3")
    assert w.loc["ZZZ", "original"] == 100.0 and w.loc["ZZZ", "used"] == 10.0
    assert w.loc["C01", "original"] == 1.0 and w.loc["C01", "used"] == 2.0
    assert result.scores.loc["ZZZ", "emp"] == 1.0 and result.scores.loc["C10", "emp"] == 1.0
    goalposts = {"method": "minmax", "min": 0, "max": 50}
    forms = {"labour_market": {"outcome": {"indicators": {"emp": {"normalisation": goalposts}}}}}
    result = compute_index(spec(forms), frames({"emp": values}))
    c = result.flags[result.flags["kind"] == "clipped"]
    assert c["iso3"].tolist() == ["ZZZ"] and c["used"].tolist() == [50.0]


def test_log_transform():
    forms = {"labour_market": {"outcome": {"indicators": {"emp": {"transform": "log"}}}}}
    result = compute_index(spec(forms), frames({"emp": {"AAA": 10.0, "BBB": 100.0, "CCC": 1000.0, "DDD": 0.0}}))
    # log10 spacing is even: 0, 0.5, 1; a zero cannot be logged
    assert result.scores["emp"].iloc[:3].tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert result.flags.set_index("iso3").loc["DDD", "kind"] == "excluded"


def test_geometric_and_pca_through_config():
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 1, 30)
    countries = [f"C{i:02d}" for i in range(30)]
    data = frames({"emp": dict(zip(countries, 50 + 30 * base)), "unemp": dict(zip(countries, 20 - 10 * base))})
    forms = {"labour_market": {"outcome": {"weights": "pca", "aggregation": "geometric",
                                           "indicators": {"emp": None, "unemp": None}}}}
    result = compute_index(spec(forms), data)
    node = next(n for n in result.method["nodes"] if n["id"] == "labour_market.outcome")
    assert node["weights"] == pytest.approx({"emp": 0.5, "unemp": 0.5})  # perfectly correlated once oriented
    assert node["aggregation"] == {"method": "geometric", "floor": 0.01}
    assert "PCA on 30 countries" in node["weights_note"]


# ------------------------------------------------------------------------------------------------
# Clusters


def _cluster_frame(overall, inp, proc, out):
    values = pd.DataFrame({"overall": overall, "overall.input": inp, "overall.process": proc, "overall.outcome": out},
                          index=[f"C{i}" for i in range(len(overall))])
    return values, values.notna()


def test_clusters_full_rule():
    values, ok = _cluster_frame([0.9, 0.8, 0.7, 0.2, 0.1], [0.9, 0.1, 0.9, 0.1, 0.2],
                                [0.9, 0.2, 0.8, 0.2, 0.1], [0.9, 0.9, 0.1, 0.2, 0.1])
    labels, method = assign_clusters(values, ok, Clusters(threshold=0.6))
    # 60th percentile of 5 values (linear interpolation): position 0.6 × 4 = 2.4 in sorted order
    # overall 0.1 0.2 0.7 0.8 0.9 → 0.7 + 0.4 × 0.1 = 0.74: high C0, C1
    # input   0.1 0.1 0.2 0.9 0.9 → 0.2 + 0.4 × 0.7 = 0.48: high C0, C2
    # process 0.1 0.2 0.2 0.8 0.9 → 0.2 + 0.4 × 0.6 = 0.44: high C0, C2
    # outcome 0.1 0.1 0.2 0.9 0.9 → 0.48: high C0, C1
    assert method["cut_points"] == pytest.approx({"overall": 0.74, "overall.input": 0.48, "overall.process": 0.44,
                                                  "overall.outcome": 0.48})
    # C0 all high; C1 outcomes high, policies low; C2 policies high, outcomes low; C3, C4 the rest
    assert labels.tolist() == ["pacesetters", "pragmatists", "conventionals", "much_to_be_done", "much_to_be_done"]
    assert not method["degraded"] and method["sub_indexes_used"] == ["input", "process", "outcome"]


def test_clusters_degrade_without_input_and_process():
    nan = float("nan")
    values, ok = _cluster_frame([0.9, 0.8, 0.3, 0.2, 0.1], [nan] * 5, [0.5, nan, nan, nan, nan],
                                [0.9, 0.8, 0.3, 0.2, 0.1])
    labels, method = assign_clusters(values, ok, Clusters(threshold=0.6, min_available_share=0.5))
    assert method["degraded"]
    assert set(method["sub_indexes_dropped"]) == {"input", "process"}
    assert "1 of the 5" in method["sub_indexes_dropped"]["process"]
    assert method["clusters_possible"] == ["pacesetters", "much_to_be_done"]
    assert "not assigned" in method["rules"]["pragmatists"]
    assert labels.tolist() == ["pacesetters", "pacesetters", "much_to_be_done", "much_to_be_done", "much_to_be_done"]


# ------------------------------------------------------------------------------------------------
# Monte Carlo


MC_FORMS = {
    "labour_market": {"outcome": {"indicators": {"emp": None, "unemp": None}}},
    "income": {"outcome": {"indicators": {"poor": None}}},
}


def _mc_data(n: int = 25):
    rng = np.random.default_rng(7)
    countries = [f"C{i:02d}" for i in range(n)]
    return frames({"emp": dict(zip(countries, rng.uniform(30, 80, n))),
                   "unemp": dict(zip(countries, rng.uniform(1, 25, n))),
                   "poor": dict(zip(countries, rng.uniform(0, 60, n)))})


def test_monte_carlo_is_seeded_and_brackets_the_median():
    s = spec(MC_FORMS, sensitivity={"draws": 40, "seed": 3, "weights": {"perturb": 0.5},
                                    "normalisation": ["declared", "zscore", "rank"],
                                    "aggregation": ["arithmetic", "geometric"]})
    data = _mc_data()
    a = run_sensitivity(s, data)
    b = run_sensitivity(s, data)
    pd.testing.assert_series_equal(a.median_rank, b.median_rank)
    pd.testing.assert_frame_equal(a.attribution, b.attribution)
    assert (a.rank_p05 <= a.median_rank).all() and (a.median_rank <= a.rank_p95).all()
    assert set(a.attribution.index) == {"weights", "normalisation", "aggregation"}
    assert a.most_influential in a.attribution.index
    assert 0 <= a.attribution["first_order_share"].dropna().max() <= 1
    assert run_sensitivity(s, data, seed=4).method["seed"] == 4


def test_monte_carlo_without_alternatives_reproduces_the_ranks():
    s = spec(MC_FORMS, sensitivity={"draws": 5, "seed": 1})
    result = build_index(s, _mc_data())
    sens = result.sensitivity
    base = result.ranks["overall"]
    assert sens.baseline_rank.tolist() == base.tolist()
    assert sens.median_rank.tolist() == base.tolist() == sens.rank_p05.tolist() == sens.rank_p95.tolist()
    assert sens.attribution.empty
    assert result.country("C03")["rank_interval"]["rank"] == int(base["C03"])


# ------------------------------------------------------------------------------------------------
# Config errors: file, line, suggestion


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "idx.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, catalog: Catalog = CAT) -> list[str]:
    with pytest.raises(UserError) as err:
        load_index_config(path, catalog)
    return [str(p) for p in err.value.problems]


def test_config_errors_all_at_once(tmp_path):
    path = write(tmp_path, """\
label: Test
reference_year: 2020
defaults:
  normalisation: minmaxx
forms:
  labour_market:
    outcome:
      weights: {emp: 1, unmep: 2}
      indicators:
        emp:
        unemp:
        umemp2:
        share:
  income:
    process:
      indicators:
        poor:
overall:
  aggregation: geometrc
""")
    found = problems(path)
    shown = str(path) if not str(path).startswith(str(Path.cwd())) else str(path.relative_to(Path.cwd()))
    assert f"{shown}:4: defaults.normalisation.method: 'minmaxx' is not allowed; expected 'minmax', 'zscore', " \
           f"'rank' or 'distance_to_target' (did you mean 'minmax'?)" in found
    assert any(p.startswith(f"{shown}:8: forms.labour_market.outcome.weights: 'unmep' is not a child") and
               "did you mean 'unemp'?" in p for p in found)
    assert any(p.startswith(f"{shown}:8: ") and "no weight for unemp" in p for p in found)
    assert any(p.startswith(f"{shown}:12: forms.labour_market.outcome.indicators: unknown indicator 'umemp2'")
               and "did you mean 'unemp'?" in p for p in found)
    assert any(p.startswith(f"{shown}:13: ") and "'share' has direction 'neutral'" in p for p in found)
    assert any(p.startswith(f"{shown}:17: ") and "'poor' is an outcome indicator in the catalog, not process" in p
               for p in found)
    assert any(p.startswith(f"{shown}:19: overall.aggregation.method: 'geometrc'") for p in found)
    assert len(found) == 7


def test_config_errors_unknown_keys_and_parameters(tmp_path):
    path = write(tmp_path, """\
label: Test
forms:
  labour_market:
    outcome:
      indicators:
        emp: {normalisation: {method: minmax, min: 10, max: 5}}
        unemp: {normalisation: {method: zscore, target: 3}}
  incme:
    outcome:
      indicators: {poor: }
clusters: {treshold: 0.6}
""")
    found = problems(path)
    assert any(":6: " in p and "goalposts must satisfy min < max (got min 10, max 5)" in p for p in found)
    assert any(":7: " in p and "'zscore' takes no target" in p for p in found)
    assert any(":8: unknown key 'incme' in forms (did you mean 'income'?)" in p for p in found)
    assert any(":11: unknown key 'treshold' in clusters (did you mean 'threshold'?)" in p for p in found)


def test_config_form_and_overall_weights(tmp_path):
    path = write(tmp_path, """\
label: Test
forms:
  income:
    weights: {outcome: 2, proces: 1}
    outcome: {indicators: [poor]}
    process: {indicators: [cover]}
overall:
  weights: {income: 1, labour: 1}
""")
    found = problems(path)
    assert any(":4: forms.income.weights: 'proces' is not a child" in p and "did you mean 'process'?" in p
               for p in found)
    assert any(":4: forms.income.weights: no weight for process" in p for p in found)
    assert any(":8: overall.weights: 'labour' is not a child" in p for p in found)


def test_config_ok_and_inheritance(tmp_path):
    path = write(tmp_path, """\
label: {en: Test, fr: Essai}
reference_year: 2020
defaults: {normalisation: zscore, imputation: {window: 4}}
forms:
  labour_market:
    normalisation: rank
    outcome:
      indicators:
        emp:
        unemp: {normalisation: {method: minmax, min: 0, max: 30}, imputation: none}
  income:
    weights: {outcome: 3, process: 1}
    outcome: {indicators: [poor]}
    process: {indicators: [cover]}
""")
    s = load_index_config(path, CAT)
    assert s.leaf("emp").normalisation.method == "rank"  # from its form
    assert s.leaf("unemp").normalisation.max == 30 and s.leaf("unemp").window == 0
    assert s.leaf("poor").normalisation.method == "zscore" and s.leaf("poor").window == 4  # from defaults
    assert s.node("income").weights.values == {"income.outcome": 3, "income.process": 1}
    assert s.node("work").children == ()


def test_all_index_files_reported_together(tmp_path):
    (tmp_path / "indices").mkdir()
    (tmp_path / "indices" / "a.yaml").write_text("label: A\nforms:\n  job: {outcome: {indicators: [nope]}}\n")
    (tmp_path / "indices" / "b.yaml").write_text("label: B\nforms: {incme: {}}\n")
    with pytest.raises(UserError) as err:
        load_indices(tmp_path, CAT)
    found = [str(p) for p in err.value.problems]
    assert any("a.yaml:3: forms.job.outcome.indicators: unknown indicator 'nope'" in p for p in found)
    assert any("b.yaml:2: unknown key 'incme' in forms" in p for p in found)


def test_shipped_index_config_is_valid():
    from sesreport.catalog import load_catalog

    catalog = load_catalog(REPO / "config" / "indicators.yaml")
    ses = load_indices(REPO / "config", catalog)["ses"]
    assert ses.reference_year == 2019
    assert ses.node("work").children == ("work.input", "work.process", "work.outcome")
    assert {leaf.form for leaf in ses.leaves} == set(ses.forms)
    assert all(catalog[leaf.code].direction != "neutral" for leaf in ses.leaves)
    # the ILO design: law (input), institutions (process) and results (outcome)
    assert {leaf.kind for leaf in ses.leaves} == {"input", "process", "outcome"}
    assert ses.leaf("labour_rights_compliance").direction == "lower_better"
    assert [leaf.code for leaf in ses.leaves if leaf.supplementary] == ["social_spending"]
    assert ses.node("overall").coverage.min_indicator_share == 0.667
    assert ses.sensitivity.draws == 1000


def test_reference_year_required():
    s = spec_from_dict({"label": "T", "forms": MC_FORMS}, CAT)
    with pytest.raises(UserError, match="no reference year"):
        compute_index(s, _mc_data())
    assert compute_index(s, _mc_data(), reference_year=2020).n_ranked() == 25


# ------------------------------------------------------------------------------------------------
# The real files


@pytest.fixture(scope="module")
def real():
    from sesreport.data.load import load_dataset

    return load_dataset(need_real(), REPO / "config", cache_dir=REPO / ".cache" / "sesreport")


@pytest.fixture(scope="module")
def ses(real):
    spec_ = load_indices(REPO / "config", real.catalog)["ses"]
    return build_index(spec_, real, draws=60)


def test_real_index_covers_most_countries(ses, real):
    assert ses.n_ranked("overall") == 119
    assert ses.n_ranked("labour_market") >= 180
    assert ses.n_ranked("work") == 84
    assert set(ses.countries) == set(real.countries.table.index)
    # aggregates never enter
    assert not set(ses.countries) & {"WLD", "EUU", "SSF", "HIC"}
    assert ses.method["forms_without_data"] == []
    # input, process and outcome sub-indexes known for enough countries: the full ILO rule, four clusters
    cl = ses.method["clusters"]
    assert not cl["degraded"] and cl["sub_indexes_used"] == ["input", "process", "outcome"]
    assert all(cl["counts"][c] > 0 for c in ("pacesetters", "pragmatists", "conventionals", "much_to_be_done"))
    assert ses.clusters.notna().sum() == ses.n_ranked("overall")
    s = ses.sensitivity
    ranked = ses.ok("overall")
    assert (s.rank_p05[ranked] <= s.median_rank[ranked]).all() and (s.median_rank[ranked] <= s.rank_p95[ranked]).all()
    # every value is flagged when carried forward, with its year
    imputed = ses.flags[ses.flags["kind"] == "imputed"]
    assert (imputed["year"] < 2019).all() and len(imputed) > 100


def test_real_form_value_by_hand(real):
    """Labour market security for the Russian Federation in 2018, recomputed from the headline series."""
    forms = {"labour_market": {"outcome": {"indicators": {"unemployment": None, "employment_ratio": None}}}}
    s = spec_from_dict({"label": "Simple", "reference_year": 2018, "forms": forms,
                        "overall": {"coverage": {"min_count": 1}}}, real.catalog)
    result = compute_index(s, real)
    countries = real.countries.table.index

    def at_2018(code: str) -> pd.Series:
        h = real.headline(code)
        h = h[(h["year"] == 2018) & h["iso3"].isin(countries)]
        return h.set_index("iso3")["value"]

    u, e = at_2018("unemployment"), at_2018("employment_ratio")
    assert u["RUS"] == 5.06099987030029  # the cell in the WDI file
    u_score = (u.max() - u["RUS"]) / (u.max() - u.min())  # lower is better
    e_score = (e["RUS"] - e.min()) / (e.max() - e.min())
    assert result.values.at["RUS", "labour_market"] == pytest.approx((u_score + e_score) / 2, rel=1e-12)
    assert result.values.at["RUS", "overall"] == pytest.approx((u_score + e_score) / 2, rel=1e-12)
    assert result.n_ranked("labour_market") == len(u.index.intersection(e.index))

"""Composite socio-economic security indices: config (`config/indices/*.yaml`) + headline series → IndexResult.

    spec = load_indices(config_dir, catalog)["ses"]        # or load_index_config(path, catalog)
    result = build_index(spec, dataset, draws=1000)          # values, ranks, clusters, intervals, method
    describe_method(result.method, labels)                   # the methodology, generated

Stages: :mod:`.config` (schema, inheritance, checks) → :mod:`.compute` (values at the reference
year, :mod:`.normalise`, :mod:`.aggregate` through the tree, :mod:`.clusters`) →
:mod:`.sensitivity` (Monte Carlo rank intervals) → :mod:`.describe` (the method as data and text).
"""

from __future__ import annotations

from collections.abc import Iterable

from .clusters import CLUSTER_LABELS, CLUSTERS
from .compute import compute_index, prepare, result_from
from .config import FORM_LABELS, KINDS, IndexSpec, load_index_config, load_indices, spec_from_dict
from .describe import describe_method, describe_sensitivity
from .result import INSUFFICIENT, OK, IndexResult
from .sensitivity import SensitivityResult, run_sensitivity


def build_index(spec: IndexSpec, data, reference_year: int | None = None, countries: Iterable[str] | None = None,
                *, draws: int | None = None, seed: int | None = None, sensitivity: bool = True) -> IndexResult:
    """The index and, unless `sensitivity=False`, its Monte Carlo rank intervals (draws/seed default to the
    file's `sensitivity:` block), sharing one pass over the data."""
    prepared = prepare(spec, data, reference_year, countries)
    result = result_from(spec, prepared)
    if sensitivity:
        result = result.with_sensitivity(run_sensitivity(spec, prepared=prepared, draws=draws, seed=seed))
    return result


__all__ = [
    "CLUSTERS", "CLUSTER_LABELS", "FORM_LABELS", "INSUFFICIENT", "KINDS", "OK", "IndexResult", "IndexSpec",
    "SensitivityResult", "build_index", "compute_index", "describe_method", "describe_sensitivity",
    "load_index_config", "load_indices", "run_sensitivity", "spec_from_dict",
]

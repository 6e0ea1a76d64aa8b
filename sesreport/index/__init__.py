"""Composite socio-economic security indices: config (`config/indices/*.yaml`) + headline series → IndexResult.

    spec = load_indices(config_dir, catalog)["ses"]        # or load_index_config(path, catalog)
    result = build_index(spec, dataset, draws=1000)          # values, ranks, clusters, intervals, method
    result.audit                                             # correlations, alpha, PCA, leave one out, plausibility
    prose.methodology(result, lang, labels, country, line_of)  # the methodology, generated, in any language

Stages: :mod:`.config` (schema, inheritance, checks) → :mod:`.compute` (values at the reference
year, :mod:`.normalise`, :mod:`.aggregate` through the tree, :mod:`.clusters`) →
:mod:`.sensitivity` (Monte Carlo rank intervals) → :mod:`.audit` (the statistical audit) →
:mod:`.describe` (the method as data) → :mod:`.prose` (the method as translated paragraphs, numbers traced).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .audit import Audit, run_audit
from .clusters import CLUSTER_LABELS, CLUSTERS
from .compute import Prepared, compute_index, headline_frames, latest_values, prepare, result_from
from .config import FORM_LABELS, KINDS, IndexSpec, load_index_config, load_indices, spec_from_dict
from .result import INSUFFICIENT, OK, IndexResult
from .sensitivity import SensitivityResult, run_sensitivity


def build_index(spec: IndexSpec, data, reference_year: int | None = None, countries: Iterable[str] | None = None,
                *, draws: int | None = None, seed: int | None = None, sensitivity: bool = True,
                audit: bool = True) -> IndexResult:
    """The index and, unless `sensitivity=False`, its Monte Carlo rank intervals (draws/seed default to the
    file's `sensitivity:` block), and unless `audit=False` its statistical audit, sharing one pass over the data."""
    prepared = prepare(spec, data, reference_year, countries)
    measures = plausibility_measures(spec, data, prepared.latest) if audit else None
    return build_from(spec, prepared, measures, draws=draws, seed=seed, sensitivity=sensitivity)


def build_from(spec: IndexSpec, prepared: Prepared, measures: dict[str, pd.Series] | None, *,
               draws: int | None = None, seed: int | None = None, sensitivity: bool = True) -> IndexResult:
    """The index from its inputs alone: the latest values :func:`prepare` takes from the data and the
    audit's plausibility measures (no audit when `measures` is None). Nothing else of the data enters."""
    result = result_from(spec, prepared)
    if sensitivity:
        result = result.with_sensitivity(run_sensitivity(spec, prepared=prepared, draws=draws, seed=seed))
    if measures is not None:
        result = result.with_audit(run_audit(spec, prepared, result.scores, result.values, measures))
    return result


def plausibility_measures(spec: IndexSpec, data, latest) -> dict[str, pd.Series]:
    """The audit's independent measures by ISO3: the latest value within the window up to the reference year."""
    codes = tuple(spec.audit.plausibility)
    found = latest_values(headline_frames(data, codes), codes, latest.countries, latest.reference_year)
    out = {}
    for j, code in enumerate(codes):
        ok = latest.reference_year - found.years[:, j] <= spec.audit.window
        values = np.where(ok, found.values[:, j], np.nan)
        if spec.audit.plausibility[code] == "log":
            values = np.log(np.where(values > 0, values, np.nan))
        out[code] = pd.Series(values, index=pd.Index(latest.countries, name="iso3"), name=code)
    return out


__all__ = [
    "Audit", "CLUSTERS", "CLUSTER_LABELS", "FORM_LABELS", "INSUFFICIENT", "KINDS", "OK", "IndexResult", "IndexSpec",
    "SensitivityResult", "build_from", "build_index", "compute_index",
    "load_index_config", "load_indices", "plausibility_measures", "run_audit", "run_sensitivity",
    "spec_from_dict",
]

"""The configuration and the run → the method actually used, as data (index/prose.py writes it as
sentences in each language).

Documents print the methodology from this record, never from hand-typed text: the weights after
normalisation (or as estimated by PCA), the goalposts observed, the number of values imputed or
capped, the coverage rules and what the cluster rule became with the data at hand.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..catalog import FORMS
from .aggregate import LOGISTIC_SCALE

if TYPE_CHECKING:
    from .compute import Evaluation, Latest, LeafScores, Plan
    from .config import IndexSpec

def required_children(min_count: int, min_share: float, k: int) -> int:
    return max(min_count, math.ceil(min_share * k - 1e-9), 1)


def method_description(spec: IndexSpec, plan: Plan, latest: Latest, leaves: LeafScores, ev: Evaluation,
                       ok, cluster_method: dict) -> dict[str, Any]:
    n_leaves = len(plan.leaves)
    n_ok = dict(zip(ok.columns, ok.to_numpy().sum(axis=0).tolist()))
    indicators = []
    for j, leaf in enumerate(spec.leaves):
        norm = leaves.norms[j]
        params = dict(leaves.params[j])
        wins = params.pop("winsorise", None)
        indicators.append({
            "code": leaf.code, "form": leaf.form, "sub_index": leaf.kind, "node": leaf.parent,
            "direction": leaf.direction, "inverted": leaf.direction == "lower_better",
            "transform": leaf.transform,
            "normalisation": {"method": norm.method, **_clean(params)},
            "scale": leaves.scale[j],
            "imputation": {"window": leaves.windows[j], "imputed": int(leaves.imputed[:, j].sum()),
                           "outside_window": int(leaves.too_old[:, j].sum())},
            "winsorisation": _clean(wins) if wins else None,
            "clipped": int(leaves.clipped[:, j].sum()),
            "countries_with_data": int(leaves.avail[:, j].sum()),
            "config_line": leaf.line,
        })
    nodes = []
    for j, node in enumerate(plan.nodes):
        kids = [plan.leaves[s] if s < n_leaves else plan.nodes[s - n_leaves].id for s in plan.children[j]]
        w = ev.weights[j]
        cov = node.coverage
        nodes.append({
            "id": node.id, "kind": node.kind, "label": node.label, "form": node.form, "sub_index": node.sub_index,
            "children": kids,
            "weights_method": node.weights.method,
            "weights": {k: float(x) for k, x in zip(kids, np.asarray(w, dtype=float))},
            "weights_note": ev.weight_notes[j],
            "aggregation": {"method": node.aggregation.method,
                            **({"floor": node.aggregation.floor} if node.aggregation.method == "geometric" else {})},
            "coverage": {"min_count": cov.min_count, "min_share": cov.min_share,
                         "required": required_children(cov.min_count, cov.min_share, len(kids)) if kids else None,
                         "of": len(kids)},
            "scale": ev.scales[j],
            "countries_ok": int(n_ok[node.id]),
            "note": node.note,
        })
    without = [f for f in FORMS if n_ok[f] == 0]
    return {
        "index": {"id": spec.id, "label": spec.label, "file": spec.file, "reference_year": latest.reference_year,
                  "description": spec.description},
        "countries": {"considered": len(latest.countries), "with_overall": int(n_ok["overall"]),
                      "by_node": {c: int(n) for c, n in n_ok.items()}},
        "indicators": indicators,
        "nodes": nodes,
        "forms_without_data": without,
        "rules": {
            "imputation": "the value of the reference year, else the latest value within the indicator's window "
                          "of years before it; values after the reference year are never used",
            "direction": "lower-is-better indicators are inverted so that a higher score always means more security",
            "missing_children": "a child without data is left out and the weights of the others are scaled up "
                                "to sum 1 for that country",
            "coverage": "a node with fewer children with data than its rule requires is 'insufficient data' "
                        "(no value, no rank), never a zero",
            "geometric": f"scores are brought into [0, 1] (z-scores by 1/(1+exp(-{LOGISTIC_SCALE}·z))), moved into "
                         "[floor, 1], combined by a weighted geometric mean and moved back to [0, 1]",
            "ranking": "rank 1 is the most secure; countries with equal values share the better rank; only "
                       "countries with a value are ranked",
        },
        "clusters": cluster_method,
        "warnings": ([f"{latest.duplicates} duplicate country-year values in the input were settled by "
                      "taking the larger value"] if latest.duplicates else []),
    }


def _clean(d: dict | None) -> dict:
    if not d:
        return {}
    out = {}
    for k, v in d.items():
        if isinstance(v, (np.floating, np.integer)):
            v = v.item()
        out[k] = v
    return out

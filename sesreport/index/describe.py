"""The configuration and the run → the method actually used, as data and as English sentences.

Documents print the methodology from here, never from hand-typed text: the weights after
normalisation (or as estimated by PCA), the goalposts observed, the number of values imputed or
capped, the coverage rules and what the cluster rule became with the data at hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..catalog import FORMS
from .aggregate import LOGISTIC_SCALE
from .config import FORM_LABELS, NOT_DECLARED

if TYPE_CHECKING:
    from .compute import Evaluation, Latest, LeafScores, Plan
    from .config import IndexSpec

NORM_TEXT = {
    "minmax": "min-max rescaling to 0–1",
    "zscore": "standardisation (z-scores)",
    "rank": "percentile ranks (0–1)",
    "distance_to_target": "distance to a target (0 = worst, 1 = target reached)",
}


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


# ------------------------------------------------------------------------------------------------
# Sentences


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.4g}"


def _list(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def describe_method(method: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> list[str]:
    """The methodology as English paragraphs, generated from `IndexResult.method`.

    `labels` maps indicator codes to their names (e.g. ``{c: catalog.label(c) for c in catalog}``)."""
    labels = labels or {}
    name = lambda code: labels.get(code, code)  # noqa: E731
    idx = method["index"]
    inds = method["indicators"]
    nodes = {n["id"]: n for n in method["nodes"]}
    out = []
    forms_with = [f for f in FORMS if nodes[f]["children"]]
    out.append(
        f"The {idx['label'].get('en', idx['id'])} combines {len(inds)} indicators, placed in "
        f"{len(forms_with)} of the seven forms of security, for the reference year {idx['reference_year']}. "
        f"It is computed for {method['countries']['with_overall']} of the {method['countries']['considered']} "
        "countries considered; the others lack data.")
    for form in FORMS:
        node = nodes[form]
        parts = []
        for sub in node["children"]:
            sn = nodes[sub]
            kids = [f"{name(c)} ({sn['weights'][c]:.0%})" for c in sn["children"]]
            if kids:
                parts.append(f"{sub.split('.')[1]}: {_list(kids)}")
        if parts:
            weights = ", ".join(f"{k.split('.')[1]} {v:.0%}" for k, v in node["weights"].items())
            text = f"{FORM_LABELS[form]} — {'; '.join(parts)}"
            if len(node["weights"]) > 1:
                text += f"; sub-indexes weighted {weights}"
            out.append(text + ".")
        elif node["note"] == NOT_DECLARED:
            out.append(f"{FORM_LABELS[form]} — not part of this index; reported as insufficient data.")
        else:
            out.append(f"{FORM_LABELS[form]} — {node['note'] or 'no indicator placed'}; "
                       "reported as insufficient data for every country.")
    by_method: dict[str, list[dict]] = {}
    for ind in inds:
        by_method.setdefault(ind["normalisation"]["method"], []).append(ind)
    norm_parts = []
    for m, group in by_method.items():
        detail = []
        for ind in group:
            p = ind["normalisation"]
            if m == "minmax":
                gp = f"{_fmt(p.get('min'))}–{_fmt(p.get('max'))}"
                src = "declared" if "declared" in (p.get("min_from"), p.get("max_from")) else "observed"
                detail.append(f"{name(ind['code'])} ({src} {gp})")
            elif m == "distance_to_target":
                detail.append(f"{name(ind['code'])} (target {_fmt(p.get('target'))}, worst {_fmt(p.get('worst'))})")
            else:
                detail.append(name(ind["code"]))
        norm_parts.append(f"{NORM_TEXT[m]} for {_list(detail)}")
    logs = [name(i["code"]) for i in inds if i["transform"] == "log"]
    text = ("Indicators are normalised by " + "; ".join(norm_parts) + ". "
            + method["rules"]["direction"].capitalize() + ".")
    if logs:
        text += f" {_list(logs)} {'is' if len(logs) == 1 else 'are'} taken in logarithms first."
    out.append(text)
    windows = sorted({i["imputation"]["window"] for i in inds})
    imputed = sum(i["imputation"]["imputed"] for i in inds)
    if windows == [0]:
        out.append(f"Only values for {idx['reference_year']} are used; missing values are not imputed.")
    else:
        wtext = f"{windows[0]}" if len(windows) == 1 else f"{windows[0]} to {windows[-1]}"
        out.append(f"Where a {idx['reference_year']} value is missing, the latest value within {wtext} years before "
                   f"is used ({imputed} values, each flagged); later years and older values are not used.")
    wins = [i for i in inds if i["winsorisation"]]
    if wins:
        qs = sorted({(i["winsorisation"]["lower"], i["winsorisation"]["upper"]) for i in wins})
        capped = sum(i["winsorisation"]["capped"] for i in wins)
        qtext = _list([f"{lo:.1%} and {hi:.1%}" for lo, hi in qs])
        out.append(f"Outliers are capped at the {qtext} quantiles across countries ({capped} values, each flagged).")
    aggs = sorted({n["aggregation"]["method"] for n in method["nodes"]})
    wm = sorted({n["weights_method"] for n in method["nodes"] if n["children"]})
    weight_words = {"equal": "equal", "explicit": "declared", "pca": "PCA-estimated"}
    text = (f"Components are combined by {' and '.join(f'{a} means' for a in aggs)} with "
            f"{_list([weight_words[w] for w in wm])} weights (normalised to sum 1); "
            + method["rules"]["missing_children"] + ".")
    if "geometric" in aggs:
        floors = sorted({n["aggregation"].get("floor") for n in method["nodes"]
                         if n["aggregation"]["method"] == "geometric"})
        text += f" For geometric means, {method['rules']['geometric']} (floor {_list([f'{f:g}' for f in floors])})."
    pca = [n for n in method["nodes"] if n["weights_method"] == "pca" and n["weights_note"]]
    for n in pca:
        text += f" {n['label']}: {n['weights_note']}."
    out.append(text)
    ov = nodes["overall"]
    rules = []
    for kind, what, unit in (("sub_index", "a sub-index", "indicator"), ("form", "a form", "sub-index")):
        found = sorted({(n["coverage"]["min_count"], n["coverage"]["min_share"]) for n in method["nodes"]
                        if n["kind"] == kind and n["children"]})
        if found:
            rules.append(f"{what} needs " + " or, where so declared, ".join(_rule_text(c, s, unit) for c, s in found))
    out.append("Coverage: " + "; ".join(rules) + f"; the overall index needs at least {ov['coverage']['required']} "
               f"of the {ov['coverage']['of']} forms with a value. " + method["rules"]["coverage"].capitalize() + ".")
    cl = method["clusters"]
    text = (f"Clusters (threshold: the {cl['threshold_text']} among countries with a value): "
            + "; ".join(f"{c.replace('_', '-')}: {cl['rules'][c]}" for c in ("pacesetters", "pragmatists",
                                                                          "conventionals", "much_to_be_done")) + ".")
    for kind, why in cl["sub_indexes_dropped"].items():
        text += f" The {kind} sub-index is left out of the rule: {why}."
    out.append(text)
    out.append(method["rules"]["ranking"].capitalize() + ".")
    return out


def _rule_text(min_count: int, min_share: float, unit: str) -> str:
    parts = []
    if min_share > 0:
        parts.append(f"at least {min_share:.0%} of its {unit.replace('-index', '-indexe')}s")
    if min_count > 1 or not parts:
        parts.append(f"at least {max(min_count, 1)} {unit}{'s' if min_count > 1 else ''}")
    return " and ".join(parts) + " with data"


def describe_sensitivity(sens_method: Mapping[str, Any]) -> list[str]:
    """The uncertainty analysis as English sentences, from `SensitivityResult.method`."""
    m = sens_method
    alts = []
    if m["weights_perturb"] > 0:
        alts.append(f"every weight multiplied by a random factor between {1 - m['weights_perturb']:g} and "
                    f"{1 + m['weights_perturb']:g} (then renormalised)")
    for key, text in (("normalisation", "normalisation"), ("aggregation", "aggregation"),
                      ("imputation_window", "imputation window (years)")):
        if len(m[key]) > 1:
            alts.append(f"{text} drawn from {', '.join(map(str, m[key]))}")
    out = [f"Ranks are recomputed for {m['draws']:,} random draws (seed {m['seed']}) of "
           + (_list(alts) if alts else "the declared method only") + ". Each country's interval runs from the "
           "5th to the 95th percentile of its ranks over the draws in which it has a value."]
    top = m.get("most_influential")
    if top:
        out.append(f"Varying one choice at a time from the declared method, the {top.replace('_', ' ')} "
                   "moves ranks most "
                   f"(mean absolute rank shift {m['attribution'][top]['mean_abs_rank_shift']:.1f} places).")
    return out

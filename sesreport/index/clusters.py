"""Overall index and cross-form sub-indexes → the ILO SES clusters, with the rule actually applied.

The ILO Socio-Economic Security programme's rule ("high" = at or above the threshold quantile,
by default the 6th decile, among the countries that have the value):

- pacesetters: the index and all three sub-indexes (input, process, outcome) high;
- pragmatists: outcomes high, input or process lower;
- conventionals: input and process high, outcomes lower;
- much-to-be-done: every other country with an index.

A sub-index available for fewer than `min_available_share` of the countries with an overall
index cannot sort countries; it is dropped from the rule and the description says so. Without
any input or process sub-index, pragmatists and conventionals cannot be told apart from the
other two clusters, so only pacesetters (index and outcomes high) and much-to-be-done remain.
A country with an index but without a sub-index that the rule uses gets no cluster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..i18n import N_
from .config import KINDS, Clusters

PACESETTERS, PRAGMATISTS = "pacesetters", "pragmatists"
CONVENTIONALS, MUCH_TO_BE_DONE = "conventionals", "much_to_be_done"
CLUSTERS = (PACESETTERS, PRAGMATISTS, CONVENTIONALS, MUCH_TO_BE_DONE)
CLUSTER_LABELS = {PACESETTERS: N_("Pacesetters"), PRAGMATISTS: N_("Pragmatists"), CONVENTIONALS: N_("Conventionals"),
                  MUCH_TO_BE_DONE: N_("Much-to-be-done")}


def quantile_text(q: float) -> str:
    pct = q * 100
    text = f"{pct:g}th percentile"
    if abs(pct / 10 - round(pct / 10)) < 1e-9:
        text += f" ({round(pct / 10)}th decile)"
    return text


def assign_clusters(values: pd.DataFrame, ok: pd.DataFrame, cfg: Clusters) -> tuple[pd.Series, dict]:
    base = ok["overall"].to_numpy()
    n = int(base.sum())
    used: list[str] = []
    dropped: dict[str, str] = {}
    for kind in KINDS:
        have = int((ok[f"overall.{kind}"].to_numpy() & base).sum())
        share = have / n if n else 0.0
        if have and share >= cfg.min_available_share:
            used.append(kind)
        else:
            dropped[kind] = (f"available for {have} of the {n} countries with an overall index ({share:.0%}), "
                             f"below the {cfg.min_available_share:.0%} required")
    cols = ["overall"] + [f"overall.{k}" for k in used]
    cuts: dict[str, float] = {}
    high: dict[str, np.ndarray] = {}
    for col in cols:
        mask = ok[col].to_numpy() & base
        v = values[col].to_numpy()
        cuts[col] = float(np.quantile(v[mask], cfg.threshold)) if mask.any() else float("nan")
        high[col] = mask & (v >= cuts[col])
    assignable = base.copy()
    for col in cols[1:]:
        assignable &= ok[col].to_numpy()

    policy = [k for k in ("input", "process") if k in used]
    has_outcome = "outcome" in used
    pace = assignable & high["overall"]
    for k in used:
        pace &= high[f"overall.{k}"]
    labels = np.full(len(values), None, dtype=object)
    subs = (f"the {used[0]} sub-index" if len(used) == 1 else f"the {_join(used)} sub-indexes") if used else ""
    rules = {PACESETTERS: "the overall index" + (f" and {subs}" if subs else "") + " at or above the "
             + quantile_text(cfg.threshold)}
    possible = [PACESETTERS]
    prag = conv = np.zeros(len(values), dtype=bool)
    if has_outcome and policy:
        out_high = high["overall.outcome"]
        pol_all = np.logical_and.reduce([high[f"overall.{k}"] for k in policy])
        pol_any_low = ~pol_all
        prag = assignable & ~pace & out_high & pol_any_low
        conv = assignable & ~pace & pol_all & ~out_high
        possible += [PRAGMATISTS, CONVENTIONALS]
        rules[PRAGMATISTS] = f"outcome sub-index high, {' or '.join(policy)} sub-index lower"
        rules[CONVENTIONALS] = f"{' and '.join(policy)} sub-index{'es' if len(policy) > 1 else ''} high, outcome lower"
    else:
        missing = "outcome" if not has_outcome else "input or process"
        rules[PRAGMATISTS] = rules[CONVENTIONALS] = (
            f"not assigned: without an {missing} sub-index they cannot be told apart from the other clusters")
    possible.append(MUCH_TO_BE_DONE)
    rules[MUCH_TO_BE_DONE] = "every other country with an overall index"
    labels[assignable] = MUCH_TO_BE_DONE
    labels[conv] = CONVENTIONALS
    labels[prag] = PRAGMATISTS
    labels[pace] = PACESETTERS
    series = pd.Series(labels, index=values.index, name="cluster", dtype=object)
    counts = {c: int((labels == c).sum()) for c in CLUSTERS}
    method = {
        "threshold": cfg.threshold,
        "threshold_text": quantile_text(cfg.threshold),
        "min_available_share": cfg.min_available_share,
        "cut_points": cuts,
        "sub_indexes_used": used,
        "sub_indexes_dropped": dropped,
        "degraded": bool(dropped),
        "clusters_possible": possible,
        "rules": rules,
        "counts": counts,
        "without_cluster": int((base & ~assignable).sum()),
    }
    return series, method


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]

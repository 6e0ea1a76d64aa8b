"""Every country observation in; one value per (country, indicator, year, sex, breakdown) out, by declared precedence.

When several sources give a value for the same cell, the rules of sources.yaml (`precedence`)
decide, in order: the newest vintage, the declared order of sources, the longest series, the
source code. The choice is recorded: how many candidates there were, which rule decided, and the
values set aside.
"""

from __future__ import annotations

import pandas as pd

from ..catalog import Catalog
from .sources import SourcesFile

RESOLVED_EXTRA = ["candidates", "chosen_by", "alternatives"]


def resolve(obs: pd.DataFrame, cfg: SourcesFile, catalog: Catalog) -> pd.DataFrame:
    """One value per (iso3, indicator, year, sex, breakdown), chosen by the declared precedence rules."""
    key = ["iso3", "indicator", "year", "sex", "breakdown"]
    if not len(obs):
        return obs.assign(candidates=pd.Series(dtype="int64"), chosen_by="", alternatives="")
    obs = obs.copy()
    order = {sid: i for i, sid in enumerate(cfg.precedence.source_order)}
    obs["_vintage_rank"] = obs["vintage"].fillna("").map(lambda v: v or "0000")
    obs["_order"] = obs["source_id"].map(lambda s: order.get(s, len(order)))
    series_key = ["iso3", "indicator", "sex", "breakdown", "source_id", "source_code", "vintage"]
    obs["_length"] = obs.groupby(series_key, sort=False)["year"].transform("size")
    sort_cols = {
        "newest_vintage": ("_vintage_rank", False),
        "source_order": ("_order", True),
        "longest_series": ("_length", False),
        "source_code": ("source_code", True),
    }
    obs["candidates"] = obs.groupby(key, sort=False)["value"].transform("size")
    parts = []
    rule_sets: dict[tuple, list[str]] = {}
    for ind in obs["indicator"].unique():
        rules = tuple(cfg.precedence.indicators.get(ind, cfg.precedence.rules))
        rule_sets.setdefault(rules, []).append(ind)
    for rules, inds in sorted(rule_sets.items()):
        part = obs[obs["indicator"].isin(inds)]
        cols = [sort_cols[r][0] for r in rules] + ["file", "line"]
        asc = [sort_cols[r][1] for r in rules] + [True, True]
        part = part.sort_values(key + cols, ascending=[True] * len(key) + asc, kind="stable")
        part = part.assign(_pos=part.groupby(key, sort=False).cumcount())
        chosen = part[part["_pos"] == 0].copy()
        chosen["chosen_by"] = ""
        chosen["alternatives"] = ""
        multi = part[part["candidates"] > 1]
        if len(multi):
            first = multi[multi["_pos"] == 0].set_index(key)
            second = multi[multi["_pos"] == 1].set_index(key).reindex(first.index)
            decided = pd.Series("file order", index=first.index, dtype="object")
            for rule in reversed(rules):
                col = sort_cols[rule][0]
                decided = decided.where(first[col] == second[col], rule)
            rest = multi[multi["_pos"] > 0]
            text = (rest["source_id"] + " " + rest["source_code"] + " ("
                    + rest["vintage"].replace("", "no vintage") + "): " + rest["value"].map("{:g}".format))
            others = text.groupby([rest[k] for k in key], sort=False).agg("; ".join)
            index = pd.MultiIndex.from_frame(chosen[key])
            chosen["chosen_by"] = decided.reindex(index).fillna("").to_numpy()
            chosen["alternatives"] = others.reindex(index).fillna("").to_numpy()
        parts.append(chosen)
    out = pd.concat(parts, ignore_index=True).drop(columns=["_vintage_rank", "_order", "_length", "_pos"])
    return out.sort_values(key, kind="stable").reset_index(drop=True)

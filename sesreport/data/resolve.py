"""Every country observation in; one value per (country, indicator, year, sex, breakdown) out, by declared precedence.

Before any rule, a later release of a source supersedes its earlier releases for the cells both
cover ("later release": revisions win, whatever the series lengths). Then the rules of sources.yaml
(`precedence`) decide, in order: by default the newest vintage, the declared order of sources, the
longest series, the source code. The choice is recorded: how many candidates there were, which rule
decided, and the values set aside.

`check_scales` runs first: a file whose values sit a factor near 10, 100 or 1,000 away from another
file's for the same cells is on another scale, and its values of that indicator are set aside with
an error until sources.yaml declares the conversion (`scale:`).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from ..catalog import Catalog
from ..errors import Problem
from .sources import SourcesFile

CELL = ["iso3", "indicator", "year", "sex", "breakdown"]
#: how close (in powers of ten) the typical ratio between two files must come to 10, 100 or 1,000
SCALE_TOLERANCE = 0.2

RESOLVED_EXTRA = ["candidates", "chosen_by", "alternatives"]


def resolve(obs: pd.DataFrame, cfg: SourcesFile, catalog: Catalog) -> pd.DataFrame:
    """One value per (iso3, indicator, year, sex, breakdown), chosen by the declared precedence rules.

    The ranking works on a narrow table (the cell, the provenance and the ranks); only the chosen
    rows are taken whole, so that millions of observations are not copied several times over."""
    key = CELL
    if not len(obs):
        return obs.assign(candidates=pd.Series(dtype="int64"), chosen_by="", alternatives="")
    order = {sid: i for i, sid in enumerate(cfg.precedence.source_order)}
    work = obs[key + ["source_id", "source_code", "vintage", "value", "file", "line"]]
    vintage_rank = work["vintage"].fillna("").replace("", "0000")
    series_key = ["iso3", "indicator", "sex", "breakdown", "source_id", "source_code", "vintage"]
    work = work.assign(
        _vintage_rank=vintage_rank,
        _order=work["source_id"].map(order).fillna(len(order)).astype("int64"),
        _length=work.groupby(series_key, sort=False)["year"].transform("size"),
        _superseded=vintage_rank < vintage_rank.groupby([work[k] for k in key + ["source_id"]],
                                                        sort=False).transform("max"),
        candidates=work.groupby(key, sort=False)["value"].transform("size"),
    )
    sort_cols = {
        "newest_vintage": ("_vintage_rank", False),
        "source_order": ("_order", True),
        "longest_series": ("_length", False),
        "source_code": ("source_code", True),
    }
    parts = []
    rule_sets: dict[tuple, list[str]] = {}
    for ind in work["indicator"].unique():
        rules = tuple(cfg.precedence.indicators.get(ind, cfg.precedence.rules))
        rule_sets.setdefault(rules, []).append(ind)
    for rules, inds in sorted(rule_sets.items()):
        part = work if len(rule_sets) == 1 else work[work["indicator"].isin(inds)]
        cols = ["_superseded"] + [sort_cols[r][0] for r in rules] + ["file", "line"]
        asc = [True] + [sort_cols[r][1] for r in rules] + [True, True]
        part = part.sort_values(key + cols, ascending=[True] * len(key) + asc, kind="stable")
        part = part.assign(_pos=part.groupby(key, sort=False).cumcount())
        first_rows = part[part["_pos"] == 0]
        chosen = obs.loc[first_rows.index].assign(candidates=first_rows["candidates"], chosen_by="", alternatives="")
        multi = part[part["candidates"] > 1]
        if len(multi):
            first = multi[multi["_pos"] == 0].set_index(key)
            second = multi[multi["_pos"] == 1].set_index(key).reindex(first.index)
            decided = pd.Series("file order", index=first.index, dtype="object")
            for rule in reversed(rules):
                col = sort_cols[rule][0]
                decided = decided.where(first[col] == second[col], rule)
            decided = decided.where(first["_superseded"] == second["_superseded"], "later release")
            rest = multi[multi["_pos"] > 0]
            text = (rest["source_id"] + " " + rest["source_code"] + " ("
                    + rest["vintage"].replace("", "no vintage") + "): " + rest["value"].map("{:g}".format))
            others = text.groupby([rest[k] for k in key], sort=False).agg("; ".join)
            index = pd.MultiIndex.from_frame(chosen[key])
            chosen["chosen_by"] = decided.reindex(index).fillna("").to_numpy()
            chosen["alternatives"] = others.reindex(index).fillna("").to_numpy()
        parts.append(chosen)
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return out.sort_values(key, kind="stable").reset_index(drop=True)


def check_scales(obs: pd.DataFrame, problems: list[Problem],
                 withheld: dict[str, list[Problem]] | None = None) -> pd.DataFrame:
    """Set aside the values of a file that is on another scale than the other files of its indicator.

    Two files giving the same cells (country, indicator, year, sex, breakdown) are compared by the
    median ratio of their values; a ratio near 10, 100 or 1,000 (either way) is a scale mismatch.
    The file at odds with most others (or, between two, the later release) is reported and its
    values of that indicator are not used; the error is also collected in `withheld` under the
    indicator, which a build then leaves out of every document for this run."""
    shared = obs[obs.duplicated(CELL, keep=False) & (obs["value"] > 0)]
    if not len(shared):
        return obs
    drop = pd.Series(False, index=obs.index)
    for indicator, part in shared.groupby("indicator", sort=True):
        if part["file"].nunique() < 2:
            continue
        wide = part.pivot_table(index=CELL[:1] + CELL[2:], columns="file", values="value", aggfunc="first")
        mismatches = []
        for a, b in combinations(sorted(wide.columns), 2):
            both = wide[[a, b]].dropna()
            if not len(both):
                continue
            ratio = float(np.median(np.log10(both[a] / both[b])))
            power = round(ratio)
            if 1 <= abs(power) <= 3 and abs(ratio - power) <= SCALE_TOLERANCE:
                mismatches.append((a, b, power, both))
        against: dict[str, list[tuple[str, int, pd.DataFrame]]] = {}
        for a, b, power, both in mismatches:
            odd = _odd_one(a, b, mismatches, part)
            # power: log10 of odd / other
            against.setdefault(odd, []).append((b, power, both) if odd == a else (a, -power, both))
        for odd, others in sorted(against.items()):
            drop[obs.index[(obs["indicator"] == indicator) & (obs["file"] == odd)]] = True
            other, power, both = others[0]
            cell = both.index[0]
            direction = "smaller" if power < 0 else "larger"
            first = part[part["file"] == odd].sort_values("line", kind="stable").iloc[0]
            more = "".join(f" and in {o} ({len(bo)} compared)" for o, _, bo in others[1:])
            problem = Problem(
                odd, int(first["line"]),
                f"scale mismatch: the values of {indicator} here are about {10 ** abs(power):,} times {direction} than "
                f"in {other} for the same countries and years ({len(both)} compared; {cell[0]} {cell[1]}: "
                f"{both.iloc[0][odd]:g} here, {both.iloc[0][other]:g} there){more}; this file's values of "
                f"{indicator} are not used",
                f"if the publisher changed the scale, declare `scale: {10.0 ** -power:g}` for this file's source in "
                "sources.yaml; otherwise check which file is wrong")
            problems.append(problem)
            if withheld is not None:
                withheld.setdefault(str(indicator), []).append(problem)
    return obs[~drop].reset_index(drop=True)


def _odd_one(a: str, b: str, mismatches: list, part: pd.DataFrame) -> str:
    """Of two files on different scales, the one at odds with more files; else the later release."""
    count = {a: 0, b: 0}
    for x, y, _, _ in mismatches:
        for f in (x, y):
            if f in count:
                count[f] += 1
    if count[a] != count[b]:
        return a if count[a] > count[b] else b
    vintage = part.groupby("file")["vintage"].max()
    return a if (vintage.get(a) or "") > (vintage.get(b) or "") else b

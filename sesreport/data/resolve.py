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

from collections.abc import Callable
from itertools import combinations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..catalog import Catalog
from ..errors import Problem
from .dataset import as_text, in_main_series, sortable, text_codes
from .mapping import row_keys
from .sources import SourcesFile

CELL = ["iso3", "indicator", "year", "sex", "breakdown"]
#: how close (in powers of ten) the typical ratio between two files must come to 10, 100 or 1,000
SCALE_TOLERANCE = 0.2

RESOLVED_EXTRA = ["candidates", "chosen_by", "alternatives"]
CHUNK = 262_144  # values set aside joined into texts at a time


def resolve(obs: pd.DataFrame, cfg: SourcesFile, catalog: Catalog) -> pd.DataFrame:
    """One value per (iso3, indicator, year, sex, breakdown), chosen by the declared precedence rules.

    The ranking works on arrays of numbers (a cell's number, a vintage's rank, …) sorted once per
    set of rules; only the chosen rows are taken whole, so that millions of observations are never
    copied as a table. The rows come by indicator, its main series first (`in_main_series`), each part
    by country, year, sex and breakdown."""
    if not len(obs):
        return obs.assign(candidates=pd.Series(dtype="int64"), chosen_by="", alternatives="")
    order = {sid: i for i, sid in enumerate(cfg.precedence.source_order)}
    # numbers that sort as the texts do; a vintage's rank among the vintages (none first), a
    # source's place in the declared order (undeclared last)
    code = {c: sortable(obs[c]) for c in CELL + ["source_id", "source_code", "vintage", "file"]}
    cell = row_keys([code[c] for c in CELL])
    vintage = _per_text(obs["vintage"], lambda texts: _ranks([t or "0000" for t in texts]))
    series = row_keys([code[c] for c in ("iso3", "indicator", "sex", "breakdown", "source_id", "source_code",
                                          "vintage")])
    ranks = {
        "newest_vintage": -vintage,
        "source_order": _per_text(obs["source_id"], lambda texts: np.array([order.get(t, len(order)) for t in texts],
                                                                           dtype=np.int32)),
        "longest_series": -_sizes(series),
        "source_code": code["source_code"],
    }
    del series
    of_source = row_keys([cell, code["source_id"]])
    newest = np.zeros(int(of_source.max()) + 1, dtype=vintage.dtype)
    np.maximum.at(newest, of_source, vintage)
    superseded = vintage < newest[of_source]  # a later release of the same source gives this cell
    del of_source, newest
    candidates = _sizes(cell)

    rule_sets: dict[tuple, list[str]] = {}
    for ind in obs["indicator"].unique():
        rules = tuple(cfg.precedence.indicators.get(ind, cfg.precedence.rules))
        rule_sets.setdefault(rules, []).append(ind)
    chosen, decided, alternatives = [], [], []
    for rules, inds in sorted(rule_sets.items()):
        rows = np.arange(len(obs)) if len(rule_sets) == 1 else np.flatnonzero(obs["indicator"].isin(inds).to_numpy())
        # sorted by cell, then by the rules: each cell's rows follow one another, the chosen first
        keys = [cell, superseded] + [ranks[r] for r in rules] + [code["file"], obs["line"].to_numpy()]
        rows = rows[np.lexsort([k if len(rule_sets) == 1 else k[rows] for k in reversed(keys)])]
        starts = np.flatnonzero(np.diff(cell[rows], prepend=-1) != 0)
        chosen.append(rows[starts])
        decided += _decided(rows, starts, [superseded] + [ranks[r] for r in rules], ("later release",) + rules)
        alternatives += _alternatives(obs, rows, starts)
    picked = np.concatenate(chosen)
    # by indicator, its main series first, each part in the order of cells: `Dataset.headline` is one run of rows
    main = in_main_series(obs, catalog)[picked]
    arranged = np.lexsort((cell[picked], ~main, code["indicator"][picked]))
    picked = picked[arranged]
    texts = pa.chunked_array(alternatives, type=pa.large_string())
    if (arranged != np.arange(len(arranged))).any():
        texts = texts.take(pa.array(arranged))
    out = obs.iloc[picked].reset_index(drop=True)
    out = out.assign(candidates=candidates[picked].astype("int64"),
                     chosen_by=pd.Series(np.array(decided, dtype=object)[arranged], dtype="category"),
                     alternatives=pd.arrays.ArrowStringArray(texts, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))
    return out


def _sizes(ids: np.ndarray) -> np.ndarray:
    """For every row, how many rows share its number."""
    return np.bincount(ids).astype(ids.dtype)[ids]


def _decided(rows: np.ndarray, starts: np.ndarray, ranks: list[np.ndarray], names: tuple[str, ...]) -> list[str]:
    """For each cell (its chosen row at `starts` of the sorted `rows`), the rule that put the chosen
    row before the second-best: the first whose ranks differ ("later release" first), else "file order"."""
    many = starts[np.flatnonzero(np.diff(np.append(starts, len(rows))) > 1)]
    first, second = rows[many], rows[many + 1]
    decided = np.full(len(many), "file order", dtype=object)
    for rank, name in reversed(list(zip(ranks, names))):
        decided = np.where(rank[first] == rank[second], decided, name)
    out = np.full(len(starts), "", dtype=object)
    out[np.searchsorted(starts, many)] = decided
    return out.tolist()


def _alternatives(obs: pd.DataFrame, rows: np.ndarray, starts: np.ndarray) -> list[pa.Array]:
    """For each cell (its rows in rank order in `rows`, the chosen one at `starts`), the values set
    aside ("wb SL.UEM (2024-01-01): 5.2; …"). The cells are taken a few hundred thousand values at a
    time; in each, every distinct source and every distinct value is written once, and Arrow joins
    them, so that millions of texts never stand as Python strings."""
    sid, sid_t = text_codes(obs["source_id"])
    code, code_t = text_codes(obs["source_code"])
    vin, vin_t = text_codes(obs["vintage"])
    values = obs["value"].to_numpy()
    prefixes: dict[int, str] = {}
    cells = len(starts)
    ends = np.append(starts[1:], len(rows))
    bounds = np.append(starts - np.arange(cells), len(rows) - cells)  # where each cell's values begin
    out = []
    first = 0
    while first < cells:  # the cells from `first` to `last` hold about CHUNK values set aside
        last = min(cells, max(first + 1, int(np.searchsorted(bounds, bounds[first] + CHUNK, side="right")) - 1))
        part = rows[starts[first]:ends[last - 1]]
        aside = np.ones(len(part), dtype=bool)
        aside[starts[first:last] - starts[first]] = False
        part = part[aside]
        said, kinds = pd.factorize((sid[part].astype(np.int64) * len(code_t) + code[part]) * len(vin_t) + vin[part])
        for k in kinds.tolist():
            if k not in prefixes:
                s, sc = divmod(k // len(vin_t), len(code_t))
                prefixes[k] = f"{sid_t[s]} {code_t[sc]} ({vin_t[k % len(vin_t)] or 'no vintage'}): "
        # by the bits of the number, so that -0.0 ("-0") is not taken for 0.0 ("0")
        value, distinct = pd.factorize(values[part].view(np.int64))
        pieces = pc.binary_join_element_wise(
            pa.array([prefixes[k] for k in kinds.tolist()], type=pa.large_string()).take(pa.array(said)),
            pa.array([f"{v:g}" for v in distinct.view(np.float64).tolist()], type=pa.large_string()).take(
                pa.array(value)),
            pa.scalar("", pa.large_string()))
        lists = pa.LargeListArray.from_arrays(pa.array(bounds[first:last + 1] - bounds[first], type=pa.int64()), pieces)
        out.append(pc.binary_join(lists, pa.scalar("; ", pa.large_string())))
        first = last
    return out


def _per_text(column: pd.Series, fn: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """A number for every row of a text column, from `fn` applied once to its distinct texts."""
    codes, texts = text_codes(column)
    return np.asarray(fn(texts))[codes]


def _ranks(texts: list[str]) -> np.ndarray:
    """Each text's place among the distinct texts, sorted: equal texts rank equal."""
    order = {t: i for i, t in enumerate(sorted(set(texts)))}
    return np.array([order[t] for t in texts], dtype=np.int32)


def check_scales(obs: pd.DataFrame, problems: list[Problem],
                 withheld: dict[str, list[Problem]] | None = None) -> pd.DataFrame:
    """Set aside the values of a file that is on another scale than the other files of its indicator.

    Two files giving the same cells (country, indicator, year, sex, breakdown) are compared by the
    median ratio of their values; a ratio near 10, 100 or 1,000 (either way) is a scale mismatch.
    The file at odds with most others (or, between two, the later release) is reported and its
    values of that indicator are not used; the error is also collected in `withheld` under the
    indicator, which a build then leaves out of every document for this run."""
    ind, ind_t = text_codes(obs["indicator"])
    src, src_t = text_codes(obs["file"])
    # only the indicators that several files give can have a file on another scale
    pairs = np.flatnonzero(np.bincount(ind.astype(np.int64) * len(src_t) + src, minlength=len(ind_t) * len(src_t)))
    several = np.bincount(pairs // len(src_t), minlength=len(ind_t)) > 1
    if not several.any():
        return obs
    rows = several[ind]
    candidates = obs if rows.all() else obs[rows]
    del ind, src, rows
    shared = candidates[candidates.duplicated(CELL, keep=False) & (candidates["value"] > 0)]
    del candidates
    if not len(shared):
        return obs
    drop = pd.Series(False, index=obs.index)
    for indicator, part in shared.groupby("indicator", sort=True, observed=True):
        if part["file"].nunique() < 2:
            continue
        part = as_text(part)
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

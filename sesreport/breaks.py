"""Series breaks: one country's history of an indicator in, the places where the series breaks out.

A break separates two observations whose values are not comparable, so that no line is drawn and
no change is computed across it. Three signs make a break, each recorded with its reason:

- `flag`: the publisher flags the later observation as a break in series (ILOSTAT's status "B");
- `source`: the publisher's source changes between the two observations (ILOSTAT names the national
  survey or register behind each value; an empty source says nothing and never makes a break);
- `jump`: the step between the two observations is a level shift far beyond the series' usual
  year-to-year change. A step of `d` over a gap of `g` years is a jump when
  1. `|d| > jump × usual × g`, where `usual` is the median of `|d| / g` over every step of the series
     (at least 1 % of the series' median level, so that a flat series does not break at its first
     small move): steps over several years are compared per year;
  2. `|d|` is at least `MIN_SHIFT` (40 %) of the larger of the two values, and at least `MIN_SPAN`
     (a quarter) of the series' range: a shift of level, not a fluctuation of a small number;
  3. it is not one leg of a spike: the next step does not take back half of it or more, and it does
     not take back a step before of half its size or more (a crisis year that recovers is an
     event, not a break);
  4. the series has at least `MIN_STEPS` steps (a shorter one has no usual change), and is not a
     modelled estimate throughout (every value flagged `estimate`): a publisher's model harmonises
     its series over time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Reason = Literal["flag", "source", "jump"]

#: the fewest steps (observations minus one) for which a series has a usual year-to-year change
MIN_STEPS = 5
#: the least usual change per year, as a share of the series' median absolute level
MIN_USUAL = 0.01
#: the least jump, as a share of the larger of its two values, and as a share of the series' range
MIN_SHIFT = 0.4
MIN_SPAN = 0.25


@dataclass(frozen=True)
class Break:
    """A break between the observations of `before` and `after` (consecutive years with data)."""

    before: int
    after: int
    reason: Reason


def find_breaks(history: pd.DataFrame, jump: float) -> tuple[Break, ...]:
    """The breaks of one country's series: `history` has `year`, `value` and, where the publisher
    gives them, `break` (flag) and `source_code`, one row per year. Sorted by year; one break per
    pair of observations, by the first reason found in the order flag, source, jump."""
    if len(history) < 2:
        return ()
    rows = history.sort_values("year")
    flagged = rows["break"].to_numpy(dtype=bool) if "break" in rows else np.zeros(len(rows), dtype=bool)
    sources = rows["source_code"].astype(str).to_numpy() if "source_code" in rows else np.full(len(rows), "")
    modelled = "estimate" in rows and bool(rows["estimate"].to_numpy(dtype=bool).all())
    return breaks_in(rows["year"].to_numpy(dtype=int), rows["value"].to_numpy(dtype=float), flagged, sources,
                     modelled, jump)


def breaks_in(years: np.ndarray, values: np.ndarray, flagged: np.ndarray, sources: np.ndarray, modelled: bool,
              jump: float) -> tuple[Break, ...]:
    """`find_breaks` on a series given as arrays, sorted by year: the flags, the source codes and
    whether every value is a modelled estimate."""
    if len(years) < 2:
        return ()
    jumps = np.zeros(len(years) - 1, dtype=bool) if modelled else jump_steps(years, values, jump)
    out = []
    for i in range(1, len(years)):
        reason: Reason | None = None
        if flagged[i]:
            reason = "flag"
        elif sources[i] and sources[i - 1] and sources[i] != sources[i - 1]:
            reason = "source"
        elif jumps[i - 1]:
            reason = "jump"
        if reason is not None:
            out.append(Break(int(years[i - 1]), int(years[i]), reason))
    return tuple(out)


def jump_steps(years: np.ndarray, values: np.ndarray, jump: float) -> np.ndarray:
    """For each step between consecutive observations, whether it is a jump (see the module's rule)."""
    steps = np.diff(values)
    size = np.abs(steps)
    gaps = np.maximum(np.diff(years), 1).astype(float)  # one value a year; never divide by zero
    none = np.zeros(len(steps), dtype=bool)
    if len(steps) < MIN_STEPS:
        return none
    usual = max(float(np.median(size / gaps)), MIN_USUAL * float(np.median(np.abs(values))))
    if usual <= 0:
        return none
    level = np.maximum(np.abs(values[:-1]), np.abs(values[1:]))
    big = (size > jump * usual * gaps) & (size >= MIN_SHIFT * level)
    big &= size >= MIN_SPAN * float(np.ptp(values))
    turns = steps[1:] * steps[:-1] < 0  # the step after each step (but the last) goes the other way
    taken_back = np.append(turns & (size[1:] >= size[:-1] / 2), False)  # by the next step, half or more
    takes_back = np.insert(turns & (size[:-1] >= size[1:] / 2), 0, False)  # a step before of half its size
    return big & ~taken_back & ~takes_back


def segments(years: np.ndarray, breaks: tuple[Break, ...]) -> np.ndarray:
    """A segment number for each year: 0 up to the first break, 1 after it, and so on."""
    starts = np.array([b.after for b in breaks], dtype=int)
    return np.searchsorted(starts, np.asarray(years, dtype=int), side="right")

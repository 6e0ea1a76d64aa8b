"""What a document says about an indicator: pure functions over the resolved observations.

Nothing here reads files or formats text. Every figure carries the observations it came from
(source, vintage, file and line), so a printed number can be traced back to the published cell.
The editorial rules (`Rules`) decide what may be said: no change across a series break
(`breaks`), no peer statistic from fewer peers than the configured minimum.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .breaks import Break, breaks_in, segments
from .catalog import Indicator

Trend = Literal["rising", "falling", "stable"]
Position = Literal["better", "worse", "similar", "higher", "lower"]


@dataclass(frozen=True)
class Obs:
    """One published value and where it came from."""

    iso3: str
    year: int
    value: float
    source_id: str
    source_code: str
    vintage: str
    file: str
    line: int
    estimate: bool = False
    brk: bool = False

    def ref(self) -> dict:
        return {"iso3": self.iso3, "year": self.year, "value": self.value, "source": self.source_id,
                "code": self.source_code, "vintage": self.vintage, "file": self.file, "line": self.line}


#: the columns of an observation that say where it came from (`Obs.ref` names them as printed in figures)
PROVENANCE = ["iso3", "year", "value", "source_id", "source_code", "vintage", "file", "line", "estimate", "break"]
TEXTS = ("iso3", "source_id", "source_code", "vintage", "file")  # the text columns of `PROVENANCE`, in its order


@dataclass
class PeerStats:
    """The peers' median, lowest and highest value, and the observation behind each peer's value."""

    median: float
    low: float
    high: float
    n: int
    observations: tuple[Obs, ...]  # each peer's value used, in the order of the peers' ISO3 codes

    @functools.cached_property
    def values(self) -> pd.DataFrame:
        """The peers' observations as a table of the `PROVENANCE` columns, one row per peer."""
        rows = [(o.iso3, o.year, o.value, o.source_id, o.source_code, o.vintage, o.file, o.line, o.estimate, o.brk)
                for o in self.observations]
        return pd.DataFrame(rows, columns=PROVENANCE)

    @functools.cached_property
    def _refs(self) -> list[dict]:
        return [o.ref() for o in self.observations]

    def refs(self) -> list[dict]:
        """Every peer's observation as recorded in a document's figures (see `Obs.ref`). The same list
        for every record of the statistic (never changed), so that its JSON text is written once."""
        return self._refs


@dataclass(frozen=True)
class Change:
    """The change of an indicator over a horizon: computed once, then read by every text that states it.

    `delta` is the latest value minus the value of `base`, the observation about `horizon` years
    earlier; `direction` is "stable" when the delta is below the tolerance for the base level
    (`tolerance(ind, base.value)`), else "rising" or "falling". The generated sentence, the section
    table, the key figures, the figures record and the change log all read these fields; none of
    them computes a difference or a direction of its own.
    """

    horizon: int
    base: Obs
    delta: float
    direction: Trend

    @classmethod
    def between(cls, ind: Indicator, horizon: int, base: Obs, latest: Obs) -> Change:
        """The change from `base` to `latest`, its direction under the indicator's tolerance."""
        delta = latest.value - base.value
        direction: Trend = "stable" if abs(delta) < tolerance(ind, base.value) else (
            "rising" if delta > 0 else "falling")
        return cls(horizon, base, delta, direction)

    def ref(self) -> dict:
        """As recorded in a document's figures: the horizon, the base observation, delta and direction."""
        return {"horizon": self.horizon, "base": self.base.ref(), "delta": self.delta, "direction": self.direction}


HORIZONS = (5, 10)
TREND_HORIZON = 5


@dataclass(frozen=True)
class Rules:
    """The editorial rules a statistic follows (a country config's `min_peers`, `band_stability` and
    `break_jump`, documented in `config/defaults.yaml`).

    `min_peers`: a peer median, range, rank or band needs at least this many peers with data;
    `band_stability`: the band is drawn only over years whose peers are mostly those of its last year
    (see `peer_band`); `break_jump`: a step this many times the series' usual change is a break (see
    `breaks`).
    """

    min_peers: int = 5
    band_stability: float = 0.8
    break_jump: float = 4.0


@dataclass
class Stat:
    """Everything a brief may say about one indicator for one country.

    `changes` holds one `Change` per horizon of `HORIZONS` (5 and 10 years) for which a base
    observation exists; `base5`, `change5`, `base10` and `change10` read them. A change is never
    computed across a break in series: its base lies in the latest segment (after the last of
    `breaks`), or there is no change. `peers` is None when fewer peers than the minimum have data.
    """

    indicator: str
    latest: Obs | None
    changes: dict[int, Change] = field(default_factory=dict)
    stale: bool = False
    peers: PeerStats | None = None
    rank: int | None = None
    rank_of: int | None = None
    percentile: float | None = None
    gap: float | None = None
    position: Position | None = None
    breaks: tuple[Break, ...] = ()  # the series' breaks, oldest first (see `breaks.find_breaks`)
    #: where `history` is read from: the indicator's `Headline` and the country's rows [start, end) in it
    series: tuple[Headline, int, int] | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def history(self) -> pd.DataFrame:
        """The country's observations up to the document's year, oldest first: the `PROVENANCE` columns."""
        if self.series is None:
            return pd.DataFrame()
        table, start, end = self.series
        return table.history(start, end)

    @property
    def has_data(self) -> bool:
        return self.latest is not None

    @property
    def value(self) -> float | None:
        return self.latest.value if self.latest else None

    @property
    def year(self) -> int | None:
        return self.latest.year if self.latest else None

    def change(self, horizon: int) -> Change | None:
        """The change over `horizon` years, if a base observation exists for it."""
        return self.changes.get(horizon)

    @property
    def trend(self) -> Trend | None:
        """The direction of the change over the last five years (`TREND_HORIZON`): rising, falling or
        stable under `tolerance`; None without a base observation about five years back.

        This is what narrative conditions read (`ind.<code>.trend`). A generated sentence may state
        the change over another horizon (see `narrative.statement`); its record carries the
        direction of the change it prints, not this trend.
        """
        change = self.changes.get(TREND_HORIZON)
        return change.direction if change else None

    @property
    def base5(self) -> Obs | None:
        change = self.changes.get(5)
        return change.base if change else None

    @property
    def base10(self) -> Obs | None:
        change = self.changes.get(10)
        return change.base if change else None

    @property
    def change5(self) -> float | None:
        change = self.changes.get(5)
        return change.delta if change else None

    @property
    def change10(self) -> float | None:
        change = self.changes.get(10)
        return change.delta if change else None


def segmented(history: pd.DataFrame, breaks: tuple[Break, ...]) -> pd.DataFrame:
    """The history with a `segment` column: 0 before the first break, 1 after it, and so on (a chart
    draws each segment as its own line)."""
    return history.assign(segment=segments(history["year"].to_numpy(), breaks))


def history_obs(stat: Stat, year: int) -> Obs | None:
    """The country's observation for `year` among those the statistic was computed from."""
    if stat.series is not None:
        table, start, end = stat.series
        i = base_for(table.year_list, start, end, year, slack=0)
        return table.obs(i) if i is not None else None
    if not len(stat.history):
        return None
    hits = np.flatnonzero(stat.history["year"].to_numpy() == year)
    return _obs(stat.history, int(hits[0])) if len(hits) else None


def _obs(frame: pd.DataFrame, i: int) -> Obs:
    row = frame.iloc[i]
    return Obs(str(row["iso3"]), int(row["year"]), float(row["value"]), str(row["source_id"]),
               str(row["source_code"]), str(row["vintage"]), str(row["file"]), int(row["line"]),
               bool(row["estimate"]), bool(row["break"]))


def tolerance(ind: Indicator, base: float) -> float:
    """Below this, a change or a gap is 'stable' or 'similar': 3 % of the level, at least one shown digit."""
    return max(0.03 * abs(base), 10.0 ** -ind.decimals)


class Headline:
    """One indicator's headline series (`Dataset.headline`) with what a statistic looks up in it.

    In: the series, one row per country and year with the `PROVENANCE` columns. Out: each country's
    rows by position (the rows sorted by iso3, then year), the years and values as arrays, each row
    as an `Obs`, and the whole as a year × country matrix for the peer bands. Worked out once per
    indicator and kept on the dataset (`Dataset.headline_table`), so that every document built from
    the same data shares it; it holds nothing but what the series says.
    """

    def __init__(self, frame: pd.DataFrame):
        iso3 = frame["iso3"].to_numpy(dtype=object)
        years = frame["year"].to_numpy(dtype=np.int64)
        if len(frame) > 1 and not _ordered(iso3, years):
            frame = frame.sort_values(["iso3", "year"], kind="stable")
            iso3, years = frame["iso3"].to_numpy(dtype=object), frame["year"].to_numpy(dtype=np.int64)
        self.frame = frame[PROVENANCE].reset_index(drop=True)
        self.years = years
        self.year_list: list[int] = years.tolist()
        self.values = frame["value"].to_numpy(dtype=float)
        starts = np.flatnonzero(np.r_[True, iso3[1:] != iso3[:-1]]) if len(iso3) else np.zeros(0, dtype=int)
        ends = np.r_[starts[1:], len(iso3)].astype(int)
        #: each country's rows: positions [start, end)
        self.spans: dict[str, tuple[int, int]] = {str(iso3[a]): (int(a), int(b)) for a, b in zip(starts, ends)}
        self.flagged = self.frame["break"].to_numpy(dtype=bool)
        self.estimate = self.frame["estimate"].to_numpy(dtype=bool)
        # the text columns as a code a row and their few distinct texts (a list of a string a row would
        # hold every file path once per row); the other columns as arrays
        self._texts = [_factorized(self.frame[c]) for c in TEXTS]
        self._lines = self.frame["line"].to_numpy()
        self._obs: list[Obs | None] = [None] * len(self.frame)
        self._wide: tuple[int, list[str], np.ndarray] | None = None

    def rows(self, iso3: str, up_to: int) -> tuple[int, int]:
        """The positions [start, end) of the country's rows up to the year `up_to`."""
        start, end = self.spans.get(iso3, (0, 0))
        return start, bisect.bisect_right(self.year_list, up_to, start, end)

    def obs(self, i: int) -> Obs:
        """The row at position `i` as an observation."""
        found = self._obs[i]
        if found is None:
            iso3, source_id, source_code, vintage, file = (texts[codes[i]] for codes, texts in self._texts)
            found = Obs(iso3, int(self.year_list[i]), float(self.values[i]), source_id, source_code, vintage, file,
                        int(self._lines[i]), bool(self.estimate[i]), bool(self.flagged[i]))
            self._obs[i] = found
        return found

    def history(self, start: int, end: int) -> pd.DataFrame:
        """The rows [start, end) as a table of the `PROVENANCE` columns."""
        return self.frame.iloc[start:end].reset_index(drop=True)

    def breaks(self, start: int, end: int, jump: float) -> tuple[Break, ...]:
        """The breaks of the series in rows [start, end), one country's (see `breaks.find_breaks`)."""
        if end - start < 2:
            return ()
        codes, texts = self._texts[TEXTS.index("source_code")]
        sources = np.array([texts[k] for k in codes[start:end]], dtype=object)
        return breaks_in(self.years[start:end], self.values[start:end], self.flagged[start:end], sources,
                         bool(self.estimate[start:end].all()), jump)

    def latest(self, countries: Iterable[str], up_to: int, since: int) -> list[int]:
        """The position of each country's latest row with since <= year <= up_to, in row order."""
        out = []
        for iso3 in set(countries):
            span = self.spans.get(iso3)
            if span is None:
                continue
            i = bisect.bisect_right(self.year_list, up_to, *span) - 1
            if i >= span[0] and self.year_list[i] >= since:
                out.append(i)
        return sorted(out)

    def wide(self) -> tuple[int, list[str], np.ndarray]:
        """The series as a matrix: (the first year, the countries sorted, year × country values)."""
        if self._wide is None:
            codes = sorted(self.spans)
            if not codes:
                self._wide = (0, [], np.full((0, 0), np.nan))
                return self._wide
            first = int(self.years.min())
            matrix = np.full((int(self.years.max()) - first + 1, len(codes)), np.nan)
            column = np.empty(len(self.years), dtype=np.int64)
            for j, code in enumerate(codes):
                start, end = self.spans[code]
                column[start:end] = j
            known = ~np.isnan(self.values)
            matrix[self.years[known] - first, column[known]] = self.values[known]
            self._wide = (first, codes, matrix)
        return self._wide


def _factorized(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """A text column as a code a row and the texts the codes stand for (a missing value as "nan",
    as `str` writes it)."""
    codes, texts = pd.factorize(column, use_na_sentinel=False)
    return codes, [str(t) for t in texts]


def _ordered(iso3: np.ndarray, years: np.ndarray) -> bool:
    """Rows sorted by iso3, then year."""
    same = iso3[1:] == iso3[:-1]
    return bool(((iso3[1:] > iso3[:-1]) | (same & (years[1:] >= years[:-1]))).all())


def _table(headline: pd.DataFrame | Headline) -> Headline:
    return headline if isinstance(headline, Headline) else Headline(headline)


def base_for(years: list[int], start: int, end: int, year: int, slack: int = 1) -> int | None:
    """Position in [start, end) of the observation for `year`, else the nearest within `slack` years
    (earlier first); `years` sorted over that range."""
    for candidate in [year] + [y for d in range(1, slack + 1) for y in (year - d, year + d)]:
        i = bisect.bisect_left(years, candidate, start, end)
        if i < end and years[i] == candidate:
            return i
    return None


def rank_among(values: pd.Series, iso3: str, direction: str) -> tuple[int, int, float]:
    """Rank (1 = best, ties share the better rank), group size and percentile of `iso3`.

    For a neutral indicator the rank is by size, largest first.
    """
    return _rank(values.to_numpy(dtype=float), float(values[iso3]), direction)


def _rank(values: np.ndarray, own: float, direction: str) -> tuple[int, int, float]:
    """`rank_among` for the value `own`, one of `values` (the whole group)."""
    if direction == "lower_better":
        rank, worse_or_equal = 1 + int((values < own).sum()), int((values >= own).sum()) - 1
    else:
        rank, worse_or_equal = 1 + int((values > own).sum()), int((values <= own).sum()) - 1
    n = len(values)
    percentile = 100.0 * worse_or_equal / (n - 1) if n > 1 else 100.0
    return rank, n, percentile


def indicator_stat(headline: pd.DataFrame | Headline, iso3: str, peers: list[str], ind: Indicator, code: str,
                   as_of_year: int, stale_after: int, peer_window: int, rules: Rules = Rules()) -> Stat:
    """Latest value, changes, trend, peer comparison and rank of one indicator for one country.

    `headline` is the indicator's headline series, best as the dataset's `Headline` (a table is
    indexed here, for this call alone)."""
    table = _table(headline)
    start, end = table.rows(iso3, as_of_year)
    years = table.year_list
    stat = Stat(code, None, breaks=table.breaks(start, end, rules.break_jump), series=(table, start, end))
    ref_year = as_of_year
    if end > start:
        stat.latest = table.obs(end - 1)
        ref_year = stat.latest.year
        stat.stale = ref_year < as_of_year - stale_after
        # the latest segment only: no change is computed across a break
        first = bisect.bisect_left(years, stat.breaks[-1].after, start, end) if stat.breaks else start
        for horizon in HORIZONS:
            i = base_for(years, first, end, ref_year - horizon)
            if i is not None and years[i] < ref_year:
                stat.changes[horizon] = Change.between(ind, horizon, table.obs(i), stat.latest)

    rows = table.latest(peers, ref_year, ref_year - peer_window)
    if len(rows) >= max(rules.min_peers, 1):
        v = table.values[rows]
        stat.peers = PeerStats(float(np.median(v)), float(v.min()), float(v.max()), len(v),
                               tuple(table.obs(i) for i in rows))
    if stat.latest is not None and stat.peers is not None:
        stat.rank, stat.rank_of, stat.percentile = _rank(np.append(table.values[rows], stat.latest.value),
                                                         stat.latest.value, ind.direction)
        stat.gap = stat.latest.value - stat.peers.median
        if abs(stat.gap) < tolerance(ind, stat.peers.median):
            stat.position = "similar"
        elif ind.direction == "neutral":
            stat.position = "higher" if stat.gap > 0 else "lower"
        else:
            better = (stat.gap > 0) == (ind.direction == "higher_better")
            stat.position = "better" if better else "worse"
    return stat


BAND_COLUMNS = ["year", "median", "low", "high", "n", "peers"]


def peer_band(headline: pd.DataFrame | Headline, peers: list[str], first: int, last: int, min_peers: int = 5,
              stability: float = 0.8, carry: int = 5) -> pd.DataFrame:
    """Per year: the peers' median and 10th–90th percentile range, where the band rests on enough peers
    and on much the same peers as at its end.

    Each peer counts in a year with its latest value at most `carry` years old, so that survey
    series (a Gini index every few years) give a band of the same peers rather than of whichever
    happened to be surveyed that year. A year is kept when at least `min_peers` peers count in it and
    its peers are stable: their overlap with the peers of the band's last year with enough peers
    (shared peers over the peers of either year, the Jaccard index) is at least `stability`. Otherwise a
    median that moves only because other countries report would read as a trend. A year kept alone,
    between years that are not, is left out too: one year draws no band. `peers` lists the peers
    counted in each year (ISO3 codes, comma-separated), `n` how many.
    """
    table = _table(headline)
    earliest, codes, matrix = table.wide()
    chosen = set(peers)
    columns = [j for j, c in enumerate(codes) if c in chosen]
    window = np.full((last - first + carry + 1, len(columns)), np.nan) if last >= first - carry else np.zeros((0, 0))
    low, high = max(first - carry, earliest), min(last, earliest + len(matrix) - 1)
    if columns and low <= high:
        window[low - first + carry:high - first + carry + 1] = matrix[low - earliest:high - earliest + 1][:, columns]
    if not (~np.isnan(window)).any():
        return pd.DataFrame(columns=BAND_COLUMNS)
    values = _carried(window, carry)[carry:]
    present = ~np.isnan(values)
    counts = present.sum(axis=1)
    enough = np.flatnonzero(counts >= max(min_peers, 1))
    if not len(enough):
        return pd.DataFrame(columns=BAND_COLUMNS)
    reference = present[enough[-1]]
    shared = (present & reference).sum(axis=1)
    either = (present | reference).sum(axis=1)
    keep = (counts >= max(min_peers, 1)) & (shared >= stability * either)
    keep &= np.r_[False, keep[:-1]] | np.r_[keep[1:], False]  # a year alone draws no band
    # each year's values sorted, the missing ones last: the median and percentiles of them all at once
    ordered, n = np.sort(values[keep], axis=1), counts[keep]
    names = np.array([codes[j] for j in columns], dtype=str)
    return pd.DataFrame({
        "year": np.arange(first, last + 1, dtype=np.int64)[keep],
        "median": _sorted_median(ordered, n),
        "low": _sorted_quantile(ordered, n, 0.1),
        "high": _sorted_quantile(ordered, n, 0.9),
        "n": n,
        "peers": [",".join(names[row]) for row in present[keep]],
    })


def _sorted_median(ordered: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Each row's median of its first `n` values (sorted), as `np.median` gives it: the middle value, or
    the mean of the middle two."""
    rows, middle = np.arange(len(n)), n // 2
    upper = ordered[rows, middle]
    lower = ordered[rows, np.maximum(middle - 1, 0)]
    return np.where(n % 2 == 1, upper, (lower + upper) / 2)


def _sorted_quantile(ordered: np.ndarray, n: np.ndarray, q: float) -> np.ndarray:
    """Each row's `q` quantile of its first `n` values (sorted), as `np.quantile` gives it (its default,
    linear method): the same interpolation, written the same way, so the same bits."""
    rows = np.arange(len(n))
    at = (n - 1) * q
    below = np.floor(at)
    gamma = at - below
    first = np.minimum(below.astype(np.intp), n - 1)
    a, b = ordered[rows, first], ordered[rows, np.minimum(first + 1, n - 1)]
    difference = b - a
    return np.where(gamma >= 0.5, b - difference * (1 - gamma), a + difference * gamma)


def _carried(values: np.ndarray, limit: int) -> np.ndarray:
    """Each column's gaps filled with its last value before them, at most `limit` rows on (as
    `DataFrame.ffill(limit=limit)`)."""
    rows = np.arange(len(values))[:, None]
    last = np.where(~np.isnan(values), rows, -1)
    np.maximum.accumulate(last, axis=0, out=last)
    filled = values[np.maximum(last, 0), np.arange(values.shape[1])[None, :]]
    return np.where((last >= 0) & (rows - last <= limit), filled, np.nan)

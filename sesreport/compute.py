"""What a document says about an indicator: pure functions over the resolved observations.

Nothing here reads files or formats text. Every figure carries the observations it came from
(source, vintage, file and line), so a printed number can be traced back to the published cell.
The editorial rules (`Rules`) decide what may be said: no change across a series break
(`breaks`), no peer statistic from fewer peers than the configured minimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .breaks import Break, find_breaks, segments
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


@dataclass
class PeerStats:
    """The peers' median, lowest and highest value, and the observation behind each peer's value."""

    median: float
    low: float
    high: float
    n: int
    values: pd.DataFrame  # each peer's value used: the `PROVENANCE` columns, one row per peer

    def refs(self) -> list[dict]:
        """Every peer's observation as recorded in a document's figures (see `Obs.ref`)."""
        return [_obs(self.values, i).ref() for i in range(len(self.values))]


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
    history: pd.DataFrame = field(default_factory=pd.DataFrame)  # the country's observations, `PROVENANCE`
    breaks: tuple[Break, ...] = ()  # the series' breaks, oldest first (see `breaks.find_breaks`)

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


def base_for(history: pd.DataFrame, year: int, slack: int = 1) -> int | None:
    """Index of the observation for `year`, else the nearest within `slack` years (earlier first)."""
    years = history["year"].to_numpy()
    for candidate in [year] + [y for d in range(1, slack + 1) for y in (year - d, year + d)]:
        hits = np.flatnonzero(years == candidate)
        if len(hits):
            return int(hits[0])
    return None


def latest_values(headline: pd.DataFrame, codes: list[str], up_to: int, since: int) -> pd.DataFrame:
    """Each country's latest value with since <= year <= up_to (the headline is sorted by iso3, year)."""
    years = headline["year"].to_numpy()
    mask = headline["iso3"].isin(codes).to_numpy() & (years <= up_to) & (years >= since)
    rows = headline[mask]
    if not len(rows):
        return rows
    last = rows["iso3"].ne(rows["iso3"].shift(-1)).to_numpy()  # the last row of each country
    return rows[last].reset_index(drop=True)


def rank_among(values: pd.Series, iso3: str, direction: str) -> tuple[int, int, float]:
    """Rank (1 = best, ties share the better rank), group size and percentile of `iso3`.

    For a neutral indicator the rank is by size, largest first.
    """
    ascending = direction == "lower_better"
    ranks = values.rank(method="min", ascending=ascending)
    n = len(values)
    rank = int(ranks[iso3])
    worse_or_equal = int((ranks >= rank).sum()) - 1
    percentile = 100.0 * worse_or_equal / (n - 1) if n > 1 else 100.0
    return rank, n, percentile


def indicator_stat(headline: pd.DataFrame, iso3: str, peers: list[str], ind: Indicator, code: str,
                   as_of_year: int, stale_after: int, peer_window: int, rules: Rules = Rules()) -> Stat:
    """Latest value, changes, trend, peer comparison and rank of one indicator for one country."""
    mine = headline[(headline["iso3"] == iso3) & (headline["year"] <= as_of_year)].sort_values("year")
    mine = mine.reset_index(drop=True)
    stat = Stat(code, None, history=mine[PROVENANCE], breaks=find_breaks(mine, rules.break_jump))
    ref_year = as_of_year
    if len(mine):
        stat.latest = _obs(mine, len(mine) - 1)
        ref_year = stat.latest.year
        stat.stale = ref_year < as_of_year - stale_after
        # the latest segment only: no change is computed across a break
        segment = mine[mine["year"] >= stat.breaks[-1].after].reset_index(drop=True) if stat.breaks else mine
        for horizon in HORIZONS:
            i = base_for(segment, ref_year - horizon)
            if i is not None and int(segment.at[i, "year"]) < ref_year:
                stat.changes[horizon] = Change.between(ind, horizon, _obs(segment, i), stat.latest)

    peer_vals = latest_values(headline, peers, ref_year, ref_year - peer_window)
    if len(peer_vals) >= max(rules.min_peers, 1):
        v = peer_vals["value"].to_numpy()
        stat.peers = PeerStats(float(np.median(v)), float(v.min()), float(v.max()), len(v),
                               peer_vals[PROVENANCE].reset_index(drop=True))
    if stat.latest is not None and stat.peers is not None:
        group = pd.concat([pd.Series(peer_vals["value"].to_numpy(), index=peer_vals["iso3"].to_numpy()),
                           pd.Series([stat.latest.value], index=[iso3])])
        stat.rank, stat.rank_of, stat.percentile = rank_among(group, iso3, ind.direction)
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


def peer_band(headline: pd.DataFrame, peers: list[str], first: int, last: int, min_peers: int = 5,
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
    rows = headline[headline["iso3"].isin(peers) & headline["year"].between(first - carry, last)]
    if not len(rows):
        return pd.DataFrame(columns=BAND_COLUMNS)
    wide = rows.pivot_table(index="year", columns="iso3", values="value", aggfunc="last")
    wide = wide.reindex(range(first - carry, last + 1)).ffill(limit=carry).loc[first:last]
    values = wide.to_numpy(dtype=float)
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
    kept = values[keep]
    codes = np.array(wide.columns, dtype=str)
    return pd.DataFrame({
        "year": wide.index[keep].astype(int),
        "median": np.nanmedian(kept, axis=1),
        "low": np.nanquantile(kept, 0.1, axis=1),
        "high": np.nanquantile(kept, 0.9, axis=1),
        "n": counts[keep],
        "peers": [",".join(codes[row]) for row in present[keep]],
    })

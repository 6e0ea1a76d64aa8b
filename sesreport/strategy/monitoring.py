"""The monitoring framework: for each target, the baseline and latest observations → a status.

Pure functions over the resolved observations (`Dataset.headline`), then the export of the
framework as a table (CSV, Excel). A status is measured against the straight path from the
baseline to the target:

- ``on_track``: the latest value is at or beyond the path at the latest year, in the direction
  the indicator should move (its catalog direction; for a neutral indicator, towards the target);
- ``off_track``: it falls short of the path;
- ``no_new_data``: the latest observation is not after the baseline year;
- ``no_data``: no observation at or before the baseline year.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from ..catalog import Indicator
from ..compute import Obs, _obs

Status = Literal["on_track", "off_track", "no_new_data", "no_data"]
STATUSES: tuple[Status, ...] = ("on_track", "off_track", "no_new_data", "no_data")


@dataclass(frozen=True)
class Progress:
    """One monitored indicator: baseline, target, latest value, the path's value and the status."""

    indicator: str
    baseline: Obs | None
    target: float
    target_year: int
    baseline_year: int
    latest: Obs | None
    expected: float | None  # the straight path from baseline to target, at the latest year
    status: Status

    def ref(self) -> dict:
        return {"indicator": self.indicator, "baseline": self.baseline.ref() if self.baseline else None,
                "baseline_year": self.baseline_year, "target": self.target, "target_year": self.target_year,
                "latest": self.latest.ref() if self.latest else None, "expected": self.expected,
                "status": self.status}


def path_value(baseline: Obs, target: float, target_year: int, year: int) -> float:
    """The straight path from the baseline to the target, at `year` (the target after its year)."""
    share = min(1.0, (year - baseline.year) / (target_year - baseline.year))
    return baseline.value + (target - baseline.value) * share


def upward(ind: Indicator, baseline: float, target: float) -> bool:
    """Whether progress means a higher value: the catalog's direction, else towards the target."""
    if ind.direction == "higher_better":
        return True
    if ind.direction == "lower_better":
        return False
    return target >= baseline


def progress(headline: pd.DataFrame, iso3: str, ind: Indicator, code: str, target: float, target_year: int,
             baseline_year: int, as_of_year: int) -> Progress:
    """The status of one indicator of the framework for one country."""
    mine = headline[(headline["iso3"] == iso3) & (headline["year"] <= as_of_year)].sort_values("year")
    mine = mine.reset_index(drop=True)
    before = mine.index[mine["year"] <= baseline_year]
    baseline = _obs(mine, int(before[-1])) if len(before) else None
    latest = _obs(mine, len(mine) - 1) if len(mine) else None
    if baseline is None or latest is None:
        return Progress(code, baseline, target, target_year, baseline_year, latest, None, "no_data")
    if latest.year <= baseline_year:
        return Progress(code, baseline, target, target_year, baseline_year, latest, None, "no_new_data")
    expected = path_value(baseline, target, target_year, latest.year)
    ahead = latest.value >= expected if upward(ind, baseline.value, target) else latest.value <= expected
    return Progress(code, baseline, target, target_year, baseline_year, latest, expected,
                    "on_track" if ahead else "off_track")


def table(rows: list[tuple[str, str, Progress]]) -> pd.DataFrame:
    """The framework as exported: (topic id, indicator label, progress) → one row each, language-neutral
    column names, with the file and line of every observation used."""
    records = []
    for topic, label, p in rows:
        b, last = p.baseline, p.latest
        records.append({
            "topic": topic, "indicator": p.indicator, "label": label,
            "baseline_year_declared": p.baseline_year,
            "baseline_year": b.year if b else None, "baseline_value": b.value if b else None,
            "target_year": p.target_year, "target_value": p.target,
            "latest_year": last.year if last else None, "latest_value": last.value if last else None,
            "expected_on_path": round(p.expected, 4) if p.expected is not None else None,
            "status": p.status,
            "baseline_source": f"{b.file}:{b.line}" if b else None,
            "latest_source": f"{last.file}:{last.line}" if last else None,
        })
    return pd.DataFrame.from_records(records)

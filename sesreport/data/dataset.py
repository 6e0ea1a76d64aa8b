"""The loaded data, as every other part of the package sees it: observations, their choice, their files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..catalog import Catalog
from ..errors import Problem
from .countries import CountryRef

OBS_COLUMNS = [
    "iso3", "indicator", "year", "value", "sex", "breakdown", "source_id", "publisher", "source_code",
    "vintage", "file", "line", "estimate", "break", "unreliable", "imputed", "status",
]


@dataclass
class FileInfo:
    """What was read from one file, for the coverage report and the sources page."""

    path: str  # relative to the data folder
    source_id: str
    layout: str
    sha256: str
    publisher: str
    title: str | None
    licence: str | None
    attribution: str | None
    url: str | None
    vintage: str | None
    vintage_from: str | None
    rows: int = 0
    mapped: int = 0
    aggregates: int = 0
    unmapped: int = 0
    unresolved: int = 0
    indicators: list[str] = field(default_factory=list)
    error: str | None = None
    countries: int = 0  # distinct countries with a value kept
    repairs: list[str] = field(default_factory=list)  # declared repairs applied while reading, in words
    role: str = "data"  # "data", or "lookup" for a file read along with the data files (DDF entities)
    classifies: bool = False  # it classifies countries (e.g. by region) rather than measuring them


@dataclass
class Dataset:
    """All observations from one data folder, resolved and ready for computation."""

    obs: pd.DataFrame  # every country observation from every source
    resolved: pd.DataFrame  # one value per (iso3, indicator, year, sex, breakdown)
    aggregates: pd.DataFrame  # regional and income aggregates, kept apart
    unresolved: pd.DataFrame  # rows whose area name could not be placed
    unmapped: pd.DataFrame  # source series that map to no catalog indicator
    classifications: dict[str, pd.DataFrame]
    countries: CountryRef
    catalog: Catalog
    files: list[FileInfo]
    problems: list[Problem]
    data_dir: Path
    illustrative: bool = False
    notice: str | None = None
    key: str = ""
    from_cache: bool = False
    undeclared: list[str] = field(default_factory=list)
    # data files that could not be read and values that cannot be used (out of range, on another scale),
    # each problem saying why, and the catalog indicators they leave unavailable for this run
    unread: list[Problem] = field(default_factory=list)
    unavailable: dict[str, list[Problem]] = field(default_factory=dict)
    _headline: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def headline(self, indicator: str) -> pd.DataFrame:
        """The indicator's main series for every country: no breakdown, the indicator's own sex."""
        cached = self._headline.get(indicator)
        if cached is not None:
            return cached
        ind = self.catalog[indicator]
        res = self.resolved
        rows = res[(res["indicator"] == indicator) & (res["breakdown"] == "") & res["sex"].isin((ind.sex, ""))]
        rows = rows.sort_values(["iso3", "year"], kind="stable").reset_index(drop=True)
        self._headline[indicator] = rows
        return rows

    def series(self, iso3: str, indicator: str) -> pd.Series:
        rows = self.headline(indicator)
        rows = rows[rows["iso3"] == iso3]
        return pd.Series(rows["value"].to_numpy(), index=rows["year"].to_numpy(), name=indicator)

    def file_info(self, path: str) -> FileInfo | None:
        return next((f for f in self.files if f.path == path), None)


def concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Non-empty parts stacked, or an empty table with the given columns."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return pd.concat(parts, ignore_index=True)

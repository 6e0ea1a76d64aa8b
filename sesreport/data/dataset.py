"""The loaded data, as every other part of the package sees it: observations, their choice, their files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from ..catalog import Catalog
from ..errors import Problem
from .countries import CountryRef

if TYPE_CHECKING:
    import pyarrow as pa

    from ..compute import Headline

T = TypeVar("T")

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

    obs: pd.DataFrame  # every country observation from every source (text columns categorical)
    resolved: pd.DataFrame  # one value per (iso3, indicator, year, sex, breakdown) (text columns categorical)
    aggregates: pd.DataFrame  # regional and income aggregates, kept apart (text columns categorical)
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
    from_cache: bool = False  # the whole dataset came from the cache: no file was read
    # otherwise, the data files (paths relative to the data folder) this load parsed, and those whose
    # read result it took from the cache because they had not changed
    parsed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    parse_seconds: float = 0.0  # spent parsing the files in `parsed`
    undeclared: list[str] = field(default_factory=list)
    # data files that could not be read and values that cannot be used (out of range, on another scale),
    # each problem saying why, and the catalog indicators they leave unavailable for this run
    unread: list[Problem] = field(default_factory=list)
    unavailable: dict[str, list[Problem]] = field(default_factory=dict)
    # worked out from the tables above and kept with them; never copied to another dataset (`init=False`:
    # `dataclasses.replace` starts afresh)
    _headline: dict[str, pd.DataFrame] = field(default_factory=dict, init=False, repr=False, compare=False)
    _tables: dict[str, Headline] = field(default_factory=dict, init=False, repr=False, compare=False)
    _memo: dict[tuple, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def headline(self, indicator: str) -> pd.DataFrame:
        """The indicator's main series for every country: no breakdown, the indicator's own sex."""
        cached = self._headline.get(indicator)
        if cached is not None:
            return cached
        if indicator not in self.catalog:
            raise KeyError(indicator)
        keys = self.memo(("row keys",), lambda: RowKeys.of(self.resolved, self.catalog))
        positions = self._indicator_rows().get(indicator, np.empty(0, dtype=np.intp))
        positions = positions[keys.main[positions]]
        positions = positions[np.lexsort((keys.year[positions], keys.iso3[positions]))]  # a stable sort
        if len(positions) and positions[-1] - positions[0] == len(positions) - 1:
            # one run of rows, in order (`resolve` orders them so): a slice, which shares the table's memory
            rows = self.resolved.iloc[positions[0]:positions[-1] + 1]
        else:
            rows = self.resolved.take(positions)
        rows = rows.reset_index(drop=True)
        self._headline[indicator] = rows
        return rows

    def _indicator_rows(self) -> dict[str, np.ndarray]:
        """The positions of each indicator's rows in `resolved`, in their order: one pass for all."""
        return self.memo(("indicator rows",), lambda: {str(k): v for k, v in self.resolved.groupby(
            "indicator", sort=False, observed=True).indices.items()})

    def headline_table(self, indicator: str) -> Headline:
        """The indicator's main series (`headline`) indexed for the statistics of every document built
        from this dataset: worked out once, kept with the data it was made from."""
        table = self._tables.get(indicator)
        if table is None:
            from ..compute import Headline

            table = self._tables[indicator] = Headline(self.headline(indicator))
        return table

    def memo(self, key: tuple, make: Callable[[], T]) -> T:
        """`make()`, worked out once per key for this dataset: for what every document built from the
        same data would otherwise work out again (`key` names all it depends on besides the data)."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def series(self, iso3: str, indicator: str) -> pd.Series:
        rows = self.headline(indicator)
        rows = rows[rows["iso3"] == iso3]
        return pd.Series(rows["value"].to_numpy(), index=rows["year"].to_numpy(), name=indicator)

    def file_info(self, path: str) -> FileInfo | None:
        return next((f for f in self.files if f.path == path), None)


@dataclass(frozen=True)
class RowKeys:
    """What picks an indicator's main series out of `resolved` and orders it, as an array per row: the
    rows are then chosen and sorted on these before any column of the table is copied."""

    main: np.ndarray  # the row belongs to its indicator's main series (`in_main_series`)
    iso3: np.ndarray  # the position of the row's country in the sorted country codes
    year: np.ndarray

    @classmethod
    def of(cls, resolved: pd.DataFrame, catalog: Catalog) -> RowKeys:
        return cls(main=in_main_series(resolved, catalog), iso3=sortable(resolved["iso3"]),
                   year=resolved["year"].to_numpy())


def in_main_series(table: pd.DataFrame, catalog: Catalog) -> np.ndarray:
    """For each row, whether it is part of its indicator's main series: no breakdown, and the sex the
    catalog gives the indicator or none (a missing text is neither).

    Worked out on the columns' codes, each indicator's sex looked up once: as texts, the columns of
    five million observations took a third of a gigabyte for a moment."""
    sex, sexes = _codes(table["sex"])
    indicator, indicators = _codes(table["indicator"])
    breakdown, breakdowns = _codes(table["breakdown"])
    place = {text: i for i, text in enumerate(sexes)}  # -2 below: a text no row has
    # each indicator's wanted sex as a code of the sex column; a missing indicator (code -1) takes the last
    wanted = np.array([place.get(catalog.indicators[code].sex, -2) if code in catalog.indicators else -2
                       for code in indicators] + [-2], dtype=np.int64)
    blank = breakdowns.index("") if "" in breakdowns else -2
    return (breakdown == blank) & ((sex == place.get("", -2)) | (sex == wanted[indicator]))


def _codes(column: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """A column's codes (-1 for a missing value) and the values they stand for."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    return column.cat.codes.to_numpy(), list(column.cat.categories)


def concat(parts: Sequence[pd.DataFrame | pa.Table], columns: list[str]) -> pd.DataFrame:
    """Non-empty parts (DataFrames, or Arrow tables as the cache gives them) stacked, or an empty table
    with the given columns (those of the first part otherwise).

    DataFrames alone are stacked in pandas; with a table among them, all are stacked in Arrow and
    converted to pandas once. A column categorical in every part stays categorical, with the union of
    the categories, sorted (`pd.concat` would turn categoricals with different categories into
    strings); in some parts only, it is text."""
    import pyarrow as pa

    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    if all(isinstance(p, pd.DataFrame) for p in parts):  # no copy in Arrow of what is already pandas
        return _concat_frames(parts)  # type: ignore[arg-type]
    tables = [p if isinstance(p, pa.Table) else pa.Table.from_pandas(p, preserve_index=False) for p in parts]
    order = [c for c in tables[0].column_names if not c.startswith("__index_level_")]
    coded = {c for c in order if all(c in t.column_names and pa.types.is_dictionary(t.schema.field(c).type)
                                     for t in tables)}
    stacked = pa.concat_tables([_aligned(t, order, coded) for t in tables], promote_options="permissive")
    # the first part's pandas metadata (none of the parts has an index) says how each column converts
    stacked = stacked.replace_schema_metadata(tables[0].schema.metadata)
    out = stacked.unify_dictionaries().combine_chunks().to_pandas()
    for c in coded:
        if not out[c].cat.categories.is_monotonic_increasing:
            out[c] = out[c].cat.reorder_categories(sorted(out[c].cat.categories))
    return out


def _concat_frames(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """DataFrames stacked as `concat` stacks tables, in pandas."""
    order = list(parts[0].columns)
    coded = [c for c in order if all(isinstance(p[c].dtype, pd.CategoricalDtype) for p in parts)]
    out = pd.concat([p.drop(columns=coded) for p in parts], ignore_index=True)
    for c in coded:
        out[c] = union_categoricals([p[c] for p in parts], sort_categories=True)
    return out[order]


def _aligned(table: pa.Table, order: list[str], coded: set[str]) -> pa.Table:
    """A part's columns as the stack takes them: those of the first part (a missing one all null), a
    dictionary column as one with 32-bit codes when it stays coded and as its text when it does not."""
    import pyarrow as pa

    columns = []
    for name in order:
        if name not in table.column_names:
            columns.append(pa.nulls(len(table)))
            continue
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            text = column.type.value_type
            column = column.cast(pa.dictionary(pa.int32(), text) if name in coded else text)
        columns.append(column)
    return pa.table(columns, names=order)


def text_codes(column: pd.Series, blank: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """A text column as (a code for every row, the texts the codes stand for): the last text is "",
    for a missing value and for the rows where `blank` is True. Whatever depends on a text is then
    worked out once per distinct text and looked up by code."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    cats = [str(c) for c in column.cat.categories] + [""]
    codes = column.cat.codes.to_numpy().copy()  # int8 for fewer than 128 texts: a byte a row
    if len(cats) > np.iinfo(codes.dtype).max:
        codes = codes.astype(np.int32)
    codes[codes < 0] = len(cats) - 1
    if blank is not None:
        codes[blank] = len(cats) - 1
    return codes, cats


def sortable(column: pd.Series) -> np.ndarray:
    """A column as numbers that sort as its values do (a categorical's codes, its categories sorted)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        if not column.cat.categories.is_monotonic_increasing:
            column = column.cat.reorder_categories(sorted(column.cat.categories))
        return column.cat.codes.to_numpy()
    if pd.api.types.is_integer_dtype(column.dtype):
        return column.to_numpy()
    return pd.factorize(column, sort=True)[0]


def as_text(df: pd.DataFrame) -> pd.DataFrame:
    """The table with its categorical columns as strings, as the rest of the package reads them."""
    cats = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    if not cats:
        return df
    df = df.copy(deep=False)
    for c in cats:  # a column at a time: the categorical is let go as its strings are made
        df[c] = _strings(df[c])
    return df


def _strings(column: pd.Series) -> pd.Series:
    """A categorical column as strings (as `astype("str")` gives them): for text categories, each
    converted once, then taken by code (missing stays missing)."""
    codes = column.array
    assert isinstance(codes, pd.Categorical)
    if not pd.api.types.is_string_dtype(codes.categories.dtype):
        return column.astype("str")
    strings = codes.categories.astype("str").array.take(codes.codes, allow_fill=True)
    return pd.Series(strings, index=column.index, name=column.name)

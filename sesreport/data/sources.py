"""`sources.yaml` in: which files hold data, in which layout, from whom, of which vintage; a validated model out."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..errors import UserError
from ..schema import Strict, register, validate
from ..yamlio import Located, load_yaml

Layout = Literal[
    "auto", "wdi_api", "wdi_databank", "wdi_long", "ilostat_codes", "ilostat_labels", "ilostat_codes_labels",
    "ilostat_excel", "owid_grapher", "owid_names", "long", "ddf", "stata", "tidy", "excel",
]
Rule = Literal["newest_vintage", "source_order", "longest_series", "source_code"]
Repair = Literal["drop_repeated_header_field"]
AreaCodes = Literal["iso3", "iso2", "m49", "name"]
Family = Literal["wdi", "ilostat", "owid", "sdg", "world", "tidy"]

# layouts whose columns are named in sources.yaml rather than known in advance
DECLARED_COLUMNS = ("long", "ddf", "stata")


class CountriesDecl(Strict):
    path: str
    vintage: date | None = None


class ColumnsDecl(Strict):
    """The columns of a long table: one value per line."""

    area: str
    """the area: a code (see area_codes) or a name"""
    time: str | None = None
    """the year (four digits)"""
    value: str | None = None
    """the number"""
    area_name: str | None = None
    """a second area column with names, when `area` holds codes"""
    sex: str | None = None
    """sex: T/F/M, total/female/male, bothsex/female/male, SEX_T/…"""
    status: str | None = None
    """status flags: e (estimate), b (break in series), u (unreliable), p (provisional), or words"""
    source: str | None = None
    """the publisher's source of each value (survey, register)"""
    series: str | None = None
    """the publisher's series code, mapped to the catalog; without it, the value column's name is the code"""
    unit: str | None = None
    """a unit column: checked to be one unit per series"""
    breakdown: str | None = None
    """a column that splits a series (age group, area type, …)"""


class LookupDecl(Strict):
    """A file that names the areas a data file only codes (a DDF entity file, an M49 list)."""

    path: str
    code: str
    name: str


class SourceDecl(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    path: str | tuple[str, ...]
    layout: Layout = "auto"
    publisher: str
    title: str | None = None
    licence: str = "CC BY 4.0"
    attribution: str | None = None
    url: str | None = None
    vintage: date | None = None
    required: bool = False
    sheet: str | None = None
    # this file's own codes (or column names) -> catalog indicators, for series the catalog does
    # not map itself, e.g. a team's survey codes
    map: dict[str, str] = {}
    repair: tuple[Repair, ...] = ()
    columns: ColumnsDecl | None = None
    area_codes: AreaCodes | None = None
    area_names: LookupDecl | None = None
    indicator: str | None = None
    family: Family | None = None
    member: str | None = None
    year: int | None = Field(default=None, ge=1900, le=2100)
    # every value is multiplied by this: a release on another scale (a Gini index on 0-1 is `scale: 100`)
    scale: float = Field(default=1, gt=0)

    @field_validator("path", mode="before")
    @classmethod
    def _paths(cls, value):
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _layout_options(self):
        if self.layout == "long":
            if self.columns is None or not self.columns.time or not self.columns.value:
                raise ValueError("layout long needs columns: {area: …, time: …, value: …}")
        elif self.columns is not None and self.layout not in DECLARED_COLUMNS:
            raise ValueError(f"columns apply to the layouts {', '.join(DECLARED_COLUMNS)}, not {self.layout}")
        if self.area_names is not None and self.layout != "long":
            raise ValueError("area_names applies to layout long (a DDF file finds its entity file itself)")
        if self.member is not None and self.layout not in ("stata", "auto"):
            raise ValueError("member applies to archives read with layout stata")
        if self.year is not None and self.layout not in ("stata", "auto"):
            raise ValueError("year applies to cross-sections without a year column (layout stata)")
        if self.area_codes is not None and self.layout not in DECLARED_COLUMNS + ("auto",):
            raise ValueError(f"area_codes apply to the layouts {', '.join(DECLARED_COLUMNS)}, not {self.layout}")
        if self.indicator is not None and self.columns is not None and self.columns.series:
            raise ValueError("give either indicator (every line is that indicator) or columns.series, not both")
        return self

    @property
    def paths(self) -> tuple[str, ...]:
        return self.path if isinstance(self.path, tuple) else (self.path,)


class Precedence(Strict):
    rules: tuple[Rule, ...] = ("newest_vintage", "source_order", "longest_series", "source_code")
    source_order: tuple[str, ...] = ()
    indicators: dict[str, tuple[Rule, ...]] = {}


class FetchDecl(Strict):
    """How `generate.py fetch` may download."""

    redirect_hosts: tuple[str, ...] = ()
    """host names a publisher's download may redirect to, besides the host asked (e.g. a CDN)"""


class SourcesFile(Strict):
    illustrative: bool = False
    notice: str | None = None
    countries: CountriesDecl
    sources: tuple[SourceDecl, ...]
    precedence: Precedence = Precedence()
    fetch: FetchDecl = FetchDecl()

    @field_validator("sources")
    @classmethod
    def _unique(cls, value):
        seen = set()
        for src in value:
            if src.id in seen:
                raise ValueError(f"source id '{src.id}' is used twice")
            seen.add(src.id)
        return value

    @model_validator(mode="after")
    def _order(self):
        ids = {s.id for s in self.sources}
        unknown = [s for s in self.precedence.source_order if s not in ids]
        if unknown:
            raise ValueError(f"precedence.source_order names unknown sources: {', '.join(unknown)}")
        return self


register(CountriesDecl, ColumnsDecl, LookupDecl, SourceDecl, Precedence, FetchDecl, SourcesFile)


def sources_path(config_dir: Path, data_dir: Path) -> Path:
    """A data folder may describe itself with its own sources.yaml; otherwise the project's is used."""
    own = data_dir / "sources.yaml"
    return own if own.is_file() else config_dir / "sources.yaml"


def load_sources(path: Path) -> tuple[SourcesFile, Located]:
    located = load_yaml(path)
    model, problems = validate(SourcesFile, located)
    if problems:
        raise UserError(problems)
    assert model is not None
    return model, located

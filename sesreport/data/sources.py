"""`sources.yaml`: which files hold data, in which layout, from whom, of which vintage."""

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
    "owid_grapher", "owid_names", "tidy", "excel",
]
Rule = Literal["newest_vintage", "source_order", "longest_series", "source_code"]

PUBLISHER_FAMILY = {
    "wdi_api": "wdi", "wdi_databank": "wdi", "wdi_long": "wdi",
    "ilostat_codes": "ilostat", "ilostat_labels": "ilostat", "ilostat_codes_labels": "ilostat",
    "owid_grapher": "owid", "owid_names": "owid", "tidy": "tidy", "excel": "tidy",
}


class CountriesDecl(Strict):
    path: str
    vintage: date | None = None


class SourceDecl(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    path: str
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


class Precedence(Strict):
    rules: tuple[Rule, ...] = ("newest_vintage", "source_order", "longest_series", "source_code")
    source_order: tuple[str, ...] = ()
    indicators: dict[str, tuple[Rule, ...]] = {}


class SourcesFile(Strict):
    illustrative: bool = False
    notice: str | None = None
    countries: CountriesDecl
    sources: tuple[SourceDecl, ...]
    precedence: Precedence = Precedence()

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


register(CountriesDecl, SourceDecl, Precedence, SourcesFile)


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

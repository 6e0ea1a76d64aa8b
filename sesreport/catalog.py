"""The indicator catalog (`config/indicators.yaml`): what each indicator means and where it comes from.

A catalog indicator is one definition. A source code whose definition changed between vintages
(`SI.POV.DDAY` was $1.90 a day at 2011 PPP, later $3.00 a day at 2021 PPP) maps to two catalog
indicators, told apart by the name the source itself gives; a name that matches no catalog
definition is refused rather than merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .errors import UserError
from .schema import Strict, register, validate
from .yamlio import load_yaml

FORMS = ("labour_market", "employment", "job", "work", "skill_reproduction", "income", "representation")
TOPICS = ("labour_market", "income_poverty", "gender", "health", "representation", "economy", "social_protection",
          "education", "working_conditions")
UNITS = ("percent", "years", "usd", "ppp_dollars", "index", "ratio", "score", "percent_growth", "per_10000",
         "per_100000", "category")
PUBLISHERS = ("wdi", "ilostat", "owid", "sdg", "world", "tidy")
SEXES = ("T", "F", "M", "O")

#: The range a value in each unit can take, unless the indicator declares its own `bounds`
#: (a gross enrolment ratio exceeds 100 %, a Gini index runs from 0 to 100, an MPI from 0 to 1).
UNIT_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "percent": (0, 100), "years": (0, None), "usd": (0, None), "ppp_dollars": (0, None), "index": (0, None),
    "ratio": (0, None), "score": (0, None), "percent_growth": (-100, None), "per_10000": (0, None),
    "per_100000": (0, None), "category": (None, None),
}

Form = Literal["labour_market", "employment", "job", "work", "skill_reproduction", "income", "representation"]
Topic = Literal["labour_market", "income_poverty", "gender", "health", "representation", "economy",
                "social_protection", "education", "working_conditions"]
Unit = Literal["percent", "years", "usd", "ppp_dollars", "index", "ratio", "score", "percent_growth", "per_10000",
               "per_100000", "category"]
Direction = Literal["higher_better", "lower_better", "neutral"]
Kind = Literal["input", "process", "outcome"]
Publisher = Literal["wdi", "ilostat", "owid", "sdg", "world", "tidy"]


def _one_or_many(value):
    if value is None:
        return ()
    if isinstance(value, (str, int, float)):
        return (str(value),)
    return tuple(str(v) for v in value)


class SourceMap(Strict):
    """How one publisher's series becomes this indicator."""

    wdi: str | None = None
    ilostat: str | None = None
    owid: str | None = None
    sdg: str | None = None  # UN SDG Global Database series code (SI_COV_BENFTS)
    world: str | None = None  # WORLD Policy Analysis Center variable name (paid_anlv)
    tidy: str | None = None
    name: tuple[str, ...] = ()
    sex: Literal["T", "F", "M", "O"] | None = None
    classif1: tuple[str, ...] = ()
    classif2: tuple[str, ...] = ()

    _norm = field_validator("name", "classif1", "classif2", mode="before")(lambda v: _one_or_many(v))

    @model_validator(mode="after")
    def _one_publisher(self):
        given = [p for p in PUBLISHERS if getattr(self, p)]
        if len(given) != 1:
            raise ValueError("name exactly one of " + ", ".join(PUBLISHERS))
        return self

    @property
    def publisher(self) -> str:
        return next(p for p in PUBLISHERS if getattr(self, p))

    @property
    def code(self) -> str:
        return str(getattr(self, self.publisher))


class Indicator(Strict):
    label: dict[str, str]
    short: dict[str, str] = Field(default_factory=dict)
    phrase: dict[str, str] = Field(default_factory=dict)
    unit: Unit
    decimals: int = Field(ge=0, le=4)
    direction: Direction
    form: Form | None = None
    topic: Topic
    type: Kind
    definition: dict[str, str]
    sex: Literal["T", "F", "M"] = "T"
    estimate: bool = False
    sources: tuple[SourceMap, ...] = Field(min_length=1)
    # for unit "category": each code the publisher uses, with its meaning (from its data dictionary)
    categories: dict[int, str] = Field(default_factory=dict)
    # the plausible range [low, high] (null: open), when the unit's own range does not fit
    bounds: tuple[float | None, float | None] | None = None
    # what the indicator measures, shared by its series for women, men and all, or by other
    # definitions of the same thing: a current series on the same subject heads a section or a key
    # figure in place of an old one (None: the indicator is a subject of its own)
    subject: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")
    # the unit as a reader needs it, by language, where the unit alone says too little ("% of GDP")
    unit_note: dict[str, str] = Field(default_factory=dict)
    # current: in the prices of each year (nominal), so a change is partly inflation and never growth;
    # constant: in the prices of one base year (real); None: not a money amount
    prices: Literal["current", "constant"] | None = None

    @property
    def limits(self) -> tuple[float | None, float | None]:
        """The range outside which a value cannot be right: the declared bounds, else the unit's."""
        return self.bounds if self.bounds is not None else UNIT_BOUNDS[self.unit]

    @field_validator("label", "definition")
    @classmethod
    def _english(cls, value: dict[str, str]):
        if "en" not in value:
            raise ValueError("give at least the English text ('en')")
        return value

    @model_validator(mode="after")
    def _coded(self):
        if self.unit == "category" and not self.categories:
            raise ValueError("a coded indicator (unit: category) lists its codes under categories")
        if self.categories and self.unit != "category":
            raise ValueError("categories are for coded indicators (unit: category)")
        if self.prices is not None and self.unit not in ("usd", "ppp_dollars"):
            raise ValueError(f"prices is for money amounts (unit usd or ppp_dollars), not unit {self.unit}")
        if self.unit_note and "en" not in self.unit_note:
            raise ValueError("unit_note: give at least the English text ('en')")
        if self.bounds is not None:
            low, high = self.bounds
            if low is not None and high is not None and low >= high:
                raise ValueError(f"bounds [{low}, {high}]: the lower bound must be below the upper one")
        return self


class CatalogFile(Strict):
    indicators: dict[str, Indicator]

    @field_validator("indicators")
    @classmethod
    def _codes(cls, value: dict[str, Indicator]):
        for code in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", code):
                raise ValueError(f"indicator code '{code}' must be lower-case letters, digits and '_'")
        return value


register(SourceMap, Indicator, CatalogFile)


def normalise_name(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).casefold()


@dataclass(frozen=True)
class Match:
    indicator: str | None
    source: SourceMap | None = None
    problem: str | None = None  # why a coded series was refused
    hint: str | None = None  # what to do about it


class Catalog:
    """The validated catalog, with lookups from a source's code and name to a catalog indicator."""

    def __init__(self, indicators: dict[str, Indicator], file: str):
        self.indicators = indicators
        self.file = file
        self._by_code: dict[tuple[str, str], list[tuple[str, SourceMap]]] = {}
        self._by_name: dict[tuple[str, str], list[tuple[str, SourceMap]]] = {}
        for code, ind in indicators.items():
            for src in ind.sources:
                self._by_code.setdefault((src.publisher, src.code.upper()), []).append((code, src))
                for name in src.name:
                    self._by_name.setdefault((src.publisher, normalise_name(name)), []).append((code, src))
                if src.publisher == "owid":
                    self._by_name.setdefault(("owid", normalise_name(src.code)), []).append((code, src))

    def __contains__(self, code: str) -> bool:
        return code in self.indicators

    def __getitem__(self, code: str) -> Indicator:
        return self.indicators[code]

    def __iter__(self):
        return iter(self.indicators)

    def subject(self, code: str) -> str:
        """What `code` measures: its declared subject, else the indicator itself."""
        return self.indicators[code].subject or code

    def same_subject(self, code: str) -> list[str]:
        """The other indicators on the subject of `code`: those of the same sex first, then those for
        everyone, then the rest, each in catalog order."""
        subject, sex = self.subject(code), self.indicators[code].sex
        others = [c for c in self.indicators if c != code and self.subject(c) == subject]
        return sorted(others, key=lambda c: (self.indicators[c].sex != sex, self.indicators[c].sex != "T"))

    def label(self, code: str, lang: str = "en") -> str:
        ind = self.indicators[code]
        return ind.label.get(lang) or ind.label["en"]

    def candidates(self, publisher: str, code: str, name: str) -> list[tuple[str, SourceMap]]:
        """Catalog entries that a source series (code and/or name) may map to."""
        if code:
            found = self._by_code.get((publisher, code.upper()), [])
            if not found and publisher == "tidy" and code in self.indicators:
                # a team's own files may use catalog codes directly
                found = [(code, SourceMap(tidy=code))]
            return found
        return self._by_name.get((publisher, normalise_name(name)), [])

    def match(self, publisher: str, code: str, name: str, sex: str, classif1: str, classif2: str) -> Match:
        """The catalog indicator for one source series, checking that its definition is the catalog's.

        A code the catalog gives several definitions (told apart by the publisher's name) is refused
        when it arrives without a name: taking the first would print one definition as another."""
        entries = self.candidates(publisher, code, name)
        if not entries:
            return Match(None)
        named = normalise_name(name) if name else ""
        refused: list[str] = []
        fitting: list[tuple[str, SourceMap]] = []
        for ind_code, src in entries:
            if named and src.name and named not in {normalise_name(n) for n in src.name}:
                refused.append(f"{ind_code} ({src.name[0]})")
                continue
            if src.sex and sex and sex != src.sex:
                continue
            if src.classif1 and not _classif_matches(classif1, src.classif1):
                continue
            if src.classif2 and not _classif_matches(classif2, src.classif2):
                continue
            fitting.append((ind_code, src))
        definitions = {ind_code for ind_code, src in fitting if src.name}
        if not named and len(definitions) > 1:
            both = "; ".join(f"{ind_code} ({src.name[0]})" for ind_code, src in fitting if src.name)
            return Match(None, problem=(
                f"{code} arrives without the publisher's name for it, and the catalog has {len(definitions)} "
                f"definitions for this code: {both}"),
                hint="keep the publisher's description with the file (for a WDI long CSV, its datapackage.json), "
                     f"or map the code in sources.yaml (map: {{{code}: <indicator>}})")
        if fitting:
            return Match(fitting[0][0], fitting[0][1])
        if refused and len(refused) == len(entries):
            return Match(None, problem=(
                f"{code or 'the series'} is defined here as '{name}', which is not the catalog's definition: "
                + "; ".join(refused)))
        return Match(None)


def _classif_matches(value: str, accepted: tuple[str, ...]) -> bool:
    if not value:
        return any(a.lower() in ("total", "") for a in accepted)
    code, _, label = value.partition("|")
    wanted = {a.casefold() for a in accepted}
    return code.casefold() in wanted or label.casefold() in wanted


def load_catalog(path: Path) -> Catalog:
    located = load_yaml(path)
    model, problems = validate(CatalogFile, located)
    if problems:
        raise UserError(problems)
    assert model is not None
    return Catalog(dict(model.indicators), located.file)

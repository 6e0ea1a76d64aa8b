"""`config/programme.yaml` and `config/activities.yaml` → a validated :class:`Programme` and
:class:`Register`, and every problem found, each with file and line.

The programme file declares the objectives, their indicators, each indicator's target per biennium
and the rule that counts its outcome; the register records the country work (projects, surveys,
technical advice), what it delivered to whom, its result and a reference. Dates in the register are
written as precisely as the source gives them: a day, a month, a year or a period of years.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..errors import Problem, UserError
from ..schema import Strict, register, validate
from ..yamlio import Located, load_yaml

Text = dict[str, str]
Lang = Literal["en", "fr", "es", "ru", "uk"]
Activity = Literal["project", "survey", "technical_advice"]
ResultType = Literal["decree", "meeting", "strategy", "monitoring_tools", "data"]

_BIENNIUM = re.compile(r"^(\d{4})-(\d{4})$")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True, order=True)
class Period:
    """The first and last day a register date or a biennium may mean."""

    start: date
    end: date

    def within(self, other: Period) -> bool:
        return other.start <= self.start and self.end <= other.end


def biennium_period(text: str) -> Period:
    """"2000-2001" → 1 January 2000 to 31 December 2001."""
    found = _BIENNIUM.match(text)
    if not found:
        raise ValueError(f"'{text}' is not a biennium; write two consecutive years, e.g. 2000-2001")
    first, last = int(found[1]), int(found[2])
    return Period(date(first, 1, 1), date(last, 12, 31))


def date_period(text: str) -> Period:
    """A register date as precise as its source: "2001-11-20", "2001-11", "2001" or "2000-2001"."""
    if _BIENNIUM.match(text):
        first, last = (int(y) for y in text.split("-"))
        if last < first:
            raise ValueError(f"the period '{text}' ends before it starts")
        return Period(date(first, 1, 1), date(last, 12, 31))
    found = _DATE.match(text)
    if not found:
        raise ValueError(f"'{text}' is not a date; write 2001-11-20, 2001-11, 2001 or a period 2000-2001")
    year, month, day = int(found[1]), found[2], found[3]
    if month is None:
        return Period(date(year, 1, 1), date(year, 12, 31))
    m = int(month)
    if not 1 <= m <= 12:
        raise ValueError(f"'{text}': there is no month {m}")
    if day is not None:
        d = date(year, m, int(day))
        return Period(d, d)
    following = date(year + (m == 12), m % 12 + 1, 1)
    return Period(date(year, m, 1), date.fromordinal(following.toordinal() - 1))


class DataRule(Strict):
    """"Data generated" for a member State: enough catalog indicators, covering enough forms of
    security, whose latest year up to the end of the biennium lies in the window."""

    min_indicators: int = Field(ge=1, le=500)
    min_forms: int = Field(0, ge=0, le=7)
    years_before: int = Field(0, ge=0, le=30)
    """the window opens this many years before the biennium (0: the biennium itself)"""


class UseRule(Strict):
    """"Used to develop strategies and policies": a strategy input is configured for the member
    State (if required) and the register records a use with one of `results` in the window."""

    strategy_input: bool = True
    results: tuple[ResultType, ...] = Field(min_length=1)
    years_before: int = Field(0, ge=0, le=30)


class Rule(Strict):
    """Every condition given must hold for a member State to count."""

    data_generated: DataRule | None = None
    used: UseRule | None = None

    @model_validator(mode="after")
    def _some(self):
        if self.data_generated is None and self.used is None:
            raise ValueError("give data_generated, used or both")
        return self


class Indicator(Strict):
    id: str
    definition: Text
    targets: dict[str, int] = {}
    """the target per biennium ("2000-2001": 12), a number of member States"""
    reported: dict[str, int] = {}
    """the outcome reported at the time, by hand, where a report gives it"""
    rule: Rule

    @field_validator("targets", "reported")
    @classmethod
    def _bienniums(cls, value: dict[str, int]):
        for key in value:
            biennium_period(key)
        return value


class Operational(Strict):
    id: str
    title: Text
    indicators: tuple[Indicator, ...] = ()


class Objective(Strict):
    id: str
    title: Text
    operational: tuple[Operational, ...] = ()


class Narrative(Strict):
    """A block of "Strategies, results and lessons learned" (Markdown; may read the data)."""

    title: Text = {}
    text: Text


class ProgrammeConfig(Strict):
    languages: tuple[Lang, ...] = ("en",)
    title: Text = {}
    organisation: Text = {}
    sector: Text = {}
    bienniums: tuple[str, ...] = Field(min_length=1)
    objectives: tuple[Objective, ...] = ()
    narrative: dict[str, tuple[Narrative, ...]] = {}
    """blocks per biennium"""
    regions: dict[str, Text] = {}
    """headings of the regional sections, keyed by the classification's region name"""
    links: tuple[str, ...] = ()
    """addresses printed under the narrative"""

    @field_validator("bienniums")
    @classmethod
    def _bienniums(cls, value: tuple[str, ...]):
        for key in value:
            biennium_period(key)
        return value

    def indicators(self) -> list[tuple[Objective, Operational, Indicator]]:
        return [(o, op, ind) for o in self.objectives for op in o.operational for ind in op.indicators]


class Result(Strict):
    type: ResultType
    text: Text


class Entry(Strict):
    """One activity of the register."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    country: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    """the member State (ISO3); none for work the source does not place in one country"""
    date: str
    """as precise as the source: 2001-11-20, 2001-11, 2001 or a period 2000-2001"""
    activity: Activity
    delivered: Text
    to: Text = {}
    result: Result
    reference: str

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value):
        if isinstance(value, date):
            value = value.isoformat()
        text = str(value)
        date_period(text)
        return text

    @property
    def period(self) -> Period:
        return date_period(self.date)


class RegisterConfig(Strict):
    activities: tuple[Entry, ...] = ()


register(DataRule, UseRule, Rule, Indicator, Operational, Objective, Narrative, ProgrammeConfig, Result, Entry,
         RegisterConfig)


@dataclass(frozen=True)
class Programme:
    """The programme and its register, with where each value was written."""

    config: ProgrammeConfig
    register: RegisterConfig
    located: Located
    register_located: Located

    def line_of_activity(self, i: int, field: str = "country") -> tuple[str, int | None]:
        return self.register_located.file, self.register_located.line_of(("activities", i, field))


def _load(path: Path, model, problems: list[Problem]):
    try:
        located = load_yaml(path)
    except UserError as exc:
        problems.extend(exc.problems)
        return None, None
    cfg, found = validate(model, located)
    problems.extend(found)
    return cfg, located


def load_programme(config_dir: Path) -> tuple[Programme | None, list[Problem]]:
    """The programme and its register (None when `programme.yaml` does not exist), with every problem."""
    path = config_dir / "programme.yaml"
    if not path.is_file():
        return None, []
    problems: list[Problem] = []
    cfg, located = _load(path, ProgrammeConfig, problems)
    reg_path = config_dir / "activities.yaml"
    if reg_path.is_file():
        reg, reg_located = _load(reg_path, RegisterConfig, problems)
    else:
        reg, reg_located = RegisterConfig(), Located({}, str(reg_path), {})
    if cfg is None or reg is None or located is None or reg_located is None:
        return None, problems
    programme = Programme(cfg, reg, located, reg_located)
    problems += _check(programme)
    return (programme if not problems else None), problems


def _check(programme: Programme) -> list[Problem]:
    """Ids unique, and every text of the register in every language of the report."""
    cfg, problems = programme.config, []
    seen: set[str] = set()
    for i, entry in enumerate(programme.register.activities):
        if entry.id in seen:
            file, line = programme.line_of_activity(i, "id")
            problems.append(Problem(file, line, f"the activity id '{entry.id}' is used twice",
                                    "give each activity of the register its own id"))
        seen.add(entry.id)
        for field in ("delivered", "to"):
            texts: Text = getattr(entry, field)
            missing = [lang for lang in cfg.languages if texts and lang not in texts]
            if missing:
                file, line = programme.line_of_activity(i, field)
                problems.append(Problem(file, line, f"this text has no version in {', '.join(missing)}",
                                        f"add {missing[0]}: … (the report is built in {', '.join(cfg.languages)})"))
    ids = [ind.id for _, _, ind in cfg.indicators()]
    if not ids:
        problems.append(Problem(programme.located.file, programme.located.line_of(("objectives",)),
                                "the programme declares no indicator",
                                "list objectives, each with its operational objectives and their indicators"))
    for ident in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(Problem(programme.located.file, None, f"the indicator id '{ident}' is used twice",
                                "give each indicator its own id"))
    return list(dict.fromkeys(problems))

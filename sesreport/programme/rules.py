"""An indicator's rule and the project's state (observations, member States, strategy inputs, the
register) → its outcome for one biennium: the member States counted with the evidence the rule found
for each, those that nearly count with what they lack, and register entries that cannot count.

Pure functions over plain values: the document kind gathers the state, this module decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from .config import DataRule, Entry, Period, Rule, UseRule, biennium_period


@dataclass(frozen=True)
class Evidence:
    """The latest observation of one catalog indicator in the window."""

    indicator: str
    form: str | None
    year: int
    value: float
    file: str
    line: int


@dataclass(frozen=True)
class DataCheck:
    holds: bool
    evidence: tuple[Evidence, ...]
    forms: tuple[str, ...]
    window: tuple[int, int]


@dataclass(frozen=True)
class UseCheck:
    holds: bool
    strategy_input: bool
    uses: tuple[Entry, ...]
    """the register's uses in the window"""
    last_use: Entry | None
    """the latest use before the window, when none falls in it"""


@dataclass(frozen=True)
class Finding:
    """One member State under one rule."""

    iso3: str
    counts: bool
    data: DataCheck | None
    use: UseCheck | None
    lacks: tuple[str, ...]
    """what keeps it from counting: "indicators", "forms", "strategy_input", "use" """


@dataclass(frozen=True)
class Outcome:
    indicator: str
    biennium: str
    target: int | None
    reported: int | None
    counted: tuple[Finding, ...]
    near: tuple[Finding, ...]
    data_generated: tuple[str, ...]
    """member States meeting the data rule alone (all of them when the rule has none)"""
    not_members: tuple[Entry, ...]
    """register entries naming a country that is not a member State in the classification"""

    @property
    def value(self) -> int:
        return len(self.counted)


@dataclass(frozen=True)
class State:
    """What rules are evaluated over."""

    obs: pd.DataFrame
    """observations of member States: iso3, indicator, year, value, file, line"""
    forms: dict[str, str | None]
    """catalog indicator → form of security"""
    members: frozenset[str]
    strategies: frozenset[str]
    register: tuple[Entry, ...]


def state_of(resolved: pd.DataFrame, forms: dict[str, str | None], members: set[str], strategies: set[str],
             register: tuple[Entry, ...]) -> State:
    """The observations of member States only: an aggregate area never counts."""
    cols = ["iso3", "indicator", "year", "value", "file", "line"]
    obs = resolved.loc[resolved["iso3"].isin(members), cols]
    return State(obs.reset_index(drop=True), forms, frozenset(members), frozenset(strategies), register)


def latest_in_window(state: State, rule: DataRule, period: Period) -> pd.DataFrame:
    """Per member State and indicator, the latest observation up to the end of the biennium, kept when
    its year is in the window."""
    first, last = period.start.year - rule.years_before, period.end.year
    obs = state.obs[state.obs["year"] <= last]
    obs = obs.sort_values(["iso3", "indicator", "year", "file", "line"], kind="stable")
    latest = obs.drop_duplicates(["iso3", "indicator"], keep="last")
    return latest[latest["year"] >= first]


def evidence_by_country(latest: pd.DataFrame, forms: dict[str, str | None]) -> dict[str, list[Evidence]]:
    """Each member State's evidence, in the order of `latest` (read column by column: one pass over
    plain values rather than a row object per observation)."""
    out: dict[str, list[Evidence]] = {}
    columns = [latest[c].tolist() for c in ("iso3", "indicator", "year", "value", "file", "line")]
    for iso3, indicator, year, value, file, line in zip(*columns, strict=True):
        code = str(indicator)
        out.setdefault(str(iso3), []).append(Evidence(code, forms.get(code), int(year), float(value), str(file),
                                                      int(line)))
    return out


def check_data(evidence: tuple[Evidence, ...], rule: DataRule, window: tuple[int, int]) -> DataCheck:
    covered = tuple(sorted({e.form for e in evidence if e.form}))
    holds = len(evidence) >= rule.min_indicators and len(covered) >= rule.min_forms
    return DataCheck(holds, evidence, covered, window)


def check_use(iso3: str, state: State, rule: UseRule, period: Period) -> UseCheck:
    window = Period(date(period.start.year - rule.years_before, 1, 1), period.end)
    uses = [e for e in state.register if e.country == iso3 and e.result.type in rule.results]
    inside = tuple(sorted((e for e in uses if e.period.within(window)), key=lambda e: (e.period, e.id)))
    before = sorted((e for e in uses if e.period.end < window.start), key=lambda e: (e.period, e.id))
    has_strategy = iso3 in state.strategies
    holds = bool(inside) and (has_strategy or not rule.strategy_input)
    return UseCheck(holds, has_strategy, inside, before[-1] if before and not inside else None)


def _lacks(rule: Rule, data: DataCheck | None, use: UseCheck | None) -> tuple[str, ...]:
    lacks = []
    if data is not None and rule.data_generated is not None and not data.holds:
        if len(data.evidence) < rule.data_generated.min_indicators:
            lacks.append("indicators")
        if len(data.forms) < rule.data_generated.min_forms:
            lacks.append("forms")
    if use is not None and rule.used is not None and not use.holds:
        if rule.used.strategy_input and not use.strategy_input:
            lacks.append("strategy_input")
        if not use.uses:
            lacks.append("use")
    return tuple(lacks)


def evaluate(indicator: str, rule: Rule, biennium: str, state: State, target: int | None = None,
             reported: int | None = None) -> Outcome:
    """The outcome of one indicator in one biennium.

    A member State nearly counts when the register names it or a strategy input is configured for it
    (under a rule with a use); under a rule of data alone, when it misses the threshold by at most one
    indicator and one form."""
    period = biennium_period(biennium)
    data_rule, use_rule = rule.data_generated, rule.used
    by_country: dict[str, list[Evidence]] = {}
    window = (period.start.year - (data_rule.years_before if data_rule else 0), period.end.year)
    if data_rule is not None:
        by_country = evidence_by_country(latest_in_window(state, data_rule, period), state.forms)
    named = {e.country for e in state.register if e.country} | set(state.strategies)
    findings = []
    for iso3 in sorted(state.members):
        data = check_data(tuple(by_country.get(iso3, ())), data_rule, window) if data_rule is not None else None
        use = check_use(iso3, state, use_rule, period) if use_rule is not None else None
        lacks = _lacks(rule, data, use)
        findings.append(Finding(iso3, not lacks, data, use, lacks))
    counted = tuple(f for f in findings if f.counts)
    near = []
    for f in findings:
        if f.counts:
            continue
        if use_rule is not None and f.iso3 in named:
            near.append(f)
        elif use_rule is None and f.data is not None and data_rule is not None and (
                len(f.data.evidence) >= data_rule.min_indicators - 1 and len(f.data.forms) >= data_rule.min_forms - 1):
            near.append(f)
    generated = tuple(f.iso3 for f in findings if f.data is None or f.data.holds)
    outsiders = tuple(e for e in state.register if e.country and e.country not in state.members)
    return Outcome(indicator, biennium, target, reported, counted, tuple(near), generated, outsiders)

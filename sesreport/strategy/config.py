"""Strategy configurations: `config/strategies/defaults.yaml` merged with `config/strategies/<ID>.yaml`
→ a validated :class:`StrategyConfig` and the problems found, each with file and line.

A strategy file holds only what differs from the defaults (mappings merge key by key, lists are
replaced, `null` removes an inherited key), exactly like the country configs.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from ..catalog import Catalog
from ..compute import Rules
from ..config import Block, Chart, Peers, Section, check_ids, locate, merge
from ..errors import Problem, UserError, did_you_mean
from ..schema import Strict, problems_from, register
from ..yamlio import Located, load_yaml

Text = dict[str, str]


class PolicyOption(Strict):
    """One policy option: what to do, why, on what evidence, who acts and when."""

    title: Text
    rationale: Text = {}
    evidence: tuple[str, ...] = ()
    """catalog indicators whose printed figures support the option"""
    actor: Text = {}
    """who acts (a ministry, the social partners, …)"""
    timing: Text = {}
    """when (a year, a phase of the strategy)"""


class Target(Strict):
    """An indicator of the monitoring framework, with its declared target."""

    indicator: str
    target: float
    target_year: int = Field(ge=1990, le=2100)
    baseline_year: int | None = Field(None, ge=1960, le=2100)
    """default: the strategy's `baseline_year`"""


class Topic(Strict):
    """One chapter of the report (one or two slides in the deck)."""

    title: Text
    question: Text = {}
    """the question the topic answers"""
    headline: tuple[Block, ...] = ()
    """the finding, as one sentence: the first block whose condition holds"""
    indicators: tuple[str, ...] = ()
    charts: tuple[Chart, ...] = ()
    narrative: tuple[Block, ...] = ()
    data_needed: Text = {}
    """what data the topic needs and who holds it, printed when the files hold nothing for it"""
    options: tuple[PolicyOption, ...] = ()
    monitoring: tuple[Target, ...] = ()

    @field_validator("narrative", "headline", mode="before")
    @classmethod
    def _blocks(cls, value):
        return Section._blocks(value)


class StrategyConfig(Strict):
    country: str = Field(pattern=r"^[A-Z]{3}$")
    languages: tuple[Literal["en", "fr", "es", "ru", "uk"], ...] = ("en",)
    title: Text = {}
    organisation: Text = {}
    commissioned_by: Text = {}
    """the commissioning body"""
    commissioned: dt.date | None = None
    """the date of the request"""
    occasion: Text = {}
    """where the results are presented (a meeting, a decree)"""
    peers: Peers = Peers()
    stale_after: int = Field(5, ge=1, le=30)
    peer_window: int = Field(5, ge=0, le=30)
    min_peers: int = Field(5, ge=1, le=50)
    """the fewest peers with data behind a peer median, range, rank or band"""
    band_stability: float = Field(0.8, ge=0, le=1)
    """the least overlap of a band year's peers with those of its last year"""
    break_jump: float = Field(4.0, gt=1, le=100)
    """a step this many times the series' usual yearly change is a break in series"""
    chart_years: int = Field(25, ge=5, le=80)
    baseline_year: int = Field(2015, ge=1960, le=2100)
    """the default baseline year of the monitoring framework"""
    monitoring_rows_per_slide: int = Field(6, ge=2, le=12)
    key_messages: tuple[Block, ...] = ()
    closing: Text = {}
    topics: dict[str, Topic]

    @field_validator("topics")
    @classmethod
    def _topic_ids(cls, value):
        return check_ids(value, "topic")

    @field_validator("key_messages", mode="before")
    @classmethod
    def _messages(cls, value):
        return Section._blocks(value)

    def rules(self) -> Rules:
        """The editorial rules its statistics follow: peer minimum, band stability, break jump."""
        return Rules(self.min_peers, self.band_stability, self.break_jump)

    def indicators(self) -> list[str]:
        """Every indicator the strategy prints, in order of first use."""
        seen: dict[str, None] = {}
        for topic in self.topics.values():
            seen.update(dict.fromkeys(topic.indicators))
            for chart in topic.charts:
                seen.update(dict.fromkeys([chart.indicator] if chart.indicator else []))
                seen.update(dict.fromkeys(chart.indicators))
            for option in topic.options:
                seen.update(dict.fromkeys(option.evidence))
            seen.update(dict.fromkeys(t.indicator for t in topic.monitoring))
        return list(seen)


register(PolicyOption, Target, Topic, StrategyConfig)


@dataclass(frozen=True)
class LoadedStrategy:
    """A validated strategy, its ID (the file name) and where each value was written."""

    id: str
    config: StrategyConfig
    located: Located
    defaults: Located

    def line_of(self, path: tuple) -> tuple[str, int | None]:
        return locate(self.located, self.defaults, path)


def strategy_files(config_dir: Path) -> list[Path]:
    folder = config_dir / "strategies"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.yaml") if p.name != "defaults.yaml" and not p.name.startswith(("_", ".")))


def load_strategies(config_dir: Path, catalog: Catalog) -> tuple[dict[str, LoadedStrategy], list[Problem]]:
    """Every strategy of the configuration folder, and every problem in any of them."""
    files = strategy_files(config_dir)
    if not files:
        return {}, []
    path = config_dir / "strategies" / "defaults.yaml"
    defaults = load_yaml(path) if path.is_file() else Located({}, str(path), {})
    problems: list[Problem] = []
    loaded: dict[str, LoadedStrategy] = {}
    for file in files:
        try:
            located = load_yaml(file)
        except UserError as exc:
            problems.extend(exc.problems)
            continue
        if not isinstance(located.data, dict):
            problems.append(Problem(located.file, 1, "a strategy file must be a mapping of keys to values"))
            continue
        merged = merge(defaults.data or {}, located.data)
        try:
            cfg = StrategyConfig.model_validate(merged)
        except ValidationError as exc:
            where = Located(merged, located.file, {})
            problems.extend(problems_from(exc, where, locate=functools.partial(locate, located, defaults)))
            continue
        if file.stem != cfg.country:
            problems.append(Problem(located.file, located.lines.get(("country",)),
                                    f"the file is named {file.name} but says country: {cfg.country}",
                                    f"rename the file to {cfg.country}.yaml or fix the code"))
            continue
        strategy = LoadedStrategy(file.stem, cfg, located, defaults)
        found = check_strategy(strategy, catalog)
        problems.extend(found)
        if not found:
            loaded[file.stem] = strategy
    return loaded, problems


def check_strategy(strategy: LoadedStrategy, catalog: Catalog) -> list[Problem]:
    """References to the catalog, baseline and target years, texts in every language, narratives."""
    from ..narrative import Where, check_block

    cfg = strategy.config
    problems: list[Problem] = []

    def indicator(code: str, path: tuple) -> None:
        if code not in catalog:
            file, line = strategy.line_of(path)
            problems.append(Problem(file, line, f"unknown indicator '{code}'",
                                    did_you_mean(code, catalog.indicators) or f"see {catalog.file} for the codes"))

    blocks: list[tuple[tuple, Block]] = [(("key_messages", i), b) for i, b in enumerate(cfg.key_messages)]
    for tid, topic in cfg.topics.items():
        at = ("topics", tid)
        for i, code in enumerate(topic.indicators):
            indicator(code, at + ("indicators", i))
        for j, chart in enumerate(topic.charts):
            if chart.indicator:
                indicator(chart.indicator, at + ("charts", j, "indicator"))
            for i, code in enumerate(chart.indicators):
                indicator(code, at + ("charts", j, "indicators", i))
        for k, option in enumerate(topic.options):
            for i, code in enumerate(option.evidence):
                indicator(code, at + ("options", k, "evidence", i))
        for k, target in enumerate(topic.monitoring):
            indicator(target.indicator, at + ("monitoring", k, "indicator"))
            baseline = target.baseline_year or cfg.baseline_year
            if target.target_year <= baseline:
                file, line = strategy.line_of(at + ("monitoring", k, "target_year"))
                problems.append(Problem(file, line, f"the target year {target.target_year} is not after the "
                                        f"baseline year {baseline}",
                                        "a target is reached after the baseline: set a later target_year "
                                        "or an earlier baseline_year"))
        if not topic.indicators and not topic.data_needed:
            file, line = strategy.line_of(at)
            problems.append(Problem(file, line, f"topic '{tid}' has no indicators and no data_needed",
                                    "list its indicators, or say in data_needed what data it needs and who holds it"))
        blocks += [(at + ("headline", i), b) for i, b in enumerate(topic.headline)]
        blocks += [(at + ("narrative", i), b) for i, b in enumerate(topic.narrative)]
    codes = set(cfg.indicators())
    for path, block in blocks:
        file, line = strategy.line_of(path + ("text",))
        if block.file is not None:
            problems.append(Problem(file, line, "a strategy's texts are written in its file, not read from files",
                                    "replace file: … by text: {en: …, ru: …}"))
            continue
        texts = block.text if isinstance(block.text, dict) else {cfg.languages[0]: block.text or ""}
        missing = [lang for lang in cfg.languages if lang not in texts]
        if missing:
            problems.append(Problem(file, line, f"this text has no version in {', '.join(missing)}",
                                    f"add {missing[0]}: … (the strategy is built in {', '.join(cfg.languages)})"))
        for text in texts.values():
            problems.extend(check_block(text, Where(file, line), codes, catalog))
        if block.when:
            problems.extend(check_block("{{ " + block.when + " }}", Where(file, strategy.line_of(path + ("when",))[1]),
                                        codes, catalog))
    return problems

"""Country configurations: `config/defaults.yaml` plus one `config/countries/<ISO3>.yaml` per country.

A country file holds only what differs from the shared defaults: mappings are merged key by key
(sections by their id), lists are replaced, and `null` removes an inherited entry. Every mistake
in every file is reported at once, with file, line and a suggestion for a misspelt name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from .catalog import Catalog
from .compute import Rules
from .errors import Problem, UserError, did_you_mean, display_path
from .schema import Strict, problems_from, register
from .yamlio import Located, load_yaml

Text = dict[str, str]


def check_ids(value: dict, what: str) -> dict:
    """The ids of a config's sections or topics: at least one, each lower-case letters, digits and '_'."""
    for key in value:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ValueError(f"{what} id '{key}' must be lower-case letters, digits and '_'")
    if not value:
        raise ValueError(f"at least one {what} is needed")
    return value


class Peers(Strict):
    """Who a country is compared with: the rules and their fallbacks are in `sesreport/peers.py`."""

    # region_income: same region and income group; nearest: the `size` countries of the region
    # closest in GDP per capita (PPP); region; income; list (the `countries` given)
    group: Literal["region_income", "nearest", "region", "income", "list"] = "region_income"
    size: int = Field(10, ge=3, le=50)  # how many countries `nearest` takes (also as a fallback)
    countries: tuple[str, ...] = ()
    label: Text = {}

    @model_validator(mode="after")
    def _list_needs_countries(self):
        if self.group == "list" and len(self.countries) < 3:
            raise ValueError("a peer list needs at least three countries")
        if self.group != "list" and self.countries:
            raise ValueError(f"'countries' is only used with group: list (group is '{self.group}')")
        return self


class Chart(Strict):
    type: str  # a chart type the brief draws (checked against its registry when the project loads)
    indicator: str | None = None
    indicators: tuple[str, ...] = ()
    title: Text = {}

    @model_validator(mode="after")
    def _needs_indicator(self):
        if self.type in ("trend", "ranking") and not self.indicator:
            raise ValueError(f"a {self.type} chart needs 'indicator'")
        if self.type == "small_multiples" and len(self.indicators) < 2:
            raise ValueError("small multiples need at least two 'indicators'")
        return self


class Block(Strict):
    """A narrative paragraph in Markdown, shown only when its condition holds for the data.

    The text is given in the config (`text:`) or in Markdown files inside the config folder
    (`file: {en: narratives/RUS.en.md, ru: narratives/RUS.ru.md}`).
    """

    text: Text | str | None = None
    file: Text | str | None = None
    when: str | None = None
    advice: bool = False  # it recommends a policy: not printed from data older than the country's situation

    @model_validator(mode="after")
    def _text_or_file(self):
        if (self.text is None) == (self.file is None):
            raise ValueError("give either 'text' or 'file'")
        return self

    def source(self, lang: str) -> str | None:
        """The Markdown file a language's text came from, if any."""
        if self.file is None:
            return None
        return self.file if isinstance(self.file, str) else self.file.get(lang)


class Situation(Strict):
    """What a reader must know before the figures: a conflict, an interruption of the data, a recent
    reform. Printed on the cover; advice drawn from data older than `since` is not printed."""

    kind: Literal["conflict", "data_interruption", "reform"]
    since: int = Field(ge=1900, le=2100)  # the year the situation began
    text: Text

    @field_validator("text")
    @classmethod
    def _english(cls, value: Text) -> Text:
        if "en" not in value:
            raise ValueError("give at least the English text ('en')")
        return value


class Section(Strict):
    title: Text = {}
    indicators: tuple[str, ...] = Field(min_length=1)
    charts: tuple[Chart, ...] = ()
    narrative: tuple[Block, ...] = ()
    sentences: bool = True  # generated sentences for the section's indicators

    @field_validator("narrative", mode="before")
    @classmethod
    def _blocks(cls, value):
        if value is None:
            return ()
        if isinstance(value, (str, dict)) and not (isinstance(value, dict) and "text" in value):
            return ({"text": value},)
        return value


class CountryConfig(Strict):
    country: str = Field(pattern=r"^[A-Z]{3}$")
    languages: tuple[Literal["en", "fr", "es", "ru", "uk"], ...] = ("en",)
    documents: tuple[str, ...] = ("brief",)  # document kinds built for the country
    # the brief's form: two pages, front and back (the default), or the full report with every table
    format: Literal["two_page", "full"] = "two_page"
    title: Text = {}
    organisation: Text = {}
    peers: Peers = Peers()
    stale_after: int = Field(5, ge=1, le=30)
    peer_window: int = Field(5, ge=0, le=30)
    min_peers: int = Field(5, ge=1, le=50)  # the fewest peers with data behind a peer median, range, rank or band
    band_stability: float = Field(0.8, ge=0, le=1)  # the least overlap of a band year's peers with its last year's
    break_jump: float = Field(4.0, gt=1, le=100)  # a step this many times the usual yearly change is a break
    chart_years: int = Field(25, ge=5, le=80)
    index: str | None = None  # id of a composite index in config/indices/ to show in the brief
    key_figures: tuple[str, ...] = Field(min_length=1, max_length=8)
    situation: Situation | None = None  # a conflict, data interruption or reform the reader must know of
    summary: tuple[Block, ...] = ()
    sections: dict[str, Section]

    @field_validator("sections")
    @classmethod
    def _section_ids(cls, value):
        return check_ids(value, "section")

    @field_validator("summary", mode="before")
    @classmethod
    def _summary(cls, value):
        return Section._blocks(value)

    def rules(self) -> Rules:
        """The editorial rules its statistics follow: peer minimum, band stability, break jump."""
        return Rules(self.min_peers, self.band_stability, self.break_jump)

    def indicators(self) -> list[str]:
        """Every indicator the document uses, in order of first use."""
        seen: dict[str, None] = dict.fromkeys(self.key_figures)
        for section in self.sections.values():
            seen.update(dict.fromkeys(section.indicators))
            for chart in section.charts:
                if chart.indicator:
                    seen[chart.indicator] = None
                seen.update(dict.fromkeys(chart.indicators))
        return list(seen)


register(Peers, Chart, Block, Situation, Section, CountryConfig)


def merge(base: Any, override: Any) -> Any:
    """Deep-merge mappings; an override replaces lists and scalars; None deletes a key."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = merge(out[key], value)
            else:
                out[key] = value
        return out
    return override


def locate(country: Located, defaults: Located, path: tuple) -> tuple[str, int | None]:
    """File and line of a merged value: the country file if it sets it, else the defaults."""
    for source in (country, defaults):
        probe = tuple(path)
        while probe:
            if probe in source.lines:
                return source.file, source.lines[probe]
            probe = probe[:-1]
    return country.file, 1


@dataclass
class LoadedConfig:
    config: CountryConfig  # narrative files already read into their blocks' text
    file: str  # the country file
    located: Located  # where each of the country file's own values is
    defaults: Located

    def line_of(self, path: tuple) -> tuple[str, int | None]:
        return locate(self.located, self.defaults, path)


def _validate_country(merged: dict, country: Located, defaults: Located) -> tuple[CountryConfig | None, list[Problem]]:
    try:
        return CountryConfig.model_validate(merged), []
    except ValidationError as exc:
        where = Located(merged, country.file, {})
        return None, problems_from(exc, where, locate=lambda path: locate(country, defaults, path))


def country_files(config_dir: Path) -> list[Path]:
    folder = config_dir / "countries"
    if not folder.is_dir():
        raise UserError(Problem(display_path(folder), None, "no countries/ folder in the configuration",
                                "create config/countries/<ISO3>.yaml for each country"))
    return sorted(p for p in folder.glob("*.yaml") if not p.name.startswith(("_", ".")))


def load_defaults(config_dir: Path) -> Located:
    path = config_dir / "defaults.yaml"
    if not path.is_file():
        return Located({}, display_path(path), {})
    located = load_yaml(path)
    if not isinstance(located.data, dict):
        raise UserError(Problem(located.file, 1, "the defaults file must be a mapping of keys to values"))
    return located


def load_country(path: Path, defaults: Located) -> tuple[LoadedConfig | None, list[Problem]]:
    try:
        located = load_yaml(path)
    except UserError as exc:
        return None, exc.problems
    if not isinstance(located.data, dict):
        return None, [Problem(located.file, 1, "a country file must be a mapping of keys to values")]
    merged = merge(defaults.data, located.data)
    model, problems = _validate_country(merged, located, defaults)
    if problems:
        return None, problems
    assert model is not None
    if path.stem != model.country:
        line = located.lines.get(("country",))
        problems.append(Problem(located.file, line, f"the file is named {path.name} but says country: {model.country}",
                                f"rename the file to {model.country}.yaml or fix the code"))
        return None, problems
    loaded = LoadedConfig(model, located.file, located, defaults)
    model, problems = _read_narrative_files(loaded, path.parent.parent)
    if problems:
        return None, problems
    loaded.config = model
    return loaded, []


#: The largest narrative file read: four bytes for each of the 20,000 characters a block may hold.
NARRATIVE_BYTES = 80_000


def _read_narrative_files(loaded: LoadedConfig, config_dir: Path) -> tuple[CountryConfig, list[Problem]]:
    """Replace `file:` narrative blocks by the text of their Markdown files (inside the config folder)."""
    cfg = loaded.config
    problems: list[Problem] = []
    root = config_dir.resolve()

    def resolve(block: Block, path: tuple) -> Block:
        if block.file is None:
            return block
        files = block.file if isinstance(block.file, dict) else {lang: block.file for lang in cfg.languages}
        texts = {}
        for lang, name in files.items():
            file, line = loaded.line_of(path + ("file",))
            target = (config_dir / name).resolve()
            if Path(name).is_absolute() or not target.is_relative_to(root):
                problems.append(Problem(file, line, f"narrative file '{name}' is outside the config folder",
                                        "keep narrative files inside the config folder, e.g. config/narratives/"))
                continue
            if not target.is_file():  # missing, a folder, or a device or pipe that would never end
                problems.append(Problem(file, line, f"narrative file '{name}' not found",
                                        f"create {display_path(target)} or fix the path"))
                continue
            if target.stat().st_size > NARRATIVE_BYTES:  # checked before reading: the block limit is far below
                problems.append(Problem(file, line, f"narrative file '{name}' holds {target.stat().st_size:,} bytes "
                                                    f"(at most {NARRATIVE_BYTES:,})", "split it into several blocks"))
                continue
            try:
                texts[lang] = target.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError:
                problems.append(Problem(file, line, f"narrative file '{name}' is not UTF-8 text", "save it as UTF-8"))
            except OSError as exc:
                problems.append(Problem(file, line, f"narrative file '{name}' cannot be read ({exc.strerror})",
                                        "check that the file is readable"))
        return block.model_copy(update={"text": texts})

    summary = tuple(resolve(b, ("summary", i)) for i, b in enumerate(cfg.summary))
    sections = {sid: sec.model_copy(update={"narrative": tuple(resolve(b, ("sections", sid, "narrative", i))
                                                               for i, b in enumerate(sec.narrative))})
                for sid, sec in cfg.sections.items()}
    return cfg.model_copy(update={"summary": summary, "sections": sections}), problems


def check_references(loaded: LoadedConfig, catalog: Catalog, known_countries: set[str] | None,
                     indicators: bool = True) -> list[Problem]:
    """Indicator codes must be in the catalog (with `indicators`); ISO3 codes must be known countries
    (when `known_countries` is given: the data's classification)."""
    cfg = loaded.config
    problems: list[Problem] = []

    def indicator(code: str, path: tuple) -> None:
        if code not in catalog:
            file, line = loaded.line_of(path)
            problems.append(Problem(file, line, f"unknown indicator '{code}'",
                                    did_you_mean(code, catalog.indicators) or f"see {catalog.file} for the codes"))

    if indicators:
        for i, code in enumerate(cfg.key_figures):
            indicator(code, ("key_figures", i))
        for sid, section in cfg.sections.items():
            for i, code in enumerate(section.indicators):
                indicator(code, ("sections", sid, "indicators", i))
            for j, chart in enumerate(section.charts):
                if chart.indicator:
                    indicator(chart.indicator, ("sections", sid, "charts", j, "indicator"))
                for i, code in enumerate(chart.indicators):
                    indicator(code, ("sections", sid, "charts", j, "indicators", i))
        problems.extend(check_narratives(loaded, catalog))
    if known_countries is not None:
        def country(code: str, path: tuple) -> None:
            if code not in known_countries:
                file, line = loaded.line_of(path)
                problems.append(Problem(file, line, f"unknown country '{code}'",
                                        did_you_mean(code, known_countries) or "use the World Bank's ISO3 code"))

        country(cfg.country, ("country",))
        for i, code in enumerate(cfg.peers.countries):
            country(code, ("peers", "countries", i))
    return problems


def check_narratives(loaded: LoadedConfig, catalog: Catalog) -> list[Problem]:
    """Narrative blocks: a text in every language the country is built in, and valid references."""
    from .narrative import Where, check_block

    cfg = loaded.config
    codes = set(cfg.indicators())
    problems: list[Problem] = []
    blocks: list[tuple[tuple, Block]] = [(("summary", i), b) for i, b in enumerate(cfg.summary)]
    for sid, section in cfg.sections.items():
        blocks += [(("sections", sid, "narrative", i), b) for i, b in enumerate(section.narrative)]
    for path, block in blocks:
        file, line = loaded.line_of(path + ("text",) if block.file is None else path + ("file",))
        where = Where(file, line)
        texts: dict[str, str]
        if isinstance(block.text, str):
            texts = {cfg.languages[0]: block.text}
            if len(cfg.languages) > 1:
                problems.append(Problem(file, line, "this narrative is a single text, but the country is built in "
                                        + ", ".join(cfg.languages),
                                        "give it as a mapping by language, e.g. text: {en: …, ru: …}"))
        else:
            texts = block.text or {}
            missing = [lang for lang in cfg.languages if lang not in texts]
            if missing:
                problems.append(Problem(file, line, f"this narrative has no text in {', '.join(missing)}",
                                        f"add {missing[0]}: … (the country is built in {', '.join(cfg.languages)})"))
        for text in texts.values():
            problems.extend(check_block(text, where, codes, catalog))
        if block.when:
            problems.extend(check_block("{{ " + block.when + " }}", Where(file, loaded.line_of(path + ("when",))[1]),
                                        codes, catalog))
    return problems

"""Words from numbers: generated sentences, and the analyst's narrative blocks bound to the data.

Narrative blocks are Markdown with data references (`{{ ind.unemployment.latest }}`) and optional
conditions (`when: ind.unemployment.trend == "falling"`). They run in Jinja's sandbox with no access
to files, modules or the network; Markdown's raw HTML, links and images are switched off, so a
block can neither inject markup nor make the PDF renderer fetch anything. A reference to an
unknown indicator or attribute is an error that names the config file and line.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markdown_it import MarkdownIt
from markupsafe import Markup

from .catalog import Catalog
from .compute import Change, Stat
from .errors import Problem, UserError
from .i18n import Lang, Np_


@dataclass(frozen=True)
class Where:
    """The config file and line a block came from, for error messages."""

    file: str
    line: int | None


class IndicatorView:
    """What a narrative may read about one indicator: formatted text, plus raw numbers for conditions.

    `trend` is the direction (rising, falling, stable; "unknown" without a base) of the change over
    the last five years, the same `Change` that `change_5y` prints: a condition such as
    `ind.gini.trend == "falling"` agrees with the five-year change a block shows next to it.
    """

    _fields = ("label", "latest", "value", "year", "change_5y", "change_10y", "change_5y_value", "change_10y_value",
               "trend", "peer_median", "peer_median_value", "rank", "rank_of", "gap", "gap_value", "position",
               "stale", "has_data", "unit")

    def __init__(self, code: str, stat: Stat, catalog: Catalog, lang: Lang):
        ind = catalog[code]
        self.label = lang.indicator(ind)
        self.has_data = stat.has_data
        self.value = stat.value
        self.latest = lang.value(stat.value, ind) if stat.has_data else lang.gettext("no data")
        self.year = stat.year
        change5, change10 = stat.change(5), stat.change(10)
        self.change_5y_value = change5.delta if change5 else None
        self.change_10y_value = change10.delta if change10 else None
        self.change_5y = lang.change(change5.delta, ind) if change5 else lang.gettext("no data")
        self.change_10y = lang.change(change10.delta, ind) if change10 else lang.gettext("no data")
        self.trend = stat.trend or "unknown"
        self.peer_median_value = stat.peers.median if stat.peers else None
        self.peer_median = lang.value(stat.peers.median, ind) if stat.peers else lang.gettext("no data")
        self.rank = stat.rank
        self.rank_of = stat.rank_of
        self.gap_value = stat.gap
        self.gap = lang.change(stat.gap, ind) if stat.gap is not None else lang.gettext("no data")
        self.position = stat.position or "unknown"
        self.stale = stat.stale
        self.unit = lang.unit_label(ind)

    def __str__(self) -> str:
        return self.latest


class Indicators:
    """`ind.<code>`: views on the document's indicators; an unknown code is an error, not an empty string."""

    def __init__(self, views: dict[str, IndicatorView], catalog: Catalog):
        self._views = views
        self._catalog = catalog

    def __getattr__(self, code: str) -> IndicatorView:
        if code.startswith("_"):
            raise AttributeError(code)
        if code in self._views:
            return self._views[code]
        raise UndefinedError(f"unknown indicator '{code}'" + (
            " (it is in the catalog but not among this document's indicators; add it to a section)"
            if code in self._catalog else ""))

    __getitem__ = __getattr__


class _Environment(ImmutableSandboxedEnvironment):
    """No attribute that starts with an underscore, on anything."""

    def is_safe_attribute(self, obj, attr, value):
        if attr.startswith("_"):
            return False
        if isinstance(obj, IndicatorView) and attr not in IndicatorView._fields:
            return False
        return super().is_safe_attribute(obj, attr, value)


@functools.cache
def environment(lang: str = "en") -> _Environment:
    """The sandbox for one language, with formatting filters that follow its locale:
    `{{ ind.gini.value | number(1) }}`, `{{ ind.gini.gap_value | signed(1) }}`, `{{ x | percent(1) }}`."""
    # The output is Markdown, escaped by the Markdown renderer below, so Jinja does not escape.
    env = _Environment(undefined=StrictUndefined, autoescape=False)
    env.globals.clear()
    fmt = Lang(lang)
    env.filters["number"] = lambda value, decimals=0: fmt.number(value, int(decimals))
    env.filters["signed"] = lambda value, decimals=0: fmt.number(value, int(decimals), sign=True)
    env.filters["percent"] = lambda value, decimals=1: fmt.with_unit(fmt.number(value, int(decimals)), "percent")
    return env


FILTERS = ("number", "signed", "percent", "abs", "round", "lower", "upper", "capitalize", "default")


@functools.lru_cache(maxsize=1)
def markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})
    md.disable(["image", "link", "autolink", "html_inline", "html_block", "reference"])
    return md


FORBIDDEN_TAGS = "include, import, extends, from, macro, call, block, set, with"


def _forbidden(tree) -> list[str]:
    from jinja2 import nodes

    kinds = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends, nodes.Macro, nodes.CallBlock,
             nodes.Block, nodes.Assign, nodes.AssignBlock, nodes.With)
    return sorted({type(node).__name__.lower() for node in tree.find_all(kinds)})


def render_block(text: str, context: dict, where: Where, lang: str = "en") -> Markup:
    """A narrative block: Jinja in the sandbox, then Markdown without HTML, links or images."""
    try:
        env = environment(lang)
        tree = env.parse(text)
        refused = _forbidden(tree)
        if refused:
            raise UserError(Problem(where.file, where.line, f"not allowed in a narrative: {', '.join(refused)}",
                                    "a narrative may only read ind.<code>.<field> and country, with {% if %}"))
        source = env.from_string(tree).render(**context)
    except SecurityError as exc:
        raise UserError(Problem(where.file, where.line, f"not allowed in a narrative: {exc}",
                                "a narrative may only read ind.<code>.<field> and country")) from None
    except UndefinedError as exc:
        raise UserError(Problem(where.file, where.line, f"in a narrative: {exc.message}",
                                "fields: " + ", ".join(IndicatorView._fields))) from None
    except TemplateError as exc:
        line = where.line + (getattr(exc, "lineno", 1) or 1) - 1 if where.line else None
        raise UserError(Problem(where.file, line, f"in a narrative: {exc}",
                                "only {{ … }} references and {% if %} blocks are allowed")) from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise UserError(Problem(where.file, where.line, f"in a narrative: {exc}",
                                "an indicator without data has no value: test ind.<code>.has_data first")) from None
    return Markup(markdown().render(source))


def condition_holds(expression: str, context: dict, where: Where, lang: str = "en") -> bool:
    try:
        return bool(environment(lang).compile_expression(expression, undefined_to_none=False)(**context))
    except SecurityError as exc:
        raise UserError(Problem(where.file, where.line, f"not allowed in a condition: {exc}")) from None
    except UndefinedError as exc:
        raise UserError(Problem(where.file, where.line, f"in a condition: {exc.message}",
                                "fields: " + ", ".join(IndicatorView._fields))) from None
    except TemplateError as exc:
        raise UserError(Problem(where.file, where.line, f"invalid condition '{expression}': {exc}",
                                'write it like: ind.unemployment.trend == "falling"')) from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise UserError(Problem(where.file, where.line, f"in a condition: {exc}",
                                "an indicator without data has no value: test ind.<code>.has_data first")) from None


# ---------------------------------------------------------------------------------------------
# Generated sentences


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# One template per grammatical gender and number of the subject, so that languages whose verbs
# agree with it (Russian, Ukrainian, French) can say so; the context is the gender. The English
# text repeats because the message extractor needs each one written out.
SENTENCES = {
    ("fell", "m"): Np_("m", "{indicator} fell from {start} in {start_year} to {value} in {year}"),
    ("fell", "f"): Np_("f", "{indicator} fell from {start} in {start_year} to {value} in {year}"),
    ("fell", "n"): Np_("n", "{indicator} fell from {start} in {start_year} to {value} in {year}"),
    ("fell", "pl"): Np_("pl", "{indicator} fell from {start} in {start_year} to {value} in {year}"),
    ("rose", "m"): Np_("m", "{indicator} rose from {start} in {start_year} to {value} in {year}"),
    ("rose", "f"): Np_("f", "{indicator} rose from {start} in {start_year} to {value} in {year}"),
    ("rose", "n"): Np_("n", "{indicator} rose from {start} in {start_year} to {value} in {year}"),
    ("rose", "pl"): Np_("pl", "{indicator} rose from {start} in {start_year} to {value} in {year}"),
    ("stable", "m"): Np_("m", "{indicator} was stable at {value} in {year} ({start} in {start_year})"),
    ("stable", "f"): Np_("f", "{indicator} was stable at {value} in {year} ({start} in {start_year})"),
    ("stable", "n"): Np_("n", "{indicator} was stable at {value} in {year} ({start} in {start_year})"),
    ("stable", "pl"): Np_("pl", "{indicator} was stable at {value} in {year} ({start} in {start_year})"),
    ("was", "m"): Np_("m", "{indicator} was {value} in {year}"),
    ("was", "f"): Np_("f", "{indicator} was {value} in {year}"),
    ("was", "n"): Np_("n", "{indicator} was {value} in {year}"),
    ("was", "pl"): Np_("pl", "{indicator} was {value} in {year}"),
}


# The horizons a generated sentence states a change over, in order of preference: about ten years,
# else about five.
SENTENCE_HORIZONS = (10, 5)
# The verb a sentence prints for the direction of the change it states.
VERBS = {"rising": "rose", "falling": "fell", "stable": "stable"}


@dataclass(frozen=True)
class Statement:
    """A generated sentence and the change it states (None when it states only the level)."""

    text: str
    change: Change | None


def sentence_change(stat: Stat) -> Change | None:
    """The change a generated sentence states: the first of `SENTENCE_HORIZONS` the data allow."""
    return next((c for c in map(stat.change, SENTENCE_HORIZONS) if c is not None), None)


def statement(code: str, stat: Stat, catalog: Catalog, lang: Lang, country: str, peer_label: str) -> Statement:
    """One sentence on one indicator: level, change over about ten (or five) years, place among peers.

    The verb is the direction of the `Change` it states, as computed in `compute`; the statement
    returns that change so that its record carries exactly the direction printed.
    """
    ind = catalog[code]
    subject = lang.phrase(ind)
    gender = lang.gender(ind)
    _ = lang.gettext
    if not stat.has_data:
        return Statement(_("{indicator}: no data available.").format(indicator=_capital(subject)), None)
    value = lang.value(stat.value, ind)
    change = sentence_change(stat)
    if change is not None:
        context, template = SENTENCES[(VERBS[change.direction], gender)]
        text = lang.pgettext(context, template).format(
            indicator=subject, value=value, year=stat.year, start=lang.value(change.base.value, ind),
            start_year=change.base.year)
    else:
        context, template = SENTENCES[("was", gender)]
        text = lang.pgettext(context, template).format(indicator=subject, value=value, year=stat.year)
    if stat.peers is not None and stat.position is not None:
        median = lang.value(stat.peers.median, ind)
        if stat.position == "similar":
            text += _(", close to the peer median of {median}").format(median=median)
        elif stat.gap is not None and stat.gap < 0:  # a position implies a gap
            text += _(", below the peer median of {median}").format(median=median)
        else:
            text += _(", above the peer median of {median}").format(median=median)
        if stat.rank is not None and ind.direction != "neutral":
            text += _(" (rank {rank} of {n})").format(rank=stat.rank, n=stat.rank_of)
    text = _capital(text) + "."
    if stat.stale:
        text += " " + _("No more recent value is available.")
    return Statement(text, change)


@functools.lru_cache(maxsize=512)
def _parsed(text: str):
    """Parse once: every country inheriting a block from the shared defaults checks the same text."""
    return environment().parse(text)


def check_block(text: str, where: Where, document_codes: set[str], catalog: Catalog) -> list[Problem]:
    """Static check of a narrative block: Jinja syntax, and every `ind.<code>.<field>` it reads.

    Run when configs are validated, so that a misspelt reference stops the build with exit 2 and
    the file and line, instead of failing one document at render time.
    """
    from jinja2 import TemplateSyntaxError, nodes

    from .errors import did_you_mean

    try:
        tree = _parsed(text)
    except TemplateSyntaxError as exc:
        line = where.line + (exc.lineno or 1) - 1 if where.line else None
        return [Problem(where.file, line, f"in a narrative: {exc.message}",
                        "only {{ … }} references and {% if %} blocks are allowed")]
    problems = []
    refused = _forbidden(tree)
    if refused:
        problems.append(Problem(where.file, where.line, f"not allowed in a narrative: {', '.join(refused)}",
                                "a narrative may only read ind.<code>.<field> and country, with {% if %}"))
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        inner = node.node
        if isinstance(inner, nodes.Name) and inner.name == "ind":
            code = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
            if code not in document_codes:
                hint = (did_you_mean(str(code), catalog.indicators) or "see config/indicators.yaml") \
                    if code not in catalog else "add it to one of the document's sections"
                problems.append(Problem(where.file, where.line, f"in a narrative: unknown indicator '{code}'", hint))
        elif isinstance(inner, (nodes.Getattr, nodes.Getitem)) and isinstance(inner.node, nodes.Name) \
                and inner.node.name == "ind" and isinstance(node, nodes.Getattr):
            if node.attr not in IndicatorView._fields:
                problems.append(Problem(where.file, where.line, f"in a narrative: unknown field '{node.attr}'",
                                        did_you_mean(node.attr, IndicatorView._fields)
                                        or "fields: " + ", ".join(IndicatorView._fields)))
    for node in tree.find_all(nodes.Filter):
        if node.name not in FILTERS:
            problems.append(Problem(where.file, where.line, f"in a narrative: unknown filter '{node.name}'",
                                    did_you_mean(node.name, FILTERS) or "filters: " + ", ".join(FILTERS)))
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in ("ind", "country"):
            problems.append(Problem(where.file, where.line, f"in a narrative: unknown name '{name.name}'",
                                    "a narrative may read ind.<code>.<field> and country"))
    return problems

"""Words from numbers: generated sentences, and the analyst's narrative blocks bound to the data.

Narrative blocks are Markdown with data references (`{{ ind.unemployment.latest }}`) and optional
conditions (`when: ind.unemployment.trend == "falling"`). They run in Jinja's sandbox with no access
to files, modules or the network; Markdown's raw HTML, links and images are switched off, so a
block can neither inject markup nor make the PDF renderer fetch anything. A reference to an
unknown indicator or attribute is an error that names the config file and line.

The sandbox also bounds what a block may cost: its length (`MAX_SOURCE`), what it prints
(`MAX_OUTPUT`), any text, list or number it builds (`MAX_LENGTH`, `MAX_BITS`: `{{ country * 40000000 }}`
is refused, not computed) and its time (`MAX_SECONDS`); it has no loops and calls no methods.
"""

from __future__ import annotations

import functools
import math
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markdown_it import MarkdownIt
from markupsafe import Markup

from .catalog import Catalog, Indicator
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
    `proportion` is a percentage in the words a writer would use ("two thirds" for 68.1%).
    """

    _fields = ("label", "latest", "value", "year", "change_5y", "change_10y", "change_5y_value", "change_10y_value",
               "trend", "peer_median", "peer_median_value", "rank", "rank_of", "gap", "gap_value", "position",
               "stale", "has_data", "unit", "proportion")

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
        # a percentage in words ("two thirds" for 68.1%), for a narrative's "two thirds of all workers"
        self.proportion = lang.proportion(stat.value) if stat.has_data and ind.unit == "percent" \
            and stat.value is not None else lang.gettext("no data")

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


#: A narrative block's limits: its length, what it prints, the size of any text or list (and the bits
#: of any number) it builds, and the time it may take. A page holds about 3,000 characters.
MAX_SOURCE = 20_000
MAX_OUTPUT = 50_000
MAX_LENGTH = 10_000
MAX_BITS = 4_096
MAX_SECONDS = 2.0
#: Digits a formatting filter may be asked for.
MAX_DECIMALS = 6

_deadline: ContextVar[float] = ContextVar("narrative_deadline", default=math.inf)


def _in_time() -> None:
    if time.monotonic() > _deadline.get():
        raise SecurityError(f"it ran longer than {MAX_SECONDS:g} s")


def _bounded(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too large, before computing it."""
    sized = (str, list, tuple)
    if operator == "*":
        seq, times = (left, right) if isinstance(left, sized) else (right, left)
        if isinstance(seq, sized) and isinstance(times, int) and len(seq) * times > MAX_LENGTH:
            raise SecurityError(f"'… * {times}' would build {len(seq) * times:,} characters or items "
                                f"(at most {MAX_LENGTH:,})")
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_BITS:
            raise SecurityError(f"the product would be a number of more than {MAX_BITS:,} bits")
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 \
                and right * left.bit_length() > MAX_BITS:
            raise SecurityError(f"'{left} ** {right}' would be a number of more than {MAX_BITS:,} bits")
    elif operator == "+":
        if isinstance(left, sized) and isinstance(right, sized) and len(left) + len(right) > MAX_LENGTH:
            raise SecurityError(f"'… + …' would build more than {MAX_LENGTH:,} characters or items")
    elif operator == "%" and isinstance(left, str):
        raise SecurityError("formatting with '%' (use the number, signed or percent filter)")


class _Environment(ImmutableSandboxedEnvironment):
    """No attribute that starts with an underscore, on anything; no calls; bounded operations."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def is_safe_attribute(self, obj, attr, value):
        if attr.startswith("_"):
            return False
        if isinstance(obj, IndicatorView) and attr not in IndicatorView._fields:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def getattr(self, obj, attribute):
        _in_time()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        _in_time()
        return super().getitem(obj, argument)

    def call_binop(self, context, operator, left, right):
        _in_time()
        _bounded(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
        raise SecurityError("calling a method or function (a narrative reads values and applies filters)")


@functools.cache
def environment(lang: str = "en") -> _Environment:
    """The sandbox for one language, with formatting filters that follow its locale:
    `{{ ind.gini.value | number(1) }}`, `{{ ind.gini.gap_value | signed(1) }}`, `{{ x | percent(1) }}`,
    `{{ ind.informal_employment.value | proportion }}` ("two thirds")."""
    # The output is Markdown, escaped by the Markdown renderer below, so Jinja does not escape.
    env = _Environment(undefined=StrictUndefined, autoescape=False)
    env.globals.clear()
    fmt = Lang(lang)
    env.filters["number"] = lambda value, decimals=0: fmt.number(value, _decimals(decimals))
    env.filters["signed"] = lambda value, decimals=0: fmt.number(value, _decimals(decimals), sign=True)
    env.filters["percent"] = lambda value, decimals=1: fmt.with_unit(fmt.number(value, _decimals(decimals)),
                                                                     "percent")
    env.filters["proportion"] = lambda value: fmt.proportion(float(value))
    env.filters = {name: env.filters[name] for name in FILTERS}  # no center(10**9), no format
    return env


FILTERS = ("number", "signed", "percent", "proportion", "abs", "round", "lower", "upper", "capitalize", "default")


def _decimals(value: Any) -> int:
    decimals = int(value)
    if not 0 <= decimals <= MAX_DECIMALS:
        raise SecurityError(f"{decimals} decimals asked for; use 0 to {MAX_DECIMALS}")
    return decimals


@functools.lru_cache(maxsize=1)
def markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})
    md.disable(["image", "link", "autolink", "html_inline", "html_block", "reference"])
    return md


FORBIDDEN_TAGS = "include, import, extends, from, macro, call, block, set, with, for"


def _forbidden(tree) -> list[str]:
    from jinja2 import nodes

    kinds = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends, nodes.Macro, nodes.CallBlock,
             nodes.Block, nodes.Assign, nodes.AssignBlock, nodes.With, nodes.For)
    return sorted({type(node).__name__.lower() for node in tree.find_all(kinds)})


def _too_long(text: str, where: Where) -> Problem | None:
    if len(text) <= MAX_SOURCE:
        return None
    return Problem(where.file, where.line, f"a narrative block of {len(text):,} characters (at most {MAX_SOURCE:,})",
                   "split it into several blocks, or shorten it")


@functools.lru_cache(maxsize=1024)
def _compiled_block(lang: str, text: str) -> tuple[list[str], Any]:
    """A block's forbidden tags, and the block compiled when it has none: a batch renders each
    configured block once a document, and compiles it once."""
    env = environment(lang)
    tree = env.parse(text)
    refused = _forbidden(tree)
    return refused, None if refused else env.from_string(tree)


@functools.lru_cache(maxsize=1024)
def _compiled_condition(lang: str, expression: str) -> Any:
    return environment(lang).compile_expression(expression, undefined_to_none=False)


def _render(template: Any, context: dict) -> str:
    """Render within the output and time limits, stopping as soon as either is passed."""
    out: list[str] = []
    size = 0
    for chunk in template.generate(**context):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise SecurityError(f"it would print more than {MAX_OUTPUT:,} characters")
        _in_time()
        out.append(chunk)
    return "".join(out)


def render_block(text: str, context: dict, where: Where, lang: str = "en") -> Markup:
    """A narrative block: Jinja in the sandbox, then Markdown without HTML, links or images."""
    too_long = _too_long(text, where)
    if too_long:
        raise UserError(too_long)
    deadline = _deadline.set(time.monotonic() + MAX_SECONDS)
    try:
        refused, template = _compiled_block(lang, text)
        if refused:
            raise UserError(Problem(where.file, where.line, f"not allowed in a narrative: {', '.join(refused)}",
                                    "a narrative may only read ind.<code>.<field> and country, with {% if %}"))
        source = _render(template, context)
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
    except (RecursionError, MemoryError):
        raise UserError(Problem(where.file, where.line, "in a narrative: the block nests too deeply",
                                "write simpler expressions")) from None
    finally:
        _deadline.reset(deadline)
    return Markup(markdown().render(source))


def condition_holds(expression: str, context: dict, where: Where, lang: str = "en") -> bool:
    too_long = _too_long(expression, where)
    if too_long:
        raise UserError(too_long)
    deadline = _deadline.set(time.monotonic() + MAX_SECONDS)
    try:
        return bool(_compiled_condition(lang, expression)(**context))
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
    except (RecursionError, MemoryError):
        raise UserError(Problem(where.file, where.line, "in a condition: the expression nests too deeply",
                                "write a simpler condition")) from None
    finally:
        _deadline.reset(deadline)


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


# The same change, opening with its period, for a sentence that follows one with the same verb:
# "Between 2015 and 2025, the unemployment rate of men fell from 5.9% to 2.1%".
PERIOD_SENTENCES = {
    ("fell", "m"): Np_("m", "Between {start_year} and {year}, {indicator} fell from {start} to {value}"),
    ("fell", "f"): Np_("f", "Between {start_year} and {year}, {indicator} fell from {start} to {value}"),
    ("fell", "n"): Np_("n", "Between {start_year} and {year}, {indicator} fell from {start} to {value}"),
    ("fell", "pl"): Np_("pl", "Between {start_year} and {year}, {indicator} fell from {start} to {value}"),
    ("rose", "m"): Np_("m", "Between {start_year} and {year}, {indicator} rose from {start} to {value}"),
    ("rose", "f"): Np_("f", "Between {start_year} and {year}, {indicator} rose from {start} to {value}"),
    ("rose", "n"): Np_("n", "Between {start_year} and {year}, {indicator} rose from {start} to {value}"),
    ("rose", "pl"): Np_("pl", "Between {start_year} and {year}, {indicator} rose from {start} to {value}"),
}


# The horizons a generated sentence states a change over, in order of preference: about ten years,
# else about five.
SENTENCE_HORIZONS = (10, 5)
# The verb a sentence prints for the direction of the change it states.
VERBS = {"rising": "rose", "falling": "fell", "stable": "stable"}


def _template(lang: Lang, verb: str, gender: str, period_first: bool = False) -> str:
    """The sentence for a verb, agreeing with its subject. English has no catalog, so its plural
    ("earnings were") is made here."""
    if period_first and (verb, gender) in PERIOD_SENTENCES:
        # in lower case, for a sentence that follows "No recent data are available: "; capitalised at the end
        text = lang.pgettext(*PERIOD_SENTENCES[(verb, gender)])
        return text[:1].lower() + text[1:]
    context, template = SENTENCES[(verb, gender)]
    text = lang.pgettext(context, template)
    return text.replace(" was ", " were ") if lang.code == "en" and gender == "pl" else text


@dataclass(frozen=True)
class Statement:
    """A generated sentence and the change it states (None when it states only the level)."""

    text: str
    change: Change | None
    ranked: bool = False  # whether it states the rank among the peers
    period_first: bool = False  # whether it opens with the period of its change


def sentence_change(stat: Stat) -> Change | None:
    """The change a generated sentence states: the first of `SENTENCE_HORIZONS` the data allow."""
    return next((c for c in map(stat.change, SENTENCE_HORIZONS) if c is not None), None)


def statement(code: str, stat: Stat, catalog: Catalog, lang: Lang, country: str, peer_label: str,
              rank_among: bool = True, period_first: bool = False) -> Statement:
    """One sentence on one indicator: level, change over about ten (or five) years, place among peers.

    `rank_among`: say among whom the rank is ("rank 4 of 11 in the peer group"); the sentences after
    the first that does so say only "rank 2 of 11". `period_first`: open a change with its period
    ("Between 2015 and 2025, …"), so that sentences in a row do not all open alike.

    The verb is the direction of the `Change` it states, as computed in `compute`; the statement
    returns that change so that its record carries exactly the direction printed. An indicator
    without data has no sentence: a document names it once, in its notes.
    """
    ind = catalog[code]
    if not stat.has_data:
        raise ValueError(f"{code} has no data: name it in the notes, not in a sentence")
    subject = lang.phrase(ind)
    gender = lang.gender(ind)
    _ = lang.gettext
    value = lang.value(stat.value, ind)
    ranked = False
    change = sentence_change(stat) if ind.prices != "current" else None  # see `in_current_prices`
    if change is not None:
        text = _template(lang, VERBS[change.direction], gender, period_first).format(
            indicator=subject, value=value, year=stat.year, start=lang.value(change.base.value, ind),
            start_year=change.base.year)
    else:
        text = _template(lang, "was", gender).format(indicator=subject, value=value, year=stat.year)
        text += in_current_prices(ind, lang)
    if stat.peers is not None and stat.position is not None:
        median = lang.value(stat.peers.median, ind)
        if stat.position == "similar":
            text += _(", close to the peer median of {median}").format(median=median)
        elif stat.gap is not None and stat.gap < 0:  # a position implies a gap
            text += _(", below the peer median of {median}").format(median=median)
        else:
            text += _(", above the peer median of {median}").format(median=median)
        if stat.rank is not None and ind.direction != "neutral":
            rank = _(" (rank {rank} of {n} in the peer group)") if rank_among else _(" (rank {rank} of {n})")
            text += rank.format(rank=stat.rank, n=stat.rank_of)
            ranked = True
    text = _capital(dated(text, stat, lang)) + "."
    opened = period_first and change is not None and (VERBS[change.direction], gender) in PERIOD_SENTENCES
    return Statement(text, change, ranked, opened)


def in_current_prices(ind: Indicator, lang: Lang) -> str:
    """What a sentence on a money amount in current (nominal) prices adds to its level.

    Such a series states no change: over ten years most of it may be inflation, and the data hold
    no price index to take it out, so the sentence gives the level and says in which prices."""
    return lang.gettext(" in current prices") if ind.prices == "current" else ""


def dated(text: str, stat: Stat, lang: Lang) -> str:
    """A sentence on a value older than the staleness threshold says so once, before the finding
    (whose own year says how old), so that an old figure never reads as a current one."""
    if not stat.stale:
        return text
    return lang.gettext("no recent data are available: {finding}").format(finding=text)


def _costly(tree: Any) -> list[tuple[str, str]]:
    """What the sandbox would refuse at render time and can be seen already (message, hint): calls,
    and a text, list or number grown by a constant beyond the limits (`{{ country * 40000000 }}`)."""
    from jinja2 import nodes

    found = []
    if any(True for _ in tree.find_all(nodes.Call)):
        found.append(("not allowed in a narrative: calling a method or function",
                      "a narrative reads ind.<code>.<field> and country, and applies filters"))
    for node in tree.find_all((nodes.Mul, nodes.Pow)):
        for operand in (node.left, node.right):
            value = operand.value if isinstance(operand, nodes.Const) else None
            if isinstance(value, int) and (value > MAX_LENGTH or (isinstance(node, nodes.Pow) and value > 64)):
                op = "*" if isinstance(node, nodes.Mul) else "**"
                found.append((f"in a narrative: '{op} {value}' would build a text, list or number beyond the "
                              f"limits (at most {MAX_LENGTH:,} characters or items)",
                              "a narrative prints values; it does not generate text"))
    return found


@dataclass(frozen=True)
class _Reading:
    """What a block's syntax tree holds that `check_block` checks, in the tree's order: worked out once
    per text, as every country inheriting a block from the shared defaults checks the same text."""

    forbidden: tuple[str, ...]
    costly: tuple[tuple[str, str], ...]
    references: tuple[tuple[str, Any], ...]  # ("ind", code) or ("field", name)
    filters: tuple[str, ...]
    names: tuple[str, ...]  # names read, other than those a narrative may read


@functools.lru_cache(maxsize=512)
def _reading(text: str) -> _Reading:
    from jinja2 import nodes

    tree: Any = environment().parse(text)  # once per text (see `_Reading`)
    references: list[tuple[str, Any]] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        inner = node.node
        if isinstance(inner, nodes.Name) and inner.name == "ind":
            code = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
            references.append(("ind", code))
        elif isinstance(inner, (nodes.Getattr, nodes.Getitem)) and isinstance(inner.node, nodes.Name) \
                and inner.node.name == "ind" and isinstance(node, nodes.Getattr):
            references.append(("field", node.attr))
    return _Reading(tuple(_forbidden(tree)), tuple(_costly(tree)), tuple(references),
                    tuple(node.name for node in tree.find_all(nodes.Filter)),
                    tuple(name.name for name in tree.find_all(nodes.Name)
                          if name.ctx == "load" and name.name not in ("ind", "country", "cluster")))


def check_block(text: str, where: Where, document_codes: set[str], catalog: Catalog) -> list[Problem]:
    """Static check of a narrative block: Jinja syntax, and every `ind.<code>.<field>` it reads.

    Run when configs are validated, so that a misspelt reference stops the build with exit 2 and
    the file and line, instead of failing one document at render time.
    """
    from jinja2 import TemplateSyntaxError

    from .errors import did_you_mean

    too_long = _too_long(text, where)
    if too_long:
        return [too_long]
    try:
        reading = _reading(text)
    except TemplateSyntaxError as exc:
        line = where.line + (exc.lineno or 1) - 1 if where.line else None
        return [Problem(where.file, line, f"in a narrative: {exc.message}",
                        "only {{ … }} references and {% if %} blocks are allowed")]
    except (RecursionError, MemoryError):
        return [Problem(where.file, where.line, "in a narrative: the block nests too deeply",
                        "write simpler expressions")]
    problems = []
    if reading.forbidden:
        problems.append(Problem(where.file, where.line, f"not allowed in a narrative: {', '.join(reading.forbidden)}",
                                "a narrative may only read ind.<code>.<field> and country, with {% if %}"))
    problems += [Problem(where.file, where.line, message, hint) for message, hint in reading.costly]
    for kind, name in reading.references:
        if kind == "ind" and name not in document_codes:
            hint = (did_you_mean(str(name), catalog.indicators) or "see config/indicators.yaml") \
                if name not in catalog else "add it to one of the document's sections"
            problems.append(Problem(where.file, where.line, f"in a narrative: unknown indicator '{name}'", hint))
        elif kind == "field" and name not in IndicatorView._fields:
            problems.append(Problem(where.file, where.line, f"in a narrative: unknown field '{name}'",
                                    did_you_mean(name, IndicatorView._fields)
                                    or "fields: " + ", ".join(IndicatorView._fields)))
    for name in reading.filters:
        if name not in FILTERS:
            problems.append(Problem(where.file, where.line, f"in a narrative: unknown filter '{name}'",
                                    did_you_mean(name, FILTERS) or "filters: " + ", ".join(FILTERS)))
    for name in reading.names:
        problems.append(Problem(where.file, where.line, f"in a narrative: unknown name '{name}'",
                                "a narrative may read ind.<code>.<field>, country and cluster"))
    return problems

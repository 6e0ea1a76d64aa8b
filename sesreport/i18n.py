"""Languages: translated text through gettext catalogs, numbers and dates by locale through Babel.

Catalogs live in `sesreport/locale/<lang>/LC_MESSAGES/messages.po`, the files a translator edits;
they are compiled in memory when first used, so there is no build step and no binary in the
repository. English is the source language and needs no catalog.
"""

from __future__ import annotations

import datetime
import functools
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from .catalog import Indicator

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
GENDERS = ("m", "f", "n", "pl")
# CLDR's minimum grouping digits: Spanish writes 1104 but 11 040 (Babel does not apply this rule)
MIN_GROUPING = {"es": 2}


def N_(message: str) -> str:
    """Mark a string for translation where it is defined; it is translated where it is used."""
    return message


def Np_(context: str, message: str) -> tuple[str, str]:
    """Mark a string with a context (e.g. a grammatical gender) for translation."""
    return context, message


# The World Bank's region and income group names, as printed in documents.
REGIONS = [N_("East Asia & Pacific"), N_("Europe & Central Asia"), N_("Latin America & Caribbean"),
           N_("Middle East & North Africa"), N_("North America"), N_("South Asia"), N_("Sub-Saharan Africa")]
INCOME_GROUPS = {
    "High income": N_("high-income economies"),
    "Upper middle income": N_("upper-middle-income economies"),
    "Lower middle income": N_("lower-middle-income economies"),
    "Low income": N_("low-income economies"),
}


# Proportions in words: the fractions a writer rounds a percentage to, and the words for each when
# the value is that fraction (within PROPORTION_TOLERANCE points), just below it or above it. The
# context "proportion" lets each language write the whole phrase, so that case and article agree
# ("more than half" is "более половины", "plus de la moitié").
PROPORTION_TOLERANCE = 1.5
PROPORTIONS: list[tuple[float, tuple[str, str], tuple[str, str], tuple[str, str]]] = [
    # share (%), about, nearly (less than, below the smallest), more than
    (10.0, Np_("proportion", "a tenth"), Np_("proportion", "less than a tenth"),
     Np_("proportion", "more than a tenth")),
    (20.0, Np_("proportion", "a fifth"), Np_("proportion", "nearly a fifth"),
     Np_("proportion", "more than a fifth")),
    (25.0, Np_("proportion", "a quarter"), Np_("proportion", "nearly a quarter"),
     Np_("proportion", "more than a quarter")),
    (100 / 3, Np_("proportion", "a third"), Np_("proportion", "nearly a third"),
     Np_("proportion", "more than a third")),
    (50.0, Np_("proportion", "half"), Np_("proportion", "nearly half"),
     Np_("proportion", "more than half")),
    (200 / 3, Np_("proportion", "two thirds"), Np_("proportion", "nearly two thirds"),
     Np_("proportion", "more than two thirds")),
    (75.0, Np_("proportion", "three quarters"), Np_("proportion", "nearly three quarters"),
     Np_("proportion", "more than three quarters")),
    (80.0, Np_("proportion", "four fifths"), Np_("proportion", "nearly four fifths"),
     Np_("proportion", "more than four fifths")),
    (90.0, Np_("proportion", "nine tenths"), Np_("proportion", "nearly nine tenths"),
     Np_("proportion", "more than nine tenths")),
]


def proportion_words(share: float) -> str:
    """The English words a writer would use for a share in per cent: 68.1 → "two thirds",
    55 → "more than half", 72 → "nearly three quarters" (translated in context "proportion")."""
    if not 0 <= share <= 100:
        raise ValueError(f"a proportion is a share from 0 to 100, not {share:g}")
    fraction, about, nearly, more = min(PROPORTIONS, key=lambda p: (abs(share - p[0]), p[0]))
    if abs(share - fraction) <= PROPORTION_TOLERANCE:
        return about[1]
    return (nearly if share < fraction else more)[1]


# The words that end the head of an English noun phrase ("the share | of …", "life expectancy | at birth")
_PHRASE_TAIL = re.compile(r" (?:of|among|at|per|in|for|outside|on|with|receiving)\b| \(|,")


def english_plural(phrase: str) -> bool:
    """Whether an English indicator phrase is plural, from the last word of its head: "women's average
    monthly earnings" (plural), "the share of informal employment" (singular)."""
    head = _PHRASE_TAIL.split(phrase, maxsplit=1)[0].split()
    word = head[-1] if head else ""
    return word.endswith("s") and not word.endswith(("ss", "'s", "’s")) and not word.isupper()


@functools.cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog for a language (English: the identity)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not po.is_file():
        return NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def round_half_away(value: float, decimals: int) -> float:
    """Round as statisticians print: half away from zero, on the decimal digits shown."""
    quantum = 10.0 ** decimals
    return math.copysign(math.floor(abs(value) * quantum + 0.5 + 1e-9) / quantum, value)


@dataclass(frozen=True)
class Lang:
    """Formatting and translation for one document language."""

    code: str

    @functools.cached_property
    def locale(self) -> Locale:
        # English documents follow British usage, as the ILO does: "27 November 2026", "labour"
        return Locale.parse("en_GB" if self.code == "en" else self.code)

    @functools.cached_property
    def _t(self) -> NullTranslations:
        return translations(self.code)

    def gettext(self, message: str) -> str:
        return self._t.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        # Babel declares `str | object` (its lookup sentinel never escapes)
        return cast(str, self._t.pgettext(context, message))

    def proportion(self, share: float) -> str:
        """A share in per cent in words, as this language writes it: "two thirds", "более половины"."""
        return self.pgettext("proportion", proportion_words(share))

    def join(self, items: list[str]) -> str:
        """Items joined as this language writes a list: "a, b and c", "a, b et c", "a, b и c"."""
        return format_list(items, locale=self.locale) if items else ""

    def mid_sentence(self, label: str) -> str:
        """A label as it reads inside a sentence: "Representation security" → "representation security".
        A first word in capitals (an acronym: "GDP per capita") keeps them."""
        first = label.split(" ", 1)[0]
        if len(first) > 1 and first[1:2].isupper():
            return label
        return label[:1].lower() + label[1:]

    def gender(self, ind: Indicator) -> str:
        """Grammatical gender and number of the indicator's phrase in this language (m, f, n, pl).

        Translators give it in the catalog as the translation of the English phrase in context
        "gender"; English needs none.
        """
        english = ind.phrase.get("en") or ind.label["en"]
        if self.code == "en":  # only the verb's number: "earnings were", "the rate was"
            return "pl" if english_plural(english) else "m"
        value = self._t.pgettext("gender", english)
        return value if value in GENDERS else "m"

    # ------------------------------------------------------------------ numbers

    def number(self, value: float | None, decimals: int = 0, sign: bool = False) -> str:
        """A number as the language prints it: grouping and decimal marks by locale, a true minus sign.
        Each is formatted once a process (Babel takes a tenth of a millisecond; a brief prints hundreds)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        return _formatted(self, value, decimals, sign)

    @functools.cached_property
    def _percent_suffix(self) -> str:
        pattern = self.locale.percent_formats[None].pattern
        return "\u00a0%" if "\u00a0%" in pattern or " %" in pattern else "%"

    def value(self, value: float | None, ind: Indicator, unit: bool = True) -> str:
        """A value with its unit, as a reader expects it: 5.1%, 72.3 years, $3,870."""
        text = self.number(value, ind.decimals)
        if value is None or not unit:
            return text
        return self.with_unit(text, ind.unit)

    def with_unit(self, text: str, unit: str) -> str:
        if unit in ("percent", "percent_growth"):
            return text + self._percent_suffix
        if unit == "years":
            return text + "\u00a0" + self.years_word(text)
        if unit == "usd":
            return self.gettext("US${amount}").format(amount=text)
        if unit == "ppp_dollars":
            return self.gettext("PPP${amount}").format(amount=text)
        return text

    def years_word(self, shown: str) -> str:
        """'years' agreeing with the number as printed: 1 год, 3 года, 5 лет, 73,4 года."""
        digits = shown.lstrip("+-\u2212")
        decimal = self.locale.number_symbols["latn"]["decimal"]
        if decimal in digits:
            number = float(digits.replace("\u00a0", "").replace("\u202f", "").replace(".", "").replace(",", ".")
                           if decimal == "," else digits.replace(",", ""))
            if self.locale.plural_form(number) == "one":  # French: 1,3 an
                return self.ngettext("year", "years", 1)
            return self.pgettext("fraction", "years")
        whole = int("".join(ch for ch in digits if ch.isdigit()) or 0)
        return self.ngettext("year", "years", whole)

    def change(self, value: float | None, ind: Indicator, unit: bool = True) -> str:
        """A change with its sign: +0.7 pp for percentages (percentage points), +1.2 years, …

        Without `unit` (in a table whose row names the unit) only percentages keep theirs,
        because a change in a percentage is in points, not per cent.
        """
        if value is None:
            return "–"
        text = self.number(value, ind.decimals, sign=True)
        if ind.unit == "percent":
            return text + "\u00a0" + self.gettext("pp")
        return self.with_unit(text, ind.unit) if unit else text

    def unit_label(self, ind: Indicator) -> str:
        """The unit as a column head or axis label.

        Rates per 10,000 or 100,000 state their base in the indicator's label, and a category
        is a code explained in the definition, so neither adds a unit of its own. A share of
        something else says of what, as the catalog's `unit_note` gives it ("% of GDP").
        """
        if ind.unit_note:
            return ind.unit_note.get(self.code) or self.gettext(ind.unit_note["en"])
        return {
            "percent": "%", "percent_growth": "%", "years": self.pgettext("unit", "years"),
            "usd": self.gettext("US$"), "ppp_dollars": self.gettext("PPP$"),
            "index": "", "score": self.gettext("score 0–1"), "ratio": self.gettext("ratio"),
            "per_10000": "", "per_100000": "", "category": "",
        }[ind.unit]

    def indicator_with_unit(self, ind: Indicator, short: bool = False) -> str:
        unit = self.unit_label(ind)
        return f"{self.indicator(ind, short)} ({unit})" if unit else self.indicator(ind, short)

    def ordinal(self, n: int) -> str:
        if self.code == "en":
            suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
            return f"{n}{suffix}"
        if self.code == "fr" and n == 1:
            return "1er"
        return self.gettext("{n}th").format(n=n)

    def country(self, iso3: str, english: str, overrides: dict[str, dict[str, str]] | None = None) -> str:
        """A country's name in this language: a configured name, else CLDR's (through Babel), else English."""
        if overrides and iso3 in overrides.get(self.code, {}):
            return overrides[self.code][iso3]
        if self.code == "en":
            return english
        import pycountry

        found = pycountry.countries.get(alpha_3=iso3)
        if found is not None:
            name = self.locale.territories.get(found.alpha_2)
            if name:
                return name
        return english

    def date(self, d: datetime.date) -> str:
        return format_date(d, format="long", locale=self.locale)

    def month(self, d: datetime.date) -> str:
        """Month and year as the language writes them: July 2026, julio de 2026, июль 2026 г."""
        return format_skeleton("yMMMM", d, locale=self.locale)

    # ------------------------------------------------------------------ names

    def indicator(self, ind: Indicator, short: bool = False) -> str:
        texts = ind.short if short and ind.short else ind.label
        if self.code in texts:
            return texts[self.code]
        return self.gettext(texts["en"])

    def phrase(self, ind: Indicator) -> str:
        """The indicator as it reads inside a sentence: "the unemployment rate of women"."""
        if self.code in ind.phrase:
            return ind.phrase[self.code]
        if "en" in ind.phrase:
            return self.gettext(ind.phrase["en"])
        return self.indicator(ind)

    def text(self, texts: dict[str, str], default: str = "") -> str:
        """A config text in this language, else its English translated through the catalog."""
        if not texts:
            return self.gettext(default) if default else ""
        if self.code in texts:
            return texts[self.code]
        return self.gettext(texts.get("en", default))


@functools.lru_cache(maxsize=100_000)
def _formatted(lang: Lang, value: float, decimals: int, sign: bool) -> str:
    """`Lang.number` of a number, worked out once a process in each language."""
    value = round_half_away(value, decimals)
    if value == 0:
        value = 0.0  # never print "-0.0"
    grouping = abs(value) >= 10 ** (3 + MIN_GROUPING.get(lang.code, 1) - 1)
    pattern = ("#,##0" if grouping else "0") + ("." + "0" * decimals if decimals else "")
    text = format_decimal(value, format=pattern, locale=lang.locale)
    if value < 0:
        text = "\u2212" + text.lstrip("-\u2212")
    elif sign and value > 0:
        text = lang.locale.number_symbols["latn"]["plusSign"] + text
    return text

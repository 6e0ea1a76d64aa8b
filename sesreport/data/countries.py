"""The World Bank classification and country_names.yaml in; the country reference (ISO3, names, regions) out.

It resolves the codes and names publishers use to ISO3 countries, or to aggregates kept apart.

Regions and income groups come from the World Bank `Metadata_Country` file of a declared vintage;
an entry with an empty region there is an aggregate (a region or income group), never a country.
Names as other publishers spell them ("Venezuela, Bolivarian Republic of", "Cape Verde",
"Micronesia (country)") resolve through that file, the ISO 3166 names shipped with pycountry and
the aliases in `config/country_names.yaml`.

When several classification files are present (the declared one, others its glob matches, or a
newer `Metadata_Country` file beside it), `choose_classification` takes the newest and says why.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pycountry

from ..errors import Problem, UserError, did_you_mean
from ..schema import Strict, register, validate
from ..yamlio import load_yaml


class NamesFile(Strict):
    aliases: dict[str, str] = {}
    codes: dict[str, str] = {}
    aggregates: tuple[str, ...] = ()
    display: dict[str, dict[str, str]] = {}  # language -> ISO3 -> name printed in documents


register(NamesFile)


def norm(name: str) -> str:
    """A name folded for matching: no accents, case, punctuation or leading 'the'."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("&", " and ")
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    text = re.sub(r"^the ", "", text)
    return text


@dataclass
class Resolution:
    kind: str  # "country", "aggregate" or "unknown"
    code: str


@dataclass
class CountryRef:
    """Countries and aggregates known from the World Bank classification and ISO 3166."""

    table: pd.DataFrame  # index iso3: name, region, income
    aggregate_codes: set[str]
    file: str | None = None
    vintage: str | None = None
    _names: dict[str, str] = field(default_factory=dict)
    _aggregate_names: set[str] = field(default_factory=set)
    _code_aliases: dict[str, str] = field(default_factory=dict)
    _spelling: dict[str, str] = field(default_factory=dict)
    display: dict[str, dict[str, str]] = field(default_factory=dict)
    choice: str = ""  # which of several classification files was used, and why ("" when only one)
    _cells: dict[str, tuple[str, str, str]] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(cls, meta: pd.DataFrame | None, names: NamesFile, file: str | None, vintage: str | None) -> CountryRef:
        if meta is not None and len(meta):
            countries = meta[meta["region"] != ""].set_index("iso3")[["name", "region", "income"]]
            aggregates = set(meta.loc[meta["region"] == "", "iso3"])
            aggregate_names = {norm(n) for n in meta.loc[meta["region"] == "", "name"]}
        else:
            countries = pd.DataFrame(columns=["name", "region", "income"], index=pd.Index([], name="iso3"))
            aggregates, aggregate_names = set(), set()
        ref = cls(countries.sort_index(), aggregates, file, vintage)
        ref._aggregate_names = aggregate_names | {norm(n) for n in names.aggregates}
        ref.display = {lang: dict(table) for lang, table in names.display.items()}
        ref._code_aliases = {k.upper(): v.upper() for k, v in names.codes.items()}
        # names from ISO 3166 first, so the World Bank's own spellings and the aliases override them
        for country in pycountry.countries:
            for attr in ("name", "official_name", "common_name"):
                value = getattr(country, attr, None)
                if value:
                    ref._add(value, country.alpha_3)
        for iso3, name in countries["name"].items():
            ref._add(name, iso3)
        for alias, iso3 in names.aliases.items():
            ref._add(alias, iso3.upper())
        return ref

    def _add(self, name: str, iso3: str) -> None:
        key = norm(name)
        self._names[key] = iso3
        self._spelling[key] = name

    def learn(self, code: str, name: str) -> None:
        """Remember a publisher's spelling of a known country's name (e.g. WDI's 'Country Name')."""
        if code in self.table.index and name and norm(name) not in self._names:
            self._add(name, code)

    def is_country(self, code: str) -> bool:
        return code in self.table.index

    def resolve_code(self, code: str, name: str = "") -> Resolution:
        code = code.strip().upper()
        code = self._code_aliases.get(code, code)
        if code in self.table.index:
            return Resolution("country", code)
        if code in self.aggregate_codes:
            return Resolution("aggregate", code)
        if code.startswith("OWID_") or (len(code) == 3 and code.startswith("X") and code[1:].isdigit()):
            return Resolution("aggregate", code)
        if pycountry.countries.get(alpha_3=code):
            return Resolution("country", code)
        if name:
            return self.resolve_name(name)
        return Resolution("unknown", code)

    def resolve_name(self, name: str) -> Resolution:
        key = norm(name)
        if key in self._names:
            return Resolution("country", self._names[key])
        if key in self._aggregate_names:
            return Resolution("aggregate", name)
        return Resolution("unknown", name)

    def suggest(self, name: str) -> str | None:
        hint = did_you_mean(norm(name), self._names)
        if hint:
            match = hint.split("'")[1]
            spelt = self._spelling.get(match, match)
            return f"did you mean '{spelt}' ({self._names[match]})? if so, add an alias in config/country_names.yaml"
        return "add it to config/country_names.yaml (aliases: for a country, aggregates: for a group)"

    def _row(self, iso3: str) -> tuple[str, str, str] | None:
        """A country's name, region and income group, from a dictionary made once from the table (a
        document asks for them hundreds of times; a DataFrame lookup costs thirty times as much)."""
        if self._cells is None:
            self._cells = {code: (str(name), str(region), str(income)) for code, name, region, income
                           in self.table[["name", "region", "income"]].itertuples()}
        return self._cells.get(iso3)

    def name(self, iso3: str) -> str:
        row = self._row(iso3)
        if row is not None:
            return row[0]
        country = pycountry.countries.get(alpha_3=iso3)
        return country.name if country else iso3

    def region(self, iso3: str) -> str:
        row = self._row(iso3)
        return row[1] if row is not None else ""

    def income(self, iso3: str) -> str:
        row = self._row(iso3)
        return row[2] if row is not None else ""


def load_names(path: Path) -> NamesFile:
    if not path.is_file():
        return NamesFile()
    located = load_yaml(path)
    model, problems = validate(NamesFile, located)
    if problems:
        raise UserError(problems)
    assert model is not None
    return model


def unknown_name_problem(ref: CountryRef, file: str, line: int, name: str, rows: int) -> Problem:
    extra = f" ({rows} rows)" if rows > 1 else ""
    return Problem(file, line, f"unknown country or area '{name}'{extra}; its rows were set aside",
                   ref.suggest(name), "warning")


@dataclass(frozen=True)
class Classification:
    """The classification file chosen among those present, with its vintage and the reason."""

    path: Path
    vintage: date | None
    note: str  # "" when there was no choice to make


_FILENAME_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_LAST_UPDATED = re.compile(r'^"?Last Updated Date"?,"?(\d{4}-\d{2}-\d{2})"?', re.MULTILINE)


def choose_classification(files: list[Path], declared: date | None, data_dir: Path) -> Classification:
    """The newest World Bank classification file among those the declared path (or glob) matched
    (`files`, not empty) and any other `Metadata_Country` file beside them.

    A file's vintage is the one sources.yaml declares for it (when its path names one file), else
    a date in its name or the "Last Updated Date" of the WDI download it came with. A declared file
    whose vintage cannot be told is kept: nothing shows another to be newer."""
    candidates = set(files)
    for folder in {p.parent for p in files}:
        candidates |= {p for p in folder.glob("Metadata_Country_*.csv") if p.is_file() and not p.is_symlink()}
    dated = []
    for path in sorted(candidates):
        found: date | None
        source: str | None
        if declared is not None and path in files and len(files) == 1:
            found, source = declared, "sources.yaml"
        else:
            found, source = _stated_vintage(path)
        dated.append((found, path in files, path, source))
    # an undated file that sources.yaml names is trusted over dated ones: nothing shows them newer
    dated.sort(key=lambda d: (d[0] or (date.max if d[1] else date.min), d[1], d[2].name))
    vintage, _, chosen, source = dated[-1]
    if len(dated) == 1:
        return Classification(chosen, vintage, "")

    def shown(d: tuple) -> str:
        when = f"{d[0].isoformat()}, {d[3]}" if d[0] else "vintage unknown"
        return f"{_relative(d[2], data_dir)} ({when})"

    why = "the newest is used" if vintage else "the one sources.yaml names is used (no other is known to be newer)"
    others = "; ".join(shown(d) for d in reversed(dated[:-1]))
    note = f"{len(dated)} classification files; {why}: {shown(dated[-1])}; not used: {others}"
    return Classification(chosen, vintage, note)


def _stated_vintage(path: Path) -> tuple[date | None, str | None]:
    """A classification file's date: in its name, or the "Last Updated Date" of the WDI download it
    came with (Metadata_Country_API_X_DS2_… beside API_X_DS2_…)."""
    match = _FILENAME_DATE.search(path.name)
    if match:
        try:
            return date(*map(int, match.groups())), "file name"
        except ValueError:
            pass
    if path.name.startswith("Metadata_Country_"):
        pair = path.with_name(path.name.removeprefix("Metadata_Country_"))
        if pair.is_file() and not pair.is_symlink():
            with pair.open("rb") as fh:
                head = fh.read(1000).decode("utf-8-sig", errors="replace")
            found = _LAST_UPDATED.search(head)
            if found:
                return date.fromisoformat(found.group(1)), f"from {pair.name}"
    return None, None


def _relative(path: Path, data_dir: Path) -> str:
    try:
        return str(path.relative_to(data_dir))
    except ValueError:
        return path.name

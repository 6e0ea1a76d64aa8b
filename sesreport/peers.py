"""Peer groups: from a country, its peer rule and the World Bank classification (plus GDP per capita
for the nearest-neighbour rule) to the peer countries and the rule that chose them.

Rules (`group:` in a country config):

- `region_income`: the other countries of the same region and the same income group (the default);
- `nearest`: the `size` countries of the same region closest in GDP per capita (PPP), measured as
  the distance between logarithms, so that 5,000 is as far from 10,000 as 10,000 from 20,000;
- `region`, `income`: every other country of the region, or of the income group;
- `list`: the countries listed in the config, as they are.

GDP per capita for `nearest`: the country's latest value up to the document's year sets the
reference year; each other country of the region counts with its latest value at most `window`
years older than that. A country of the region without such a value cannot be placed and is left
out (`no_gdp` names it). Ties in distance (equal to nine decimals) go to the ISO3 code first in
alphabetical order, so the same data always give the same peers.

A rule that gives fewer than `min_peers` countries (for `nearest`, fewer than `min(size,
min_peers)`), or that cannot be applied (`nearest` for a country without GDP per capita), gives
way to the next in `FALLBACK`: region_income → nearest → region; nearest → region_income → region;
region → income. An explicit list is used as it is. When every rule falls short, the one that gave
the most countries is used. `PeerGroup.short` records each rule passed over and how many countries it gave.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

RULES = ("region_income", "nearest", "region", "income", "list")
FALLBACK: dict[str, tuple[str, ...]] = {
    "region_income": ("nearest", "region"),
    "nearest": ("region_income", "region"),
    "region": ("income",),
    "income": (),
    "list": (),
}
MIN_PEERS = 5  # used when the config sets no `min_peers`


@dataclass(frozen=True)
class PeerGroup:
    """The peers of one country and how they were chosen."""

    countries: tuple[str, ...]  # sorted by ISO3 (for `nearest`, by closeness first)
    rule: str  # the rule that gave `countries`
    asked: str  # the rule the config asks for
    short: tuple[tuple[str, int], ...] = ()  # each rule passed over, with the number of countries it gave
    min_peers: int = MIN_PEERS
    region: str = ""
    income: str = ""
    gdp_year: int | None = None  # `nearest`: the year of the country's own GDP per capita
    gdp: tuple[dict, ...] = ()  # `nearest`: the country's and each peer's GDP observation (file, line)
    no_gdp: tuple[str, ...] = ()  # `nearest`: countries of the region left out for want of GDP per capita

    def record(self) -> dict:
        """The rule and its inputs as recorded in a document's figures."""
        return {"countries": list(self.countries), "rule": self.rule, "asked": self.asked,
                "passed_over": [{"rule": r, "countries": n} for r, n in self.short],
                "min_peers": self.min_peers, "region": self.region, "income": self.income,
                "gdp_year": self.gdp_year, "gdp": list(self.gdp), "no_gdp": list(self.no_gdp)}


@dataclass(frozen=True)
class _Found:
    """What one rule gives; `applies` is False when it cannot be used for the country."""

    rule: str
    applies: bool
    countries: tuple[str, ...] = ()
    gdp_year: int | None = None
    gdp: tuple[dict, ...] = ()
    no_gdp: tuple[str, ...] = ()


def peers_of(iso3: str, group: str, countries: pd.DataFrame | dict[str, tuple[str, str]],
             listed: tuple[str, ...] = (), *, gdp: pd.DataFrame | None = None, up_to: int = 9999, window: int = 5,
             size: int = 10, min_peers: int = MIN_PEERS) -> PeerGroup:
    """The peers of `iso3` (itself excluded) under rule `group`, falling back as the module says.

    `countries` is the classification table (index iso3; columns region, income), or what
    `country_classes` makes of it (a build asks for a hundred countries' peers); `gdp` the headline
    series of GDP per capita, PPP (iso3, year, value and provenance).
    """
    classes = countries if isinstance(countries, dict) else country_classes(countries)
    tried: list[_Found] = []
    for rule in (group, *FALLBACK[group]):
        found = _apply(rule, iso3, classes, listed, gdp, up_to, window, size)
        tried.append(found)
        if rule == "list" or len(found.countries) >= (min(size, min_peers) if rule == "nearest" else min_peers):
            used = found
            break
    else:  # every rule falls short: the one that gave the most countries (the first of equals)
        used = max(tried, key=lambda f: len(f.countries))
    short = tuple((f.rule, len(f.countries)) for f in tried if f is not used)
    region, income = classes.get(iso3, ("", ""))
    return PeerGroup(used.countries, used.rule, group, short, min_peers, region, income, used.gdp_year, used.gdp,
                     used.no_gdp)


def country_classes(countries: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Each country's region and income group ("" where the table has none), in the table's order: the
    rules compare them in a dictionary, not in the table's columns of Arrow strings (a comparison of
    a column and a boolean mask per rule and country took most of a hundred countries' peers)."""
    def text(value: object) -> str:
        return value if isinstance(value, str) else ""

    return {str(iso3): (text(region), text(income)) for iso3, region, income
            in zip(countries.index.tolist(), countries["region"].tolist(), countries["income"].tolist())}


def _apply(rule: str, iso3: str, classes: dict[str, tuple[str, str]], listed: tuple[str, ...],
           gdp: pd.DataFrame | None, up_to: int, window: int, size: int) -> _Found:
    """One rule's countries."""
    if rule == "list":
        return _Found(rule, True, tuple(c for c in listed if c != iso3))
    region, income = classes.get(iso3, ("", ""))
    if rule == "nearest":
        return nearest(iso3, sorted(c for c, (r, _) in classes.items() if r == region) if region else [], gdp,
                       up_to, window, size)
    compared = {"region": (0,), "income": (1,), "region_income": (0, 1)}[rule]  # region, income or both
    own = (region, income)
    if not all(own[k] for k in compared):
        return _Found(rule, False)
    return _Found(rule, True, tuple(sorted(c for c, cls in classes.items()
                                           if c != iso3 and all(cls[k] == own[k] for k in compared))))


def nearest(iso3: str, candidates: list[str], gdp: pd.DataFrame | None, up_to: int, window: int,
            size: int) -> _Found:
    """The `size` candidates closest to `iso3` in log GDP per capita, as the module docstring says."""
    if gdp is None or not len(gdp):
        return _Found("nearest", False)
    rows = gdp[gdp["iso3"].isin([iso3, *candidates]) & (gdp["year"] <= up_to) & (gdp["value"] > 0)]
    rows = rows.sort_values(["iso3", "year"], kind="stable")
    own = rows[rows["iso3"] == iso3]
    if not len(own):
        return _Found("nearest", False)
    mine = own.iloc[-1]
    year = int(mine["year"])
    usable = rows[(rows["year"] <= year) & (rows["year"] >= year - window)]
    latest = usable.groupby("iso3", sort=True).tail(1).set_index("iso3")
    others = latest.drop(index=iso3, errors="ignore")
    distance = (np.log(others["value"].astype(float)) - np.log(float(mine["value"]))).abs()
    # distances equal to nine decimals are ties (log 20,000 − log 10,000 = log 10,000 − log 5,000)
    chosen = tuple(sorted(distance.index, key=lambda c: (round(float(distance[c]), 9), c))[:size])
    return _Found("nearest", True, chosen, year, tuple([_ref(mine)] + [_ref(latest.loc[c], c) for c in chosen]),
                  tuple(sorted(c for c in candidates if c != iso3 and c not in latest.index)))


def _ref(row: pd.Series, iso3: str | None = None) -> dict:
    """A GDP observation as figures record it (see `compute.Obs.ref`)."""
    return {"iso3": iso3 or str(row["iso3"]), "year": int(row["year"]), "value": float(row["value"]),
            "source": str(row["source_id"]), "code": str(row["source_code"]), "vintage": str(row["vintage"]),
            "file": str(row["file"]), "line": int(row["line"])}

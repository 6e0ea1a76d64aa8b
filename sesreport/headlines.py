"""Editorial rules for headline positions: from a document's statistics to what may head it.

In: the statistics of a document (`Stat` per indicator), the catalog's subjects and the country's
situation. Out: which indicator each key figure shows, the order of a section's findings and
whether an advice block may be printed. Pure functions; the documents record what they decide.

A value older than the staleness threshold never heads a section or fills a key figure when a
current series on the same subject exists (the overall unemployment rate of 2018 gives way to the
rates of women and men of 2025); advice is not drawn from data older than the situation the
country is in (a survey of 2019 says nothing of Ukraine at war).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .catalog import Catalog
from .compute import Stat


def is_current(stat: Stat) -> bool:
    """A value exists and is within the staleness threshold."""
    return stat.has_data and not stat.stale


@dataclass(frozen=True)
class KeyFigure:
    """The indicator a key figure shows, and the configured one it stands in for (None: itself)."""

    code: str
    replaces: str | None = None


def key_figures(configured: Iterable[str], stat_of: Callable[[str], Stat], catalog: Catalog) -> list[KeyFigure]:
    """The configured key figures, each old or missing one replaced by the first current series on
    its subject that is not already shown (`Catalog.same_subject` order); kept when there is none."""
    configured = list(configured)
    shown = set(configured)
    out = []
    for code in configured:
        if is_current(stat_of(code)):
            out.append(KeyFigure(code))
            continue
        found = next((c for c in catalog.same_subject(code) if c not in shown and is_current(stat_of(c))), None)
        if found is None:
            out.append(KeyFigure(code))
        else:
            shown.add(found)
            out.append(KeyFigure(found, replaces=code))
    return out


def current_first(codes: Iterable[str], stats: dict[str, Stat]) -> list[str]:
    """Codes in their configured order, those with a current value first, then the old ones, then
    those without data: a section opens with a current finding whenever it has one."""
    def rank(code: str) -> int:
        s = stats[code]
        return 0 if is_current(s) else 1 if s.has_data else 2
    return sorted(codes, key=rank)


def predates(stat: Stat, since: int | None) -> bool:
    """The value is from before the year the country's situation began."""
    return since is not None and stat.year is not None and stat.year < since


def advice_holds(codes: Iterable[str], stats: dict[str, Stat], since: int | None) -> bool:
    """An advice block may be printed: no indicator it reads has a value older than the situation."""
    return not any(predates(stats[c], since) for c in codes if c in stats)

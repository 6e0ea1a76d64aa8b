"""The strategy input's figure records: from what its report and slides print to the records of `trace`.

In: the statistics, the monitoring framework's `Progress` rows and the text each rendering prints
(an option's evidence, a headline, a monitoring cell, the dashboard's headline). Out: one record per
printed number, as `trace` and `brief_figures` make them (observations, peers, configuration lines).
Both renderings share one `figures.json`; `Record` writes a record once for each time a rendering
prints it, with `rendering` ("report" or "slides") saying where.
"""

from __future__ import annotations

from typing import Any

from ..catalog import Indicator
from ..compute import Obs, Stat
from ..i18n import Lang
from ..strategy.config import LoadedStrategy
from ..strategy.monitoring import Progress
from .trace import composed, computed, configured, observed

REPORT, SLIDES = "report", "slides"


class Record:
    """The printed figures, once per rendering that prints them, and the observations the document
    cites (its sources and the newest release it names)."""

    def __init__(self) -> None:
        self.figures: list[dict] = []
        self.used: list[Obs] = []

    def add(self, entry: dict, *observations: Obs | None, to: tuple[str, ...] = (REPORT,)) -> None:
        self.figures += [{**entry, "rendering": rendering} for rendering in to]
        self.used += [o for o in observations if o is not None]

    def put(self, entries: list[dict], to: tuple[str, ...] = (REPORT,), **extra: Any) -> None:
        """Records that cite no source of their own (a chart label, a tile, a narrative block)."""
        for entry in entries:
            self.add({**entry, **extra}, to=to)


def value_year(what: str, text: str, obs: Obs, ind: Indicator, lang: Lang, **extra: Any) -> dict:
    """A text printing one observation's value and year ("12.6% (2018)", "Gini index: 33.0 in 2023");
    the observation is also the record's own, for the change log (which names its file)."""
    return composed(what, text, [observed("value", lang.value(obs.value, ind), obs),
                                 observed("year", str(obs.year), obs)], observation=obs.ref(), **extra)


def evidence(code: str, s: Stat, ind: Indicator, lang: Lang, text: str, section: str,
             listed: tuple[str, int | None]) -> dict:
    """An option's evidence: "<indicator>: <value> (<year>)", or "no data" (then the strategy file's
    line that lists the indicator)."""
    if s.latest is None:
        return configured("evidence", text, listed, indicator=code, section=section)
    return value_year("evidence", text, s.latest, ind, lang, indicator=code, section=section)


def status(tid: str, k: int, p: Progress, text: str, strategy: LoadedStrategy) -> dict:
    """A monitoring status ("off track"): the baseline and latest observations it compares, or, with
    neither, the strategy file's line of the target (the change log compares `status`)."""
    where = {"indicator": p.indicator, "section": tid, "status": p.status, "progress": p.ref()}
    observations = [o for o in (p.baseline, p.latest) if o is not None]
    if observations:
        return computed("monitoring status", text, observations, **where)
    return configured("monitoring status", text, strategy.line_of(("topics", tid, "monitoring", k)), **where)


def option_count(text: str, n: int, strategy: LoadedStrategy, tid: str) -> dict:
    """The options slide's headline "3 options for action": the options written in the strategy."""
    return composed("options", text, [configured("option count", str(n), strategy.line_of(("topics", tid, "options")),
                                                 value=n)], section=tid)


def dashboard_headline(text: str, on: int, measured: int, rows: list[tuple[str, int, Progress]],
                       strategy: LoadedStrategy) -> dict:
    """"{on} of {n} indicators with new data are on track": each count rests on the baseline and latest
    observations of the indicators it counts (with none, on the strategy's monitoring lists)."""
    def count(what: str, n: int, statuses: tuple[str, ...]) -> dict:
        counted = [p for _, _, p in rows if p.status in statuses]
        observations = [o for p in counted for o in (p.baseline, p.latest) if o is not None]
        if observations:
            return computed(what, str(n), observations, indicators=[p.indicator for p in counted])
        return configured(what, str(n), strategy.line_of(("topics",)))

    return composed("monitoring headline", text, [count("indicators on track", on, ("on_track",)),
                                                  count("indicators with new data", measured,
                                                        ("on_track", "off_track"))])


def monitoring_cells(tid: str, k: int, p: Progress, ind: Indicator, lang: Lang, row: dict,
                     strategy: LoadedStrategy) -> list[tuple[dict, tuple[str, ...]]]:
    """The numbers of one row of the monitoring framework, with the renderings that print each: the
    baseline and latest values (observations), the target (the strategy file's line), the path value
    (the report's annex only; it rests on the baseline and latest values and the target)."""
    at = ("topics", tid, "monitoring", k)
    where = {"indicator": p.indicator, "section": tid}
    target = configured("target", lang.value(p.target, ind), strategy.line_of(at + ("target",)), value=p.target)
    out: list[tuple[dict, tuple[str, ...]]] = [
        (composed("monitoring target", row["target"], [target, configured(
            "target year", str(p.target_year), strategy.line_of(at + ("target_year",)))], **where),
         (REPORT, SLIDES))]
    if p.baseline is not None:
        out.append((value_year("monitoring baseline", row["baseline"], p.baseline, ind, lang, year=p.baseline.year,
                               **where), (REPORT, SLIDES)))
    if p.latest is not None and row["latest"] != "–":
        out.append((value_year("monitoring latest", row["latest"], p.latest, ind, lang, year=p.latest.year,
                               **where), (REPORT, SLIDES)))
    if p.expected is not None and p.baseline is not None and p.latest is not None:
        out.append((computed("monitoring path value", row["expected"], [p.baseline, p.latest], value=p.expected,
                             config=target["config"], **where), (REPORT,)))
    return out

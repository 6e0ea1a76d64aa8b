"""The notes a document prints on the limits of its data: series breaks and the peer minimum.

In: the document's statistics (`compute.Stat`, with their breaks), the editorial rules
(`compute.Rules`) and where the config sets them. Out: the sentences, each with its figure record
(`trace`), so that the years of a break and the configured thresholds are traced like any number.
"""

from __future__ import annotations

from collections.abc import Callable

from ..breaks import Break
from ..catalog import Catalog
from ..compute import Rules, Stat, history_obs
from ..i18n import N_, Lang
from .trace import composed, configured, observed

REASONS = {
    "flag": N_("flagged by the publisher"),
    "source": N_("change of source"),
    "jump": N_("jump in level"),
}

LineOf = Callable[[tuple], tuple[str, int | None]]


def break_note(stat: Stat, catalog: Catalog, lang: Lang) -> tuple[str, dict] | None:
    """"Trade union density: series breaks between 2002 and 2003 (jump in level) and …" with its
    record (both years of each break, traced to their observations); None for a series without one."""
    if not stat.breaks:
        return None
    _ = lang.gettext
    ind = catalog[stat.indicator]
    places = [_("between {before} and {after} ({reason})").format(before=b.before, after=b.after,
                                                                  reason=_(REASONS[b.reason]))
              for b in stat.breaks]
    n = len(stat.breaks)
    text = lang.ngettext("%(indicator)s: series break %(breaks)s.", "%(indicator)s: series breaks %(breaks)s.",
                         n) % {"indicator": lang.indicator(ind), "breaks": lang.join(places)}
    return text, composed("series break note", text, [part for b in stat.breaks for part in _years(stat, b)],
                          indicator=stat.indicator, section="notes",
                          breaks=[{"before": b.before, "after": b.after, "reason": b.reason} for b in stat.breaks])


def _years(stat: Stat, brk: Break) -> list[dict]:
    out = []
    for what, year in (("year before the break", brk.before), ("year after the break", brk.after)):
        obs = history_obs(stat, year)
        assert obs is not None, (stat.indicator, year)  # a break lies between two of the series' observations
        out.append(observed(what, str(year), obs))
    return out


def break_notes(stats: dict[str, Stat], catalog: Catalog, lang: Lang) -> tuple[list[str], list[dict]]:
    """A note for each indicator of the document whose series breaks, in the document's order, then
    once what a break means."""
    notes, records = [], []
    for stat in stats.values():
        made = break_note(stat, catalog, lang) if stat.has_data else None
        if made is not None:
            notes.append(made[0])
            records.append(made[1])
    if notes:
        notes.append(lang.gettext("Values on either side of a break in series are not comparable: the charts draw "
                                  "no line and the text states no change across a break."))
    return notes, records


def peer_note(rules: Rules, lang: Lang, line_of: LineOf) -> tuple[str, dict]:
    """What a peer statistic needs (`Rules.min_peers`, `Rules.band_stability`), with its record."""
    share = lang.with_unit(lang.number(rules.band_stability * 100), "percent")
    text = lang.ngettext(
        "Peer medians, ranges and ranks are given only where at least %(num)d peer has data, and the shaded band "
        "of the charts only over years with as many peers, at least %(share)s of them the same as in its last year.",
        "Peer medians, ranges and ranks are given only where at least %(num)d peers have data, and the shaded band "
        "of the charts only over years with as many peers, at least %(share)s of them the same as in its last year.",
        rules.min_peers) % {"num": rules.min_peers, "share": share}
    return text, composed("peer minimum note", text, [
        configured("minimum peers", str(rules.min_peers), line_of(("min_peers",))),
        configured("band stability", share, line_of(("band_stability",)))], section="notes")

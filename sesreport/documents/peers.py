"""A document's peer group in words: from a country config and the data to its peers (`choose_peers`),
the short label captions and the cover use (`peer_label`), the sentence that states the rule
(`peer_rule`), any rule passed over for giving too few peers (`peer_fallback`) and the figure
records that trace them (`peer_rule_records`).

The rules themselves, and their fallbacks, are in `sesreport/peers.py`.
"""

from __future__ import annotations

from typing import Any

from ..data.load import Dataset
from ..i18n import INCOME_GROUPS, N_, Lang
from ..peers import MIN_PEERS, PeerGroup, country_classes, peers_of
from .trace import composed, configured

GDP = "gdp_pc_ppp"  # the catalog indicator the nearest-neighbour rule measures distance in

RULE_NAMES = {
    "region_income": N_("same region and income group"),
    "nearest": N_("nearest in GDP per capita within the region"),
    "region": N_("same region"),
    "income": N_("same income group"),
}


def min_peers(cfg: Any) -> int:
    """The fewest peers a rule must give (a config's `min_peers`, else `peers.MIN_PEERS`)."""
    return int(getattr(cfg, "min_peers", None) or MIN_PEERS)


def choose_peers(ds: Dataset, cfg: Any, year: int) -> PeerGroup:
    """The peers of a country config (a brief's or a strategy input's) for a document of `year`; worked
    out once per dataset for the same rule and inputs (the plan, each language and each kind ask again)."""
    peers = cfg.peers
    listed, least = tuple(peers.countries), min_peers(cfg)
    classes = ds.memo(("country classes",), lambda: country_classes(ds.countries.table))
    return ds.memo(("peers", cfg.country, peers.group, listed, year, cfg.peer_window, peers.size, least),
                   lambda: peers_of(cfg.country, peers.group, classes, listed, gdp=ds.headline(GDP),
                                    up_to=year, window=cfg.peer_window, size=peers.size, min_peers=least))


def _region(group: PeerGroup, lang: Lang) -> str:
    return lang.gettext(group.region) if group.region else ""


def _income(group: PeerGroup, lang: Lang) -> str:
    return lang.gettext(INCOME_GROUPS.get(group.income, group.income))


def peer_label(ds: Dataset, cfg: Any, lang: Lang, group: PeerGroup | None = None) -> str:
    """A short name of the peer group for captions and the cover ("Compared with …")."""
    _ = lang.gettext
    rule = group.rule if group is not None else cfg.peers.group
    if cfg.peers.label and rule == cfg.peers.group:
        return lang.text(cfg.peers.label)
    if rule == "list":
        return _("selected peer countries")
    region = lang.gettext(ds.countries.region(cfg.country))
    income = lang.gettext(INCOME_GROUPS.get(ds.countries.income(cfg.country), ds.countries.income(cfg.country)))
    if rule == "region":
        return region
    if rule == "income":
        return income
    if rule == "region_income":
        return _("%(income)s of %(region)s") % {"income": income, "region": region}
    return _("economies of %(region)s closest in GDP per capita") % {"region": region}


def peer_rule(ds: Dataset, cfg: Any, lang: Lang, group: PeerGroup) -> str:
    """The notes' sentence saying who the peers are and by which rule."""
    return _rule_sentence(ds, cfg, lang, group)


def peer_fallback(lang: Lang, group: PeerGroup) -> str:
    """The notes' sentences naming each rule passed over for giving too few peers ("" when none was)."""
    return " ".join(_passed_over(lang, group, rule, n) for rule, n in group.short)


def _rule_sentence(ds: Dataset, cfg: Any, lang: Lang, group: PeerGroup) -> str:
    n = len(group.countries)
    values = {"num": n, "region": _region(group, lang), "income": _income(group, lang),
              "peers": peer_label(ds, cfg, lang, group), "year": group.gdp_year or 0}
    sentences = {
        "region_income": lang.ngettext(
            "Peers: the %(num)d other country of %(region)s in the same income group (%(income)s).",
            "Peers: the %(num)d other countries of %(region)s in the same income group (%(income)s).", n),
        "nearest": lang.ngettext(
            "Peers: the %(num)d country of %(region)s closest in GDP per capita (PPP, %(year)d).",
            "Peers: the %(num)d countries of %(region)s closest in GDP per capita (PPP, %(year)d).", n),
        "region": lang.ngettext("Peers: the %(num)d other country of %(region)s.",
                                "Peers: the %(num)d other countries of %(region)s.", n),
        "income": lang.ngettext("Peers: the %(num)d other country in the same income group (%(income)s).",
                                "Peers: the %(num)d other countries in the same income group (%(income)s).", n),
        "list": lang.ngettext("Peers: %(num)d country chosen for this brief (%(peers)s).",
                              "Peers: %(num)d countries chosen for this brief (%(peers)s).", n),
    }
    return sentences[group.rule] % values


def _passed_over(lang: Lang, group: PeerGroup, rule: str, n: int) -> str:
    return lang.ngettext("Not used: %(rule)s, which gives %(num)d country; at least %(min)d are needed.",
                         "Not used: %(rule)s, which gives %(num)d countries; at least %(min)d are needed.",
                         n) % {"rule": lang.gettext(RULE_NAMES[rule]), "num": n, "min": group.min_peers}


def peer_rule_records(rule: str, fallback: str, group: PeerGroup, line_of) -> list[dict]:
    """The figure records of the printed rule and of any rule passed over: each number they print,
    traced to the config or, for the year of GDP per capita, to the data."""
    rule_line = line_of(("peers", "countries" if group.rule == "list" else "group"))
    parts: list[dict[str, Any]] = [configured("peer count", str(len(group.countries)), rule_line)]
    if group.rule == "nearest" and group.gdp:
        own = group.gdp[0]
        parts.append({"what": "GDP year", "text": str(own["year"]), "observation": own})
    records = [composed("peer rule", rule, parts, section="notes", **group.record())]
    if fallback:
        asked_line, min_line = line_of(("peers", "group")), line_of(("min_peers",))
        records.append(composed("peer rule passed over", fallback, [
            part for _rule, n in group.short for part in (
                configured("peer count", str(n), asked_line),
                configured("minimum peers", str(group.min_peers), min_line))], section="notes"))
    return records

"""The brief's figure records: from its statistics and what it prints to the records of `trace`.

In: an indicator's `compute.Stat`, the text the brief prints for it (a key-figure tile, a table row,
a sentence, a narrative block, a chart label) and the language; the composite index for the section
on the forms of security. Out: one record per printed number, with the observations, peers, index
inputs or configuration line behind it (see `trace` for the fields).
"""

from __future__ import annotations

from typing import Any

from ..catalog import FORMS, Indicator
from ..compute import Obs, Stat
from ..i18n import Lang
from ..narrative import IndicatorView
from .trace import among_peers, composed, computed, configured, indexed, observed, yaml_line


def key_figure(code: str, s: Stat, ind: Indicator, lang: Lang, tile: dict) -> list[dict]:
    """A key-figure tile: its value and year, its five-year change since a year, the peer median."""
    if s.latest is None:
        return []
    out = [observed("key figure", tile["value"], s.latest, indicator=code, year=s.latest.year),
           observed("key figure year", str(s.latest.year), s.latest, indicator=code)]
    five = s.change(5)
    if tile["change"] and five is not None:
        out.append(composed("key figure change", tile["change"], [
            computed("change over 5 years", lang.change(five.delta, ind), [five.base, s.latest], value=five.delta),
            observed("base year", str(five.base.year), five.base)], indicator=code))
    if tile["peer"] and s.peers is not None:
        out.append(among_peers("key figure peer median", tile["peer"], s.peers, indicator=code,
                               value=s.peers.median))
    return out


def table_row(code: str, sid: str, s: Stat, row: dict) -> list[dict]:
    """A row of a section's table: latest value and year, changes, peer median, range and rank."""
    if s.latest is None:
        return []
    where: dict[str, Any] = {"indicator": code, "section": sid}
    out = [observed("table value", row["value"], s.latest, year=s.latest.year, **where),
           observed("table year", str(s.latest.year), s.latest, **where)]
    for horizon, cell in ((5, "change5"), (10, "change10")):
        change = s.change(horizon)
        if change is not None:
            out.append(computed(f"table change over {horizon} years", row[cell], [change.base, s.latest],
                                value=change.delta, base_year=change.base.year, **where))
    if s.peers is not None:
        out.append(among_peers("table peer median", row["median"], s.peers, value=s.peers.median, **where))
        out.append(among_peers("table peer range", row["range"], s.peers, low=s.peers.low, high=s.peers.high,
                               **where))
        if row["rank"] != "–":
            out.append(among_peers("table rank", row["rank"], s.peers, s.latest, rank=s.rank, rank_of=s.rank_of,
                                   **where))
    return out


def statement_parts(s: Stat, ind: Indicator, lang: Lang, change_base: Obs | None) -> list[dict]:
    """The numbers a generated sentence prints (see `narrative.statement`): the level and its year,
    the value and year the change starts from, the peer median and the rank among the peers."""
    if s.latest is None:
        return []
    parts = [observed("value", lang.value(s.latest.value, ind), s.latest),
             observed("year", str(s.latest.year), s.latest)]
    if change_base is not None:
        parts += [observed("start value", lang.value(change_base.value, ind), change_base),
                  observed("start year", str(change_base.year), change_base)]
    if s.peers is not None and s.position is not None:
        parts.append(among_peers("peer median", lang.value(s.peers.median, ind), s.peers))
        if s.rank is not None and ind.direction != "neutral":
            parts.append(among_peers("rank", str(s.rank), s.peers, s.latest))
            parts.append(among_peers("ranked countries", str(s.rank_of), s.peers, s.latest))
    return parts


class TracedView(IndicatorView):
    """An `IndicatorView` that notes the fields a narrative block reads, so that the numbers the
    block prints can be traced to the statistic's observations (`narrative_parts`)."""

    def __init__(self, code: str, stat: Stat, catalog: Any, lang: Lang, reads: list[tuple[str, str]]):
        super().__init__(code, stat, catalog, lang)
        self._code = code
        self._reads = reads

    def __getattribute__(self, name: str) -> Any:
        if name in IndicatorView._fields:
            object.__getattribute__(self, "_reads").append((object.__getattribute__(self, "_code"), name))
        return object.__getattribute__(self, name)


def narrative_parts(reads: list[tuple[str, str]], stats: dict[str, Stat], catalog: Any, lang: Lang) -> list[dict]:
    """One traced part per number-valued field a narrative block read (`TracedView`)."""
    parts = []
    for code, field in dict.fromkeys(reads):
        s, ind = stats[code], catalog[code]
        part = _field_part(field, s, ind, lang)
        if part is not None:
            parts.append({**part, "indicator": code, "field": field})
    return parts


def _field_part(field: str, s: Stat, ind: Indicator, lang: Lang) -> dict | None:
    if s.latest is None:
        return None
    if field in ("latest", "value"):
        return observed("value", lang.value(s.latest.value, ind) if field == "latest"
                        else lang.number(s.latest.value, ind.decimals), s.latest)
    if field == "year":
        return observed("year", str(s.latest.year), s.latest)
    if field == "proportion" and ind.unit == "percent":  # the value in words: "two thirds"
        return observed("value in words", lang.proportion(s.latest.value), s.latest)
    if field.startswith(("change_5y", "change_10y")):
        change = s.change(5 if field.startswith("change_5y") else 10)
        if change is None:
            return None
        return computed("change", lang.change(change.delta, ind), [change.base, s.latest], value=change.delta)
    if s.peers is None:
        return None
    if field.startswith("peer_median"):
        return among_peers("peer median", lang.value(s.peers.median, ind), s.peers, value=s.peers.median)
    if field.startswith("gap") and s.gap is not None:
        return among_peers("gap to the peer median", lang.change(s.gap, ind), s.peers, s.latest, value=s.gap)
    if field in ("rank", "rank_of") and s.rank is not None:
        return among_peers(field, str(s.rank if field == "rank" else s.rank_of), s.peers, s.latest)
    return None


# ------------------------------------------------------------------------------ the composite index


class IndexFigures:
    """Records of the numbers the brief prints about the composite index: values and ranks rest on the
    country's index inputs, peer medians on each peer's value and inputs, the reference year and the
    number of Monte Carlo draws on the index file."""

    def __init__(self, index: Any, iso3: str, peers: list[str], lang: Lang):
        self.index, self.iso3, self.peers, self.lang = index, iso3, peers, lang
        self._evidence: dict[tuple[str, str], list[dict]] = {}
        self._ranked: dict[str, dict[str, float]] = {}

    def evidence(self, iso3: str, node: str) -> list[dict]:
        """`IndexResult.evidence`, one list for every record of this brief that cites it (never changed),
        so that its JSON text is written once."""
        key = (iso3, node)
        if key not in self._evidence:
            self._evidence[key] = self.index.evidence(iso3, node)
        return self._evidence[key]

    def year(self, what: str) -> dict:
        spec = self.index.spec
        return configured(what, str(self.index.reference_year), (spec.file, yaml_line(spec.file, ("reference_year",))),
                          indicator=self.index.index_id)

    def draws(self, draws: int) -> dict:
        spec = self.index.spec
        return configured("draws", self.lang.number(draws), (spec.file, yaml_line(spec.file, ("sensitivity", "draws"))),
                          value=draws)

    def value(self, node: str, what: str = "index value") -> dict:
        value = float(self.index.values.at[self.iso3, node])
        return indexed(what, self.lang.number(value, 2), self.evidence(self.iso3, node), node=node, value=value)

    def ranked(self, node: str, text: str, what: str = "index rank") -> dict:
        """A rank (or a count of ranked countries) of a node: the values of every ranked country."""
        if node not in self._ranked:
            index = self.index
            self._ranked[node] = dict(index.memo(("ranked", node), lambda: {
                c: round(float(v), 6) for c, v in index.values.loc[index.ok(node), node].items()}))
        return indexed(what, text, self.evidence(self.iso3, node), node=node, ranked=self._ranked[node])

    def interval(self, text: str, which: str) -> dict:
        return indexed("rank interval", text, self.evidence(self.iso3, "overall"), node="overall", bound=which)

    def peer_median(self, node: str, text: str) -> dict:
        values = self.index.memo(("values", node), lambda: self.index.values[node].dropna().to_dict())
        peers = [{"iso3": c, "value": float(values[c]), "inputs": self.evidence(c, node)}
                 for c in self.peers if c in values]
        return {"what": "index peer median", "text": text, "node": node, "peers": peers}


def security_records(security: dict, figures: IndexFigures) -> list[dict]:
    """Everything the section on the forms of security prints: the overall paragraph, the highest
    and lowest forms, the profile chart's labels and captions, and the table."""
    info = security["info"]
    overall = info["overall"]
    paragraphs = security["paragraphs"]
    out: list[dict] = [{**figures.year("index year"), "part": "table"}]  # the table's caption
    if security["chart"] is not None:
        out.append(figures.year("index year"))  # the chart's caption
    if overall["value"] is not None:
        parts = [figures.year("index year"), figures.value("overall"),
                 figures.ranked("overall", str(overall["rank"])),
                 figures.ranked("overall", str(overall["of"]), "countries ranked")]
        interval = info.get("rank_interval") or {}
        if interval.get("p05") is not None:
            parts += [figures.interval(str(interval["p05"]), "p05"), figures.interval(str(interval["p95"]), "p95"),
                      figures.draws(interval["draws"])]
    else:  # "cannot be computed: the data cover {k} of the 7 forms"
        parts = [indexed("forms covered", str(info["coverage"].get("forms_available", 0)),
                         figures.evidence(figures.iso3, "overall"))]
    out.append(composed("composite index", paragraphs[0], parts, indicator=figures.index.index_id,
                        value=overall["value"], rank=overall["rank"], rank_interval=info.get("rank_interval"),
                        cluster=info.get("cluster"), forms={f: v["value"] for f, v in info["forms"].items()},
                        reference_year=info["reference_year"]))
    valued = [f for f in FORMS if info["forms"][f]["value"] is not None]
    if security["highest"]:
        best = max(valued, key=lambda f: info["forms"][f]["value"])
        worst = min(valued, key=lambda f: info["forms"][f]["value"])
        parts = []
        for form in (best, worst):
            node = info["forms"][form]
            parts.append(figures.value(form))
            if node["rank"] is not None:
                parts += [figures.ranked(form, str(node["rank"]), "form rank"),
                          figures.ranked(form, str(node["of"]), "countries ranked")]
        out.append(composed("highest and lowest forms", security["highest"], parts))
    for row in security["rows"]:  # the forms with a value; the others are named in the text
        form = row["form"]
        out.append({**figures.value(form, "form value"), "form": form, "part": "table"})
        out.append({**figures.ranked(form, row["rank"], "form rank"), "form": form, "part": "table"})
        out.append({**figures.value(form, "chart label"), "form": form})
        if row["median"] != "–":
            out.append({**figures.peer_median(form, row["median"]), "form": form, "part": "table"})
    return out

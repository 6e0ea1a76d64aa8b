"""The country policy brief, a document kind: from a country config and the data to the template's
context, one per country config and language.

Everything the brief prints is computed here, once, and recorded with its provenance in
`figures` (written beside the PDF and attached to it), so that any printed number can be
traced to the published cell it came from.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from .. import chartcache, chartspec, jsondump
from ..catalog import Catalog
from ..compute import Obs, Rules, Stat, history_obs, indicator_stat, peer_band, segmented
from ..config import LoadedConfig
from ..data.load import Dataset
from ..errors import Problem, did_you_mean
from ..headlines import advice_holds, current_first, predates
from ..headlines import key_figures as headline_figures
from ..i18n import N_, Lang
from ..narrative import Indicators, Statement, Where, condition_holds, render_block, sentence_change, statement
from ..publisher import publisher_context, publisher_records
from . import Attachment, BuildContext, Document, DocumentKind, Job
from .brief_figures import (
    IndexFigures,
    TracedView,
    key_figure,
    narrative_parts,
    security_records,
    statement_parts,
    table_row,
)
from .common import shared_context, sources_used, table_csv
from .data_notes import break_notes, peer_note
from .peers import choose_peers, peer_fallback, peer_label, peer_rule, peer_rule_records
from .trace import among_peers, composed, configured, observed

MAX_NAMED_PEERS = 25  # the notes name the peers of a group no larger than this

SECTION_TITLES = {
    "labour_market": N_("Labour market"),
    "income_poverty": N_("Income and poverty"),
    "gender": N_("Gender"),
    "health": N_("Health"),
    "representation": N_("Representation"),
    "social_protection": N_("Social protection"),
    "economy": N_("Economy"),
}

@dataclass
class BriefContent:
    """The brief's template context, its printed figures and the tables behind its sections."""

    context: dict
    figures: list[dict] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def figures_json(self) -> bytes:
        """The figures as written to `<stem>.figures.json` and attached to the PDF."""
        return jsondump.dumps(self.figures).encode()  # as json.dumps(indent=1, ensure_ascii=False, sort_keys=True)

    def attachments(self, stem: str, figures: bytes | None = None) -> list[tuple[str, bytes, str]]:
        """The files attached to the PDF; `figures` is `figures_json()` when the caller has it already."""
        figures = self.figures_json() if figures is None else figures
        out = [(f"{stem}.figures.json", figures, "Every figure printed in this document, with the observation, "
                "source, vintage, file and line it came from")]
        for name, table in self.tables.items():
            out.append((f"{stem}.{name}.csv", table_csv(table), f"Data behind the section '{name}': latest values, "
                        "changes and the peer comparison"))
        return out


def country_name(ds: Dataset, iso3: str, lang: Lang) -> str:
    return lang.country(iso3, ds.countries.name(iso3), ds.countries.display)


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _marks(stat: Stat) -> str:
    marks = []
    if stat.latest is not None:
        if stat.stale:
            marks.append("†")
        if stat.latest.estimate:
            marks.append("e")
        if stat.latest.brk or stat.breaks:  # a break in the series (see `breaks`)
            marks.append("b")
    return "".join(marks)


@dataclass(frozen=True)
class Placement:
    """Where a section's indicators are printed. A fact appears once in a document: an indicator is
    stated (sentence and table row) in the first section that lists it, a later section points to
    that one, and an indicator without data is named once, in the notes."""

    own: list[str]  # with data, printed in this section
    elsewhere: dict[str, list[str]]  # the title of an earlier section -> its indicators this one lists too
    missing: list[str]  # without data


def place_indicators(codes: Sequence[str], stats: dict[str, Stat], stated: dict[str, str], title: str) -> Placement:
    """Place one section's indicators, and note in `stated` those it prints (under its title)."""
    own: list[str] = []
    elsewhere: dict[str, list[str]] = {}
    missing: list[str] = []
    for code in codes:
        if not stats[code].has_data:
            missing.append(code)
        elif code in stated:
            elsewhere.setdefault(stated[code], []).append(code)
        else:
            own.append(code)
            stated[code] = title
    return Placement(own, elsewhere, missing)


def statements(codes: list[str], stats: dict[str, Stat], catalog: Catalog, lang: Lang, name: str,
               plabel: str) -> list[Statement]:
    """A section's sentences; the first that states a rank says among whom ("in the peer group"), and
    a sentence whose verb is that of the one before opens with its period instead of its subject."""
    out: list[Statement] = []
    for code in codes:
        change = sentence_change(stats[code])
        before = out[-1].change if out else None
        repeats = change is not None and before is not None and before.direction == change.direction \
            and not out[-1].period_first
        out.append(statement(code, stats[code], catalog, lang, name, plabel,
                             rank_among=not any(st.ranked for st in out), period_first=repeats))
    return out


def see_also_sentences(elsewhere: dict[str, list[str]], catalog: Catalog, lang: Lang) -> list[str]:
    """"For the unemployment rate of women and …, see the section “Labour market”." per earlier section."""
    return [lang.gettext("For {indicators}, see the section “{section}”.").format(
        indicators=lang.join([lang.phrase(catalog[c]) for c in codes]), section=title)
        for title, codes in elsewhere.items()]


def no_data_note(codes: list[str], catalog: Catalog, lang: Lang) -> str | None:
    """The one line of the notes that names every indicator without data ("No data for a, b and c.")."""
    if not codes:
        return None
    return lang.gettext("No data for {indicators}.").format(indicators=lang.join([lang.phrase(catalog[c])
                                                                                   for c in codes]))


SITUATION_TITLES = {
    "conflict": N_("Conflict"),
    "data_interruption": N_("Interrupted data"),
    "reform": N_("Recent reform"),
}

# The choice behind the index that moves the country's rank most, as a whole sentence in each
# language (so that the verb agrees with its subject: "the weights move", "the method moves").
CHOICE_SENTENCES = {
    "weights": N_("The weights given to the forms of security move this rank more than any other choice behind "
                  "the index."),
    "normalisation": N_("The normalisation method moves this rank more than any other choice behind the index."),
    "aggregation": N_("The aggregation method moves this rank more than any other choice behind the index."),
    "imputation_window": N_("The limit on how old a value may be moves this rank more than any other choice "
                            "behind the index."),
}


def _overall_paragraph(info: dict, index_label: str, lang: Lang) -> str:
    """The index value, its rank among every ranked country with the range of ranks, the cluster and
    the choice that moves the rank most, as one paragraph."""
    from ..index import CLUSTER_LABELS

    _ = lang.gettext
    overall = info["overall"]
    if overall["value"] is None:
        return _("The overall {index} cannot be computed: the data cover {k} of the 7 forms of security.").format(
            index=index_label, k=info["coverage"].get("forms_available", 0))
    text = _("The {index} ({year}) stands at {value} on a scale from 0 to 1, rank {rank} of the {n} countries with "
             "an index value").format(index=index_label, year=info["reference_year"],
                                      value=lang.number(overall["value"], 2), rank=overall["rank"], n=overall["of"])
    interval = info.get("rank_interval") or {}
    if interval.get("p05") is not None:
        text += _(" (ranks {low}–{high} across {draws} alternative calculations)").format(
            low=interval["p05"], high=interval["p95"], draws=lang.number(interval["draws"]))
    if info.get("cluster"):
        text += _(", in the “{cluster}” cluster").format(cluster=_(CLUSTER_LABELS[info["cluster"]]))
    text += "."
    choice = CHOICE_SENTENCES.get(interval.get("most_sensitive_to") or "")
    return f"{text} {_(choice)}" if choice else text


Valued = tuple[str, float, int | None, int | None]  # a form's label, value, rank and countries ranked


def _score(form: Valued, lang: Lang) -> str:
    """A form's value with its rank among the countries with a value ("0.47, rank 113 of 165"), so
    that a value of 0.00 reads as the lowest measured, not as missing."""
    value = lang.number(form[1], 2)
    if form[2] is None:
        return value
    return lang.gettext("{value}, rank {rank} of {n}").format(value=value, rank=form[2], n=form[3])


def _forms_paragraph(valued: list[Valued], missing: list[str], lang: Lang) -> tuple[str | None, str]:
    """The highest and the lowest form with their values and ranks, and the forms without enough data:
    (the highest-and-lowest sentence, the paragraph)."""
    _ = lang.gettext
    highest = None
    if len(valued) >= 2:
        best = max(valued, key=lambda r: r[1])
        worst = min(valued, key=lambda r: r[1])
        highest = _("The highest score is for {best} ({best_score}), the lowest for {worst} ({worst_score}).").format(
            best=lang.mid_sentence(best[0]), best_score=_score(best, lang), worst=lang.mid_sentence(worst[0]),
            worst_score=_score(worst, lang))
    sentences = [highest] if highest else []
    if missing:
        sentences.append(_("There are not enough data to measure {forms}.").format(
            forms=lang.join([lang.mid_sentence(m) for m in missing])))
    return highest, " ".join(sentences)


def security_section(index, iso3: str, peers: list[str], name: str, lang: Lang,
                     compact: bool = False) -> dict:
    """What the brief says about the country's composite index: values, rank with interval, cluster.

    Ranks say among whom: the overall rank among every ranked country (in the text), each form's rank
    among the countries with a value for it (in the table, whose head says so). A form without enough
    data is named once, in the text, and has no table row.
    """
    from ..catalog import FORMS
    from ..index import FORM_LABELS

    _ = lang.gettext
    info = index.country(iso3)
    known = [p for p in peers if p in index.values.index]
    rows: list[dict[str, Any]] = []
    chart_rows: list[tuple[str, float | None, float | None]] = []
    valued: list[Valued] = []
    for form in FORMS:
        node = info["forms"][form]
        peer_values = index.values.loc[known, form].dropna() if known else pd.Series(dtype=float)
        median = float(peer_values.median()) if len(peer_values) >= 3 else None
        label = _(FORM_LABELS[form])
        chart_rows.append((label, node["value"], median))
        if node["value"] is None:
            continue
        rank = f"{node['rank']}/{node['of']}" if node["rank"] is not None else "–"
        valued.append((label, node["value"], node["rank"], node["of"]))
        rows.append({"form": form, "label": label, "has_data": True, "value": lang.number(node["value"], 2),
                     "rank": rank, "median": lang.number(median, 2) if median is not None else "–"})
    year = info["reference_year"]
    missing = [label for label, v, _m in chart_rows if v is None]
    highest, forms = _forms_paragraph(valued, missing, lang)
    paragraphs = [_overall_paragraph(info, lang.text(index.label), lang)] + ([forms] if forms else [])
    made = chartcache.draw("profile", chart_rows, name, lang,
                           chartspec.COMPACT_PROFILE if compact else chartspec.PROFILE)
    chart = None
    if made is not None:
        chart = {"src": _svg_uri(made.svg), "alt": made.alt, "wide": True, "kind": made.kind,
                 "caption": _("Security profile: {country} against the peer median, {year}").format(
                     country=name, year=year)}
    return {"title": _("Seven forms of security"), "paragraphs": paragraphs, "chart": chart, "rows": rows,
            "label": lang.text(index.label), "year": year, "info": info, "highest": highest}


def build_brief(ds: Dataset, loaded: LoadedConfig, lang: Lang, as_of: date, catalog: Catalog,
                index=None) -> BriefContent:
    cfg = loaded.config
    iso3 = cfg.country
    _ = lang.gettext
    name = country_name(ds, iso3, lang)
    group = choose_peers(ds, cfg, as_of.year)
    peers = list(group.countries)
    plabel = peer_label(ds, cfg, lang, group)
    rule, fallback = peer_rule(ds, cfg, lang, group), peer_fallback(lang, group)
    year = as_of.year
    names = {c: country_name(ds, c, lang) for c in set(peers) | {iso3}}

    stats: dict[str, Stat] = {}
    for code in cfg.indicators():
        stats[code] = indicator_stat(ds.headline_table(code), iso3, peers, catalog[code], code, year,
                                     cfg.stale_after, cfg.peer_window, cfg.rules())
    reads: list[tuple[str, str]] = []  # the fields narrative blocks read, to trace what they print
    views = Indicators({code: TracedView(code, s, catalog, lang, reads) for code, s in stats.items()}, catalog)
    # `cluster`: the country's ILO cluster in the composite index (pacesetters, pragmatists, conventionals,
    # much_to_be_done), or none when it is not ranked
    cluster = index.clusters.get(iso3) if index is not None else None
    narratives = Narratives(loaded, lang, {"ind": views, "country": name, "cluster": cluster}, reads, stats, catalog,
                            cfg.situation.since if cfg.situation else None)
    inputs = ChartInputs(stats, ds, iso3, peers, name, plabel, catalog, lang, cfg.chart_years,
                         chartspec.COMPACT if cfg.format == "two_page" else chartspec.HALF, cfg.rules(), loaded.line_of,
                         key=True)
    figures: list[dict] = [configured("peer count", str(len(peers)), loaded.line_of(
        ("peers", "countries" if group.rule == "list" else "group")), countries=peers, rule=group.rule),
        *peer_rule_records(rule, fallback, group, loaded.line_of)]

    # ---------------------------------------------------------------- key figures
    since = cfg.situation.since if cfg.situation else None

    candidates: dict[str, Stat] = {}

    def stat_of(code: str) -> Stat:  # a current series on a key figure's subject may be outside the sections
        if code not in stats and code not in candidates:
            candidates[code] = indicator_stat(ds.headline_table(code), iso3, peers, catalog[code], code, year,
                                              cfg.stale_after, cfg.peer_window, cfg.rules())
        return stats[code] if code in stats else candidates[code]

    tiles = []
    for i, shown in enumerate(headline_figures(cfg.key_figures, stat_of, catalog)):
        code = shown.code
        ind, s = catalog[code], stats.setdefault(code, stat_of(code))
        tile: dict[str, Any] = {"label": lang.indicator(ind, short=True), "has_data": s.has_data, "marks": _marks(s),
                "value": None, "year": None, "change": None, "peer": None, "position": None,
                "before_situation": predates(s, since)}
        if shown.replaces is not None:  # an old or missing key figure, in place of which a current one is shown
            figures.append(configured("key figure substitution", tile["label"], loaded.line_of(("key_figures", i)),
                                      indicator=code, replaces=shown.replaces,
                                      replaced_year=stat_of(shown.replaces).year))
        if s.has_data:
            tile["value"] = lang.value(s.value, ind)
            tile["year"] = s.year
            if s.change5 is not None and s.base5 is not None:
                tile["change"] = _("{change} since {year}").format(change=lang.change(s.change5, ind),
                                                                   year=s.base5.year)
            if s.peers is not None:
                tile["peer"] = _("peer median {value}").format(value=lang.value(s.peers.median, ind))
            tile["position"] = s.position
            figures += key_figure(code, s, ind, lang, tile)
        tiles.append(tile)

    # ---------------------------------------------------------------- sections
    sections = []
    tables: dict[str, pd.DataFrame] = {}
    chart_seconds = 0.0
    stale_line = loaded.line_of(("stale_after",))
    stated: dict[str, str] = {}  # indicator -> the title of the section that prints it (a fact appears once)
    missing: list[str] = []  # indicators without data, named once in the notes
    for sid, section in cfg.sections.items():
        title = lang.text(section.title, SECTION_TITLES.get(sid, sid.replace("_", " ").capitalize()))
        placed = place_indicators(section.indicators, stats, stated, title)
        missing += [code for code in placed.missing if code not in missing]
        paragraphs: list[Markup] = []
        findings = []
        if section.sentences:
            ordered = current_first(placed.own, stats)  # a section opens with a current finding
            said = statements(ordered, stats, catalog, lang, name, plabel)
            findings = [st.text for st in said]
            for code, st in zip(ordered, said):
                s = stats[code]
                # the direction of the change the sentence prints (its verb), and that change
                figures.append(composed("statement", st.text, statement_parts(
                    s, catalog[code], lang, st.change.base if st.change else None),
                    indicator=code, section=sid, trend=st.change.direction if st.change else None,
                    change=st.change.ref() if st.change else None, position=s.position, stale=s.stale,
                    has_data=s.has_data))
        paragraphs.extend(narratives.render(section.narrative, ("sections", sid, "narrative"), sid, figures))
        figs: list[dict] = []
        started = time.perf_counter()
        for k, chart in enumerate(section.charts):
            if cfg.format == "two_page" and any(not f["wide"] for f in figs):
                break  # the two-page brief prints a section's first half-width chart: the rest is not drawn
            made = _chart(chart, inputs, sid, figures, f"{sid}.{k}")
            if made is not None:
                figs.append(made)
        chart_seconds += time.perf_counter() - started
        rows: list[dict[str, Any]] = []
        records = []
        for code in placed.own:
            ind, s = catalog[code], stats[code]
            row: dict[str, Any] = {"label": lang.indicator(ind), "unit": lang.unit_label(ind), "has_data": s.has_data,
                   "marks": _marks(s)}
            rec: dict[str, Any] = {"indicator": code, "label": lang.indicator(ind), "unit": ind.unit}
            if s.has_data and s.latest is not None:
                row.update(value=lang.value(s.value, ind, unit=False), year=s.year,
                           change5=lang.change(s.change5, ind, unit=False) if s.change5 is not None else "–",
                           change10=lang.change(s.change10, ind, unit=False) if s.change10 is not None else "–",
                           median=lang.value(s.peers.median, ind, unit=False) if s.peers else "–",
                           range=(f"{lang.value(s.peers.low, ind, unit=False)}–"
                                  f"{lang.value(s.peers.high, ind, unit=False)}" if s.peers else "–"),
                           rank=f"{s.rank}/{s.rank_of}" if s.rank is not None and ind.direction != "neutral" else "–")
                figures += table_row(code, sid, s, row)
                rec.update(year=s.year, value=s.value, source=s.latest.source_id, vintage=s.latest.vintage,
                           file=s.latest.file, line=s.latest.line, change_5y=s.change5, change_10y=s.change10,
                           peer_median=s.peers.median if s.peers else None,
                           peer_min=s.peers.low if s.peers else None, peer_max=s.peers.high if s.peers else None,
                           peers_n=s.peers.n if s.peers else 0,
                           rank=s.rank, rank_of=s.rank_of)
            records.append(rec)
            rows.append(row)
        tables[sid] = pd.DataFrame(records)
        marks = sorted({m for r in rows for m in r["marks"]})
        if "†" in marks:
            figures.append(configured("staleness threshold", str(cfg.stale_after), stale_line, section=sid))
        see_also = see_also_sentences(placed.elsewhere, catalog, lang)
        if findings or paragraphs or figs or rows or see_also:  # a section with nothing to say is left out
            sections.append({"id": sid, "title": title, "paragraphs": paragraphs, "findings": findings,
                             "charts": figs, "rows": rows, "marks": marks, "see_also": see_also})

    summary = narratives.render(cfg.summary, ("summary",), "summary", figures)
    security = None
    if index is not None:
        started = time.perf_counter()
        security = security_section(index, iso3, peers, name, lang, cfg.format == "two_page")
        chart_seconds += time.perf_counter() - started
        figures += security_records(security, IndexFigures(index, iso3, peers, lang))
    # the notes on the sources page
    figures.append(configured("staleness threshold", str(cfg.stale_after), stale_line, section="notes"))
    figures.append(configured("peer window", str(cfg.peer_window), loaded.line_of(("peer_window",)),
                              section="notes"))

    # a conflict, data interruption or reform the reader must know of, printed on the cover
    situation: dict[str, Any] | None = None
    if cfg.situation is not None:
        note = lang.text(cfg.situation.text)
        situation = {"kind": cfg.situation.kind, "since": cfg.situation.since,
                     "title": _(SITUATION_TITLES[cfg.situation.kind]), "text": note}
        figures.append(configured("situation", note, loaded.line_of(("situation", "text")), section="cover",
                                  since=cfg.situation.since))

    # series breaks and what a peer statistic needs, in the notes
    notes_breaks, break_records = break_notes(stats, catalog, lang)
    notes_peers, peer_record = peer_note(cfg.rules(), lang, loaded.line_of)
    figures += [*break_records, peer_record]

    # ---------------------------------------------------------------- sources actually used
    used: list[Obs] = []
    for s in stats.values():
        if s.latest is not None:
            used.append(s.latest)
        for base in (s.base5, s.base10):
            if base is not None:
                used.append(base)
    used_sources = sorted({(o.source_id, o.vintage) for o in used})
    newest = max((o.vintage for o in used if o.vintage), default=None)
    sources = sources_used(ds, {sid for sid, _ in used_sources}, lang)

    context = {
        **shared_context(ds, lang, as_of),
        "country": name,
        "iso3": iso3,
        "title": lang.text(cfg.title, N_("Social and economic security: policy brief")),
        "organisation": lang.text(cfg.organisation),
        "data_vintage": lang.month(date.fromisoformat(newest)) if newest else None,
        "peer_label": plabel,
        "peer_count": len(peers),
        "peer_names": sorted(names[c] for c in peers) if len(peers) <= MAX_NAMED_PEERS else [],
        "peer_rule": rule,  # who the peers are, by which rule (the notes)
        "peer_fallback": fallback,  # the rules passed over for giving too few peers, or ""
        "stale_after": cfg.stale_after,
        "peer_window": cfg.peer_window,
        "situation": situation,
        "tiles": tiles,
        "summary": summary,
        "sections": sections,
        "no_data": no_data_note(missing, catalog, lang),
        "notes_breaks": notes_breaks,  # one sentence per indicator whose series breaks, naming the years
        "notes_peers": notes_peers,  # the minimum of peers behind a peer statistic or band
        "security": security,
        "sources": sources,
    }
    for entry in figures:  # every record names its indicator (None: the index, a note)
        entry.setdefault("indicator", None)
    return BriefContent(context, figures, tables, {"charts": chart_seconds})


@dataclass
class Narratives:
    """Renders a document's narrative blocks and records each one printed, with the fields it read."""

    loaded: LoadedConfig
    lang: Lang
    context: dict
    reads: list[tuple[str, str]]
    stats: dict[str, Stat]
    catalog: Catalog
    since: int | None = None  # the year the country's situation began: no advice from older data

    def render(self, blocks, path: tuple, section: str, figures: list[dict]) -> list[Markup]:
        out = []
        for i, block in enumerate(blocks):
            file, line = self.loaded.line_of(path + (i, "text" if block.file is None else "file"))
            where = Where(file, line)
            if block.when and not condition_holds(block.when, self.context, where, self.lang.code):
                continue
            text = block.text if isinstance(block.text, str) else self.lang.text(block.text)
            if text:
                self.reads.clear()
                rendered = render_block(text, self.context, where, self.lang.code)
                if block.advice and not advice_holds((code for code, _f in self.reads), self.stats, self.since):
                    continue  # advice drawn from data older than the situation the country is in
                out.append(rendered)
                figures.append(composed("narrative", rendered.striptags(),
                                        narrative_parts(self.reads, self.stats, self.catalog, self.lang),
                                        section=section, block=i, config={"file": file, "line": line}))
        return out


@dataclass(frozen=True)
class ChartInputs:
    """What a section chart may draw from: the brief's statistics, the data and who is compared."""

    stats: dict[str, Stat]
    ds: Dataset
    iso3: str
    peers: list[str]
    name: str
    plabel: str
    catalog: Catalog
    lang: Lang
    chart_years: int
    size: tuple[float, float] = chartspec.HALF  # of a half-width chart
    rules: Rules = Rules()  # the peer minimum and band stability of the charts' bands
    line_of: Callable[[tuple], tuple[str, int | None]] | None = None  # where the config sets them
    key: bool = False  # trend charts leave their legend to the page (`Chart.key`, printed as text)

    def history(self, s: Stat) -> pd.DataFrame:
        """The years of the statistic's history a trend chart draws, cut into segments at its breaks."""
        assert s.year is not None
        return segmented(s.history[s.history["year"] > s.year - self.chart_years], s.breaks)

    def band(self, code: str, first: int, last: int) -> pd.DataFrame:
        return peer_band(self.ds.headline_table(code), self.peers, first, last, self.rules.min_peers,
                         self.rules.band_stability)


Drawn = tuple[chartspec.Chart, str, bool]  # the chart, its caption, whether it spans the page


def _trend_chart(chart, x: ChartInputs) -> Drawn | None:
    code = chart.indicator
    s, ind = x.stats[code], x.catalog[code]
    if not s.has_data or s.year is None:
        return None
    history = x.history(s)
    first = int(history["year"].min())
    band = x.band(code, first, s.year)
    made = chartcache.draw("trend", history, band, ind, x.name, x.plabel, x.lang, x.size, x.rules.min_peers,
                           key=x.key)
    if made is None:
        return None
    caption = x.lang.text(chart.title) if chart.title else _caption(x.lang, ind, first, s.year)
    return made, caption, False


def _history_obs(s: Stat, year: int) -> Obs:
    found = history_obs(s, year)
    assert found is not None, (s.indicator, year)  # a chart draws only the statistic's own history
    return found


def chart_records(chart, made: chartspec.Chart, caption: str, x: ChartInputs) -> list[dict]:
    """The numbers a section chart prints: the value at the end of each line or the country's bar
    label (`Chart.labels`), and the first and last year of a trend chart's own caption."""
    codes = [chart.indicator] if chart.type != "small_multiples" else [
        c for c in chart.indicators if x.stats[c].has_data and x.stats[c].year is not None]
    out = []
    for label in made.labels:
        if "setting" in label:  # the band's legend: the minimum of peers, as configured
            if x.line_of is not None:
                band = [{**b, "indicator": codes[b.get("panel", 0)]} for b in label.get("band", [])]
                out.append(configured("chart legend", label["text"], x.line_of((label["setting"],)),
                                      indicator=chart.indicator, band=band))
            continue
        s = x.stats[codes[label.get("panel", 0)]]
        if s.peers is not None and (label.get("median") or label.get("iso3", x.iso3) != x.iso3):
            out.append(_peer_label_record(label, s))
            continue
        obs = _history_obs(s, label["year"]) if "year" in label else s.latest
        if obs is not None:
            out.append(observed("chart label", label["text"], obs, indicator=s.indicator))
    latest = x.stats[chart.indicator].latest if chart.type == "trend" else None
    if latest is not None and not chart.title:
        s = x.stats[chart.indicator]
        first = int(s.history["year"][s.history["year"] > latest.year - x.chart_years].min())
        out.append(composed("chart caption", caption, [observed("first year", str(first), _history_obs(s, first)),
                                                       observed("last year", str(latest.year), latest)],
                            indicator=chart.indicator))
    return out


def _peer_label_record(label: dict, s: Stat) -> dict:
    """A ranking chart's label of the peer median or of a peer's bar, traced to the peers' observations."""
    assert s.peers is not None
    if label.get("median"):
        return among_peers("chart label", label["text"], s.peers, indicator=s.indicator)
    ref = next(r for r in s.peers.refs() if r["iso3"] == label["iso3"])
    return {"what": "chart label", "text": label["text"], "observation": ref, "indicator": s.indicator}


def _ranking_chart(chart, x: ChartInputs) -> Drawn | None:
    code = chart.indicator
    s, ind, lang = x.stats[code], x.catalog[code], x.lang
    if not s.has_data or s.peers is None:
        return None
    values = pd.concat([s.peers.values, pd.DataFrame([{"iso3": x.iso3, "year": s.year, "value": s.value}])],
                       ignore_index=True)
    names = {c: country_name(x.ds, c, lang) for c in values["iso3"]}
    made = chartcache.draw("ranking", values, x.iso3, names, ind, lang, s.peers.median)
    if made is None:
        return None
    caption = lang.text(chart.title) if chart.title else lang.gettext(
        "{indicator}: {country} among its peers, latest values").format(indicator=lang.indicator(ind), country=x.name)
    return made, caption, False


def _small_multiples_chart(chart, x: ChartInputs) -> Drawn | None:
    panels = []
    for code in chart.indicators:
        s = x.stats[code]
        if s.has_data and s.year is not None:
            history = x.history(s)
            first = int(history["year"].min())
            panels.append((x.catalog[code], history, x.band(code, first, s.year)))
    made = chartcache.draw("small_multiples", panels, x.name, x.lang, min_peers=x.rules.min_peers, key=x.key)
    if made is None:
        return None
    caption = x.lang.text(chart.title) if chart.title else x.lang.gettext(
        "{country} against the peer median").format(country=x.name)
    return made, caption, True


#: chart type (as written in a section's `charts:`) -> the function that draws it
CHART_TYPES: dict[str, Callable[[Any, ChartInputs], Drawn | None]] = {
    "trend": _trend_chart,
    "ranking": _ranking_chart,
    "small_multiples": _small_multiples_chart,
}


def _chart(chart, x: ChartInputs, section: str, figures: list[dict], figure: str) -> dict | None:
    """A section's chart as the template shows it; the numbers it prints are added to `figures`,
    each record naming the chart (`figure`, "<section>.<n>")."""
    drawn = CHART_TYPES[chart.type](chart, x)
    if drawn is None:
        return None
    made, caption, wide = drawn
    figures += [{**r, "section": section, "chart": chart.type, "figure": figure}
                for r in chart_records(chart, made, caption, x)]
    return {"src": _svg_uri(made.svg), "alt": made.alt, "caption": caption, "wide": wide, "kind": made.kind,
            "figure": figure, "key": list(made.key)}


def _caption(lang: Lang, ind, first: int, last: int) -> str:
    return lang.gettext("{indicator}, {first}–{last}").format(
        indicator=lang.indicator_with_unit(ind), first=first, last=last)


def two_page_content(content: BriefContent) -> BriefContent:
    """What the two-page brief prints of a brief: per topic its first sentence (or, without one, its
    first narrative paragraph) and its first half-width chart; the forms of security without their
    table; no section tables. The figures keep the records of what is printed, and only those."""
    shown: set[tuple[str, str]] = set()  # (section, text) of the sentences and paragraphs printed
    figures: set[str] = set()
    sections = []
    for s in content.context["sections"]:
        findings = s["findings"][:1]
        paragraphs = [] if findings else s["paragraphs"][:1]
        charts = [c for c in s["charts"] if not c["wide"]][:1]
        shown |= {(s["id"], str(t)) for t in findings} | {(s["id"], p.striptags()) for p in paragraphs}
        figures |= {c["figure"] for c in charts}
        sections.append({**s, "findings": findings, "paragraphs": paragraphs, "charts": charts, "rows": []})

    def printed(r: dict) -> bool:
        what, section = r["what"], r.get("section")
        if what.startswith("table ") or r.get("part") == "table":
            return False
        if what == "staleness threshold":
            return section == "notes"
        if what == "statement" or (what == "narrative" and section != "summary"):
            return (section, r["text"]) in shown
        if "figure" in r:
            return r["figure"] in figures
        return True

    kept = [r for r in content.figures if printed(r)]
    # a series break is noted for the indicators printed, not for those only the long form shows
    shown_codes = {r.get("indicator") for r in kept if r["what"] != "series break note" and r.get("section") != "notes"}
    kept = [r for r in kept if r["what"] != "series break note" or r.get("indicator") in shown_codes]
    noted = {r["text"] for r in kept if r["what"] == "series break note"}
    breaks = [n for n in content.context["notes_breaks"] if n in noted]
    context = {**content.context, "sections": sections,
               "notes_breaks": breaks + content.context["notes_breaks"][-1:] if breaks else []}
    return BriefContent(context, kept, content.tables, content.timings)


class BriefKind(DocumentKind):
    """`brief/<ISO3>.<lang>`: key figures, sections with charts, tables and sentences, sources."""

    name = "brief"
    outputs = ("pdf", "html", "figures.json")
    per_country = True

    def load_config(self, config_dir: Path, project) -> tuple[None, list[Problem]]:
        """The country configs are the brief's configuration; here, only what the brief draws."""
        problems = []
        for loaded in project.countries.values():
            problems += unknown_charts(loaded.config.sections, "sections", loaded.line_of, "brief")
        return None, problems

    def plan(self, project, countries: list[str] | None) -> list[Job]:
        jobs = []
        for iso3, loaded in sorted(project.countries.items()):
            if countries and iso3 not in countries or self.name not in loaded.config.documents:
                continue
            jobs += [Job(self.name, iso3, lang) for lang in loaded.config.languages]
        return jobs

    def indices(self, project, job: Job) -> set[str]:
        index = project.countries[job.name].config.index
        return {index} if index else set()

    def fingerprint(self, job: Job, ctx: BuildContext, data) -> dict:
        cfg = ctx.project.countries[job.name].config
        countries = ctx.ds.countries
        group = choose_peers(ctx.ds, cfg, ctx.as_of.year)
        shown = [*group.countries, cfg.country]
        publisher = ctx.project.publisher
        return {"config": cfg.model_dump(mode="json"),
                "peers": group.record(),  # the rule used, and for `nearest` the GDP values that chose
                "publisher": publisher.digest() if publisher else None,
                "data": data.data.of(shown, cfg.indicators()),
                "countries": {c: (countries.name(c), countries.region(c), countries.income(c)) for c in shown},
                "index": data.index[cfg.index].of(shown) if cfg.index in data.index else "-"}

    def build(self, job: Job, ctx: BuildContext, lang: Lang) -> Document:
        loaded = ctx.project.countries[job.name]
        index = ctx.indices.get(loaded.config.index) if loaded.config.index else None
        doc = build_brief(ctx.ds, loaded, lang, ctx.as_of, ctx.project.catalog, index)
        annex = ctx.project.configs.get("annex")
        security = doc.context.get("security")
        if security and annex is not None and annex.index == loaded.config.index and lang.code in annex.languages:
            # the annex in the brief's language: its PDF from the PDF, its HTML version from the HTML
            security["annex"] = f"../annex/{annex.index}.{lang.code}"
        doc.context["publisher"] = publisher_context(ctx.project, lang, ctx.as_of.year, doc.context["title"],
                                                     doc.context["country"])
        if loaded.config.format == "two_page":
            doc = two_page_content(doc)
        doc.figures += [{**r, "indicator": None} for r in publisher_records(ctx.project, lang, ctx.as_of.year)]
        figures = doc.figures_json()
        two_page = loaded.config.format == "two_page"
        file, line = loaded.line_of(("summary",))
        too_long = Problem(file, line, "the two-page brief does not fit on two pages",
                           "shorten the summary or the narrative texts, or set format: full for this country")
        return Document("brief_two_page.html.j2" if two_page else "brief.html.j2", doc.context,
                        pages=2 if two_page else None, too_long=too_long,
                        attachments=tuple(Attachment(*a) for a in doc.attachments(job.stem, figures)),
                        figures=tuple(doc.figures), files=(("figures.json", figures),),
                        timings=tuple(doc.timings.items()))


def unknown_charts(parts: dict, key: str, line_of: Callable[[tuple], tuple[str, int | None]],
                   document: str) -> list[Problem]:
    """A problem, at its line, for each chart of `parts` (a config's sections or topics) of a type
    that no chart function draws."""
    problems = []
    for pid, part in parts.items():
        for j, chart in enumerate(part.charts):
            if chart.type not in CHART_TYPES:
                file, line = line_of((key, pid, "charts", j, "type"))
                problems.append(Problem(file, line, f"the {document} draws no chart of type '{chart.type}'",
                                        did_you_mean(chart.type, CHART_TYPES)
                                        or f"use one of: {', '.join(sorted(CHART_TYPES))}"))
    return problems

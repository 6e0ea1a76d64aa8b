"""The country policy brief, a document kind: from a country config and the data to the template's
context, one per country config and language.

Everything the brief prints is computed here, once, and recorded with its provenance in
`figures` (written beside the PDF and attached to it), so that any printed number can be
traced to the published cell it came from.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from .. import charts
from ..catalog import Catalog
from ..compute import Obs, Stat, history_obs, indicator_stat, peer_band, peers_of
from ..config import LoadedConfig
from ..data.load import Dataset
from ..errors import Problem, did_you_mean
from ..i18n import INCOME_GROUPS, N_, Lang
from ..narrative import Indicators, Where, condition_holds, render_block, statement
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
from .trace import composed, configured, observed

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

    def attachments(self, stem: str) -> list[tuple[str, bytes, str]]:
        figures = json.dumps(self.figures, indent=1, ensure_ascii=False, sort_keys=True).encode()
        out = [(f"{stem}.figures.json", figures, "Every figure printed in this document, with the observation, "
                "source, vintage, file and line it came from")]
        for name, table in self.tables.items():
            out.append((f"{stem}.{name}.csv", table_csv(table), f"Data behind the table '{name}'"))
        return out


def country_name(ds: Dataset, iso3: str, lang: Lang) -> str:
    return lang.country(iso3, ds.countries.name(iso3), ds.countries.display)


def peer_label(ds: Dataset, cfg, lang: Lang) -> str:
    peers = cfg.peers
    if peers.label:
        return lang.text(peers.label)
    if peers.group == "list":
        return lang.gettext("selected peer countries")
    if peers.group == "region":
        return lang.gettext(ds.countries.region(cfg.country))
    income = ds.countries.income(cfg.country)
    return lang.gettext(INCOME_GROUPS.get(income, income))


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _marks(stat: Stat) -> str:
    marks = []
    if stat.latest is not None:
        if stat.stale:
            marks.append("†")
        if stat.latest.estimate:
            marks.append("e")
        if stat.latest.brk:
            marks.append("b")
    return "".join(marks)


CHOICE_NAMES = {
    "weights": N_("the weights"),
    "normalisation": N_("the normalisation method"),
    "aggregation": N_("the aggregation method"),
    "imputation_window": N_("how old a value may be"),
}


def security_section(index, iso3: str, peers: list[str], name: str, lang: Lang) -> dict:
    """What the brief says about the country's composite index: values, rank with interval, cluster."""
    from ..catalog import FORMS
    from ..index import CLUSTER_LABELS, FORM_LABELS

    _ = lang.gettext
    info = index.country(iso3)
    known = [p for p in peers if p in index.values.index]
    rows: list[dict[str, Any]] = []
    chart_rows: list[tuple[str, float | None, float | None]] = []
    for form in FORMS:
        node = info["forms"][form]
        peer_values = index.values.loc[known, form].dropna() if known else pd.Series(dtype=float)
        median = float(peer_values.median()) if len(peer_values) >= 3 else None
        label = _(FORM_LABELS[form])
        chart_rows.append((label, node["value"], median))
        rows.append({"label": label, "has_data": node["value"] is not None,
                     "value": lang.number(node["value"], 2) if node["value"] is not None else None,
                     "rank": f"{node['rank']}/{node['of']}" if node["rank"] is not None else "–",
                     "median": lang.number(median, 2) if median is not None else "–"})
    overall = info["overall"]
    year = info["reference_year"]
    paragraphs = []
    if overall["value"] is not None:
        text = _("Overall {index} ({year}): {value} on a scale from 0 to 1, rank {rank} of {n} countries").format(
            index=lang.text(index.label), year=year, value=lang.number(overall["value"], 2), rank=overall["rank"],
            n=overall["of"])
        interval = info.get("rank_interval") or {}
        if interval.get("p05") is not None:
            text += _(" (range {low}–{high} across {draws} alternative calculations)").format(
                low=interval["p05"], high=interval["p95"], draws=lang.number(interval["draws"]))
        paragraphs.append(text + ".")
        if interval.get("most_sensitive_to"):
            paragraphs.append(_("Of the choices behind the index, {choice} moves this rank most.").format(
                choice=_(CHOICE_NAMES.get(interval["most_sensitive_to"], interval["most_sensitive_to"]))))
        if info.get("cluster"):
            paragraphs.append(_("Cluster: {cluster}.").format(cluster=_(CLUSTER_LABELS[info["cluster"]])))
    else:
        paragraphs.append(_("The overall {index} cannot be computed: the data cover {k} of the 7 forms of security.")
                          .format(index=lang.text(index.label), k=info["coverage"].get("forms_available", 0)))
    valued = [(label, v) for label, v, _m in chart_rows if v is not None]
    highest = None
    if len(valued) >= 2:
        best = max(valued, key=lambda r: r[1])
        worst = min(valued, key=lambda r: r[1])
        highest = _("Highest: {best} ({best_value}); lowest: {worst} ({worst_value}).").format(
            best=best[0], best_value=lang.number(best[1], 2), worst=worst[0], worst_value=lang.number(worst[1], 2))
        paragraphs.append(highest)
    missing = [label for label, v, _m in chart_rows if v is None]
    if missing:
        paragraphs.append(_("Not enough data for: {forms}.").format(forms=", ".join(missing)))
    made = charts.profile(chart_rows, name, lang)
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
    peers = peers_of(iso3, cfg.peers.group, ds.countries.table, cfg.peers.countries)
    plabel = peer_label(ds, cfg, lang)
    year = as_of.year
    names = {c: country_name(ds, c, lang) for c in set(peers) | {iso3}}

    stats: dict[str, Stat] = {}
    for code in cfg.indicators():
        stats[code] = indicator_stat(ds.headline(code), iso3, peers, catalog[code], code, year, cfg.stale_after,
                                     cfg.peer_window)
    reads: list[tuple[str, str]] = []  # the fields narrative blocks read, to trace what they print
    views = Indicators({code: TracedView(code, s, catalog, lang, reads) for code, s in stats.items()}, catalog)
    # `cluster`: the country's ILO cluster in the composite index (pacesetters, pragmatists, conventionals,
    # much_to_be_done), or none when it is not ranked
    cluster = index.clusters.get(iso3) if index is not None else None
    narratives = Narratives(loaded, lang, {"ind": views, "country": name, "cluster": cluster}, reads, stats, catalog)
    inputs = ChartInputs(stats, ds, iso3, peers, name, plabel, catalog, lang, cfg.chart_years)
    figures: list[dict] = [configured("peer count", str(len(peers)), loaded.line_of(
        ("peers", "countries" if cfg.peers.group == "list" else "group")), countries=peers)]

    # ---------------------------------------------------------------- key figures
    tiles = []
    for code in cfg.key_figures:
        ind, s = catalog[code], stats[code]
        tile: dict[str, Any] = {"label": lang.indicator(ind, short=True), "has_data": s.has_data, "marks": _marks(s),
                "value": None, "year": None, "change": None, "peer": None, "position": None}
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
    for sid, section in cfg.sections.items():
        title = lang.text(section.title, SECTION_TITLES.get(sid, sid.replace("_", " ").capitalize()))
        paragraphs: list[Markup] = []
        findings = []
        if section.sentences:
            said = [statement(code, stats[code], catalog, lang, name, plabel) for code in section.indicators]
            findings = [st.text for st in said]
            for code, st in zip(section.indicators, said):
                s = stats[code]
                # the direction of the change the sentence prints (its verb), and that change
                figures.append(composed("statement", st.text, statement_parts(
                    s, catalog[code], lang, st.change.base if st.change else None),
                    indicator=code, section=sid, trend=st.change.direction if st.change else None,
                    change=st.change.ref() if st.change else None, position=s.position, stale=s.stale,
                    has_data=s.has_data))
        paragraphs.extend(narratives.render(section.narrative, ("sections", sid, "narrative"), sid, figures))
        figs = []
        started = time.perf_counter()
        for chart in section.charts:
            made = _chart(chart, inputs, sid, figures)
            if made is not None:
                figs.append(made)
        chart_seconds += time.perf_counter() - started
        rows: list[dict[str, Any]] = []
        records = []
        for code in section.indicators:
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
        sections.append({"id": sid, "title": title, "paragraphs": paragraphs, "findings": findings,
                         "charts": figs, "rows": rows, "marks": marks})

    summary = narratives.render(cfg.summary, ("summary",), "summary", figures)
    security = None
    if index is not None:
        started = time.perf_counter()
        security = security_section(index, iso3, peers, name, lang)
        chart_seconds += time.perf_counter() - started
        figures += security_records(security, IndexFigures(index, iso3, peers, lang))
    # the notes on the sources page
    figures.append(configured("staleness threshold", str(cfg.stale_after), stale_line, section="notes"))
    figures.append(configured("peer window", str(cfg.peer_window), loaded.line_of(("peer_window",)),
                              section="notes"))

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
        "peer_names": sorted(names[c] for c in peers) if cfg.peers.group == "list" else [],
        "stale_after": cfg.stale_after,
        "peer_window": cfg.peer_window,
        "tiles": tiles,
        "summary": summary,
        "sections": sections,
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


Drawn = tuple[charts.Chart, str, bool]  # the chart, its caption, whether it spans the page


def _trend_chart(chart, x: ChartInputs) -> Drawn | None:
    code = chart.indicator
    s, ind = x.stats[code], x.catalog[code]
    if not s.has_data or s.year is None:
        return None
    history = s.history[s.history["year"] > s.year - x.chart_years]
    first = int(history["year"].min())
    band = peer_band(x.ds.headline(code), x.peers, first, s.year)
    made = charts.trend(history, band, ind, x.name, x.plabel, x.lang)
    if made is None:
        return None
    caption = x.lang.text(chart.title) if chart.title else _caption(x.lang, ind, first, s.year)
    return made, caption, False


def _history_obs(s: Stat, year: int) -> Obs:
    found = history_obs(s, year)
    assert found is not None, (s.indicator, year)  # a chart draws only the statistic's own history
    return found


def chart_records(chart, made: charts.Chart, caption: str, x: ChartInputs) -> list[dict]:
    """The numbers a section chart prints: the value at the end of each line or the country's bar
    label (`Chart.labels`), and the first and last year of a trend chart's own caption."""
    codes = [chart.indicator] if chart.type != "small_multiples" else [
        c for c in chart.indicators if x.stats[c].has_data and x.stats[c].year is not None]
    out = []
    for label in made.labels:
        s = x.stats[codes[label.get("panel", 0)]]
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


def _ranking_chart(chart, x: ChartInputs) -> Drawn | None:
    code = chart.indicator
    s, ind, lang = x.stats[code], x.catalog[code], x.lang
    if not s.has_data or s.peers is None:
        return None
    values = pd.concat([s.peers.values, pd.DataFrame([{"iso3": x.iso3, "year": s.year, "value": s.value}])],
                       ignore_index=True)
    made = charts.ranking(values, x.iso3, {c: country_name(x.ds, c, lang) for c in values["iso3"]}, ind, lang,
                          s.peers.median)
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
            history = s.history[s.history["year"] > s.year - x.chart_years]
            first = int(history["year"].min())
            panels.append((x.catalog[code], history, peer_band(x.ds.headline(code), x.peers, first, s.year)))
    made = charts.small_multiples(panels, x.name, x.lang)
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


def _chart(chart, x: ChartInputs, section: str, figures: list[dict]) -> dict | None:
    """A section's chart as the template shows it; the numbers it prints are added to `figures`."""
    drawn = CHART_TYPES[chart.type](chart, x)
    if drawn is None:
        return None
    made, caption, wide = drawn
    figures += [{**r, "section": section, "chart": chart.type} for r in chart_records(chart, made, caption, x)]
    return {"src": _svg_uri(made.svg), "alt": made.alt, "caption": caption, "wide": wide, "kind": made.kind}


def _caption(lang: Lang, ind, first: int, last: int) -> str:
    return lang.gettext("{indicator}, {first}–{last}").format(
        indicator=lang.indicator_with_unit(ind), first=first, last=last)


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
        peers = peers_of(cfg.country, cfg.peers.group, countries.table, cfg.peers.countries)
        shown = peers + [cfg.country]
        return {"config": cfg.model_dump(mode="json"),
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
            security["annex"] = f"../annex/{annex.index}.{lang.code}.html"  # the annex in the brief's language
        figures = json.dumps(doc.figures, indent=1, ensure_ascii=False, sort_keys=True).encode()
        return Document("brief.html.j2", doc.context,
                        attachments=tuple(Attachment(*a) for a in doc.attachments(job.stem)),
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

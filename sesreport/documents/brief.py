"""The country policy brief, a document kind: from a country config and the data to the template's
context, one per country config and language.

Everything the brief prints is computed here, once, and recorded with its provenance in
`figures` (written beside the PDF and attached to it), so that any printed number can be
traced to the published cell it came from.
"""

from __future__ import annotations

import base64
import csv
import io
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
from ..compute import Obs, Stat, indicator_stat, peer_band, peers_of
from ..config import LoadedConfig
from ..data.load import Dataset
from ..errors import Problem, did_you_mean
from ..i18n import INCOME_GROUPS, N_, Lang
from ..narrative import Indicators, IndicatorView, Where, condition_holds, render_block, statement
from . import Attachment, BuildContext, Document, DocumentKind, Job
from .common import shared_context, sources_used

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
            buf = io.StringIO()
            table.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
            out.append((f"{stem}.{name}.csv", buf.getvalue().encode(), f"Data behind the table '{name}'"))
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
    if len(valued) >= 2:
        best = max(valued, key=lambda r: r[1])
        worst = min(valued, key=lambda r: r[1])
        paragraphs.append(_("Highest: {best} ({best_value}); lowest: {worst} ({worst_value}).").format(
            best=best[0], best_value=lang.number(best[1], 2), worst=worst[0], worst_value=lang.number(worst[1], 2)))
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
            "label": lang.text(index.label), "year": year, "info": info}


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
    views = Indicators({code: IndicatorView(code, s, catalog, lang) for code, s in stats.items()}, catalog)
    ncontext = {"ind": views, "country": name}
    inputs = ChartInputs(stats, ds, iso3, peers, name, plabel, catalog, lang, cfg.chart_years)
    figures: list[dict] = []
    used: list[Obs] = []

    def record(code: str, what: str, text: str, obs: Obs | None = None, value: float | None = None,
               **extra: Any) -> None:
        entry: dict[str, Any] = {"indicator": code, "what": what, "text": text}
        if obs is not None:
            entry["observation"] = obs.ref()
            used.append(obs)
        if value is not None:
            entry["value"] = value
        entry.update(extra)
        figures.append(entry)

    # ---------------------------------------------------------------- key figures
    tiles = []
    for code in cfg.key_figures:
        ind, s = catalog[code], stats[code]
        tile: dict[str, Any] = {"label": lang.indicator(ind, short=True), "has_data": s.has_data, "marks": _marks(s),
                "value": None, "year": None, "change": None, "peer": None, "position": None}
        if s.has_data:
            tile["value"] = lang.value(s.value, ind)
            tile["year"] = s.year
            record(code, "key figure", tile["value"], s.latest)
            if s.change5 is not None and s.base5 is not None:
                tile["change"] = _("{change} since {year}").format(change=lang.change(s.change5, ind),
                                                                   year=s.base5.year)
                record(code, "change over 5 years", lang.change(s.change5, ind), s.base5, value=s.change5)
            if s.peers is not None:
                tile["peer"] = _("peer median {value}").format(value=lang.value(s.peers.median, ind))
                record(code, "peer median", lang.value(s.peers.median, ind), value=s.peers.median,
                       peers=s.peers.values.to_dict("records"))
            tile["position"] = s.position
        tiles.append(tile)

    # ---------------------------------------------------------------- sections
    sections = []
    tables: dict[str, pd.DataFrame] = {}
    chart_seconds = 0.0
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
                figures.append({"indicator": code, "what": "statement", "section": sid, "text": st.text,
                                "trend": st.change.direction if st.change else None,
                                "change": st.change.ref() if st.change else None,
                                "position": s.position, "stale": s.stale, "has_data": s.has_data})
        paragraphs.extend(_blocks(section.narrative, ("sections", sid, "narrative"), loaded, lang, ncontext))
        figs = []
        started = time.perf_counter()
        for chart in section.charts:
            made = _chart(chart, inputs)
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
                record(code, "table value", row["value"], s.latest, section=sid)
                if s.change10 is not None:
                    record(code, "change over 10 years", row["change10"], s.base10, value=s.change10, section=sid)
                rec.update(year=s.year, value=s.value, source=s.latest.source_id, vintage=s.latest.vintage,
                           file=s.latest.file, line=s.latest.line, change_5y=s.change5, change_10y=s.change10,
                           peer_median=s.peers.median if s.peers else None,
                           peer_min=s.peers.low if s.peers else None, peer_max=s.peers.high if s.peers else None,
                           peers_n=s.peers.n if s.peers else 0,
                           rank=s.rank, rank_of=s.rank_of)
            records.append(rec)
            rows.append(row)
        tables[sid] = pd.DataFrame(records)
        sections.append({"id": sid, "title": title, "paragraphs": paragraphs, "findings": findings,
                         "charts": figs, "rows": rows,
                         "marks": sorted({m for r in rows for m in r["marks"]})})

    summary = _blocks(cfg.summary, ("summary",), loaded, lang, ncontext)
    security = None
    if index is not None:
        started = time.perf_counter()
        security = security_section(index, iso3, peers, name, lang)
        chart_seconds += time.perf_counter() - started
        info = security["info"]
        figures.append({"indicator": index.index_id, "what": "composite index", "text": security["paragraphs"][0],
                        "value": info["overall"]["value"], "rank": info["overall"]["rank"],
                        "rank_interval": info.get("rank_interval"), "cluster": info.get("cluster"),
                        "forms": {f: v["value"] for f, v in info["forms"].items()},
                        "reference_year": info["reference_year"]})

    # ---------------------------------------------------------------- sources actually used
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
    return BriefContent(context, figures, tables, {"charts": chart_seconds})


def _blocks(blocks, path: tuple, loaded: LoadedConfig, lang: Lang, ncontext: dict) -> list[Markup]:
    out = []
    for i, block in enumerate(blocks):
        file, line = loaded.line_of(path + (i, "text" if block.file is None else "file"))
        where = Where(file, line)
        if block.when and not condition_holds(block.when, ncontext, where, lang.code):
            continue
        text = block.text if isinstance(block.text, str) else lang.text(block.text)
        if text:
            out.append(render_block(text, ncontext, where, lang.code))
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


def _chart(chart, x: ChartInputs) -> dict | None:
    drawn = CHART_TYPES[chart.type](chart, x)
    if drawn is None:
        return None
    made, caption, wide = drawn
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
            for sid, section in loaded.config.sections.items():
                for j, chart in enumerate(section.charts):
                    if chart.type not in CHART_TYPES:
                        file, line = loaded.line_of(("sections", sid, "charts", j, "type"))
                        problems.append(Problem(file, line, f"the brief draws no chart of type '{chart.type}'",
                                                did_you_mean(chart.type, CHART_TYPES)
                                                or f"use one of: {', '.join(sorted(CHART_TYPES))}"))
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
        figures = json.dumps(doc.figures, indent=1, ensure_ascii=False, sort_keys=True).encode()
        return Document("brief.html.j2", doc.context,
                        attachments=tuple(Attachment(*a) for a in doc.attachments(job.stem)),
                        figures=tuple(doc.figures), files=(("figures.json", figures),),
                        timings=tuple(doc.timings.items()))

"""The strategy input, a document kind: a strategy config (`config/strategies/<ID>.yaml`) and the data →
a report (A4) and a slide deck (16:9), one per language, and the monitoring framework as CSV and Excel.

Both renderings read one context, computed here once with the brief's computations (statistics,
peers, generated sentences, narrative blocks, charts); the printed figures, with the observation
behind each, are recorded in `figures` (written beside the PDF and attached to both PDFs).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from ..catalog import Catalog
from ..compute import Obs, Stat, indicator_stat, peers_of
from ..data.load import Dataset
from ..errors import Problem, UserError, did_you_mean
from ..i18n import N_, Lang
from ..narrative import Indicators, IndicatorView, Where, condition_holds, render_block, statement
from ..strategy.config import Block, LoadedStrategy, StrategyConfig, Topic, load_strategies
from ..strategy.monitoring import Progress, progress, table
from . import Attachment, BuildContext, Document, DocumentKind, Job
from .annex import table_csv, table_xlsx
from .brief import CHART_TYPES, ChartInputs, country_name, peer_label
from .common import shared_context, sources_used

STATUS_LABELS = {
    "on_track": N_("on track"),
    "off_track": N_("off track"),
    "no_new_data": N_("no new data since the baseline"),
    "no_data": N_("no data for the baseline"),
}


@dataclass
class StrategyContent:
    """The context both templates read, the printed figures and the monitoring table."""

    context: dict
    figures: list[dict] = field(default_factory=list)
    monitoring: pd.DataFrame = field(default_factory=pd.DataFrame)


class _Record:
    """Collects the printed figures and the observations behind them."""

    def __init__(self) -> None:
        self.figures: list[dict] = []
        self.used: list[Obs] = []

    def add(self, entry: dict, *observations: Obs | None) -> None:
        self.figures.append(entry)
        self.used += [o for o in observations if o is not None]


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _inline(html: Markup) -> Markup:
    """A one-paragraph Markdown block as inline text (for a headline)."""
    text = str(html).strip()
    if text.startswith("<p>") and text.endswith("</p>") and text.count("<p>") == 1:
        text = text[3:-4]
    return Markup(text)


def _blocks(blocks: tuple[Block, ...], path: tuple, strategy: LoadedStrategy, lang: Lang,
            ncontext: dict) -> list[Markup]:
    """The blocks whose condition holds, rendered (the narrative machinery of the brief)."""
    out = []
    for i, block in enumerate(blocks):
        where = Where(*strategy.line_of(path + (i, "text")))
        if block.when and not condition_holds(block.when, ncontext, where, lang.code):
            continue
        text = block.text if isinstance(block.text, str) else lang.text(block.text or {})
        if text:
            out.append(render_block(text, ncontext, where, lang.code))
    return out


class _Sources:
    """Short source lines ("World Bank, World Development Indicators") for the slides."""

    def __init__(self, ds: Dataset, lang: Lang):
        self.names: dict[str, str] = {}
        for f in ds.files:
            if f.source_id not in self.names and not f.error:
                self.names[f.source_id] = f"{lang.gettext(f.publisher)}, {lang.gettext(f.title or f.source_id)}"
        self.lang = lang

    def line(self, observations: list[Obs]) -> str:
        names = sorted({self.names.get(o.source_id, o.source_id) for o in observations})
        return self.lang.gettext("Source: {sources}.").format(sources="; ".join(names)) if names else ""


def _value_year(lang: Lang, ind, obs: Obs | None) -> str:
    return f"{lang.value(obs.value, ind)} ({obs.year})" if obs is not None else "–"


def build_strategy(ds: Dataset, strategy: LoadedStrategy, lang: Lang, as_of: date, catalog: Catalog) -> StrategyContent:
    """Everything both renderings print, computed once."""
    cfg = strategy.config
    iso3 = cfg.country
    _ = lang.gettext
    name = country_name(ds, iso3, lang)
    peers = peers_of(iso3, cfg.peers.group, ds.countries.table, cfg.peers.countries)
    plabel = peer_label(ds, cfg, lang)
    stats: dict[str, Stat] = {
        code: indicator_stat(ds.headline(code), iso3, peers, catalog[code], code, as_of.year, cfg.stale_after,
                             cfg.peer_window)
        for code in cfg.indicators()}
    views = Indicators({code: IndicatorView(code, s, catalog, lang) for code, s in stats.items()}, catalog)
    ncontext = {"ind": views, "country": name}
    inputs = ChartInputs(stats, ds, iso3, peers, name, plabel, catalog, lang, cfg.chart_years)
    record = _Record()
    sources = _Sources(ds, lang)

    topics = []
    progress_rows: list[tuple[str, str, Progress]] = []
    for number, (tid, topic) in enumerate(cfg.topics.items(), start=1):
        made = _topic(tid, number, topic, strategy, stats, inputs, ncontext, record, sources)
        topics.append(made)
        for target in topic.monitoring:
            code = target.indicator
            p = progress(ds.headline(code), iso3, catalog[code], code, target.target, target.target_year,
                         target.baseline_year or cfg.baseline_year, as_of.year)
            progress_rows.append((tid, lang.indicator(catalog[code]), p))
    monitoring = _monitoring_rows(progress_rows, topics, catalog, lang, record)
    on_track = sum(r["status"] == "on_track" for r in monitoring)
    measured = sum(r["status"] in ("on_track", "off_track") for r in monitoring)
    per_slide = cfg.monitoring_rows_per_slide
    chunks = [monitoring[i:i + per_slide] for i in range(0, len(monitoring), per_slide)]

    newest = max((o.vintage for o in record.used if o.vintage), default=None)
    context = {
        **shared_context(ds, lang, as_of),
        "country": name,
        "iso3": iso3,
        "title": lang.text(cfg.title, N_("Input to a national strategy")),
        "organisation": lang.text(cfg.organisation),
        "commissioned_by": lang.text(cfg.commissioned_by),
        "commissioned": lang.month(cfg.commissioned) if cfg.commissioned else None,
        "occasion": lang.text(cfg.occasion),
        "data_vintage": lang.month(date.fromisoformat(newest)) if newest else None,
        "peer_label": plabel,
        "key_messages": _blocks(cfg.key_messages, ("key_messages",), strategy, lang, ncontext),
        "topics": topics,
        "monitoring": monitoring,
        "monitoring_slides": chunks,
        "monitoring_headline": lang.ngettext(
            "{on} of {n} indicator with new data is on track", "{on} of {n} indicators with new data are on track",
            measured).format(on=on_track, n=measured),
        "closing": lang.text(cfg.closing, N_("Thank you")),
        "sources": sources_used(ds, {o.source_id for o in record.used}, lang),
    }
    return StrategyContent(context, record.figures, table(progress_rows))


def _topic(tid: str, number: int, topic: Topic, strategy: LoadedStrategy, stats: dict[str, Stat],
           x: ChartInputs, ncontext: dict, record: _Record, sources: _Sources) -> dict[str, Any]:
    """One chapter: findings, narrative, chart, what data is missing, the policy options."""
    lang, catalog = x.lang, x.catalog
    _ = lang.gettext
    at = ("topics", tid)
    findings: list[str] = []
    missing: list[str] = []
    shown: list[Obs] = []
    for code in topic.indicators:
        s = stats[code]
        if s.latest is None:
            missing.append(lang.indicator(catalog[code]))
            continue
        said = statement(code, s, catalog, lang, x.name, x.plabel)
        findings.append(said.text)
        shown.append(s.latest)
        record.add({"indicator": code, "what": "statement", "section": tid, "text": said.text,
                    "trend": said.change.direction if said.change else None,
                    "change": said.change.ref() if said.change else None,
                    "position": s.position, "stale": s.stale, "has_data": s.has_data,
                    "observation": s.latest.ref()}, s.latest, said.change.base if said.change else None)
    charts = []
    for chart in topic.charts:
        drawn = CHART_TYPES[chart.type](chart, x)
        if drawn is not None:
            made, caption, wide = drawn
            codes = [chart.indicator] if chart.indicator else list(chart.indicators)
            charts.append({"src": _svg_uri(made.svg), "alt": made.alt, "caption": caption, "wide": wide,
                           "source": sources.line([o for c in codes if (o := stats[c].latest) is not None])})
    headline = [_inline(b) for b in _blocks(topic.headline, at + ("headline",), strategy, lang, ncontext)]
    if headline:
        head = headline[0]
    elif shown:
        first = next(c for c in topic.indicators if stats[c].has_data)
        head = Markup.escape(_("{indicator}: {value} in {year}").format(
            indicator=lang.indicator(catalog[first]), value=lang.value(stats[first].value, catalog[first]),
            year=stats[first].year))
    else:
        head = Markup.escape(_("The published data say nothing yet on this topic: the evidence must be built."))
    tiles = [_tile(stats[c], catalog[c], lang) for c in topic.indicators if stats[c].has_data][:3]
    options = []
    for k, option in enumerate(topic.options):
        evidence = []
        for code in option.evidence:
            s, ind = stats[code], catalog[code]
            text = (f"{lang.indicator(ind)}: {lang.value(s.value, ind)} ({s.year})" if s.has_data
                    else f"{lang.indicator(ind)}: {_('no data')}")
            evidence.append(text)
            record.add({"indicator": code, "what": "evidence", "section": f"{tid}.options.{k}", "text": text,
                        "observation": s.latest.ref() if s.latest else None}, s.latest)
        options.append({"title": lang.text(option.title), "rationale": lang.text(option.rationale),
                        "evidence": evidence, "actor": lang.text(option.actor), "timing": lang.text(option.timing)})
    return {
        "id": tid, "number": number, "title": lang.text(topic.title), "question": lang.text(topic.question),
        # a slide's headline has no full stop; the report adds one
        "headline": Markup(str(head).rstrip(". ")), "findings": findings, "missing": missing,
        "paragraphs": _blocks(topic.narrative, at + ("narrative",), strategy, lang, ncontext),
        "charts": charts, "tiles": tiles, "has_data": bool(findings),
        "tiles_source": sources.line(shown[:3]),
        "data_needed": lang.text(topic.data_needed), "options": options,
    }


def _tile(s: Stat, ind, lang: Lang) -> dict[str, Any]:
    """A key figure on a slide: latest value and year, and the peer median."""
    peers = s.peers
    return {"label": lang.indicator(ind, short=True), "value": lang.value(s.value, ind), "year": s.year,
            "position": s.position,
            "peer": lang.gettext("peer median {value}").format(value=lang.value(peers.median, ind)) if peers else None}


def _monitoring_rows(rows: list[tuple[str, str, Progress]], topics: list[dict], catalog: Catalog, lang: Lang,
                     record: _Record) -> list[dict]:
    titles = {t["id"]: t["title"] for t in topics}
    out = []
    for tid, label, p in rows:
        ind = catalog[p.indicator]
        status = lang.gettext(STATUS_LABELS[p.status])
        row = {"topic": titles[tid], "label": label, "unit": lang.unit_label(ind),
               "baseline": _value_year(lang, ind, p.baseline),
               "target": f"{lang.value(p.target, ind)} ({p.target_year})",
               "latest": _value_year(lang, ind, p.latest) if p.status != "no_data" else "–",
               "expected": lang.value(p.expected, ind) if p.expected is not None else "–",
               "status": p.status, "status_label": status}
        out.append(row)
        record.add({"indicator": p.indicator, "what": "monitoring baseline", "section": tid, "text": row["baseline"],
                    "observation": p.baseline.ref() if p.baseline else None}, p.baseline)
        record.add({"indicator": p.indicator, "what": "monitoring status", "section": tid, "text": status,
                    "status": p.status, "progress": p.ref()}, p.latest)
    return out


def slide_count(context: dict) -> int:
    """Slides in the deck: title, agenda, one per topic and one more for its options, the monitoring
    dashboard, closing."""
    topics = context["topics"]
    return 3 + len(topics) + sum(1 for t in topics if t["options"]) + len(context["monitoring_slides"])


class StrategyKind(DocumentKind):
    """`strategy/<ID>.<lang>`: report, slide deck and monitoring framework of a strategy input."""

    name = "strategy"
    outputs = ("pdf", "html", "figures.json", "slides.pdf", "monitoring.csv", "monitoring.xlsx")
    per_country = True

    def load_config(self, config_dir: Path, project) -> tuple[dict[str, LoadedStrategy] | None, list[Problem]]:
        loaded, problems = load_strategies(config_dir, project.catalog)
        for strategy in loaded.values():
            for tid, topic in strategy.config.topics.items():
                for j, chart in enumerate(topic.charts):
                    if chart.type not in CHART_TYPES:
                        file, line = strategy.line_of(("topics", tid, "charts", j, "type"))
                        problems.append(Problem(file, line, f"the strategy draws no chart of type '{chart.type}'",
                                                did_you_mean(chart.type, CHART_TYPES)
                                                or f"use one of: {', '.join(sorted(CHART_TYPES))}"))
        return (loaded or None), problems

    def check(self, project, ds: Dataset) -> list[Problem]:
        known = set(ds.countries.table.index)
        problems = []
        for strategy in (project.configs.get(self.name) or {}).values():
            cfg: StrategyConfig = strategy.config
            for path, code in [(("country",), cfg.country)] + [(("peers", "countries", i), c)
                                                               for i, c in enumerate(cfg.peers.countries)]:
                if code not in known:
                    file, line = strategy.line_of(path)
                    problems.append(Problem(file, line, f"unknown country '{code}'",
                                            did_you_mean(code, known) or "use the World Bank's ISO3 code"))
        return problems

    def plan(self, project, countries: list[str] | None) -> list[Job]:
        jobs = []
        for sid, strategy in sorted((project.configs.get(self.name) or {}).items()):
            if countries and sid not in countries:
                continue
            jobs += [Job(self.name, sid, lang) for lang in strategy.config.languages]
        return jobs

    def fingerprint(self, job: Job, ctx: BuildContext, data) -> dict:
        cfg = ctx.project.configs[self.name][job.name].config
        countries = ctx.ds.countries
        shown = peers_of(cfg.country, cfg.peers.group, countries.table, cfg.peers.countries) + [cfg.country]
        return {"config": cfg.model_dump(mode="json"), "data": data.data.of(shown, cfg.indicators()),
                "countries": {c: (countries.name(c), countries.region(c), countries.income(c)) for c in shown}}

    def build(self, job: Job, ctx: BuildContext, lang: Lang) -> Document:
        from ..execute import template_folders
        from ..render import render_html, write_pdf

        strategy = ctx.project.configs[self.name][job.name]
        content = build_strategy(ctx.ds, strategy, lang, ctx.as_of, ctx.project.catalog)
        figures = json.dumps(content.figures, indent=1, ensure_ascii=False, sort_keys=True).encode()
        csv = table_csv(content.monitoring)
        attachments = (
            Attachment(f"{job.stem}.figures.json", figures, "Every figure printed in this document, with the "
                       "observation, source, vintage, file and line it came from"),
            Attachment(f"{job.stem}.monitoring.csv", csv, "The monitoring framework: baselines, targets, latest "
                       "values and statuses"))
        folders = template_folders(ctx.project.config_dir, self, job)
        slides_html = render_html("strategy_slides.html.j2", content.context, lang, "print", folders)
        stamp = datetime(ctx.as_of.year, ctx.as_of.month, ctx.as_of.day, tzinfo=UTC)
        slides = write_pdf(slides_html, attachments=[(a.name, a.data, a.description) for a in attachments],
                           stamp=stamp)
        expected = slide_count(content.context)
        if slides.pages != expected:
            raise UserError(Problem(strategy.located.file, None, f"the slide deck has {slides.pages} pages for "
                                    f"{expected} slides: a slide's content overflows its page",
                                    "shorten the topic's headline, or give the topic fewer options"))
        xlsx = table_xlsx(content.monitoring, ctx.as_of, content.context["title"])
        return Document("strategy.html.j2", content.context, attachments=attachments, figures=tuple(content.figures),
                        files=(("figures.json", figures), ("slides.pdf", slides.data), ("monitoring.csv", csv),
                               ("monitoring.xlsx", xlsx)))

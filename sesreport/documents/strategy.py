"""The strategy input, a document kind: a strategy config (`config/strategies/<ID>.yaml`) and the data →
a report (A4) and a slide deck (16:9), one per language, and the monitoring framework as CSV and Excel.

Both renderings read one context, computed here once with the brief's computations (statistics,
peers, generated sentences, narrative blocks, charts); every printed number is recorded in `figures`
with what it rests on, once for each time a rendering prints it (`strategy_figures`; written beside
the PDF and attached to both PDFs).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from .. import jsondump
from ..catalog import Catalog
from ..compute import Obs, Stat, indicator_stat
from ..data.load import Dataset
from ..errors import Problem, did_you_mean
from ..headlines import current_first
from ..i18n import N_, Lang
from ..narrative import Indicators, Where, condition_holds, render_block, statement
from ..publisher import publisher_context, publisher_records
from ..strategy.config import Block, LoadedStrategy, StrategyConfig, Topic, load_strategies
from ..strategy.monitoring import Progress, progress, table
from . import Attachment, BuildContext, Document, DocumentKind, ExtraPdf, Job
from .annex import table_csv, table_xlsx
from .brief import CHART_TYPES, ChartInputs, chart_records, country_name, unknown_charts
from .brief_figures import TracedView, key_figure, narrative_parts, statement_parts
from .common import shared_context, sources_used
from .peers import choose_peers, peer_label
from .strategy_figures import (
    REPORT,
    SLIDES,
    Record,
    dashboard_headline,
    evidence,
    monitoring_cells,
    option_count,
    status,
    value_year,
)
from .trace import composed, configured

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


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _inline(html: Markup) -> Markup:
    """A one-paragraph Markdown block as inline text (for a headline)."""
    text = str(html).strip()
    if text.startswith("<p>") and text.endswith("</p>") and text.count("<p>") == 1:
        text = text[3:-4]
    return Markup(text)


@dataclass
class _Narratives:
    """Renders a strategy's blocks with the narrative machinery of the brief, each with its record:
    the numbers it prints, traced through the fields it read (`brief_figures.narrative_parts`)."""

    strategy: LoadedStrategy
    lang: Lang
    context: dict
    reads: list[tuple[str, str]]
    stats: dict[str, Stat]
    catalog: Catalog

    def render(self, blocks: tuple[Block, ...], path: tuple, section: str) -> list[tuple[Markup, dict]]:
        """The blocks whose condition holds, rendered, and the record of each."""
        out = []
        for i, block in enumerate(blocks):
            file, line = self.strategy.line_of(path + (i, "text"))
            where = Where(file, line)
            if block.when and not condition_holds(block.when, self.context, where, self.lang.code):
                continue
            text = block.text if isinstance(block.text, str) else self.lang.text(block.text or {})
            if text:
                self.reads.clear()
                rendered = render_block(text, self.context, where, self.lang.code)
                out.append((rendered, composed("narrative", rendered.striptags(),
                                               narrative_parts(self.reads, self.stats, self.catalog, self.lang),
                                               section=section, block=i, config={"file": file, "line": line})))
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
    name = country_name(ds, iso3, lang)
    group = choose_peers(ds, cfg, as_of.year)
    peers = list(group.countries)
    plabel = peer_label(ds, cfg, lang, group)
    stats: dict[str, Stat] = {
        code: indicator_stat(ds.headline(code), iso3, peers, catalog[code], code, as_of.year, cfg.stale_after,
                             cfg.peer_window, cfg.rules())
        for code in cfg.indicators()}
    reads: list[tuple[str, str]] = []  # the fields narrative blocks read, to trace what they print
    views = Indicators({code: TracedView(code, s, catalog, lang, reads) for code, s in stats.items()}, catalog)
    narratives = _Narratives(strategy, lang, {"ind": views, "country": name}, reads, stats, catalog)
    inputs = ChartInputs(stats, ds, iso3, peers, name, plabel, catalog, lang, cfg.chart_years,
                         rules=cfg.rules(), line_of=strategy.line_of)
    record = Record()
    sources = _Sources(ds, lang)

    key_messages = []
    for message, entry in narratives.render(cfg.key_messages, ("key_messages",), "summary"):
        key_messages.append(message)
        record.put([entry])
    topics = []
    framework: list[tuple[str, int, Progress]] = []
    for number, (tid, topic) in enumerate(cfg.topics.items(), start=1):
        made = _topic(tid, number, topic, strategy, stats, inputs, narratives, record, sources)
        topics.append(made)
        for k, target in enumerate(topic.monitoring):
            code = target.indicator
            p = progress(ds.headline(code), iso3, catalog[code], code, target.target, target.target_year,
                         target.baseline_year or cfg.baseline_year, as_of.year)
            framework.append((tid, k, p))
    monitoring = _monitoring_rows(framework, topics, catalog, lang, record, strategy)
    on_track = sum(r["status"] == "on_track" for r in monitoring)
    measured = sum(r["status"] in ("on_track", "off_track") for r in monitoring)
    per_slide = cfg.monitoring_rows_per_slide
    chunks = [monitoring[i:i + per_slide] for i in range(0, len(monitoring), per_slide)]
    headline = lang.ngettext("{on} of {n} indicator with new data is on track",
                             "{on} of {n} indicators with new data are on track", measured).format(on=on_track,
                                                                                                  n=measured)
    record.put([dashboard_headline(headline, on_track, measured, framework, strategy)],
               to=(REPORT,) + (SLIDES,) * len(chunks))
    commissioned = lang.month(cfg.commissioned) if cfg.commissioned else None
    if commissioned and cfg.commissioned_by:  # on the cover and the title slide
        record.put([configured("commissioned", commissioned, strategy.line_of(("commissioned",)))],
                   to=(REPORT, SLIDES))

    newest = max((o.vintage for o in record.used if o.vintage), default=None)
    context = {
        **shared_context(ds, lang, as_of),
        "country": name,
        "iso3": iso3,
        "title": lang.text(cfg.title, N_("Input to a national strategy")),
        "organisation": lang.text(cfg.organisation),
        "commissioned_by": lang.text(cfg.commissioned_by),
        "commissioned": commissioned,
        "occasion": lang.text(cfg.occasion),
        "data_vintage": lang.month(date.fromisoformat(newest)) if newest else None,
        "peer_label": plabel,
        "key_messages": key_messages,
        "topics": topics,
        "monitoring": monitoring,
        "monitoring_slides": chunks,
        "monitoring_headline": headline,
        "closing": lang.text(cfg.closing, N_("Thank you")),
        "sources": sources_used(ds, {o.source_id for o in record.used}, lang),
    }
    for entry in record.figures:  # every record names its indicator (None: a count, a date)
        entry.setdefault("indicator", None)
    table_rows = [(tid, lang.indicator(catalog[p.indicator]), p) for tid, _, p in framework]
    return StrategyContent(context, record.figures, table(table_rows))


def _topic(tid: str, number: int, topic: Topic, strategy: LoadedStrategy, stats: dict[str, Stat],
           x: ChartInputs, narratives: _Narratives, record: Record, sources: _Sources) -> dict[str, Any]:
    """One chapter: findings, narrative, chart, what data is missing, the policy options."""
    lang, catalog = x.lang, x.catalog
    _ = lang.gettext
    at = ("topics", tid)
    findings: list[str] = []
    missing: list[str] = []
    shown: list[Obs] = []
    ranked = False
    for code in current_first(topic.indicators, stats):  # a chapter opens with a current finding
        s = stats[code]
        if s.latest is None:
            missing.append(lang.phrase(catalog[code]))  # inside a sentence: "no value for: the share of …"
            continue
        # the first sentence that states a rank says among whom; the others say only "rank 2 of 11"
        said = statement(code, s, catalog, lang, x.name, x.plabel, rank_among=not ranked)
        ranked = ranked or said.ranked
        findings.append(said.text)
        shown.append(s.latest)
        base = said.change.base if said.change else None
        record.add(composed("statement", said.text, statement_parts(s, catalog[code], lang, base),
                            indicator=code, section=tid, trend=said.change.direction if said.change else None,
                            change=said.change.ref() if said.change else None, position=s.position,
                            stale=s.stale, has_data=s.has_data), s.latest, base)
    charts: list[dict[str, Any]] = []
    for chart in topic.charts:
        drawn = CHART_TYPES[chart.type](chart, x)
        if drawn is not None:
            made, caption, wide = drawn
            codes = [chart.indicator] if chart.indicator else list(chart.indicators)
            record.put(chart_records(chart, made, caption, x), to=(REPORT,) if charts else (REPORT, SLIDES),
                       section=tid, chart=chart.type)  # the slide shows the first chart
            charts.append({"src": _svg_uri(made.svg), "alt": made.alt, "caption": caption, "wide": wide,
                           "source": sources.line([o for c in codes if (o := stats[c].latest) is not None])})
    head = _headline(tid, topic, stats, x, narratives, record, bool(shown))
    tiles = []
    for code in [c for c in current_first(topic.indicators, stats) if stats[c].has_data][:3]:
        tiles.append(_tile(stats[code], catalog[code], lang))
        record.put(key_figure(code, stats[code], catalog[code], lang, {**tiles[-1], "change": None}), to=(SLIDES,),
                   section=tid)
    paragraphs = []
    for paragraph, entry in narratives.render(topic.narrative, at + ("narrative",), tid):
        paragraphs.append(paragraph)
        record.put([entry])
    options = []
    for k, option in enumerate(topic.options):
        cited = []
        for i, code in enumerate(option.evidence):
            s, ind = stats[code], catalog[code]
            text = (f"{lang.indicator(ind)}: {lang.value(s.value, ind)} ({s.year})" if s.has_data
                    else f"{lang.indicator(ind)}: {_('no data')}")
            cited.append(text)
            record.add(evidence(code, s, ind, lang, text, f"{tid}.options.{k}",
                                strategy.line_of(at + ("options", k, "evidence", i))), s.latest)
        options.append({"title": lang.text(option.title), "rationale": lang.text(option.rationale),
                        "evidence": cited, "actor": lang.text(option.actor), "timing": lang.text(option.timing)})
    if len(options) > 1:  # the options slide's headline counts them
        count = lang.ngettext("%(num)d option for action", "%(num)d options for action", len(options))
        record.put([option_count(count % {"num": len(options)}, len(options), strategy, tid)], to=(SLIDES,))
    return {
        "id": tid, "number": number, "title": lang.text(topic.title), "question": lang.text(topic.question),
        "headline": head, "findings": findings, "missing": missing, "paragraphs": paragraphs,
        "charts": charts, "tiles": tiles, "has_data": bool(findings),
        "tiles_source": sources.line(shown[:3]),
        "data_needed": lang.text(topic.data_needed), "options": options,
    }


def _headline(tid: str, topic: Topic, stats: dict[str, Stat], x: ChartInputs, narratives: _Narratives,
              record: Record, has_data: bool) -> Markup:
    """A topic's finding in one sentence: its first headline block whose condition holds, else its first
    indicator's latest value. Printed twice in the report (summary, chapter) and on the topic's slide."""
    lang, catalog = x.lang, x.catalog
    blocks = narratives.render(topic.headline, ("topics", tid, "headline"), tid)
    entry: dict | None = None
    if blocks:
        head, entry = _inline(blocks[0][0]), blocks[0][1]
    elif has_data:
        first = next(c for c in current_first(topic.indicators, stats) if stats[c].has_data)  # current first
        ind, latest = catalog[first], stats[first].latest
        assert latest is not None  # has_data
        text = lang.gettext("{indicator}: {value} in {year}").format(
            indicator=lang.indicator(ind), value=lang.value(latest.value, ind), year=latest.year)
        head, entry = Markup.escape(text), value_year("headline", text, latest, ind, lang, indicator=first)
    else:
        head = Markup.escape(lang.gettext("The published data say nothing yet on this topic: the evidence must be "
                                          "built."))
    head = Markup(str(head).rstrip(". "))  # a slide's headline has no full stop; the report adds one
    if entry is not None:
        record.put([{**entry, "what": "headline", "text": head.striptags()}], to=(REPORT, REPORT, SLIDES),
                   section=tid)
    return head


def _tile(s: Stat, ind, lang: Lang) -> dict[str, Any]:
    """A key figure on a slide: latest value and year, and the peer median."""
    peers = s.peers
    return {"label": lang.indicator(ind, short=True), "value": lang.value(s.value, ind), "year": s.year,
            "position": s.position,
            "peer": lang.gettext("peer median {value}").format(value=lang.value(peers.median, ind)) if peers else None}


def _monitoring_rows(framework: list[tuple[str, int, Progress]], topics: list[dict], catalog: Catalog, lang: Lang,
                     record: Record, strategy: LoadedStrategy) -> list[dict]:
    """The rows of the monitoring framework as both renderings print them (the report's annex, the
    slides' dashboard), with their records."""
    titles = {t["id"]: t["title"] for t in topics}
    out = []
    for tid, k, p in framework:
        ind = catalog[p.indicator]
        label = lang.gettext(STATUS_LABELS[p.status])
        row = {"topic": titles[tid], "label": lang.indicator(ind), "unit": lang.unit_label(ind),
               "baseline": _value_year(lang, ind, p.baseline),
               "target": f"{lang.value(p.target, ind)} ({p.target_year})",
               "latest": _value_year(lang, ind, p.latest) if p.status != "no_data" else "–",
               "expected": lang.value(p.expected, ind) if p.expected is not None else "–",
               "status": p.status, "status_label": label}
        out.append(row)
        for entry, renderings in monitoring_cells(tid, k, p, ind, lang, row, strategy):
            record.put([entry], to=renderings)
        record.add(status(tid, k, p, label, strategy), p.baseline, p.latest, to=(REPORT, SLIDES))
    return out


def slide_count(context: dict) -> int:
    """Slides in the deck: title, agenda, one per topic and one more for its options, the monitoring
    dashboard, closing."""
    topics = context["topics"]
    return 3 + len(topics) + sum(1 for t in topics if t["options"]) + len(context["monitoring_slides"])


class StrategyKind(DocumentKind):
    """`strategy/<ID>.<lang>`: report, slide deck and monitoring framework of a strategy input."""

    name = "strategy"
    long = True
    outputs = ("pdf", "html", "figures.json", "slides.pdf", "monitoring.csv", "monitoring.xlsx")
    per_country = True

    def load_config(self, config_dir: Path, project) -> tuple[dict[str, LoadedStrategy] | None, list[Problem]]:
        loaded, problems = load_strategies(config_dir, project.catalog)
        for strategy in loaded.values():
            problems += unknown_charts(strategy.config.topics, "topics", strategy.line_of, "strategy")
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
        shown = [*choose_peers(ctx.ds, cfg, ctx.as_of.year).countries, cfg.country]
        return {"config": cfg.model_dump(mode="json"), "data": data.data.of(shown, cfg.indicators()),
                "countries": {c: (countries.name(c), countries.region(c), countries.income(c)) for c in shown}}

    def build(self, job: Job, ctx: BuildContext, lang: Lang) -> Document:
        from ..execute import template_folders
        from ..render import render_html

        strategy = ctx.project.configs[self.name][job.name]
        content = build_strategy(ctx.ds, strategy, lang, ctx.as_of, ctx.project.catalog)
        content.context["publisher"] = publisher_context(ctx.project, lang, ctx.as_of.year, content.context["title"],
                                                         content.context["country"])
        content.figures += [{**r, "rendering": "report", "indicator": None}
                            for r in publisher_records(ctx.project, lang, ctx.as_of.year)]
        figures = jsondump.dumps(content.figures).encode()  # the text json.dumps(indent=1, sort_keys=True) gives
        csv = table_csv(content.monitoring)
        attachments = (
            Attachment(f"{job.stem}.figures.json", figures, "Every figure printed in this document, with the "
                       "observation, source, vintage, file and line it came from"),
            Attachment(f"{job.stem}.monitoring.csv", csv, "The monitoring framework: baselines, targets, latest "
                       "values and statuses"))
        folders = template_folders(ctx.project.config_dir, self, job)
        slides_html = render_html("strategy_slides.html.j2", content.context, lang, "print", folders)
        expected = slide_count(content.context)
        slides = ExtraPdf("slides.pdf", slides_html, attachments, pages=expected, wrong_pages=Problem(
            strategy.located.file, None, f"the slide deck has {{pages}} pages for {expected} slides: a slide's "
            "content overflows its page", "shorten the topic's headline, or give the topic fewer options"))
        xlsx = table_xlsx(content.monitoring, ctx.as_of, content.context["title"])
        return Document("strategy.html.j2", content.context, attachments=attachments, figures=tuple(content.figures),
                        files=(("figures.json", figures), ("monitoring.csv", csv), ("monitoring.xlsx", xlsx)),
                        extra_pdfs=(slides,))

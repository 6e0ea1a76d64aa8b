"""The programme implementation report, a document kind: `config/programme.yaml`, the register
(`config/activities.yaml`), the configured strategy inputs and the data → one report per biennium and
language (`implementation/<biennium>.<lang>`), with the coverage annex as CSV.

Per indicator: the target, the outcome counted by the declared rule, the member States counted with
the evidence found for each and those that nearly count with what they lack; then the narrative
blocks, regional and country sections from the register (with links to the country documents), and
every member State's data coverage by form of security. Every printed count is recorded in
`figures` with what it rests on, so that the change log can say how an outcome moved and why.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

from ..catalog import FORMS
from ..data.load import Dataset
from ..errors import Problem, did_you_mean
from ..i18n import N_, Lang
from ..narrative import Where, render_block
from ..programme.config import DataRule, Entry, Programme, biennium_period, date_period, load_programme
from ..programme.rules import Finding, Outcome, State, evaluate, latest_in_window, state_of
from ..publisher import publisher_context, publisher_records
from . import Attachment, BuildContext, Document, DocumentKind, Job
from .annex import FORM_SHORT
from .brief import country_name
from .common import shared_context, sources_used, table_csv

ACTIVITY_LABELS = {"project": N_("Project"), "survey": N_("Survey"), "technical_advice": N_("Technical advice")}
LACK_LABELS = {
    "indicators": N_("fewer than {n} indicators with a latest year in {window} ({found})"),
    "forms": N_("fewer than {n} forms of security covered ({found})"),
    "strategy_input": N_("no strategy input configured"),
    "use": N_("no use recorded in {window}"),
}


def members(ds: Dataset) -> set[str]:
    """Member States: the countries of the classification (aggregates are kept apart by it)."""
    return {str(c) for c in ds.countries.table.index}


def project_state(ds: Dataset, programme: Programme, strategies: set[str]) -> State:
    forms: dict[str, str | None] = {code: ds.catalog[code].form for code in ds.catalog.indicators}
    return state_of(ds.resolved, forms, members(ds), strategies, programme.register.activities)


def outcomes(programme: Programme, state: State, biennium: str) -> list[Outcome]:
    return [evaluate(ind.id, ind.rule, biennium, state, ind.targets.get(biennium), ind.reported.get(biennium))
            for _, _, ind in programme.config.indicators()]


def coverage_table(ds: Dataset, state: State, programme: Programme, biennium: str) -> pd.DataFrame:
    """Every member State's indicators with a latest year in the window, by form of security, and
    whether the first indicator's data rule holds for it."""
    rules = [ind.rule.data_generated for _, _, ind in programme.config.indicators() if ind.rule.data_generated]
    rule = rules[0] if rules else DataRule(min_indicators=1)
    latest = latest_in_window(state, rule, biennium_period(biennium))
    latest = latest.assign(form=latest["indicator"].map(state.forms).fillna(""))
    index = pd.Index(sorted(state.members), name="iso3")
    counts = pd.crosstab(latest["iso3"], latest["form"]).reindex(index=index, columns=list(FORMS), fill_value=0)
    table = pd.DataFrame({"iso3": index, "country": [ds.countries.name(c) for c in index],
                          "region": [ds.countries.region(c) for c in index]})
    table["indicators"] = latest.groupby("iso3").size().reindex(index, fill_value=0).to_numpy()
    for form in FORMS:
        table[form] = counts[form].to_numpy()
    table["forms_covered"] = (counts > 0).sum(axis=1).to_numpy()
    table["latest_year"] = latest.groupby("iso3")["year"].max().reindex(index).astype("Int64").to_numpy()
    table["data_generated"] = (table["indicators"] >= rule.min_indicators) & (table["forms_covered"] >= rule.min_forms)
    return table


def period_text(text: str, lang: Lang) -> str:
    """A register date as precise as it was written: 20 November 2001, November 2001, 2001, 2000–2001."""
    period = date_period(text)
    if period.start == period.end:
        return lang.date(period.start)
    if period.start.year == period.end.year and period.start.month == period.end.month:
        return lang.month(period.start)
    if period.start.year == period.end.year:
        return str(period.start.year)
    return f"{period.start.year}–{period.end.year}"


def _why(f: Finding, lang: Lang) -> dict[str, Any]:
    """The evidence a counted (or nearly counted) member State rests on, as printed."""
    out: dict[str, Any] = {"indicators": None, "forms": None, "uses": [], "strategy": None}
    if f.data is not None:
        out["indicators"] = len(f.data.evidence)
        out["forms"] = ", ".join(lang.gettext(FORM_SHORT[x]) for x in f.data.forms) or "–"
        out["years"] = (f"{min(e.year for e in f.data.evidence)}–{max(e.year for e in f.data.evidence)}"
                        if f.data.evidence else "–")
    if f.use is not None:
        out["strategy"] = f.use.strategy_input
        out["uses"] = [f"{lang.text(e.result.text)} ({period_text(e.date, lang)})" for e in f.use.uses]
    return out


def _lacks(f: Finding, outcome_rule, lang: Lang, window: str) -> list[str]:
    out = []
    for lack in f.lacks:
        text = lang.gettext(LACK_LABELS[lack])
        if lack == "indicators" and f.data is not None:
            text = text.format(n=outcome_rule.data_generated.min_indicators, window=window, found=len(f.data.evidence))
        elif lack == "forms" and f.data is not None:
            text = text.format(n=outcome_rule.data_generated.min_forms, found=len(f.data.forms))
        else:
            text = text.format(window=window)
        if lack == "use" and f.use is not None and f.use.last_use is not None:
            last = f.use.last_use
            text += " " + lang.gettext("(last: {result}, {date})").format(result=lang.text(last.result.text),
                                                                        date=period_text(last.date, lang))
        out.append(text)
    return out


def _reason(f: Finding) -> str:
    """Why a member State counts, in the figures record (English; read by the change log)."""
    parts = []
    if f.data is not None:
        parts.append(f"{len(f.data.evidence)} indicators, {len(f.data.forms)} forms")
    if f.use is not None and f.use.uses:
        parts.append("; ".join(f"{e.result.type.replace('_', ' ')} recorded on {e.date} ({e.id})" for e in f.use.uses))
    return "; ".join(parts)


def _lack_reason(f: Finding) -> str:
    parts = []
    for lack in f.lacks:
        if lack == "indicators" and f.data is not None:
            parts.append(f"{len(f.data.evidence)} indicators in the window")
        elif lack == "forms" and f.data is not None:
            parts.append(f"{len(f.data.forms)} forms in the window")
        else:
            parts.append({"strategy_input": "no strategy input", "use": "no use recorded"}[lack])
    return "; ".join(parts)


def _indicator_block(outcome: Outcome, ind, where: tuple[str, int | None], ds: Dataset, lang: Lang,
                     window: str, figures: list[dict], record: set[str]) -> dict[str, Any]:
    _ = lang.gettext
    name = {c: country_name(ds, c, lang) for c in {f.iso3 for f in outcome.counted + outcome.near}}
    counted = [{"iso3": f.iso3, "country": name[f.iso3], **_why(f, lang)}
               for f in sorted(outcome.counted, key=lambda f: name[f.iso3])]
    near = [{"iso3": f.iso3, "country": name[f.iso3], **_why(f, lang),
             "lacks": _lacks(f, ind.rule, lang, window)} for f in sorted(outcome.near, key=lambda f: name[f.iso3])]
    outsiders = [{"iso3": e.country, "id": e.id, "result": lang.text(e.result.text)} for e in outcome.not_members]
    for f in outcome.counted:
        if f.data is not None:
            record.update(f"{e.file}:{e.line}" for e in f.data.evidence)
    figures.append({"what": "outcome", "indicator": outcome.indicator, "section": outcome.biennium,
                    "text": str(outcome.value), "value": outcome.value, "target": outcome.target,
                    "counted": {f.iso3: _reason(f) for f in outcome.counted},
                    "near": {f.iso3: _lack_reason(f) for f in outcome.near},
                    "data_generated": list(outcome.data_generated),
                    "names": {c: ds.countries.name(c) for c in sorted(
                        {f.iso3 for f in outcome.counted + outcome.near} | set(outcome.data_generated))},
                    "evidence": {f.iso3: [{"indicator": e.indicator, "year": e.year, "file": e.file, "line": e.line}
                                          for e in f.data.evidence] for f in outcome.counted if f.data is not None},
                    "rule": {"file": where[0], "line": where[1]}})
    figures.append({"what": "data generated", "indicator": outcome.indicator, "section": outcome.biennium,
                    "text": str(len(outcome.data_generated)), "countries": list(outcome.data_generated)})
    if outcome.target is not None:
        figures.append({"what": "target", "indicator": outcome.indicator, "section": outcome.biennium,
                        "text": str(outcome.target), "config": {"file": where[0], "line": where[1]}})
    rule = ind.rule
    data_rule = (_("at least {n} catalog indicators covering at least {k} forms of security, each with its latest "
                   "year in {window}").format(n=rule.data_generated.min_indicators, k=rule.data_generated.min_forms,
                                              window=window) if rule.data_generated else None)
    use_rule = None
    if rule.used:
        use_rule = (_("a strategy input configured and a use recorded in the register in {window}")
                    if rule.used.strategy_input else _("a use recorded in the register in {window}"))
        use_rule = use_rule.format(window=window)
    n = outcome.value
    return {
        "id": outcome.indicator, "definition": lang.text(ind.definition),
        "target": (lang.ngettext("{n} member State", "{n} member States", outcome.target).format(n=outcome.target)
                   if outcome.target is not None else _("no target declared for this biennium")),
        "outcome": lang.ngettext("{n} member State", "{n} member States", n).format(n=n),
        "reported": outcome.reported, "data_rule": data_rule, "use_rule": use_rule,
        "data_generated": len(outcome.data_generated),
        "counted": counted, "near": near, "outsiders": outsiders,
    }


def _activity(e: Entry, lang: Lang) -> dict[str, Any]:
    return {"id": e.id, "date": period_text(e.date, lang), "activity": lang.gettext(ACTIVITY_LABELS[e.activity]),
            "delivered": lang.text(e.delivered), "to": lang.text(e.to), "result": lang.text(e.result.text),
            "reference": e.reference}


def _key_figures(ds: Dataset, iso3: str, codes: tuple[str, ...], last_year: int, lang: Lang,
                 figures: list[dict], biennium: str, record: set[str]) -> list[dict]:
    out = []
    for code in codes:
        rows = ds.headline(code)
        rows = rows[(rows["iso3"] == iso3) & (rows["year"] <= last_year)]
        if not len(rows):
            continue
        last = rows.iloc[-1]
        ind = ds.catalog[code]
        text = lang.value(float(last["value"]), ind)
        out.append({"label": lang.indicator(ind, short=True), "value": text, "year": int(last["year"])})
        record.add(f"{last['file']}:{last['line']}")
        figures.append({"what": "key figure", "indicator": code, "iso3": iso3, "section": biennium, "text": text,
                        "year": int(last["year"]),
                        "observation": {"file": str(last["file"]), "line": int(last["line"]),
                                        "source_id": str(last["source_id"])}})
    return out


def _language(wanted: str, available: tuple[str, ...]) -> str:
    """The version of a country document to link to: the report's language, else English, else its first."""
    return wanted if wanted in available else "en" if "en" in available else available[0]


def _regions(programme: Programme, project, ds: Dataset, lang: Lang, biennium: str, figures: list[dict],
             record: set[str]) -> list[dict]:
    """Regional and country sections, one for each member State the register names: its activities in
    the biennium, its key figures at the end of the biennium and the documents built for it."""
    period = biennium_period(biennium)
    entries = [e for e in programme.register.activities if e.period.within(period)]
    strategies = set((project.configs.get("strategy") or {}).keys())
    regions: dict[str, list[dict]] = {}
    named = {e.country for e in programme.register.activities if e.country and ds.countries.is_country(e.country)}
    for iso3 in sorted(named, key=lambda c: country_name(ds, c, lang)):
        config = project.countries.get(iso3)
        docs = []
        if config is not None and "brief" in config.config.documents:
            docs.append({"label": lang.gettext("Country brief"),
                         "href": f"../brief/{iso3}.{_language(lang.code, config.config.languages)}.html"})
        if iso3 in strategies:
            langs = project.configs["strategy"][iso3].config.languages
            docs.append({"label": lang.gettext("Strategy input"),
                         "href": f"../strategy/{iso3}.{_language(lang.code, langs)}.html"})
        codes = config.config.key_figures if config is not None else ()
        regions.setdefault(ds.countries.region(iso3), []).append({
            "iso3": iso3, "country": country_name(ds, iso3, lang),
            "activities": [_activity(e, lang) for e in entries if e.country == iso3],
            "key_figures": _key_figures(ds, iso3, codes, period.end.year, lang, figures, biennium, record),
            "documents": docs})
    out = [{"title": lang.text(programme.config.regions.get(region, {}), region), "countries": countries}
           for region, countries in sorted(regions.items())]
    wide = [_activity(e, lang) for e in entries if not e.country]
    if wide:
        out.append({"title": lang.gettext("Work not placed in one country"), "countries": [
            {"iso3": None, "country": None, "activities": wide, "key_figures": [], "documents": []}]})
    return out


def _coverage_rows(table: pd.DataFrame, ds: Dataset, lang: Lang, figures: list[dict], biennium: str) -> list[dict]:
    rows = []
    names = {iso3: country_name(ds, iso3, lang) for iso3 in table["iso3"]}
    for r in sorted(table.itertuples(index=False), key=lambda r: _sort_key(names[r.iso3])):
        name = names[r.iso3]
        counts = [getattr(r, f) for f in FORMS]
        rows.append({"country": name, "indicators": r.indicators, "forms": counts, "covered": r.forms_covered,
                     "latest": "" if pd.isna(r.latest_year) else int(r.latest_year),
                     "generated": bool(r.data_generated)})
        figures.append({"what": "coverage", "iso3": r.iso3, "section": biennium, "text": str(r.indicators),
                        "forms": dict(zip(FORMS, counts))})
    return rows


def _sort_key(name: str) -> str:
    """Names sorted as a reader looks them up: accents and case aside."""
    return "".join(c for c in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(c))


def build_report(ctx: BuildContext, programme: Programme, biennium: str, lang: Lang) -> tuple[dict, list[dict], bytes]:
    """Everything the report prints, its figures record and the coverage annex as CSV."""
    ds, project = ctx.ds, ctx.project
    _ = lang.gettext
    cfg = programme.config
    strategies = set((project.configs.get("strategy") or {}).keys())
    state = project_state(ds, programme, strategies)
    period = biennium_period(biennium)
    window = f"{period.start.year}–{period.end.year}"
    figures: list[dict] = []
    record: set[str] = set()
    results = {o.indicator: o for o in outcomes(programme, state, biennium)}
    objectives = []
    for i, o in enumerate(cfg.objectives):
        operational = []
        for j, op in enumerate(o.operational):
            blocks = []
            for k, ind in enumerate(op.indicators):
                path = ("objectives", i, "operational", j, "indicators", k, "rule")
                where = (programme.located.file, programme.located.line_of(path))
                blocks.append(_indicator_block(results[ind.id], ind, where, ds, lang, window, figures, record))
            operational.append({"id": op.id, "title": lang.text(op.title), "indicators": blocks})
        objectives.append({"id": o.id, "title": lang.text(o.title), "operational": operational})
    table = coverage_table(ds, state, programme, biennium)
    generated = int(table["data_generated"].sum())
    ncontext = {"data_generated": generated, "member_states": len(state.members)}
    narrative = []
    for k, block in enumerate(cfg.narrative.get(biennium, ())):
        line = programme.located.line_of(("narrative", biennium, k, "text"))
        narrative.append({"title": lang.text(block.title),
                          "html": render_block(lang.text(block.text), ncontext, Where(programme.located.file, line),
                                               lang.code)})
    figures.append({"what": "member States with data", "section": biennium, "text": str(generated),
                    "of": len(state.members)})
    source_ids = set(ds.resolved.loc[ds.resolved["iso3"].isin(state.members), "source_id"].unique())
    context = {
        **shared_context(ds, lang, ctx.as_of),
        "title": f"{lang.text(cfg.title, N_('Implementation report'))} {window}",
        "organisation": lang.text(cfg.organisation),
        "sector": lang.text(cfg.sector),
        "biennium": window,
        "objectives": objectives,
        "narrative": narrative,
        "links": list(cfg.links),
        "regions": _regions(programme, project, ds, lang, biennium, figures, record),
        "forms": [{"id": f, "short": lang.gettext(FORM_SHORT[f])} for f in FORMS],
        "coverage": _coverage_rows(table, ds, lang, figures, biennium),
        "coverage_total": generated,
        "member_states": len(state.members),
        "sources": sources_used(ds, {str(s) for s in source_ids}, lang),
    }
    return context, figures, table_csv(table)


class ImplementationKind(DocumentKind):
    """`implementation/<biennium>.<lang>`: the programme implementation report of one biennium."""

    name = "implementation"
    long = True
    outputs = ("pdf", "html", "figures.json", "coverage.csv")

    def load_config(self, config_dir: Path, project) -> tuple[Programme | None, list[Problem]]:
        return load_programme(config_dir)

    def check(self, project, ds: Dataset) -> list[Problem]:
        """A register country unknown to ISO 3166 is a typing mistake; one that the classification
        does not hold as a member State is reported in the document, not here."""
        import pycountry

        programme: Programme | None = project.configs.get(self.name)
        if programme is None:
            return []
        problems = []
        known = members(ds) | {c.alpha_3 for c in pycountry.countries}
        for i, entry in enumerate(programme.register.activities):
            if entry.country and entry.country not in known:
                file, line = programme.line_of_activity(i)
                problems.append(Problem(file, line, f"unknown country '{entry.country}'",
                                        did_you_mean(entry.country, sorted(members(ds)))
                                        or "use the ISO3 code of the country"))
        return problems

    def plan(self, project, countries: list[str] | None) -> list[Job]:
        programme: Programme | None = project.configs.get(self.name)
        if programme is None:
            return []
        return [Job(self.name, b, lang) for b in programme.config.bienniums for lang in programme.config.languages]

    def fingerprint(self, job: Job, ctx: BuildContext, data) -> dict:
        programme: Programme = ctx.project.configs[self.name]
        digests = hashlib.sha256(json.dumps(sorted((f"{k[0]}|{k[1]}", v) for k, v in data.data.digests.items()))
                                 .encode()).hexdigest()
        strategies = ctx.project.configs.get("strategy") or {}
        return {"programme": programme.config.model_dump(mode="json"),
                "register": programme.register.model_dump(mode="json"),
                "strategies": {k: v.config.languages for k, v in sorted(strategies.items())},
                "countries": {c: {"key_figures": list(v.config.key_figures), "languages": list(v.config.languages),
                                  "documents": list(v.config.documents)}
                              for c, v in sorted(ctx.project.countries.items())},
                "data": [data.data.meta, digests],
                "classification": sorted(members(ctx.ds))}

    def build(self, job: Job, ctx: BuildContext, lang: Lang) -> Document:
        programme: Programme = ctx.project.configs[self.name]
        context, figures, csv = build_report(ctx, programme, job.name, lang)
        context["publisher"] = publisher_context(ctx.project, lang, ctx.as_of.year, context["title"])
        figures += publisher_records(ctx.project, lang, ctx.as_of.year)
        traced = json.dumps(figures, indent=1, ensure_ascii=False, sort_keys=True).encode()
        attachments = (
            Attachment(f"{job.stem}.figures.json", traced, "Every count printed in this report, with the member "
                       "States, observations and register entries it rests on"),
            Attachment(f"{job.name}.coverage.csv", csv, "Every member State's data coverage by form of security"))
        return Document("implementation.html.j2", context, attachments=attachments, figures=tuple(figures),
                        files=(("figures.json", traced), ("coverage.csv", csv)))


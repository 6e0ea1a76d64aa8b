"""The cross-country statistical annex: every country's composite index, rank interval, cluster and
data coverage, the methodology generated from the index configuration, and the sources.

The index tables are also exported as CSV and Excel beside the PDF.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from pydantic import Field

from .. import jsondump
from ..catalog import FORMS
from ..data.load import Dataset
from ..errors import Problem, did_you_mean
from ..i18n import N_, Lang
from ..publisher import publisher_context, publisher_records
from ..schema import Strict, register, validate
from ..yamlio import load_yaml
from . import Attachment, BuildContext, Document, DocumentKind, Job
from .common import integer_columns, shared_context, sources_used, table_csv
from .trace import configured, indexed, yaml_line

Text = dict[str, str]


FORM_SHORT = {
    "labour_market": N_("Labour market"), "employment": N_("Employment"), "job": N_("Job"), "work": N_("Work"),
    "skill_reproduction": N_("Skill reproduction"), "income": N_("Income"), "representation": N_("Representation"),
}


TITLE = N_("Socio-economic security across countries: statistical annex")
KIND_SHORT = {"input": N_("input"), "process": N_("process"), "outcome": N_("outcome")}


class AnnexConfig(Strict):
    index: str
    languages: tuple[str, ...] = ("en",)
    title: Text = {}
    organisation: Text = {}
    notes: tuple[Text, ...] = Field(default=())


register(AnnexConfig)


def export_table(result, ds: Dataset) -> pd.DataFrame:
    """The index table as exported: one row per country, language-neutral column names."""
    table = result.table().reset_index()
    table.insert(1, "country", [ds.countries.name(c) for c in table["iso3"]])
    table.insert(2, "region", [ds.countries.region(c) for c in table["iso3"]])
    table.insert(3, "income_group", [ds.countries.income(c) for c in table["iso3"]])
    table["reference_year"] = result.reference_year
    table = table.sort_values(["rank", "country"], na_position="last", kind="stable").reset_index(drop=True)
    for col in table.columns:
        if table[col].dtype == float:
            table[col] = table[col].round(4)
    return integer_columns(table)


def _result_digests(result, ds: Dataset) -> dict[str, str]:
    """What an annex prints of the index result, as digests: the same for every language of it."""
    return {"table": hashlib.sha256(table_csv(export_table(result, ds))).hexdigest(),
            "method": json.dumps(result.method, sort_keys=True, default=str),
            "audit": hashlib.sha256(audit_csv(result)).hexdigest()}


def audit_csv(result) -> bytes:
    """The statistical audit as one long CSV table (empty, with its header, when no audit was run)."""
    from ..index.audit import Audit

    audit = result.audit
    table = audit.table() if isinstance(audit, Audit) else pd.DataFrame(
        columns=["section", "node", "item", "iso3", "statistic", "value"])
    return table_csv(table)


def table_xlsx(table: pd.DataFrame, when: date, title: str) -> bytes:
    """An Excel workbook with the table; its internal dates are fixed so that it is reproducible."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "index"
    sheet.append(list(table.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.itertuples(index=False):
        sheet.append([None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in row])
    sheet.freeze_panes = "C2"
    stamp = datetime(when.year, when.month, when.day)
    book.properties.created = stamp
    book.properties.modified = stamp
    book.properties.title = title
    book.properties.creator = "sesreport"
    raw = io.BytesIO()
    book.save(raw)
    # openpyxl stamps the save time: rewrite the zip with fixed dates, inside and out
    fixed = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + fixed + rb"\g<2>", data)
            member = zipfile.ZipInfo(info.filename, date_time=(when.year, when.month, when.day, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = info.external_attr
            dst.writestr(member, data)
    return out.getvalue()


def annex_context(ds: Dataset, result, cfg: AnnexConfig, defaults_organisation: Text, lang: Lang,
                  as_of: date) -> tuple[dict, pd.DataFrame, list[dict]]:
    """The annex's template context, its table as exported, and its printed figures."""
    from ..index import CLUSTER_LABELS, FORM_LABELS
    from ..index.prose import methodology

    _ = lang.gettext
    table = export_table(result, ds)
    forms = [{"id": f, "label": _(FORM_LABELS[f]), "short": _(FORM_SHORT[f])} for f in FORMS]
    rows = []
    for r in table.itertuples(index=False):
        ok = r.status == "ok"
        interval = ""
        if ok and hasattr(r, "rank_p05") and pd.notna(r.rank_p05):
            interval = f"{int(r.rank_p05)}–{int(r.rank_p95)}"
        rows.append({
            "iso3": r.iso3,
            "country": lang.country(r.iso3, r.country, ds.countries.display),
            "region": _(r.region) if r.region else "",
            "overall": lang.number(r.overall, 2) if ok else None,
            "rank": int(r.rank) if ok else None,
            "interval": interval,
            "forms": [lang.number(getattr(r, f), 2) if pd.notna(getattr(r, f)) else "" for f in FORMS],
            "cluster": _(CLUSTER_LABELS[r.cluster]) if ok and isinstance(r.cluster, str) else "",
            "coverage": lang.with_unit(lang.number(100 * r.coverage, 0), "percent") if pd.notna(r.coverage) else "",
            "missing": "" if ok else missing_text(result, r.iso3, lang),
        })
    ranked = [row for row in rows if row["rank"] is not None]
    unranked = sorted((row for row in rows if row["rank"] is None), key=lambda row: row["country"])
    clusters = table[table["status"] == "ok"]["cluster"].value_counts()
    cluster_rows = [{"label": _(CLUSTER_LABELS[c]), "n": int(clusters.get(c, 0))} for c in CLUSTER_LABELS]
    labels = {code: lang.indicator(ds.catalog[code]) for code in ds.catalog}
    names = dict(zip(table["iso3"], table["country"]))
    method = methodology(result, lang, labels, lambda iso3: lang.country(iso3, names[iso3], ds.countries.display),
                         lambda path: yaml_line(result.spec.file, path))
    used_sources = set(result.inputs["source_id"].unique())
    covered = len(ranked)
    context = {
        **shared_context(ds, lang, as_of),
        "title": lang.text(cfg.title, TITLE),
        "index_label": lang.text(result.label),
        "organisation": lang.text(cfg.organisation or defaults_organisation),
        "reference_year": result.reference_year,
        "covered": covered,
        "considered": len(rows),
        "forms": forms,
        "rows": ranked + unranked,
        "clusters": cluster_rows,
        "methodology": [{"heading": h, "paragraphs": ps} for h, ps in method.sections],
        "sources": sources_used(ds, used_sources, lang),
    }
    figures = annex_figures(result, table, ranked + unranked, cluster_rows)
    figures += method.figures
    return context, table, figures


def missing_text(result, iso3: str, lang: Lang) -> str:
    """What an unranked country lacks: its count of indicators, and the sub-indexes without a value."""
    _ = lang.gettext
    cov = result.coverage.loc[iso3]
    text = _("insufficient data: {n} of {m} indicators").format(n=lang.number(cov["indicators_available"]),
                                                                 m=lang.number(cov["indicators_total"]))
    lacking = [_(KIND_SHORT[k]) for k in KIND_SHORT if result.status.at[iso3, f"overall.{k}"] != "ok"]
    if lacking:
        text += "; " + _("no {sub_indexes}").format(sub_indexes=", ".join(lacking))
    return text


def annex_figures(result, table: pd.DataFrame, rows: list[dict], clusters: list[dict]) -> list[dict]:
    """Every number of the annex's table and cover, with what it rests on (see `trace`): the reference
    year (the index file), the counts of countries, and per country its rank, range, index value,
    form values and coverage, each resting on the country's index inputs, listed once per country
    (`inputs_of`). The methodology's paragraphs, generated from the index file and the run, are
    recorded by `prose.methodology`, one traced part per number."""
    from ..index import CLUSTER_LABELS

    spec = result.spec
    year = (spec.file, yaml_line(spec.file, ("reference_year",)))
    ok = table[table["status"] == "ok"]
    out: list[dict] = [configured("reference year", str(result.reference_year), year, section=part)
                       for part in ("cover", "table")]
    out.append({"what": "countries ranked", "text": str(len(ok)), "countries": list(ok["iso3"])})
    out.append({"what": "countries considered", "text": str(len(table)), "countries": list(table["iso3"])})
    for cluster, row in zip(CLUSTER_LABELS, clusters):
        out.append({"what": "countries in cluster", "cluster": cluster, "text": str(row["n"]),
                    "countries": list(ok.loc[ok["cluster"] == cluster, "iso3"])})
    names = dict(zip(table["iso3"], table["country"]))
    for row in rows:
        iso3 = row["iso3"]
        country = {"iso3": iso3, "country": names[iso3], "inputs_of": iso3}
        out.append(indexed("index inputs", "", result.evidence(iso3), iso3=iso3, country=names[iso3]))
        printed = [("rank", "overall", str(row["rank"]) if row["rank"] is not None else ""),
                   ("index value", "overall", row["overall"] or ""), ("rank range", "overall", row["interval"]),
                   *(("form value", form, text) for form, text in zip(FORMS, row["forms"])),
                   ("data coverage", "overall", row["coverage"]), ("data missing", "overall", row["missing"])]
        for what, node, text in printed:
            if text:
                out.append({"what": what, "text": text, "node": node, **country,
                            **({"form": node} if node in FORMS else {})})
    return out


class AnnexKind(DocumentKind):
    """`annex/<index>.<lang>`: configured in `config/annex.yaml`; also writes the table as CSV and Excel, and the
    statistical audit as CSV."""

    name = "annex"
    long = True
    outputs = ("pdf", "html", "csv", "xlsx", "audit.csv", "figures.json")

    def load_config(self, config_dir: Path, project) -> tuple[AnnexConfig | None, list[Problem]]:
        path = config_dir / "annex.yaml"
        if not path.is_file():
            return None, []
        located = load_yaml(path)
        cfg, problems = validate(AnnexConfig, located)
        if cfg is not None and cfg.index not in project.indices:
            hint = did_you_mean(cfg.index, project.indices) or "define it in config/indices/<id>.yaml"
            problems.append(Problem(located.file, located.line_of(("index",)), f"unknown index '{cfg.index}'", hint))
        return cfg, problems

    def plan(self, project, countries: list[str] | None) -> list[Job]:
        cfg = project.configs.get(self.name)
        if cfg is None:
            return []
        return [Job(self.name, cfg.index, lang) for lang in cfg.languages]

    def indices(self, project, job: Job) -> set[str]:
        return {job.name}

    def fingerprint(self, job: Job, ctx: BuildContext, data) -> dict:
        result = ctx.indices[job.name]
        return {"config": ctx.project.configs[self.name].model_dump(mode="json"), "data": data.data.meta,
                **result.memo(("annex fingerprint", ctx.ds.key or id(ctx.ds)), lambda: _result_digests(result, ctx.ds))}

    def build(self, job: Job, ctx: BuildContext, lang: Lang) -> Document:
        cfg = ctx.project.configs[self.name]
        context, table, figures = annex_context(ctx.ds, ctx.indices[job.name], cfg, ctx.project.organisation, lang,
                                                ctx.as_of)
        csv = table_csv(table)
        audit = audit_csv(ctx.indices[job.name])
        context["publisher"] = publisher_context(ctx.project, lang, ctx.as_of.year, context["title"])
        figures += publisher_records(ctx.project, lang, ctx.as_of.year)
        traced = jsondump.dumps(figures).encode()  # as json.dumps(indent=1, ensure_ascii=False, sort_keys=True)
        return Document("annex.html.j2", context,
                        attachments=(Attachment(f"{job.stem}.csv", csv, "The index table behind this annex"),
                                     Attachment(f"{job.name}.audit.csv", audit,
                                                "The statistical audit: correlations, Cronbach's alpha, principal "
                                                "components, leave-one-out rank shifts and plausibility"),
                                     Attachment(f"{job.stem}.figures.json", traced,
                                                "Every figure printed in this annex, with the index inputs "
                                                "(source, vintage, file and line) it rests on")),
                        figures=tuple(figures),
                        # the exports are shared by every language: an English title, whichever language writes
                        files=(("csv", csv), ("xlsx", table_xlsx(table, ctx.as_of, cfg.title.get("en", TITLE))),
                               ("audit.csv", audit), ("figures.json", traced)))

    def paths(self, job: Job, out: Path) -> dict[str, Path]:
        folder = out / self.name
        return {"pdf": folder / f"{job.stem}.pdf", "html": folder / f"{job.stem}.html",
                "csv": folder / f"{job.name}.csv", "xlsx": folder / f"{job.name}.xlsx",
                "audit.csv": folder / f"{job.name}.audit.csv",
                "figures.json": folder / f"{job.stem}.figures.json"}

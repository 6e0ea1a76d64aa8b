"""A small document kind defined outside the package, to show that a kind plugs in without changes
to sesreport: one memo for the whole project, listing the countries configured."""

from __future__ import annotations

from pathlib import Path

from sesreport.documents import BuildContext, Document, DocumentKind, Job


class MemoKind(DocumentKind):
    name = "memo"
    outputs = ("pdf", "html")
    templates = Path(__file__).resolve().parent / "templates"

    def plan(self, project, countries):
        return [Job(self.name, "project", "en")]

    def fingerprint(self, job: Job, ctx: BuildContext, data):
        return {"countries": sorted(ctx.project.countries), "data": data.data.meta}

    def build(self, job: Job, ctx: BuildContext, lang) -> Document:
        names = [lang.country(c, ctx.ds.countries.name(c), ctx.ds.countries.display) for c in ctx.project.countries]
        context = {"lang": lang.code, "title": "Countries configured", "countries": sorted(names),
                   "indicators": len(ctx.project.catalog.indicators), "date": lang.date(ctx.as_of)}
        return Document("memo.html.j2", context)

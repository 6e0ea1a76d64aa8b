"""`generate.py data check`: a readable coverage report of a data folder."""

from __future__ import annotations

from typing import TextIO

import pandas as pd
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import display_path
from .load import Dataset


def coverage(ds: Dataset) -> pd.DataFrame:
    """Per catalog indicator: countries, years, latest year, sources and vintages of the resolved values."""
    res = ds.resolved
    rows = []
    for code in ds.catalog:
        part = res[res["indicator"] == code]
        allobs = ds.obs[ds.obs["indicator"] == code]
        if not len(part):
            rows.append({"indicator": code, "countries": 0, "years": "", "latest": None, "values": 0,
                         "sources": "", "vintages": "", "flags": ""})
            continue
        flags = []
        for flag in ("estimate", "break", "unreliable"):
            n = int(part[flag].sum())
            if n:
                flags.append(f"{n} {flag}")
        rows.append({
            "indicator": code,
            "countries": int(part["iso3"].nunique()),
            "years": f"{int(part['year'].min())}–{int(part['year'].max())}",
            "latest": int(part["year"].max()),
            "values": len(part),
            "sources": ", ".join(sorted(allobs["source_id"].unique())),
            "vintages": ", ".join(sorted(v for v in allobs["vintage"].unique() if v)),
            "flags": ", ".join(flags),
        })
    return pd.DataFrame(rows)


def report(ds: Dataset, out: TextIO) -> None:
    console = Console(file=out, width=max(150, Console(file=out).width), highlight=False, soft_wrap=False)
    console.print(f"[bold]Data folder[/] {escape(display_path(ds.data_dir))}"
                  + ("  [yellow](illustrative data, not official statistics)[/]" if ds.illustrative else ""))
    ref = ds.countries
    console.print(f"Countries: {len(ref.table)} from {escape(ref.file or '?')}"
                  f" (classification vintage {ref.vintage or 'not declared'});"
                  f" {ds.obs['iso3'].nunique()} countries have data;"
                  f" {len(ds.aggregates)} values for {ds.aggregates['area'].nunique()} aggregates kept apart")
    console.print(f"Observations: {len(ds.obs)} country values from {len(ds.files)} files; "
                  f"{len(ds.resolved)} after choosing between sources"
                  + (" (read from cache)" if ds.from_cache else ""))
    console.print()

    files = Table(title="Files", box=box.SIMPLE_HEAD, title_justify="left")
    files.add_column("file", no_wrap=True)
    for col in ("layout", "vintage", "countries", "aggregates", "other", "indicators"):
        files.add_column(col, justify="right" if col in ("countries", "aggregates", "other") else "left",
                         overflow="fold")
    for f in ds.files:
        vintage = f"{f.vintage} ({f.vintage_from})" if f.vintage else "[red]unknown[/]"
        inds = f.indicators if len(f.indicators) <= 3 else f.indicators[:2] + [f"… {len(f.indicators)} in all"]
        if f.error:
            files.add_row(escape(f.path), f.layout, vintage, "[red]not read[/]", "", "", "")
            continue
        other = f.unmapped + f.unresolved
        files.add_row(escape(f.path), f.layout, vintage, str(f.mapped), str(f.aggregates), str(other) if other else "",
                      escape(", ".join(inds)) or "-")
    console.print(files)
    console.print("  countries: values kept for countries; aggregates: regional and income groups, kept apart;"
                  " other: values not in the catalog or for unknown areas (listed below)\n")

    cov = coverage(ds)
    table = Table(title="Indicators", box=box.SIMPLE_HEAD, title_justify="left")
    for col in ("indicator", "countries", "years", "latest", "values", "sources", "vintages", "flags"):
        table.add_column(col, justify="right" if col in ("countries", "latest", "values") else "left",
                         overflow="fold")
    for row in cov.itertuples(index=False):
        style = "dim" if not row.countries else None
        table.add_row(row.indicator, str(row.countries), row.years, str(row.latest or "-"), str(row.values),
                      row.sources or "no data", row.vintages, row.flags, style=style)
    console.print(table)

    chosen = ds.resolved[ds.resolved["candidates"] > 1]
    if len(chosen):
        by = chosen.groupby(["indicator", "source_id", "chosen_by"]).size().reset_index(name="values")
        prec = Table(title="Values found in several sources (precedence applied)", box=box.SIMPLE_HEAD,
                     title_justify="left")
        for col in ("indicator", "chosen source", "decided by", "values"):
            prec.add_column(col)
        for r in by.itertuples(index=False):
            prec.add_row(r.indicator, r.source_id, r.chosen_by, str(r.values))
        console.print(prec)

    if len(ds.unmapped):
        un = Table(title="Series not in the catalog (not used)", box=box.SIMPLE_HEAD, title_justify="left")
        for col in ("file", "line", "code", "breakdown", "rows"):
            un.add_column(col, overflow="fold")
        for r in ds.unmapped.itertuples(index=False):
            un.add_row(escape(r.file), str(r.line), escape(r.code or r.name), escape(r.breakdown), str(r.rows))
        console.print(un)

    if ds.undeclared:
        console.print("[bold]Files not declared in sources.yaml (not read):[/]")
        for path in ds.undeclared:
            console.print(f"  {escape(path)}")
        console.print()

    errors = [p for p in ds.problems if p.severity == "error"]
    warnings = [p for p in ds.problems if p.severity != "error"]
    if not ds.problems:
        console.print("[green]No problems found.[/]")
    for title, items, style in (("Errors", errors, "red"), ("Warnings", warnings, "yellow")):
        if items:
            console.print(f"[bold {style}]{title} ({len(items)})[/]")
            for p in items:
                console.print(f"  {escape(str(p))}", soft_wrap=True)
    if errors:
        console.print("[bold red]The data cannot be used until the errors are fixed.[/]")

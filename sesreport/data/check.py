"""A loaded dataset in; `generate.py data check`'s readable coverage report of the data folder out."""

from __future__ import annotations

from typing import TextIO

import pandas as pd
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import display_path
from .dataset import Dataset

NUMERIC = ("countries", "values", "aggregates", "other")
UNMAPPED_SHOWN = 12  # series listed per file; the rest are counted


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
    console = Console(file=out, width=max(160, Console(file=out).width), highlight=False, soft_wrap=False)
    console.print(f"[bold]Data folder[/] {escape(display_path(ds.data_dir))}"
                  + ("  [yellow](illustrative data, not official statistics)[/]" if ds.illustrative else ""))
    ref = ds.countries
    console.print(f"Countries: {len(ref.table)} from {escape(ref.file or '?')}"
                  f" (classification vintage {ref.vintage or 'not declared'});"
                  f" {ds.obs['iso3'].nunique()} countries have data;"
                  f" {len(ds.aggregates)} values for {ds.aggregates['area'].nunique()} aggregates kept apart")
    if ref.choice:
        console.print(f"  {escape(ref.choice)}", soft_wrap=True)
    console.print(f"Observations: {len(ds.obs)} country values from {len(ds.files)} files; "
                  f"{len(ds.resolved)} after choosing between sources"
                  + (" (read from cache)" if ds.from_cache else "")
                  + (f" ({len(ds.parsed)} parsed, {len(ds.reused)} unchanged files from cache)" if ds.reused else ""))
    console.print()

    files = Table(title="Files", box=box.SIMPLE_HEAD, title_justify="left")
    files.add_column("file", overflow="fold", min_width=36)
    for col in ("layout", "vintage", "countries", "values", "aggregates", "other", "indicators"):
        files.add_column(col, justify="right" if col in NUMERIC else "left", overflow="fold",
                         min_width=32 if col == "indicators" else None)
    for f in ds.files:
        vintage = f"{f.vintage} ({f.vintage_from})" if f.vintage else "[red]unknown[/]"
        inds = f.indicators if len(f.indicators) <= 6 else f.indicators[:4] + [f"… {len(f.indicators)} in all"]
        if f.error:
            files.add_row(escape(f.path), f.layout, vintage, "[red]not read[/]", "", "", "", "")
            continue
        if f.role == "lookup":
            files.add_row(escape(f.path), "lookup", vintage, "", "", "", "", "[dim]names the areas of its source[/]")
            continue
        other = f.unmapped + f.unresolved
        files.add_row(escape(f.path), f.layout, vintage, str(f.countries), str(f.mapped), str(f.aggregates),
                      str(other) if other else "", escape(", ".join(inds)) or "-")
    console.print(files)
    console.print("  countries: countries with a value kept; values: values kept for countries; aggregates: values "
                  "for regional and income groups, kept apart; other: values not in the catalog or for unknown areas "
                  "(listed below)\n")

    repaired = [(f.path, r) for f in ds.files for r in f.repairs]
    if repaired:
        console.print("[bold]Repairs applied (declared in sources.yaml):[/]")
        for path, what in repaired:
            console.print(f"  {escape(path)}: {escape(what)}", soft_wrap=True)
        console.print()

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
        for file, group in ds.unmapped.groupby("file", sort=False):
            for r in group.head(UNMAPPED_SHOWN).itertuples(index=False):
                un.add_row(escape(r.file), str(r.line), escape(r.code or r.name), escape(r.breakdown), str(r.rows))
            if len(group) > UNMAPPED_SHOWN:
                rest = group.iloc[UNMAPPED_SHOWN:]
                un.add_row(escape(str(file)), "", f"… {len(rest)} more series", "", str(int(rest["rows"].sum())),
                           style="dim")
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

#!/usr/bin/env python3
"""Print how long sesreport takes: data loading, one brief step by step, batches and rebuilds.

    python scripts/benchmark.py [--data DIR] [--countries N] [--typst/--no-typst]

Figures are wall-clock seconds on this machine; nothing here asserts a target. The cold batch's
seconds per page are printed next to the Typst route's (matplotlib, pandoc and Typst per brief,
scripts/benchmark_typst.py), measured in the same run on the same countries.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from benchmark_typst import RouteUnavailable, choose_countries, measure

if TYPE_CHECKING:
    from sesreport.data.load import Dataset

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_DATA = REPO.parent / "shared" / "data" / "real"
AS_OF = "2026-11-27"


def line(label: str, seconds: float, extra: str = "") -> None:
    print(f"  {label:<52} {seconds:8.3f} s  {extra}")


def run(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def new_release(data: Path, work: Path, cache: Path) -> None:
    """Time a load after a new release of one file (Indonesia's 2024 life expectancy revised): that
    file alone is parsed, the others' read results come from the cache."""
    from sesreport.data.load import load_dataset

    copy = work / "release"
    shutil.copytree(data, copy)
    load_dataset(copy, REPO / "config", cache_dir=cache)  # every file's read result kept
    health = copy / "wdi_datahub" / "sp.dyn.le00.in" / "data.csv"
    text = health.read_bytes()
    old = next(row for row in text.splitlines() if row.startswith(b"Indonesia,IDN,2024,"))
    health.write_bytes(text.replace(old, b"Indonesia,IDN,2024,71.9"))  # the file's line endings kept
    start = time.perf_counter()
    ds = load_dataset(copy, REPO / "config", cache_dir=cache)
    files = len(ds.parsed) + len(ds.reused)
    line("load after a new release of one file", time.perf_counter() - start,
         f"{len(ds.parsed)} of {files} files parsed, {ds.parse_seconds:.3f} s parsing")
    shutil.rmtree(copy, ignore_errors=True)


def pdf_pages(folder: Path) -> tuple[int, int]:
    """The number of PDFs under `folder` and their pages."""
    import pikepdf

    files = sorted(folder.rglob("*.pdf"))
    pages = 0
    for path in files:
        with pikepdf.open(path) as pdf:
            pages += len(pdf.pages)
    return len(files), pages


def typst_route(ds: Dataset, chosen: list[str], work: Path, sesreport_per_page: float) -> None:
    """Time the Typst route on the same countries and print it next to sesreport's seconds per page."""
    try:
        route = measure(ds, chosen, work / "typst")
    except RouteUnavailable as err:
        print(f"  Typst route skipped: {err}")
        return
    line(f"Typst route, {route.documents} briefs ({os.cpu_count()} at a time)", route.seconds,
         f"{route.pages} pages: {route.per_page:.3f} s per page")
    print(f"  seconds per page, sesreport / Typst route: {sesreport_per_page:.3f} / {route.per_page:.3f}"
          f" = {sesreport_per_page / route.per_page:.2f}×")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--countries", type=int, default=100, help="size of the batch benchmark (default 100)")
    parser.add_argument("--typst", action=argparse.BooleanOptionalAction, default=True,
                        help="time the Typst route on the same batch (default on; sets up .cache/bench-typst)")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no data folder at {args.data}; pass --data DIR", file=sys.stderr)
        return 2
    python = sys.executable
    work = Path(tempfile.mkdtemp(prefix="sesreport-bench-"))
    cache = work / "cache"
    os.environ["SESREPORT_CACHE"] = str(cache)
    try:
        print(f"Data: {args.data}   cores: {os.cpu_count()}")
        print("Data layer")
        from sesreport.data.load import load_dataset

        start = time.perf_counter()
        ds = load_dataset(args.data, REPO / "config", cache_dir=cache, use_cache=False)
        line("load every file, cold (no cache)", time.perf_counter() - start, f"{len(ds.obs):,} observations")
        load_dataset(args.data, REPO / "config", cache_dir=cache)
        start = time.perf_counter()
        ds = load_dataset(args.data, REPO / "config", cache_dir=cache)
        line("load from the Parquet cache", time.perf_counter() - start, "(from cache)" if ds.from_cache else "")
        new_release(args.data, work, cache)

        print("One brief, step by step (warm process)")
        from sesreport.documents import brief as brief_module
        from sesreport.i18n import Lang
        from sesreport.project import check_project, load_project
        from sesreport.publisher import publisher_context
        from sesreport.render import render_html, write_pdf

        project = load_project(REPO / "config")
        check_project(project, set(ds.countries.table.index), ds)
        as_of = date.fromisoformat(AS_OF)
        seed = ["RUS", "KAZ", "UKR", "IDN"]

        def build_brief(iso3: str) -> brief_module.BriefContent:
            """The long brief's content, with the publisher's apparatus the build adds to it."""
            doc = brief_module.build_brief(ds, project.countries[iso3], Lang("en"), as_of, project.catalog)
            doc.context["publisher"] = publisher_context(project, Lang("en"), as_of.year, doc.context["title"],
                                                         doc.context["country"])
            return doc

        # warm up fonts, stylesheets and matplotlib once, as a worker does
        doc = build_brief("RUS")
        write_pdf(render_html("brief.html.j2", doc.context, Lang("en"), "print"))
        totals = {"compute": 0.0, "charts": 0.0, "html": 0.0, "pdf": 0.0}
        for iso3 in seed:
            t = time.perf_counter()
            doc = build_brief(iso3)
            built = time.perf_counter() - t
            totals["charts"] += doc.timings["charts"]
            totals["compute"] += built - doc.timings["charts"]
            t = time.perf_counter()
            html = render_html("brief.html.j2", doc.context, Lang("en"), "print")
            render_html("brief.html.j2", doc.context, Lang("en"), "screen")
            totals["html"] += time.perf_counter() - t
            t = time.perf_counter()
            pdf = write_pdf(html, attachments=doc.attachments(iso3))
            totals["pdf"] += time.perf_counter() - t
            print(f"    {iso3}: {pdf.pages} pages, {len(pdf.data) // 1024} KiB")
        total = sum(totals.values())
        for step, seconds in totals.items():
            line(f"{step}, per brief", seconds / len(seed))
        line("total per brief, one process", total / len(seed))

        print("Command line")
        out = work / "out"
        line("generate.py build RUS --lang en, cold start",
             run([python, "generate.py", "build", "RUS", "--lang", "en", "--data", str(args.data), "--out", str(out),
                  "--as-of", AS_OF, "--force", "-j", "1"]))
        line("the same again, nothing changed",
             run([python, "generate.py", "build", "RUS", "--lang", "en", "--data", str(args.data), "--out", str(out),
                  "--as-of", AS_OF, "-j", "1"]))
        t = run([python, "generate.py", "build", *seed, "--lang", "en", "--data", str(args.data), "--out", str(out),
                 "--as-of", AS_OF, "--force"])
        line("generate.py build of the 4 seed briefs in English, all cores", t, f"{t / 4:.2f} s per brief")

        print(f"Batch of {args.countries} country briefs")
        config = work / "config"
        shutil.copytree(REPO / "config", config)
        chosen = choose_countries(ds, args.countries)
        for iso3 in chosen:
            path = config / "countries" / f"{iso3}.yaml"
            if not path.exists():
                path.write_text(f"country: {iso3}\n", encoding="utf-8")
        batch = work / "batch"
        cmd = [python, "generate.py", "build", "--data", str(args.data), "--config", str(config), "--out", str(batch),
               "--as-of", AS_OF]
        t = run(cmd)
        line(f"build {len(chosen)} briefs (all cores)", t, f"{t / len(chosen):.2f} s per brief")
        files, pages = pdf_pages(batch)
        line(f"  the same: {files} PDFs, {pages} pages (briefs, languages, annex)", t, f"{t / pages:.3f} s per page")
        if args.typst:
            typst_route(ds, chosen, work, t / pages)
        else:
            print("  Typst route skipped (--no-typst)")
        line("rebuild with nothing changed", run(cmd))
        # one country's data changes: only the documents that use that country are rebuilt
        data_copy = work / "data"
        shutil.copytree(args.data, data_copy)
        health = data_copy / "wdi_datahub" / "sp.dyn.le00.in" / "data.csv"
        text = health.read_text()
        old = next(row for row in text.splitlines() if row.startswith("Indonesia,IDN,2024,"))
        health.write_text(text.replace(old, "Indonesia,IDN,2024,71.9"))
        cmd_copy = cmd.copy()
        cmd_copy[cmd_copy.index(str(args.data))] = str(data_copy)
        run(cmd_copy)  # first build against the copy (new data folder, fresh cache key)
        health.write_text(text.replace(old, "Indonesia,IDN,2024,72.0"))
        start = time.perf_counter()
        result = subprocess.run(cmd_copy, cwd=REPO, capture_output=True, text=True)
        t = time.perf_counter() - start
        rebuilt = sum(1 for row in result.stderr.splitlines() if " built " in f" {row} " and row.startswith("brief/"))
        line("one country's data changed (Indonesia)", t, f"{rebuilt} documents rebuilt (Indonesia and its peers)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

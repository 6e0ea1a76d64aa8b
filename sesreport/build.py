"""`generate.py build`: from the configuration and the data to every planned document, in stages.

load the project (configuration only) → load the data → checks that need both → plan the jobs →
fingerprint each job → execute what changed (serially, in a process pool or on a Dask cluster) →
record the manifest → write the index page and the change log → summary.

A document is rebuilt when any of its inputs changed: its configuration, the observations it uses,
the templates, the code, the language or the date. One failing document never stops the others;
its old files are removed so that nothing stale looks current, and the run ends with exit code 1.
Likewise one data file that cannot be read: the documents that print an indicator only it provides
fail with a message naming the file, every other document is built, and the run ends with exit code 1.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .documents import BuildContext, Job, kinds
from .errors import Problem, UserError, display_path
from .execute import Result, Setup, compute_indices, execute, prepare_state, refuse, template_folders
from .fingerprint import Fingerprints, code_fingerprint, job_digest, tree_digest
from .lifeline import loading
from .manifest import (
    QUICK,
    OutputLock,
    check_output_folder,
    inputs_digest,
    load_manifest,
    quick_unchanged,
    save_manifest,
    up_to_date,
)
from .options import BuildOptions


@dataclass(frozen=True)
class Outcome:
    """What a build did: every planned document's result, and where."""

    results: tuple[Result, ...]
    out: Path
    seconds: float
    unread: tuple[str, ...] = ()  # data files that could not be read, each with why

    @property
    def exit_code(self) -> int:
        return 1 if self.unread or any(r.status == "failed" for r in self.results) else 0

    def as_dict(self) -> dict[str, Any]:
        counts = {s: sum(r.status == s for r in self.results) for s in ("built", "unchanged", "failed")}
        documents = [{"key": r.job.key, "kind": r.job.kind, "name": r.job.name, "lang": r.job.lang,
                      "status": r.status, "pages": r.pages, "seconds": round(r.seconds, 3),
                      "outputs": sorted(r.outputs), "error": r.error, "peak_mib": r.peak_mib,
                      "worker": r.worker, "worker_document": r.nth,
                      "timings": {k: round(v, 3) for k, v in sorted(r.timings.items())}}
                     for r in sorted(self.results, key=lambda r: r.job.key)]
        return {**counts, "seconds": round(self.seconds, 3), "out": str(self.out), "documents": documents,
                "unread": list(self.unread)}


def run_build(options: BuildOptions, console: Any = None) -> int:
    """Build what the options select; print the summary (or JSON); return the exit code."""
    from rich.console import Console

    console = console or Console(stderr=True, highlight=False)
    outcome = build(options, console)
    if options.json:
        sys.stdout.write(json.dumps(outcome.as_dict(), indent=1, sort_keys=True) + "\n")
        sys.stdout.flush()
    _summary(console, list(outcome.results), outcome.out, outcome.seconds)
    return outcome.exit_code


def build(options: BuildOptions, console: Any) -> Outcome:
    out = options.out
    as_of = options.date
    check_output_folder(out)  # a file in the way or a read-only parent: say so before the data is read
    code = code_fingerprint()
    # ---- nothing changed since the last build of this selection: answer before loading anything
    selection = json.dumps({"countries": sorted(options.countries), "lang": sorted(options.langs),
                            "document": sorted(options.kinds), "data": str(options.data_dir.resolve()),
                            "config": str(options.config_dir.resolve()), "format": options.brief_format},
                           sort_keys=True)
    from .data.files import links_leading_out
    from .render import TEMPLATES

    # the quick digest reads every file of the folders: not when a link would take it elsewhere
    # (the loaders refuse such links with a message; nothing outside the project is opened)
    escapes = links_leading_out(options.config_dir) + links_leading_out(options.data_dir)
    quick = None if escapes else inputs_digest(selection, [options.config_dir, options.data_dir, TEMPLATES],
                                               f"{as_of.isoformat()}|{code}")
    if not options.force and options.use_cache and quick is not None:
        keys = quick_unchanged(load_manifest(out), selection, quick, out)
        if keys is not None:
            return Outcome(tuple(Result(Job.from_key(k), "unchanged") for k in keys), out, 0.0)
    from .render import start_renderer, stop_renderer

    # WeasyPrint starts up in processes of their own (one per worker; one for a single document) while
    # this one loads the data: a build of one or a few documents renders there (`execute._pipelined`),
    # a larger one stops them and renders in its pool's workers
    if not options.scheduler:
        single = len(options.countries) == len(options.langs) == len(options.kinds) == 1
        start_renderer(1 if single else max(1, options.jobs or os.cpu_count() or 1))
    try:
        with loading():
            return _build(options, console, code, selection, quick)
    finally:
        stop_renderer()


def _build(options: BuildOptions, console: Any, code: str, selection: str, quick: str | None) -> Outcome:
    out = options.out
    as_of = options.date

    # ---- load the project (configuration only), then the data, then the checks that need both
    from .data.load import default_cache_dir, load_dataset
    from .project import check_project, load_project

    countries = list(options.countries) or None
    project = load_project(options.config_dir, only=countries, brief_format=options.brief_format)
    cache_dir = default_cache_dir(options.config_dir)
    ds = load_dataset(options.data_dir, options.config_dir, cache_dir=cache_dir, use_cache=options.use_cache,
                      partial=True)
    import pyarrow

    pyarrow.default_memory_pool().release_unused()  # what the load freed, back to the system (about 10 MiB)
    _report_data(console, ds, options.data_dir)
    check_project(project, set(ds.countries.table.index), ds)

    # ---- plan, and compute what the planned documents share
    jobs = plan(project, options)
    if not jobs:
        raise UserError(Problem(None, None, "nothing to build for the selection given",
                                "check the ISO3 codes, --lang and --kind against the configs"))
    registry = kinds()
    wanted: set[str] = set()
    for job in jobs:
        wanted |= registry[job.kind].indices(project, job)
    ctx = BuildContext(project, ds, as_of, compute_indices(project, ds, wanted, cache_dir))

    # ---- from here on the output folder is ours: fingerprint, execute, record
    with OutputLock(out) as lock:
        fingerprints = Fingerprints(ds, ctx.indices)
        templates: dict[tuple[Path, ...], str] = {}
        digests = {}
        blocked: dict[str, str] = {}  # job key -> why it cannot be built with the data of this run
        for job in jobs:
            folders = template_folders(project.config_dir, registry[job.kind], job)
            if folders not in templates:
                templates[folders] = tree_digest(list(folders))
            watched = _Watched(fingerprints)
            digests[job.key] = job_digest({"job": job.key, "as_of": as_of.isoformat(), "code": code,
                                           "templates": templates[folders],
                                           "inputs": registry[job.kind].fingerprint(job, ctx, watched)})
            uses = watched.data.indicators | {c for i in registry[job.kind].indices(project, job)
                                              for c in project.indices[i].codes}
            why = unavailable_data(uses, ds.unavailable)
            if why:
                blocked[job.key] = why
        manifest = load_manifest(out)
        todo = [j for j in jobs if j.key not in blocked
                and (options.force or not up_to_date(manifest.get(j.key), digests[j.key], out))]
        results = [refuse(j, out, lock.generation, blocked[j.key]) for j in jobs if j.key in blocked]
        results += [Result(j, "unchanged") for j in jobs if j not in todo and j.key not in blocked]

        start = time.perf_counter()
        if todo:
            assert lock.temp is not None
            setup = Setup(str(options.data_dir.resolve()), str(options.config_dir.resolve()), str(out.resolve()),
                          as_of.isoformat(), str(cache_dir.resolve()), lock.generation, str(lock.temp),
                          options.brief_format)
            state = prepare_state(setup, ctx)
            if not options.force:
                state = dataclasses.replace(state, previous={j.key: manifest[j.key] for j in todo if j.key in manifest})
            workers = max(1, min(options.jobs or os.cpu_count() or 1, len(todo)))
            with _progress(console, len(todo)) as advance:
                results += execute(todo, state, setup, workers, options.scheduler, advance)
        elapsed = time.perf_counter() - start

        for r in results:
            if r.status == "built" or r.content is not None:  # built, or its printed content unchanged
                manifest[r.job.key] = {"hash": digests[r.job.key], "outputs": r.outputs, "content": r.content}
            elif r.status == "failed":
                manifest.pop(r.job.key, None)
        quick_records = manifest.setdefault(QUICK, {})
        if quick is None or ds.unread or any(r.status == "failed" for r in results):
            quick_records.pop(selection, None)
        else:
            quick_records[selection] = {"fingerprint": quick, "jobs": sorted(j.key for j in jobs)}
        save_manifest(out, manifest)
        from .preview import write_index

        write_index(out)
        _change_log(console, results, out, as_of.isoformat())
        return Outcome(tuple(results), out, elapsed, tuple(str(p) for p in ds.unread))


class _WatchedData:
    """The data digests, noting every indicator a kind asks for: those its document prints."""

    def __init__(self, data: Any) -> None:
        self._data = data
        self.indicators: set[str] = set()

    def of(self, countries: list[str], indicators: list[str]) -> str:
        self.indicators.update(indicators)
        return self._data.of(countries, indicators)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._data, name)


class _Watched:
    """A run's fingerprints as one job's fingerprint sees them, with the indicators it used."""

    def __init__(self, fingerprints: Fingerprints) -> None:
        self.data = _WatchedData(fingerprints.data)
        self.index = fingerprints.index


def unavailable_data(uses: set[str], unavailable: dict[str, list[Problem]]) -> str | None:
    """Why a document that prints `uses` cannot be built in this run, naming the files and lines at fault."""
    missing = sorted(uses & unavailable.keys())
    if not missing:
        return None
    files = list(dict.fromkeys(p for code in missing for p in unavailable[code]))
    return f"not built: {', '.join(missing)} cannot be used in this run: " + "; ".join(str(p) for p in files)


def plan(project: Any, options: BuildOptions) -> list[Job]:
    """Every document the selection asks for. Kinds made per country follow the ISO3 codes given;
    the others are built when no country is named, or when asked for with --kind."""
    registry = kinds()
    unknown = [k for k in options.kinds if k not in registry]
    if unknown:
        from .errors import did_you_mean

        raise UserError([Problem(None, None, f"unknown document kind '{k}'",
                                 did_you_mean(k, registry) or f"use one of: {', '.join(registry)}") for k in unknown])
    countries = list(options.countries) or None
    jobs: list[Job] = []
    for name, kind in registry.items():
        if options.kinds and name not in options.kinds:
            continue
        if not kind.per_country and countries and not options.kinds:
            continue
        jobs += [j for j in kind.plan(project, countries if kind.per_country else None)
                 if not options.langs or j.lang in options.langs]
    return jobs


def _report_data(console: Any, ds: Any, data_dir: Path) -> None:
    from rich.markup import escape

    for p in ds.problems:
        if p.severity == "warning" and "optional" not in (p.hint or ""):
            console.print(f"[yellow]warning[/]: {escape(str(p))}", soft_wrap=True)
    for p in ds.unread:
        console.print(f"[bold red]error[/]: {escape(str(p))}", soft_wrap=True)
    if ds.unread:
        what = ", ".join(sorted(ds.unavailable)) or "none"
        console.print(f"Unavailable in this run (the documents that print them are not built): {escape(what)}",
                      soft_wrap=True)
    if ds.illustrative:
        console.print(f"[yellow]Using illustrative data from {display_path(data_dir)}: every page is stamped "
                      f"'{ds.notice}'. Pass --data DIR for real data.[/]")


@contextmanager
def _progress(console: Any, total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on a terminal; the function it gives moves it by one document."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("left"), TimeRemainingColumn(),
                   console=console, transient=False, disable=not console.is_terminal)
    task = bar.add_task("Building", total=total)
    with bar:
        yield lambda: bar.advance(task)


def _change_log(console: Any, results: list[Result], out: Path, as_of: str) -> None:
    from .manifest import atomic_write

    changed = {r.job.key: r.changes for r in results
               if r.changes and any(r.changes.get(k) for k in ("moved", "flipped", "statuses", "outcomes"))}
    if not changed:
        return
    from .changes import markdown

    atomic_write(out / "changes.md", markdown(changed, as_of).encode("utf-8"))
    atomic_write(out / "changes.json", json.dumps(changed, indent=1, ensure_ascii=False, sort_keys=True).encode())
    flips = sum(len(c["flipped"]) for c in changed.values())
    moves = sum(len(c["moved"]) for c in changed.values())
    console.print(f"{moves} printed values moved and {flips} statements flipped in {len(changed)} documents: "
                  f"see {display_path(out / 'changes.md')}")


def _summary(console: Any, results: list[Result], out: Path, elapsed: float) -> None:
    from rich.table import Table

    results = sorted(results, key=lambda r: r.job.key)
    built = [r for r in results if r.status == "built"]
    failed = [r for r in results if r.status == "failed"]
    unchanged = [r for r in results if r.status == "unchanged"]
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("document", "status", "pages", "seconds"):
        table.add_column(col, justify="right" if col in ("pages", "seconds") else "left")
    for r in results:
        style = {"built": "green", "failed": "bold red", "unchanged": "dim"}[r.status]
        table.add_row(r.job.key, f"[{style}]{r.status}[/]", str(r.pages or ""), f"{r.seconds:.2f}" if r.seconds else "")
    console.print(table)
    for r in failed:
        console.print(f"[bold red]{r.job.key} failed[/]: {r.error}", soft_wrap=True)
    console.print(f"{len(built)} built, {len(unchanged)} unchanged, {len(failed)} failed in {elapsed:.1f} s; "
                  f"output in {display_path(out)}")
    sys.stderr.flush()


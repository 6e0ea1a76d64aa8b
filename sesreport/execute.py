"""Execute planned jobs: each job becomes a rendered document written atomically, or a failure note.

Jobs run serially, here while renderer processes make their PDFs (:func:`_pipelined`), in a process
pool or on a Dask cluster. All of them get their state from :func:`prepare_state` and are handed it
by :func:`init_worker` (a pool initializer), never through a global set before forking. Pool workers
die with the build that started them (a parent-death signal, and a watchdog where that signal is not
available), and every write checks that the output folder still belongs to this build's generation,
so an orphan never replaces a newer build's file.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import multiprocessing
import os
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from .documents import BuildContext, Job, kinds
from .errors import Problem, UserError
from .fingerprint import sha256_bytes
from .lifeline import collect_less, collecting_less, die_with_parent, peak_resident
from .manifest import Superseded, atomic_write, up_to_date


@dataclass
class Result:
    job: Job
    status: str  # built, unchanged (nothing printed changed: not rendered again), failed
    seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    error: str | None = None
    pages: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
    changes: dict | None = None  # what moved in the printed figures since the previous build
    content: str | None = None  # digest of everything the document prints (its HTML, data files, attachments)
    peak_mib: float | None = None  # the peak resident memory of the process that built it, so far (MiB)
    worker: int | None = None  # the process that built it (its id)
    nth: int | None = None  # the how-manieth document of that process this was (1: its first)


@dataclass(frozen=True)
class Setup:
    """What a worker that shares no memory with the build (a Dask worker) needs to load the same
    state: paths it can see, the date and the output folder's generation."""

    data_dir: str
    config_dir: str
    out: str
    as_of: str
    cache_dir: str
    generation: str
    temp: str
    brief_format: str | None = None  # the --format override for every brief


@dataclass(frozen=True)
class WorkerState:
    """Everything a job needs: the build context, where to write, and whose output folder it is."""

    ctx: BuildContext
    out: Path
    generation: str
    temp: Path
    #: per job key, the previous build's content digest and outputs (see `_run`): a document whose
    #: printed content has not changed is not rendered again
    previous: dict[str, dict] = field(default_factory=dict)
    #: the build's cache folder, for the charts drawn (`chartcache`) and the templates compiled
    #: (`render.keep_compiled_templates`); None: none kept
    charts: Path | None = None


_worker: WorkerState | None = None  # set only by init_worker, in the process that runs the jobs
_documents_run = 0  # documents this process has built, a rehearsal (see _warm_up) not counted
_pooled = False  # this process is a pool's worker (see init_worker): it hands back memory between documents


def prepare_state(setup: Setup, ctx: BuildContext | None = None) -> WorkerState:
    """The worker state for a setup; loads project, data and indices when no context is given."""
    if ctx is None:
        from .data.load import load_dataset
        from .project import load_project

        ds = load_dataset(setup.data_dir, setup.config_dir, cache_dir=setup.cache_dir, partial=True)
        project = load_project(setup.config_dir, brief_format=setup.brief_format)
        as_of = date.fromisoformat(setup.as_of)
        needed: set[str] = set()
        for kind in kinds().values():
            for job in kind.plan(project, None):
                needed |= kind.indices(project, job)
        ctx = BuildContext(project, ds, as_of, compute_indices(project, ds, needed, Path(setup.cache_dir)))
    return WorkerState(ctx, Path(setup.out), setup.generation, Path(setup.temp), charts=Path(setup.cache_dir))


def compute_indices(project: Any, ds: Any, wanted: set[str], cache_dir: Path) -> dict[str, Any]:
    """The composite indices the planned documents show, from the cache when nothing changed."""
    from .index.cache import cached_index

    return {i: cached_index(project.indices[i], ds, cache_dir) for i in sorted(wanted)}


def init_worker(state: WorkerState, watch_parent: bool = False) -> None:
    """Pool initializer: keep the state, use the build's temporary folder, and die with the parent (a
    pool's worker counts its documents from one)."""
    global _worker, _documents_run, _pooled
    _worker = state
    _pooled = watch_parent
    if watch_parent:
        _documents_run = 0
    # before the build's temporary folder is set: the renderer, imported here, keeps the process's own
    # for the fonts, which outlive the build (`render.print_setup`)
    _use_caches(state.charts)
    os.environ["TMPDIR"] = str(state.temp)
    tempfile.tempdir = str(state.temp)
    if watch_parent:
        die_with_parent()
        collect_less()


def run_job(job: Job) -> Result:
    """Build one document; any exception becomes a failed Result, never a crash of the run."""
    state = _worker
    assert state is not None, "init_worker must run first"
    from .render import renderer_cpu

    start = time.perf_counter()
    cpu, rendered = time.process_time(), renderer_cpu()
    result = _guarded(job, state, start, lambda: _run(job, state, start))
    assert isinstance(result, Result)
    if _pooled:
        result.peak_mib = peak_mib()
        _hand_back()
    # the worker's own processor time (and its renderer's), whatever else runs
    return _counted(result, time.process_time() - cpu, renderer_cpu() - rendered)


def _guarded(job: Job, state: WorkerState, start: float, step: Callable[[], Any]) -> Any:
    """What `step` gives, or a failed Result for the exception it raised (never a crash of the run)."""
    try:
        return step()
    except Superseded as exc:
        return Result(job, "failed", time.perf_counter() - start, error=str(exc))
    except UserError as exc:
        return _failed(job, state, "\n".join(str(p) for p in exc.problems), start)
    except Exception as exc:  # one document's failure must not stop the others
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return _failed(job, state, f"{detail}\n\n{traceback.format_exc()}", start)


def _counted(result: Result, cpu: float, rendered: float = 0.0) -> Result:
    """The result with the processor time it took (`cpu`, of which `rendered` in a renderer process)
    and which document of which process it was."""
    global _documents_run
    if result.peak_mib is None:
        result.peak_mib = peak_mib()
    with _count:
        _documents_run += 1
        result.worker, result.nth = os.getpid(), _documents_run
    result.timings["cpu"] = cpu + rendered
    if rendered:
        result.timings["renderer_cpu"] = rendered
    return result


_count = threading.Lock()


def _hand_back() -> None:
    """Between a pool worker's documents: collect what the document left and give the freed memory
    back to the system (Arrow's pool is the system allocator's: this trims its heap), so that the
    worker peaks with its largest document rather than with what its documents left scattered."""
    gc.collect()
    import pyarrow

    pyarrow.default_memory_pool().release_unused()


def peak_mib() -> float:
    """This process's peak resident memory in MiB (in a forked worker: counting the pages it shares
    with the build that forked it, so an upper bound of what the worker costs)."""
    return round(peak_resident() / 2**20, 1)


@dataclass
class _Built:
    """A document built and its HTML made, its PDF still to render (see `_finish`)."""

    job: Job
    doc: Any
    html_print: str
    html_screen: str  # as the template wrote it: its fonts are embedded once the PDF is made
    contents: dict[str, bytes]
    paths: dict[str, Path]
    content: str
    timings: dict[str, float]


def _run(job: Job, state: WorkerState, start: float) -> Result:
    built = _prepare(job, state, start)
    return built if isinstance(built, Result) else _finish(built, state, start)


def _prepare(job: Job, state: WorkerState, start: float) -> _Built | Result:
    """Build the document and its HTML; an unchanged Result when nothing it prints has changed."""
    from .i18n import Lang
    from .render import render_html

    kind = kinds()[job.kind]
    ctx = state.ctx
    timings: dict[str, float] = {}
    t = time.perf_counter()
    lang = Lang(job.lang)
    doc = kind.build(job, ctx, lang)
    timings["compute+charts"] = time.perf_counter() - t
    t = time.perf_counter()
    folders = template_folders(ctx.project.config_dir, kind, job)
    html_print = render_html(doc.template, doc.context, lang, "print", folders)
    html_screen = render_html(doc.template, doc.context, lang, "screen", folders)
    contents: dict[str, bytes] = dict(doc.files)
    timings["html"] = time.perf_counter() - t
    paths = kind.paths(job, state.out)
    content = content_digest(doc, html_print, {**contents, "html": html_screen.encode("utf-8")})
    kept = state.previous.get(job.key)
    if kept and kept.get("content") == content and up_to_date(kept, kept.get("hash"), state.out):
        # the inputs moved but nothing the document prints did: its files stay as they are
        return Result(job, "unchanged", time.perf_counter() - start, kept["outputs"], content=content,
                      timings=timings)
    return _Built(job, doc, html_print, html_screen, contents, paths, content, timings)


def _finish(built: _Built, state: WorkerState, start: float) -> Result:
    """Render the built document's PDFs, check their length, and write its files."""
    from .changes import compare, load_figures
    from .render import write_pdfs

    job, doc, contents, paths, timings = built.job, built.doc, built.contents, built.paths, built.timings
    t = time.perf_counter()
    as_of = state.ctx.as_of
    stamp = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
    # the document and its extra PDFs (the strategy input's slides), side by side where renderers allow
    wanted = [(built.html_print, doc.attachments), *((e.html, e.attachments) for e in doc.extra_pdfs)]
    pdf, *extras = write_pdfs([(html, {"attachments": [(a.name, a.data, a.description) for a in files],
                                       "stamp": stamp}) for html, files in wanted])
    contents["pdf"] = pdf.data
    timings["pdf"] = time.perf_counter() - t
    if doc.pages is not None and pdf.pages > doc.pages:
        problem = doc.too_long or Problem(None, None, f"the document must have at most {doc.pages} pages")
        raise UserError(Problem(problem.file, problem.line, f"{problem.message} (it has {pdf.pages} pages, "
                                f"not {doc.pages})", problem.hint))
    for extra, rendered in zip(doc.extra_pdfs, extras, strict=True):
        if extra.pages is not None and rendered.pages != extra.pages:
            problem = extra.wrong_pages or Problem(None, None, f"the {extra.ext} must have {extra.pages} pages")
            raise UserError(Problem(problem.file, problem.line, problem.message.format(pages=rendered.pages),
                                    problem.hint))
        contents[extra.ext] = rendered.data
    # the HTML version's fonts, embedded once the PDF is made rather than before it was asked for:
    # in a build of a few documents the last one's PDFs then start that much sooner
    from .webfonts import finish_html

    t = time.perf_counter()
    contents["html"] = finish_html(built.html_screen).encode("utf-8")
    timings["html"] += time.perf_counter() - t
    changes = None
    if "figures.json" in paths and "figures.json" in contents:
        previous = load_figures(paths["figures.json"])
        if previous is not None:
            changes = compare(previous, json.loads(contents["figures.json"]))
    hashes = {}
    for ext, path in paths.items():
        atomic_write(path, contents[ext], state.generation)
        hashes[path.relative_to(state.out).as_posix()] = sha256_bytes(contents[ext])
    failed_note = paths["pdf"].with_name(f"{job.stem}.FAILED.txt")
    if failed_note.exists():
        failed_note.unlink()
    timings.update(doc.timings)
    return Result(job, "built", time.perf_counter() - start, hashes, pages=pdf.pages, timings=timings,
                  changes=changes, content=built.content)


def content_digest(doc: Any, html_print: str, contents: dict[str, bytes]) -> str:
    """A digest of everything a document prints or carries: the HTML the PDF is rendered from, the
    files written beside it and the files attached to it (charts are inline SVG in the HTML), and what
    the PDF is rendered with besides (`render.renderer_digest`: the print stylesheets, the fonts, the
    rendering code and libraries), and the HTML version as its template wrote it with what finishes it
    (`webfonts.finishing_digest`: its code and the fonts it embeds)."""
    from .render import renderer_digest
    from .webfonts import finishing_digest

    h = hashlib.sha256(doc.template.encode())
    h.update(renderer_digest().encode())
    h.update(finishing_digest().encode())
    for part in [html_print.encode("utf-8")] + [contents[k] for k in sorted(contents)]:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    for a in doc.attachments + tuple(a for extra in doc.extra_pdfs for a in extra.attachments):
        h.update(f"{a.name}|{a.description}|{len(a.data)}".encode())
        h.update(a.data)
    for extra in doc.extra_pdfs:  # rendered later, and only when the document is
        h.update(f"{extra.ext}|{extra.pages}|".encode())
        h.update(extra.html.encode("utf-8"))
    h.update(repr(doc.pages).encode())
    return h.hexdigest()


def template_folders(config_dir: Path, kind: Any, job: Job) -> tuple[Path, ...]:
    """Where a job's templates are looked up, first match wins: the country's own overrides
    (`config/templates/<ISO3>/`), the project's (`config/templates/`), the kind's, the built-in ones."""
    from .render import TEMPLATES

    folders = [config_dir / "templates" / job.name, config_dir / "templates"]
    if kind.templates is not None:
        folders.append(Path(kind.templates))
    folders.append(TEMPLATES)
    return tuple(f.resolve() for f in folders if f.is_dir())


def _failed(job: Job, state: WorkerState, message: str, start: float) -> Result:
    return refuse(job, state.out, state.generation, message, time.perf_counter() - start)


def refuse(job: Job, out: Path, generation: str, message: str, seconds: float = 0.0) -> Result:
    """A failed document: remove its previous files (so nothing stale looks current) and leave a note."""
    paths = kinds()[job.kind].paths(job, out)
    first = message.splitlines()[0] if message else "failed"
    try:
        for path in paths.values():
            if path.exists():
                path.unlink()
        note = paths["pdf"].with_name(f"{job.stem}.FAILED.txt")
        atomic_write(note, f"{job.key} failed; its previous files were removed.\n\n{message}\n".encode(),
                     generation)
    except Superseded as exc:
        first = str(exc)
    return Result(job, "failed", seconds, error=first)


# ------------------------------------------------------------------------------------------------
# Executors


def execute(todo: list[Job], state: WorkerState, setup: Setup, workers: int, scheduler: str | None,
            advance: Callable[[], None]) -> list[Result]:
    """Run the jobs serially, in a pool of forked processes or on a Dask cluster (and then keep the
    chart cache within its bounds)."""
    from . import chartcache

    try:
        return _execute(todo, state, setup, workers, scheduler, advance)
    finally:
        chartcache.prune(setup.cache_dir)


def _execute(todo: list[Job], state: WorkerState, setup: Setup, workers: int, scheduler: str | None,
             advance: Callable[[], None]) -> list[Result]:
    if scheduler:
        return _on_cluster(todo, scheduler, setup, workers, advance)
    if workers <= 1:
        previous = _worker
        init_worker(state)
        try:
            results = []
            with collecting_less():
                for job in todo:
                    results.append(run_job(job))
                    advance()
            return results
        finally:
            _restore(previous)
    from .render import renderers, stop_renderer

    if renderers() > 1 and (workers <= 2 or len(todo) <= PIPELINED_UP_TO * workers):
        return _pipelined(todo, state, min(workers, renderers()), advance)
    stop_renderer()  # a pool's workers render for themselves, and must not share the renderers' pipes
    _warm_up(todo, state, workers)
    context = multiprocessing.get_context("fork")
    results = []
    registry = kinds()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker,
                                 initargs=(state, True)) as pool:
            # the long documents first: a worker left with one at the end would keep the others waiting
            futures = [pool.submit(run_job, job) for job in sorted(todo, key=lambda j: not registry[j.kind].long)]
            for future in as_completed(futures):
                results.append(future.result())
                advance()
    finally:
        gc.unfreeze()  # this process may build again (watch, serve): its objects are collected as before
    return results


#: up to this many documents a worker, a build with renderer processes builds them in its own process
#: (see `_pipelined`) rather than in a pool; with one or two workers, any number
PIPELINED_UP_TO = 4


def _pipelined(todo: list[Job], state: WorkerState, renderers: int, advance: Callable[[], None]) -> list[Result]:
    """Documents built here, one after the other, in a build that renderer processes serve
    (`render.Renderer`): each is rendered to PDF by a renderer while the next is built.

    The renderers started up while the data was loaded, so no document waits for WeasyPrint's
    start-up, a rehearsal or a pool's workers (what a correction of a few documents needs), and they
    hold neither the data nor the charts' library: on two cores a batch takes as long as in a pool of
    two, in workers of half the memory. Long documents go first (as in a pool), and at most two
    documents a renderer wait for it, so that the built documents do not pile up here. With no more
    documents than renderers none waits for one, and the short ones go first: their PDFs are made
    while the long ones are built (`build RUS`: the brief is rendered while the strategy input is built).
    Two threads a renderer ask for the PDFs: while one finishes a document whose PDF came back (its HTML
    version's fonts, its files), the other has the next document on its way to that renderer, which
    would otherwise wait (a correction's first HTML version, importing fontTools, kept a renderer
    idle for a tenth of a second)."""
    previous = _worker
    init_worker(state)
    results: list[Result] = []
    registry = kinds()
    short_first = len(todo) <= renderers  # none waits for a renderer
    try:
        with collecting_less(), ThreadPoolExecutor(2 * renderers, thread_name_prefix="sesreport-pdf") as pool:
            rendering: set[Future[Result]] = set()

            def collect(done: Iterable[Future[Result]]) -> None:
                for future in done:
                    results.append(future.result())
                    advance()

            for job in sorted(todo, key=lambda j: registry[j.kind].long == short_first):
                start = time.perf_counter()
                cpu = time.thread_time()
                built = _guarded(job, state, start, functools.partial(_prepare, job, state, start))
                if isinstance(built, Result):
                    results.append(_counted(built, time.thread_time() - cpu))
                    advance()
                    continue
                rendering.add(pool.submit(_render_built, built, state, start, time.thread_time() - cpu))
                if len(rendering) >= 2 * renderers:
                    done, rendering = wait(rendering, return_when=FIRST_COMPLETED)
                    collect(done)
            collect(as_completed(rendering))
    finally:
        _restore(previous)
    return results


def _render_built(built: _Built, state: WorkerState, start: float, cpu: float) -> Result:
    """`_finish` in a thread of `_pipelined`: its processor time is the thread's and its renderer's."""
    from .render import renderer_cpu

    mine, rendered = time.thread_time(), renderer_cpu()
    result = _guarded(built.job, state, start, lambda: _finish(built, state, start))
    return _counted(result, cpu + time.thread_time() - mine, renderer_cpu() - rendered)


def _use_caches(folder: Path | None) -> None:
    """Keep this process's drawn charts and compiled templates under the build's cache folder (None:
    keep none)."""
    from . import chartcache
    from .render import keep_compiled_templates

    chartcache.use(folder)
    keep_compiled_templates(folder)


def _restore(previous: WorkerState | None) -> None:
    global _worker
    _worker = previous
    _use_caches(previous.charts if previous is not None else None)
    if previous is None:
        tempfile.tempdir = None
        os.environ.pop("TMPDIR", None)


def _warm_up(todo: list[Job], state: WorkerState, workers: int) -> None:
    """Do once, before forking, what each worker's first document would otherwise pay for.

    Always: import and parse the stylesheets and load the fonts. For a batch (more than two documents
    a worker), also rehearse the first document of each kind that has that many: build it and its
    HTML, writing nothing but its charts to the chart cache (the worker that builds the document reads
    them there), which compiles its templates and fills the data's lookup tables once, for every
    worker; the kind with the most documents is rendered to PDF too, which lays out the fonts
    (rendering a long document there would keep the other cores waiting for seconds). Then hand back
    the memory the data load no longer uses and freeze what is left, so that the workers share those
    pages rather than copy them.
    """
    from .fonts import register_matplotlib
    from .render import print_setup

    register_matplotlib()
    print_setup()
    by_kind: dict[str, list[Job]] = {}
    for job in todo:
        by_kind.setdefault(job.kind, []).append(job)
    rehearsed = sorted((jobs for jobs in by_kind.values() if len(jobs) > 2 * workers), key=len, reverse=True)
    _use_caches(state.charts)  # the charts drawn here are kept: the worker building that document reads them
    try:
        for i, jobs in enumerate(rehearsed):
            _rehearse(jobs[0], state, pdf=i == 0)  # the most numerous kind to PDF
    finally:
        _use_caches(_worker.charts if _worker is not None else None)
    gc.collect()
    import pyarrow

    pyarrow.default_memory_pool().release_unused()
    gc.freeze()


def _rehearse(job: Job, state: WorkerState, pdf: bool) -> None:
    """Build one document and its HTML as `_run` does, and its PDF if `pdf`, and keep nothing but the
    charts it draws (in the chart cache, when the build keeps charts): no output file is written."""
    from .i18n import Lang
    from .render import render_html, write_pdf
    from .webfonts import finish_html

    kind = kinds()[job.kind]
    lang = Lang(job.lang)
    try:
        doc = kind.build(job, state.ctx, lang)
        folders = template_folders(state.ctx.project.config_dir, kind, job)
        finish_html(render_html(doc.template, doc.context, lang, "screen", folders))
        html = render_html(doc.template, doc.context, lang, "print", folders)
        if pdf:
            write_pdf(html, attachments=[(a.name, a.data, a.description) for a in doc.attachments])
    except Exception:  # noqa: BLE001 - the document is built again by a worker, which reports any failure
        return


_cluster_setup: Setup | None = None


def remote_job(job: Job, setup: Setup) -> Result:
    """Run one document on a Dask worker: prepare the state once per worker and setup (from the
    shared cache when it is there), then build exactly as a local worker does."""
    global _cluster_setup
    if _cluster_setup != setup:
        init_worker(prepare_state(setup))
        _cluster_setup = setup
    return run_job(job)


def _on_cluster(todo: list[Job], scheduler: str, setup: Setup, workers: int,
                advance: Callable[[], None]) -> list[Result]:
    """The same jobs on a Dask cluster. Workers must see the data, config and output folders at the
    same paths (a shared file system); `local` starts a cluster of processes on this machine."""
    from .errors import Problem

    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as completed
    except ImportError:
        raise UserError(Problem(None, None, "--scheduler needs Dask's distributed package",
                                "install it with: pip install 'sesreport[cluster]'")) from None
    cluster = None
    try:
        if scheduler == "local":
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise UserError(Problem(None, None, f"cannot reach the Dask scheduler at {scheduler} ({exc})",
                                "start it with `dask scheduler` and workers with `dask worker ADDRESS`, "
                                "or use --scheduler local")) from None
    results: list[Result] = []
    try:
        futures = client.map(remote_job, todo, setup=setup, pure=False)
        for future in completed(futures):
            results.append(future.result())
            advance()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return results

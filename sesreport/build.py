"""`generate.py build`: plan the documents, rebuild only what changed, in parallel, atomically.

A document is rebuilt when any of its inputs changed: its configuration, the observations it uses
(the country's and its peers', for the document's indicators), the templates, the code, the
language or the date. One failing document never stops the others; its old files are removed so
that nothing stale looks current, and the run ends with a summary and exit code 1.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from .errors import Problem, UserError, display_path

MANIFEST = ".sesreport-manifest.json"


@dataclass(frozen=True)
class Job:
    kind: str
    iso3: str
    lang: str

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.iso3}.{self.lang}"

    def stem(self) -> str:
        return f"{self.iso3}.{self.lang}"


@dataclass
class Result:
    job: Job
    status: str  # built, unchanged, failed
    seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    error: str | None = None
    pages: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
    changes: dict | None = None  # what moved in the printed figures since the previous build


# The state a worker needs; set in the parent before the pool forks, so nothing is pickled.
_STATE: dict = {}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside the target, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def code_fingerprint() -> str:
    """The package's own code and the versions of the libraries that shape the output."""
    from importlib.metadata import version

    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")) + sorted((root / "locale").rglob("*.po")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    for package in ("weasyprint", "matplotlib", "babel", "jinja2", "font-source-sans-pro", "font-source-serif-pro"):
        h.update(f"{package}={version(package)}".encode())
    return h.hexdigest()


def templates_fingerprint() -> str:
    from .render import TEMPLATES

    h = hashlib.sha256()
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(TEMPLATES).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


class DataFingerprints:
    """A digest per (country, indicator) of the resolved observations, computed once per run."""

    def __init__(self, ds):
        import pandas as pd

        res = ds.resolved
        cols = ["iso3", "indicator", "year", "value", "sex", "breakdown", "source_id", "source_code", "vintage",
                "file", "line", "estimate", "break"]
        row_hash = pd.util.hash_pandas_object(res[cols], index=False).to_numpy()
        frame = pd.DataFrame({"iso3": res["iso3"], "indicator": res["indicator"], "h": row_hash})
        grouped = frame.groupby(["iso3", "indicator"], sort=False)["h"]
        sums = grouped.sum()  # wraps modulo 2**64: order-independent
        counts = grouped.size().reindex(sums.index)
        self.digests = {k: f"{s}:{n}" for k, s, n in zip(sums.index, sums.to_numpy().tolist(),
                                                           counts.to_numpy().tolist())}
        meta = [ds.illustrative, ds.notice, ds.countries.vintage,
                [(f.source_id, f.path, f.vintage, f.title, f.licence, f.attribution, f.url) for f in ds.files]]
        self.meta = hashlib.sha256(json.dumps(meta, sort_keys=True, default=str).encode()).hexdigest()

    def of(self, countries: list[str], indicators: list[str]) -> str:
        h = hashlib.sha256(self.meta.encode())
        for c in sorted(countries):
            for i in sorted(indicators):
                h.update(f"{c}|{i}|{self.digests.get((c, i), '-')};".encode())
        return h.hexdigest()


class IndexDigests:
    """A digest per country of what a brief prints from a composite index, rounded as printed."""

    def __init__(self, result):
        values = result.values.round(2)
        clusters = result.clusters.reindex(values.index)
        low = high = None
        if result.sensitivity is not None:
            low = result.sensitivity.rank_p05.reindex(values.index)
            high = result.sensitivity.rank_p95.reindex(values.index)
        self.by_country = {}
        for i, iso3 in enumerate(values.index):
            parts = [repr(v) for v in values.iloc[i].tolist()] + [str(r) for r in result.ranks.iloc[i].tolist()]
            parts.append(str(clusters.iloc[i]))
            if low is not None:
                parts += [str(low.iloc[i]), str(high.iloc[i])]
            self.by_country[iso3] = "|".join(parts)
        self.label = str(result.label) + str(result.reference_year)

    def of(self, countries: list[str]) -> str:
        h = hashlib.sha256(self.label.encode())
        for c in sorted(countries):
            h.update(f"{c}:{self.by_country.get(c, '-')};".encode())
        return h.hexdigest()


def job_hash(job: Job, project, ds, fingerprints: DataFingerprints, as_of: date, code: str, templates: str,
             indices: dict, index_digests: dict) -> str:
    from .compute import peers_of

    parts: dict = {"job": job.key, "as_of": as_of.isoformat(), "code": code, "templates": templates}
    if job.kind == "brief":
        cfg = project.countries[job.iso3].config
        peers = peers_of(cfg.country, cfg.peers.group, ds.countries.table, cfg.peers.countries)
        shown = peers + [cfg.country]
        parts.update(
            config=cfg.model_dump(mode="json"),
            data=fingerprints.of(shown, cfg.indicators()),
            countries={c: (ds.countries.name(c), ds.countries.region(c), ds.countries.income(c)) for c in shown},
            index=index_digests[cfg.index].of(shown) if cfg.index in index_digests else "-",
        )
    else:
        result = indices[job.iso3]
        from .annex import export_table, table_csv

        parts.update(config=project.annex.model_dump(mode="json"), data=fingerprints.meta,
                     table=hashlib.sha256(table_csv(export_table(result, ds))).hexdigest(),
                     method=json.dumps(result.method, sort_keys=True, default=str))
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


OUTPUTS = {"brief": ("pdf", "html", "figures.json"), "annex": ("pdf", "html", "csv", "xlsx")}


def outputs_for(job: Job, out: Path) -> dict[str, Path]:
    folder = out / job.kind
    paths = {ext: folder / f"{job.stem()}.{ext}" for ext in ("pdf", "html", "figures.json")}
    if job.kind == "annex":
        paths = {"pdf": folder / f"{job.stem()}.pdf", "html": folder / f"{job.stem()}.html",
                 "csv": folder / f"{job.iso3}.csv", "xlsx": folder / f"{job.iso3}.xlsx"}
    return {ext: paths[ext] for ext in OUTPUTS[job.kind]}


def run_job(job: Job) -> Result:
    """Build one document; any exception becomes a failed Result, never a crash of the run."""
    ds, project, as_of, out = _STATE["ds"], _STATE["project"], _STATE["as_of"], _STATE["out"]
    indices = _STATE.get("indices", {})
    start = time.perf_counter()
    try:
        from .i18n import Lang
        from .render import render_html, write_pdf

        timings: dict[str, float] = {}
        t = time.perf_counter()
        lang = Lang(job.lang)
        stamp = datetime(as_of.year, as_of.month, as_of.day, tzinfo=timezone.utc)
        contents: dict[str, bytes] = {}
        if job.kind == "brief":
            from .brief import build_brief

            loaded = project.countries[job.iso3]
            doc = build_brief(ds, loaded, lang, as_of, project.catalog, indices.get(loaded.config.index))
            template = "brief.html.j2"
            contents["figures.json"] = json.dumps(doc.figures, indent=1, ensure_ascii=False, sort_keys=True).encode()
        else:
            from .annex import build_annex, table_csv, table_xlsx

            doc = build_annex(ds, indices[job.iso3], project.annex, project.organisation, lang, as_of)
            template = "annex.html.j2"
            contents["csv"] = table_csv(doc.table)
            contents["xlsx"] = table_xlsx(doc.table, as_of, doc.context["title"])
        timings["compute+charts"] = time.perf_counter() - t
        t = time.perf_counter()
        html_print = render_html(template, doc.context, lang, "print")
        contents["html"] = render_html(template, doc.context, lang, "screen").encode("utf-8")
        timings["html"] = time.perf_counter() - t
        t = time.perf_counter()
        pdf = write_pdf(html_print, attachments=doc.attachments(job.stem()), stamp=stamp)
        contents["pdf"] = pdf.data
        timings["pdf"] = time.perf_counter() - t
        paths = outputs_for(job, out)
        changes = None
        if "figures.json" in contents:
            from .changes import compare, load_figures

            previous = load_figures(paths["figures.json"])
            if previous is not None:
                changes = compare(previous, json.loads(contents["figures.json"]))
        hashes = {}
        for ext, path in paths.items():
            atomic_write(path, contents[ext])
            hashes[str(path.relative_to(out))] = sha256_bytes(contents[ext])
        failed_note = paths["pdf"].with_name(f"{job.stem()}.FAILED.txt")
        if failed_note.exists():
            failed_note.unlink()
        return Result(job, "built", time.perf_counter() - start, hashes, pages=pdf.pages, timings=timings,
                      changes=changes)
    except UserError as exc:
        return _failed(job, out, "\n".join(str(p) for p in exc.problems), start)
    except Exception as exc:  # one document's failure must not stop the others
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return _failed(job, out, f"{detail}\n\n{traceback.format_exc()}", start)


def _failed(job: Job, out: Path, message: str, start: float) -> Result:
    """Remove the document's previous files (so nothing stale looks current) and leave a note."""
    paths = outputs_for(job, out)
    for path in paths.values():
        if path.exists():
            path.unlink()
    note = paths["pdf"].with_name(f"{job.stem()}.FAILED.txt")
    atomic_write(note, f"{job.key} failed; its previous files were removed.\n\n{message}\n".encode())
    return Result(job, "failed", time.perf_counter() - start, error=message.splitlines()[0] if message else "failed")


def plan(project, countries: list[str] | None, langs: list[str] | None, kinds: list[str] | None) -> list[Job]:
    jobs = []
    annex = project.annex
    if annex is not None and (kinds and "annex" in kinds or not kinds and not countries):
        for lang in annex.languages:
            if not langs or lang in langs:
                jobs.append(Job("annex", annex.index, lang))
    for iso3, loaded in sorted(project.countries.items()):
        if countries and iso3 not in countries:
            continue
        cfg = loaded.config
        for kind in cfg.documents:
            if kinds and kind not in kinds:
                continue
            for lang in cfg.languages:
                if langs and lang not in langs:
                    continue
                jobs.append(Job(kind, iso3, lang))
    return jobs


def compute_indices(project, ds, jobs: list[Job]) -> dict:
    """The composite indices the planned documents show, from the cache when nothing changed."""
    from .data.load import default_cache_dir
    from .index import build_index
    from .index.cache import cached_index

    wanted = {project.countries[j.iso3].config.index for j in jobs if j.kind == "brief"}
    wanted |= {j.iso3 for j in jobs if j.kind == "annex"}
    wanted.discard(None)
    return {i: cached_index(project.indices[i], ds, default_cache_dir(), lambda spec, data: build_index(spec, data))
            for i in sorted(wanted)}


def load_manifest(out: Path) -> dict:
    path = out / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def up_to_date(entry: dict | None, digest: str, out: Path) -> bool:
    if not entry or entry.get("hash") != digest:
        return False
    for rel, sha in entry.get("outputs", {}).items():
        path = out / rel
        if not path.is_file() or sha256_bytes(path.read_bytes()) != sha:
            return False
    return True


QUICK = "_quick"


def quick_fingerprint(args, data_dir: Path, as_of: date, code: str, templates: str) -> tuple[str, str]:
    """(selection, fingerprint of every input): the code, templates, config and data files, by
    content. When it matches the last build of the same selection, nothing can have changed, and the
    run ends before the data and the document libraries are even imported."""
    selection = json.dumps({
        "countries": sorted(c.upper() for c in args.countries), "lang": sorted(args.lang or []),
        "document": sorted(args.document or []), "data": str(Path(data_dir).resolve()),
        "config": str(Path(args.config).resolve()),
    }, sort_keys=True)
    h = hashlib.sha256(f"{selection}|{as_of.isoformat()}|{code}|{templates}".encode())
    for folder in (Path(args.config), Path(data_dir)):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and (not path.name.startswith(".") or path.name == ".fetch.json"):
                h.update(str(path.relative_to(folder)).encode())
                h.update(hashlib.sha256(path.read_bytes()).digest())
    return selection, h.hexdigest()


def _quick_unchanged(manifest: dict, selection: str, fingerprint: str, out: Path) -> list[str] | None:
    record = manifest.get(QUICK, {}).get(selection)
    if not record or record.get("fingerprint") != fingerprint:
        return None
    keys = record.get("jobs", [])
    if not keys or not all(up_to_date(manifest.get(k), manifest.get(k, {}).get("hash"), out) for k in keys):
        return None
    return keys


def run_build(args, data_dir: Path) -> int:
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else date.today()
    except ValueError:
        raise UserError(Problem(None, None, f"--as-of '{args.as_of}' is not a date", "write it as YYYY-MM-DD")) from None
    out: Path = args.out
    code, templates = code_fingerprint(), templates_fingerprint()
    selection, quick = quick_fingerprint(args, data_dir, as_of, code, templates)
    if not args.force and not args.no_cache:
        keys = _quick_unchanged(load_manifest(out), selection, quick, out)
        if keys is not None:
            jobs = [Job(k.split("/")[0], *k.split("/")[1].rsplit(".", 1)) for k in keys]
            _summary(console, [Result(j, "unchanged") for j in jobs], out, 0.0)
            return 0

    from .config import load_project
    from .data.load import load_dataset

    countries = [c.upper() for c in args.countries] or None
    ds = load_dataset(data_dir, args.config, use_cache=not args.no_cache)
    for p in ds.problems:
        if p.severity == "warning" and "optional" not in (p.hint or ""):
            console.print(f"[yellow]warning[/]: {p}", soft_wrap=True)
    if ds.illustrative:
        console.print(f"[yellow]Using illustrative data from {display_path(data_dir)}: every page is stamped "
                      f"'{ds.notice}'. Pass --data DIR for real data.[/]")
    project = load_project(args.config, known_countries=set(ds.countries.table.index), only=countries)
    jobs = plan(project, countries, args.lang, args.document)
    indices = compute_indices(project, ds, jobs)
    if not jobs:
        raise UserError(Problem(None, None, "nothing to build for the selection given",
                                "check the ISO3 codes, --lang and --document against the country configs"))
    out.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(out)
    fingerprints = DataFingerprints(ds)
    index_digests = {i: IndexDigests(r) for i, r in indices.items()}
    digests = {job.key: job_hash(job, project, ds, fingerprints, as_of, code, templates, indices, index_digests)
               for job in jobs}
    todo = [j for j in jobs if args.force or not up_to_date(manifest.get(j.key), digests[j.key], out)]
    results = [Result(j, "unchanged") for j in jobs if j not in todo]

    _STATE.update(ds=ds, project=project, as_of=as_of, out=out, indices=indices)
    start = time.perf_counter()
    if todo:
        from .data.load import default_cache_dir

        setup = Setup(str(Path(data_dir).resolve()), str(Path(args.config).resolve()), str(out.resolve()),
                      as_of.isoformat(), str(default_cache_dir().resolve()))
        results += _execute(todo, args.jobs, console, getattr(args, "scheduler", None), setup)
    elapsed = time.perf_counter() - start

    for r in results:
        if r.status == "built":
            manifest[r.job.key] = {"hash": digests[r.job.key], "outputs": r.outputs}
        elif r.status == "failed":
            manifest.pop(r.job.key, None)
    quick_records = manifest.setdefault(QUICK, {})
    if any(r.status == "failed" for r in results):
        quick_records.pop(selection, None)
    else:
        quick_records[selection] = {"fingerprint": quick, "jobs": sorted(j.key for j in jobs)}
    atomic_write(out / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
    from .preview import write_index

    write_index(out)
    changed = {r.job.key: r.changes for r in results if r.changes and (r.changes["moved"] or r.changes["flipped"])}
    if changed:
        from .changes import markdown

        atomic_write(out / "changes.md", markdown(changed, as_of.isoformat()).encode("utf-8"))
        atomic_write(out / "changes.json", json.dumps(changed, indent=1, ensure_ascii=False, sort_keys=True).encode())
        flips = sum(len(c["flipped"]) for c in changed.values())
        moves = sum(len(c["moved"]) for c in changed.values())
        console.print(f"{moves} printed values moved and {flips} statements flipped in {len(changed)} documents: "
                      f"see {display_path(out / 'changes.md')}")
    _summary(console, results, out, elapsed)
    return 1 if any(r.status == "failed" for r in results) else 0


@dataclass(frozen=True)
class Setup:
    """What a cluster worker needs to load the same state as this process (paths it can see)."""

    data_dir: str
    config_dir: str
    out: str
    as_of: str
    cache_dir: str


def remote_job(job: Job, setup: Setup) -> Result:
    """Run one document on a Dask worker: load the data, configs and indices once per worker
    (from the shared cache when it is there), then build exactly as a local worker does."""
    if _STATE.get("setup") != setup:
        from .config import load_project
        from .data.load import load_dataset

        ds = load_dataset(setup.data_dir, setup.config_dir, cache_dir=setup.cache_dir)
        project = load_project(setup.config_dir, known_countries=set(ds.countries.table.index))
        from .index import build_index
        from .index.cache import cached_index

        needed = {c.config.index for c in project.countries.values()} | ({project.annex.index} if project.annex else set())
        indices = {i: cached_index(project.indices[i], ds, Path(setup.cache_dir), lambda sp, d: build_index(sp, d))
                   for i in sorted(needed - {None})}
        _STATE.update(setup=setup, ds=ds, project=project, as_of=date.fromisoformat(setup.as_of), out=Path(setup.out),
                      indices=indices)
    return run_job(job)


def _execute_on_cluster(todo: list[Job], scheduler: str, setup: Setup, workers: int, progress, task) -> list[Result]:
    """The same jobs on a Dask cluster. Workers must see the data, config and output folders at the
    same paths (a shared file system); `local` starts a cluster of processes on this machine."""
    try:
        from distributed import Client, LocalCluster, as_completed as completed
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
            progress.advance(task)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return results


def _execute(todo: list[Job], jobs: int | None, console, scheduler: str | None = None,
             setup: Setup | None = None) -> list[Result]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    results: list[Result] = []
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=False, disable=not console.is_terminal)
    with progress:
        task = progress.add_task("Building", total=len(todo))
        if scheduler:
            results = _execute_on_cluster(todo, scheduler, setup, workers, progress, task)
        elif workers == 1:
            for job in todo:
                results.append(run_job(job))
                progress.advance(task)
        else:
            _warm_up()
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = [pool.submit(run_job, job) for job in todo]
                for future in as_completed(futures):
                    results.append(future.result())
                    progress.advance(task)
    return results


def _warm_up() -> None:
    """Import and parse what every worker needs once, before forking."""
    from . import charts  # noqa: F401
    from .fonts import register_matplotlib
    from .render import _print_setup

    register_matplotlib()
    _print_setup()


def _summary(console, results: list[Result], out: Path, elapsed: float) -> None:
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

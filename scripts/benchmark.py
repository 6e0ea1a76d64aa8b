#!/usr/bin/env python3
"""Print how long sesreport takes: data loading, one brief step by step, batches and rebuilds.

    python scripts/benchmark.py [--data DIR] [--countries N] [--typst/--no-typst]

Figures are wall-clock seconds on this machine unless said otherwise; nothing here asserts a
target. In order: loading the data (cold, from the cache, after a new release of one file); a
two-page and a long brief stage by stage in a warm process (from the build's JSON summary: compute,
charts, HTML, PDF and the processor time); cold command-line builds (the data, index and chart
caches warm); a cold batch of briefs (and the annex) on all cores, no chart drawn before, its seconds
per page next to the Typst route's (matplotlib, pandoc and Typst per brief, scripts/benchmark_typst.py)
measured in the same run on the same countries (two pairs, the second with the Typst route
first, and the ratio over both), each worker's first brief against its later ones, and
the peak memory of the build and of its busiest worker or renderer, sampled from /proc (resident; proportional,
which divides shared pages among the processes sharing them; and the process's own); the same briefs
in the long form; a rebuild with nothing changed; and one value corrected in one file, from a cold
process, with the documents rendered again.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median
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
    revise(copy, b"71.9")
    start = time.perf_counter()
    ds = load_dataset(copy, REPO / "config", cache_dir=cache)
    files = len(ds.parsed) + len(ds.reused)
    line("load after a new release of one file", time.perf_counter() - start,
         f"{len(ds.parsed)} of {files} files parsed, {ds.parse_seconds:.3f} s parsing")
    shutil.rmtree(copy, ignore_errors=True)


def revise(data: Path, value: bytes) -> None:
    """Set Indonesia's 2024 life expectancy in the WDI file of a copy of the data (line endings kept)."""
    health = data / "wdi_datahub" / "sp.dyn.le00.in" / "data.csv"
    text = health.read_bytes()
    old = next(row for row in text.splitlines() if row.startswith(b"Indonesia,IDN,2024,"))
    health.write_bytes(text.replace(old, b"Indonesia,IDN,2024," + value))


def build_json(cmd: list[str]) -> dict:
    """Run a build with --json and return its summary."""
    result = subprocess.run([*cmd, "--json"], cwd=REPO, check=True, capture_output=True, text=True)
    return json.loads(result.stdout)


def _memory(pid: int) -> tuple[int, int, int] | None:
    """A process's resident, proportional and private memory now (KiB), from /proc (Linux)."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    except (OSError, ValueError):
        return None
    kib = {name: int(value.split()[0]) for name, value in fields.items()}
    return kib["Rss"], kib["Pss"], kib["Private_Clean"] + kib["Private_Dirty"]


def build_sampled(cmd: list[str]) -> tuple[dict, dict[str, tuple[float, float, float]]]:
    """Run a build with --json, sampling its workers' memory ten times a second; return its summary
    and the peaks (MiB: resident, proportional, private) of the build process and of its workers."""
    process = subprocess.Popen([*cmd, "--json"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    peaks: dict[int, list[int]] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            try:
                children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
            except OSError:
                children = []
            for pid in [process.pid, *map(int, children)]:
                now = _memory(pid)
                if now is not None:
                    peak = peaks.setdefault(pid, [0, 0, 0])
                    peaks[pid] = [max(a, b) for a, b in zip(peak, now)]
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, cmd)
    mib = {pid: (r / 1024, p / 1024, u / 1024) for pid, (r, p, u) in peaks.items()}
    build = mib.pop(process.pid, (0.0, 0.0, 0.0))
    workers = [m for m in mib.values() if m[0] > 50]  # the pool's own helper threads are not workers
    worst = tuple(max(m[i] for m in workers) for i in range(3)) if workers else (0.0, 0.0, 0.0)
    return json.loads(out), {"build": build, "worker": worst}  # type: ignore[dict-item]


def _stage(doc: dict, stage: str) -> float:
    timings = doc["timings"]
    if stage == "compute":
        return timings["compute+charts"] - timings.get("charts", 0.0)
    return timings.get(stage, 0.0)


def workers_report(summary: dict) -> None:
    """Each building process's first brief against its later ones (processor time, a renderer's
    included), and its peak memory. On one or two cores the build process builds the documents itself
    and renderers make their PDFs (`execute._pipelined`); with more, a pool's workers build them."""
    by_worker: dict[int, list[dict]] = {}
    for doc in summary["documents"]:
        if doc["status"] == "built" and doc["kind"] == "brief":
            by_worker.setdefault(doc["worker"], []).append(doc)
    firsts, laters = [], []
    for docs in by_worker.values():
        docs.sort(key=lambda d: d["worker_document"])
        if len(docs) >= 3:
            firsts.append(docs[0]["timings"]["cpu"])
            laters += [d["timings"]["cpu"] for d in docs[1:]]
    if firsts:
        print(f"  the first brief of a process building them / its later ones (median processor time): "
              f"{median(firsts):.2f} s / {median(laters):.2f} s ({len(by_worker)} such processes)")
    peaks = [d["peak_mib"] for d in summary["documents"] if d["peak_mib"] and d["kind"] == "brief"]
    print(f"  peak memory of a process building briefs (its peak resident size, with the pages it shares): "
          f"{max(peaks):.0f} MiB")


def correction(data: Path, work: Path, cmd: list[str]) -> None:
    """One value corrected in one file (Indonesia's 2024 life expectancy), built from a cold process:
    the time, and how many documents were rendered again."""
    data_copy = work / "data"
    shutil.copytree(data, data_copy)
    cmd_copy = [str(data_copy) if part == str(data) else part for part in cmd]
    revise(data_copy, b"71.9")
    run(cmd_copy)  # first build against the copy (a new data folder: its own cache entries)
    revise(data_copy, b"72.0")
    start = time.perf_counter()
    summary = build_json(cmd_copy)
    t = time.perf_counter() - start
    computed = summary["built"] + sum(1 for d in summary["documents"] if d["status"] == "unchanged" and d["timings"])
    line("one value corrected (Indonesia, life expectancy 2024)", t,
         f"{computed} documents recomputed, {summary['built']} rendered again")


def pdf_pages(folder: Path) -> tuple[int, int]:
    """The number of PDFs under `folder` and their pages."""
    import pikepdf

    files = sorted(folder.rglob("*.pdf"))
    pages = 0
    for path in files:
        with pikepdf.open(path) as pdf:
            pages += len(pdf.pages)
    return len(files), pages


def typst_route(ds: Dataset, chosen: list[str], work: Path, sesreport_per_page: float | None) -> float | None:
    """Time the Typst route on the same countries, print it (next to sesreport's seconds per page, when
    given) and return its own (None when the route cannot be set up)."""
    try:
        route = measure(ds, chosen, work)
    except RouteUnavailable as err:
        print(f"  Typst route skipped: {err}")
        return None
    line(f"Typst route, {route.documents} briefs ({os.cpu_count()} at a time)", route.seconds,
         f"{route.pages} pages: {route.per_page:.3f} s per page")
    if sesreport_per_page is not None:
        print(f"  seconds per page, sesreport / Typst route: {sesreport_per_page:.3f} / {route.per_page:.3f}"
              f" = {sesreport_per_page / route.per_page:.2f}×")
    return route.per_page


def cold_batch(cmd: list[str], out: Path, cache: Path) -> tuple[float, int, int]:
    """The seconds a batch into `out` takes with no chart drawn before, and its PDFs and pages."""
    shutil.rmtree(cache / "charts", ignore_errors=True)
    at = cmd.index("--out") + 1
    t = run([*cmd[:at], str(out), *cmd[at + 1:]])
    files, pages = pdf_pages(out)
    return t, files, pages


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
        line("load from the data cache", time.perf_counter() - start, "(from cache)" if ds.from_cache else "")
        new_release(args.data, work, cache)

        print("One brief, step by step (a warm process: the first brief of the run is left out)")
        seed = ["RUS", "KAZ", "UKR", "IDN", "SEN", "PER"]
        for form in ("two_page", "full"):
            summary = build_json([python, "generate.py", "build", *seed, "--kind", "brief", "--data", str(args.data),
                                  "--out", str(work / f"steps-{form}"), "--as-of", AS_OF, "--force", "-j", "1",
                                  "--format", form])
            docs = [d for d in summary["documents"] if d["worker_document"] != 1]
            print(f"  {form.replace('_', '-')} brief ({median([d['pages'] for d in docs]):.0f} pages), median of "
                  f"{len(docs)}:")
            for stage in ("compute", "charts", "html", "pdf", "cpu"):
                line(f"  {stage}", median([_stage(d, stage) for d in docs]))

        print("Command line (cold process; the data, index and chart caches warm)")
        out = work / "out"
        common = ["--data", str(args.data), "--out", str(out), "--as-of", AS_OF]
        run([python, "generate.py", "build", "RUS", "--lang", "en", *common])  # the indices' cache filled
        line("generate.py build RUS --lang en --kind brief", run([python, "generate.py", "build", "RUS", "--lang", "en",
                                                                  "--kind", "brief", *common, "--force"]))
        line("generate.py build RUS --lang en (brief and strategy input)",
             run([python, "generate.py", "build", "RUS", "--lang", "en", *common, "--force"]))
        line("the same again, nothing changed", run([python, "generate.py", "build", "RUS", "--lang", "en", *common]))

        print(f"Batch of {args.countries} country briefs")
        config = work / "config"
        shutil.copytree(REPO / "config", config)
        chosen = choose_countries(ds, args.countries)
        for iso3 in chosen:
            path = config / "countries" / f"{iso3}.yaml"
            if not path.exists():
                path.write_text(f"country: {iso3}\n", encoding="utf-8")
        batch = work / "batch"
        cmd = [python, "generate.py", "build", "--kind", "brief", "--kind", "annex", "--data", str(args.data),
               "--config", str(config), "--out", str(batch), "--as-of", AS_OF]
        shutil.rmtree(cache / "charts", ignore_errors=True)  # cold: no chart drawn before
        start = time.perf_counter()
        summary, memory = build_sampled(cmd)
        t = time.perf_counter() - start
        line(f"build {len(chosen)} briefs (all cores)", t, f"{t / len(chosen):.2f} s per brief")
        files, pages = pdf_pages(batch)
        line(f"  the same: {files} PDFs, {pages} pages (briefs, languages, annex)", t, f"{t / pages:.3f} s per page")
        workers_report(summary)
        for who, (rss, pss, private) in memory.items():
            who = "build" if who == "build" else "busiest worker or renderer"
            print(f"  peak memory of the {who} process (sampled): {rss:.0f} MiB resident, {pss:.0f} MiB "
                  f"proportional (shared pages divided among the processes sharing them), {private:.0f} MiB "
                  f"its own")
        if not args.typst:
            print("  Typst route skipped (--no-typst)")
        elif (theirs := typst_route(ds, chosen, work / "typst", t / pages)) is not None:
            # the machine's load moves by a fifth within minutes: a second pair, the Typst route first
            print("  again, the Typst route first:")
            theirs_again = typst_route(ds, chosen, work / "typst-2", None)
            again, _, pages_again = cold_batch(cmd, work / "batch-2", cache)
            line(f"build {len(chosen)} briefs (all cores), again", again, f"{again / pages_again:.3f} s per page")
            if theirs_again is not None:
                ours = (t / pages + again / pages_again) / 2
                print(f"  seconds per page over both pairs, sesreport / Typst route: {ours:.3f} / "
                      f"{(theirs + theirs_again) / 2:.3f} = {2 * ours / (theirs + theirs_again):.2f}×")
        long_form = [*cmd[:cmd.index("--kind")], "--kind", "brief", *cmd[cmd.index("--data"):], "--format", "full"]
        long_form[long_form.index(str(batch))] = str(work / "long")
        shutil.rmtree(cache / "charts", ignore_errors=True)
        start = time.perf_counter()
        _, memory = build_sampled(long_form)
        t = time.perf_counter() - start
        files, pages = pdf_pages(work / "long")
        line(f"the same briefs in the long form: {files} PDFs, {pages} pages", t, f"{t / pages:.3f} s per page")
        for who, label in (("build", "the build process"), ("worker", "a worker or renderer")):
            rss, pss, private = memory[who]
            print(f"  peak memory of {label}, only briefs (sampled): {rss:.0f} MiB resident, {pss:.0f} MiB "
                  f"proportional, {private:.0f} MiB its own")
        line("rebuild with nothing changed", run(cmd))
        correction(args.data, work, cmd)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The same documents, byte for byte, whatever the order of the jobs and the number of workers.

A build with two workers rehearses the first brief before it forks them (it builds and renders it,
writing nothing) and each worker then builds its share in whatever order the pool hands them out;
none of that may show in the files. Every chart is drawn in each build (none from the chart cache), so
that the charts too are drawn in each of those orders. Long documents are handed out first.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys

import pytest

import sesreport.build
from sesreport import chartcache
from sesreport.cli import main

from .conftest import CONFIG, REPO, need_real

COUNTRIES = ["RUS", "KAZ", "UKR"]  # six briefs: more than two a worker, so the first is rehearsed


@pytest.fixture(autouse=True)
def _draw_every_chart(monkeypatch):
    use = chartcache.use
    monkeypatch.setattr(chartcache, "use", lambda folder: use(None))


def _build(tmp_path, monkeypatch, name: str, jobs: int, order) -> dict[str, bytes]:
    real = need_real()
    planned = sesreport.build.plan
    monkeypatch.setattr(sesreport.build, "plan", lambda project, options: order(planned(project, options)))
    out = tmp_path / name
    code = main(["build", *COUNTRIES, "--kind", "brief", "--data", str(real), "--config", str(CONFIG),
                 "--out", str(out), "--as-of", "2026-11-27", "-j", str(jobs), "--json"])
    assert code == 0
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "brief").iterdir())}


def test_order_and_workers_do_not_change_a_byte(tmp_path, monkeypatch, capsys):
    collector = gc.get_threshold()
    serial = _build(tmp_path, monkeypatch, "serial", 1, list)
    # a build collects garbage less often while it runs (`lifeline.collecting_less`), not after: a
    # process that goes on (watch, serve) is left as it was, nothing it holds frozen
    assert gc.get_threshold() == collector
    assert gc.get_freeze_count() == 0
    capsys.readouterr()
    reversed_pool = _build(tmp_path, monkeypatch, "reversed", 2, lambda jobs: jobs[::-1])
    summary = json.loads(capsys.readouterr().out)
    rotated_pool = _build(tmp_path, monkeypatch, "rotated", 2, lambda jobs: jobs[3:] + jobs[:3])

    assert sorted(serial) == sorted(reversed_pool) == sorted(rotated_pool)
    assert len([name for name in serial if name.endswith(".pdf")]) == 6
    for name, data in serial.items():
        assert reversed_pool[name] == data, f"{name} differs when two workers build in reverse order"
        assert rotated_pool[name] == data, f"{name} differs when two workers build in another order"
    # every document says how much memory the worker that built it had at most
    assert all(d["peak_mib"] > 0 for d in summary["documents"])


def test_a_build_loads_with_fewer_young_collections(tmp_path, monkeypatch):
    """While a build loads its modules, configuration and data (objects that live on), a young
    collection waits for `lifeline.YOUNG` new objects; then Python's settings are back."""
    import sesreport.project
    from sesreport.lifeline import YOUNG

    seen = []
    load = sesreport.project.load_project

    def spied(*args, **kwargs):
        seen.append(gc.get_threshold()[0])
        return load(*args, **kwargs)

    monkeypatch.setattr(sesreport.project, "load_project", spied)
    collector = gc.get_threshold()
    code = main(["build", "RUS", "--lang", "en", "--kind", "brief", "--data", str(need_real()), "--config", str(CONFIG),
                 "--out", str(tmp_path / "out"), "--as-of", "2026-11-27", "-j", "1"])
    assert code == 0 and seen == [YOUNG] and collector[0] != YOUNG
    assert gc.get_threshold() == collector


def test_long_documents_are_handed_out_first(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["build", *COUNTRIES, "--lang", "en", "--kind", "brief", "--kind", "annex", "--data", str(need_real()),
                 "--config", str(CONFIG), "--out", str(out), "--as-of", "2026-11-27", "-j", "2", "--json"])
    assert code == 0
    documents = json.loads(capsys.readouterr().out)["documents"]
    assert sorted(d["kind"] for d in documents) == ["annex", "brief", "brief", "brief"]
    annex = next(d for d in documents if d["kind"] == "annex")
    assert annex["worker_document"] == 1  # the first its worker built, though planned after the briefs


HAND_BACK = """
import pyarrow  # imported, as in a worker: its own memory is not part of what is measured
from sesreport import execute
def resident():
    return int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0]) // 1024
blocks = [bytes(1000) + bytes([i % 256]) for i in range(200_000)]
kept = blocks[::64]  # a few survivors among the freed blocks: the heap cannot simply shrink from its top
del blocks
before = resident()
execute._hand_back()
print(before, resident())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_hands_freed_memory_back_between_documents():
    """What a document freed goes back to the system before the worker's next one (Arrow's pool is the
    system allocator's, as the command line sets it): 190 MiB of blocks freed among a few survivors stay
    resident until then."""
    run = subprocess.run([sys.executable, "-c", HAND_BACK], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system"})
    assert run.returncode == 0, run.stderr
    before, after = map(int, run.stdout.split())
    assert before - after > 80, (before, after)


def test_a_few_documents_are_built_here_and_rendered_beside(tmp_path, monkeypatch, capsys):
    """From the command line a build starts its renderer processes before it loads the data; with two
    workers (or a few documents a worker) it builds the documents in its own process, one after the
    other, while the renderers make the PDFs (`execute._pipelined`): the files are a serial build's,
    byte for byte."""
    serial = _build(tmp_path, monkeypatch, "serial", 1, list)  # in this process: no renderer (pandas is here)
    out = tmp_path / "beside"
    run = subprocess.run([sys.executable, "generate.py", "build", *COUNTRIES, "--kind", "brief", "--data",
                          str(need_real()), "--config", str(CONFIG), "--out", str(out), "--as-of", "2026-11-27",
                          "-j", "2", "--json"], cwd=REPO, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "SESREPORT_CACHE": str(tmp_path / "cache")})
    assert run.returncode == 0, run.stderr
    documents = json.loads(run.stdout)["documents"]
    assert len({d["worker"] for d in documents}) == 1  # one process built them all, not a pool's two
    assert sorted(d["worker_document"] for d in documents) == [1, 2, 3, 4, 5, 6]
    # each PDF was made by a renderer, whose processor time is part of the document's
    assert all(d["timings"]["pdf"] > 0 and d["timings"]["renderer_cpu"] > 0 for d in documents)
    assert all(d["timings"]["cpu"] >= d["timings"]["renderer_cpu"] for d in documents)
    beside = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "brief").iterdir())}
    assert sorted(beside) == sorted(serial)
    for name, data in serial.items():
        assert beside[name] == data, f"{name} differs when rendered beside the build"


def test_with_no_more_documents_than_renderers_the_short_ones_go_first(tmp_path):
    """`build RUS --lang en` on two renderers: the brief is built first and rendered while the strategy
    input (a long document) is built, rather than waiting for a renderer after it."""
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "generate.py", "build", "RUS", "--lang", "en", "--data", str(need_real()),
                          "--config", str(CONFIG), "--out", str(out), "--as-of", "2026-11-27", "-j", "2", "--json"],
                         cwd=REPO, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "SESREPORT_CACHE": str(tmp_path / "cache")})
    assert run.returncode == 0, run.stderr
    order = {d["key"]: d["worker_document"] for d in json.loads(run.stdout)["documents"]}
    assert order == {"brief/RUS.en": 1, "strategy/RUS.en": 2}


STARTED_BY_A_LARGE_PROCESS = """
import subprocess, sys
held = bytearray(400 * 2**20)
held[::4096] = b"x" * len(held[::4096])  # resident, not only reserved
child = "from sesreport.execute import peak_mib; print(peak_mib())"
print(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True).stdout)
"""


def test_a_process_counts_its_own_peak_memory_not_that_of_the_process_that_started_it():
    """`getrusage`'s peak is inherited across the start of a program: a build started by a process
    holding 400 MiB would report at least that. `peak_mib` (each document's `peak_mib`) is the build's own."""
    done = subprocess.run([sys.executable, "-c", STARTED_BY_A_LARGE_PROCESS], cwd=REPO, capture_output=True,
                          text=True, check=True)
    assert 0 < float(done.stdout) < 200

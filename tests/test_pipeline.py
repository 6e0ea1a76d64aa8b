"""The build pipeline: document kinds plug in, options and stages, the import graph, the JSON summary,
and workers that die with their build."""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import CONFIG, REPO

DEMO = REPO / "demo" / "data"
KINDS = Path(__file__).resolve().parent / "kinds"


def run(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "generate.py"), *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)


@pytest.fixture
def config(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    return target


def pdf_text(path: Path) -> str:
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())


def test_a_kind_from_outside_the_package_builds_through_the_cli(tmp_path, config):
    """A kind registered through the `sesreport.documents` entry-point group, defined in the test folder."""
    plugins = tmp_path / "plugins"
    info = plugins / "sesreport_memo-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sesreport-memo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[sesreport.documents]\nmemo = memo_kind:MemoKind\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugins), str(KINDS), str(REPO)])}
    out = tmp_path / "out"
    done = run("build", "--document", "memo", "--config", str(config), "--data", str(DEMO), "--out", str(out),
               "--as-of", "2026-11-27", "--json", env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert [(d["key"], d["status"]) for d in summary["documents"]] == [("memo/project.en", "built")]
    assert sorted(summary["documents"][0]["outputs"]) == ["memo/project.en.html", "memo/project.en.pdf"]
    text = pdf_text(out / "memo" / "project.en.pdf")
    assert "27 November 2026: 6 countries and" in text
    assert "Russian Federation" in text and "Kazakhstan" in text
    # the plug-in's own template folder was used, and the kind shows on the index page
    assert "memo/project.en.pdf" in (out / "index.html").read_text()
    again = run("build", "--document", "memo", "--config", str(config), "--data", str(DEMO), "--out", str(out),
                "--as-of", "2026-11-27", "--json", env=env)
    assert json.loads(again.stdout)["unchanged"] == 1


def test_unknown_kind_is_a_usage_error(tmp_path):
    done = run("build", "--document", "breif", "--data", str(DEMO), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "unknown document kind 'breif' (did you mean 'brief'?)" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "brief").exists()


def test_a_chart_type_nothing_draws_is_a_configuration_error(config, tmp_path):
    path = config / "countries" / "RUS.yaml"
    text = path.read_text()
    assert "sections:" not in text
    text += "sections:\n  labour_market:\n    charts:\n      - type: profile\n        indicator: unemployment\n"
    path.write_text(text)
    line = text.splitlines().index("      - type: profile") + 1
    done = run("validate", "--config", str(config), "--data", str(DEMO))
    assert done.returncode == 2
    assert f"RUS.yaml:{line}: the brief draws no chart of type 'profile'" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


def test_a_country_may_override_a_template(config, tmp_path):
    own = config / "templates" / "KAZ" / "partials"
    own.mkdir(parents=True)
    base = (REPO / "templates" / "partials" / "sources.html.j2").read_text()
    marker = "Prepared for the Ministry of Labour and Social Protection of the Population"
    own.joinpath("sources.html.j2").write_text(f"<p>{marker}</p>\n" + base)
    out = tmp_path / "out"
    done = run("build", "KAZ", "RUS", "--lang", "en", "--config", str(config), "--data", str(DEMO), "--out",
               str(out), "--as-of", "2026-11-27", "-j", "1")
    assert done.returncode == 0, done.stderr
    assert marker in (out / "brief" / "KAZ.en.html").read_text()
    assert marker not in (out / "brief" / "RUS.en.html").read_text()


def _imports(path: Path, package: str) -> set[str]:
    """The package's modules that a module imports at run time, at any depth of the file (lazy imports
    too; those under `if TYPE_CHECKING:` are for annotations only)."""
    module = ".".join(path.relative_to(REPO).with_suffix("").parts)
    if module.endswith(".__init__"):
        module = module[: -len(".__init__")]
    parent = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
                   for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in typing_only:  # annotations only: no import at run time
            continue
        if isinstance(node, ast.ImportFrom):
            base = parent
            for _ in range(max(node.level - 1, 0)):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else (node.module or "")
            if target.startswith(package):
                found.add(target)
                for alias in node.names:  # `from . import charts` names a module
                    if (REPO / Path(*f"{target}.{alias.name}".split("."))).with_suffix(".py").exists():
                        found.add(f"{target}.{alias.name}")
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith(package)}
    return {f for f in found if f != module}


def test_the_import_graph_has_no_cycle():
    modules = {}
    for path in sorted((REPO / "sesreport").rglob("*.py")):
        name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {name: {t for t in _imports(path, "sesreport") if t in modules} for name, path in modules.items()}
    # a package's __init__ is imported with any of its modules: an edge to `a.b` is also one to `a`
    for name in list(graph):
        for target in list(graph[name]):
            parts = target.split(".")
            graph[name] |= {".".join(parts[:i]) for i in range(2, len(parts))
                            if ".".join(parts[:i]) in modules and not name.startswith(".".join(parts[:i]))}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def _workers_of(pid: int) -> list[int]:
    """The processes a build started and theirs: its pool's workers, or its renderers (the first of
    which forks the others)."""
    parents: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            parents[int(proc.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    wanted = {pid}
    while wanted:
        wanted = {child for child, parent in parents.items() if parent in wanted}
        found += sorted(wanted)
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_build_and_never_overwrite_a_newer_one(tmp_path, config):
    out = tmp_path / "out"
    args = [sys.executable, str(REPO / "generate.py"), "build", "--data", str(DEMO), "--config", str(config),
            "--out", str(out), "--as-of", "2026-11-27", "-j", "2", "--lang", "en"]
    build = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    workers: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = _workers_of(build.pid)
    assert len(workers) >= 2, "the build never started its workers or renderers"
    time.sleep(1.0)  # let them get into the middle of a document
    os.kill(build.pid, signal.SIGKILL)
    build.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.1)
    alive = [w for w in workers if Path(f"/proc/{w}/stat").exists()
             and (Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z")]
    assert alive == [], "workers outlived their build"
    # the recovery build finishes, and nothing is left of the killed one
    done = subprocess.run(args + ["--json"], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    # four English briefs, the annex, two strategy inputs and the implementation reports of 2000-2001
    # and 2002-2003
    assert summary["failed"] == 0 and summary["built"] + summary["unchanged"] == 9
    leftovers = [p.name for p in out.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".sesreport-tmp-")]
    assert leftovers == []
    manifest = json.loads((out / ".sesreport-manifest.json").read_text())
    assert sorted(k for k in manifest if not k.startswith("_")) == sorted(d["key"] for d in summary["documents"])


def test_an_orphan_cannot_replace_a_newer_builds_file(tmp_path):
    """The generation check: a write from a build that no longer owns the folder is refused."""
    from sesreport.manifest import OutputLock, Superseded, atomic_write

    out = tmp_path / "out"
    with OutputLock(out) as first:
        old = first.generation
    with OutputLock(out):
        target = out / "brief" / "RUS.en.pdf"
        atomic_write(target, b"new")
        with pytest.raises(Superseded):
            atomic_write(target, b"old", old)
        assert target.read_bytes() == b"new"
        assert [p.name for p in target.parent.iterdir()] == ["RUS.en.pdf"]


def test_two_threads_writing_one_shared_file_do_not_share_a_temporary_file(tmp_path, monkeypatch):
    """The annexes of several languages write the same exports (`annex/ses.csv`), and a build's threads
    can finish two of them at once: each writes its own temporary file, then renames it."""
    import threading

    from sesreport import manifest

    both_written = threading.Barrier(2, timeout=10)
    fsync = os.fsync

    def then_wait(fd):
        fsync(fd)
        both_written.wait()  # each thread has written its temporary file; neither has renamed it yet

    monkeypatch.setattr(manifest.os, "fsync", then_wait)
    target = tmp_path / "annex" / "ses.csv"
    failed = []

    def write():
        try:
            manifest.atomic_write(target, b"iso3,score\n")
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            failed.append(exc)

    threads = [threading.Thread(target=write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == [] and target.read_bytes() == b"iso3,score\n"
    assert [p.name for p in target.parent.iterdir()] == ["ses.csv"]  # no temporary file left

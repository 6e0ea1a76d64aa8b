"""Builds: incremental, isolated failures, atomic outputs, the illustrative stamp."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sesreport.cli import main
from tests.conftest import CONFIG, REPO

DEMO = REPO / "demo" / "data"


def build(*args: str) -> int:
    return main(["build", *args, "--as-of", "2026-11-27", "-j", "1", "--json"])


def statuses(capsys) -> dict[str, str]:
    """Each document's status, from the machine-readable summary that `build --json` prints."""
    summary = json.loads(capsys.readouterr().out)
    return {d["key"]: d["status"] for d in summary["documents"]}


def set_latest_life_expectancy(data: Path, iso3: str, value: str) -> None:
    """A new data vintage: rewrite the country's latest life expectancy in the demo WDI file."""
    wdi = data / "wdi_api" / "API_DEMO_DS2_en_csv_v2_1.csv"
    lines = wdi.read_bytes().split(b"\r\n")
    i = next(i for i, line in enumerate(lines) if f',"{iso3}","Life expectancy'.encode() in line)
    cells = lines[i].split(b",")
    j = max(k for k, c in enumerate(cells) if c.strip(b'"'))
    cells[j] = f'"{value}"'.encode()
    lines[i] = b",".join(cells)
    wdi.write_bytes(b"\r\n".join(lines))


@pytest.fixture
def data(tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DEMO, target)
    return target


@pytest.fixture
def config(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    return target


def test_incremental_rebuilds_only_what_changed(data, config, tmp_path, capsys):
    out = tmp_path / "out"
    # briefs only: KAZ also has a strategy input, whose rebuilds tests/test_strategy_changes.py follows
    args = ["IDN", "KAZ", "--kind", "brief", "--lang", "en", "--data", str(data), "--config", str(config),
            "--out", str(out)]
    assert build(*args) == 0
    assert statuses(capsys) == {"brief/IDN.en": "built", "brief/KAZ.en": "built"}
    first = (out / "brief" / "KAZ.en.pdf").stat().st_mtime_ns

    assert build(*args) == 0
    assert statuses(capsys) == {"brief/IDN.en": "unchanged", "brief/KAZ.en": "unchanged"}
    assert (out / "brief" / "KAZ.en.pdf").stat().st_mtime_ns == first

    # a new value for Indonesia only: Indonesia's brief is rebuilt, Kazakhstan's is not
    # (Indonesia is not among Kazakhstan's peers, the upper-middle-income countries of Europe & Central Asia)
    set_latest_life_expectancy(data, "IDN", "71.9")
    assert build(*args) == 0
    assert statuses(capsys) == {"brief/IDN.en": "built", "brief/KAZ.en": "unchanged"}

    # a config change rebuilds that country only
    kaz = config / "countries" / "KAZ.yaml"
    kaz.write_text(kaz.read_text() + "stale_after: 4\n")
    assert build(*args) == 0
    assert statuses(capsys) == {"brief/IDN.en": "unchanged", "brief/KAZ.en": "built"}

    # a deleted output is noticed and rebuilt
    (out / "brief" / "IDN.en.html").unlink()
    assert build(*args) == 0
    assert statuses(capsys)["brief/IDN.en"] == "built"
    assert not [p for p in out.rglob("*.tmp")]


def test_one_failure_does_not_stop_the_others(data, config, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    args = ["IDN", "UKR", "--lang", "en", "--data", str(data), "--config", str(config), "--out", str(out)]
    assert build(*args) == 0
    capsys.readouterr()
    import sesreport.documents.brief as brief

    real_build = brief.build_brief

    def failing(ds, loaded, *rest, **kw):
        if loaded.config.country == "UKR":
            raise RuntimeError("chart renderer crashed")
        return real_build(ds, loaded, *rest, **kw)

    monkeypatch.setattr(brief, "build_brief", failing)
    assert build(*args, "--force") == 1
    err = capsys.readouterr().err
    assert "brief/UKR.en failed" in err and "chart renderer crashed" in err
    assert (out / "brief" / "IDN.en.pdf").is_file()
    # nothing stale looks current: the old Ukrainian files are gone, a note says why
    assert not (out / "brief" / "UKR.en.pdf").exists() and not (out / "brief" / "UKR.en.html").exists()
    note = (out / "brief" / "UKR.en.FAILED.txt").read_text()
    assert "chart renderer crashed" in note
    manifest = json.loads((out / ".sesreport-manifest.json").read_text())
    assert "brief/UKR.en" not in manifest and "brief/IDN.en" in manifest


def test_narrative_reference_checked_before_building(data, config, tmp_path, capsys):
    ukr = config / "countries" / "UKR.yaml"
    ukr.write_text(ukr.read_text() + "sections:\n  health:\n    narrative:\n      - text:\n"
                   "          en: 'Spending is {{ ind.health_spending.latest }}.'\n"
                   "          uk: 'Видатки: {{ ind.health_expenditure.lastest }}.'\n")
    out = tmp_path / "out"
    assert build("UKR", "--data", str(data), "--config", str(config), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert ("UKR.yaml:34: in a narrative: unknown indicator 'health_spending' (did you mean 'social_spending'?)"
            in err)
    assert "UKR.yaml:34: in a narrative: unknown field 'lastest' (did you mean 'latest'?)" in err
    assert not out.exists()


def test_illustrative_stamp_on_every_page(tmp_path):
    out = tmp_path / "out"
    assert build("RUS", "--data", str(DEMO), "--out", str(out)) == 0
    pdf = out / "brief" / "RUS.en.pdf"
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) == 2  # the two-page brief
    for page in pages:
        assert "Illustrative data — not official statistics" in page
    html = (out / "brief" / "RUS.en.html").read_text()
    assert "Illustrative data — not official statistics" in html


def test_nothing_to_build(tmp_path, capsys):
    assert main(["build", "IDN", "--lang", "xx", "--data", str(DEMO), "--out", str(tmp_path)]) == 2
    assert "nothing to build" in capsys.readouterr().err


def test_change_log_after_a_data_update(data, tmp_path, capsys):
    """A new vintage lowers Indonesia's latest life expectancy sharply: the rebuilt brief's change
    log lists the values that moved and the statement whose verb flipped, from "was stable" over ten
    years (71.6 in 2013, 73.2 in 2023) to "fell"."""
    out = tmp_path / "out"
    args = ["IDN", "--lang", "en", "--data", str(data), "--out", str(out)]
    assert build(*args) == 0
    assert not (out / "changes.md").exists()
    set_latest_life_expectancy(data, "IDN", "60.0")
    capsys.readouterr()
    assert build(*args) == 0
    assert "statements flipped" in capsys.readouterr().err
    log = (out / "changes.md").read_text()
    assert "## brief/IDN.en" in log
    assert "**life_expectancy** (trend stable → falling" in log
    assert "  - before: Life expectancy at birth was stable at 73.2\u00a0years in 2023 (71.6\u00a0years in 2013)" in log
    assert "  - after: Life expectancy at birth fell from 71.6\u00a0years in 2013 to 60.0\u00a0years in 2023" in log
    assert "life_expectancy, key figure:" in log and "→ 60.0\u00a0years" in log
    # the record carries the change the sentence prints: over ten years, down
    figures = json.loads((out / "brief" / "IDN.en.figures.json").read_text())
    [said] = [e for e in figures if e["what"] == "statement" and e["indicator"] == "life_expectancy"]
    assert (said["trend"], said["change"]["horizon"], said["change"]["base"]["year"]) == ("falling", 10, 2013)


def test_same_build_on_a_dask_cluster(tmp_path, capsys):
    """A local Dask cluster of worker processes builds the same bytes as this machine's workers."""
    pytest.importorskip("distributed")
    args = ["IDN", "KAZ", "--lang", "en", "--data", str(DEMO), "--as-of", "2026-11-27"]
    assert main(["build", *args, "--out", str(tmp_path / "local"), "-j", "1"]) == 0
    assert main(["build", *args, "--out", str(tmp_path / "dask"), "-j", "2", "--scheduler", "local"]) == 0
    for name in ("IDN.en.pdf", "KAZ.en.pdf", "IDN.en.html", "KAZ.en.figures.json"):
        assert (tmp_path / "local" / "brief" / name).read_bytes() == (tmp_path / "dask" / "brief" / name).read_bytes()


def test_unreachable_scheduler(tmp_path, capsys):
    pytest.importorskip("distributed")
    code = main(["build", "IDN", "--lang", "en", "--data", str(DEMO), "--out", str(tmp_path / "o"),
                 "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err


ENDING = """
import atexit, gc, sys
from sesreport import cli
cli.main = lambda: 3
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))
cli.run()
"""


def test_the_command_line_ends_with_mains_code_and_what_it_holds_frozen():
    """`generate.py` and `sesreport` end through `cli.run`: the exit code is `main`'s, exit handlers run,
    and Python's last collection skips what the process holds (frozen)."""
    done = subprocess.run([sys.executable, "-c", ENDING], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 3 and done.stdout == "frozen at exit: True\n"
    done = subprocess.run([sys.executable, "generate.py", "build", "--kind", "nothing"], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "unknown document kind 'nothing'" in done.stderr

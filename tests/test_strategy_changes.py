"""Strategy inputs over time and against mistakes: a data update that puts an indicator on track is
printed and named in the change log; mistakes in a strategy file are errors with file and line; the
demo data build a stamped, illustrative strategy input."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sesreport.cli import main
from tests.conftest import CONFIG, REPO, need_real

DEMO = REPO / "demo" / "data"
AS_OF = "2026-11-27"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "generate.py"), *args], capture_output=True, text=True,
                          cwd=REPO, timeout=900)


def annex(pdf: Path) -> str:
    """The text of the report's monitoring annex."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.replace("\u00a0", " ").split()).split("Annex: monitoring framework")[-1]


def test_new_data_put_an_indicator_on_track_and_the_change_log_says_so(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(need_real(), data)
    out = tmp_path / "out"
    args = ["build", "--kind", "strategy", "RUS", "--lang", "en", "--data", str(data), "--out", str(out),
            "--as-of", AS_OF, "-j", "1"]
    first = run(*args)
    assert first.returncode == 0, first.stderr
    pdf = out / "strategy" / "RUS.en.pdf"
    # life expectancy: 71.2 years in 2015, 73.4 in 2024, below the path to 78 years in 2030 (75.3 in 2024)
    # baseline, target, latest value, the path's value in 2024 and the status, as the annex row prints them
    assert "71.2 years (2015) 78.0 years (2030) 73.4 years (2024) 75.3 years off track" in annex(pdf)
    # a revised 2024 value above the path
    path = data / "wdi_datahub" / "sp.dyn.le00.in" / "data.csv"
    text = path.read_text(encoding="utf-8")
    assert text.count("Russian Federation,RUS,2024,73.4404878048781\n") == 1
    path.write_text(text.replace("Russian Federation,RUS,2024,73.4404878048781\n",
                                 "Russian Federation,RUS,2024,75.9\n"), encoding="utf-8")
    second = run(*args)
    assert second.returncode == 0, second.stderr
    assert "71.2 years (2015) 78.0 years (2030) 75.9 years (2024) 75.3 years on track" in annex(pdf)
    log = (out / "changes.md").read_text(encoding="utf-8")
    section = log.split("## strategy/RUS.en")[1]
    assert "Monitoring statuses that changed:\n\n- **life_expectancy** (health): off track → on track\n" in section
    # the only status that changed
    assert section.split("Monitoring statuses that changed:")[1].split("\n\n")[1].count("\n- ") == 0
    csv = (out / "strategy" / "RUS.en.monitoring.csv").read_text(encoding="utf-8")
    assert "health,life_expectancy,Life expectancy at birth,2015,2015,71.1834146341463,2030,78.0,2024,75.9," in csv


@pytest.fixture
def config(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    return target


MISTAKES = {
    "unknown indicator": ("    indicators: [life_expectancy, health_expenditure]\n",
                          "    indicators: [life_expectancy, health_expenditur]\n",
                          "unknown indicator 'health_expenditur' (did you mean 'health_expenditure'?)"),
    "unknown topic field": ("    indicators: [life_expectancy, health_expenditure]\n",
                            "    indicators: [life_expectancy, health_expenditure]\n    questoin: {en: Why?}\n",
                            "unknown key 'questoin' in topics.health (did you mean 'question'?)"),
    "target before baseline": ("      - {indicator: gini, target: 30, target_year: 2030}\n",
                               "      - {indicator: gini, target: 30, target_year: 2010}\n",
                               "the target year 2010 is not after the baseline year 2015 (a target is reached after "
                               "the baseline: set a later target_year or an earlier baseline_year)"),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_mistake_in_a_strategy_file_names_the_file_and_line(config, capsys, mistake):
    before, after, message = MISTAKES[mistake]
    path = config / "strategies" / "RUS.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(before) == 1
    text = text.replace(before, after)
    path.write_text(text, encoding="utf-8")
    changed = text.index(after) + len(after.split("\n")[0]) if mistake != "unknown topic field" \
        else text.index("    questoin")
    line = text[:changed].count("\n") + 1
    assert main(["validate", "--config", str(config), "--data", str(DEMO)]) == 2
    err = capsys.readouterr().err
    assert f"RUS.yaml:{line}: {message}" in " ".join(err.split())
    assert "Traceback" not in err


def test_the_demo_data_build_an_illustrative_strategy_input(tmp_path):
    out = tmp_path / "out"
    done = run("build", "--kind", "strategy", "KAZ", "--lang", "ru", "--data", str(DEMO), "--out", str(out),
               "--as-of", AS_OF, "-j", "1")
    assert done.returncode == 0, done.stderr
    notice = "Иллюстративные данные — не официальная статистика"
    for name in ("KAZ.ru.pdf", "KAZ.ru.slides.pdf"):
        pages = subprocess.run(["pdftotext", str(out / "strategy" / name), "-"], capture_output=True, text=True,
                               check=True).stdout.split("\f")[:-1]
        assert pages and all(notice in " ".join(page.split()) for page in pages), name


def test_a_slide_too_full_for_its_page_is_refused(config, tmp_path, capsys):
    """A headline too long for a slide pushes its content onto a second page; the deck is not written."""
    path = config / "strategies" / "KAZ.yaml"
    text = path.read_text(encoding="utf-8")
    long = "очень длинный заголовок, " * 12
    for headline in ('ru: "Каждая четвёртая ', 'ru: "Уязвимая занятость среди женщин: '):  # whichever applies
        assert text.count(headline) == 1
        text = text.replace(headline, headline + long)
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["build", "KAZ", "--kind", "strategy", "--lang", "ru", "--config", str(config), "--data", str(DEMO),
                 "--out", str(out), "--as-of", AS_OF, "-j", "1"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "a slide's content overflows its page" in err and "Traceback" not in err
    assert not (out / "strategy" / "KAZ.ru.slides.pdf").exists()

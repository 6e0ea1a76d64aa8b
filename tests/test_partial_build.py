"""One bad data file does not stop the rest: it is reported with file and line, the indicators only it
provides are unavailable for the run, the documents that print them fail naming the file (their
previous files removed), every other document is built, and the run ends with exit code 1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sesreport.cli import main
from sesreport.data.load import load_dataset
from sesreport.errors import UserError
from tests.conftest import CONFIG, need_real
from tests.test_data_errors import UNEMP, folder, real_bytes

LIFE = "wdi_datahub/sp.dyn.le00.in/data.csv"
SOURCES = """  - id: wdi
    path: "wdi_api/API_*.csv"
    layout: wdi_api
    publisher: World Bank
  - id: datahub
    path: "wdi_datahub/*/data.csv"
    layout: wdi_long
    publisher: World Bank
"""


def damaged(text: str) -> tuple[str, int]:
    """The file with a decimal comma in the value of its 101st line (one field too many); and that line."""
    lines = text.split("\n")
    lines[100] = lines[100].rsplit(",", 1)[0] + ",64,5"
    return "\n".join(lines), 101


@pytest.fixture
def project(tmp_path) -> tuple[Path, Path]:
    """Real unemployment and life expectancy files; a config where Indonesia prints no life expectancy."""
    real = need_real()
    data = folder(tmp_path, {UNEMP: real_bytes(UNEMP), LIFE: (real / LIFE).read_bytes(),
                             "wdi_datahub/sp.dyn.le00.in/datapackage.json":
                                 (real / "wdi_datahub/sp.dyn.le00.in/datapackage.json").read_bytes()}, SOURCES)
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    idn = config / "countries" / "IDN.yaml"
    idn.write_text(idn.read_text() + "key_figures: [unemployment_female, employment_ratio, poverty_300, gini, "
                                     "unemployment, union_density]\nsections: {health: null}\n")
    return data, config


def test_a_bad_file_fails_only_the_documents_that_print_its_indicators(project, tmp_path, capsys):
    data, config = project
    out = tmp_path / "out"
    build = ["build", "RUS", "IDN", "--lang", "en", "--document", "brief", "--data", str(data), "--config",
             str(config), "--out", str(out), "-j", "1"]
    assert main(build) == 0
    capsys.readouterr()
    brief = out / "brief"
    assert (brief / "RUS.en.pdf").is_file() and (brief / "IDN.en.pdf").is_file()
    good = (data / LIFE).read_text()
    text, line = damaged(good)
    (data / LIFE).write_text(text)

    assert main(build + ["--json"]) == 1
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    problem = (f"{data / LIFE}:{line}: this line has 5 columns where the header has 4 (a number written with a "
               "decimal comma, or an unquoted comma in a name? download the file again rather than editing it)")
    assert f"error: {problem}" in err
    assert "Unavailable in this run (the documents that print them are not built): life_expectancy" in err
    why = f"not built: life_expectancy cannot be used in this run: {problem}"
    assert f"brief/RUS.en failed: {why}" in err
    assert "Traceback" not in err
    summary = json.loads(captured.out)
    assert (summary["failed"], summary["unread"]) == (1, [problem])
    assert {d["key"]: d["error"] for d in summary["documents"]} == {"brief/IDN.en": None, "brief/RUS.en": why}
    # Russia's previous brief is out of sight, with a note saying why; Indonesia's is there
    assert sorted(p.name for p in brief.iterdir()) == ["IDN.en.figures.json", "IDN.en.html", "IDN.en.pdf",
                                                       "RUS.en.FAILED.txt"]
    assert why in (brief / "RUS.en.FAILED.txt").read_text()
    figures = json.loads((brief / "IDN.en.figures.json").read_text())
    assert "life_expectancy" not in json.dumps(figures)

    # data check still calls it an error
    assert main(["data", "check", "--data", str(data), "--config", str(config), "--no-cache"]) == 2
    assert problem in " ".join(capsys.readouterr().out.split())

    # repaired: Russia's brief comes back and the note goes
    (data / LIFE).write_text(good)
    assert main(build) == 0
    assert (brief / "RUS.en.pdf").is_file() and not (brief / "RUS.en.FAILED.txt").exists()


def test_what_an_unreadable_file_leaves_unavailable(project, tmp_path):
    data, _ = project
    text, line = damaged((data / LIFE).read_text())
    (data / LIFE).write_text(text)
    with pytest.raises(UserError) as err:  # outside a build the bad file is an error, as before
        load_dataset(data, CONFIG, cache_dir=tmp_path / "cache")
    [problem] = err.value.problems
    assert (problem.file, problem.line) == (str(data / LIFE), line)
    ds = load_dataset(data, CONFIG, cache_dir=tmp_path / "cache", partial=True)
    assert ds.unread == [problem]
    assert ds.unavailable == {"life_expectancy": [problem]}  # named by its code in the folder name
    assert sorted(ds.resolved["indicator"].unique()) == ["unemployment"]
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").glob("data-*"))  # never cached

    # a file whose path names no catalog code: every indicator of its publisher that no other file gives
    (data / "wdi_datahub/sp.dyn.le00.in").rename(data / "wdi_datahub/life")
    broken = real_bytes(UNEMP).decode("utf-8-sig").replace('"Zimbabwe","ZWE"', '"Zimbabwe","ZWE","x"')
    (data / UNEMP).write_text(broken)
    ds = load_dataset(data, CONFIG, cache_dir=tmp_path / "cache", partial=True)
    assert [p.file for p in ds.unread] == [str(data / UNEMP), str(data / "wdi_datahub/life/data.csv")]
    named, unnamed = ds.unread
    wdi = {code for code, ind in ds.catalog.indicators.items() if any(s.publisher == "wdi" for s in ind.sources)}
    assert set(ds.unavailable) == wdi and len(wdi) > 30
    assert ds.unavailable["unemployment"] == [named, unnamed] and ds.unavailable["gini"] == [unnamed]


def test_an_impossible_value_fails_only_the_documents_that_print_its_indicator(project, tmp_path, capsys):
    """A value out of its indicator's range is an error like an unreadable file: the indicator is
    withheld from this run (none of its values printed), and the documents that do not print it are built."""
    data, config = project
    lines = (data / LIFE).read_text().split("\n")
    lines[100] = lines[100].rsplit(",", 1)[0] + ",-64.5"
    (data / LIFE).write_text("\n".join(lines))
    out = tmp_path / "out"
    build = ["build", "RUS", "IDN", "--lang", "en", "--document", "brief", "--data", str(data), "--config",
             str(config), "--out", str(out), "-j", "1", "--json"]
    assert main(build) == 1
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    summary = json.loads(captured.out)
    [problem] = summary["unread"]
    assert problem.startswith(f"{data / LIFE}:101: ") and "is outside the range of life_expectancy" in problem
    assert {d["key"]: d["error"] for d in summary["documents"]} == {
        "brief/IDN.en": None, "brief/RUS.en": f"not built: life_expectancy cannot be used in this run: {problem}"}
    assert "Traceback" not in err
    assert not (out / "brief" / "RUS.en.pdf").exists() and (out / "brief" / "IDN.en.pdf").is_file()
    # outside a build the same value stops the load (exit 2 from data check)
    assert main(["data", "check", "--data", str(data), "--config", str(config), "--no-cache"]) == 2

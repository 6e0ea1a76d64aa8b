"""The two-page brief, the default form of a brief: front and back for every country and language
configured, from the real data; the long form on request; the publisher's apparatus on the back."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from sesreport.cli import main
from sesreport.config import country_files, load_country, load_defaults
from tests.conftest import REPO, need_real

AS_OF = "2026-11-27"


def configured() -> list[tuple[str, str]]:
    """Every (country, language) the project's configs build a brief for."""
    defaults = load_defaults(REPO / "config")
    out = []
    for path in country_files(REPO / "config"):
        loaded, problems = load_country(path, defaults)
        assert loaded is not None, problems
        if "brief" in loaded.config.documents:
            out += [(loaded.config.country, lang) for lang in loaded.config.languages]
    return out


def pdf_text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", *pages, str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory, cache_dir) -> Path:
    out = tmp_path_factory.mktemp("two-page")
    code = main(["build", "--kind", "brief", "--data", str(need_real()), "--out", str(out), "--as-of", AS_OF,
                 "--jobs", "2"])
    assert code == 0
    return out


@pytest.mark.parametrize(("iso3", "lang"), configured())
def test_every_brief_has_exactly_two_pages(built, iso3, lang):
    pdf = built / "brief" / f"{iso3}.{lang}.pdf"
    assert len(PdfReader(pdf).pages) == 2


def test_the_back_page_carries_sources_notes_and_the_publisher(built):
    back = " ".join(pdf_text(built / "brief" / "RUS.en.pdf", page=2).split())
    assert "Sources and notes" in back
    assert "World Development Indicators" in back
    assert "Suggested citation: Social and Economic Security Programme. Russian Federation: Social and economic " \
           "security: policy brief. 2026." in back
    assert "do not imply the expression of any opinion concerning the legal status" in back
    assert "© Social and Economic Security Programme, 2026." in back
    front = " ".join(pdf_text(built / "brief" / "RUS.ru.pdf", page=1).split())
    assert "Основные показатели" in front and "Источники и примечания" not in front  # key figures in front


@pytest.mark.parametrize(("iso3", "lang"), [("RUS", "en"), ("SEN", "fr"), ("KAZ", "ru")])
def test_the_back_page_columns_are_balanced(built, iso3, lang):
    """Sources and notes run in three columns of about equal height (split by the template, not by
    CSS multi-column): read from the PDF, the columns' last lines are within four lines of each other."""
    import pdfplumber

    with pdfplumber.open(built / "brief" / f"{iso3}.{lang}.pdf") as pdf:
        page = pdf.pages[1]
        words = page.extract_words()
        heading = next(w for w in words if w["text"] in ("Sources", "Источники"))
        # the publisher's block below the columns opens with a rule and the logo: the first drawing
        end = min(o["top"] for o in page.rects + page.curves + page.lines if o["top"] > heading["bottom"])
    below = [w for w in words if w["top"] > heading["bottom"]]
    third = page.width / 3
    bottoms = []
    for i in range(3):
        column = [w for w in below if w["top"] < end and i * third <= w["x0"] < (i + 1) * third]
        assert column, f"column {i + 1} of the back page is empty"
        bottoms.append(max(w["bottom"] for w in column))
    line_height = 7 * 1.28
    assert max(bottoms) - min(bottoms) <= 4 * line_height, bottoms


def test_balanced_columns_keep_order_and_lists():
    from sesreport.render import _partition, balanced_columns

    assert _partition([3, 3, 3, 3, 3, 3], 3) == [2, 4]
    assert _partition([10, 1, 1, 1, 1, 1, 5], 3) == [1, 6]  # the tallest item alone; the rest around it
    assert _partition([2, 2, 2, 2], 3) == [2, 3]  # a tie: the first column the fuller
    assert _partition([1, 1], 3) == [1, 2]  # fewer items than columns: the last one empty
    items = [("source-list", "A short source."), ("source-list", "Another source."), ("notes", "A note. " * 30),
             ("notes", "Last note.")]
    columns = balanced_columns(items, 2, 54.3, 7)
    assert columns == [[("source-list", ["A short source.", "Another source."])],
                       [("notes", ["A note. " * 30, "Last note."])]]


def test_one_chart_per_topic_and_no_section_tables(built):
    text = " ".join(pdf_text(built / "brief" / "IDN.en.pdf").split())
    assert "latest values and comparison" not in text  # the section tables belong to the full form
    for caption in ("Unemployment rate, women (%)", "Gini index", "Life expectancy at birth (years)",
                    "Trade union density (%)", "Security profile: Indonesia against the peer median"):
        assert caption in text


def test_format_full_builds_the_long_form(tmp_path, cache_dir):
    out = tmp_path / "out"
    assert main(["build", "RUS", "--lang", "en", "--format", "full", "--data", str(need_real()), "--out", str(out),
                 "--as-of", AS_OF, "--kind", "brief"]) == 0
    pdf = out / "brief" / "RUS.en.pdf"
    assert len(PdfReader(pdf).pages) > 2
    assert "Labour market: latest values and comparison" in " ".join(pdf_text(pdf).split())


def _project(tmp_path: Path, summary: str | None = None, publisher: str | None = None) -> Path:
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    for path in (config / "countries").glob("*.yaml"):
        if path.stem != "IDN":
            path.unlink()
    if summary is not None:
        path = config / "countries" / "IDN.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["summary"] = [{"text": {"en": summary}}]
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    if publisher is not None:
        (config / "publisher.yaml").write_text(publisher, encoding="utf-8")
    return config


def test_a_brief_too_long_for_two_pages_is_refused_with_what_to_do(tmp_path, cache_dir, capsys):
    words = " ".join(["The labour market recovered slowly after the crisis, and the recovery was uneven."] * 60)
    config = _project(tmp_path, summary=words)
    out = tmp_path / "out"
    code = main(["build", "IDN", "--config", str(config), "--data", str(need_real()), "--out", str(out),
                 "--as-of", AS_OF, "--kind", "brief"])
    err = capsys.readouterr().err
    assert code == 1
    assert "IDN.yaml" in err and "the two-page brief does not fit on two pages" in err
    assert "set format: full for this country" in err
    assert not (out / "brief" / "IDN.en.pdf").exists()


@pytest.mark.parametrize(("text", "message"), [
    ("name: {en: Publisher}\nissn: '1234-56'\n", "'1234-56' is not an ISSN"),
    ("name: {en: Publisher}\nlogo: ../../etc/logo.svg\n", "logo '../../etc/logo.svg' is outside the config folder"),
    ("name: {en: Publisher}\nlogo: countries/IDN.yaml\n", "logo 'countries/IDN.yaml' is not an SVG file"),
    ("name: {fr: Éditeur}\n", "give the name in English (en) at least"),
])
def test_a_bad_publisher_file_is_reported_with_file_and_line(tmp_path, capsys, text, message):
    config = _project(tmp_path, publisher=text)
    code = main(["validate", "--config", str(config), "--data", str(need_real())])
    err = capsys.readouterr().err
    assert code == 2
    assert "publisher.yaml:" in err and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("iso3", "lang"), configured())
def test_the_panels_are_two_to_a_row_each_row_a_block_of_its_own(built, iso3, lang):
    """Each row of panels in a block of its own (`.panel-row`): in one line box of all the panels,
    WeasyPrint laid out the first panel of each next row at the end of a row before finding that it
    did not fit. Every panel is in a row, in the order written, at most two to a row, only the last
    row holding one."""
    html = (built / "brief" / f"{iso3}.{lang}.html").read_text(encoding="utf-8")
    panels = html[html.index('<div class="panels">'):html.index('<section class="back"')]
    rows = [re.findall(r'<section class="panel[^"]*" id="([^"]+)"', row)
            for row in panels.split('<div class="panel-row">')[1:]]
    every = re.findall(r'<section class="panel[^"]*" id="([^"]+)"', panels)
    assert [p for row in rows for p in row] == every and len(every) >= 5
    assert all(len(row) == 2 for row in rows[:-1]) and len(rows[-1]) in (1, 2)
    assert every[-1] == "s-security"

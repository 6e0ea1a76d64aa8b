"""The wide tables in print, read from the real statistical annex (English and Russian) and the real
implementation reports (English): they are laid out from their <colgroup> with `table-layout: fixed`
(issue 14: WeasyPrint then no longer measures every cell again on each page a table continues on),
every word stays inside the text area, the columns have the widths the print stylesheet gives them,
and no number is split over two lines."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import tinycss2

from sesreport.cli import main
from sesreport.render import TEMPLATES, stylesheet_text
from tests.conftest import need_real

MM = 72 / 25.4  # points per millimetre
LANDSCAPE = (297 * MM, 15 * MM)  # the annex table's pages: width, side margins (print.css `@page wide`)
BODY = (16 * MM, (210 - 15) * MM)  # their body between the running header and footer (top, bottom)
PORTRAIT = (210 * MM, 18 * MM)
PADDING = 1.1 * MM  # a wide-table cell's side padding (document.css)
SLACK = 0.5  # points: the rounding of pdftotext's word boxes
ANNEX_COLUMNS = ("rank", "country", "region", "index", "range")  # the columns up to Range, left to right

Word = tuple[float, float, float, float, str]  # x0, y0, x1, y1 in points from the top left, text


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tables")
    assert main(["build", "--kind", "annex", "--kind", "implementation", "--lang", "en", "--lang", "ru",
                 "--data", str(need_real()), "--out", str(out), "--as-of", "2026-11-27", "-j", "2"]) == 0
    return out


def pages(pdf: Path) -> list[tuple[float, list[Word]]]:
    """Each page's width and words, from `pdftotext -bbox`."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    word = r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<'
    found = []
    for page in xml.split("<page ")[1:]:
        width = re.match(r'width="([\d.]+)"', page)
        assert width, page[:80]
        found.append((float(width.group(1)),
                      [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in re.findall(word, page)]))
    return found


def table_pages(pdf: Path) -> list[list[Word]]:
    """The words of the annex's landscape pages without header and footer: the country table, its head
    repeated on each, and the table's note after it."""
    return [[w for w in words if BODY[0] < w[1] and w[3] < BODY[1]]
            for width, words in pages(pdf) if abs(width - LANDSCAPE[0]) < 1]


def widths(lang: str) -> dict[str, float]:
    """The annex columns' widths in per cent of the table, from the print stylesheet: the rules for
    `.annex table.wide-table col.c-…`, a `:lang(…)` rule of this language winning over the others."""
    found: dict[str, float] = {}
    for rule in tinycss2.parse_stylesheet(stylesheet_text("print"), skip_comments=True, skip_whitespace=True):
        if rule.type != "qualified-rule":
            continue
        for selector in tinycss2.serialize(rule.prelude).split(","):
            m = re.fullmatch(r"\s*\.annex(?::lang\((\w+)\))? table\.wide-table col\.c-(\w+)\s*", selector)
            if m and m.group(1) in (None, lang):
                width = re.search(r"width:\s*([\d.]+)%", tinycss2.serialize(rule.content))
                assert width, f"no width in % for col.c-{m.group(2)}"
                found[m.group(2)] = float(width.group(1))
    return found


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_annex_table_fills_the_text_area_and_no_word_leaves_it(built, lang):
    width, margin = LANDSCAPE
    table = table_pages(built / "annex" / f"ses.{lang}.pdf")
    assert len(table) == {"en": 7, "ru": 10}[lang]
    for words in table:
        assert min(w[0] for w in words) >= margin - SLACK
        assert max(w[2] for w in words) <= width - margin + SLACK
        # the rows end with the Data column, right-aligned against the last cell's padding: the table
        # is as wide as the text area, not one point wider
        data = [w[2] for w in words if w[4].endswith("%")]
        assert data and {round(x - (width - margin - PADDING)) for x in data} == {0}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_annex_columns_have_the_widths_of_the_print_stylesheet(built, lang):
    share = widths(lang)
    assert len(share) == 14 and sum(share.values()) <= 100
    width, margin = LANDSCAPE
    range_right = margin + sum(share[c] for c in ANNEX_COLUMNS) / 100 * (width - 2 * margin) - PADDING
    table = table_pages(built / "annex" / f"ses.{lang}.pdf")
    ranges = [w for words in table for w in words if re.fullmatch(r"\d+–\d+", w[4])]
    assert len(ranges) == 119  # one per ranked country, right-aligned in the Range column
    assert {round(w[2] - range_right) for w in ranges} == {0}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_no_number_in_the_annex_table_is_split(built, lang):
    ranked = pd.read_csv(built / "annex" / "ses.csv").query("status == 'ok'")
    expected = Counter(f"{lo:.0f}–{hi:.0f}" for lo, hi in zip(ranked["rank_p05"], ranked["rank_p95"]))
    words = [w[4] for page in table_pages(built / "annex" / f"ses.{lang}.pdf") for w in page]
    # every rank range printed whole, on one line (the words a split would leave, "101–", are absent)
    assert Counter(w for w in words if re.fullmatch(r"\d+–\d+", w)) == expected
    assert [w for w in words if re.fullmatch(r"\d+[–-]|[–-]\d+", w)] == []
    # every value of the seven forms whole: two decimals, a point in English, a comma in Russian
    point = "." if lang == "en" else ","
    values = [w for w in words if re.fullmatch(r"\d[.,]\d\d", w)]
    assert values and all(point in w for w in values)
    forms = ["labour_market", "employment", "job", "work", "skill_reproduction", "income", "representation"]
    table = pd.read_csv(built / "annex" / "ses.csv")
    assert len(values) == int(table[forms].notna().sum().sum()) + int(table["overall"].notna().sum())


def test_implementation_tables_stay_inside_the_page_and_keep_names_and_years_whole(built):
    width, margin = PORTRAIT
    report = pages(built / "implementation" / "2000-2001.en.pdf")
    for _, words in report:
        assert max(w[2] for w in words) <= width - margin + SLACK
    # the evidence table prints each member State's years whole, "2000–2001", not "2000–" and "2001",
    # at the left of its Years column (after Member State, Indicators and Forms: 18 + 10 + 24 %)
    first = report[0][1]
    years_left = margin + 0.52 * (width - 2 * margin) + 1.2 * MM
    years = [w[4] for w in first if abs(w[0] - years_left) < SLACK]
    assert years == ["Years", "2000–2001", "2000–2001"]  # the head, Kazakhstan, the Russian Federation
    assert "2000–" not in [w[4] for w in first]
    # the coverage table gives every member State's name one line
    coverage = [w for _, words in report[3:] for w in words]
    for name in ("Central African Republic", "St. Vincent and the Grenadines", "Hong Kong SAR, China"):
        lines = [{w[1] for w in coverage[i:i + len(name.split())]} for i in range(len(coverage))
                 if [w[4] for w in coverage[i:i + len(name.split())]] == name.split()]
        assert lines and all(len(ys) == 1 for ys in lines), name


def test_print_stylesheets_lay_these_tables_out_fixed():
    css = stylesheet_text("print")
    assert re.search(r"^\.annex table\.wide-table \{ table-layout: fixed; \}$", css, re.M)
    implementation = (TEMPLATES / "implementation.css").read_text(encoding="utf-8")
    media = re.search(r"@media print \{(.*?)\n\}", implementation, re.S)
    assert media and ".implementation table.evidence, .implementation table.wide-table { table-layout: fixed; }" \
        in media.group(1)

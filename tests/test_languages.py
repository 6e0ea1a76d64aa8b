"""Briefs in Russian, Ukrainian, French and Spanish: translated text, numbers by locale, every glyph
rendered, and the PDF saying what the HTML says."""

from __future__ import annotations

import html as htmllib
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from fontTools.ttLib import TTFont

from sesreport.cli import main
from sesreport.fonts import FACES, font_path
from sesreport.i18n import Lang
from tests.conftest import REPO, need_real

AS_OF = "2026-11-27"
BUILT = {"RUS": "ru", "KAZ": "ru", "UKR": "uk", "SEN": "fr", "PER": "es", "IDN": "en"}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    real = need_real()
    folder = tmp_path_factory.mktemp("langs")
    args = ["build", *BUILT, "--data", str(real), "--out", str(folder), "--as-of", AS_OF, "-j", "2"]
    for lang in sorted(set(BUILT.values())):
        args += ["--lang", lang]
    assert main(args) == 0
    return folder / "brief"


def pdf_text(path: Path, layout: bool = False) -> str:
    cmd = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + [str(path), "-"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def test_each_file_name_carries_its_language(out):
    for iso3, lang in BUILT.items():
        assert (out / f"{iso3}.{lang}.pdf").is_file() and (out / f"{iso3}.{lang}.html").is_file()
    assert not (out / "SEN.en.pdf").exists()


def test_russian_brief(out, real_dir):
    text = pdf_text(out / "RUS.ru.pdf", layout=True)
    ru = Lang("ru")
    for title in ("Labour market", "Income and poverty", "Gender", "Health", "Representation", "Key figures"):
        translated = ru.gettext(title)
        assert re.search("[а-яА-ЯёЁ]", translated) and translated != title
        assert translated in text, translated
    assert "Российская Федерация" in text
    # the 1,000 alternative calculations behind the index rank: thousands with a non-breaking space
    thousands = "1\u00a0000"
    assert thousands in (out / "RUS.ru.html").read_text()  # a no-break space, as Russian typesetting wants
    assert re.search(thousands.replace("\u00a0", r"[\s\u00a0]"), text)  # pdftotext turns it into a space
    # life expectancy for 2024 with a decimal comma
    le = pd.read_csv(real_dir / "wdi_datahub" / "sp.dyn.le00.in" / "data.csv")
    years = float(le[(le["Country Code"] == "RUS") & (le["Year"] == 2024)]["Value"].iloc[0])
    assert f"{years:.1f}".replace(".", ",") in text
    assert "27 ноября 2026" in text


@pytest.mark.parametrize("iso3", ["RUS", "UKR", "SEN", "PER"])
def test_generated_sentences_are_translated(out, iso3):
    lang = BUILT[iso3]
    text = " ".join(pdf_text(out / f"{iso3}.{lang}.pdf").split())
    for english in ("peer median", "Key figures", "Sources and notes", "no data available", "fell from", "rose from"):
        assert english not in text, english


@pytest.mark.parametrize("iso3", list(BUILT))
def test_every_glyph_renders(out, iso3):
    """Only the shipped fonts are embedded (a missing glyph would pull in a fallback font), and every
    character of the document is in them."""
    lang = BUILT[iso3]
    fonts = subprocess.run(["pdffonts", str(out / f"{iso3}.{lang}.pdf")], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    names = {line.split()[0].split("+")[-1] for line in fonts}
    assert names and all(n.startswith(("Source-Sans-Pro", "Source-Serif-Pro")) for n in names), names
    cmap = set()
    for family, _, _, name in FACES:
        cmap |= set(TTFont(str(font_path(family, name))).getBestCmap())
    chars = set(visible_text((out / f"{iso3}.{lang}.html").read_text()))
    missing = sorted(c for c in chars if ord(c) not in cmap and not c.isspace())
    assert not missing, missing


def visible_text(html: str) -> str:
    body = html[html.index("<body"):]
    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<img[^>]*>", " ", body)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", body))


def blocks(html: str) -> list[str]:
    """The text of each paragraph, list item, heading and table cell of the HTML version (a table
    note's items one by one; superscript marks aside, as text extraction moves raised text)."""
    body = html[html.index("<body"):]
    body = re.sub(r"<sup\b[^>]*>.*?</sup>", "\x00", body, flags=re.S)
    body = re.sub(r'<p class="table-note">(.*?)</p>',
                  lambda m: "".join(f"<p>{span}</p>" for span in re.findall(r"<span>(.*?)</span>", m.group(1))),
                  body, flags=re.S)
    found = re.findall(r"<(p|li|h1|h2|h3|td|th|figcaption|caption)\b[^>]*>(.*?)</\1>", body, flags=re.S)
    out = []
    for _, inner in found:
        inner = re.sub(r"</?(strong|span|a|em|b)\b[^>]*>", "", inner)  # inline markup adds no space
        text = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", inner)).split())
        if text:
            out.append(text)
    return out


@pytest.mark.parametrize("iso3", ["RUS", "SEN", "PER", "UKR"])
def test_pdf_says_what_the_html_says(out, iso3):
    """Every paragraph, list item, heading and table cell of the HTML is in the PDF, in order of
    characters (compared without white space, which the two media break differently)."""
    lang = BUILT[iso3]
    html = (out / f"{iso3}.{lang}.html").read_text()
    def squeeze(text: str) -> str:
        # pdftotext joins a word broken at a line-end hyphen, so hyphens are left out on both sides
        return re.sub(r"[\s\-\u00ad]+", "", text)

    pdf = squeeze(pdf_text(out / f"{iso3}.{lang}.pdf"))
    found = blocks(html)
    assert len(found) > 50  # the two-page brief: some 60–70 paragraphs, items, headings and cells
    missing = [b for b in found if any(squeeze(part) not in pdf for part in b.split("\x00"))]
    assert not missing, missing[:5]


def test_demo_builds_every_language(tmp_path):
    out = tmp_path / "demo"
    assert main(["build", "--data", str(REPO / "demo" / "data"), "--out", str(out), "--as-of", AS_OF]) == 0
    names = sorted(p.name for p in (out / "brief").glob("*.pdf"))
    for iso3, lang in BUILT.items():
        assert f"{iso3}.{lang}.pdf" in names
    text = pdf_text(out / "brief" / "UKR.uk.pdf")
    assert "Ілюстративні" in text or Lang("uk").gettext("Illustrative data — not official statistics") in text


@pytest.mark.parametrize("code", ["en", "fr", "es", "ru", "uk"])
def test_every_unit_in_the_catalog_has_a_label(code):
    from typing import get_args

    from sesreport.catalog import Unit, load_catalog

    lang = Lang(code)
    ind = next(iter(load_catalog(REPO / "config" / "indicators.yaml").indicators.values()))
    for unit in get_args(Unit):
        assert isinstance(lang.unit_label(ind.model_copy(update={"unit": unit})), str)

"""The cross-country statistical annex built from the real data, and its CSV and Excel exports."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess

import pandas as pd
import pytest
from pypdf import PdfReader

from sesreport.cli import main
from tests.conftest import CONFIG, need_real


@pytest.fixture(scope="module")
def annex(tmp_path_factory):
    real = need_real()
    out = tmp_path_factory.mktemp("annex")
    assert main(["build", "--document", "annex", "--data", str(real), "--out", str(out), "--as-of", "2026-11-27",
                 "-j", "2"]) == 0
    return out / "annex"


LANGS = ("en", "es", "fr", "ru", "uk")


def test_annex_files(annex):
    assert sorted(p.name for p in annex.iterdir()) == sorted(
        ["ses.csv", "ses.xlsx", "ses.audit.csv"]
        + [f"ses.{lang}.{ext}" for lang in LANGS for ext in ("figures.json", "html", "pdf")])


def test_annex_table_covers_every_country(annex, real_ds):
    table = pd.read_csv(annex / "ses.csv")
    assert len(table) == len(real_ds.countries.table) == 217
    ranked = table[table["status"] == "ok"]
    assert len(ranked) == 119
    assert list(ranked["rank"].head(3)) == [1, 2, 3]
    assert list(ranked["iso3"].head(3)) == ["DNK", "NOR", "FIN"]
    # the interval is the 5th-95th percentile of the ranks over the Monte Carlo draws
    assert (ranked["rank_p05"] <= ranked["rank_median"]).all() and (ranked["rank_median"] <= ranked["rank_p95"]).all()
    assert (ranked["rank_p95"] - ranked["rank_p05"]).median() > 0
    # no country is ranked on less than two thirds of the indicators; every ranked one has a cluster
    assert ranked["coverage"].min() >= 0.667 and ranked["cluster"].notna().all()
    assert ranked["work"].notna().sum() == 71  # work security now has input, process and outcome indicators
    assert set(ranked["cluster"]) == {"pacesetters", "pragmatists", "conventionals", "much_to_be_done"}
    xlsx = pd.read_excel(annex / "ses.xlsx")
    pd.testing.assert_frame_equal(xlsx[["iso3", "rank"]], table[["iso3", "rank"]], check_dtype=False)


def test_annex_lists_unranked_countries_with_what_they_lack(annex):
    text = (annex / "ses.en.html").read_text(encoding="utf-8")
    # Chad: 19 of the 28 counted indicators (68 %), but no process sub-index
    row = re.search(r"<th scope=\"row\" class=\"name\">Chad</th>.*?</tr>", text, re.S).group(0)
    assert "insufficient data: 19 of 28 indicators; no process</td>" in row
    ru = (annex / "ses.ru.html").read_text(encoding="utf-8")
    assert "недостаточно данных: 19 из 28 показателей; нет: процессы</td>" in ru


def test_audit_export(annex):
    audit = pd.read_csv(annex / "ses.audit.csv")
    assert set(audit["section"]) == {"correlation", "consistency", "leave_one_out", "plausibility"}
    alpha = audit[(audit["section"] == "consistency") & (audit["node"] == "work") & (audit["statistic"] == "alpha")]
    assert alpha["value"].round(2).tolist() == [0.58]


def test_form_value_printed_equals_the_hand_computation(annex):
    from tests.test_index_real import representation_by_hand

    hand = representation_by_hand()
    records = json.loads((annex / "ses.en.figures.json").read_text(encoding="utf-8"))
    printed = {r["iso3"]: r["text"] for r in records if r["what"] == "form value" and r["form"] == "representation"}
    for iso3 in ("BRA", "RUS"):
        assert printed[iso3] == f"{hand[iso3]:.2f}"
    assert (printed["BRA"], printed["RUS"]) == ("0.20", "0.47")
    ru = json.loads((annex / "ses.ru.figures.json").read_text(encoding="utf-8"))
    assert {r["text"] for r in ru if r.get("iso3") == "RUS" and r.get("form") == "representation"} == {"0,47"}


def methodology_text(pdf) -> str:
    text = pdf_text(pdf)
    start = text.index("\n", text.index("Методология" if ".ru." in pdf.name else "Methodology"))
    return text[start:text.index("Источники" if ".ru." in pdf.name else "Sources", start)]


def test_methodology_is_prose_in_every_language(annex):
    for lang, words in (("en", "What is measured"), ("fr", "Ce qui est mesuré"), ("es", "Qué se mide"),
                        ("ru", "Что измеряется"), ("uk", "Що вимірюється")):
        assert words in pdf_text(annex / f"ses.{lang}.pdf"), lang
    en = " ".join(methodology_text(annex / "ses.en.pdf").split())
    assert "It combines 29 indicators from published data: 5 on what the law guarantees (input)" in en
    assert "119 of the 217 countries meet this rule" in en
    assert "Pacesetters (28)" in en and "conventionals (2)" in en
    # no settings dump
    assert "observed" not in en.split("(the worst value observed")[0] and "drawn from declared" not in en
    ru = " ".join(methodology_text(annex / "ses.ru.pdf").split())
    assert "Этому правилу отвечают 119 из 217 стран" in ru
    assert "2 039 значений" in ru.replace("\u00a0", " ").replace("\u202f", " ")  # the locale's grouping


def test_no_english_words_in_the_russian_methodology(annex):
    ru = methodology_text(annex / "ses.ru.pdf")
    latin = set(re.findall(r"[A-Za-z][A-Za-z'’]*", ru))
    # codes only: the OECD database's acronym and the z of z-scores
    assert latin == {"SOCX", "z"}, latin


def test_briefs_link_to_the_annex_and_narratives_read_the_cluster(tmp_path):
    """The brief links to the annex in its own language (the PDF to the annex's PDF, the HTML to its HTML,
    each relative to the brief: nothing of the machine that built it), and a narrative block may depend on
    the country's cluster (the Russian Federation is among the pacesetters with the real data)."""
    real = need_real()
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    path = config / "countries" / "RUS.yaml"
    text = path.read_text(encoding="utf-8").replace("summary:\n", "summary:\n"
                                                    "  - when: cluster == \"pacesetters\"\n"
                                                    "    text: {en: Among the pacesetters., ru: Среди лидеров.}\n"
                                                    "  - when: cluster == \"much_to_be_done\"\n"
                                                    "    text: {en: Much to be done., ru: Многое предстоит.}\n", 1)
    path.write_text(text, encoding="utf-8")
    assert main(["build", "RUS", "--document", "brief", "--config", str(config), "--data", str(real),
                 "--out", str(tmp_path / "out"), "--as-of", "2026-11-27", "-j", "1"]) == 0
    for lang, pace, much in (("en", "Among the pacesetters.", "Much to be done."),
                             ("ru", "Среди лидеров.", "Многое предстоит.")):
        html = (tmp_path / "out" / "brief" / f"RUS.{lang}.html").read_text(encoding="utf-8")
        assert f'href="../annex/ses.{lang}.html"' in html
        assert pace in html and much not in html
        pdf = PdfReader(tmp_path / "out" / "brief" / f"RUS.{lang}.pdf")
        links = [annot.get_object()["/A"]["/URI"] for page in pdf.pages for annot in page.get("/Annots", [])
                 if "/URI" in annot.get_object().get("/A", {})]
        assert links == [f"../annex/ses.{lang}.pdf"]


def test_annex_pdf_pages(annex):
    pdf = annex / "ses.en.pdf"
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 6
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages}
    assert (842, 595) in sizes and (595, 842) in sizes  # landscape table pages, portrait text pages
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    table_pages = [p for p in pages if "Forms of security" in p]
    assert len(table_pages) >= 4  # the header row repeats on every page of the table
    table = pd.read_csv(annex / "ses.csv")
    first = table.iloc[0]
    assert f"{first['country']}" in table_pages[0]
    text = " ".join("".join(pages).split())
    assert "The Socio-Economic Security Index measures the seven forms" in text
    assert "Ranks are recomputed for 1,000 random draws" in text
    assert "nothing in it is typed by hand" in text


def pdf_text(pdf) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_annex_exports_are_reproducible(annex, tmp_path):
    real = need_real()
    out = tmp_path / "again"
    assert main(["build", "--document", "annex", "--data", str(real), "--out", str(out), "--as-of", "2026-11-27",
                 "--lang", "en", "-j", "1"]) == 0
    for name in ("ses.csv", "ses.xlsx", "ses.audit.csv", "ses.en.pdf", "ses.en.html", "ses.en.figures.json"):
        assert hashlib.sha256((out / "annex" / name).read_bytes()).digest() == \
            hashlib.sha256((annex / name).read_bytes()).digest(), name

"""Sentences a person would write, in every language: proportions in words that match the number,
a fact said once, indicators without data named once in the notes, prose in the index section, ranks
that say among whom, verbs that agree with their subjects.

The real briefs of the Russian Federation (ru, en), Ukraine (uk), Senegal (fr), Peru (es) and
Indonesia (en) are built once, in the full format; their HTML is read section by section and their
PDF text as a reader sees it.
"""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from sesreport.cli import main
from sesreport.i18n import Lang, english_plural, proportion_words
from tests.conftest import need_real

AS_OF = "2026-11-27"
DOCS = ["RUS.en", "RUS.ru", "UKR.uk", "SEN.fr", "PER.es", "IDN.en"]


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    real = need_real()
    out = tmp_path_factory.mktemp("out")
    code = main(["build", "RUS", "UKR", "SEN", "PER", "IDN", "--kind", "brief", "--format", "full",
                 "--data", str(real), "--out", str(out), "--as-of", AS_OF, "--jobs", "2"])
    assert code == 0
    return out / "brief"


class _Sections(HTMLParser):
    """The text of every paragraph and list item of a brief's HTML, by the id of its section, and the
    text of every table row (`rows`); not the entries of a chart's legend (`ul.chart-key`), which are
    names, not sentences."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[str]] = {}
        self.rows: dict[str, list[str]] = {}
        self.bullets: dict[str, list[str]] = {}  # the list items of the sections on topics
        self._section = ""
        self._open: list[str] = []  # the p / li / tr being read
        self._text: list[str] = []
        self._key = False  # inside a chart's legend

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self._section = attrs.get("id") or attrs.get("class") or ""
        elif tag == "ul" and "chart-key" in (attrs.get("class") or ""):
            self._key = True
        elif (tag in ("p", "li", "tr") and not self._open and not self._key
              and "table-note" not in (attrs.get("class") or "")):
            self._open.append(tag)
            self._text = []

    def handle_endtag(self, tag):
        if tag == "ul":
            self._key = False
        if self._open and tag == self._open[-1]:
            self._open.pop()
            text = " ".join("".join(self._text).split())
            into = self.rows if tag == "tr" else self.sections
            if text:
                into.setdefault(self._section, []).append(text)
                if tag == "li" and self._section.startswith("s-"):
                    self.bullets.setdefault(self._section, []).append(text)

    def handle_data(self, data):
        if self._open:
            self._text.append(data)


def sections(out: Path, doc: str) -> _Sections:
    parser = _Sections()
    parser.feed((out / f"{doc}.html").read_text(encoding="utf-8"))
    return parser


def sentences(texts: list[str]) -> set[str]:
    return {s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+(?=[A-ZА-ЯІЇЄÉ¿])", t) if s.strip()}


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


# ------------------------------------------------------------------ proportions in words

VALUES = [4.0, 10.5, 18.0, 24.0, 33.0, 40.0, 45.0, 50.9, 55.0, 62.0, 68.1, 70.0, 72.0, 88.0, 95.0]
WORDS = {
    "en": ["less than a tenth", "a tenth", "nearly a fifth", "a quarter", "a third", "more than a third", "nearly half",
           "half", "more than half", "nearly two thirds", "two thirds", "more than two thirds",
           "nearly three quarters", "nearly nine tenths", "more than nine tenths"],
    "fr": ["moins d’un dixième", "un dixième", "près d’un cinquième", "un quart", "un tiers", "plus d’un tiers",
           "près de la moitié", "la moitié", "plus de la moitié", "près des deux tiers", "les deux tiers",
           "plus des deux tiers", "près des trois quarts", "près des neuf dixièmes", "plus des neuf dixièmes"],
    "es": ["menos de una décima parte", "una décima parte", "casi una quinta parte", "una cuarta parte", "un tercio",
           "más de un tercio", "casi la mitad", "la mitad", "más de la mitad", "casi dos tercios", "dos tercios",
           "más de dos tercios", "casi tres cuartas partes", "casi nueve décimas partes",
           "más de nueve décimas partes"],
    # nominative after "это" and as a subject; "более"/"менее" take the genitive
    "ru": ["менее десятой части", "десятая часть", "почти пятая часть", "четверть", "треть", "более трети",
           "почти половина", "половина", "более половины", "почти две трети", "две трети", "более двух третей",
           "почти три четверти", "почти девять десятых", "более девяти десятых"],
    # "понад" takes the accusative, "менше" the genitive
    "uk": ["менше десятої частини", "десята частина", "майже п’ята частина", "чверть", "третина", "понад третину",
           "майже половина", "половина", "понад половину", "майже дві третини", "дві третини", "понад дві третини",
           "майже три чверті", "майже дев’ять десятих", "понад дев’ять десятих"],
}


@pytest.mark.parametrize("lang", list(WORDS))
def test_proportions_in_words_match_the_number(lang):
    assert [Lang(lang).proportion(v) for v in VALUES] == WORDS[lang]


def test_a_proportion_is_a_share():
    assert proportion_words(100.0) == "more than nine tenths"
    with pytest.raises(ValueError, match="from 0 to 100"):
        proportion_words(104.2)


def test_the_informal_employment_narrative_says_two_thirds_for_68_percent(out, real_dir):
    """Peru's informal employment, 68.1% in 2022 in the ILOSTAT file, was "more than half"."""
    raw = pd.read_csv(real_dir / "ilostat" / "SDG_0831_SEX_ECO_RT_A-filtered-2023-06-11.csv", encoding="utf-8-sig")
    peru = raw[(raw["ref_area.label"] == "Peru") & (raw["sex.label"] == "Sex: Total")
               & (raw["classif1.label"].str.endswith("Total"))].sort_values("time").iloc[-1]
    assert (int(peru["time"]), float(peru["obs_value"])) == (2022, 68.1)
    assert proportion_words(68.1) == "two thirds"
    text = " ".join(pdf_text(out / "PER.es.pdf").split())
    assert ("Dos tercios de los trabajadores tienen un empleo informal (68,1 % en 2022), sin la protección que "
            "brindan el contrato de trabajo y el seguro social.") in text
    assert "Más de la mitad" not in text
    figures = json.loads((out / "PER.es.figures.json").read_text())
    [block] = [f for f in figures if f["what"] == "narrative" and "informal" in f["text"]]
    [words] = [p for p in block["parts"] if p["field"] == "proportion"]
    assert words["text"] == "dos tercios" and words["observation"]["line"] == 77  # traced to its line


# ------------------------------------------------------------------ a fact appears once


@pytest.mark.parametrize("doc", DOCS)
def test_the_gender_section_shares_no_sentence_with_another_section(out, doc):
    found = sections(out, doc)
    gender = sentences(found.sections["s-gender"])
    assert len(gender) >= 2
    for sid, texts in found.sections.items():
        if sid != "s-gender":
            assert not gender & sentences(texts), (sid, gender & sentences(texts))


@pytest.mark.parametrize("doc", DOCS)
def test_each_indicator_is_stated_and_tabled_once(out, doc):
    figures = json.loads((out / f"{doc}.figures.json").read_text())
    stated = [f["indicator"] for f in figures if f["what"] == "statement"]
    assert len(stated) == len(set(stated))
    tabled = [(f["indicator"]) for f in figures if f["what"] == "table value"]
    assert len(tabled) == len(set(tabled))
    assert set(stated) <= set(tabled)


def test_the_gender_section_points_to_the_labour_market_for_what_it_says(out):
    gender = sections(out, "RUS.en").sections["s-gender"]
    assert ("For women's labour force participation rate, the unemployment rate of women and the unemployment "
            "rate of men, see the section “Labour market”.") in gender
    assert not any(t.startswith("The unemployment rate of women") for t in gender)
    ru = sections(out, "RUS.ru").sections["s-gender"]
    assert ("См. раздел «Рынок труда»: уровень участия женщин в рабочей силе, уровень безработицы среди женщин "
            "и уровень безработицы среди мужчин.") in ru


# ------------------------------------------------------------------ indicators without data

NO_DATA_RUS = {
    "en": "No data for the share of informal employment, the share of children aged 7–14 in employment, average "
          "monthly earnings of employees, the share of the population covered by social protection, women's "
          "average monthly earnings, men's average monthly earnings and the share of informal employment among "
          "women outside agriculture.",
    "ru": "Нет данных по следующим показателям: доля неформальной занятости, доля занятых среди детей в возрасте "
          "7–14 лет, среднемесячная заработная плата наёмных работников, доля населения, охваченного социальной "
          "защитой, среднемесячная заработная плата женщин, среднемесячная заработная плата мужчин и доля "
          "неформальной занятости среди женщин вне сельского хозяйства.",
}


@pytest.mark.parametrize("doc", DOCS)
def test_no_no_data_bullet_and_no_empty_table_row(out, doc):
    lang = Lang(doc.split(".")[1])
    no_data = lang.gettext("no data")
    found = sections(out, doc)
    for sid, items in found.bullets.items():  # every bullet states a figure
        assert not [t for t in items if not re.search(r"\d", t)], sid
    for sid, rows in found.rows.items():
        for row in rows[1:]:  # under the head, every row has a value
            assert no_data not in row.lower() and lang.gettext("insufficient data") not in row, (sid, row)
            assert len(re.findall(r"\d+(?:[.,]\d+)?", row)) >= 2, (sid, row)  # at least a value and its year
    html = (out / f"{doc}.html").read_text(encoding="utf-8")
    assert 'class="nodata"' not in html.split('class="key-figures"')[1].split("</section>", 1)[1]
    text = pdf_text(out / f"{doc}.pdf")
    assert not re.search(r"\s*:\s*" + re.escape(no_data), " ".join(text.lower().split()))  # "…: no data"


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_indicators_without_data_are_named_once_in_the_notes(out, real_dir, lang):
    # none of the files has a Russian value for informal employment (ILOSTAT SDG 8.3.1)
    raw = pd.read_csv(real_dir / "ilostat" / "SDG_0831_SEX_ECO_RT_A-filtered-2023-06-11.csv", encoding="utf-8-sig")
    assert not (raw["ref_area.label"] == "Russian Federation").any()
    notes = sections(out, f"RUS.{lang}").sections["sources"]
    assert NO_DATA_RUS[lang] in notes
    text = " ".join(pdf_text(out / f"RUS.{lang}.pdf").split())
    assert text.count(NO_DATA_RUS[lang]) == 1
    first = "share of informal employment" if lang == "en" else "доля неформальной занятости"
    assert text.count(first) == NO_DATA_RUS[lang].count(first) == 2  # named nowhere else


def test_lists_are_joined_as_each_language_joins_them():
    items = ["a", "b", "c"]
    assert [Lang(lang).join(items) for lang in ("en", "fr", "es", "ru", "uk")] == [
        "a, b and c", "a, b et c", "a, b y c", "a, b и c", "a, b і c"]
    assert Lang("en").join(["a"]) == "a"


# ------------------------------------------------------------------ the index section as prose

SECURITY = {
    "RUS.en": ["The Socio-Economic Security Index (2019) stands at 0.73 on a scale from 0 to 1, rank 15 of the 119 "
               "countries with an index value (ranks 8–31 across 1,000 alternative calculations), in the "
               "“Pacesetters” cluster. The limit on how old a value may be moves this rank more than any other "
               "choice behind the index.",
               "The highest score is for job security (0.97, rank 13 of 187), the lowest for representation security "
               "(0.47, rank 113 of 165). There are not enough data to measure employment security and work security."],
    "RUS.ru": ["Значение показателя «Индекс социально-экономической защищённости» за 2019 год — 0,73 по шкале от 0 "
               "до 1: 15-е место из 119 стран, для которых рассчитан индекс (места с 8 по 31 в 1 000 альтернативных "
               "расчётах); страна входит в кластер «Лидеры». Сильнее всего на это место влияет допустимая давность "
               "данных."],
    "UKR.uk": ["Значення показника «Індекс соціально-економічної захищеності» за 2019 рік — 0,71 за шкалою від 0 до "
               "1: 23-е місце з 119 країн, для яких розраховано індекс (місця з 11 по 33 в 1 000 альтернативних "
               "розрахунках); країна належить до кластера «Лідери». Найбільше на це місце впливає вибір методу "
               "нормалізації."],
    "PER.es": ["La puntuación más alta corresponde a la seguridad del mercado de trabajo (0,85; puesto 10 de 190) y "
               "la más baja, a la seguridad del empleo (0,18; puesto 64 de 78)."],
    "SEN.fr": ["La note la plus élevée est celle de la sécurité du marché du travail (0,50 ; rang 109 sur 190), la "
               "plus basse celle de la sécurité du poste (0,24 ; rang 153 sur 187). Les données sont insuffisantes "
               "pour mesurer les formes suivantes : sécurité de l’emploi et sécurité au travail."],
}


@pytest.mark.parametrize("doc", DOCS)
def test_the_index_section_is_prose(out, doc):
    """No paragraph of one or two words ("Cluster: Pacesetters."), every paragraph a sentence that ends."""
    paragraphs = sections(out, doc).sections["s-security"]
    assert paragraphs
    for p in paragraphs:
        assert len(p.split()) >= 12 and p.endswith("."), p
    for expected in SECURITY.get(doc, []):
        assert expected in paragraphs


def test_the_forms_read_in_lower_case_inside_a_sentence():
    assert [Lang(lang).mid_sentence(label) for lang, label in [
        ("en", "Representation security"), ("fr", "Sécurité du poste"), ("ru", "Защищённость занятости"),
        ("en", "GDP per capita")]] == ["representation security", "sécurité du poste", "защищённость занятости",
                                       "GDP per capita"]


@pytest.mark.parametrize("doc", ["RUS.en", "SEN.fr"])
def test_ranks_say_among_whom(out, doc):
    lang = Lang(doc.split(".")[1])
    found = sections(out, doc)
    heads = " ".join(r for rows in found.rows.values() for r in rows[:1])
    assert lang.gettext("Rank among peers") in heads and lang.gettext("Rank among all countries") in heads
    among = {"en": "in the peer group)", "fr": "dans ce groupe)"}[lang.code]
    for sid in ("s-labour_market", "s-income_poverty", "s-health"):
        findings = [t for t in found.sections[sid] if re.search(r"\((rank|rang) \d+", t)]
        # the first sentence with a rank says among whom, the others do not repeat it
        assert among in findings[0] and not any(among in t for t in findings[1:]), sid


# ------------------------------------------------------------------ agreement


def test_english_verbs_agree_with_plural_subjects(out):
    assert english_plural("women's average monthly earnings") and english_plural("average monthly earnings of "
                                                                                  "employees")
    assert not english_plural("the share of informal employment") and not english_plural("life expectancy at birth")
    figures = json.loads((out / "IDN.en.figures.json").read_text())
    [earnings] = [f for f in figures if f["what"] == "statement" and f["indicator"] == "earnings_ppp"]
    assert earnings["text"].startswith("Average monthly earnings of employees were PPP$540 in 2023")
    text = " ".join(pdf_text(out / "IDN.en.pdf").split())
    assert "earnings was" not in text and "earnings of employees was" not in text


PERIOD = re.compile(r"(^|: )(Between|between|С|с|З|з|Entre|entre) \d{4} ")


@pytest.mark.parametrize("doc", DOCS)
def test_sentences_in_a_row_do_not_open_alike(out, doc):
    """A sentence whose change goes the way of the one before opens with its period instead of its
    subject ("Between 2015 and 2025, the unemployment rate of men fell …")."""
    statements = [f for f in json.loads((out / f"{doc}.figures.json").read_text()) if f["what"] == "statement"]
    pairs = 0
    for before, after in zip(statements, statements[1:]):
        if before["section"] == after["section"] and before["trend"] == after["trend"] in ("rising", "falling"):
            if not PERIOD.search(before["text"]):
                pairs += 1
                assert PERIOD.search(after["text"]), after["text"]
    assert pairs >= 1
    if doc == "RUS.en":
        assert any(s["text"].startswith("Between 2015 and 2025, the unemployment rate of men fell from 5.9% to 2.1%")
                   for s in statements)

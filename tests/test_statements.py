"""Generated statements: the verb a sentence prints is the direction its record carries.

A change over a horizon is computed once (`compute.Change`); the sentence prints it and the
statement's record in `figures.json` carries its direction, which the change log compares. Here
every recorded statement of every real brief, in every language it is built in, is checked
against the text printed in the HTML and the PDF: the record's direction must be the verb printed.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from sesreport.catalog import Catalog, load_catalog
from sesreport.changes import compare
from sesreport.cli import main
from sesreport.compute import Change, Obs, indicator_stat, tolerance
from sesreport.i18n import Lang
from sesreport.narrative import SENTENCES, VERBS, IndicatorView, statement
from tests.conftest import CONFIG, need_real

AS_OF = "2026-11-27"
DIRECTIONS = ("rising", "falling", "stable")
SHIPPED = {"en", "ru", "uk", "fr", "es"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CONFIG / "indicators.yaml")


def verb_phrase(lang: Lang, direction: str, gender: str) -> str:
    """The translated words between the subject and the first figure of the sentence template for a
    direction ("rose from", "снизился с", "a baissé de", "se mantuvo estable en")."""
    context, template = SENTENCES[(VERBS[direction], gender)]
    translated = lang.pgettext(context, template)
    assert translated.startswith("{indicator}"), translated
    phrase = re.split(r"\{\w+\}", translated[len("{indicator}"):], maxsplit=1)[0].strip()
    assert phrase, translated
    return phrase


def disagreements(entry: dict, lang: Lang, catalog: Catalog) -> list[str]:
    """What is wrong between a statement's record and its text: [] when the verb printed is the
    recorded direction, and the recorded change is the one printed."""
    direction, change, text = entry["trend"], entry.get("change"), entry["text"]
    gender = lang.gender(catalog[entry["indicator"]])
    phrases = {d: verb_phrase(lang, d, gender) for d in DIRECTIONS}
    assert len(set(phrases.values())) == len(DIRECTIONS), phrases
    where = f"{entry['indicator']} ({entry['section']})"
    problems = []
    if direction not in (*DIRECTIONS, None):
        return [f"{where}: unknown direction {direction!r}"]
    printed = [d for d, phrase in phrases.items() if phrase in text]
    if printed != ([direction] if direction else []):
        problems.append(f"{where}: recorded {direction!r}, printed {printed or 'no change'}: {text}")
    if direction is not None:
        if change is None or change.get("direction") != direction:
            problems.append(f"{where}: the recorded change {change} is not the direction {direction!r}")
        elif f"{change['base']['year']}" not in text:
            problems.append(f"{where}: the base year of the recorded change is not printed: {text}")
    elif change is not None:
        problems.append(f"{where}: a change is recorded but none is printed: {text}")
    return problems


def squeeze(text: str) -> str:
    # the PDF breaks lines (and words, at a hyphen) where the HTML does not
    return re.sub(r"[\s\-\u00ad]+", "", text)


def html_text(path: Path) -> str:
    import html

    body = path.read_text(encoding="utf-8")
    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", body[body.index("<body"):], flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", body)).split())


def check_document(folder: Path, stem: str, catalog: Catalog) -> tuple[int, list[str]]:
    """(number of statements, problems) for one built brief: every recorded statement is printed in
    the HTML and the PDF, and its recorded direction is the verb printed."""
    lang = Lang(stem.split(".")[-1])
    entries = [e for e in json.loads((folder / f"{stem}.figures.json").read_text(encoding="utf-8"))
               if e["what"] == "statement"]
    html = html_text(folder / f"{stem}.html")
    pdf = squeeze(subprocess.run(["pdftotext", "-enc", "UTF-8", str(folder / f"{stem}.pdf"), "-"],
                                 capture_output=True, text=True, check=True).stdout)
    problems = []
    for entry in entries:
        text = " ".join(entry["text"].split())
        if text not in html:
            problems.append(f"{stem}: not in the HTML: {text}")
        if squeeze(text) not in pdf:
            problems.append(f"{stem}: not in the PDF: {text}")
        problems += [f"{stem}: {p}" for p in disagreements(entry, lang, catalog)]
    return len(entries), problems


# ---------------------------------------------------------------------------------------------
# The real briefs


@pytest.fixture(scope="module")
def real_briefs(tmp_path_factory) -> Path:
    """Every configured brief, in each of its languages, built from the real data."""
    real = need_real()
    out = tmp_path_factory.mktemp("statements")
    assert main(["build", "--document", "brief", "--data", str(real), "--out", str(out), "--as-of", AS_OF,
                 "--format", "full", "-j", "2"]) == 0
    return out / "brief"


def test_every_statement_prints_the_direction_it_records(real_briefs, catalog):
    stems = sorted(p.name[:-len(".figures.json")] for p in real_briefs.glob("*.figures.json"))
    assert {s.split(".")[-1] for s in stems} >= SHIPPED, stems
    problems, counted, directions = [], 0, set()
    for stem in stems:
        n, found = check_document(real_briefs, stem, catalog)
        counted += n
        problems += found
        directions |= {e["trend"] for e in json.loads((real_briefs / f"{stem}.figures.json").read_text())
                       if e["what"] == "statement"}
    assert counted > 100
    assert directions >= set(DIRECTIONS)  # every verb is exercised
    assert not problems, "\n".join(problems[:20])


# ---------------------------------------------------------------------------------------------
# One change, computed once: without the real data


def headline(values: dict[int, float], iso3: str = "UKR") -> pd.DataFrame:
    return pd.DataFrame([{"iso3": iso3, "year": y, "value": v, "source_id": "wdi", "source_code": "X",
                          "vintage": "2026-01-01", "file": "x.csv", "line": i + 2, "estimate": False, "break": False}
                         for i, (y, v) in enumerate(sorted(values.items()))])


# Ukraine's male unemployment as in the issue: up over ten years, down over five
UKRAINE = {2011: 9.0, 2016: 10.4, 2021: 9.5}


def test_the_trend_is_the_five_year_change_and_the_sentence_states_the_ten_year_one(catalog):
    ind = catalog["unemployment_male"]
    stat = indicator_stat(headline(UKRAINE), "UKR", [], ind, "unemployment_male", 2026, 10, 5)
    five, ten = stat.change(5), stat.change(10)
    assert (five.base.year, ten.base.year) == (2016, 2011)
    assert stat.trend == five.direction == "falling"
    assert ten.direction == "rising" and ten.delta == pytest.approx(0.5)
    assert (stat.change5, stat.change10, stat.base5, stat.base10) == (five.delta, ten.delta, five.base, ten.base)
    view = IndicatorView("unemployment_male", stat, catalog, Lang("en"))
    assert view.trend == "falling" and view.change_10y_value == ten.delta

    said = statement("unemployment_male", stat, catalog, Lang("en"), "Ukraine", "peers")
    assert said.change is ten
    assert said.text.startswith("The unemployment rate of men rose from 9.0% in 2011 to 9.5% in 2021")
    for code in sorted(SHIPPED):
        lang = Lang(code)
        said = statement("unemployment_male", stat, catalog, lang, "Ukraine", "peers")
        entry = {"indicator": "unemployment_male", "section": "gender", "text": said.text,
                 "trend": said.change.direction, "change": said.change.ref()}
        assert disagreements(entry, lang, catalog) == [], code
        # the record of the five-year trend would disagree with the verb printed
        assert disagreements({**entry, "trend": stat.trend}, lang, catalog), code


def test_without_a_ten_year_base_the_sentence_states_the_five_year_change(catalog):
    ind = catalog["unemployment_male"]
    stat = indicator_stat(headline({2016: 10.4, 2021: 9.5}), "UKR", [], ind, "unemployment_male", 2026, 10, 5)
    said = statement("unemployment_male", stat, catalog, Lang("en"), "Ukraine", "peers")
    assert stat.change(10) is None and said.change is stat.change(5)
    assert said.text.startswith("The unemployment rate of men fell from 10.4% in 2016 to 9.5% in 2021")
    level = indicator_stat(headline({2021: 9.5}), "UKR", [], ind, "unemployment_male", 2026, 10, 5)
    said = statement("unemployment_male", level, catalog, Lang("en"), "Ukraine", "peers")
    assert said.change is None and level.trend is None
    assert said.text.startswith("The unemployment rate of men was 9.5% in 2021")


@pytest.mark.parametrize("latest, direction", [(10.29, "stable"), (9.71, "stable"), (10.3, "rising"),
                                               (9.6, "falling")])
def test_direction_under_the_configured_tolerance(catalog, latest, direction):
    ind = catalog["unemployment_male"]
    assert tolerance(ind, 10.0) == pytest.approx(0.3)
    base = Obs("UKR", 2011, 10.0, "wdi", "X", "2026-01-01", "x.csv", 2)
    latest_obs = Obs("UKR", 2021, latest, "wdi", "X", "2026-01-01", "x.csv", 3)
    assert Change.between(ind, 10, base, latest_obs).direction == direction


def test_change_log_compares_the_direction_printed():
    old = [{"indicator": "gini", "what": "statement", "section": "s", "text": "Gini rose.", "trend": "rising",
            "change": {"direction": "rising"}}]
    new = [{**old[0], "text": "Gini fell.", "trend": "falling", "change": {"direction": "falling"}}]
    [flip] = compare(old, new)["flipped"]
    assert flip["changes"] == {"trend": ("rising", "falling")}
    # a record from before statements carried their change: its trend was the five-year one, so the
    # same sentence printed again has not flipped, while a changed sentence still counts
    legacy = [{k: v for k, v in old[0].items() if k != "change"} | {"trend": "falling"}]
    assert compare(legacy, [{**old[0]}])["flipped"] == []
    [flip] = compare(legacy, [{**new[0], "trend": "rising"}])["flipped"]
    assert flip["changes"] == {"trend": ("falling", "rising")}

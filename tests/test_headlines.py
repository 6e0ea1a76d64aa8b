"""Headline positions on the real briefs: no old figure heads a section or fills a key figure when a
current series on the same subject exists; an old finding says so once; units say of what; a
current-price series is never said to grow; Ukraine's situation is on the cover and no advice is
drawn from data older than it.

The briefs of the Russian Federation, Indonesia and Ukraine are built from the real files (in the
long form, whose every finding and table is printed) and read back from their PDF, HTML and
`figures.json`; the subjects come from the catalog.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sesreport.catalog import load_catalog
from sesreport.cli import main
from sesreport.documents.brief import build_brief
from sesreport.i18n import Lang
from sesreport.project import load_project
from tests.conftest import CONFIG, REPO, need_real

AS_OF = "2026-11-27"
STALE_AFTER = 5  # config/defaults.yaml
CURRENT_FROM = 2026 - STALE_AFTER  # a value of an earlier year is older than the threshold
COUNTRIES = ("RUS", "IDN", "UKR")
ADVICE = "employment measures for women deserve priority"  # the advice block of config/defaults.yaml


@pytest.fixture(scope="module")
def built(tmp_path_factory, cache_dir) -> Path:
    real = need_real()
    out = tmp_path_factory.mktemp("out")
    for args in (["--lang", "en"], ["UKR", "--lang", "uk"]):
        countries = [] if "UKR" in args else list(COUNTRIES)
        code = main(["build", *countries, *args, "--kind", "brief", "--format", "full", "--data", str(real),
                     "--out", str(out), "--as-of", AS_OF, "--jobs", "2"])
        assert code == 0
    return out / "brief"


def pdf_text(path: Path) -> str:
    """The PDF's text in the order it is drawn (a table cell's wrapped lines together), on one line."""
    raw = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                         check=True).stdout
    return " ".join(raw.replace("\u00a0", " ").split())


def first_page(path: Path) -> str:
    raw = subprocess.run(["pdftotext", "-l", "1", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                         check=True).stdout
    return " ".join(raw.replace("\u00a0", " ").split())


def figures(folder: Path, stem: str) -> list[dict]:
    return json.loads((folder / f"{stem}.figures.json").read_text(encoding="utf-8"))


def first_findings(folder: Path, stem: str) -> dict[str, str]:
    """Each section's first printed finding, from the HTML."""
    page = (folder / f"{stem}.html").read_text(encoding="utf-8")
    found = re.findall(r'<section class="topic" id="s-(\w+)".*?<ul class="findings">\s*<li>(.*?)</li>', page, re.S)
    return {sid: html.unescape(text) for sid, text in found}


def latest_years(records: list[dict]) -> dict[str, int]:
    """The latest year of every indicator the brief prints a value of (its tables and key figures)."""
    return {r["indicator"]: r["year"] for r in records if r["what"] in ("table value", "key figure")}


@pytest.mark.parametrize("iso3", COUNTRIES)
def test_no_old_value_heads_a_key_figure_or_a_section(built, iso3):
    catalog = load_catalog(CONFIG / "indicators.yaml")
    records = figures(built, f"{iso3}.en")
    years = latest_years(records)

    def current_on_subject(code: str) -> list[str]:
        return [c for c in catalog.same_subject(code) if years.get(c, 0) >= CURRENT_FROM]

    tiles = [r for r in records if r["what"] == "key figure"]
    assert len(tiles) == 6
    for tile in tiles:
        if tile["year"] < CURRENT_FROM:
            assert not current_on_subject(tile["indicator"]), tile
    statements = {r["text"]: r for r in records if r["what"] == "statement"}
    heads = first_findings(built, f"{iso3}.en")
    assert set(heads) >= {"labour_market", "income_poverty", "health", "representation"}
    for sid, text in heads.items():
        head = statements[text]
        year = latest_years([r for r in records if r["what"] == "table value" and r["section"] == sid])
        if years[head["indicator"]] < CURRENT_FROM:  # only old data in the section, or none current on its subject
            assert not any(y >= CURRENT_FROM for y in year.values()), (sid, text)
            assert text.startswith("No recent data are available: "), text


def test_labour_market_opens_with_the_current_rates(built):
    for iso3, women, old in (
            ("RUS", "The unemployment rate of women fell from 5.4% in 2015 to 2.2% in 2025",
             "No recent data are available: the unemployment rate fell from 6.3% in 2008 to 5.1% in 2018"),
            ("IDN", "The unemployment rate of women fell from 4.4% in 2015 to 3.0% in 2025",
             "No recent data are available: the unemployment rate fell from 7.2% in 2008 to 4.3% in 2018")):
        assert first_findings(built, f"{iso3}.en")["labour_market"].startswith(women)
        text = pdf_text(built / f"{iso3}.en.pdf")
        assert old in text and text.index(women) < text.index(old)
        assert "No more recent value is available" not in text


def test_an_old_finding_says_so_once(built):
    text = pdf_text(built / "IDN.en.pdf")
    # it follows a sentence with the same verb, so it opens with its period
    child = ("No recent data are available: between 2000 and 2010, the share of children aged 7–14 in employment "
             "fell from 8.9% to 3.7%.")
    assert text.count(child) == 1
    stale = [r for r in figures(built, "IDN.en") if r["what"] == "statement" and r["stale"]]
    assert len(stale) == 6  # unemployment, children, national poverty, poorest 20%, health spending, unions
    assert all(r["text"].count("No recent data") == 1 for r in stale)
    assert text.count("No recent data are available") == len(stale)


def test_share_of_gdp_says_of_gdp(built):
    text = pdf_text(built / "RUS.en.pdf")
    assert "Government health expenditure (% of GDP) 3.5† 2019" in text
    assert "Government health expenditure (%)" not in text
    uk = pdf_text(built / "UKR.uk.pdf")
    assert "(% ВВП)" in uk


def test_gdp_in_current_prices_is_not_growth(built, real_dir):
    df = pd.read_csv(real_dir / "wdi_datahub" / "ny.gdp.pcap.pp.cd" / "data.csv")
    row = df[df["Country Code"] == "RUS"].sort_values("Year").iloc[-1]
    assert int(row["Year"]) == 2024
    value = f"{round(float(row['Value'])):,}"
    text = pdf_text(built / "RUS.en.pdf")
    sentence = re.search(r"GDP per capita \(PPP\)[^.]*\.", text)
    assert sentence is not None
    assert sentence.group(0).startswith(f"GDP per capita (PPP) was PPP${value} in 2024 in current prices, ")
    assert not re.search(r"\b(rose|grew|growth|fell|increased)\b", sentence.group(0)), sentence.group(0)
    assert "GDP per capita, PPP (PPP$, current prices) 47,362 2024" in text


def test_ukraine_cover_prints_the_situation(built):
    en = first_page(built / "UKR.en.pdf")
    assert "Conflict. Ukraine has been at war since the full-scale Russian invasion of February 2022." in en
    uk = first_page(built / "UKR.uk.pdf")
    assert "Конфлікт. Україна у стані війни від повномасштабного російського вторгнення в лютому 2022 року." in uk
    situation = [r for r in figures(built, "UKR.en") if r["what"] == "situation"]
    assert len(situation) == 1 and situation[0]["since"] == 2022
    assert situation[0]["config"]["file"].endswith("UKR.yaml")
    assert "Conflict." not in first_page(built / "RUS.en.pdf")


@pytest.fixture(scope="module")
def ukraine(real_ds):
    project = load_project(CONFIG, only=["UKR"])
    return project, project.countries["UKR"]


def test_no_advice_from_data_older_than_the_war(built, real_ds, ukraine):
    project, loaded = ukraine
    # the women's unemployment rate rose 2016–2021: the advice block's condition holds ...
    tile = next(r for r in figures(built, "UKR.en") if r["what"] == "key figure change"
                and r["indicator"] == "unemployment_female")
    assert tile["text"] == "+2.4\u00a0pp since 2016"
    # ... but its data end in 2021, before the invasion of 2022: not printed, in either language
    for stem in ("UKR.en", "UKR.uk"):
        assert ADVICE not in pdf_text(built / f"{stem}.pdf")
        assert "заслуговують на пріоритет" not in pdf_text(built / f"{stem}.pdf")
    # without the situation note, the same data print it
    lang, as_of = Lang("en"), date.fromisoformat(AS_OF)
    unaware = dataclasses.replace(loaded, config=loaded.config.model_copy(update={"situation": None}))
    said = build_brief(real_ds, unaware, lang, as_of, project.catalog).context["sections"][0]["paragraphs"]
    assert any(ADVICE in str(p) for p in said)
    aware = build_brief(real_ds, loaded, lang, as_of, project.catalog).context
    assert not any(ADVICE in str(p) for p in aware["sections"][0]["paragraphs"])
    assert aware["situation"]["since"] == 2022 and aware["situation"]["title"] == "Conflict"


def test_an_old_key_figure_gives_way_to_a_current_one(real_ds):
    project = load_project(CONFIG, only=["RUS"])
    loaded = project.countries["RUS"]
    lang, as_of = Lang("en"), date.fromisoformat(AS_OF)

    def tiles(*codes: str) -> tuple[list[dict], list[dict]]:
        cfg = loaded.config.model_copy(update={"key_figures": codes})
        doc = build_brief(real_ds, dataclasses.replace(loaded, config=cfg), lang, as_of, project.catalog)
        return doc.context["tiles"], [r for r in doc.figures if r["what"] == "key figure substitution"]

    # the overall unemployment rate ends in 2018: the women's rate of 2025 takes its place
    shown, swaps = tiles("unemployment", "union_density")
    assert [(t["label"], t["value"], t["year"]) for t in shown] == [
        ("Unemployment, women", "2.2%", 2025), ("Union density", "27.5%", 2017)]  # no current series on unions
    assert [(s["indicator"], s["replaces"], s["replaced_year"]) for s in swaps] == [
        ("unemployment_female", "unemployment", 2018)]
    assert swaps[0]["config"]["line"] is not None
    # a series already shown is not shown twice: the men's rate comes instead
    shown, swaps = tiles("unemployment", "unemployment_female")
    assert [(t["label"], t["value"], t["year"]) for t in shown] == [
        ("Unemployment, men", "2.1%", 2025), ("Unemployment, women", "2.2%", 2025)]


def test_a_mistaken_situation_is_reported_with_its_line(tmp_path, capsys):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "countries" / "IDN.yaml").write_text(
        "country: IDN\nsituation:\n  kind: war\n  since: 2022\n  text: {uk: Війна}\n", encoding="utf-8")
    assert main(["validate", "--config", str(config), "--data", str(REPO / "demo" / "data")]) == 2
    err = capsys.readouterr().err
    assert ("IDN.yaml:3: situation.kind: 'war' is not allowed; expected 'conflict', 'data_interruption' or "
            "'reform'") in err, err
    assert "IDN.yaml:5: situation.text: give at least the English text ('en')" in err, err
    assert "Traceback" not in err

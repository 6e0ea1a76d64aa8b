"""The programme implementation report built from the real data and the shipped register: the
outcome printed for each indicator and biennium equals the test's own count from the programme file,
the register, the strategy inputs and the observations; the evidence points at real lines of the raw
files; the near misses say what they lack; English, French and Spanish; the coverage annex."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import CONFIG, REPO, need_real

AS_OF = "2026-12-01"
OUTCOME = {"en": "Outcome {n} member States", "fr": "Résultat {n} États Membres",
           "es": "Resultado {n} Estados Miembros"}
OUTCOME_ONE = {"en": "Outcome {n} member State", "fr": "Résultat {n} État Membre", "es": "Resultado {n} Estado Miembro"}
#: the counts written in the singular: French writes "0 État Membre" as it writes "1 État Membre"
SINGULAR = {"en": {1}, "fr": {0, 1}, "es": {1}}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "generate.py"), *args], capture_output=True, text=True,
                          cwd=REPO, timeout=900)


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.replace("\u00a0", " ").replace("\u202f", " ").split())


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    real = need_real()
    out = tmp_path_factory.mktemp("implementation") / "out"
    done = run("build", "--kind", "implementation", "--data", str(real), "--out", str(out), "--as-of", AS_OF,
               "-j", "2")
    assert done.returncode == 0, done.stderr
    return out / "implementation"


def own_reading(ds, biennium: str) -> dict:
    """The 3e.1 count as this test reads the rule: from the programme file, the register, the strategy
    files and the resolved observations, with nothing from sesreport.programme."""
    programme = yaml.safe_load((CONFIG / "programme.yaml").read_text(encoding="utf-8"))
    register = yaml.safe_load((CONFIG / "activities.yaml").read_text(encoding="utf-8"))["activities"]
    catalog = yaml.safe_load((CONFIG / "indicators.yaml").read_text(encoding="utf-8"))
    catalog = catalog.get("indicators", catalog)
    forms = {code: spec.get("form") for code, spec in catalog.items() if isinstance(spec, dict)}
    rule = programme["objectives"][0]["operational"][0]["indicators"][0]["rule"]
    first, last = (int(y) for y in biennium.split("-"))
    members = set(ds.countries.table.index)
    obs = ds.resolved[ds.resolved["iso3"].isin(members) & (ds.resolved["year"] <= last)]
    latest = obs.groupby(["iso3", "indicator"])["year"].max().reset_index()
    latest = latest[latest["year"] >= first - rule["data_generated"]["years_before"]]
    latest["form"] = latest["indicator"].map(forms)
    per = latest.groupby("iso3").agg(n=("indicator", "size"), k=("form", "nunique"))
    data = set(per[(per["n"] >= rule["data_generated"]["min_indicators"])
                   & (per["k"] >= rule["data_generated"]["min_forms"])].index)
    strategies = {p.stem for p in (CONFIG / "strategies").glob("*.yaml") if p.stem != "defaults"}

    def inside(when: str) -> bool:
        years = [int(y) for y in re.findall(r"(?<!-)\b(\d{4})\b", str(when))]
        return first <= min(years) and max(years) <= last

    used = {a["country"] for a in register if a.get("country") and a["result"]["type"] in rule["used"]["results"]
            and inside(a["date"])}
    return {"data": data, "counted": data & used & strategies, "per": per}


def figures(built: Path, stem: str) -> list[dict]:
    return json.loads((built / f"{stem}.figures.json").read_text(encoding="utf-8"))


def outcome_record(built: Path, stem: str) -> dict:
    return next(f for f in figures(built, stem) if f["what"] == "outcome" and f["indicator"] == "3e.1")


@pytest.mark.parametrize("biennium", ["2000-2001", "2002-2003"])
def test_the_outcome_printed_is_the_count_by_the_declared_rule(built, real_ds, biennium):
    mine = own_reading(real_ds, biennium)
    record = outcome_record(built, f"{biennium}.en")
    assert set(record["counted"]) == mine["counted"]
    assert set(record["data_generated"]) == mine["data"]
    assert record["value"] == len(mine["counted"])
    for lang in ("en", "fr", "es"):
        n = len(mine["counted"])
        text = pdf_text(built / f"{biennium}.{lang}.pdf")
        assert (OUTCOME_ONE if n in SINGULAR[lang] else OUTCOME)[lang].format(n=n) in text
    # measured: 176 of 217 member States have data generated in 2000-2001, 173 in 2002-2003; the
    # Russian Federation and Kazakhstan count in 2000-2001 (meeting of November 2001, decree of June 2001)
    assert len(mine["data"]) == {"2000-2001": 176, "2002-2003": 173}[biennium]
    assert mine["counted"] == ({"RUS", "KAZ"} if biennium == "2000-2001" else set())
    text = pdf_text(built / f"{biennium}.en.pdf")
    assert f"data are generated for {len(mine['data'])} of 217 member States" in text


def test_the_2000_2001_report_shows_target_reported_outcome_and_evidence(built):
    text = pdf_text(built / "2000-2001.en.pdf")
    assert "Target 12 member States Outcome 2 member States Reported at the time 0" in text
    assert "Member States counted, and the evidence found" in text
    assert re.search(r"Kazakhstan 33 .*Concept for the Social Protection of the Population adopted by decree in "
                     r"June 2001.*\(June 2001\)", text)
    assert re.search(r"Russian Federation 33 .*tripartite meeting in Moscow in November 2001 \(November 2001\)", text)
    # Indonesia and Ukraine have data and a recorded use, but no strategy input is configured for them
    near = text.split("Member States that nearly count, and what they lack")[1].split("Strategies, results")[0]
    assert re.search(r"Indonesia 35 .* no strategy input configured", near)
    assert re.search(r"Ukraine 18 .* no strategy input configured", near)
    fr = pdf_text(built / "2000-2001.fr.pdf")
    assert "Cible 12 États Membres Résultat 2 États Membres" in fr
    assert "aucune contribution à la stratégie configurée" in fr
    es = pdf_text(built / "2000-2001.es.pdf")
    assert "Meta 12 Estados Miembros" in es or "Objetivo 12 Estados Miembros" in es


def test_the_next_biennium_names_the_last_use_each_near_miss_lacks(built):
    text = pdf_text(built / "2002-2003.en.pdf")
    assert "no target declared for this biennium" in text
    assert "No member State meets the rule in this biennium." in text
    assert ("no use recorded in 2002–2003 (last: Concept for the Social Protection of the Population adopted by "
            "decree in June 2001, with explicit reference to the ILO's contribution, June 2001)") in text
    assert "no use recorded in 2002–2003 (last: Results presented publicly" in text


def test_the_evidence_points_at_real_lines_of_the_raw_files(built, real_dir):
    record = outcome_record(built, "2000-2001.en")
    checked = 0
    for iso3, evidence in record["evidence"].items():
        assert len(evidence) >= 5
        for e in evidence:
            path = real_dir / e["file"]
            if path.suffix.lower() in (".xlsx", ".zip"):
                continue
            with path.open(encoding="utf-8-sig", newline="") as fh:
                lines = fh.read().splitlines()
            line = lines[e["line"] - 1]
            # WDI and OWID name the country or give its ISO3 code; the UN SDG files give its M49 number
            names = {"RUS": ("Russian Federation", "Russia", "643,"), "KAZ": ("Kazakhstan", "398,")}[iso3]
            assert iso3 in line or any(line.startswith(n) or f",{n}" in line or n in line.split(",")[:3]
                                       for n in names), (e, line)
            header = " ".join(lines[:5])
            assert str(e["year"]) in line or str(e["year"]) in header, (e, line)
            assert 2000 <= e["year"] <= 2001
            checked += 1
    assert checked >= 40


def test_the_coverage_annex_lists_every_member_state_and_no_aggregate(built, real_ds):
    with (built / "2000-2001.en.coverage.csv").open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 217 == len(real_ds.countries.table)
    codes = {r["iso3"] for r in table}
    assert not codes & set(real_ds.aggregates["iso3"])
    mine = own_reading(real_ds, "2000-2001")["per"]
    rus = next(r for r in table if r["iso3"] == "RUS")
    assert int(rus["indicators"]) == int(mine.loc["RUS", "n"]) == 33
    assert int(rus["forms_covered"]) == int(mine.loc["RUS", "k"]) == 4
    assert rus["data_generated"] == "True"
    assert sum(r["data_generated"] == "True" for r in table) == 176
    text = pdf_text(built / "2000-2001.en.pdf")
    annex = text.split("Annex: data coverage of member States")[-1]
    # Russian Federation: 33 indicators, by form 7 0 2 0 2 4 0, latest year 2001, data generated
    assert "Russian Federation 33 7 0 2 0 2 4 0 2001 yes" in annex


def test_country_sections_come_from_the_register_with_links_to_the_country_documents(built):
    html = (built / "2000-2001.en.html").read_text(encoding="utf-8")
    assert '<a href="../strategy/RUS.en.html">Strategy input</a>' in html
    assert '<a href="../brief/RUS.en.html">Country brief</a>' in html
    assert '<a href="../strategy/KAZ.en.html">Strategy input</a>' in html
    text = pdf_text(built / "2000-2001.en.pdf")
    assert "Eastern Europe and central Asia: towards improved social and economic security" in text
    assert "Work not placed in one country" in text
    assert "People's Security Surveys" in text and "Enterprise Labour Flexibility Surveys" in text
    fr = (built / "2000-2001.fr.html").read_text(encoding="utf-8")
    # the strategy input is in Russian and English: a French reader is sent to the English version
    assert '<a href="../strategy/RUS.en.html">Contribution à la stratégie</a>' in fr


@pytest.mark.parametrize("stem", ["2000-2001.en", "2002-2003.fr"])
def test_the_reports_pass_the_pdf_checks(built, stem):
    from sesreport.pdfcheck import check_pdf

    assert [str(f) for f in check_pdf(built / f"{stem}.pdf")] == []

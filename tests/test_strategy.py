"""The strategy inputs of the Russian Federation and Kazakhstan, built from the real data files: the
topics in order in the report and the deck's agenda, monitoring baselines and statuses recomputed
here from the raw files, 16:9 slides with one headline each, and the exported framework."""

from __future__ import annotations

import csv
import io
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import CONFIG, REPO, need_real

AS_OF = "2026-11-27"

TOPICS = {
    "RUS": {
        "en": ["Income distribution via social transfers", "Health concerns", "Wage policies",
               "Enterprise restructuring effects", "Employability of vulnerable groups", "Family implications",
               "Gender aspects", "Regional aspects", "Legal and administrative aspects", "Statistical monitoring"],
        "ru": ["Распределение доходов через социальные трансферты", "Проблемы здоровья",
               "Политика в области заработной платы", "Последствия реструктуризации предприятий",
               "Трудоустройство уязвимых групп", "Последствия для семьи", "Гендерные аспекты",
               "Региональные аспекты", "Правовые и административные аспекты", "Статистический мониторинг"],
    },
    "KAZ": {
        "en": ["Standards and fundamental principles and rights at work", "Employment", "Social protection",
               "Social dialogue"],
        "ru": ["Нормы, основополагающие принципы и права в сфере труда", "Занятость", "Социальная защита",
               "Социальный диалог"],
    },
}

# indicators of the monitoring frameworks whose file is a WDI long CSV (Country Code, Year, Value)
RAW = {"gini": "si.pov.gini", "life_expectancy": "sp.dyn.le00.in", "unemployment_female": "sl.uem.totl.fe.zs",
       "employment_ratio": "sl.emp.totl.sp.zs", "vulnerable_emp_female": "sl.emp.vuln.fe.zs"}
CHECKED = {"RUS": ["gini", "life_expectancy", "unemployment_female", "employment_ratio"],
           "KAZ": ["gini", "life_expectancy", "unemployment_female", "vulnerable_emp_female"]}
UNITS = {"gini": ("", ""), "life_expectancy": (" years", " года"), "unemployment_female": ("%", " %"),
         "employment_ratio": ("%", " %"), "vulnerable_emp_female": ("%", " %")}
STATUS_TEXT = {"en": {"on_track": "on track", "off_track": "off track",
                      "no_new_data": "no new data since the baseline", "no_data": "no data for the baseline"},
               "ru": {"on_track": "по графику", "off_track": "отставание",
                      "no_new_data": "нет новых данных после базового года", "no_data": "нет базового значения"}}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "generate.py"), *args], capture_output=True, text=True,
                          cwd=REPO, timeout=900)


def pdf_text(path: Path, first: int | None = None, last: int | None = None, raw: bool = False) -> str:
    """The text of a PDF (of pages `first` to `last`); `raw`: in the order it was written, not by layout."""
    pages = (["-f", str(first)] if first else []) + (["-l", str(last)] if last else []) + (["-raw"] if raw else [])
    out = subprocess.run(["pdftotext", *pages, str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.replace("\u00a0", " ").replace("\u202f", " ").split())


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    real = need_real()
    out = tmp_path_factory.mktemp("strategy") / "out"
    done = run("build", "--kind", "strategy", "RUS", "KAZ", "--data", str(real), "--out", str(out),
               "--as-of", AS_OF, "-j", "2")
    assert done.returncode == 0, done.stderr
    return out / "strategy"


def in_order(text: str, items: list[str]) -> bool:
    at = 0
    for item in items:
        at = text.find(item, at)
        if at < 0:
            return False
        at += len(item)
    return True


@pytest.mark.parametrize("iso3", ["RUS", "KAZ"])
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_topics_in_order_in_the_report_and_the_agenda(built, iso3, lang):
    titles = TOPICS[iso3][lang]
    report = pdf_text(built / f"{iso3}.{lang}.pdf")
    # each chapter opens with its number and title, in the configured order
    assert in_order(report, [f"{n}. {title}" for n, title in enumerate(titles, start=1)])
    agenda = pdf_text(built / f"{iso3}.{lang}.slides.pdf", 2, 2, raw=True)
    assert agenda.startswith("Agenda" if lang == "en" else "Повестка")
    assert in_order(agenda, titles)  # the list's numbers are written after the items, in raw order


def raw_series(real: Path, code: str, iso3: str) -> pd.DataFrame:
    frame = pd.read_csv(real / "wdi_datahub" / RAW[code] / "data.csv")
    return frame[frame["Country Code"] == iso3].dropna(subset=["Value"]).sort_values("Year")


def printed(value: float, lang: str, code: str) -> str:
    shown = f"{math.floor(value * 10 + 0.5) / 10:.1f}"
    unit_en, unit_ru = UNITS[code]
    return shown + unit_en if lang == "en" else shown.replace(".", ",") + unit_ru


def monitoring(built: Path, iso3: str, lang: str) -> list[dict]:
    with (built / f"{iso3}.{lang}.monitoring.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("iso3", ["RUS", "KAZ"])
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_monitoring_baselines_are_the_raw_files_values(built, real_dir, iso3, lang):
    rows = {r["indicator"]: r for r in monitoring(built, iso3, lang)}
    annex = pdf_text(built / f"{iso3}.{lang}.pdf").split("Annex: monitoring framework" if lang == "en"
                                                         else "Приложение: система мониторинга")[-1]
    for code in CHECKED[iso3]:
        row = rows[code]
        series = raw_series(real_dir, code, iso3)
        base = series[series["Year"] <= int(row["baseline_year_declared"])].iloc[-1]
        latest = series[series["Year"] <= int(AS_OF[:4])].iloc[-1]
        assert (int(row["baseline_year"]), float(row["baseline_value"])) == (base["Year"], base["Value"])
        assert (int(row["latest_year"]), float(row["latest_value"])) == (latest["Year"], latest["Value"])
        # the annex prints the same baseline and latest value, rounded as the catalog says
        assert f"{printed(base['Value'], lang, code)} ({base['Year']})" in annex
        assert f"{printed(latest['Value'], lang, code)} ({latest['Year']})" in annex


def recomputed_status(row: dict, direction: str) -> str:
    """The status by the straight path from baseline to target, computed here from the exported values."""
    if not row["baseline_year"]:
        return "no_data"
    b_year, b_value = int(row["baseline_year"]), float(row["baseline_value"])
    l_year, l_value = int(row["latest_year"]), float(row["latest_value"])
    t_year, t_value = int(row["target_year"]), float(row["target_value"])
    if l_year <= int(row["baseline_year_declared"]):
        return "no_new_data"
    path = b_value + (t_value - b_value) * min(1.0, (l_year - b_year) / (t_year - b_year))
    up = direction == "higher_better" or (direction == "neutral" and t_value >= b_value)
    return "on_track" if (l_value >= path if up else l_value <= path) else "off_track"


@pytest.mark.parametrize("iso3", ["RUS", "KAZ"])
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_status_is_recomputed_and_printed(built, iso3, lang):
    catalog = yaml.safe_load((CONFIG / "indicators.yaml").read_text(encoding="utf-8"))["indicators"]
    rows = monitoring(built, iso3, lang)
    assert len(rows) >= 3
    statuses = [r["status"] for r in rows]
    assert statuses == [recomputed_status(r, catalog[r["indicator"]]["direction"]) for r in rows]
    annex = pdf_text(built / f"{iso3}.{lang}.pdf").split("Annex: monitoring framework" if lang == "en"
                                                         else "Приложение: система мониторинга")[-1]
    labels = STATUS_TEXT[lang]
    # the annex table lists the statuses in the framework's order
    assert in_order(annex, [labels[s] for s in statuses])
    if iso3 == "RUS":
        assert statuses.count("on_track") == 3 and "off_track" in statuses
    else:  # child employment: last published in 2006, before the 2015 baseline
        assert rows[2]["indicator"] == "child_employment" and statuses[2] == "no_new_data"


@pytest.mark.parametrize("iso3", ["RUS", "KAZ"])
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_deck_is_16_9_with_one_headline_per_slide(built, iso3, lang):
    from pypdf import PdfReader

    reader = PdfReader(built / f"{iso3}.{lang}.slides.pdf")
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert width > height and abs(width / height - 16 / 9) < 0.005
    pages = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages)}
    headings: dict[int, list[str]] = {i: [] for i in range(len(reader.pages))}

    def walk(node) -> None:
        node = node.get_object()
        if isinstance(node, list):
            for kid in node:
                walk(kid)
            return
        if not isinstance(node, dict):
            return
        if node.get("/S") in ("/H1", "/H2", "/H3"):
            headings[pages[node.raw_get("/Pg").idnum]].append(node["/S"])
        if "/K" in node:
            walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    assert headings[0] == ["/H1"]  # the title slide
    assert all(headings[i] == ["/H2"] for i in range(1, len(reader.pages))), headings
    n = len(TOPICS[iso3][lang])
    assert len(reader.pages) >= 2 + n + 1 + 1  # title, agenda, a slide per topic, dashboard, closing
    # accessibility as for the briefs: language and title, data attached
    assert reader.trailer["/Root"]["/Lang"] == lang
    attached = [f"{iso3}.{lang}.figures.json", f"{iso3}.{lang}.monitoring.csv"]
    assert sorted(reader.attachments) == attached
    report = PdfReader(built / f"{iso3}.{lang}.pdf")
    assert sorted(report.attachments) == attached and report.trailer["/Root"]["/Lang"] == lang


def test_monitoring_is_exported_as_csv_and_excel(built):
    from openpyxl import load_workbook

    text = (built / "RUS.en.monitoring.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    sheet = load_workbook(built / "RUS.en.monitoring.xlsx").active
    cells = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == rows[0]
    assert [r[1] for r in cells[1:]] == [r[1] for r in rows[1:]]  # the indicators, in order
    assert [r[rows[0].index("status")] for r in cells[1:]] == [r[rows[0].index("status")] for r in rows[1:]]


def test_a_topic_without_data_says_what_it_needs_and_invents_nothing(built):
    text = pdf_text(built / "RUS.en.pdf")
    # the last occurrence is the chapter (the summary and the contents name it first)
    regional = text.split("8. Regional aspects")[-1].split("9. Legal and administrative aspects")[0]
    assert "Data needed" in regional and "Rosstat" in regional
    assert "%" not in regional  # no figure is printed for it
    wages = text.split("3. Wage policies")[-1].split("4. Enterprise restructuring effects")[0]
    assert "The data files hold no value for: average monthly earnings of employees" in " ".join(wages.split())

"""The four seed-country briefs built from the real data: what the PDF really says.

Every expected figure is computed here from the raw published file with a few lines of pandas,
independently of the package's readers, then looked for in the text extracted from the PDF.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from sesreport.cli import main
from tests.conftest import need_real

AS_OF = "2026-11-27"
NAMES = {"RUS": "Russian Federation", "KAZ": "Kazakhstan", "UKR": "Ukraine", "IDN": "Indonesia"}


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def fmt(value: float, decimals: int = 1) -> str:
    """English formatting as a statistician would round by hand: half up, thousands with commas."""
    q = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{q:,}"


def latest_long(real: Path, folder: str, iso3: str) -> tuple[int, float]:
    """The latest value of a country in a WDI long file (Country Name,Country Code,Year,Value)."""
    df = pd.read_csv(real / "wdi_datahub" / folder / "data.csv")
    row = df[df["Country Code"] == iso3].sort_values("Year").iloc[-1]
    return int(row["Year"]), float(row["Value"])


def latest_ilo_union(real: Path, iso3: str) -> tuple[int, float]:
    df = pd.read_csv(real / "ilostat" / "ILR_TUMT_NOC_RT_A.csv", encoding="utf-8-sig")
    row = df[df["ref_area"] == iso3].sort_values("time").iloc[-1]
    return int(row["time"]), float(row["obs_value"])


@pytest.fixture(scope="module")
def built(tmp_path_factory, cache_dir) -> Path:
    real = need_real()
    out = tmp_path_factory.mktemp("out")
    code = main(["build", *NAMES, "--lang", "en", "--data", str(real), "--out", str(out), "--as-of", AS_OF,
                 "--format", "full", "--jobs", "2"])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def texts(built) -> dict[str, str]:
    return {iso3: pdf_text(built / "brief" / f"{iso3}.en.pdf") for iso3 in NAMES}


def table_row(text: str, label: str) -> str:
    """The line of a section table that starts with the indicator's label and its unit."""
    rows = [line for line in text.splitlines()
            if re.match(rf"\s*{re.escape(label)}(\s+\([^)]*\))?\s{{2,}}\S", line)
            and re.search(r"(\d+/\d+|no data|–)\s*$", line)]
    assert rows, f"no table row for {label!r}"
    return rows[0]


@pytest.mark.parametrize("iso3", list(NAMES))
def test_brief_pages_and_country(built, texts, iso3):
    pdf = built / "brief" / f"{iso3}.en.pdf"
    reader = PdfReader(pdf)
    assert 5 <= len(reader.pages) <= 7
    assert reader.metadata.title == f"{NAMES[iso3]} — Social and economic security: policy brief"
    text = texts[iso3]
    assert NAMES[iso3] in text.splitlines()[0] + text.splitlines()[4] or NAMES[iso3] in text[:400]
    assert "Illustrative data" not in text  # real data: no stamp
    # the running footer numbers every page
    n = len(reader.pages)
    assert re.search(rf"\b1 ?/ ?{n}\n", text) and re.search(rf"\b{n} ?/ ?{n}\n", text)
    for title in ("Labour market", "Income and poverty", "Gender", "Health", "Representation", "Sources and notes"):
        assert title in text


@pytest.mark.parametrize("iso3", list(NAMES))
def test_labour_market_figure_equals_raw_file(texts, iso3, real_dir):
    year, value = latest_long(real_dir, "sl.uem.totl.fe.zs", iso3)
    row = table_row(texts[iso3], "Unemployment rate, women")
    assert re.search(rf"\b{re.escape(fmt(value))}\b", row), row
    assert str(year) in row


@pytest.mark.parametrize("iso3", list(NAMES))
def test_income_figure_equals_raw_file(texts, iso3, real_dir):
    """The Gini index: the 2026 datahub file, which the precedence rule prefers to the 2021 file."""
    year, value = latest_long(real_dir, "si.pov.gini", iso3)
    row = table_row(texts[iso3], "Gini index")
    assert fmt(value) in row and str(year) in row, row


@pytest.mark.parametrize("iso3", list(NAMES))
def test_gender_figure_equals_raw_file(texts, iso3, real_dir):
    year, value = latest_long(real_dir, "sl.tlf.cact.ma.zs", iso3)
    row = table_row(texts[iso3], "Labour force participation rate, men")
    assert fmt(value) in row and str(year) in row, row


@pytest.mark.parametrize("iso3", list(NAMES))
def test_health_figure_equals_raw_file(texts, iso3, real_dir):
    year, value = latest_long(real_dir, "sp.dyn.le00.in", iso3)
    row = table_row(texts[iso3], "Life expectancy at birth")
    assert fmt(value) in row and str(year) in row, row


@pytest.mark.parametrize("iso3", list(NAMES))
def test_representation_figure_equals_raw_file(texts, iso3, real_dir):
    year, value = latest_ilo_union(real_dir, iso3)
    row = table_row(texts[iso3], "Trade union density")
    assert fmt(value) in row and str(year) in row, row


def test_peer_median_equals_raw_file(texts, real_dir):
    """Russia's peers are listed in its config. Each counts with its latest value at most five years
    older than Russia's (2025): Ukraine's modelled series stops in 2021 and still counts."""
    df = pd.read_csv(real_dir / "wdi_datahub" / "sl.uem.totl.fe.zs" / "data.csv")
    peers = ["ARM", "AZE", "BLR", "GEO", "KAZ", "KGZ", "MDA", "TJK", "UKR", "UZB"]
    window = df[df["Country Code"].isin(peers) & df["Year"].between(2020, 2025)]
    latest = window.sort_values("Year").groupby("Country Code").tail(1)
    assert len(latest) == 10 and latest.set_index("Country Code").at["UKR", "Year"] == 2021
    median = latest["Value"].median()
    row = table_row(texts["RUS"], "Unemployment rate, women")
    assert row.split()[-3] == fmt(median)  # then the peer range and the rank
    assert f"below the peer median of {fmt(median)}%" in texts["RUS"]


def test_key_figures_and_sentences(texts, real_dir):
    text = texts["KAZ"]
    year, value = latest_long(real_dir, "sl.emp.totl.sp.zs", "KAZ")
    assert f"{fmt(value)}%" in text  # key figure tile
    assert "Key figures" in text and "Contents" in text


def reading_order(path: Path) -> str:
    """The PDF's text column by column, as a reader goes (`pdftotext` without `-layout`), on one line."""
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())


def test_no_data_is_said_once_in_the_notes(built):
    # Russia has no informal employment series in the real files: no bullet and no empty table row,
    # one line of the notes names it with the others (more in tests/test_sentences.py)
    text = reading_order(built / "brief" / "RUS.en.pdf")
    assert "no data available" not in text and not re.search(r"Informal employment( \(%\))? no data", text)
    assert "No data for the share of informal employment, the share of children aged 7–14 in employment, " in text


def test_stale_value_flagged(texts, real_dir):
    # total unemployment ends in 2018 (2019 vintage): more than 5 years before 2026
    row = table_row(texts["RUS"], "Unemployment rate")
    assert "2018" in row and "†" in row
    assert "latest value more than 5 years old" in texts["RUS"]


def test_sources_page_lists_vintages_and_licence(texts):
    text = texts["UKR"]
    sources = text[text.index("Sources and notes", text.index("Representation")):]
    assert "International Labour Organization, ILOSTAT database" in sources
    assert "1 July 2026" in sources and "CC BY 4.0" in sources
    assert "World Bank classification of 15 September 2021" in " ".join(sources.split())


def test_pdf_metadata_and_attachments(built):
    reader = PdfReader(built / "brief" / "IDN.en.pdf")
    assert reader.metadata.author == "Social and Economic Security Programme"
    assert reader.trailer["/Root"]["/Lang"] == "en"
    names = set(reader.attachments)
    assert "IDN.en.figures.json" in names and "IDN.en.labour_market.csv" in names
    csv = reader.attachments["IDN.en.labour_market.csv"][0].decode()
    assert csv.splitlines()[0].startswith("indicator,label,unit,year,value,source,vintage,file,line")


def test_figures_trace_to_file_and_line(built, real_dir):
    import json

    figures = json.loads((built / "brief" / "RUS.en.figures.json").read_text())
    [tile] = [f for f in figures if f["indicator"] == "unemployment_female" and f["what"] == "key figure"]
    obs = tile["observation"]
    assert (obs["file"], obs["line"], obs["value"]) == ("wdi_datahub/sl.uem.totl.fe.zs/data.csv", 6226, 2.212)
    line = (real_dir / obs["file"]).read_text().splitlines()[obs["line"] - 1]
    assert line == "Russian Federation,RUS,2025,2.212"


def test_html_version(built, texts):
    html = (built / "brief" / "RUS.en.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html
    assert "<style>" in html and "@page" not in html  # the screen stylesheet, not the print one
    assert html.count('<svg role="img" aria-label="') == 11  # 10 topic charts and the security profile, inline
    assert all(alt.strip() for alt in re.findall(r'<svg role="img" aria-label="([^"]*)"', html))


def test_same_inputs_same_bytes(tmp_path):
    real = need_real()
    hashes = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert main(["build", "UKR", "--data", str(real), "--out", str(out), "--as-of", AS_OF, "-j", "1"]) == 0
        hashes.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((out / "brief").iterdir())})
    assert hashes[0] == hashes[1]
    assert set(hashes[0]) == {f"UKR.{lang}.{ext}" for lang in ("en", "uk") for ext in ("pdf", "html", "figures.json")}


def test_security_section(texts, built):
    import json

    text = texts["RUS"]
    assert "Seven forms of security" in text
    figures = json.loads((built / "brief" / "RUS.en.figures.json").read_text())
    [index] = [f for f in figures if f["what"] == "composite index"]
    value, rank = index["value"], index["rank"]
    interval = index["rank_interval"]
    expected = (f"The Socio-Economic Security Index (2019) stands at {value:.2f} on a scale from 0 to 1, "
                f"rank {rank} of the {interval['of']} countries with an index value (ranks {interval['p05']}–"
                f"{interval['p95']} across {interval['draws']:,} alternative calculations), in the "
                f"“{index['cluster'].replace('_', '-').capitalize()}” cluster.")
    assert expected in reading_order(built / "brief" / "RUS.en.pdf").replace("– ", "–")  # a line may end at a dash
    assert "Work security" in text and "insufficient data" in text  # no work-security indicator in the data


def test_pdf_is_archival_and_accessible(built):
    """PDF/A-3a with PDF/UA-1 declared: tagged, language and title set, alt text on every figure,
    the data attached as associated files."""
    reader = PdfReader(built / "brief" / "KAZ.en.pdf")
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part[^0-9]*3", xmp) and re.search(r"pdfaid:conformance[^A-Z]*A", xmp)
    assert re.search(r"pdfuaid:part[^0-9]*1", xmp)
    assert bool(root["/MarkInfo"]["/Marked"])
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert root["/Lang"] == "en" and reader.metadata.title.startswith("Kazakhstan")
    assert len({ref.idnum for ref in root["/AF"]}) == 6  # figures.json and one CSV per section
    figures = [o for o in _walk_struct(root["/StructTreeRoot"]) if o.get("/S") == "/Figure"]
    assert len(figures) == 12 and all(str(f.get("/Alt", "")).strip() for f in figures)


def _walk_struct(node):
    node = node.get_object()
    yield node
    kids = node.get("/K")
    if kids is None:
        return
    if not isinstance(kids, list):
        kids = [kids]
    for kid in kids:
        kid = kid.get_object() if hasattr(kid, "get_object") else kid
        if isinstance(kid, dict) and ("/S" in kid or "/K" in kid):
            yield from _walk_struct(kid)

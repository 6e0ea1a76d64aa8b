"""The cross-country statistical annex built from the real data, and its CSV and Excel exports."""

from __future__ import annotations

import hashlib
import subprocess

import pandas as pd
import pytest
from pypdf import PdfReader

from sesreport.cli import main
from tests.conftest import need_real


@pytest.fixture(scope="module")
def annex(tmp_path_factory):
    real = need_real()
    out = tmp_path_factory.mktemp("annex")
    assert main(["build", "--document", "annex", "--data", str(real), "--out", str(out), "--as-of", "2026-11-27",
                 "-j", "1"]) == 0
    return out / "annex"


def test_annex_files(annex):
    assert sorted(p.name for p in annex.iterdir()) == ["ses.csv", "ses.en.figures.json", "ses.en.html", "ses.en.pdf",
                                                       "ses.xlsx"]


def test_annex_table_covers_every_country(annex, real_ds):
    table = pd.read_csv(annex / "ses.csv")
    assert len(table) == len(real_ds.countries.table) == 217
    ranked = table[table["status"] == "ok"]
    assert len(ranked) >= 160
    assert list(ranked["rank"].head(3)) == [1, 2, 3]
    # the interval is the 5th-95th percentile of the ranks over the Monte Carlo draws
    assert (ranked["rank_p05"] <= ranked["rank_median"]).all() and (ranked["rank_median"] <= ranked["rank_p95"]).all()
    assert (ranked["rank_p95"] - ranked["rank_p05"]).median() > 0
    assert table["work"].isna().all()  # no work-security indicator in the data files
    xlsx = pd.read_excel(annex / "ses.xlsx")
    pd.testing.assert_frame_equal(xlsx[["iso3", "rank"]], table[["iso3", "rank"]], check_dtype=False)


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
    assert "The Socio-Economic Security Index combines 16 indicators" in text
    assert "Ranks are recomputed for 1,000 random draws" in text
    assert "nothing in it is typed by hand" in text


def test_annex_exports_are_reproducible(annex, tmp_path):
    real = need_real()
    out = tmp_path / "again"
    assert main(["build", "--document", "annex", "--data", str(real), "--out", str(out), "--as-of", "2026-11-27",
                 "-j", "1"]) == 0
    for name in ("ses.csv", "ses.xlsx", "ses.en.pdf", "ses.en.html", "ses.en.figures.json"):
        assert hashlib.sha256((out / "annex" / name).read_bytes()).digest() == \
            hashlib.sha256((annex / name).read_bytes()).digest(), name

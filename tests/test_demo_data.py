"""The illustrative demo data (`demo/data/`): it is exactly what `scripts/make_demo_data.py` writes, it is
laid out as the publishers lay out their files, and it loads through the real readers without a problem."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from sesreport.data.load import load_dataset

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo" / "data"
SCRIPT = REPO / "scripts" / "make_demo_data.py"
WDI = DEMO / "wdi_api" / "API_DEMO_DS2_en_csv_v2_1.csv"
EARNINGS = DEMO / "ilostat" / "EAR_4MTH_SEX_GEO_CUR_NB_A.csv"

INDICATORS = [
    "unemployment", "unemployment_female", "unemployment_male", "employment_ratio", "lfp_female", "lfp_male",
    "vulnerable_emp_female", "vulnerable_emp_male", "child_employment", "gini", "poverty_300",
    "poverty_national", "income_share_q1", "life_expectancy", "health_expenditure", "gdp_pc_ppp",
    "union_density", "informal_employment", "earnings_ppp", "earnings_ppp_female", "earnings_ppp_male",
]


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_script_reproduces_committed_files(tmp_path):
    out = tmp_path / "data"
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True, capture_output=True)
    assert files(out) == files(DEMO)
    differ = [rel for rel in files(DEMO) if (out / rel).read_bytes() != (DEMO / rel).read_bytes()]
    assert differ == [], "demo/data is not the script's output; run .venv/bin/python scripts/make_demo_data.py"


def test_wdi_file_has_the_publisher_layout():
    raw = WDI.read_bytes()
    assert raw.startswith(b'\xef\xbb\xbf"Data Source","sesreport illustrative data (not official statistics)",\r\n'
                          b'\r\n"Last Updated Date","2025-07-01",\r\n\r\n"Country Name","Country Code",')
    lines = raw[3:].split(b"\r\n")
    assert lines[-1] == b"" and b"\n" not in b"".join(lines)  # CRLF throughout, and at the end
    header = next(csv.reader([lines[4].decode()]))
    assert header[4:] == [str(y) for y in range(1960, 2026)] + [""]
    assert all(line.endswith(b",") for line in lines[4:-1])  # the trailing empty column
    meta = (DEMO / "wdi_api" / "Metadata_Country_API_DEMO_DS2_en_csv_v2_1.csv").read_bytes()
    assert meta.startswith(b'\xef\xbb\xbf"Country Code","Region","IncomeGroup","SpecialNotes","TableName",\r\n')
    for path in (DEMO / "ilostat").glob("*.csv"):
        text = path.read_bytes()
        assert text.startswith(b"\xef\xbb\xbfref_area,indicator,source,") and b"\r" not in text, path.name


@pytest.fixture(scope="module")
def demo_ds():
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        return load_dataset("demo/data", "config", use_cache=False)


def test_demo_loads_cleanly(demo_ds):
    assert [str(p) for p in demo_ds.problems if p.severity == "error"] == []
    assert [str(p) for p in demo_ds.problems] == []  # not even a warning
    assert demo_ds.undeclared == []
    assert demo_ds.illustrative is True
    assert "not official statistics" in demo_ds.notice
    assert len(demo_ds.unmapped) == 0 and len(demo_ds.unresolved) == 0


def test_countries_and_aggregates(demo_ds):
    ref = demo_ds.countries
    assert len(ref.table) == 40
    assert (ref.region("RUS"), ref.income("RUS")) == ("Europe & Central Asia", "Upper middle income")
    assert ref.region("IDN") == "East Asia & Pacific"
    iso3 = set(demo_ds.obs["iso3"])
    assert {"RUS", "KAZ", "UKR", "IDN", "FRA", "ESP", "SEN", "COL"} <= iso3
    assert not {"WLD", "ECS", "EAS", "HIC"} & iso3
    assert {"World", "Europe & Central Asia"} <= set(demo_ds.aggregates["area"])


@pytest.mark.parametrize("indicator", INDICATORS)
def test_russian_federation_has_every_indicator(demo_ds, indicator):
    assert len(demo_ds.series("RUS", indicator)) > 0


def test_no_data_and_flags(demo_ds):
    assert demo_ds.series("TKM", "gini").empty  # a country without any survey
    assert len(demo_ds.series("TKM", "unemployment")) == 25
    breaks = demo_ds.obs[demo_ds.obs["break"]]
    assert set(breaks["iso3"]) == {"KAZ", "IDN"} and set(breaks["indicator"]) == {
        "earnings_ppp", "earnings_ppp_female", "earnings_ppp_male"}
    union = demo_ds.obs[(demo_ds.obs["iso3"] == "UKR") & (demo_ds.obs["indicator"] == "union_density")]
    assert union["source_code"].nunique() == 2  # two national sources, resolved by precedence


def _wdi_cell(iso3: str, code: str, year: int) -> float:
    text = WDI.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[4]
    row = next(r for r in rows[5:] if r[1] == iso3 and r[3] == code)
    return float(row[header.index(str(year))])


def test_values_read_back_exactly(demo_ds):
    obs = demo_ds.obs
    expected = _wdi_cell("RUS", "SL.UEM.TOTL.ZS", 2015)
    got = obs[(obs["iso3"] == "RUS") & (obs["indicator"] == "unemployment") & (obs["year"] == 2015)]
    assert got["value"].tolist() == [expected]
    assert got["vintage"].tolist() == ["2025-07-01"]

    with EARNINGS.open(encoding="utf-8-sig", newline="") as fh:
        cell = next(r for r in csv.DictReader(fh) if r["ref_area"] == "RUS" and r["sex"] == "SEX_F")
    got = obs[(obs["iso3"] == "RUS") & (obs["indicator"] == "earnings_ppp_female")
              & (obs["year"] == int(cell["time"]))]
    assert got["value"].tolist() == [float(cell["obs_value"])]

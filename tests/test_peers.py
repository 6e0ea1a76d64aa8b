"""Peer groups that compare like with like: the rules, their fallbacks and the sentence that states them.

The expected groups are recomputed here from the raw published files with a few lines of pandas (the
World Bank's country classification and the WDI long file of GDP per capita, PPP), independently of
the package's readers, and the sentence is looked for in the text extracted from the built PDF.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sesreport.cli import main
from sesreport.documents.peers import choose_peers, peer_fallback, peer_rule
from sesreport.errors import UserError
from sesreport.i18n import Lang
from sesreport.peers import peers_of
from sesreport.project import load_project
from tests.conftest import CONFIG, need_real

AS_OF = "2026-11-27"
YEAR = 2026
CLASSIFICATION = "wdi_api/Metadata_Country_API_11_DS2_en_csv_v2_3053363.csv"
GDP_FILE = "wdi_datahub/ny.gdp.pcap.pp.cd/data.csv"


def classification(real: Path) -> pd.DataFrame:
    table = pd.read_csv(real / CLASSIFICATION, encoding="utf-8-sig", keep_default_na=False)
    return table[table["Region"] != ""].set_index("Country Code")  # aggregates have no region


def latest_gdp(real: Path) -> tuple[pd.Series, pd.Series]:
    """(value, year) of each country's latest GDP per capita, PPP, up to the document's year."""
    gdp = pd.read_csv(real / GDP_FILE).dropna(subset=["Value"])
    gdp = gdp[gdp["Year"] <= YEAR].sort_values(["Country Code", "Year"]).groupby("Country Code").tail(1)
    return gdp.set_index("Country Code")["Value"], gdp.set_index("Country Code")["Year"]


def nearest_by_hand(real: Path, iso3: str, size: int = 10, window: int = 5) -> list[str]:
    """The `size` countries of the region closest in log GDP per capita, each with a value at most
    `window` years older than the country's; ties to the first ISO3 code."""
    table = classification(real)
    value, year = latest_gdp(real)
    region = table.index[table["Region"] == table.at[iso3, "Region"]]
    usable = [c for c in region if c != iso3 and c in value.index and year[c] >= year[iso3] - window]
    distance = {c: round(abs(np.log(value[c]) - np.log(value[iso3])), 9) for c in usable}
    return sorted(usable, key=lambda c: (distance[c], c))[:size]


def same_region_and_income(real: Path, iso3: str) -> list[str]:
    table = classification(real)
    mine = table.loc[iso3]
    same = table[(table["Region"] == mine["Region"]) & (table["IncomeGroup"] == mine["IncomeGroup"])]
    return sorted(c for c in same.index if c != iso3)


def config_of(iso3: str):
    return load_project(CONFIG, only=[iso3]).countries[iso3].config


# ------------------------------------------------------------------------------------------ Indonesia


def test_indonesia_default_rule_is_its_income_group_within_the_region(real_ds, real_dir):
    group = peers_of("IDN", "region_income", real_ds.countries.table, gdp=real_ds.headline("gdp_pc_ppp"),
                     up_to=YEAR)
    expected = ["FSM", "KHM", "KIR", "LAO", "MMR", "MNG", "PHL", "PNG", "SLB", "TLS", "VNM", "VUT", "WSM"]
    assert list(group.countries) == expected == same_region_and_income(real_dir, "IDN")
    assert (group.rule, group.short, group.region, group.income) == (
        "region_income", (), "East Asia & Pacific", "Lower middle income")
    assert not {"JPN", "AUS", "MAC"} & set(group.countries)
    # GDP per capita, PPP, 2024: these peers reach Mongolia's 19,145, the whole region Singapore's 150,689
    value, _ = latest_gdp(real_dir)
    table = classification(real_dir)
    region = [c for c in table.index[table["Region"] == "East Asia & Pacific"] if c in value.index]
    assert (round(value[expected].max()), round(value[region].max()), value[region].idxmax()) == (
        19145, 150689, "SGP")


def test_indonesia_nearest_in_gdp_per_capita(real_ds, real_dir):
    cfg = config_of("IDN")
    assert (cfg.peers.group, cfg.peers.size) == ("nearest", 10)
    group = choose_peers(real_ds, cfg, YEAR)
    expected = ["VNM", "FJI", "PLW", "NRU", "MNG", "PHL", "THA", "CHN", "LAO", "WSM"]  # closest first
    assert list(group.countries) == expected == nearest_by_hand(real_dir, "IDN")
    assert not {"JPN", "AUS", "MAC"} & set(group.countries)
    assert (group.rule, group.gdp_year, group.short) == ("nearest", 2024, ())
    # the GDP values that chose them are traced to the WDI file: Indonesia's is on line 3440
    own = group.gdp[0]
    assert (own["iso3"], own["year"], own["value"], own["line"]) == ("IDN", 2024, 16448.2755179559, 3440)
    assert own["file"].endswith(GDP_FILE)
    assert [g["iso3"] for g in group.gdp[1:]] == expected
    # territories of the region without GDP per capita are left out, and named
    assert group.no_gdp == ("ASM", "GUM", "MNP", "NCL", "PRK", "PYF")


# ------------------------------------------------------------------------------------------ Ukraine


def test_ukraine_compares_with_its_ten_nearest_not_all_of_europe(real_ds, real_dir):
    expected = ["MDA", "XKX", "TKM", "ARM", "BIH", "AZE", "ALB", "MKD", "GEO", "UZB"]
    group = choose_peers(real_ds, config_of("UKR"), YEAR)
    assert (group.rule, list(group.countries)) == ("nearest", expected)
    assert expected == nearest_by_hand(real_dir, "UKR")
    # the default rule gives only Kyrgyzstan, Tajikistan and Uzbekistan, so it falls back to the nearest
    assert same_region_and_income(real_dir, "UKR") == ["KGZ", "TJK", "UZB"]
    default = peers_of("UKR", "region_income", real_ds.countries.table, gdp=real_ds.headline("gdp_pc_ppp"),
                       up_to=YEAR)
    assert (default.rule, default.asked, default.short, list(default.countries)) == (
        "nearest", "region_income", (("region_income", 3),), expected)
    cfg = config_of("UKR").model_copy(update={"peers": config_of("UKR").peers.model_copy(
        update={"group": "region_income"})})
    english = Lang("en")
    assert peer_rule(real_ds, cfg, english, default) == (
        "Peers: the 10 countries of Europe & Central Asia closest in GDP per capita (PPP, 2024).")
    assert peer_fallback(english, default) == (
        "Not used: same region and income group, which gives 3 countries; at least 5 are needed.")
    assert peer_fallback(Lang("ru"), default) == (
        "Правило не применено: тот же регион и та же группа по уровню дохода — даёт 3 страны, а нужно не менее 5.")


def test_a_country_with_old_gdp_compares_in_its_own_year(real_ds, real_dir):
    """Venezuela's latest GDP per capita is of 2011: it is left out of Peru's nearest peers (2024) and
    compared with its region's values of 2006–2011 itself."""
    gdp = real_ds.headline("gdp_pc_ppp")
    peru = peers_of("PER", "nearest", real_ds.countries.table, gdp=gdp, up_to=YEAR)
    assert "VEN" in peru.no_gdp and "VEN" not in peru.countries
    assert list(peru.countries) == nearest_by_hand(real_dir, "PER")
    venezuela = peers_of("VEN", "nearest", real_ds.countries.table, gdp=gdp, up_to=YEAR)
    assert venezuela.gdp_year == 2011 and venezuela.gdp[0]["value"] == 21241.4350725543
    assert list(venezuela.countries) == ["BRB", "CHL", "URY", "ARG", "ATG", "KNA", "PAN", "MEX", "CUW", "TCA"]


def test_equal_distances_go_to_the_first_iso3_code():
    """Two countries as far above as below (log scale): the order is the codes', whatever the rows' order."""
    table = pd.DataFrame({"region": ["R"] * 4, "income": ["x"] * 4}, index=["AAA", "ZZZ", "MMM", "BBB"])
    rows = [("AAA", 10000.0), ("ZZZ", 20000.0), ("BBB", 5000.0), ("MMM", 40000.0)]
    gdp = pd.DataFrame([{"iso3": c, "year": 2024, "value": v, "source_id": "s", "source_code": "c",
                         "vintage": "", "file": "f.csv", "line": i + 2} for i, (c, v) in enumerate(rows)])
    gdp = gdp.sort_values(["iso3", "year"])
    assert peers_of("AAA", "nearest", table, gdp=gdp, up_to=YEAR, size=2, min_peers=2).countries == ("BBB", "ZZZ")
    assert peers_of("AAA", "nearest", table, gdp=gdp[::-1], up_to=YEAR, size=2, min_peers=2).countries == (
        "BBB", "ZZZ")


# ------------------------------------------------------------------------------------------ the printed rule


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


def build(real: Path, out: Path, iso3: str, lang: str, *config: str) -> None:
    assert main(["build", iso3, "--kind", "brief", "--format", "full", "--lang", lang, "--data", str(real),
                 "--out", str(out), "--as-of", AS_OF, *config]) == 0


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    real = need_real()
    out = tmp_path_factory.mktemp("peers")
    build(real, out, "IDN", "en")
    build(real, out, "UKR", "uk")
    return out / "brief"


@pytest.fixture(scope="module")
def fallen_back(tmp_path_factory) -> Path:
    """Ukraine's English brief under the default rule, which falls back to the nearest."""
    config = tmp_path_factory.mktemp("config") / "config"
    shutil.copytree(CONFIG, config)
    ukr = config / "countries" / "UKR.yaml"
    ukr.write_text(ukr.read_text(encoding="utf-8").replace("peers: {group: nearest}", "peers: {group: region_income}"),
                   encoding="utf-8")
    out = tmp_path_factory.mktemp("fallen")
    build(need_real(), out, "UKR", "en", "--config", str(config))
    return out / "brief"


def pdf_text(pdf: Path) -> str:
    return flat(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout)


def test_the_rule_is_printed_in_the_notes(built):
    text = pdf_text(built / "IDN.en.pdf")
    assert ("Peers: the 10 countries of East Asia & Pacific closest in GDP per capita (PPP, 2024). China, Fiji, "
            "Lao PDR, Mongolia, Nauru, Palau, Philippines, Samoa, Thailand, Vietnam.") in text
    assert "Compared with economies of East Asia & Pacific closest in GDP per capita (10 countries)" in text
    ukrainian = pdf_text(built / "UKR.uk.pdf")
    assert ("Група порівняння: 10 країн регіону «Європа та Центральна Азія», найближчих за ВВП на душу "
            "населення (ПКС, 2024).") in ukrainian


def test_the_rule_is_traced_in_the_figures(built):
    records = json.loads((built / "IDN.en.figures.json").read_text(encoding="utf-8"))
    [rule] = [r for r in records if r["what"] == "peer rule"]
    assert rule["rule"] == "nearest" and rule["countries"][:2] == ["VNM", "FJI"] and rule["gdp_year"] == 2024
    assert [p["text"] for p in rule["parts"]] == ["10", "2024"]
    assert rule["parts"][0]["config"]["file"].endswith("countries/IDN.yaml")
    assert rule["parts"][1]["observation"]["line"] == 3440
    [count] = [r for r in records if r["what"] == "peer count"]
    assert (count["text"], count["rule"]) == ("10", "nearest")


# ------------------------------------------------------------------------------------------ config mistakes


def test_a_bad_group_or_size_is_a_config_error_with_file_and_line(tmp_path, capsys):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "countries" / "IDN.yaml").write_text("country: IDN\npeers:\n  group: nearst\n  size: 2\n")
    (config / "countries" / "SEN.yaml").write_text("country: SEN\npeers: {group: nearest, size: many}\n")
    with pytest.raises(UserError) as err:
        load_project(config)
    found = [str(p).replace(str(config), "config") for p in err.value.problems]
    assert found == [
        "config/countries/IDN.yaml:3: peers.group: 'nearst' is not allowed; expected 'region_income', 'nearest', "
        "'region', 'income' or 'list' (did you mean 'nearest'?)",
        "config/countries/IDN.yaml:4: peers.size: Input should be greater than or equal to 3 (got 2)",
        "config/countries/SEN.yaml:2: peers.size: Input should be a valid integer, unable to parse string as an "
        "integer (got 'many')",
    ]
    assert main(["validate", "--config", str(config), "--data", str(need_real())]) == 2
    err_text = capsys.readouterr().err
    assert "countries/IDN.yaml:3: peers.group: 'nearst' is not allowed" in err_text and "Traceback" not in err_text


def test_a_rule_passed_over_is_printed_and_traced(fallen_back):
    text = pdf_text(fallen_back / "UKR.en.pdf")
    assert ("Peers: the 10 countries of Europe & Central Asia closest in GDP per capita (PPP, 2024). Albania, "
            "Armenia, Azerbaijan, Bosnia and Herzegovina, Georgia, Kosovo, Moldova, North Macedonia, Turkmenistan, "
            "Uzbekistan. Not used: same region and income group, which gives 3 countries; at least 5 are "
            "needed.") in text
    records = json.loads((fallen_back / "UKR.en.figures.json").read_text(encoding="utf-8"))
    [passed] = [r for r in records if r["what"] == "peer rule passed over"]
    assert [p["text"] for p in passed["parts"]] == ["3", "5"]
    assert passed["parts"][0]["config"]["file"].endswith("countries/UKR.yaml")
    assert passed["parts"][1]["config"]["file"].endswith("defaults.yaml")

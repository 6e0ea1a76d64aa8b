"""The input and process indicators of SOURCES.md section 7, read as published: one exact cell (or more)
from each of the 13 files, with its line, vintage and flags. Expected figures were read from the raw
files with csv, openpyxl and pandas.read_stata, not through sesreport's readers."""

from __future__ import annotations

import pandas as pd

from sesreport.data import readers
from sesreport.data.readers.long import read_lookup
from tests.test_data_real import obs, one

SDG_BENEFITS = "ddf/unstats_sdg/ddf--datapoints--si_cov_benfts--by--geo_area--nature--sex--units--year.csv"
SDG_UNEMPLOYED = "ddf/unstats_sdg/ddf--datapoints--si_cov_uemp--by--geo_area--nature--sex--units--year.csv"
SDG_AREAS = "ddf/unstats_sdg/ddf--entities--geo_area.csv"
INSPECTORS = "ilostat/LAI_INDE_NOC_RT_A_EN.xlsx"
INJURIES = "ilostat/INJ_FATL_SEX_MIG_RT_A_EN.xlsx"
RIGHTS = "owid_grapher/level-of-national-compliance-with-labor-rights.csv"
SOCX = "owid_grapher/social-expenditure-as-percentage-of-gdp.csv"
SOCX_TOTAL = "owid_grapher/various-measures-of-social-expenditure-as-share-of-gdp.csv"
WORLD = "other/WORLD_Dataset_Adult_Labor_9.17.2018_0.zip"
NEW_FILES = [
    RIGHTS, SDG_BENEFITS, SDG_UNEMPLOYED, SDG_AREAS, INSPECTORS, INJURIES,
    "wdi_api/API_SE.XPD.TOTL.GD.ZS_DS2_en_csv_v2_3460.csv", "wdi_api/API_SE.SEC.ENRR_DS2_en_csv_v2_394206.csv",
    "wdi_api/API_SE.TER.ENRR_DS2_en_csv_v2_3403591.csv", "wdi_api/API_SE.ADT.LITR.ZS_DS2_en_csv_v2_69.csv",
    SOCX, SOCX_TOTAL, WORLD,
]


def test_every_new_file_is_read(real_ds):
    assert not real_ds.undeclared
    for path in NEW_FILES:
        info = real_ds.file_info(path)
        assert info is not None and info.error is None, path
        if info.role == "data":
            assert info.indicators and info.countries, path


# -------------------------------------------------------------------- 1 · OWID, SDG 8.8.2

def test_labour_rights_compliance(real_ds):
    row = obs(real_ds, iso3="KAZ", indicator="labour_rights_compliance", year=2018)
    assert row["value"] == 3.08  # "Kazakhstan,KAZ,2018,3.08", line 382
    assert row["line"] == 382
    assert row["source_id"] == "owid_labour_rights" and row["vintage"] == "2023-07-16"
    assert obs(real_ds, iso3="IDN", indicator="labour_rights_compliance", year=2020)["value"] == 1.7
    assert real_ds.catalog["labour_rights_compliance"].direction == "lower_better"  # 0 is full compliance
    info = real_ds.file_info(RIGHTS)
    assert info.countries == 136
    # UN/SDG regions have an empty Code: aggregates, never countries
    assert "Central and Southern Asia (UN)" in set(real_ds.aggregates["area"])


# -------------------------------------------------------------------- 2-4 · UN SDG database in DDF

def test_sdg_131_coverage_from_m49_codes(real_ds):
    row = obs(real_ds, iso3="RUS", indicator="sp_benefit_coverage", year=2016)
    assert row["value"] == 90.4  # "643,e,bothsex,percent,2016,90.4", line 150
    assert row["line"] == 150
    assert row["estimate"]  # nature "e"
    assert row["sex"] == "T"  # bothsex
    assert row["source_code"] == "SI_COV_BENFTS" and row["vintage"] == "2020-10-19"
    assert obs(real_ds, iso3="KAZ", indicator="sp_benefit_coverage", year=2016)["value"] == 100
    # M49 region codes are aggregates, named through the entity file: "202,…,2016,12.9" is Sub-Saharan Africa
    agg = one(real_ds.aggregates, area="Sub-Saharan Africa", indicator="sp_benefit_coverage", year=2016)
    assert agg["value"] == 12.9 and agg["line"] == 67
    info = real_ds.file_info(SDG_BENEFITS)
    assert (info.layout, info.rows, info.countries, info.aggregates) == ("ddf", 184, 123, 34)


def test_sdg_unemployment_benefits_by_sex(real_ds):
    total = obs(real_ds, iso3="RUS", indicator="unemployment_benefit_coverage", year=2016, sex="T")
    assert (total["value"], total["line"]) == (68.2, 532)
    female = obs(real_ds, iso3="RUS", indicator="unemployment_benefit_coverage", year=2016, sex="F")
    male = obs(real_ds, iso3="RUS", indicator="unemployment_benefit_coverage", year=2016, sex="M")
    assert (female["value"], female["line"], male["value"], male["line"]) == (78.7, 534, 59.2, 535)
    # the headline series is both sexes only
    headline = real_ds.headline("unemployment_benefit_coverage")
    assert set(headline[headline["iso3"] == "KAZ"]["year"]) == {2000, 2005, 2007, 2009, 2010, 2011, 2016}
    assert one(headline, iso3="KAZ", year=2016)["value"] == 5.8
    info = real_ds.file_info(SDG_UNEMPLOYED)
    assert (info.rows, info.mapped + info.aggregates) == (691, 691)


def test_ddf_entity_file_is_a_lookup(real_ds, real_dir):
    info = real_ds.file_info(SDG_AREAS)
    assert (info.role, info.layout, info.source_id) == ("lookup", "lookup", "unsd_sdg")
    names = read_lookup(real_dir / SDG_AREAS, "geo_area", "name")
    assert len(names) == 370 and names["643"] == "Russian Federation" and names["5"] == "South America"


# -------------------------------------------------------------------- 5-6 · ILOSTAT Excel downloads

def test_ilostat_excel_inspectors(real_ds, real_dir):
    row = obs(real_ds, iso3="ARG", indicator="labour_inspectors", year=2010)
    assert row["value"] == 0.41  # row 7: Argentina, Other administrative records…, 2010, 0.41
    assert row["line"] == 7
    assert row["source_code"] == "Other administrative records and related sources"
    assert row["vintage"] == "2021-04-18"  # "Last update on 18APR21."
    # several source types for one country: both kept, told apart by source
    ukr = real_ds.obs[(real_ds.obs.iso3 == "UKR") & (real_ds.obs.indicator == "labour_inspectors")]
    assert set(ukr["source_code"]) == {"Other official source", "Other administrative records and related sources"}
    assert one(ukr, year=2019)["value"] == 31.56 and one(ukr, year=2018)["value"] == 0.32
    info = real_ds.file_info(INSPECTORS)
    assert (info.layout, info.vintage_from, info.rows, info.mapped, info.countries) == (
        "ilostat_excel", "file", 408, 408, 74)
    raw = readers.read_ilostat_excel(real_dir / INSPECTORS, "x")
    assert raw.title == "Inspectors per 10'000 employed persons"
    assert set(raw.rows["ind_code"]) == {"LAI_INDE_NOC_RT"}


def test_ilostat_excel_injuries_total_column_and_sexes(real_ds):
    row = obs(real_ds, iso3="AUT", indicator="fatal_injuries", year=2010, sex="T")
    assert (row["value"], row["line"], row["source_code"]) == (4.47, 57, "Insurance records")
    male = obs(real_ds, iso3="AUT", indicator="fatal_injuries", year=2010, sex="M")
    assert (male["value"], male["line"]) == (7.92, 58)
    assert obs(real_ds, iso3="KAZ", indicator="fatal_injuries", year=2017, sex="T")["value"] == 4.3
    # the migrant-status columns (Non migrants 4.39 on row 57) are not the indicator: listed, not used
    aut = real_ds.obs[(real_ds.obs.iso3 == "AUT") & (real_ds.obs.indicator == "fatal_injuries")]
    assert sorted(aut[aut.year == 2010]["value"]) == [0.47, 4.47, 7.92]
    info = real_ds.file_info(INJURIES)
    assert (info.rows, info.mapped, info.unmapped, info.countries) == (2661, 1043, 1618, 76)
    unmapped = real_ds.unmapped[real_ds.unmapped["file"] == INJURIES]
    assert {"Migrants", "Non migrants", "EU Migrants", "Migrants excluding EU", "Unknown"} == {
        b.split(" | ")[-1] for b in unmapped["breakdown"]}
    # 394 rows with Sex = Total and a Total value (SOURCES.md), every area named as ILOSTAT spells it
    assert len(real_ds.obs[(real_ds.obs.file == INJURIES) & (real_ds.obs.sex == "T")]) == 394
    assert obs(real_ds, iso3="HKG", indicator="fatal_injuries", year=2010, sex="T")["source_code"]


# -------------------------------------------------------------------- 7-10 · WDI API files of 2024-2026

def test_wdi_education_files_and_their_own_vintages(real_ds):
    spend = obs(real_ds, iso3="RUS", indicator="education_spending", year=2021)
    assert (spend["value"], spend["line"], spend["vintage"]) == (3.99480697864774, 207, "2026-07-01")
    sec = obs(real_ds, iso3="KAZ", indicator="secondary_enrolment", year=2020)
    assert (sec["value"], sec["line"], sec["vintage"]) == (94.3694359734055, 126, "2025-07-01")
    ter = obs(real_ds, iso3="RUS", indicator="tertiary_enrolment", year=2019)
    assert (ter["value"], ter["line"], ter["vintage"]) == (83.3284912109375, 208, "2024-06-28")
    lit = obs(real_ds, iso3="IDN", indicator="adult_literacy", year=2020)
    assert (lit["value"], lit["line"], lit["vintage"]) == (96, 112, "2026-02-24")
    for path in NEW_FILES[6:10]:
        info = real_ds.file_info(path)
        assert (info.source_id, info.vintage_from) == ("wdi_education", "file")
    assert real_ds.file_info(NEW_FILES[9]).countries == 170  # literacy: 170 economies with any value


# -------------------------------------------------------------------- 11-12 · OECD SOCX through OWID

def test_socx_by_branch(real_ds):
    assert obs(real_ds, iso3="AUS", indicator="social_spending_unemployment", year=1985)["value"] == 1.2
    almp = obs(real_ds, iso3="AUS", indicator="social_spending_almp", year=1985)
    assert (almp["value"], almp["line"]) == (0.354, 3)
    # "Korea" has no code in the file: resolved by name, not set aside as a group
    assert obs(real_ds, iso3="KOR", indicator="social_spending_old_age", year=2015)["value"] == 2.707
    oecd = one(real_ds.aggregates, area="OECD - Total", indicator="social_spending_health", year=2015)
    assert oecd["value"] == 5.3130002
    assert real_ds.file_info(SOCX).countries == 36


def test_socx_total_after_declared_repair(real_ds):
    # "France,FRA,2015,31.685,,31.685,,," (line 263): the third value is the OECD SOCX column
    row = obs(real_ds, iso3="FRA", indicator="social_spending", year=2015)
    assert (row["value"], row["line"]) == (31.685, 263)
    assert obs(real_ds, iso3="KOR", indicator="social_spending", year=2016)["value"] == 10.359
    info = real_ds.file_info(SOCX_TOTAL)
    assert info.repairs and info.repairs[0].startswith("drop_repeated_header_field: the header repeats 'Year'")
    assert (info.mapped, info.unmapped) == (342, 1431)
    # OWID's extrapolated series and the historical columns are not OECD data: never used
    unmapped = set(real_ds.unmapped[real_ds.unmapped["file"] == SOCX_TOTAL]["name"])
    assert "Social Expenditure %GDP - (OWID extrapolated series) (%)" in unmapped
    assert not (real_ds.obs[real_ds.obs.indicator == "social_spending"]["year"] < 1980).any()


# -------------------------------------------------------------------- 13 · WORLD Policy Analysis Center (Stata in zip)

def test_world_adult_labor_codes(real_ds):
    rus = real_ds.obs[(real_ds.obs.iso3 == "RUS") & (real_ds.obs.file == WORLD)].set_index("indicator")
    assert rus["value"].to_dict() == {"paid_annual_leave": 5, "maternal_leave": 5, "sick_leave_replacement": 4,
                                      "night_work_premium": 3, "weekly_rest": 5}
    assert set(rus["line"]) == {142} and set(rus["year"]) == {2016}
    assert set(rus["vintage"]) == {"2019-09-17"}  # the .dta's own time stamp
    assert set(rus["source_code"]) == {"paid_anlv", "maternal_leave", "sick_min_wrr", "night_premium", "day_of_rest"}
    kaz = obs(real_ds, iso3="KAZ", indicator="maternal_leave", year=2016)
    assert (kaz["value"], kaz["line"]) == (3, 86)
    assert real_ds.catalog["maternal_leave"].categories[3] == "14–25.9 weeks"
    assert real_ds.catalog["maternal_leave"].unit == "category"
    info = real_ds.file_info(WORLD)
    assert (info.layout, info.vintage_from, info.mapped, info.countries, info.unmapped) == (
        "stata", "file", 948, 193, 5711)


def test_world_reader_reads_the_dta_inside_the_zip(real_dir):
    from sesreport.data.readers import ReadOptions

    raw = readers.read_stata(real_dir / WORLD, "w.zip", ReadOptions("stata", year=2016))
    afg = raw.rows[(raw.rows.area_code == "AFG")].set_index("ind_code")["value"]
    assert (afg["paid_anlv"], afg["night_premium"], afg["day_of_rest"]) == (5, 4, 3)
    assert raw.indicator_names["paid_anlv"] == "Is paid annual leave available to workers?"
    assert raw.vintage.isoformat() == "2019-09-17"
    assert isinstance(raw.rows, pd.DataFrame) and raw.rows["area_code"].nunique() == 193

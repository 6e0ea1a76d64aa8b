"""Every file in the real data folder, read as published: exact cells, counts, aggregates, vintages,
flags and the choice between sources. Expected figures were read by hand from the raw files."""

from __future__ import annotations

import pandas as pd

from sesreport.data import readers


def one(df: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for col, value in where.items():
        mask &= df[col] == value
    rows = df[mask]
    assert len(rows) == 1, f"{len(rows)} rows for {where}"
    return rows.iloc[0]


def obs(ds, **where) -> pd.Series:
    return one(ds.obs, **where)


# -------------------------------------------------------------------- World Bank WDI bulk (API_)

def test_wdi_api_unemployment_2019_vintage(real_ds):
    row = obs(real_ds, iso3="RUS", indicator="unemployment", year=2018)
    # "Russian Federation","RUS",…,"2018" cell: 5.06099987030029
    assert row["value"] == 5.06099987030029
    assert row["vintage"] == "2019-01-30"
    assert row["source_code"] == "SL.UEM.TOTL.ZS"
    assert row["file"] == "wdi_api/API_SL.UEM.TOTL.ZS_DS2_en_csv_v2_10473697.csv"
    assert row["estimate"]  # modelled ILO estimate


def test_wdi_api_layout_quirks(real_dir):
    path = real_dir / "wdi_api/API_SL.UEM.TOTL.ZS_DS2_en_csv_v2_10473697.csv"
    raw = readers.read_wdi_api(path, "x")
    assert raw.vintage.isoformat() == "2019-01-30"
    assert raw.title == "World Development Indicators"
    # values only for 1991–2018; aggregates (WLD …) are still in the raw table
    assert raw.rows["area_code"].nunique() == 233  # of 264 rows, 31 are empty throughout
    assert (raw.rows["year"].min(), raw.rows["year"].max()) == (1991, 2018)
    assert "WLD" in set(raw.rows["area_code"])
    # the line is the file's own line: 4 preamble lines, the header, Aruba (empty), Afghanistan
    assert one(raw.rows, area_code="AFG", year=1991)["line"] == 7


def test_wdi_api_gdp_and_lfp(real_ds):
    assert obs(real_ds, iso3="IDN", indicator="gdp_pc_usd", year=2020)["value"] == 3869.58842704537
    row = obs(real_ds, iso3="RUS", indicator="lfp_female", year=2020, source_id="wdi_bulk")
    assert row["value"] == 55.1349983215332
    assert row["vintage"] == "2022-02-15"


def test_poverty_file_29_indicators(real_ds):
    info = real_ds.file_info("wdi_api/poverty-raw-2021.csv")
    assert info.vintage == "2021-09-15"
    assert len(info.indicators) == 29
    assert obs(real_ds, iso3="IDN", indicator="poverty_190", year=2019)["value"] == 2.7
    assert obs(real_ds, iso3="RUS", indicator="gini", year=2018, source_id="wdi_poverty")["value"] == 37.5


def test_country_metadata_regions_and_income(real_ds):
    ref = real_ds.countries
    assert len(ref.table) == 217
    assert ref.region("KAZ") == "Europe & Central Asia"
    assert ref.income("UKR") == "Lower middle income"
    assert ref.income("IDN") == "Lower middle income"
    assert ref.region("IDN") == "East Asia & Pacific"
    assert ref.vintage == "2021-09-15"
    assert "WLD" in ref.aggregate_codes and "ECS" in ref.aggregate_codes
    counts = ref.table["income"].value_counts()
    assert (counts["High income"], counts["Upper middle income"], counts["Lower middle income"],
            counts["Low income"]) == (79, 55, 55, 27)


# -------------------------------------------------------------------- DataBank

def test_databank_export(real_ds, real_dir):
    row = obs(real_ds, iso3="UKR", indicator="health_expenditure", year=2019)
    assert row["value"] == 3.17949653
    assert row["line"] == 205
    info = real_ds.file_info("wdi_databank/84fd4a9a-ee5e-4ec2-8081-fbb93fc69f3d_Data.csv")
    assert info.vintage == "2022-02-16" and info.vintage_from == "file"
    raw = readers.read_wdi_databank(real_dir / info.path, "x")
    assert raw.title == "Health Nutrition and Population Statistics"
    assert raw.rows["area_code"].nunique() == 190  # 217 economies, 27 with no value at all
    assert ".." not in set(raw.rows["value"].astype(str))


# -------------------------------------------------------------------- WDI long (datahub)

def test_wdi_long_newest_vintage(real_ds):
    row = obs(real_ds, iso3="RUS", indicator="unemployment_female", year=2025)
    assert row["value"] == 2.212
    assert row["vintage"] == "2026-07-01"
    assert row["line"] == 6226
    assert row["sex"] == "F"
    assert obs(real_ds, iso3="KAZ", indicator="unemployment_female", year=2025)["value"] == 5.461


def test_wdi_long_counts_and_aggregates(real_ds):
    info = real_ds.file_info("wdi_datahub/sl.uem.totl.fe.zs/data.csv")
    assert info.rows == 8176  # every data row of the file
    assert info.mapped + info.aggregates == 8176
    assert info.aggregates == 1645
    countries = real_ds.obs[real_ds.obs["file"] == info.path]["iso3"].nunique()
    assert countries == 187


# -------------------------------------------------------------------- vintages: the same code, two meanings

def test_si_pov_dday_two_definitions(real_ds):
    old = obs(real_ds, iso3="IDN", indicator="poverty_190", year=2019)
    assert old["file"] == "wdi_api/poverty-raw-2021.csv"
    new = obs(real_ds, iso3="RUS", indicator="poverty_300", year=2019)
    assert new["value"] == 0.3
    assert new["file"] == "wdi_datahub/si.pov.dday/data.csv"
    assert old["source_code"] == new["source_code"] == "SI.POV.DDAY"
    # never merged: the $3.00 series holds nothing from the 2021 file, and the reverse
    assert set(real_ds.obs[real_ds.obs["indicator"] == "poverty_300"]["file"]) == {"wdi_datahub/si.pov.dday/data.csv"}
    assert set(real_ds.obs[real_ds.obs["indicator"] == "poverty_190"]["file"]) == {"wdi_api/poverty-raw-2021.csv"}


# -------------------------------------------------------------------- precedence

def test_precedence_newest_vintage_recorded(real_ds):
    res = real_ds.resolved
    row = one(res, iso3="RUS", indicator="lfp_female", year=2020)
    # three sources: WDI bulk 2022 (55.135), OWID grapher 2024 (54.807), datahub 2026 (54.63)
    assert row["value"] == 54.63
    assert row["source_id"] == "wdi_datahub"
    assert row["candidates"] == 3
    assert row["chosen_by"] == "newest_vintage"
    assert "owid_grapher" in row["alternatives"] and "54.807" in row["alternatives"]
    assert "wdi_bulk" in row["alternatives"] and "55.135" in row["alternatives"]


def test_precedence_revised_gini(real_ds):
    row = one(real_ds.resolved, iso3="RUS", indicator="gini", year=2018)
    assert row["value"] == 35.3  # the 2026 vintage revised the 2021 file's 37.5
    assert "37.5" in row["alternatives"]


# -------------------------------------------------------------------- ILOSTAT

def test_ilostat_codes_layout(real_ds):
    row = obs(real_ds, iso3="AUS", indicator="union_density", year=2000)
    assert row["value"] == 26.48
    assert row["source_code"] == "BA:3048"
    assert row["line"] == 31
    assert row["publisher"] == "International Labour Organization"
    info = real_ds.file_info("ilostat/ILR_TUMT_NOC_RT_A.csv")
    assert (info.layout, info.rows, info.mapped) == ("ilostat_codes", 1287, 1287)
    assert real_ds.obs[real_ds.obs["file"] == info.path]["iso3"].nunique() == 139


def test_ilostat_several_sources_per_country(real_ds):
    arm = real_ds.obs[(real_ds.obs["iso3"] == "ARM") & (real_ds.obs["indicator"] == "union_density")]
    assert set(arm["source_code"]) == {"BA:867", "FI:171"}


def test_ilostat_labels_layout_with_breaks(real_ds):
    row = obs(real_ds, iso3="BOL", indicator="informal_employment", year=2016)
    assert row["value"] == 76.2
    assert row["break"]
    assert row["source_code"] == "LFS - Continuous Employment Survey"
    info = real_ds.file_info("ilostat/SDG_0831_SEX_ECO_RT_A-filtered-2023-06-11.csv")
    assert info.layout == "ilostat_labels"
    assert info.vintage == "2023-06-11" and info.vintage_from == "file name"
    assert info.mapped == 115
    # "Venezuela, Bolivarian Republic of" is resolved through ISO 3166 names
    assert "VEN" in set(real_ds.obs[real_ds.obs["file"] == info.path]["iso3"])


def test_ilostat_earnings_breakdowns(real_ds):
    ear = "ilostat/EAR_4MTH_SEX_GEO_CUR_NB_A-filtered-2025-06-01.csv"
    row = obs(real_ds, iso3="IDN", indicator="earnings_ppp", year=2021, breakdown="")
    assert row["value"] == 469.129
    assert row["break"]
    assert row["line"] == 2954
    rural = obs(real_ds, iso3="AFG", indicator="earnings_ppp", year=2020, breakdown="Area type: Rural")
    assert rural["value"] == 712.544
    info = real_ds.file_info(ear)
    # the three rows for sex "Other" are not in the catalog; they are reported, not silently dropped
    assert (info.rows, info.mapped, info.unmapped) == (6234, 6231, 3)
    assert set(real_ds.unmapped[real_ds.unmapped["file"] == ear]["code"]) == {"EAR_4MTH_SEX_GEO_CUR_NB"}
    f = obs(real_ds, iso3="IDN", indicator="earnings_ppp_female", year=2021, breakdown="")
    assert f["sex"] == "F"


# -------------------------------------------------------------------- Our World in Data

def test_owid_grapher(real_ds):
    assert obs(real_ds, iso3="ALB", indicator="gini", year=1996, source_id="owid_gini")["value"] == 27
    assert obs(real_ds, iso3="RUS", indicator="lfp_ratio_fm", year=2022)["value"] == 79.07994
    assert obs(real_ds, iso3="AFG", indicator="informal_female_nonagri", year=2021)["value"] == 91.45
    row = obs(real_ds, iso3="RUS", indicator="lfp_female", year=2020, source_id="owid_grapher")
    assert row["value"] == 54.807
    # OWID groups (empty code) and OWID_ pseudo-codes never become countries
    agg = real_ds.aggregates
    assert {"World", "Sub-Saharan Africa (WB)", "High-income countries"} <= set(agg["area"])
    assert not real_ds.obs["iso3"].str.startswith("OWID").any()
    # OWID_KOS is Kosovo, a country (World Bank code XKX)
    assert "XKX" in set(real_ds.obs[real_ds.obs["source_id"] == "owid_gini"]["iso3"])


def test_owid_names_layout_resolves_names(real_ds):
    # "Cape Verde" (OWID's spelling) resolves through config/country_names.yaml
    assert obs(real_ds, iso3="CPV", indicator="sp_coverage", year=2015)["value"] == 30
    info = [f for f in real_ds.files if f.source_id == "owid_datasets" and "ASPIRE" in f.path][0]
    assert info.mapped == 42 and info.vintage == "2019-06-26" and info.vintage_from == "datapackage"
    regions = real_ds.classifications["owid_datasets"]
    assert one(regions, iso3="RUS")["value"] == "Europe and Central Asia"
    assert (regions["kind"] == "country").all()


def test_aggregates_never_countries(real_ds):
    countries = set(real_ds.obs["iso3"])
    assert not countries & real_ds.countries.aggregate_codes
    assert {"WLD", "ECS", "HIC", "LMC"} <= set(real_ds.aggregates["iso3"])
    # every country code is in the World Bank classification, or ISO 3166 (Cook Islands, Taiwan, and the
    # French overseas departments that ILOSTAT reports apart: Guadeloupe, French Guiana, Réunion)
    assert countries - set(real_ds.countries.table.index) == {"COK", "TWN", "GLP", "GUF", "REU"}


def test_every_real_indicator_in_catalog(real_ds):
    """Every series in the real files maps to the catalog, except ILOSTAT's three 'Other' sex rows, the
    migrant-status columns of the injuries file, the non-OECD columns of the OWID social spending file
    and the WORLD variables not in the catalog: all listed, none silently dropped."""
    rows = real_ds.unmapped.groupby("file")["rows"].sum().to_dict()
    assert rows == {
        "ilostat/EAR_4MTH_SEX_GEO_CUR_NB_A-filtered-2025-06-01.csv": 3,
        "ilostat/INJ_FATL_SEX_MIG_RT_A_EN.xlsx": 1618,
        "owid_grapher/various-measures-of-social-expenditure-as-share-of-gdp.csv": 1431,
        "other/WORLD_Dataset_Adult_Labor_9.17.2018_0.zip": 5711,
    }
    for code in real_ds.catalog:
        assert (real_ds.obs["indicator"] == code).any(), f"{code} has no data in the real files"


def test_no_problems_in_real_data(real_ds):
    assert not real_ds.errors
    unknown = [p for p in real_ds.problems if "unknown country" in p.message]
    assert unknown == []


def test_cache_round_trip(real_dir, tmp_path):
    from sesreport.data.load import load_dataset
    from tests.conftest import CONFIG

    first = load_dataset(real_dir, CONFIG, cache_dir=tmp_path)
    second = load_dataset(real_dir, CONFIG, cache_dir=tmp_path)
    assert not first.from_cache and second.from_cache
    pd.testing.assert_frame_equal(first.resolved, second.resolved)
    pd.testing.assert_frame_equal(first.obs, second.obs)
    assert second.countries.resolve_name("Cape Verde").code == "CPV"
    assert [f.path for f in first.files] == [f.path for f in second.files]

"""Layouts users have that are not in the shared folder: ILOSTAT codes-and-labels, tidy CSV, Excel;
and layout recognition from the header."""

from __future__ import annotations

import csv
import io

import pytest

from sesreport.data import readers
from tests.test_data_errors import META, folder, load

ILO_BOTH = """  - id: ilo
    path: "ilostat/*.csv"
    publisher: ILO
    vintage: 2024-01-15
"""


def codes_and_labels(rows: list[dict]) -> bytes:
    """ILOSTAT's third layout: every coded column followed by its label column (BOM, LF)."""
    header = ["ref_area", "ref_area.label", "source", "source.label", "indicator", "indicator.label",
              "sex", "sex.label", "classif1", "classif1.label", "time", "obs_value", "obs_status",
              "obs_status.label", "note_classif", "note_indicator", "note_source"]
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in header})
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def ilo_row(area, label, source, source_label, year, value, sex="SEX_T", status="", status_label=""):
    return {
        "ref_area": area, "ref_area.label": label, "source": source, "source.label": source_label,
        "indicator": "SDG_0831_SEX_ECO_RT",
        "indicator.label": "SDG indicator 8.3.1 - Proportion of informal employment in total employment by sex and "
                           "sector (%)",
        "sex": sex, "sex.label": {"SEX_T": "Sex: Total", "SEX_F": "Sex: Female"}[sex],
        "classif1": "ECO_AGNAG_TOTAL", "classif1.label": "Economic activity (Agriculture, Non-Agriculture): Total",
        "time": str(year), "obs_value": value, "obs_status": status, "obs_status.label": status_label,
    }


def test_ilostat_codes_and_labels_layout(tmp_path):
    rows = [
        ilo_row("PER", "Peru", "BA:1", "LFS - Permanent Employment Survey", 2019, "72.7"),
        ilo_row("PER", "Peru", "BA:1", "LFS - Permanent Employment Survey", 2020, "75.2", status="B",
                status_label="Break in series"),
        ilo_row("PER", "Peru", "BA:1", "LFS - Permanent Employment Survey", 2021, "76.8"),
        # a second survey for Peru, with one year in common: the longer series wins
        ilo_row("PER", "Peru", "HS:2", "HIES - National Household Survey", 2021, "74.0"),
        ilo_row("PER", "Peru", "BA:1", "LFS - Permanent Employment Survey", 2021, "77.9", sex="SEX_F"),
        ilo_row("X01", "World", "XA:1", "ILO modelled estimates", 2021, "58.0"),
    ]
    data = folder(tmp_path, {"ilostat/SDG_0831_SEX_ECO_RT_A.csv": codes_and_labels(rows)}, ILO_BOTH)
    ds = load(data, tmp_path)
    info = ds.files[0]
    assert info.layout == "ilostat_codes_labels"
    assert info.vintage == "2024-01-15"
    peru = ds.obs[ds.obs.iso3 == "PER"].sort_values(["year", "source_code"])
    assert list(peru["value"]) == [72.7, 75.2, 76.8, 74.0]  # the female row is not the total indicator
    assert list(peru["source_code"]) == ["BA:1", "BA:1", "BA:1", "HS:2"]
    assert peru[peru.year == 2020]["break"].item()
    # informal_employment's precedence is longest_series: BA:1 (3 years) over HS:2 (1 year)
    chosen = ds.resolved[(ds.resolved.iso3 == "PER") & (ds.resolved.year == 2021)]
    assert chosen["value"].item() == 76.8
    assert chosen["chosen_by"].item() == "longest_series"
    assert "HS:2" in chosen["alternatives"].item() and "74" in chosen["alternatives"].item()
    # ILO's X… codes are aggregates
    assert list(ds.aggregates["iso3"]) == ["X01"]
    assert list(ds.unmapped["breakdown"]) == ["female"]


def test_tidy_csv_own_survey(tmp_path):
    csv_text = ("iso3,indicator,year,value,sex,source,status\r\n"
                "KAZ,informal_employment,2023,24.6,T,PSS-2023,\r\n"
                "UKR,informal_employment,2023,19.1,T,PSS-2023,estimate\r\n"
                "KAZ,union_density,2023,..,T,PSS-2023,\r\n")
    source = """  - id: own
    path: own/*.csv
    layout: tidy
    publisher: Programme survey team
    vintage: 2024-03-01
"""
    data = folder(tmp_path, {"own/peoples_security_survey.csv": csv_text.encode()}, source)
    ds = load(data, tmp_path)
    assert sorted(zip(ds.obs.iso3, ds.obs.value)) == [("KAZ", 24.6), ("UKR", 19.1)]
    ukr = ds.obs[ds.obs.iso3 == "UKR"].iloc[0]
    assert ukr["estimate"] and ukr["source_code"] == "PSS-2023" and ukr["line"] == 3
    assert ukr["vintage"] == "2024-03-01"


def test_tidy_unknown_indicator_is_listed(tmp_path):
    csv_text = ("country,indicator,year,value\nKazakhstan,informal_employment,2023,24.6\n"
                "Kazakhstan,unemployment_rate,2023,4.8\n")
    source = "  - id: own\n    path: own/*.csv\n    layout: tidy\n    publisher: Team\n"
    data = folder(tmp_path, {"own/s.csv": csv_text.encode()}, source)
    ds = load(data, tmp_path)
    assert list(ds.obs.iso3) == ["KAZ"]  # resolved from the name
    assert list(ds.unmapped["code"]) == ["unemployment_rate"]
    assert list(ds.unmapped["line"]) == [3]


def test_excel_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "results"
    sheet.append(["ISO3", "Indicator", "Year", "Value", "Breakdown"])
    sheet.append(["IDN", "informal_employment", 2022, 59.1, None])
    sheet.append(["IDN", "informal_employment", 2022, 63.0, "Area type: Rural"])
    sheet.append(["IDN", "informal_employment", "2023", "not known", None])
    path = tmp_path / "survey.xlsx"
    book.save(path)
    source = "  - id: own\n    path: own/*.xlsx\n    layout: excel\n    publisher: Team\n    sheet: results\n"
    data = folder(tmp_path, {"own/survey.xlsx": path.read_bytes()}, source)
    ds = load(data, tmp_path)
    assert sorted(zip(ds.obs.breakdown, ds.obs.value)) == [("", 59.1), ("Area type: Rural", 63.0)]
    [problem] = [p for p in ds.problems if "not a number" in p.message]
    assert problem.line == 4 and "[results]" in problem.file


def test_sniff_every_real_file(real_dir):
    expected = {
        "wdi_api/API_SL.UEM.TOTL.ZS_DS2_en_csv_v2_10473697.csv": "wdi_api",
        "wdi_api/poverty-raw-2021.csv": "wdi_api",
        META: "wdi_country_meta",
        "wdi_api/Metadata_Indicator_API_11_DS2_en_csv_v2_3053363.csv": "wdi_indicator_meta",
        "wdi_databank/84fd4a9a-ee5e-4ec2-8081-fbb93fc69f3d_Data.csv": "wdi_databank",
        "wdi_databank/84fd4a9a-ee5e-4ec2-8081-fbb93fc69f3d_Series - Metadata.csv": "wdi_databank_meta",
        "wdi_datahub/si.pov.gini/data.csv": "wdi_long",
        "ilostat/ILR_TUMT_NOC_RT_A.csv": "ilostat_codes",
        "ilostat/EAR_4MTH_SEX_GEO_CUR_NB_A-filtered-2025-06-01.csv": "ilostat_labels",
        "owid_grapher/economic-inequality-gini-index.csv": "owid_grapher",
        "owid_datasets/World Regions according to the World Bank/World Regions according to the World Bank.csv":
            "owid_names",
        "owid_grapher/various-measures-of-social-expenditure-as-share-of-gdp.csv": "owid_grapher",
        "ddf/unstats_sdg/ddf--datapoints--si_cov_benfts--by--geo_area--nature--sex--units--year.csv": "ddf",
        "ilostat/INJ_FATL_SEX_MIG_RT_A_EN.xlsx": "ilostat_excel",
        "wdi_api/API_SE.ADT.LITR.ZS_DS2_en_csv_v2_69.csv": "wdi_api",
        "other/WORLD_Dataset_Adult_Labor_9.17.2018_0.zip": "stata",
    }
    for name, layout in expected.items():
        assert readers.sniff(real_dir / name) == layout, name
    assert readers.sniff(real_dir / "ddf/unstats_sdg/ddf--entities--geo_area.csv") is None  # a lookup, not data


def test_registry_matches_the_sources_schema():
    """Every layout sources.yaml accepts has a reader, and every reader can be declared."""
    from typing import get_args

    from sesreport.catalog import PUBLISHERS
    from sesreport.data.sources import Family, Layout

    assert set(get_args(Layout)) == set(readers.REGISTRY) | {"auto"}
    assert {r.family for r in readers.REGISTRY.values()} <= set(get_args(Family)) == set(PUBLISHERS)


def test_indicator_metadata_file(real_dir):
    path = real_dir / "wdi_api/Metadata_Indicator_API_11_DS2_en_csv_v2_3053363.csv"
    meta = readers.read_wdi_indicator_meta(path, "x")
    assert len(meta) == 29
    assert meta["SI.POV.DDAY"]["name"] == "Poverty headcount ratio at $1.90 a day (2011 PPP) (% of population)"


def test_empty_and_non_utf8_files(tmp_path):
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    with pytest.raises(readers.FileUnreadable, match="empty"):
        readers.read_tidy_csv(empty, "e.csv")
    latin = tmp_path / "l.csv"
    latin.write_bytes("iso3,indicator,year,value\nCIV,gini,2018,41.5\nC\xf4te,gini,2019,40\n".encode("latin-1"))
    with pytest.raises(readers.FileUnreadable) as err:
        readers.read_tidy_csv(latin, "l.csv")
    assert err.value.problem.line == 3 and "not UTF-8" in err.value.problem.message


def test_sources_yaml_maps_a_files_own_codes(tmp_path):
    csv_text = "iso3,indicator,year,value\nKAZ,UNEMP_RATE,2023,4.8\nKAZ,TUD,2023,31.0\nKAZ,OTHER,2023,1\n"
    source = ("  - id: own\n    path: own/*.csv\n    layout: tidy\n    publisher: Team\n"
              "    map: {UNEMP_RATE: unemployment, TUD: union_densty}\n")
    data = folder(tmp_path, {"own/s.csv": csv_text.encode()}, source)
    from sesreport.errors import UserError

    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert "maps 'TUD' to 'union_densty', which is not in the catalog" in problem.message
    (data / "sources.yaml").write_text((data / "sources.yaml").read_text().replace("union_densty", "union_density"))
    ds = load(data, tmp_path)
    assert sorted(zip(ds.obs.indicator, ds.obs.value)) == [("unemployment", 4.8), ("union_density", 31.0)]
    assert list(ds.unmapped["code"]) == ["OTHER"]

"""Releases: a later release of a source supersedes an earlier one for the years both cover, a file's
vintage comes from the file where it states one, and the newest of several classification files is used."""

from __future__ import annotations

import json
import shutil

import pytest

from sesreport.cli import main
from sesreport.data.load import load_dataset
from tests.conftest import CONFIG, need_real
from tests.test_data_errors import META, folder, load, real_bytes

UNION = "ilostat/ILR_TUMT_NOC_RT_A.csv"
# ILOSTAT's explorer names a filtered download after the indicator and the day it was taken
REVISION = "ilostat/ILR_TUMT_NOC_RT_A-filtered-2026-03-01.csv"
REVISED = ("ref_area,indicator,source,time,obs_value,note_indicator,note_source\n"
           "RUS,ILR_TUMT_NOC_RT,FI:13420,2016,27.9,T31:4129,\n"
           "RUS,ILR_TUMT_NOC_RT,FI:13420,2017,26.8,T31:4129,\n")
ILO = """  - id: ilo
    path: ilostat/*.csv
    publisher: ILO
    vintage: 2022-07-01
"""


def test_later_release_supersedes_whatever_the_series_length(tmp_path, capsys):
    """union_density is decided by longest_series first; the 2022 file's 12 Russian years would win
    over the 2 years of the 2026 release, but a revision of the same source wins for the years it covers."""
    data = folder(tmp_path, {UNION: real_bytes(UNION), REVISION: REVISED.encode()}, ILO)
    ds = load(data, tmp_path)
    res = ds.resolved[(ds.resolved["iso3"] == "RUS") & (ds.resolved["indicator"] == "union_density")]
    by_year = res.set_index("year")
    assert by_year.loc[2017, "value"] == 26.8 and by_year.loc[2016, "value"] == 27.9
    assert by_year.loc[2017, ["vintage", "file", "line", "chosen_by"]].tolist() == [
        "2026-03-01", REVISION, 3, "later release"]
    assert by_year.loc[2017, "alternatives"] == "ilo FI:13420 (2022-07-01): 27.45"
    # the years the revision does not cover still come from the earlier release
    assert by_year.loc[2015, ["value", "vintage", "chosen_by"]].tolist() == [28.28, "2022-07-01", ""]
    assert len(res) == 12
    assert main(["data", "check", "--data", str(data)]) == 0
    assert "union_density ilo later release 2" in " ".join(capsys.readouterr().out.split())


def test_later_release_is_printed_with_its_vintage(tmp_path):
    """A copy of the real data with a later ILOSTAT release revising Russia's union density: the brief
    prints the revised value, and traces it to the later release and its vintage."""
    data = tmp_path / "data"
    shutil.copytree(need_real(), data)
    (data / REVISION).write_text(REVISED, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["build", "RUS", "--lang", "en", "--document", "brief", "--data", str(data), "--out", str(out),
                 "--as-of", "2026-11-27"]) == 0
    figures = json.loads((out / "brief" / "RUS.en.figures.json").read_text(encoding="utf-8"))
    [key] = [f for f in figures if f.get("indicator") == "union_density" and f["what"] == "key figure"]
    assert key["text"] == "26.8%" and key["year"] == 2017
    assert key["observation"]["vintage"] == "2026-03-01"
    assert key["observation"]["file"] == REVISION and key["observation"]["line"] == 3
    html = (out / "brief" / "RUS.en.html").read_text(encoding="utf-8")
    assert "ILOSTAT database. Releases of 1 July 2022; 11 June 2023; 1 June 2025; 1 March 2026." in html


WDI_LONG = "wdi_datahub/sl.uem.totl.fe.zs/data.csv"
WDI_PACKAGE = "wdi_datahub/sl.uem.totl.fe.zs/datapackage.json"
HUB = """  - id: hub
    path: wdi_datahub/*/data.csv
    layout: wdi_long
    publisher: World Bank
    vintage: 2026-07-01
"""


def test_vintage_stated_in_datapackage_wins_over_the_declared_one(tmp_path):
    package = json.loads(real_bytes(WDI_PACKAGE))
    package["last_updated"] = "2026-05-14"
    data = folder(tmp_path, {WDI_LONG: real_bytes(WDI_LONG), WDI_PACKAGE: json.dumps(package).encode()}, HUB)
    ds = load(data, tmp_path)
    info = ds.file_info(WDI_LONG)
    assert (info.vintage, info.vintage_from) == ("2026-05-14", "datapackage")
    assert set(ds.obs["vintage"]) == {"2026-05-14"}
    [warning] = ds.problems
    assert warning.severity == "warning" and warning.file.endswith(WDI_LONG)
    assert warning.message == ("sources.yaml declares vintage 2026-07-01 for source 'hub', but the file states "
                               "2026-05-14 (datapackage); the file's is used")


def test_datapackage_without_a_date_keeps_the_declared_vintage(real_ds):
    info = real_ds.file_info(WDI_LONG)
    assert (info.vintage, info.vintage_from) == ("2026-07-01", "sources.yaml")


OLD_META = "wdi_api/Metadata_Country_API_SL.UEM.TOTL.ZS_DS2_en_csv_v2_10473697.csv"
OLD_API = "wdi_api/API_SL.UEM.TOTL.ZS_DS2_en_csv_v2_10473697.csv"
# poverty-raw-2021.csv under the name the World Bank gave it: its Metadata_Country file (META) came with it
NEW_API = "wdi_api/API_11_DS2_en_csv_v2_3053363.csv"


@pytest.fixture()
def two_classifications(tmp_path):
    data = folder(tmp_path, {OLD_META: real_bytes(OLD_META), OLD_API: real_bytes(OLD_API),
                             NEW_API: real_bytes("wdi_api/poverty-raw-2021.csv")},
                  f"  - id: wdi\n    path: {OLD_API}\n    publisher: World Bank\n")
    # the folder's sources.yaml still names the 2019 classification, without a vintage
    sources = (data / "sources.yaml").read_text(encoding="utf-8")
    (data / "sources.yaml").write_text(sources.replace(f"path: {META}", f"path: {OLD_META}", 1), encoding="utf-8")
    return data


def test_newest_classification_is_used_and_reported(two_classifications, tmp_path, capsys):
    ds = load(two_classifications, tmp_path)
    assert ds.countries.file == META and ds.countries.vintage == "2021-09-15"
    assert (ds.countries.table["income"] == "Low income").sum() == 27  # 34 in the 2019 classification
    note = ("2 classification files; the newest is used: wdi_api/Metadata_Country_API_11_DS2_en_csv_v2_3053363.csv "
            "(2021-09-15, from API_11_DS2_en_csv_v2_3053363.csv); not used: "
            "wdi_api/Metadata_Country_API_SL.UEM.TOTL.ZS_DS2_en_csv_v2_10473697.csv "
            "(2019-01-30, from API_SL.UEM.TOTL.ZS_DS2_en_csv_v2_10473697.csv)")
    assert ds.countries.choice == note
    assert main(["data", "check", "--data", str(two_classifications)]) == 0
    assert note in " ".join(capsys.readouterr().out.split())
    # and from the cache, the same
    cached = load(two_classifications, tmp_path)
    assert cached.from_cache and cached.countries.choice == note


def test_real_folder_says_which_classification_it_uses(real_ds):
    assert real_ds.countries.file == META and real_ds.countries.vintage == "2021-09-15"
    assert real_ds.countries.choice.startswith(f"2 classification files; the newest is used: {META} (2021-09-15, "
                                               "sources.yaml); not used: " + OLD_META + " (2019-01-30")


def test_cache_key_notices_a_new_classification_file(tmp_path):
    data = folder(tmp_path, {OLD_API: real_bytes(OLD_API)}, f"  - id: wdi\n    path: {OLD_API}\n"
                                                               "    publisher: World Bank\n")
    first = load_dataset(data, CONFIG, cache_dir=tmp_path / "cache")
    assert first.countries.choice == ""
    shutil.copy(need_real() / OLD_META, data / OLD_META)
    second = load_dataset(data, CONFIG, cache_dir=tmp_path / "cache")
    assert not second.from_cache
    assert second.countries.file == META  # named in sources.yaml, and its date cannot be told
    assert second.countries.choice == (
        "2 classification files; the one sources.yaml names is used (no other is known to be newer): "
        f"{META} (vintage unknown); not used: {OLD_META} (2019-01-30, from {OLD_API.split('/')[1]})")

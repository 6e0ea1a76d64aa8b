"""Bad input gets a message naming the file, the line and what to do; never a traceback.

Each case starts from a real published file, damaged the way files really get damaged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sesreport.cli import main
from sesreport.data.load import load_dataset
from sesreport.errors import UserError
from tests.conftest import CONFIG, need_real

META = "wdi_api/Metadata_Country_API_11_DS2_en_csv_v2_3053363.csv"
UNEMP = "wdi_api/API_SL.UEM.TOTL.ZS_DS2_en_csv_v2_10473697.csv"
UNION = "ilostat/ILR_TUMT_NOC_RT_A.csv"


def folder(tmp_path: Path, files: dict[str, bytes], sources: str) -> Path:
    """A data folder with the real country classification, the given files and its own sources.yaml."""
    real = need_real()
    data = tmp_path / "data"
    (data / "wdi_api").mkdir(parents=True)
    shutil.copy(real / META, data / META)
    for name, content in files.items():
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_bytes(content)
    (data / "sources.yaml").write_text(
        f"countries:\n  path: {META}\nsources:\n{sources}", encoding="utf-8")
    return data


def real_bytes(name: str) -> bytes:
    return (need_real() / name).read_bytes()


def load(data: Path, tmp_path: Path, **kw):
    return load_dataset(data, CONFIG, cache_dir=tmp_path / "cache", **kw)


WDI_SOURCE = f"""  - id: wdi
    path: "{UNEMP}"
    layout: auto
    publisher: World Bank
"""
ILO_SOURCE = """  - id: ilo
    path: "ilostat/*.csv"
    publisher: ILO
    vintage: 2022-07-01
"""


def test_truncated_file(tmp_path):
    content = real_bytes(UNEMP)
    cut = content[: content.rindex(b'"ZWE"') + 40]  # a download cut off in the middle of the last line
    data = folder(tmp_path, {UNEMP: cut}, WDI_SOURCE)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert problem.file.endswith(UNEMP)
    assert problem.line == 269  # 4 preamble lines, header, 264 rows: Zimbabwe is the last
    assert "truncated" in problem.message
    assert "download it again" in problem.hint


def test_wrong_delimiter(tmp_path):
    lines = real_bytes(UNION).decode("utf-8-sig").splitlines()
    semicolons = "\n".join(line.replace(",", ";") for line in lines).encode()
    data = folder(tmp_path, {UNION: semicolons}, ILO_SOURCE)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert (problem.line, problem.severity) == (1, "error")
    assert "separated by semicolons, not commas" in problem.message
    assert "comma-separated" in problem.hint


def test_decimal_comma_shifts_columns(tmp_path):
    text = real_bytes(UNION).decode("utf-8-sig")
    text = text.replace("AUS,ILR_TUMT_NOC_RT,BA:3048,2000,26.48,", "AUS,ILR_TUMT_NOC_RT,BA:3048,2000,26,48,")
    data = folder(tmp_path, {UNION: text.encode("utf-8-sig")}, ILO_SOURCE)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert problem.line == 31
    assert problem.message == "this line has 8 columns where the header has 7"
    assert "decimal comma" in problem.hint


def test_non_numeric_value_exact_message(tmp_path):
    text = real_bytes(UNION).decode("utf-8-sig").replace(
        "AUS,ILR_TUMT_NOC_RT,BA:3048,2000,26.48,", "AUS,ILR_TUMT_NOC_RT,BA:3048,2000,n.a.,")
    data = folder(tmp_path, {UNION: text.encode("utf-8-sig")}, ILO_SOURCE)
    ds = load(data, tmp_path)
    [problem] = [p for p in ds.problems if "not a number" in p.message]
    assert problem.severity == "warning"
    assert len(ds.obs) == 1286  # the rest of the file loads
    assert str(problem).endswith(
        "ILR_TUMT_NOC_RT_A.csv:31: 'n.a.' in column 'obs_value' is not a number; the value was skipped "
        "(use an empty cell or '..' for a missing value)")


def test_unknown_layout(tmp_path):
    data = folder(tmp_path, {"ilostat/mystery.csv": b"alpha,beta,gamma\n1,2,3\n"}, ILO_SOURCE)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert problem.file.endswith("mystery.csv") and problem.line == 1
    assert "unknown layout" in problem.message and "alpha,beta,gamma" in problem.message
    assert "wdi_api" in problem.hint


def test_duplicated_row_with_different_value(tmp_path):
    text = real_bytes(UNION).decode("utf-8-sig")
    text += "AUS,ILR_TUMT_NOC_RT,BA:3048,2000,30.1,,\n"
    data = folder(tmp_path, {UNION: text.encode("utf-8-sig")}, ILO_SOURCE)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert "AUS union_density 2000 appears 2 times from the same source with different values" in problem.message
    assert "26.48" in problem.message and "30.1" in problem.message
    assert problem.line == 31 and ":1289" in problem.message


def test_duplicated_identical_row_is_a_warning(tmp_path):
    text = real_bytes(UNION).decode("utf-8-sig") + "AUS,ILR_TUMT_NOC_RT,BA:3048,2000,26.48,T31:4129,\n"
    data = folder(tmp_path, {UNION: text.encode("utf-8-sig")}, ILO_SOURCE)
    ds = load(data, tmp_path)
    [problem] = [p for p in ds.problems if "appears" in p.message]
    assert problem.severity == "warning" and "kept once" in problem.message
    assert len(ds.obs[(ds.obs.iso3 == "AUS") & (ds.obs.year == 2000)]) == 1


def test_unknown_country_name_is_reported_not_dropped(tmp_path):
    name = "owid_datasets/aspire/aspire.csv"
    csv = ("Entity,Year,Share of population covered by social protection (in %)\n"
           "Benin,2015,7\nAtlantis,2015,12\nRusia,2015,50\n")
    source = f"""  - id: owid
    path: "{name}"
    layout: owid_names
    publisher: OWID
"""
    data = folder(tmp_path, {name: csv.encode()}, source)
    ds = load(data, tmp_path)
    problems = {p.line: p for p in ds.problems if "unknown country" in p.message}
    assert set(problems) == {3, 4}
    assert problems[3].message == "unknown country or area 'Atlantis'; its rows were set aside"
    assert "did you mean 'Russia' (RUS)?" in problems[4].hint
    assert set(ds.unresolved["name"]) == {"Atlantis", "Rusia"}
    assert list(ds.obs["iso3"]) == ["BEN"]


def test_missing_declared_file(tmp_path):
    source = """  - id: wdi
    path: wdi_api/API_SL.UEM.TOTL.ZS_missing.csv
    publisher: World Bank
"""
    data = folder(tmp_path, {}, source)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert "source 'wdi': file not found: wdi_api/API_SL.UEM.TOTL.ZS_missing.csv" in problem.message
    assert "fetch" in problem.hint


def test_missing_data_folder(tmp_path):
    with pytest.raises(UserError) as err:
        load_dataset(tmp_path / "nowhere", CONFIG)
    assert "data folder not found" in str(err.value)


def test_redefined_code_is_refused(tmp_path):
    """SI.POV.DDAY in the 2026 file means $3.00 a day; a catalog that only knows $1.90 must refuse it."""
    real = need_real()
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    catalog = (config / "indicators.yaml").read_text()
    start = catalog.index("  poverty_300:")
    end = catalog.index("  poverty_190:")
    (config / "indicators.yaml").write_text(catalog[:start] + catalog[end:])
    data = tmp_path / "data"
    (data / "wdi_api").mkdir(parents=True)
    (data / "wdi_datahub" / "si.pov.dday").mkdir(parents=True)
    shutil.copy(real / META, data / META)
    for name in ("data.csv", "datapackage.json"):
        shutil.copy(real / "wdi_datahub/si.pov.dday" / name, data / "wdi_datahub/si.pov.dday" / name)
    (data / "sources.yaml").write_text(
        f"countries:\n  path: {META}\nsources:\n  - id: hub\n    path: wdi_datahub/*/data.csv\n"
        "    layout: wdi_long\n    publisher: World Bank\n    vintage: 2026-07-01\n")
    with pytest.raises(UserError) as err:
        load_dataset(data, config, cache_dir=tmp_path / "cache")
    [problem] = err.value.problems
    assert problem.file.endswith("si.pov.dday/data.csv") and problem.line == 2
    assert "SI.POV.DDAY is defined here as 'Poverty headcount ratio at $3.00 a day (2021 PPP)" in problem.message
    assert "poverty_190 (Poverty headcount ratio at $1.90 a day (2011 PPP)" in problem.message
    assert "never merge" in problem.hint


def test_cli_data_check_bad_input_exit_2(tmp_path, capsys):
    data = folder(tmp_path, {"ilostat/mystery.csv": b"alpha;beta;gamma\n1;2;3\n"}, ILO_SOURCE)
    code = main(["data", "check", "--data", str(data), "--no-cache"])
    out = capsys.readouterr()
    assert code == 2
    assert "mystery.csv:1: the columns are separated by semicolons, not commas" in out.out
    assert "Traceback" not in out.out + out.err


def test_cli_bad_sources_yaml(tmp_path, capsys):
    data = folder(tmp_path, {}, "  - id: wdi\n    path: x.csv\n    publsher: World Bank\n")
    code = main(["data", "check", "--data", str(data)])
    err = capsys.readouterr().err
    assert code == 2
    assert "sources.yaml:6: unknown key 'publsher' in sources.0" in err
    assert "did you mean 'publisher'?" in err
    assert "sources.yaml:4: 'publisher' is required in sources.0" in err


def test_cache_notices_changed_file(tmp_path):
    text = real_bytes(UNION).decode("utf-8-sig")
    data = folder(tmp_path, {UNION: text.encode("utf-8-sig")}, ILO_SOURCE)
    first = load(data, tmp_path)
    assert first.obs[(first.obs.iso3 == "AFG") & (first.obs.year == 2019)]["value"].item() == 16.77
    (data / UNION).write_bytes(text.replace("AFG,ILR_TUMT_NOC_RT,FI:6357,2019,16.77",
                                            "AFG,ILR_TUMT_NOC_RT,FI:6357,2019,17.5").encode("utf-8-sig"))
    second = load(data, tmp_path)
    assert not second.from_cache
    assert second.obs[(second.obs.iso3 == "AFG") & (second.obs.year == 2019)]["value"].item() == 17.5
    third = load(data, tmp_path)
    assert third.from_cache


@pytest.mark.parametrize("layout, line, message", [
    ("ilostat_codes", 1, "no column time, obs_value: not an ILOSTAT CSV"),
    ("owid_grapher", 1, "the header does not start with Entity,Code,Year: not an Our World in Data grapher CSV"),
    ("wdi_databank", 1, "no column Series Name, Series Code, Country Name, Country Code: not a DataBank export"),
    ("ilostat_excel", None, "not a valid zip archive or workbook"),
])
def test_wrong_layout_declared(tmp_path, capsys, layout, line, message):
    source = f"  - id: wdi\n    path: {UNEMP}\n    layout: {layout}\n    publisher: World Bank\n"
    data = folder(tmp_path, {UNEMP: real_bytes(UNEMP)}, source)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert problem.file.endswith(UNEMP) and problem.line == line
    assert problem.message.startswith(message)
    assert main(["data", "check", "--data", str(data), "--no-cache"]) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and message in " ".join(out.out.split())


def test_short_last_row_in_the_country_metadata(tmp_path, capsys):
    """Was an IndexError traceback from the classification reader."""
    data = folder(tmp_path, {UNEMP: real_bytes(UNEMP)}, WDI_SOURCE)
    meta = (data / META).read_bytes()
    cut = meta[: meta.rindex(b'"ZWE"')] + b'"ZWE","Sub-Saharan Africa"\r\n'
    (data / META).write_bytes(cut)
    line = cut.count(b"\n")
    for command in (["data", "check", "--no-cache"], ["validate", "--config", str(CONFIG)]):
        assert main([*command, "--data", str(data)]) == 2
        out = capsys.readouterr()
        text = " ".join((out.out + out.err).split())
        assert "Traceback" not in text
        assert f"{data / META}:{line}: the last line has 2 of 6 columns; the file is truncated" in text


def test_absolute_data_path_is_a_message_not_a_traceback(tmp_path, capsys):
    """Was `ValueError: '/…' is not in the subpath of …` from the cache key."""
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_bytes(real_bytes(UNEMP))
    source = f"  - id: wdi\n    path: \"{elsewhere}\"\n    layout: wdi_api\n    publisher: World Bank\n"
    data = folder(tmp_path, {}, source)
    assert main(["data", "check", "--data", str(data), "--no-cache"]) == 2
    out = capsys.readouterr()
    text = " ".join((out.out + out.err).split())
    assert "Traceback" not in text
    assert (f"{data / 'sources.yaml'}:5: source 'wdi': the path '{elsewhere}' is absolute; paths are relative to "
            "the data folder, and nothing outside it is read") in text

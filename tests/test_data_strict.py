"""Strict where a number could be wrong: a cut last line, an empty file, a value out of range, a file
on another scale, a code without its definition, and damaged input that used to give tracebacks.

Each case starts from a real published file, damaged the way files really get damaged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sesreport.catalog import load_catalog
from sesreport.cli import main
from sesreport.data.load import load_dataset
from sesreport.errors import UserError
from tests.conftest import CONFIG, need_real
from tests.test_data_errors import folder, load, real_bytes

EMP = "wdi_datahub/sl.emp.totl.sp.zs/data.csv"
EMP_PACKAGE = "wdi_datahub/sl.emp.totl.sp.zs/datapackage.json"
DDAY = "wdi_datahub/si.pov.dday/data.csv"
DDAY_PACKAGE = "wdi_datahub/si.pov.dday/datapackage.json"
UNION = "ilostat/ILR_TUMT_NOC_RT_A.csv"
UNEMP = "wdi_api/API_SL.UEM.TOTL.ZS_DS2_en_csv_v2_10473697.csv"
GINI_OWID = "owid_grapher/economic-inequality-gini-index.csv"

HUB = """  - id: hub
    path: wdi_datahub/*/data.csv
    layout: wdi_long
    publisher: World Bank
    vintage: 2026-07-01
"""
ILO = """  - id: ilo
    path: ilostat/*.csv
    publisher: ILO
    vintage: 2022-07-01
"""
AUS_2000 = b"AUS,ILR_TUMT_NOC_RT,BA:3048,2000,26.48"


def check_exit_2(data: Path, capsys, expected: str) -> None:
    """`data check` exits 2 and prints the message, without a traceback."""
    assert main(["data", "check", "--data", str(data), "--no-cache"]) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert expected in " ".join((out.out + out.err).split())


# -------------------------------------------------------------------- cut and empty files

def test_last_line_cut_inside_a_number_is_an_error(tmp_path, capsys):
    """The download stopped inside RUS 2025, 59.809: read as whole it would print 5.0 %."""
    content = real_bytes(EMP)
    cut = content[: content.index(b"Russian Federation,RUS,2025,59.809") + len(b"Russian Federation,RUS,2025,5")]
    data = folder(tmp_path, {EMP: cut, EMP_PACKAGE: real_bytes(EMP_PACKAGE)}, HUB)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert problem.file.endswith(EMP) and problem.line == 6226
    assert problem.message == ("the last line ends without a line break, where every line of this publisher's files "
                               "has one: the file is truncated, cut off inside this line")
    assert problem.hint == "download it again"
    check_exit_2(data, capsys, f"{EMP}:6226: the last line ends without a line break")


def test_header_only_file_is_a_warning_naming_the_indicator(tmp_path, capsys):
    content = real_bytes(EMP)
    header = content[: content.index(b"\n") + 1]
    data = folder(tmp_path, {EMP: header, EMP_PACKAGE: real_bytes(EMP_PACKAGE)}, HUB)
    ds = load(data, tmp_path)
    [problem] = ds.problems
    assert (problem.file, problem.severity) == (EMP, "warning")
    assert problem.message == ("holds no values (only its header, or cut before its first row); employment_ratio "
                               "goes without data: no other file gives a value")
    assert ds.file_info(EMP).rows == 0 and "employment_ratio" not in set(ds.obs["indicator"])
    assert main(["data", "check", "--data", str(data), "--no-cache"]) == 0
    assert "employment_ratio goes without data" in " ".join(capsys.readouterr().out.split())


# -------------------------------------------------------------------- plausibility bounds

def test_negative_union_density_is_an_error_and_never_used(tmp_path, capsys):
    negative = real_bytes(UNION).replace(AUS_2000, b"AUS,ILR_TUMT_NOC_RT,BA:3048,2000,-26.48")
    data = folder(tmp_path, {UNION: negative}, ILO)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert problem.file.endswith(UNION) and problem.line == 31
    assert problem.message == ("ILR_TUMT_NOC_RT = -26.48 (AUS, 2000) is outside the range of union_density, "
                               "[0, 100] (percent); 1 such value(s), not used")
    assert "declare `scale:`" in problem.hint and "`bounds:`" in problem.hint
    # a report that goes on (data check) holds the value nowhere, and keeps the rest of the file
    ds = load(data, tmp_path, strict=False)
    aus = ds.obs[(ds.obs["iso3"] == "AUS") & (ds.obs["indicator"] == "union_density")]
    assert 2000 not in set(aus["year"]) and -26.48 not in set(ds.obs["value"])
    assert len(ds.obs) == 1286  # 1,287 values in the file, less the one out of range
    check_exit_2(data, capsys, f"{UNION}:31: ILR_TUMT_NOC_RT = -26.48 (AUS, 2000) is outside the range")


def test_unemployment_of_250_percent_is_an_error(tmp_path):
    content = real_bytes(UNEMP)
    before = b'"5.19999980926514","5.06099987030029",'
    row = next(line for line in content.split(b"\r\n") if line.startswith(b'"Russian Federation"'))
    assert row.endswith(before)
    damaged = content.replace(row, row[: -len(before)] + b'"5.19999980926514","250",')
    data = folder(tmp_path, {UNEMP: damaged}, f"  - id: wdi\n    path: {UNEMP}\n    publisher: World Bank\n")
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert problem.line == 206
    assert problem.message.startswith("SL.UEM.TOTL.ZS = 250 (RUS, 2018) is outside the range of unemployment, "
                                      "[0, 100] (percent)")


def test_declared_bounds_keep_what_the_unit_alone_would_refuse(real_ds):
    """A gross enrolment ratio exceeds 100 % and women may take part more than men: the catalog says so."""
    catalog = real_ds.catalog
    assert catalog["secondary_enrolment"].limits == (0, None)
    assert catalog["unemployment"].limits == (0, 100)
    assert catalog["gini"].limits == (0, 100) and catalog["mpi"].limits == (0, 1)
    assert catalog["labour_rights_compliance"].limits == (0, 10)
    ton = real_ds.obs[(real_ds.obs["iso3"] == "TON") & (real_ds.obs["indicator"] == "secondary_enrolment")
                      & (real_ds.obs["year"] == 2002)].iloc[0]
    assert (ton["value"], ton["line"]) == (194.460021972656, 245)
    bdi = real_ds.obs[(real_ds.obs["iso3"] == "BDI") & (real_ds.obs["indicator"] == "lfp_ratio_fm")
                      & (real_ds.obs["year"] == 1991)].iloc[0]
    assert (bdi["value"], bdi["line"]) == (100.898254, 802)


def test_bounds_the_wrong_way_round_are_a_catalog_error(tmp_path):
    text = (CONFIG / "indicators.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "indicators.yaml"
    bad.write_text(text.replace("    bounds: [0, 10]  # 0 best, 10 worst", "    bounds: [10, 0]"), encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_catalog(bad)
    [problem] = err.value.problems
    assert problem.line is not None and "bounds [10.0, 0.0]: the lower bound must be below the upper one" in \
        problem.message


# -------------------------------------------------------------------- scale mismatch

@pytest.fixture(scope="module")
def gini_on_0_1(tmp_path_factory) -> Path:
    """A copy of the real data whose OWID Gini export is on a 0-1 scale (a later release might be)."""
    data = tmp_path_factory.mktemp("scale") / "data"
    shutil.copytree(need_real(), data)
    lines = (data / GINI_OWID).read_text(encoding="utf-8").split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        *head, value = line.split(",")
        out.append(",".join(head + [f"{float(value) / 100:g}" if value else ""]))
    (data / GINI_OWID).write_text("\n".join(out), encoding="utf-8")
    return data


def test_file_on_another_scale_is_refused(gini_on_0_1, tmp_path):
    with pytest.raises(UserError) as err:
        load_dataset(gini_on_0_1, CONFIG, cache_dir=tmp_path / "cache")
    [problem] = [p for p in err.value.problems if p.severity == "error"]
    assert (problem.file, problem.line) == (GINI_OWID, 2)
    assert problem.message == (
        "scale mismatch: the values of gini here are about 100 times smaller than in wdi_api/poverty-raw-2021.csv "
        "for the same countries and years (1222 compared; AGO 2008: 0.427 here, 42.7 there) and in "
        "wdi_datahub/si.pov.gini/data.csv (1277 compared); this file's values of gini are not used")
    assert problem.hint.startswith("if the publisher changed the scale, declare `scale: 100` for this file's source")


def test_declared_scale_converts_the_file(gini_on_0_1, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    sources = (config / "sources.yaml").read_text(encoding="utf-8")
    entry = f"    path: {GINI_OWID}\n    layout: owid_grapher\n"
    assert sources.count(entry) == 1
    (config / "sources.yaml").write_text(sources.replace(entry, entry + "    scale: 100\n"), encoding="utf-8")
    ds = load_dataset(gini_on_0_1, config, cache_dir=tmp_path / "cache")
    owid = ds.obs[(ds.obs["file"] == GINI_OWID) & (ds.obs["iso3"] == "RUS") & (ds.obs["year"] == 1993)].iloc[0]
    assert owid["value"] == 48.4  # 0.484 in the file
    assert ds.file_info(GINI_OWID).repairs == ["scale: every value multiplied by 100, as declared"]


# -------------------------------------------------------------------- a code with two definitions, and no name

def test_code_without_its_name_is_refused_with_both_candidates(tmp_path, capsys):
    """The 2026 SI.POV.DDAY long file without its datapackage.json: $1.90 (2011 PPP) or $3.00 (2021 PPP)?"""
    data = folder(tmp_path, {DDAY: real_bytes(DDAY)}, HUB)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert problem.file.endswith(DDAY) and problem.line == 2
    assert problem.message == (
        "SI.POV.DDAY arrives without the publisher's name for it, and the catalog has 2 definitions for this code: "
        "poverty_300 (Poverty headcount ratio at $3.00 a day (2021 PPP) (% of population)); "
        "poverty_190 (Poverty headcount ratio at $1.90 a day (2011 PPP) (% of population))")
    assert "datapackage.json" in problem.hint and "map: {SI.POV.DDAY: <indicator>}" in problem.hint
    check_exit_2(data, capsys, "SI.POV.DDAY arrives without the publisher's name for it")


def test_code_mapped_in_sources_yaml_needs_no_name(tmp_path):
    data = folder(tmp_path, {DDAY: real_bytes(DDAY)}, HUB + "    map: {SI.POV.DDAY: poverty_300}\n")
    ds = load(data, tmp_path)
    row = ds.obs[(ds.obs["iso3"] == "RUS") & (ds.obs["year"] == 2019)].iloc[0]
    assert (row["indicator"], row["value"]) == ("poverty_300", 0.3)


# -------------------------------------------------------------------- what used to be tracebacks

def _union(value: bytes):
    return lambda: {UNION: real_bytes(UNION).replace(AUS_2000, b"AUS,ILR_TUMT_NOC_RT,BA:3048,2000," + value)}


def _dday(package: bytes):
    return lambda: {DDAY: real_bytes(DDAY), DDAY_PACKAGE: package}


SDG = "ddf/ddf--datapoints--si_cov_uemp--by--geo_area--nature--sex--units--year.csv"


@pytest.mark.parametrize("files, sources, where, line, message", [
    (_union(b"inf"), ILO, UNION, 31, "'inf' in column 'obs_value' is not a finite number"),
    (_union(b"1e999"), ILO, UNION, 31, "'1e999' in column 'obs_value' is not a finite number"),
    (_union(b"7" * 5000), ILO, UNION, 31,
     "'7777777777777777777777777777777777777777… (5,000 characters)' in column 'obs_value' is not a finite number"),
    (_dday(b'[{"name": "si.pov.dday"}]'), HUB, DDAY_PACKAGE, 1,
     "a datapackage.json is a JSON object ({…}); this one is a list"),
    (_dday(b'{"name": "si.pov.dday",\n "version": ' + b"9" * 5000 + b"}"), HUB, DDAY_PACKAGE, 2,
     "not a readable datapackage.json (holds a number too long to read)"),
    (lambda: {SDG: real_bytes("ddf/unstats_sdg/" + Path(SDG).name)},
     "  - id: sdg\n    path: ddf/*.csv\n    layout: ilostat_codes\n    publisher: UN\n", SDG, 1,
     "no column time, obs_value: not an ILOSTAT CSV"),
], ids=["inf", "1e999", "5000-digits", "datapackage-list", "datapackage-5000-digits", "long-file-wrong-layout"])
def test_damaged_input_is_a_message_not_a_traceback(tmp_path, capsys, files, sources, where, line, message):
    data = folder(tmp_path, files(), sources)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    assert [(p.line, p.message) for p in err.value.problems if (p.file or "").endswith(where)] == [(line, message)]
    check_exit_2(data, capsys, f"{where}:{line}: {message}")


def test_tidy_year_that_is_not_a_year_is_skipped_with_a_warning(tmp_path):
    rows = "iso3,indicator,year,value\nKAZ,unemployment,2019,4.8\nKAZ,unemployment,inf,5.0\n" \
           f"KAZ,unemployment,{'9' * 5000},5.1\n"
    data = folder(tmp_path, {"own/survey.csv": rows.encode()},
                  "  - id: own\n    path: own/survey.csv\n    layout: tidy\n    publisher: Team\n")
    ds = load(data, tmp_path)
    assert ds.obs[["iso3", "year", "value"]].values.tolist() == [["KAZ", 2019, 4.8]]
    assert [(p.line, p.message) for p in ds.problems] == [
        (3, "year 'inf' is not a year; the row was skipped"),
        (4, "year '9999999999999999999999999999999999999999… (5,000 characters)' is not a year; the row was skipped"),
    ]


def test_file_of_nothing_but_a_byte_order_mark(tmp_path, capsys):
    data = folder(tmp_path, {UNION: b"\xef\xbb\xbf"}, ILO + "    layout: ilostat_codes\n")
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    assert [(p.line, p.message) for p in err.value.problems] == [(None, "the file is empty")]
    check_exit_2(data, capsys, f"{UNION}: the file is empty")


# -------------------------------------------------------------------- large files

def test_values_gathered_in_chunks_are_the_values_read_at_once(monkeypatch, real_dir):
    """A large file becomes a table chunk by chunk; the table is the same as when read at once."""
    from sesreport.data import readers
    from sesreport.data.readers.common import Collector

    path = real_dir / "wdi_datahub/sl.tlf.cact.fe.zs/data.csv"
    opts = readers.ReadOptions("wdi_long")
    whole = readers.read(path, "data.csv", opts).rows
    monkeypatch.setattr(Collector, "CHUNK", 1000)
    chunked = readers.read(path, "data.csv", opts).rows
    assert len(whole) == 8410 and chunked.equals(whole)
    assert chunked.iloc[-1][["area_code", "year", "value", "line"]].tolist() == ["ZWE", 2025, 62.155, 8411]

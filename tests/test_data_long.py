"""The generic long layout: a file in a layout nobody foresaw needs a declaration in sources.yaml, not code.

Tested on a real file (the UN SDG unemployment-benefit datapoints, declared column by column with its
DDF entity file as the M49 lookup) against the dedicated `ddf` layout built on it, and on small files
in other code systems; a wrong declaration is a located message and exit 2, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd
import pytest

from sesreport.cli import main
from sesreport.errors import UserError
from tests.conftest import REPO, need_real
from tests.test_data_errors import folder, load
from tests.test_data_real import one

UEMP = "ddf--datapoints--si_cov_uemp--by--geo_area--nature--sex--units--year.csv"
AREAS = "ddf--entities--geo_area.csv"


def long_source(area: str = "geo_area", extra: str = "") -> str:
    return f"""  - id: sdg_long
    path: sdg/uemp.csv
    layout: long
    columns: {{area: {area}, time: year, value: si_cov_uemp, sex: sex, status: nature, unit: units}}
    area_codes: m49
    area_names: {{path: sdg/areas.csv, code: geo_area, name: name}}
    indicator: unemployment_benefit_coverage
    publisher: United Nations Statistics Division
    vintage: 2020-10-19
{extra}"""


def sdg_folder(tmp_path, sources: str):
    real = need_real() / "ddf" / "unstats_sdg"
    return folder(tmp_path, {"sdg/uemp.csv": (real / UEMP).read_bytes(), "sdg/areas.csv": (real / AREAS).read_bytes()},
                  sources)


def test_long_layout_reads_a_real_file_as_declared(tmp_path, real_ds):
    ds = load(sdg_folder(tmp_path, long_source()), tmp_path)
    info = ds.file_info("sdg/uemp.csv")
    assert (info.layout, info.rows, info.mapped, info.aggregates) == ("long", 691, 658, 33)
    rus = one(ds.obs, iso3="RUS", year=2016, sex="F")
    assert (rus["value"], rus["line"], rus["indicator"]) == (78.7, 534, "unemployment_benefit_coverage")
    assert rus["estimate"]  # nature "e", declared as the status column
    assert one(ds.obs, iso3="RUS", year=2016, sex="T")["value"] == 68.2
    # M49 region codes, named through the declared lookup, are aggregates
    assert one(ds.aggregates, area="Sub-Saharan Africa", year=2016, sex="T")["line"] > 1
    # the lookup is listed as read, and not as undeclared
    assert ds.file_info("sdg/areas.csv").role == "lookup" and not ds.undeclared
    # exactly what the dedicated ddf layout (derived from the file's name) gives
    ddf = real_ds.obs[real_ds.obs.source_id == "unsd_sdg"]
    ddf = ddf[ddf.indicator == "unemployment_benefit_coverage"]
    cols = ["iso3", "year", "sex", "value", "line", "estimate"]
    mine = ds.obs[cols].sort_values(cols).reset_index(drop=True)
    theirs = ddf[cols].sort_values(cols).reset_index(drop=True)
    # observations keep their text columns categorical, each file's with its own categories
    pd.testing.assert_frame_equal(mine, theirs, check_categorical=False)


def test_long_layout_series_column_and_other_code_systems(tmp_path):
    text = ("country;code;yr;series;val;flag\n".replace(";", ",")
            + "Kazakhstan,kz,2021,SL.UEM.TOTL.ZS,4.9,\n"
            + "Ukraine,ua,2021,SL.UEM.TOTL.ZS,9.8,e\n"
            + "Atlantis,xx,2021,SL.UEM.TOTL.ZS,1.0,\n"
            + "Kazakhstan,kz,2021,OTHER.CODE,3,\n")
    source = """  - id: team
    path: own/long.csv
    layout: long
    columns: {area: code, area_name: country, time: yr, value: val, series: series, status: flag}
    area_codes: iso2
    family: wdi
    publisher: Team
"""
    ds = load(folder(tmp_path, {"own/long.csv": text.encode()}, source), tmp_path)
    assert sorted(zip(ds.obs.iso3, ds.obs.indicator, ds.obs.value)) == [
        ("KAZ", "unemployment", 4.9), ("UKR", "unemployment", 9.8)]
    assert one(ds.obs, iso3="UKR")["estimate"] and one(ds.obs, iso3="UKR")["line"] == 3
    assert list(ds.unmapped["code"]) == ["OTHER.CODE"]
    assert list(ds.unresolved["name"]) == ["Atlantis"]  # an unknown ISO2 code falls back on the name

    names = "area,year,value\nRussia,2020,5.8\nUkraine,2020,9.5\n"
    source = ("  - id: byname\n    path: own/names.csv\n    layout: long\n"
              "    columns: {area: area, time: year, value: value}\n    area_codes: name\n"
              "    indicator: unemployment\n    publisher: Team\n")
    ds = load(folder(tmp_path / "b", {"own/names.csv": names.encode()}, source), tmp_path / "b")
    assert sorted(zip(ds.obs.iso3, ds.obs.value)) == [("RUS", 5.8), ("UKR", 9.5)]


def test_long_layout_wrong_column_is_located(tmp_path):
    data = sdg_folder(tmp_path, long_source(area="geo_areaa"))
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert problem.file.endswith("sdg/uemp.csv") and problem.line == 1
    assert problem.message.startswith("column 'geo_areaa' (columns.area, declared in ")
    assert "sources.yaml:7" in problem.message  # the line of `columns:` in the data folder's sources.yaml
    assert problem.hint.startswith("did you mean 'geo_area'?")
    assert "the header is: geo_area, nature, sex, units, year, si_cov_uemp" in problem.hint


def test_long_layout_wrong_column_exit_2_through_generate_py(tmp_path):
    data = sdg_folder(tmp_path, long_source(area="geo_areaa"))
    done = subprocess.run([sys.executable, "generate.py", "data", "check", "--data", str(data), "--no-cache"],
                          cwd=REPO, capture_output=True, text=True, env={"SESREPORT_CACHE": str(tmp_path / "c"),
                                                                          "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    out = " ".join((done.stdout + done.stderr).split())
    assert "sdg/uemp.csv:1: column 'geo_areaa' (columns.area, declared in" in out
    assert "did you mean 'geo_area'?" in out
    assert "Traceback" not in done.stdout + done.stderr


def test_long_layout_declaration_mistakes(tmp_path, capsys):
    # no value column: refused when sources.yaml is read, at the line of the source
    source = ("  - id: bad\n    path: own/x.csv\n    layout: long\n    columns: {area: a, time: t}\n"
              "    publisher: Team\n")
    data = folder(tmp_path, {"own/x.csv": b"a,t,v\nKAZ,2020,1\n"}, source)
    assert main(["data", "check", "--data", str(data), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "sources.yaml:4: sources.0: layout long needs columns: {area: …, time: …, value: …}" in " ".join(err.split())
    # a lookup outside the data folder is refused
    source = long_source().replace("path: sdg/areas.csv", "path: ../../etc/passwd")
    with pytest.raises(UserError) as err:
        load(sdg_folder(tmp_path / "b", source), tmp_path / "b")
    assert any("area_names file outside the data folder" in p.message for p in err.value.problems)


def test_long_layout_bad_year_and_mixed_units(tmp_path):
    source = ("  - id: own\n    path: own/x.csv\n    layout: long\n"
              "    columns: {area: iso, time: year, value: v, unit: unit}\n    indicator: unemployment\n"
              "    publisher: Team\n")
    data = folder(tmp_path, {"own/x.csv": b"iso,year,v,unit\nkaz,2020,4.9,percent\nkaz,2021Q1,5,percent\n"},
                  source)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    assert [(p.line, p.message) for p in err.value.problems] == [(3, "'2021Q1' is not a year")]
    (data / "own/x.csv").write_bytes(b"iso,year,v,unit\nkaz,2020,4.9,percent\nkaz,2021,5000,persons\n")
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert problem.line == 3 and "in 'persons' here but in 'percent' on line 2" in problem.message


def test_ddf_layout_needs_its_entity_file(tmp_path):
    real = need_real() / "ddf" / "unstats_sdg"
    data = folder(tmp_path, {f"sdg/{UEMP}": (real / UEMP).read_bytes()},
                  "  - id: sdg\n    path: sdg/*.csv\n    publisher: UNSD\n    family: sdg\n")
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert "cannot tell the area and the year from the file name" in problem.message
    assert "layout: long" in problem.hint
    shutil.copy(real / AREAS, data / "sdg" / AREAS)
    ds = load(data, tmp_path)  # recognised as ddf from its name; the entity file found beside it
    assert ds.files[0].layout == "ddf"
    assert one(ds.obs, iso3="RUS", year=2016, sex="M")["value"] == 59.2

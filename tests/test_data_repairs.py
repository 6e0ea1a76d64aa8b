"""A quirk a publisher really ships is repaired only when sources.yaml declares the repair, and every
repair applied is reported; the file itself is never edited."""

from __future__ import annotations

import pytest

from sesreport.cli import main
from sesreport.errors import UserError
from tests.test_data_errors import folder, load, real_bytes
from tests.test_data_real import one

SOCX_TOTAL = "owid_grapher/various-measures-of-social-expenditure-as-share-of-gdp.csv"
SOURCE = f"""  - id: socx
    path: {SOCX_TOTAL}
    layout: owid_grapher
    publisher: Our World in Data
    vintage: 2020-08-06
"""
REPAIR = "    repair: [drop_repeated_header_field]\n"


def test_undeclared_quirk_is_refused_with_the_repair_to_declare(tmp_path):
    data = folder(tmp_path, {SOCX_TOTAL: real_bytes(SOCX_TOTAL)}, SOURCE)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert problem.file.endswith(SOCX_TOTAL) and problem.line == 2
    assert problem.message == "this line has 9 columns where the header has 10"
    assert "the header repeats 'Year' (fields 3 and 4) and every line has one field fewer" in problem.hint
    assert "declare `repair: [drop_repeated_header_field]` for its source in sources.yaml" in problem.hint


def test_declared_repair_is_applied_and_reported(tmp_path, capsys):
    original = real_bytes(SOCX_TOTAL)
    data = folder(tmp_path, {SOCX_TOTAL: original}, SOURCE + REPAIR)
    ds = load(data, tmp_path)
    assert one(ds.obs, iso3="FRA", year=2015)["value"] == 31.685
    assert one(ds.obs, iso3="FRA", year=1990)["value"] == 24.28  # line 256: "France,FRA,1990,24.28,,24.28,,,23.7"
    [info] = ds.files
    assert info.repairs == ["drop_repeated_header_field: the header repeats 'Year' (fields 3 and 4) and every line "
                            "has 9 fields; the repeated field was dropped"]
    assert (data / SOCX_TOTAL).read_bytes() == original  # repaired while reading, never edited
    assert main(["data", "check", "--data", str(data), "--no-cache"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Repairs applied (declared in sources.yaml):" in out
    assert f"{SOCX_TOTAL}: drop_repeated_header_field: the header repeats 'Year'" in out


def test_repair_declared_where_not_needed_is_a_warning(tmp_path):
    name = "owid_grapher/economic-inequality-gini-index.csv"
    source = SOURCE.replace(SOCX_TOTAL, name) + REPAIR
    ds = load(folder(tmp_path, {name: real_bytes(name)}, source), tmp_path)
    [problem] = [p for p in ds.problems if "repair" in p.message]
    assert problem.severity == "warning" and problem.line == 1
    assert "was not needed: the header repeats no field" in problem.message
    assert ds.files[0].repairs == []


def test_repair_does_not_hide_a_real_column(tmp_path):
    text = "Entity,Code,Year,Year,Gini\nAlbania,ALB,1996,1996,27\nAlbania,ALB,2002,2002,31.7\n"
    data = folder(tmp_path, {"owid_grapher/g.csv": text.encode()}, SOURCE.replace(SOCX_TOTAL, "owid_grapher/g.csv")
                  + REPAIR)
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    [problem] = err.value.problems
    assert problem.line == 1 and "the lines have a value under each" in problem.message
    assert "does not apply to this file" in problem.hint


def test_repair_on_a_layout_without_a_csv_header(tmp_path):
    name = "ilostat/LAI_INDE_NOC_RT_A_EN.xlsx"
    source = f"  - id: ilo\n    path: {name}\n    layout: ilostat_excel\n    publisher: ILO\n" + REPAIR
    with pytest.raises(UserError) as err:
        load(folder(tmp_path, {name: real_bytes(name)}, source), tmp_path)
    [problem] = err.value.problems
    assert "apply to CSV files whose first line is the header, not to layout 'ilostat_excel'" in problem.message

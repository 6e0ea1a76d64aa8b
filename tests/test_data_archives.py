"""Workbooks and zip archives are checked before anything in them is parsed; a Stata file is read from
inside its archive; a file's own vintage wins over a declared one, with a warning; the data cache lives
beside the config folder."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from sesreport.data import readers
from sesreport.data.cache import default_cache_dir
from sesreport.errors import UserError
from tests.test_data_errors import folder, load, real_bytes
from tests.test_data_real import one

INSPECTORS = "ilostat/LAI_INDE_NOC_RT_A_EN.xlsx"


def bomb(path: Path, member: str = "xl/worksheets/sheet1.xml") -> Path:
    """A small archive whose member expands a thousandfold."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, b"\0" * (4 << 20))
    return path


def test_zip_bomb_workbook_is_refused_before_parsing(tmp_path):
    path = bomb(tmp_path / "LAI_INDE_NOC_RT_A_EN.xlsx")
    assert path.stat().st_size < 64 * 1024
    with pytest.raises(readers.FileUnreadable) as err:
        readers.read_ilostat_excel(path, "x.xlsx")
    assert "would expand to 4 MB" in err.value.problem.message and "zip bomb" in err.value.problem.message
    source = f"  - id: ilo\n    path: {INSPECTORS}\n    layout: ilostat_excel\n    publisher: ILO\n"
    with pytest.raises(UserError) as err:
        load(folder(tmp_path / "d", {INSPECTORS: path.read_bytes()}, source), tmp_path / "d")
    assert "zip bomb" in err.value.problems[0].message


def test_zip_bomb_archive_is_refused(tmp_path):
    path = bomb(tmp_path / "world.zip", "data.dta")
    with pytest.raises(readers.FileUnreadable, match="zip bomb"):
        readers.read_stata(path, "world.zip", readers.ReadOptions("stata", year=2016))


def dta(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_stata(out, write_index=False, variable_labels={"leave": "Is paid annual leave available to workers?"})
    return out.getvalue()


def test_stata_member_and_year_are_declared(tmp_path):
    frame = pd.DataFrame({"country": ["Kazakhstan", "Peru"], "iso3": ["KAZ", "PER"], "leave": [3.0, 5.0]})
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a/first.dta", dta(frame))
        z.writestr("b/second.dta", dta(frame.assign(leave=[4.0, 4.0])))
        z.writestr("dictionary.pdf", b"%PDF-1.4")
    files = {"other/law.zip": archive.getvalue()}
    source = ("  - id: law\n    path: other/law.zip\n    layout: stata\n    publisher: Team\n"
              "    map: {leave: paid_annual_leave}\n")
    with pytest.raises(UserError) as err:
        load(folder(tmp_path, files, source), tmp_path)
    [problem] = err.value.problems
    assert "2 members match '*.dta' in the archive" in problem.message and "a/first.dta" in problem.hint
    data = folder(tmp_path / "b", files, source + "    member: second.dta\n")
    with pytest.raises(UserError) as err:
        load(data, tmp_path / "b")
    [problem] = err.value.problems
    assert problem.message == "one cross-section without a year column" and "`year:`" in problem.hint
    data = folder(tmp_path / "c", files, source + "    member: second.dta\n    year: 2016\n")
    ds = load(data, tmp_path / "c")
    kaz = one(ds.obs, iso3="KAZ")
    assert (kaz["indicator"], kaz["value"], kaz["year"], kaz["line"]) == ("paid_annual_leave", 4, 2016, 1)


def test_category_codes_outside_the_catalog_are_refused(tmp_path):
    frame = pd.DataFrame({"iso3": ["KAZ", "PER"], "leave": [3.0, 7.0]})
    source = ("  - id: law\n    path: other/law.dta\n    layout: stata\n    year: 2016\n    publisher: Team\n"
              "    map: {leave: paid_annual_leave}\n")
    with pytest.raises(UserError) as err:
        load(folder(tmp_path, {"other/law.dta": dta(frame)}, source), tmp_path)
    [problem] = err.value.problems
    assert problem.line == 2
    assert "leave = 7 is not one of the codes of paid_annual_leave (1, 2, 3, 4, 5)" in problem.message


def test_declared_vintage_contradicting_the_file_is_a_warning(tmp_path):
    source = f"  - id: ilo\n    path: {INSPECTORS}\n    publisher: ILO\n    vintage: 2022-01-01\n"
    ds = load(folder(tmp_path, {INSPECTORS: real_bytes(INSPECTORS)}, source), tmp_path)
    assert ds.files[0].layout == "ilostat_excel"  # recognised from its banner row
    assert (ds.files[0].vintage, ds.files[0].vintage_from) == ("2021-04-18", "file")
    [problem] = [p for p in ds.problems if "vintage" in p.message]
    assert problem.severity == "warning"
    assert "declares vintage 2022-01-01 for source 'ilo', but the file states 2021-04-18 (file)" in problem.message


def test_default_cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("SESREPORT_CACHE", raising=False)
    (tmp_path / "project" / "config").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert default_cache_dir("project/config") == tmp_path / "project" / ".cache"
    assert default_cache_dir() == Path(readers.__file__).resolve().parents[3] / ".cache"  # the checkout's
    monkeypatch.setenv("SESREPORT_CACHE", str(tmp_path / "elsewhere"))
    assert default_cache_dir("project/config") == tmp_path / "elsewhere"

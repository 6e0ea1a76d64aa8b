"""Nothing outside the project is read: data paths and symbolic links resolve inside the data folder,
narrative files inside the config folder, or are refused before anything is opened, and a refusal
never quotes the file it refused. An audit hook on `open` in a subprocess checks the last part."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sesreport.cli import main
from sesreport.errors import UserError
from tests.conftest import CONFIG, REPO
from tests.test_data_errors import META, UNEMP, UNION, folder, load, real_bytes

PASSWD_MARK = "root:x:0:0"
WDI = f"""  - id: wdi
    path: "{UNEMP}"
    layout: wdi_api
    publisher: World Bank
"""


def elsewhere(tmp_path: Path) -> Path:
    """A real ILOSTAT file outside the data folder, the target of the links below."""
    target = tmp_path / "elsewhere" / "ILR_TUMT_NOC_RT_A.csv"
    target.parent.mkdir()
    target.write_bytes(real_bytes(UNION))
    return target


def only_problem(data: Path, tmp_path: Path):
    with pytest.raises(UserError) as err:
        load(data, tmp_path)
    errors = [p for p in err.value.problems if p.severity == "error"]
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.parametrize("path, what", [
    ("/etc/passwd", "the path '/etc/passwd' is absolute"),
    ("../../../../../../../../etc/passwd", "'../../../../../../../../etc/passwd' leads outside the data folder"),
])
def test_a_path_outside_the_data_folder_is_refused(tmp_path, path, what):
    source = f"  - id: evil\n    path: \"{path}\"\n    publisher: X\n"
    data = folder(tmp_path, {UNEMP: real_bytes(UNEMP)}, WDI + source)
    problem = only_problem(data, tmp_path)
    assert (problem.file, problem.line) == (str(data / "sources.yaml"), 9)
    assert problem.message.startswith(f"source 'evil': {what}")
    assert "nothing outside" in problem.message and "copy the file into the data folder" in problem.hint
    assert PASSWD_MARK not in str(problem)


def test_a_link_to_a_file_elsewhere_is_refused(tmp_path):
    data = folder(tmp_path, {UNEMP: real_bytes(UNEMP)},
                  WDI + "  - id: ilo\n    path: \"ilostat/*.csv\"\n    publisher: ILO\n")
    (data / "ilostat").mkdir()
    (data / UNION).symlink_to(elsewhere(tmp_path))
    problem = only_problem(data, tmp_path)
    assert (problem.file, problem.line) == (str(data / "sources.yaml"), 9)
    assert problem.message == ("source 'ilo': 'ilostat/ILR_TUMT_NOC_RT_A.csv' is a link to a file outside the data "
                               "folder; refused, nothing outside the data folder is read")


def test_a_linked_folder_is_refused_and_a_link_inside_is_read(tmp_path):
    data = folder(tmp_path, {UNEMP: real_bytes(UNEMP)},
                  WDI + "  - id: ilo\n    path: \"ilostat/*.csv\"\n    publisher: ILO\n")
    target = elsewhere(tmp_path)
    (data / "ilostat").symlink_to(target.parent, target_is_directory=True)
    problem = only_problem(data, tmp_path)
    assert "'ilostat/ILR_TUMT_NOC_RT_A.csv' is a link to a file outside the data folder" in problem.message
    # a link that stays inside the folder is fine
    (data / "ilostat").unlink()
    (data / "store").mkdir()
    shutil.copy(target, data / "store")
    (data / "ilostat").symlink_to(data / "store", target_is_directory=True)
    ds = load(data, tmp_path)
    kept = ds.resolved[(ds.resolved["indicator"] == "union_density") & (ds.resolved["iso3"] == "KAZ")]
    assert len(kept) > 0 and set(kept["file"]) == {"ilostat/ILR_TUMT_NOC_RT_A.csv"}


def test_a_data_folder_sources_yaml_linking_elsewhere_is_refused(tmp_path):
    data = folder(tmp_path, {UNEMP: real_bytes(UNEMP)}, WDI)
    outside = tmp_path / "elsewhere.yaml"
    (data / "sources.yaml").rename(outside)
    (data / "sources.yaml").symlink_to(outside)
    problem = only_problem(data, tmp_path)
    assert problem.message.startswith("'sources.yaml' is a link to a file outside the data folder; refused")


@pytest.mark.parametrize("countries", ["/etc/passwd", "../elsewhere/*.csv"])
def test_the_classification_file_must_be_inside(tmp_path, countries, capsys):
    """An absolute path here was a NotImplementedError from pathlib; `../` read another folder."""
    data = folder(tmp_path, {UNEMP: real_bytes(UNEMP)}, WDI)
    elsewhere(tmp_path)
    text = (data / "sources.yaml").read_text().replace(f"path: {META}", f"path: \"{countries}\"")
    (data / "sources.yaml").write_text(text)
    assert main(["data", "check", "--data", str(data), "--config", str(CONFIG), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert f"{data / 'sources.yaml'}:2: countries:" in " ".join(err.split())
    assert "Traceback" not in err and PASSWD_MARK not in err


def test_a_datapackage_linking_elsewhere_refuses_its_data_file(tmp_path):
    long_file = "wdi_datahub/sl.uem.totl.fe.zs/data.csv"
    real = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
    source = f"  - id: hub\n    path: \"{long_file}\"\n    layout: wdi_long\n    publisher: World Bank\n"
    data = folder(tmp_path, {long_file: (real / long_file).read_bytes()}, source)
    package = tmp_path / "datapackage.json"
    package.write_text(json.dumps({"name": "x", "resources": []}))
    (data / long_file).parent.joinpath("datapackage.json").symlink_to(package)
    problem = only_problem(data, tmp_path)
    assert "'wdi_datahub/sl.uem.totl.fe.zs/datapackage.json' is a link to a file outside the data folder" \
        in problem.message
    assert problem.message.endswith(f"{data / long_file}, read along with it, was not read either")


@pytest.mark.parametrize("how", ["path", "link"])
def test_a_narrative_file_must_be_inside_the_config_folder(tmp_path, capsys, how):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    country = config / "countries" / "IDN.yaml"
    if how == "link":
        (config / "narratives" / "IDN.en.md").unlink()
        (config / "narratives" / "IDN.en.md").symlink_to("/etc/passwd")
    else:
        country.write_text(country.read_text().replace("narratives/IDN.en.md", "../../../../../../etc/passwd"))
    line = next(i for i, text in enumerate(country.read_text().splitlines(), 1) if "file:" in text)
    assert main(["validate", "--config", str(config), "--data", str(REPO / "demo" / "data")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{country}:{line}: narrative file" in err and "is outside the config folder" in err
    assert PASSWD_MARK not in err


AUDIT = """
import os, sys
opened = []
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        opened.append(os.path.realpath(os.fsdecode(args[0])))
sys.addaudithook(hook)
from sesreport.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as fh:
    fh.write("\\n".join(opened))
sys.exit(code)
"""


def test_nothing_outside_the_project_is_opened(tmp_path):
    """`data check` and `build` over a folder that names, links and globs its way out: an audit hook
    on `open` sees only the project's folders, Python's own files, the time zone database and
    matplotlib's font list."""
    secret = elsewhere(tmp_path)
    sources = (WDI + "  - id: ilo\n    path: \"ilostat/*.csv\"\n    publisher: ILO\n"
               f"  - id: up\n    path: \"../elsewhere/*.csv\"\n    publisher: X\n"
               f"  - id: absolute\n    path: \"{secret}\"\n    publisher: X\n")
    data = folder(tmp_path, {UNEMP: real_bytes(UNEMP)}, sources)
    (data / "ilostat").mkdir()
    (data / UNION).symlink_to(secret)
    (data / "linked").symlink_to(secret.parent, target_is_directory=True)
    (data / ".fetch.json").symlink_to(secret)
    import matplotlib

    allowed = [str(p) for p in (data, CONFIG, REPO, tmp_path / "out", tmp_path / "log", Path(sys.prefix),
                                Path(sys.base_prefix), Path("/usr/share/zoneinfo"), Path(matplotlib.get_cachedir()))]
    (tmp_path / "log").mkdir()
    for n, command in enumerate([["data", "check", "--no-cache"], ["build", "IDN", "--no-cache", "--out",
                                                                   str(tmp_path / "out")]]):
        log = tmp_path / "log" / f"{n}.txt"
        run = subprocess.run([sys.executable, "-c", AUDIT, str(log), *command, "--data", str(data),
                              "--config", str(CONFIG)], capture_output=True, text=True, cwd=REPO, timeout=300,
                             env={**os.environ, "SESREPORT_CACHE": str(tmp_path / "out" / "cache")})
        assert run.returncode == 2, run.stderr
        err = " ".join((run.stdout + run.stderr).split())  # data check reports on stdout
        for refused in ("'ilostat/ILR_TUMT_NOC_RT_A.csv' is a link to a file outside the data folder",
                        "'../elsewhere/ILR_TUMT_NOC_RT_A.csv' leads outside the data folder",
                        f"the path '{secret}' is absolute"):
            assert refused in err
        assert "Traceback" not in err and "ref_area" not in err  # nothing of the refused file is quoted
        opened = set(log.read_text().splitlines())
        assert str(secret) not in opened
        outside = sorted(p for p in opened if p.startswith("/")
                         and not any(p == root or p.startswith(root + os.sep) for root in allowed))
        assert outside == []
        assert str(data / UNEMP) in opened and str(data / META) in opened  # the hook did see the reads


def test_a_linked_narrative_is_not_opened(tmp_path):
    """`validate` and `build` with a narrative file that links outside the config folder: refused with
    the line of the country file, and the audit hook never sees the target opened."""
    secret = elsewhere(tmp_path)
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "narratives" / "IDN.en.md").unlink()
    (config / "narratives" / "IDN.en.md").symlink_to(secret)
    country = config / "countries" / "IDN.yaml"
    line = next(i for i, text in enumerate(country.read_text().splitlines(), 1) if "file:" in text)
    (tmp_path / "log").mkdir()
    for n, command in enumerate([["validate"], ["build", "IDN", "--out", str(tmp_path / "out")]]):
        log = tmp_path / "log" / f"{n}.txt"
        run = subprocess.run([sys.executable, "-c", AUDIT, str(log), *command, "--config", str(config),
                              "--data", str(REPO / "demo" / "data")], capture_output=True, text=True, cwd=REPO,
                             timeout=300)
        assert run.returncode == 2
        err = " ".join(run.stderr.split())
        assert f"{country}:{line}: narrative file 'narratives/IDN.en.md' is outside the config folder" in err
        assert "Traceback" not in err and "ref_area" not in err
        assert str(secret) not in set(log.read_text().splitlines())

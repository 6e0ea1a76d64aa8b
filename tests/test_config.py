"""Country configs: shared defaults, and every mistake reported at once with file, line and a hint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sesreport.cli import main
from sesreport.config import merge
from sesreport.errors import UserError
from sesreport.project import check_project, load_project
from tests.conftest import CONFIG, REPO

DEMO = REPO / "demo" / "data"


@pytest.fixture
def config(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    return target


def write(config: Path, name: str, text: str) -> Path:
    path = config / "countries" / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(config: Path, known: set[str] | None = None) -> list[str]:
    with pytest.raises(UserError) as err:
        project = load_project(config)
        if known is not None:
            check_project(project, known)
    return [str(p) for p in err.value.problems]


def test_country_file_holds_only_what_differs():
    project = load_project(CONFIG)
    rus, ukr = project.countries["RUS"].config, project.countries["UKR"].config
    assert rus.peers.group == "list" and "KAZ" in rus.peers.countries
    assert (ukr.peers.group, ukr.peers.size) == ("nearest", 10)  # the size is the default's
    assert project.countries["SEN"].config.peers.group == "region_income"  # the default, not in SEN.yaml
    # both inherit the sections and key figures from config/defaults.yaml
    assert list(rus.sections) == list(ukr.sections) == ["labour_market", "income_poverty", "gender", "health",
                                                        "representation"]
    assert rus.key_figures == ukr.key_figures
    assert rus.stale_after == 5


def test_merge_rules():
    base = {"a": 1, "sections": {"x": {"indicators": ["u"], "charts": [1]}, "y": {"indicators": ["v"]}}}
    over = {"sections": {"x": {"indicators": ["w"]}, "y": None}, "b": 2}
    assert merge(base, over) == {"a": 1, "b": 2, "sections": {"x": {"indicators": ["w"], "charts": [1]}}}


def test_unknown_indicator_with_suggestion(config):
    write(config, "RUS.yaml", "country: RUS\nkey_figures: [unemploymnt, gini]\n")
    assert problems(config) == [
        f"{config.name}/countries/RUS.yaml:2: unknown indicator 'unemploymnt' (did you mean 'unemployment'?)"
        .replace(f"{config.name}/", str(config) + "/")
    ]


def test_unknown_country_and_peer(config):
    write(config, "KAX.yaml", "country: KAX\n")
    write(config, "RUS.yaml", "country: RUS\npeers:\n  group: list\n  countries: [KAZ, UKR, BLZ, KGZ]\n")
    found = problems(config, known={"RUS", "KAZ", "UKR", "KGZ", "BLR", "IDN"})
    assert any(p.endswith("countries/KAX.yaml:1: unknown country 'KAX' (did you mean 'KAZ'?)") for p in found), found
    assert any(p.endswith("countries/RUS.yaml:4: unknown country 'BLZ' (did you mean 'BLR'?)") for p in found), found


def test_bad_yaml(config):
    write(config, "KAZ.yaml", "country: KAZ\npeers: {group: income\nsummary: x\n")
    [found] = [p for p in problems(config) if "KAZ.yaml" in p]
    assert "countries/KAZ.yaml:3: invalid YAML" in found
    assert "indentation" in found


def test_wrong_type_and_misspelt_key(config):
    write(config, "UKR.yaml", "country: UKR\nstale_after: five\nsectons: {}\n")
    found = [p for p in problems(config) if "UKR.yaml" in p]
    assert any("UKR.yaml:2: stale_after: Input should be a valid integer" in p and "'five'" in p for p in found), found
    misspelt = "UKR.yaml:3: unknown key 'sectons' in the top level (did you mean 'sections'?)"
    assert any(misspelt in p for p in found), found


def test_every_mistake_at_once(config):
    write(config, "UKR.yaml", "country: UKR\nstale_after: five\n")
    write(config, "IDN.yaml", "country: IDN\nkey_figures: [gni]\n")
    write(config, "KAZ.yaml", "country: KAZ\nlanguages: [kk]\n")
    found = problems(config)
    assert {Path(p.split(":")[0]).name for p in found} == {"UKR.yaml", "IDN.yaml", "KAZ.yaml"}
    assert any("KAZ.yaml:2: languages.0: 'kk' is not allowed" in p for p in found), found


def test_mistake_in_defaults_points_at_defaults(config):
    text = (config / "defaults.yaml").read_text()
    (config / "defaults.yaml").write_text(text.replace("[unemployment_female, employment_ratio,",
                                                       "[unemployment_femal, employment_ratio,"))
    found = problems(config)
    assert len(found) == 1  # once, not once per country
    assert "defaults.yaml:" in found[0] and "unknown indicator 'unemployment_femal'" in found[0]
    assert "did you mean 'unemployment_female'?" in found[0]


def test_file_name_must_match_country(config):
    write(config, "RUS.yaml", "country: KAZ\n")
    [found] = problems(config)
    assert "RUS.yaml:1: the file is named RUS.yaml but says country: KAZ" in found


def test_cli_validate(config, capsys):
    assert main(["validate", "--config", str(config), "--data", str(DEMO)]) == 0
    assert "OK: 6 country configs" in capsys.readouterr().out
    write(config, "IDN.yaml", "country: IDN\nkey_figures: [gni]\n")
    assert main(["validate", "--config", str(config), "--data", str(DEMO)]) == 2
    err = capsys.readouterr().err
    assert "IDN.yaml:2: unknown indicator 'gni'" in err and "Traceback" not in err


def test_build_with_config_error_writes_nothing(config, tmp_path, capsys):
    write(config, "IDN.yaml", "country: IDN\nkey_figures: [gni]\n")
    out = tmp_path / "out"
    assert main(["build", "--config", str(config), "--data", str(DEMO), "--out", str(out)]) == 2
    assert not out.exists()
    assert "nothing was written" in capsys.readouterr().err


def test_build_unknown_country_argument(tmp_path, capsys):
    assert main(["build", "RUSS", "--data", str(DEMO), "--out", str(tmp_path / "o")]) == 2
    assert "no configuration for 'RUSS' (did you mean 'RUS'?)" in capsys.readouterr().err


def test_usage_error_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["build", "--jobs", "many"])
    assert exc.value.code == 2


def test_narrative_in_a_markdown_file(config):
    project = load_project(config)
    [block] = project.countries["IDN"].config.summary
    assert block.text["en"].startswith("The programme's indicators and surveys")
    assert block.source("en") == "narratives/IDN.en.md"


def test_narrative_file_missing_or_outside_the_config(config):
    write(config, "IDN.yaml", "country: IDN\nsummary:\n  - file: {en: narratives/nowhere.md}\n"
                              "  - file: {en: ../../etc/passwd}\n")
    found = problems(config)
    assert any("IDN.yaml:3: narrative file 'narratives/nowhere.md' not found" in p for p in found), found
    assert any("IDN.yaml:4: narrative file '../../etc/passwd' is outside the config folder" in p for p in found), found


def test_narrative_needs_text_or_file(config):
    write(config, "IDN.yaml", "country: IDN\nsummary:\n  - when: ind.gini.has_data\n")
    [found] = problems(config)
    assert "IDN.yaml:3:" in found and "give either 'text' or 'file'" in found

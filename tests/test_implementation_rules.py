"""The implementation report's rules at their edges, on small hand-made states: exactly the number of
indicators the rule asks for, a latest year on the boundary of the biennium, an area that exists only
as an aggregate, a register country that is not a member State, a use outside the biennium; and the
programme and register files' mistakes, reported with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from sesreport.programme.config import DataRule, Entry, Result, Rule, UseRule, date_period, load_programme
from sesreport.programme.rules import evaluate, state_of
from tests.conftest import CONFIG

FORMS = {"a1": "income", "a2": "income", "b1": "job", "c1": "skill_reproduction", "x": None}
DATA = Rule(data_generated=DataRule(min_indicators=3, min_forms=2))


def rows(*obs: tuple[str, str, int]) -> pd.DataFrame:
    """Resolved observations: (iso3, indicator, year), each on its own line of one file."""
    return pd.DataFrame([{"iso3": c, "indicator": i, "year": y, "value": 1.0, "file": "f.csv", "line": n + 2}
                         for n, (c, i, y) in enumerate(obs)],
                        columns=["iso3", "indicator", "year", "value", "file", "line"])


def entry(country: str, when: str, kind: str = "meeting", ident: str = "e1") -> Entry:
    return Entry(id=ident, country=country, date=when, activity="project", delivered={"en": "x"},
                 result=Result(type=kind, text={"en": "x"}), reference="test")


def test_exactly_the_number_of_indicators_asked_for_counts_and_one_fewer_does_not():
    state = state_of(rows(("AAA", "a1", 2001), ("AAA", "a2", 2001), ("AAA", "b1", 2000),
                          ("BBB", "a1", 2001), ("BBB", "b1", 2001)),
                     FORMS, {"AAA", "BBB"}, set(), ())
    out = evaluate("t", DATA, "2000-2001", state)
    assert [f.iso3 for f in out.counted] == ["AAA"]
    assert out.data_generated == ("AAA",)
    near = {f.iso3: f for f in out.near}
    assert near["BBB"].lacks == ("indicators",)
    assert len(near["BBB"].data.evidence) == 2
    # three indicators of one form only: enough indicators, too few forms
    single = state_of(rows(("CCC", "a1", 2001), ("CCC", "a2", 2001), ("CCC", "x", 2001)), FORMS, {"CCC"}, set(), ())
    assert evaluate("t", DATA, "2000-2001", single).near[0].lacks == ("forms",)


def test_a_latest_year_on_the_boundary_of_the_biennium():
    obs = rows(("FIRST", "a1", 2000), ("FIRST", "b1", 2000), ("FIRST", "c1", 2000),
               ("BEFORE", "a1", 1999), ("BEFORE", "b1", 2001), ("BEFORE", "c1", 2001),
               # a value after the biennium is not looked at: the latest up to 2001 is 1999
               ("LATER", "a1", 1999), ("LATER", "a1", 2002), ("LATER", "b1", 2001), ("LATER", "c1", 2001))
    state = state_of(obs, FORMS, {"FIRST", "BEFORE", "LATER"}, set(), ())
    out = evaluate("t", DATA, "2000-2001", state)
    assert [f.iso3 for f in out.counted] == ["FIRST"]
    later = next(f for f in out.near if f.iso3 == "LATER")
    assert sorted(e.indicator for e in later.data.evidence) == ["b1", "c1"]
    # a window opened one year before the biennium takes 1999 in
    wider = Rule(data_generated=DataRule(min_indicators=3, min_forms=2, years_before=1))
    assert [f.iso3 for f in evaluate("t", wider, "2000-2001", state).counted] == ["BEFORE", "FIRST", "LATER"]
    # the last year of the biennium is inside it, the year after is not
    last = state_of(rows(("LAST", "a1", 2003), ("LAST", "b1", 2003), ("LAST", "c1", 2003)), FORMS, {"LAST"}, set(), ())
    assert [f.iso3 for f in evaluate("t", DATA, "2002-2003", last).counted] == ["LAST"]
    assert evaluate("t", DATA, "2000-2001", last).counted == ()


def test_an_area_that_exists_only_as_an_aggregate_never_counts():
    obs = rows(("EUU", "a1", 2001), ("EUU", "b1", 2001), ("EUU", "c1", 2001), ("AAA", "a1", 2001))
    state = state_of(obs, FORMS, {"AAA"}, {"EUU"}, (entry("EUU", "2001-06"),))
    out = evaluate("t", Rule(data_generated=DataRule(min_indicators=3, min_forms=2),
                             used=UseRule(results=("meeting",))), "2000-2001", state)
    assert set(state.obs["iso3"]) == {"AAA"}
    assert out.counted == () and out.data_generated == ()
    assert [e.country for e in out.not_members] == ["EUU"]


def test_a_register_country_that_is_not_a_member_state_is_reported_not_counted():
    register = (entry("TWN", "2001-03", ident="twn"), entry("AAA", "2001-11", ident="aaa"))
    state = state_of(rows(("AAA", "a1", 2001)), FORMS, {"AAA"}, {"AAA", "TWN"}, register)
    out = evaluate("t", Rule(used=UseRule(results=("meeting",))), "2000-2001", state)
    assert [f.iso3 for f in out.counted] == ["AAA"]
    assert [(e.id, e.country) for e in out.not_members] == [("twn", "TWN")]


def test_a_use_counts_only_inside_the_biennium_and_with_a_strategy_input():
    register = (entry("AAA", "2001-12-31", ident="in"), entry("BBB", "2002-01", ident="after"),
                entry("CCC", "2001-2002", ident="straddles"), entry("DDD", "2001", ident="nostrategy"),
                entry("EEE", "2001", kind="data", ident="notause"))
    state = state_of(rows(), FORMS, {"AAA", "BBB", "CCC", "DDD", "EEE"}, {"AAA", "BBB", "CCC", "EEE"}, register)
    rule = Rule(used=UseRule(results=("meeting", "decree")))
    out = evaluate("t", rule, "2000-2001", state)
    assert [f.iso3 for f in out.counted] == ["AAA"]
    lacks = {f.iso3: f.lacks for f in out.near}
    assert lacks == {"BBB": ("use",), "CCC": ("use",), "DDD": ("strategy_input",), "EEE": ("use",)}
    # the next biennium: BBB's use counts, AAA's is the last one before it
    nxt = evaluate("t", rule, "2002-2003", state)
    assert [f.iso3 for f in nxt.counted] == ["BBB"]
    assert next(f for f in nxt.near if f.iso3 == "AAA").use.last_use.id == "in"


def test_register_dates_mean_what_the_source_says():
    assert (date_period("2001-11").start.isoformat(), date_period("2001-11").end.isoformat()) == ("2001-11-01",
                                                                                                    "2001-11-30")
    assert date_period("2000-2001").end.isoformat() == "2001-12-31"
    assert date_period("2001-06-15").start == date_period("2001-06-15").end
    with pytest.raises(ValueError, match="no month 13"):
        date_period("2001-13")


def copy_config(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    return config


def test_mistakes_in_the_register_are_reported_with_file_and_line(tmp_path):
    config = copy_config(tmp_path)
    path = config / "activities.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('date: "2001-06"', 'date: "2001-13"').replace("activity: survey", "activity: surveys", 1)
    text = text.replace("id: ukr-monitoring-tools", "id: rus-integrated-poverty-strategy")
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    programme, problems = load_programme(config)
    assert programme is None
    found = {(p.line, p.message.split(":")[0]) for p in problems}
    assert all(p.file.endswith("activities.yaml") for p in problems)
    date_line = lines.index('    date: "2001-13"') + 1
    survey_line = lines.index("    activity: surveys") + 1
    assert (date_line, "activities.1.date") in found
    assert any(p.line == date_line and "no month 13" in p.message for p in problems)
    assert any(p.line == survey_line and "'surveys' is not allowed" in p.message for p in problems)


def test_a_duplicate_id_and_a_missing_translation_are_reported(tmp_path):
    config = copy_config(tmp_path)
    path = config / "activities.yaml"
    text = path.read_text(encoding="utf-8").replace("id: ukr-monitoring-tools", "id: kaz-social-protection-concept")
    text = text.replace('      es: "el Gobierno de Kazajstán"\n', "")
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    _, problems = load_programme(config)
    messages = {(p.line, p.message) for p in problems}
    assert (lines.index("  - id: kaz-social-protection-concept", lines.index("  - id: kaz-social-protection-concept")
                        + 1) + 1, "the activity id 'kaz-social-protection-concept' is used twice") in messages
    to_line = [i for i, line in enumerate(lines) if line == "    to:"][1] + 1
    assert (to_line, "this text has no version in es") in messages


def test_a_target_for_something_that_is_not_a_biennium_is_an_error(tmp_path):
    config = copy_config(tmp_path)
    path = config / "programme.yaml"
    text = path.read_text(encoding="utf-8").replace('targets: {"2000-2001": 12}', 'targets: {"2000-01": 12}')
    path.write_text(text, encoding="utf-8")
    _, problems = load_programme(config)
    line = next(i for i, t in enumerate(text.splitlines()) if "2000-01" in t) + 1
    assert [(p.line, p.message) for p in problems] == [
        (line, "objectives.0.operational.0.indicators.0.targets: '2000-01' is not a biennium; write two consecutive "
               "years, e.g. 2000-2001 (got dict)")]

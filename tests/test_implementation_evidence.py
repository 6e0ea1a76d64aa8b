"""The evidence the implementation report's data rules rest on, read column by column from the real
observations: for every member State the same observations, in the same order and with the same values,
files and lines as reading the latest observations row by row, and the exact figures of the Russian
Federation's evidence for 2000–2001 as the published files give them."""

from __future__ import annotations

import pytest

from sesreport.programme.config import DataRule, biennium_period
from sesreport.programme.rules import Evidence, evidence_by_country, latest_in_window
from tests.conftest import CONFIG


@pytest.fixture(scope="module")
def state(real_ds):
    from sesreport.documents.implementation import project_state
    from sesreport.project import load_project

    programme = load_project(CONFIG).configs["implementation"]
    return project_state(real_ds, programme, {"RUS", "KAZ"})


@pytest.mark.parametrize("biennium,years_before", [("2000-2001", 0), ("2002-2003", 2)])
def test_every_member_states_evidence_is_its_latest_observations_in_order(state, biennium, years_before):
    latest = latest_in_window(state, DataRule(min_indicators=1, years_before=years_before), biennium_period(biennium))
    by_country = evidence_by_country(latest, state.forms)
    row_by_row: dict[str, list[Evidence]] = {}
    for r in latest.itertuples(index=False):
        row_by_row.setdefault(str(r.iso3), []).append(Evidence(
            str(r.indicator), state.forms.get(str(r.indicator)), int(r.year), float(r.value), str(r.file),
            int(r.line)))
    assert by_country == row_by_row
    assert sum(map(len, by_country.values())) == len(latest) > 1000
    assert all(type(e.year) is int and type(e.line) is int and type(e.value) is float
               for evidence in by_country.values() for e in evidence)


def test_the_russian_federations_evidence_for_2000_2001(state):
    latest = latest_in_window(state, DataRule(min_indicators=1), biennium_period("2000-2001"))
    russia = {e.indicator: e for e in evidence_by_country(latest, state.forms)["RUS"]}
    assert russia["poverty_national"] == Evidence("poverty_national", "income", 2000, 29.0,
                                                  "wdi_api/poverty-raw-2021.csv", 5870)
    assert russia["unemployment_benefit_coverage"] == Evidence(
        "unemployment_benefit_coverage", "labour_market", 2000, 11.8,
        "ddf/unstats_sdg/ddf--datapoints--si_cov_uemp--by--geo_area--nature--sex--units--year.csv", 526)
    assert russia["unemployment_female"].value == 8.597 and russia["unemployment_female"].line == 6202

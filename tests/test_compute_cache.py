"""What a batch shares between documents gives the answers of the uncached path (issue 14).

The statistics read each indicator's series through a `Headline` kept on the dataset, the index's
evidence and ranked values are kept on the `IndexResult`, and the figures are written by
`jsondump`. On the real data: each of these equals what the series alone, a plain pandas
computation or `json.dumps` gives, for several countries and years, and nothing is carried from one
dataset, year or pickled result to another.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pickle

import numpy as np
import pandas as pd
import pytest

from sesreport import jsondump
from sesreport.compute import PROVENANCE, Headline, _sorted_median, _sorted_quantile, indicator_stat, peer_band
from sesreport.documents.peers import choose_peers
from sesreport.index import build_index, load_indices
from sesreport.project import load_project
from tests.conftest import CONFIG, REPO

COUNTRIES = ("RUS", "IDN", "UKR", "KAZ", "SEN")
INDICATORS = ("unemployment", "unemployment_female", "gini", "life_expectancy", "union_density", "poverty_300")


@pytest.fixture(scope="module")
def project():
    return load_project(CONFIG)


def peers_of(real_ds, project, iso3: str) -> list[str]:
    return list(choose_peers(real_ds, project.countries[iso3].config, 2026).countries)


def alone(real_ds, code: str, countries: list[str]) -> pd.DataFrame:
    """The indicator's series for these countries only, as a table of its own (other positions)."""
    h = real_ds.headline(code)
    return h[h["iso3"].isin(countries)].copy()


def same_stat(a, b) -> None:
    assert (a.latest, a.changes, a.stale, a.breaks) == (b.latest, b.changes, b.stale, b.breaks)
    assert (a.rank, a.rank_of, a.percentile, a.gap, a.position) == (b.rank, b.rank_of, b.percentile, b.gap, b.position)
    assert (a.peers is None) == (b.peers is None)
    if a.peers is not None:
        assert (a.peers.median, a.peers.low, a.peers.high, a.peers.n) == (b.peers.median, b.peers.low, b.peers.high,
                                                                          b.peers.n)
        assert a.peers.refs() == b.peers.refs()
        pd.testing.assert_frame_equal(a.peers.values, b.peers.values)
    pd.testing.assert_frame_equal(a.history, b.history)


def test_the_shared_table_gives_the_statistics_of_each_series_alone(real_ds, project):
    for iso3 in COUNTRIES:
        peers = peers_of(real_ds, project, iso3)
        for code in INDICATORS:
            ind = real_ds.catalog[code]
            for year in (2026, 2015):  # two documents' years from one table: nothing carried over
                shared = indicator_stat(real_ds.headline_table(code), iso3, peers, ind, code, year, 10, 5)
                own = indicator_stat(alone(real_ds, code, [iso3, *peers]), iso3, peers, ind, code, year, 10, 5)
                same_stat(shared, own)
    assert real_ds.headline_table("unemployment") is real_ds.headline_table("unemployment")  # built once


def test_the_statistic_is_the_plain_pandas_computation(real_ds, project):
    """The latest value, the peers' latest values within the window and their median, by hand."""
    peers = peers_of(real_ds, project, "RUS")
    stat = indicator_stat(real_ds.headline_table("unemployment"), "RUS", peers, real_ds.catalog["unemployment"],
                          "unemployment", 2026, 10, 5)
    # the World Bank's modelled rate for 2018, 5.061 (as the file writes it: 5.06099987030029), line 206
    assert (stat.latest.year, stat.latest.value, stat.latest.line) == (2018, 5.06099987030029, 206)
    h = real_ds.headline("unemployment")
    rows = h[h["iso3"].isin(peers) & h["year"].between(2013, 2018)]
    latest = rows.sort_values("year").groupby("iso3").tail(1).sort_values("iso3")
    assert [o.iso3 for o in stat.peers.observations] == latest["iso3"].tolist()
    assert [o.value for o in stat.peers.observations] == latest["value"].tolist()
    assert stat.peers.median == float(latest["value"].median())
    group = pd.concat([latest.set_index("iso3")["value"], pd.Series({"RUS": stat.latest.value})])
    assert stat.rank == int(group.rank(method="min", ascending=True)["RUS"])  # lower is better


def old_peer_band(headline, peers, first, last, min_peers=5, stability=0.8, carry=5) -> pd.DataFrame:
    """The band as computed before the series were shared: a pivot table per call."""
    rows = headline[headline["iso3"].isin(peers) & headline["year"].between(first - carry, last)]
    if not len(rows):
        return pd.DataFrame(columns=["year", "median", "low", "high", "n", "peers"])
    wide = rows.pivot_table(index="year", columns="iso3", values="value", aggfunc="last")
    wide = wide.reindex(range(first - carry, last + 1)).ffill(limit=carry).loc[first:last]
    values = wide.to_numpy(dtype=float)
    present = ~np.isnan(values)
    counts = present.sum(axis=1)
    enough = np.flatnonzero(counts >= max(min_peers, 1))
    if not len(enough):
        return pd.DataFrame(columns=["year", "median", "low", "high", "n", "peers"])
    reference = present[enough[-1]]
    keep = (counts >= max(min_peers, 1)) & ((present & reference).sum(axis=1) >= stability * (present | reference).sum(
        axis=1))
    keep &= np.r_[False, keep[:-1]] | np.r_[keep[1:], False]
    kept, codes = values[keep], np.array(wide.columns, dtype=str)
    return pd.DataFrame({"year": wide.index[keep].astype(int), "median": np.nanmedian(kept, axis=1),
                         "low": np.nanquantile(kept, 0.1, axis=1), "high": np.nanquantile(kept, 0.9, axis=1),
                         "n": counts[keep], "peers": [",".join(codes[row]) for row in present[keep]]})


@pytest.mark.parametrize("code", INDICATORS)
def test_the_band_from_the_shared_matrix_is_the_pivot_tables(real_ds, project, code):
    checked = 0
    for iso3 in COUNTRIES:
        peers = peers_of(real_ds, project, iso3)
        for first, last, carry in ((2001, 2025, 5), (2010, 2019, 1), (1990, 2000, 3)):
            new = peer_band(real_ds.headline_table(code), peers, first, last, carry=carry)
            old = old_peer_band(real_ds.headline(code), peers, first, last, carry=carry)
            if old.empty:
                assert new.empty
                continue
            checked += len(old)
            pd.testing.assert_frame_equal(new.reset_index(drop=True), old.reset_index(drop=True), check_exact=True)
    assert checked > 0


def test_the_band_statistics_are_numpys_bit_for_bit():
    """The band's median and percentiles, worked out for all its years at once from sorted rows, are
    what `np.median` and `np.quantile` give each year's values: the same bits, for one value to forty,
    ties and spreads of every size."""
    rng = np.random.default_rng(14)
    n = np.concatenate([np.arange(1, 41), rng.integers(1, 41, 400)])
    values = np.full((len(n), 40), np.nan)
    for row, count in enumerate(n):
        scale = 10.0 ** rng.integers(-3, 6)
        values[row, :count] = np.round(rng.lognormal(size=count) * scale, int(rng.integers(0, 4)))
    ordered = np.sort(values, axis=1)
    rows = [values[i, :count] for i, count in enumerate(n)]
    assert np.array_equal(_sorted_median(ordered, n), [np.median(r) for r in rows])
    for q in (0.1, 0.9, 0.25, 0.5):
        assert np.array_equal(_sorted_quantile(ordered, n, q), [np.quantile(r, q) for r in rows])


def test_a_changed_dataset_never_sees_the_tables_of_another(real_ds):
    table = real_ds.headline_table("unemployment")
    resolved = real_ds.resolved.copy()
    resolved.loc[(resolved["iso3"] == "RUS") & (resolved["indicator"] == "unemployment")
                 & (resolved["year"] == 2018), "value"] = 9.9
    changed = dataclasses.replace(real_ds, resolved=resolved)
    start, end = changed.headline_table("unemployment").rows("RUS", 2026)
    assert changed.headline_table("unemployment").obs(end - 1).value == 9.9
    assert real_ds.headline_table("unemployment") is table
    start, end = table.rows("RUS", 2026)
    assert table.obs(end - 1).value == 5.06099987030029


def test_an_unsorted_table_is_read_as_the_sorted_one(real_ds):
    h = real_ds.headline("gini")
    shuffled = h.sample(frac=1.0, random_state=7)
    a, b = Headline(h), Headline(shuffled)
    assert a.spans == b.spans and a.year_list == b.year_list
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert list(a.frame.columns) == PROVENANCE


@pytest.fixture(scope="module")
def ses(real_ds):
    spec = load_indices(REPO / "config", real_ds.catalog)["ses"]
    return build_index(spec, real_ds, draws=10)


def test_the_kept_evidence_is_the_filtered_inputs(ses):
    def by_filter(iso3: str, node: str) -> list[dict]:
        inputs = ses.inputs
        rows = inputs[(inputs["iso3"] == iso3) & inputs["in_index"].astype(bool)
                      & inputs["indicator"].isin(ses.leaves_of(node))]
        return [{"indicator": str(r.indicator), "iso3": iso3, "year": int(r.year), "value": float(r.value),
                 "source": str(r.source_id), "vintage": str(r.vintage), "file": str(r.file), "line": int(r.line)}
                for r in rows.itertuples(index=False)]

    nodes = ["overall", "overall.outcome", "labour_market", "income", "labour_market.outcome"]
    for iso3 in (*COUNTRIES, "ZAF", "XXX"):
        for node in nodes:
            assert ses.evidence(iso3, node) == by_filter(iso3, node)
    assert len(ses.evidence("RUS")) > 10
    first = ses.evidence("RUS", "labour_market")
    first[0]["value"] = math.nan  # a caller's change stays its own
    assert ses.evidence("RUS", "labour_market") == by_filter("RUS", "labour_market")
    assert ses.n_ranked("overall") == int((ses.status["overall"] == "ok").sum())


def test_what_the_result_keeps_is_neither_pickled_nor_copied(ses):
    ses.evidence("RUS")
    assert "_memo" in ses.__dict__
    again = pickle.loads(pickle.dumps(ses))
    assert "_memo" not in again.__dict__ and again.evidence("RUS") == ses.evidence("RUS")
    assert "_memo" not in ses.with_audit(ses.audit).__dict__


def test_the_figures_text_is_json_dumps(real_ds, project):
    from datetime import date

    from sesreport.documents.brief import build_brief
    from sesreport.i18n import Lang

    doc = build_brief(real_ds, project.countries["RUS"], Lang("ru"), date(2026, 11, 27), project.catalog)
    expected = json.dumps(doc.figures, indent=1, ensure_ascii=False, sort_keys=True)
    assert jsondump.dumps(doc.figures) == expected
    assert doc.figures_json() == expected.encode()
    shared = {"b": 1}
    odd = {"z": [shared, [shared], (), {}, [], (1.5, -0.0, 1e-7, 1e16, math.nan, math.inf, -math.inf)],
           "a": {2: "two", 1.5: "x", True: "t"}, "b": {None: "n"}, "m": "«\u2028\x00\"\\»", "n": None,
           "t": (True, False)}
    assert jsondump.dumps(odd) == json.dumps(odd, indent=1, ensure_ascii=False, sort_keys=True)
    with pytest.raises(TypeError):
        jsondump.dumps({"x": object()})

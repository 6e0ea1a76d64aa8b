"""The loaded tables stay compact: text columns categorical where millions of rows repeat a few texts,
the same values and choices as strings would give, and the cache keeps them so."""

from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np
import pandas as pd

from sesreport.data.load import load_dataset
from sesreport.data.mapping import row_keys

from .conftest import CONFIG, REPO

TEXT = ["iso3", "indicator", "sex", "breakdown", "source_id", "publisher", "source_code", "vintage", "file", "status"]


def _benchmark():
    spec = importlib.util.spec_from_file_location("benchmark_large_csv", REPO / "scripts" / "benchmark_large_csv.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_real_observations_and_resolved_values_are_categorical(real_ds):
    for table in (real_ds.obs, real_ds.aggregates, real_ds.resolved):
        for col in TEXT + (["chosen_by"] if table is real_ds.resolved else []):
            cats = table[col].cat.categories
            assert cats.is_monotonic_increasing, col  # sorting by the column sorts by its text
    assert str(real_ds.resolved["alternatives"].dtype) == "str"  # nearly a text a row
    # as strings the chosen values took 37.5 MiB, every file path once a row
    assert real_ds.resolved.memory_usage(deep=True).sum() < 10 * 2**20
    assert (len(real_ds.obs), len(real_ds.resolved), int(real_ds.resolved["candidates"].sum())) == (
        174619, 159826, 174619)
    row = real_ds.resolved[(real_ds.resolved["iso3"] == "KAZ") & (real_ds.resolved["indicator"] == "gini")
                           & (real_ds.resolved["year"] == 2001)].iloc[0]
    assert (row["value"], row["file"], row["line"], row["candidates"], row["chosen_by"]) == (
        36.0, "wdi_datahub/si.pov.gini/data.csv", 1268, 3, "newest_vintage")
    assert row["alternatives"] == "owid_gini  (2022-08-01): 35.4; wdi_poverty SI.POV.GINI (2021-09-15): 36"


def test_each_main_series_is_a_slice_of_the_resolved_table(real_ds):
    """`resolve` orders its rows by indicator, the main series first: each indicator's main series (no
    breakdown; the indicator's sex, or none), by country and year, is a run of rows, which
    `Dataset.headline` gives without copying the table. A table in another order gives the same series."""
    res = real_ds.resolved
    for code in real_ds.catalog:
        ind = real_ds.catalog[code]
        expected = res[(res["indicator"] == code) & (res["breakdown"] == "") & res["sex"].isin((ind.sex, ""))]
        expected = expected.sort_values(["iso3", "year"], kind="stable").reset_index(drop=True)
        rows = real_ds.headline(code)
        pd.testing.assert_frame_equal(rows, expected)
        if len(rows):
            assert np.shares_memory(rows["value"].to_numpy(), res["value"].to_numpy()), code
    assert len(real_ds.headline("unemployment")) == 5236
    reversed_rows = dataclasses.replace(real_ds, resolved=res.iloc[::-1].reset_index(drop=True))
    for code in ("unemployment", "life_expectancy", "gini"):
        copied = reversed_rows.headline(code)
        pd.testing.assert_frame_equal(copied, real_ds.headline(code))
        assert not np.shares_memory(copied["value"].to_numpy(), reversed_rows.resolved["value"].to_numpy())


def test_cache_gives_back_the_same_categorical_tables(real_dir, tmp_path):
    first = load_dataset(real_dir, CONFIG, cache_dir=tmp_path)
    second = load_dataset(real_dir, CONFIG, cache_dir=tmp_path)
    assert not first.from_cache and second.from_cache
    pd.testing.assert_frame_equal(first.obs, second.obs)  # categories included
    pd.testing.assert_frame_equal(first.aggregates, second.aggregates)
    pd.testing.assert_frame_equal(first.resolved, second.resolved)


def test_a_large_file_observations_take_less_than_the_file(tmp_path):
    data, lines = _benchmark().folder(tmp_path, 2_000_000)
    size = (data / "ilostat" / "ILR_TUMT_NOC_RT_A.csv").stat().st_size
    ds = load_dataset(data, CONFIG, use_cache=False)
    assert (size, lines, len(ds.obs), len(ds.aggregates), len(ds.resolved)) == (2045683, 51646, 42160, 9486, 1360)
    # as strings the observations took 4.3 times the file; as categories, under once
    assert ds.obs.memory_usage(deep=True).sum() < size
    assert set(ds.resolved["chosen_by"]) == {"source_code"}  # same length, same vintage: the source code decides
    first = ds.resolved.iloc[0]
    assert (first["iso3"], first["year"], first["source_code"], first["value"], first["candidates"]) == (
        "ARG", 1990, "BA:1", 12.96, 31)
    assert first["alternatives"].startswith("ilostat BA:10 (2026-01-01): 48.03; ilostat BA:11 (2026-01-01): 58.82; ")
    assert first["alternatives"].endswith("; ilostat BA:9 (2026-01-01): 50.5")


def test_row_keys_number_combinations_in_sorted_order():
    a = np.array([2, 1, 2, 1, 0], dtype=np.int8)
    b = np.array([5, 7, 5, 3, 9], dtype=np.int64)
    assert row_keys([a, b]).tolist() == [3, 2, 3, 1, 0]
    wide = np.array([0, 2 ** 40, 0], dtype=np.int64)  # products beyond 2**62 are renumbered first
    assert row_keys([wide, wide, wide, np.array([1, 0, 0])]).tolist() == [1, 2, 0]


def test_categorical_columns_become_the_strings_astype_gives(real_ds):
    from sesreport.data.dataset import as_text

    for table in (real_ds.obs, real_ds.aggregates):
        expected = table.copy()
        for col in table.columns:
            if isinstance(table[col].dtype, pd.CategoricalDtype):
                expected[col] = expected[col].astype("str")
        pd.testing.assert_frame_equal(as_text(table), expected)
    mixed = pd.DataFrame({"code": pd.Categorical([3, None, 1, 3]), "name": pd.Categorical(["b", "a", None, "b"]),
                          "value": [1.0, 2.0, 3.0, 4.0]}, index=[10, 11, 12, 13])
    text = as_text(mixed)
    assert text["code"].isna().tolist() == [False, True, False, False]
    assert text["name"].tolist()[:2] == ["b", "a"] and pd.isna(text["name"].iloc[2])
    pd.testing.assert_frame_equal(text, mixed.astype({"code": "str", "name": "str"}))


def test_main_series_rows_are_found_on_codes_as_on_texts():
    """`in_main_series` reads the columns' codes, not their texts: no breakdown, and the indicator's own
    sex or none; a missing text, or an indicator the catalog does not have, is not in a main series."""
    from sesreport.catalog import load_catalog
    from sesreport.data.dataset import in_main_series

    catalog = load_catalog(CONFIG / "indicators.yaml")
    rows = [("unemployment", "T", ""), ("unemployment", "", ""), ("unemployment", "F", ""),
            ("unemployment_female", "F", ""), ("unemployment_female", "T", ""), ("unemployment", "T", "15-24"),
            ("unemployment", None, ""), ("unemployment", "T", None), (None, "", ""), ("not_in_catalog", "", ""),
            ("not_in_catalog", "T", "")]
    table = pd.DataFrame(rows, columns=["indicator", "sex", "breakdown"], dtype=object)
    expected = [True, True, False, True, False, False, False, False, True, True, False]
    assert in_main_series(table, catalog).tolist() == expected
    assert in_main_series(table.astype("category"), catalog).tolist() == expected

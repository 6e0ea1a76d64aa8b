"""The index cache is keyed on what the index is computed from: a corrected value the index does not
read (a year after its reference year) reuses the cached result; a corrected input computes afresh,
and the new result carries the new value."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import sesreport.index as index_package
from sesreport.data.load import load_dataset
from sesreport.index import load_indices
from sesreport.index.cache import cached_index

from .conftest import CONFIG

HEALTH = "wdi_datahub/sp.dyn.le00.in/data.csv"  # life expectancy: a plausibility measure of the audit
EMPLOYMENT = "wdi_datahub/sl.emp.totl.sp.zs/data.csv"  # employment-to-population ratio: an index input


def revise(data: Path, file: str, old: bytes, new: bytes) -> None:
    """Replace one published line of a copied data file (its line ending kept)."""
    path = data / file
    text = path.read_bytes()
    assert text.count(old) == 1
    path.write_bytes(text.replace(old, new))


def test_index_recomputed_only_when_its_inputs_move(real_dir: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    data, cache = tmp_path / "data", tmp_path / "cache"
    shutil.copytree(real_dir, data)
    computed = []
    build_from = index_package.build_from
    monkeypatch.setattr(index_package, "build_from", lambda *a, **k: computed.append(1) or build_from(*a, **k))

    def index():
        ds = load_dataset(data, CONFIG, cache_dir=cache)
        return cached_index(load_indices(CONFIG, ds.catalog)["ses"], ds, cache)

    first = index()
    assert first.reference_year == 2019 and len(computed) == 1

    # 2024 is after the reference year: no input of the index or its audit moves
    revise(data, HEALTH, b"Indonesia,IDN,2024,71.288\r\n", b"Indonesia,IDN,2024,72.000\r\n")
    again = index()
    assert len(computed) == 1
    assert again.values.equals(first.values) and again.ranks.equals(first.ranks)
    assert len(list(cache.glob("index-ses-*.pickle"))) == 1

    # Indonesia's 2019 employment ratio is an input: the index is computed again, from the new value
    revise(data, EMPLOYMENT, b"Indonesia,IDN,2019,65.789\r\n", b"Indonesia,IDN,2019,45.789\r\n")
    revised = index()
    assert len(computed) == 2
    assert len(list(cache.glob("index-ses-*.pickle"))) == 2
    assert revised.inputs.query("iso3 == 'IDN' and indicator == 'employment_ratio'")["value"].tolist() == [45.789]
    assert revised.values.loc["IDN", "labour_market"] < first.values.loc["IDN", "labour_market"]
    assert revised.values.loc["IDN", "overall"] < first.values.loc["IDN", "overall"]

    # the life expectancy of the reference year is a plausibility measure: a change computes afresh too
    revise(data, HEALTH, b"Indonesia,IDN,2019,70.349\r\n", b"Indonesia,IDN,2019,75.349\r\n")
    index()
    assert len(computed) == 3


def test_the_same_index_file_elsewhere_reuses_the_result_and_names_its_own_file(
        real_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key holds the index file's content, not its path: the configuration given by another path
    (a copy, or `./config` for `config`) reuses the result, which then names the file where it is."""
    cache, elsewhere = tmp_path / "cache", tmp_path / "elsewhere" / "config"
    shutil.copytree(CONFIG, elsewhere)
    computed = []
    build_from = index_package.build_from
    monkeypatch.setattr(index_package, "build_from", lambda *a, **k: computed.append(1) or build_from(*a, **k))
    ds = load_dataset(real_dir, CONFIG, cache_dir=cache)
    first = cached_index(load_indices(CONFIG, ds.catalog)["ses"], ds, cache)
    spec = load_indices(elsewhere, ds.catalog)["ses"]
    again = cached_index(spec, ds, cache)
    assert len(computed) == 1 and spec.file != first.spec.file
    assert again.spec is spec and again.method["index"]["file"] == spec.file
    assert again.values.equals(first.values) and again.ranks.equals(first.ranks)
    assert {k: v for k, v in again.method.items() if k != "index"} == {
        k: v for k, v in first.method.items() if k != "index"}

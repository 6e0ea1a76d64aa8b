"""The data cache keyed per file: after a new release of one file, that file alone is parsed and mapped
again and the others' read and mapped results come from the cache, giving the dataset a full read
gives; a changed catalog maps every file again without parsing any; an entry that is damaged, or
written by other code, is never trusted; old entries are pruned."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from sesreport.data import cache, load, readers
from sesreport.data.load import load_dataset
from sesreport.errors import UserError

from .conftest import CONFIG

HEALTH = "wdi_datahub/sp.dyn.le00.in/data.csv"  # life expectancy, WDI long file with its datapackage.json
IDN_2024 = b"Indonesia,IDN,2024,71.288\r\n"  # as published, with the file's own line ending
DATA_FILES = 38  # data files the real folder's sources.yaml declares and reads


@pytest.fixture(scope="module")
def primed(real_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the real data, loaded once with a cache: every file parsed, every read result kept."""
    root = tmp_path_factory.mktemp("primed")
    data = root / "data"
    shutil.copytree(real_dir, data)
    first = load_dataset(data, CONFIG, cache_dir=root / "cache")
    assert len(first.parsed) == DATA_FILES and first.reused == [] and not first.from_cache
    assert len(list((root / "cache" / cache.FILES).iterdir())) == 2 * DATA_FILES  # read, and mapped
    return data, root / "cache"


@pytest.fixture
def release(primed: tuple[Path, Path], tmp_path: Path) -> Iterator[tuple[Path, Path, Callable[[str], None]]]:
    """The primed data folder, a copy of its cache for this test, and a way to publish a new release of
    the life expectancy file with Indonesia's 2024 value revised; the file is put back afterwards."""
    data, primed_cache = primed
    cache_dir = tmp_path / "cache"
    shutil.copytree(primed_cache, cache_dir)
    health = data / HEALTH
    published = health.read_bytes()
    assert published.count(IDN_2024) == 1

    def revise(value: str) -> None:
        health.write_bytes(published.replace(IDN_2024, f"Indonesia,IDN,2024,{value}\r\n".encode()))

    try:
        yield data, cache_dir, revise
    finally:
        health.write_bytes(published)


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the readers are asked to parse from now on (by file name)."""
    calls: list[str] = []
    read = readers.read

    def counting(path: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(Path(path).name)
        return read(path, *args, **kwargs)

    monkeypatch.setattr(readers, "read", counting)
    return calls


def _count_mappings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files mapped to the catalog and to countries from now on (by path in the data folder)."""
    calls: list[str] = []
    map_file = load.map_file

    def counting(raw, decl, info, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(info.path)
        return map_file(raw, decl, info, *args, **kwargs)

    monkeypatch.setattr(load, "map_file", counting)
    return calls


def _entry(cache_dir: Path, file: str, kind: str = "raw") -> Path:
    """The cache entry that holds the read (or mapped) result of `file` (relative to the data folder)."""
    found = [p for p in (cache_dir / cache.FILES).iterdir()
             if (meta := json.loads((p / "meta.json").read_text(encoding="utf-8")))["file"] == file
             and meta["kind"] == kind]
    assert len(found) == 1
    return found[0]


def _idn_2024(ds) -> tuple[float, str, int]:  # type: ignore[no-untyped-def]
    res = ds.resolved
    row = res[(res["iso3"] == "IDN") & (res["indicator"] == "life_expectancy") & (res["year"] == 2024)
              & (res["breakdown"] == "")]
    assert len(row) == 1
    return float(row["value"].iloc[0]), str(row["file"].iloc[0]), int(row["line"].iloc[0])


def _count_cached_rows(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The cache entries whose raw rows are loaded from now on (by key)."""
    calls: list[str] = []
    read_raw = cache.read_raw

    def counting(root: Path, key: str):  # type: ignore[no-untyped-def]
        calls.append(key)
        return read_raw(root, key)

    monkeypatch.setattr(cache, "read_raw", counting)
    return calls


def test_a_new_release_of_one_file_reparses_that_file_alone(release, monkeypatch, tmp_path):
    data, cache_dir, revise = release
    revise("71.9")
    calls = _count_reads(monkeypatch)
    mapped = _count_mappings(monkeypatch)
    rows = _count_cached_rows(monkeypatch)
    ds = load_dataset(data, CONFIG, cache_dir=cache_dir)
    assert calls == ["data.csv"] and mapped == [HEALTH]
    assert rows == []  # the other files' mapped results serve: their raw rows stay on disk
    assert ds.parsed == [HEALTH] and len(ds.reused) == DATA_FILES - 1 and HEALTH not in ds.reused
    assert not ds.from_cache and ds.parse_seconds > 0
    assert _idn_2024(ds) == (71.9, HEALTH, 6891)

    # the same dataset as reading every file afresh: values, choices, problems, files, country names
    calls.clear()
    full = load_dataset(data, CONFIG, cache_dir=tmp_path / "unused", use_cache=False)
    assert len(calls) == DATA_FILES and len(full.parsed) == DATA_FILES and full.reused == []
    assert len(mapped) == 1 + DATA_FILES
    assert not (tmp_path / "unused").exists()  # --no-cache keeps nothing either
    for table in ("obs", "resolved", "aggregates", "unresolved", "unmapped"):
        mine, theirs = getattr(ds, table), getattr(full, table)
        pd.testing.assert_frame_equal(mine, theirs)
        for col in mine.columns:  # unordered categoricals compare equal whatever the order of their categories
            if isinstance(mine[col].dtype, pd.CategoricalDtype):
                assert list(mine[col].cat.categories) == list(theirs[col].cat.categories), (table, col)
    assert ds.problems == full.problems
    assert [f.__dict__ for f in ds.files] == [f.__dict__ for f in full.files]  # row counts too
    assert ds.countries._names == full.countries._names

    # unchanged since: the whole dataset comes from the cache, no file is read
    calls.clear()
    again = load_dataset(data, CONFIG, cache_dir=cache_dir)
    assert again.from_cache and calls == [] and again.parsed == [] and _idn_2024(again)[0] == 71.9


def test_a_damaged_entry_is_ignored_and_the_file_read_again(release, monkeypatch):
    data, cache_dir, revise = release
    truncated = "ilostat/ILR_TUMT_NOC_RT_A.csv"
    garbled = "owid_grapher/economic-inequality-gini-index.csv"
    altered = "ilostat/LAI_INDE_NOC_RT_A_EN.xlsx"
    entries = {file: _entry(cache_dir, file) for file in (truncated, garbled, altered)}
    unmapped = "wdi_api/API_SL.UEM.TOTL.ZS_DS2_en_csv_v2_10473697.csv"  # its mapped result damaged
    obs = _entry(cache_dir, unmapped, "mapped") / f"obs{cache.TABLE}"
    table = cache.read_table(obs)
    table.loc[0, "value"] = table.loc[0, "value"] + 1
    cache.write_table(table, obs)
    rows = entries[truncated] / f"rows{cache.TABLE}"
    rows.write_bytes(rows.read_bytes()[:100])
    (entries[garbled] / "meta.json").write_text("{", encoding="utf-8")
    rows = entries[altered] / f"rows{cache.TABLE}"
    table = cache.read_table(rows)  # a sound Arrow file, but not the one written: a value changed
    table.loc[0, "value"] = table.loc[0, "value"] + 1
    cache.write_table(table, rows)

    revise("72.0")
    calls = _count_reads(monkeypatch)
    mapped = _count_mappings(monkeypatch)
    rows = _count_cached_rows(monkeypatch)
    ds = load_dataset(data, CONFIG, cache_dir=cache_dir)
    assert sorted(ds.parsed) == sorted([HEALTH, truncated, garbled, altered])
    assert sorted(calls) == sorted(Path(p).name for p in ds.parsed)
    # a file read again for a damaged entry is the same file: its mapped result still serves
    assert sorted(mapped) == sorted([HEALTH, unmapped])
    assert rows == [_entry(cache_dir, unmapped).name]  # mapped afresh from the rows its sound read result keeps
    assert len(ds.reused) == DATA_FILES - 4
    assert _idn_2024(ds)[0] == 72.0
    assert not ds.errors
    # the damaged entries were replaced by sound ones
    for file in (truncated, garbled, altered):
        assert cache.read_raw(cache_dir, _entry(cache_dir, file).name) is not None
    assert cache.read_mapped(cache_dir, _entry(cache_dir, unmapped, "mapped").name) is not None


def test_a_changed_catalog_maps_every_file_again_without_parsing_any(release, monkeypatch, tmp_path):
    data, cache_dir, revise = release
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    revise("71.3")  # messages name this config's sources.yaml: every file is read anew
    assert len(load_dataset(data, config, cache_dir=cache_dir).parsed) == DATA_FILES
    with (config / "indicators.yaml").open("a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    revise("71.4")
    mapped = _count_mappings(monkeypatch)
    ds = load_dataset(data, config, cache_dir=cache_dir)
    assert ds.parsed == [HEALTH] and len(ds.reused) == DATA_FILES - 1
    assert len(mapped) == DATA_FILES and _idn_2024(ds)[0] == 71.4


def test_entries_are_not_trusted_across_code_versions(release, monkeypatch):
    data, cache_dir, revise = release
    revise("71.5")
    monkeypatch.setattr(cache, "code_hash", lambda: "another version of the code")
    ds = load_dataset(data, CONFIG, cache_dir=cache_dir)
    assert len(ds.parsed) == DATA_FILES and ds.reused == []


def test_old_entries_are_pruned_least_recently_used_first(release, monkeypatch):
    _, cache_dir, _ = release
    entries = sorted((cache_dir / cache.FILES).iterdir())
    for age, entry in enumerate(entries):  # the first entry used longest ago
        stamp = 1_700_000_000 + age
        os.utime(entry, (stamp, stamp))
    used = {entries[0].name, entries[1].name}
    monkeypatch.setattr(cache, "FILE_KEEP", 5)
    cache.prune_files(cache_dir, used)
    left = sorted(p.name for p in (cache_dir / cache.FILES).iterdir())
    assert left == sorted(used | {e.name for e in entries[-5:]})
    monkeypatch.setattr(cache, "FILE_BUDGET", 0)
    cache.prune_files(cache_dir, used)
    assert sorted(p.name for p in (cache_dir / cache.FILES).iterdir()) == sorted(used)


def test_a_file_taken_from_the_cache_still_withholds_an_impossible_value(real_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(real_dir, data)
    union = data / "ilostat" / "ILR_TUMT_NOC_RT_A.csv"
    published = union.read_bytes()
    assert published.count(b"\nAFG,ILR_TUMT_NOC_RT,FI:6357,2012,9.36,,") == 1
    union.write_bytes(published.replace(b"\nAFG,ILR_TUMT_NOC_RT,FI:6357,2012,9.36,,",
                                        b"\nAFG,ILR_TUMT_NOC_RT,FI:6357,2012,150,,"))
    load_dataset(data, CONFIG, cache_dir=tmp_path / "cache", partial=True)
    health = data / HEALTH
    health.write_bytes(health.read_bytes().replace(IDN_2024, b"Indonesia,IDN,2024,71.9\r\n"))
    ds = load_dataset(data, CONFIG, cache_dir=tmp_path / "cache", partial=True)
    assert ds.parsed == [HEALTH] and "ilostat/ILR_TUMT_NOC_RT_A.csv" in ds.reused
    message = ("ILR_TUMT_NOC_RT = 150 (AFG, 2012) is outside the range of union_density, [0, 100] (percent); "
               "1 such value(s), not used")
    assert [(p.file, p.line, p.message) for p in ds.unread] == [(str(union), 2, message)]
    assert list(ds.unavailable) == ["union_density"] and ds.unavailable["union_density"] == ds.unread
    full = load_dataset(data, CONFIG, use_cache=False, partial=True)
    assert ds.unread == full.unread and ds.problems == full.problems
    with pytest.raises(UserError) as raised:  # and a strict load refuses it, as without the cache
        load_dataset(data, CONFIG, cache_dir=tmp_path / "cache")
    assert message in str(raised.value)


def test_cached_tables_come_back_as_arrow_reads_them_in_one_piece(primed):
    _, cache_dir = primed
    tables = sorted(cache_dir.rglob(f"*{cache.TABLE}"))
    assert len(tables) > 2 * DATA_FILES
    for path in tables:
        table = cache.read_table(path)
        pd.testing.assert_frame_equal(table, pa.ipc.open_file(path).read_all().to_pandas())
        for column in table.columns:
            if hasattr(table[column].array, "__arrow_array__"):  # a text column held by Arrow
                assert table[column].array.__arrow_array__().num_chunks <= 1, (path, column)


@pytest.mark.parametrize("compress_above", [cache.COMPRESS_ABOVE, 0])
def test_a_stored_table_comes_back_as_written(tmp_path, monkeypatch, compress_above):
    monkeypatch.setattr(cache, "COMPRESS_ABOVE", compress_above)
    table = pd.DataFrame({
        "iso3": pd.Categorical(["SEN", "IDN", "SEN", None], categories=["IDN", "SEN"]),
        "name": pd.Series(["Sénégal", "Indonésie", None, "Ελλάδα"], dtype="str"),
        "year": [2020, 2021, 2022, 2023], "value": [71.9, float("nan"), -0.5, 1e300],
        "break": [True, False, False, True], "note": [None, "b", None, None],
    }, index=pd.Index([3, 1, 2, 0], name="row"))
    path = tmp_path / f"t{cache.TABLE}"
    cache.write_table(table, path)
    pd.testing.assert_frame_equal(cache.read_table(path), table, check_exact=True)
    lz4_frame = b"\x04\x22\x4d\x18"  # the magic number that starts each compressed buffer
    assert (lz4_frame in path.read_bytes()) == (compress_above == 0)
    cache.write_table(table, path, index=False)
    pd.testing.assert_frame_equal(cache.read_table(path), table.reset_index(drop=True), check_exact=True)
    with pytest.raises(ValueError, match="does not match its digest"):
        cache.load_table(path, digest="0" * 64)

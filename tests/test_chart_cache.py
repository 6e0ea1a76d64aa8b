"""A chart is drawn once for the same inputs: kept in the build's cache folder under the digest of its
arguments, read back byte for byte, drawn again when any argument differs, and never kept when an
argument has no exact digest. A brief rebuilt from kept charts is the same file, and the process that
rebuilds it never imports the drawing code."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from sesreport import chartcache, charts
from sesreport.compute import peer_band
from sesreport.i18n import Lang

from .conftest import REPO

CIS = ["ARM", "AZE", "BLR", "GEO", "KAZ", "KGZ", "MDA", "TJK", "UKR", "UZB"]


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """Charts kept under tmp_path for this test; the charts actually drawn, by function."""
    calls: list[str] = []
    trend = charts.trend
    monkeypatch.setattr(charts, "trend", lambda *a, **k: calls.append("trend") or trend(*a, **k))
    chartcache.use(tmp_path)
    yield calls
    chartcache.use(None)


def _inputs(ds, lang: str = "en") -> tuple:
    series = ds.headline("unemployment")
    history = series[series["iso3"] == "RUS"].sort_values("year")[["year", "value"]].reset_index(drop=True)
    band = peer_band(series, CIS, 2001, 2025)
    return history, band, ds.catalog["unemployment"], "Russian Federation", "CIS", Lang(lang), charts.HALF


def test_a_chart_is_drawn_once_for_the_same_inputs(real_ds, drawn, tmp_path):
    first = chartcache.draw("trend", *_inputs(real_ds))
    again = chartcache.draw("trend", *_inputs(real_ds))
    assert drawn == ["trend"] and len(list((tmp_path / chartcache.FOLDER).glob("*.pickle"))) == 1
    assert again == first and "Russian Federation" in again.alt
    assert again.svg == charts.trend(*_inputs(real_ds)).svg  # the kept chart is the one drawn now


def test_any_other_input_draws_again(real_ds, drawn):
    history, band, ind, name, peers, lang, size = _inputs(real_ds)
    base = chartcache.draw("trend", history, band, ind, name, peers, lang, size)
    moved = history.copy()
    moved.loc[moved.index[-1], "value"] += 0.1  # one value corrected
    as_int = history.assign(year=history["year"].astype("int32"))  # the same numbers, another type
    others = [(moved, band, ind, name, peers, lang, size), (history, band, ind, name, peers, Lang("ru"), size),
              (history, band, ind, name, "EAEU", lang, size), (history, band.iloc[:-1], ind, name, peers, lang, size),
              (history, band, real_ds.catalog["employment_ratio"], name, peers, lang, size),
              (history, band, ind, name, peers, lang, charts.COMPACT), (as_int, band, ind, name, peers, lang, size)]
    keys = {chartcache.digest("trend", args, {}) for args in [*others, _inputs(real_ds)]}
    assert len(keys) == len(others) + 1
    made = [chartcache.draw("trend", *args) for args in others[:2]]
    assert drawn == ["trend"] * 3
    assert made[0].svg != base.svg and made[1].svg != base.svg


def test_the_digest_tells_apart_every_difference_in_a_table():
    def table(names=("ARM", "GEO", "ARM"), peers=("CIS", "CIS", None), categories=("ARM", "GEO"), start=0):
        return pd.DataFrame({"iso3": pd.Categorical(list(names), categories=list(categories)),
                             "peers": pd.Series(list(peers), dtype=object), "value": [1.5, 2.0, float("nan")]},
                            index=pd.RangeIndex(start, start + 3))

    variants = [table(), table(names=("ARM", "GEO", "GEO")), table(categories=("GEO", "ARM")),
                table(peers=("CIS", "CIS", "None")), table(peers=("CIS,CIS", "", None)), table(start=1),
                table().set_axis(pd.Index([0, 1, 2])), table().assign(value=[1.5, 2.0, 0.0]),
                table().assign(peers=pd.Series(["CIS", "CIS", None], dtype="str"))]
    keys = [chartcache.digest("trend", (v,), {}) for v in variants]
    assert len(set(keys)) == len(variants)
    assert chartcache.digest("trend", (table(),), {}) == keys[0]  # the same table, built again


def test_an_argument_without_an_exact_digest_is_drawn_and_not_kept(real_ds, drawn, tmp_path):
    history, band, *rest = _inputs(real_ds)
    odd = band.assign(note=[object()] * len(band))  # an object column: no exact digest
    with pytest.raises(TypeError):
        chartcache.digest("trend", (history, odd, *rest), {})
    chartcache.draw("trend", history, odd, *rest)
    chartcache.draw("trend", history, odd, *rest)
    assert drawn == ["trend", "trend"] and not (tmp_path / chartcache.FOLDER).exists()


def test_a_brief_from_kept_charts_is_the_same_and_imports_no_drawing_code(real_dir, tmp_path):
    env = {**os.environ, "SESREPORT_CACHE": str(tmp_path / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-X", "importtime", "generate.py", "build", "KAZ", "--lang", "ru", "--kind", "brief",
               "--data", str(real_dir), "--out", str(tmp_path / "out"), "--as-of", "2026-11-27", "--force", "-j", "1"]
    first = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=True)
    files = sorted(p for p in (tmp_path / "out" / "brief").iterdir() if p.suffix in (".pdf", ".html", ".json"))
    before = {p.name: p.read_bytes() for p in files}
    kept = len(list((tmp_path / "cache" / chartcache.FOLDER).glob("*.pickle")))
    again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert kept >= 5
    assert "sesreport.charts\n" in first.stderr and "sesreport.charts\n" not in again.stderr
    assert not [line for line in again.stderr.splitlines() if line.split("|")[-1].strip().startswith("matplotlib")]
    assert {p.name: p.read_bytes() for p in files} == before
    assert len(list((tmp_path / "cache" / chartcache.FOLDER).glob("*.pickle"))) == kept


def test_a_batch_rehearsal_keeps_its_charts_for_the_workers(real_dir, tmp_path, monkeypatch):
    """Before a batch forks its workers it rehearses its first brief: the charts drawn there are kept in the
    chart cache (before, they were drawn and thrown away), where the worker that builds that brief reads
    them, and the files are those of a build that drew every chart."""
    from sesreport import execute
    from sesreport.cli import main

    from .conftest import CONFIG

    monkeypatch.setenv("SESREPORT_CACHE", str(tmp_path / "cache"))
    kept_before_fork: list[int] = []
    warm_up = execute._warm_up

    def counting(todo, state, workers):
        warm_up(todo, state, workers)
        kept_before_fork.append(len(list((tmp_path / "cache" / chartcache.FOLDER).glob("*.pickle"))))

    monkeypatch.setattr(execute, "_warm_up", counting)
    common = ["--kind", "brief", "--data", str(real_dir), "--config", str(CONFIG), "--as-of", "2026-11-27"]
    assert main(["build", "RUS", "KAZ", "UKR", *common, "--out", str(tmp_path / "pool"), "-j", "2"]) == 0
    assert len(kept_before_fork) == 1 and kept_before_fork[0] >= 5
    monkeypatch.setenv("SESREPORT_CACHE", str(tmp_path / "fresh"))
    assert main(["build", "RUS", "KAZ", "UKR", *common, "--out", str(tmp_path / "serial"), "-j", "1"]) == 0
    for pdf in sorted((tmp_path / "serial" / "brief").glob("*.pdf")):
        assert (tmp_path / "pool" / "brief" / pdf.name).read_bytes() == pdf.read_bytes(), pdf.name

"""Series breaks and peer statistics that rest on enough peers (issue 9).

On the real data: Indonesia's union density breaks (36.4 in 2001, 11.4 in 2003, 6.3 in 2014, 17.9 in
2016) and the brief states no change across the breaks, marks them and names the years, and its
chart draws no line across them; every peer median, range, rank and band the Russian and Indonesian
briefs print rests on at least the configured minimum of peers, counted again from the rows of the
published files. Without the real data: the rules themselves, on synthetic series.
"""

from __future__ import annotations

import base64
import csv
import json
import re
import shutil
import subprocess
from datetime import date
from html import unescape
from pathlib import Path
from statistics import median

import numpy as np
import pandas as pd
import pytest

from sesreport.breaks import Break, find_breaks
from sesreport.catalog import load_catalog
from sesreport.cli import main
from sesreport.compute import Rules, indicator_stat, peer_band
from sesreport.documents.brief import build_brief
from sesreport.i18n import Lang
from sesreport.project import load_project
from tests.conftest import CONFIG, need_real

AS_OF = "2026-11-27"
UNION = "ilostat/ILR_TUMT_NOC_RT_A.csv"
MIN_PEERS = 5  # config/defaults.yaml


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    real = need_real()
    out = tmp_path_factory.mktemp("editorial")
    assert main(["build", "IDN", "RUS", "--document", "brief", "--lang", "en", "--data", str(real), "--out", str(out),
                 "--as-of", AS_OF, "--format", "full"]) == 0
    return out / "brief"


def records(built: Path, iso3: str) -> list[dict]:
    return json.loads((built / f"{iso3}.en.figures.json").read_text(encoding="utf-8"))


def flat(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u00ad", "").split())


def pdf_text(pdf: Path) -> str:
    return flat(subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                               check=True).stdout)


def raw_rows(path: Path) -> list[list[str]]:
    """A published CSV file's rows, by line number (1 = the first line, byte-order mark dropped)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [[]] + list(csv.reader(f))


# --------------------------------------------------------------------------- series breaks


def test_indonesia_union_density_breaks_and_no_change_is_stated_across_them(built):
    figures = [r for r in records(built, "IDN") if r.get("indicator") == "union_density"]
    (note,) = [r for r in figures if r["what"] == "series break note"]
    assert note["breaks"] == [{"before": 2002, "after": 2003, "reason": "jump"},
                              {"before": 2014, "after": 2016, "reason": "jump"}]
    # the years are the published observations on both sides: lines 563–564 and 570–571 of the file
    assert [(p["text"], p["observation"]["value"], p["observation"]["file"], p["observation"]["line"])
            for p in note["parts"]] == [("2002", 27.1, UNION, 563), ("2003", 11.42, UNION, 564),
                                        ("2014", 6.28, UNION, 570), ("2016", 17.88, UNION, 571)]
    # no change is computed across a break: the latest value (2019) has no base five or ten years back
    # inside its segment (2016–2019), so no key figure, table cell or sentence states one
    assert not [r for r in figures if "observations" in r or "change" in r["what"]]
    (said,) = [r for r in figures if r["what"] == "statement"]
    assert said["change"] is None and said["trend"] is None
    (tile,) = [r for r in figures if r["what"] == "key figure"]
    assert tile["text"] == "13.0%"

    text = pdf_text(built / "IDN.en.pdf")
    assert ("Trade union density: series breaks between 2002 and 2003 (jump in level) and between 2014 and 2016 "
            "(jump in level).") in text
    assert "Values on either side of a break in series are not comparable" in text
    assert "13.0%†b 2019" in text.replace(" †", "†")  # the key figure, marked old and broken
    assert "+6.7" not in text and "since 2014" not in text


def charts_of(html: Path) -> dict[str, str]:
    """Each chart of a built HTML page: its alternative text -> its SVG (written into the page, or as
    an image's data address)."""
    body = html.read_text(encoding="utf-8")
    inline = re.findall(r'(<svg role="img" aria-label="([^"]*)".*?</svg>)', body, re.S)
    out = {unescape(alt): svg for svg, alt in inline}
    for tag in re.findall(r"<img\b[^>]*>", body):
        src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', tag)
        alt = re.search(r'alt="([^"]*)"', tag)
        if src and alt:
            out[unescape(alt.group(1))] = base64.b64decode(src.group(1)).decode("utf-8")
    return out


def country_lines(svg: str) -> list[int]:
    """The number of points of each line drawn in the country's colour inside the axes (clipped to
    them: the legend's sample line is not; markers are not lines)."""
    paths = re.findall(r'<path d="([^"]+)" clip-path="[^"]+" fill="none" stroke="#0072b2"', svg)
    return sorted(len(re.findall(r"[ML] ", d)) for d in paths)


def test_the_chart_draws_no_line_across_a_break(built):
    (alt, svg), = [(a, s) for a, s in charts_of(built / "IDN.en.html").items()
                   if a.startswith("Line chart of Trade union density for Indonesia")]
    # three lines: 2001–2002, 2003–2014 (2003, 2006, 2007, 2008, 2009, 2012, 2014) and 2016–2019;
    # one line through all 13 observations would join 2002 to 2003 and 2014 to 2016
    assert country_lines(svg) == [2, 4, 7]
    assert "The series breaks between 2002 and 2003; the line is not drawn across the break." in alt
    assert "The series breaks between 2014 and 2016; the line is not drawn across the break." in alt
    assert len(re.findall(r">b</text>", svg)) == 2  # a "b" at 2003 and at 2016


# --------------------------------------------------------------------------- peers


def peer_statistics(figures: list[dict]) -> list[dict]:
    """Every record (or part of a record) of a peer median, range or rank: those with `peers`."""
    out = []
    for r in figures:
        if "peers" in r:
            out.append(r)
        out += peer_statistics(r.get("parts", []))
    return out


@pytest.mark.parametrize("iso3", ["RUS", "IDN"])
def test_every_peer_statistic_rests_on_enough_peers_counted_in_the_raw_files(built, real_ds, iso3):
    real = need_real()
    figures = records(built, iso3)
    stats = peer_statistics(figures)
    assert len(stats) > 20, len(stats)
    files: dict[str, list[list[str]]] = {}
    for r in stats:
        where = f"{iso3} {r['what']} {r.get('indicator') or r.get('form')} {r['text']!r}"
        if r["what"] == "index peer median":  # index values: each peer's inputs are in the annex's figures
            assert len({p["iso3"] for p in r["peers"]}) >= MIN_PEERS, where
            continue
        counted = set()
        for peer in r["peers"]:
            rows = files.setdefault(peer["file"], raw_rows(real / peer["file"]))
            row = rows[peer["line"]]
            # the published row names the peer, by code or by name (ILOSTAT's labels), and holds the
            # value (in a wide file, among its years); the peers are counted by that row's own area cell
            assert peer["iso3"] in row or real_ds.countries.resolve_name(row[0]).code == peer["iso3"], (where, row)
            values = [float(c) for c in row if re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", c.strip())]
            assert any(abs(v - peer["value"]) < 1e-9 for v in values), (where, peer, row)
            counted.add(peer["iso3"] if peer["iso3"] in row else row[0])
        assert len(counted) >= MIN_PEERS, (where, sorted(counted))


def test_the_union_density_median_of_the_russian_federation_recomputed_from_the_file(built):
    """The peers' latest values in the peer window (2012–2017, the Russian latest being 2017), read from
    the ILOSTAT file itself: Armenia, Georgia, Kazakhstan, Moldova and Ukraine report; five, the minimum."""
    real = need_real()
    figures = records(built, "RUS")
    (group,) = [r for r in figures if r["what"] == "peer count"]
    latest: dict[str, tuple[int, float]] = {}
    for row in raw_rows(real / UNION)[2:]:
        if row and row[0] in group["countries"] and 2012 <= int(row[3]) <= 2017:
            latest[row[0]] = max(latest.get(row[0], (0, 0.0)), (int(row[3]), float(row[4])))
    assert sorted(latest) == ["ARM", "GEO", "KAZ", "MDA", "UKR"]
    (cell,) = [r for r in figures if r["what"] == "table peer median" and r["indicator"] == "union_density"]
    assert cell["value"] == median(v for _, v in latest.values()) and cell["text"] == "22.7"
    assert sorted(p["iso3"] for p in cell["peers"]) == sorted(latest)


@pytest.mark.parametrize("iso3", ["RUS", "IDN"])
def test_every_band_year_rests_on_enough_peers(built, iso3):
    """Each year of a drawn band has at least the minimum of peers (its legend says so); for union
    density the peers are counted again from the ILOSTAT file: a value in the five years up to it."""
    real = need_real()
    figures = records(built, iso3)
    legends = [r for r in figures if r["what"] == "chart legend"]
    assert legends and all(r["text"] == "Peer range, 10th–90th percentile (at least 5 peers)" for r in legends)
    (group,) = [r for r in figures if r["what"] == "peer count"]
    union = [row for row in raw_rows(real / UNION)[2:] if row and row[0] in group["countries"]]
    checked = 0
    for r in legends:
        assert r["config"]["file"] == "config/defaults.yaml" and r["band"], r
        for year in r["band"]:
            assert year["n"] == len(year["peers"]) >= MIN_PEERS, (iso3, year)
            if year["indicator"] == "union_density":
                reporting = {row[0] for row in union if year["year"] - 5 <= int(row[3]) <= year["year"]}
                assert set(year["peers"]) <= reporting and len(reporting) >= MIN_PEERS, (iso3, year, reporting)
                checked += 1
    assert checked >= 2  # Russia: 2016 and 2017 (2013 alone would draw nothing); Indonesia: 2012–2019


def test_min_peers_from_the_config_changes_the_brief(real_ds, tmp_path):
    """With `min_peers: 6` the Russian union-density median (five peers) is no longer printed."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    country = config / "countries" / "RUS.yaml"
    country.write_text(country.read_text(encoding="utf-8") + "\nmin_peers: 6\n", encoding="utf-8")

    def union(config_dir: Path) -> tuple[dict, list[dict]]:
        project = load_project(config_dir, only=["RUS"], brief_format="full")
        loaded = project.countries["RUS"]
        doc = build_brief(real_ds, loaded, Lang("en"), date.fromisoformat(AS_OF), project.catalog)
        (row,) = [row for s in doc.context["sections"] for row in s["rows"]
                  if row["label"] == "Trade union density"]
        return row, [r for r in doc.figures if r.get("indicator") == "union_density" and "peers" in r]

    row, peered = union(CONFIG)
    assert (row["median"], row["range"], row["rank"]) == ("22.7", "19.6–46.9", "3/6") and peered
    row, peered = union(config)
    assert (row["median"], row["range"], row["rank"]) == ("–", "–", "–") and not peered


# --------------------------------------------------------------------------- the rules, without real data


def series(values: dict[int, float], **columns) -> pd.DataFrame:
    frame = pd.DataFrame({"year": list(values), "value": list(values.values())})
    return frame.assign(**columns)


QUIET = {2000: 10.0, 2001: 10.4, 2002: 10.1, 2003: 10.6, 2004: 10.3, 2005: 10.8}


def test_a_lasting_jump_far_beyond_the_usual_change_is_a_break():
    # steps of 0.3–0.5 a year (usual 0.4), then +9.2 and the new level holds
    jumped = {**QUIET, 2006: 20.0, 2007: 20.3, 2008: 19.9}
    assert find_breaks(series(jumped), 4.0) == (Break(2005, 2006, "jump"),)
    assert find_breaks(series(jumped), 30.0) == ()  # a larger multiple: within the rule
    # over a gap, the step is compared per year: +9.2 over 2005–2015 is 0.92 a year, no jump
    assert find_breaks(series({**QUIET, 2015: 20.0, 2016: 20.3, 2017: 19.9}), 4.0) == ()


def test_a_spike_that_returns_a_short_series_and_a_modelled_one_do_not_break():
    spike = {**QUIET, 2006: 20.0, 2007: 10.9, 2008: 10.6}  # a crisis year that recovers
    assert find_breaks(series(spike), 4.0) == ()
    short = {2000: 10.0, 2001: 10.2, 2002: 10.1, 2003: 25.0, 2004: 25.1}  # four steps: no usual change
    assert find_breaks(series(short), 4.0) == ()
    jumped = {**QUIET, 2006: 20.0, 2007: 20.3, 2008: 19.9}
    assert find_breaks(series(jumped, estimate=True), 4.0) == ()  # a modelled series is harmonised


def test_the_publishers_flag_and_a_change_of_source_are_breaks():
    flagged = series({2010: 5.0, 2011: 5.1, 2012: 5.2}, **{"break": [False, False, True]})
    assert find_breaks(flagged, 4.0) == (Break(2011, 2012, "flag"),)
    sources = series({2010: 5.0, 2011: 5.1, 2012: 5.2, 2013: 5.2}, source_code=["LFS", "LFS", "", "HIES"])
    assert find_breaks(sources, 4.0) == ()  # an unnamed source says nothing
    sources = series({2010: 5.0, 2011: 5.1, 2012: 5.2}, source_code=["LFS", "LFS", "HIES"])
    assert find_breaks(sources, 4.0) == (Break(2011, 2012, "source"),)


def headline(rows: dict[str, dict[int, float]]) -> pd.DataFrame:
    out = [{"iso3": iso3, "year": y, "value": v, "source_id": "s", "source_code": "X", "vintage": "2026-01-01",
            "file": "x.csv", "line": 2 + i, "estimate": False, "break": False}
           for iso3, values in sorted(rows.items()) for i, (y, v) in enumerate(sorted(values.items()))]
    return pd.DataFrame(out).sort_values(["iso3", "year"], kind="stable").reset_index(drop=True)


def test_no_change_across_a_break_and_peers_only_from_enough_of_them():
    ind = load_catalog(CONFIG / "indicators.yaml")["union_density"]
    mine = {2009: 30.0, 2010: 30.5, 2011: 30.2, 2012: 30.6, 2013: 30.4, 2014: 30.8, 2015: 12.0, 2016: 12.4,
            2017: 12.1, 2018: 12.6, 2019: 12.9}
    peers = {c: {2018: 10.0 + k} for k, c in enumerate(["AAA", "BBB", "CCC", "DDD"])}
    data = headline({"ZZZ": mine, **peers})
    stat = indicator_stat(data, "ZZZ", sorted(peers), ind, "union_density", 2026, 10, 5)
    assert stat.breaks == (Break(2014, 2015, "jump"),)
    # the five-year base (2014, or the nearest within a year) is taken inside the latest segment: 2015;
    # the ten-year one (2009) lies before the break, and 2008–2010 too: no ten-year change
    assert stat.change(5).base.year == 2015 and stat.change(10) is None
    assert stat.peers is None and stat.rank is None and stat.position is None  # four peers, five needed
    fewer = indicator_stat(data, "ZZZ", sorted(peers), ind, "union_density", 2026, 10, 5, Rules(min_peers=4))
    assert fewer.peers is not None and fewer.peers.n == 4 and fewer.peers.median == 11.5
    # without the break (a multiple no step reaches) the changes reach across 2014–2015
    whole = indicator_stat(data, "ZZZ", [], ind, "union_density", 2026, 10, 5, Rules(break_jump=100))
    assert whole.breaks == () and whole.change(5).base.year == 2014 and whole.change(10).base.year == 2009


def test_the_band_needs_enough_peers_and_the_same_peers_as_at_its_end():
    years = range(2000, 2011)
    steady = {c: {y: 10.0 + k for y in years} for k, c in enumerate(["AAA", "BBB", "CCC", "DDD", "EEE"])}
    late = {c: {y: 30.0 for y in range(2006, 2011)} for c in ["FFF", "GGG"]}  # report from 2006
    data = headline({**steady, **late})
    peers = sorted(steady) + sorted(late)
    band = peer_band(data, peers, 2000, 2010, min_peers=5, stability=0.8, carry=1)
    # 2000–2005: five peers, but only five of the last year's seven (5/7 < 0.8): left out
    assert band["year"].tolist() == list(range(2006, 2011)) and set(band["n"]) == {7}
    assert band["peers"].iloc[0] == "AAA,BBB,CCC,DDD,EEE,FFF,GGG"
    loose = peer_band(data, peers, 2000, 2010, min_peers=5, stability=0.7, carry=1)
    assert loose["year"].tolist() == list(years)
    assert peer_band(data, peers, 2000, 2010, min_peers=8, stability=0.0, carry=1).empty
    assert np.allclose(band["median"], 13.0)
    # five peers in 2010 alone (the fifth reports only then): one year draws no band
    once = headline({**{c: v for c, v in steady.items() if c != "EEE"}, "EEE": {2010: 14.0}})
    assert peer_band(once, sorted(steady), 2000, 2010, min_peers=5, stability=0.8, carry=1).empty
    assert peer_band(once, sorted(steady), 2000, 2010, min_peers=4, stability=0.8, carry=1)["year"].tolist() == list(
        years)

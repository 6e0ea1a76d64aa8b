"""A document is rendered again only when something it prints changed.

A copy of the real data is built, then one observation that the Russian Federation's brief reads
but never prints (its unemployment rate of 1991, outside the charts' 25 years and every change the
brief states) is revised: the brief is computed again, finds its printed content unchanged and
leaves its files untouched. A revision of a printed value (Belarus's Gini index of 2019, a peer of
the Russian Federation) renders it again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sesreport.cli import main
from tests.conftest import need_real
from tests.test_changelog import GINI, replace_line

AS_OF = "2026-11-27"
UNEMPLOYMENT = Path("wdi_api/API_SL.UEM.TOTL.ZS_DS2_en_csv_v2_10473697.csv")


def _build(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(["build", *args, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    return {d["key"]: d for d in summary["documents"]}


def _files(out: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in (out / "brief").glob("RUS.en.*")}


def test_a_revision_nothing_prints_leaves_the_files_untouched(tmp_path, capsys, cache_dir):
    data = tmp_path / "data"
    shutil.copytree(need_real(), data)
    out = tmp_path / "out"
    args = ("RUS", "--lang", "en", "--kind", "brief", "--data", str(data), "--out", str(out), "--as-of", AS_OF)
    first = _build(capsys, *args)
    assert first["brief/RUS.en"]["status"] == "built"
    before = _files(out)
    assert {"RUS.en.pdf", "RUS.en.html", "RUS.en.figures.json"} <= set(before)

    raw = (data / UNEMPLOYMENT).read_bytes()
    assert raw.count(b'"RUS","Unemployment, total') == 1 and raw.count(b'"5.68599987030029"') == 1
    (data / UNEMPLOYMENT).write_bytes(raw.replace(b'"5.68599987030029"', b'"6.18599987030029"'))
    second = _build(capsys, *args)["brief/RUS.en"]
    assert second["status"] == "unchanged"
    assert "compute+charts" in second["timings"] and "pdf" not in second["timings"]  # computed, not rendered
    assert _files(out) == before
    assert _build(capsys, *args)["brief/RUS.en"]["timings"] == {}  # recorded: the next build does nothing

    replace_line(data / GINI, "Belarus,BLR,2019,25.3", "Belarus,BLR,2019,38.0")
    third = _build(capsys, *args)["brief/RUS.en"]
    assert third["status"] == "built" and "pdf" in third["timings"]
    assert _files(out)["RUS.en.pdf"] != before["RUS.en.pdf"]


def test_a_new_print_stylesheet_renders_again_what_it_lays_out(tmp_path, capsys, monkeypatch):
    from sesreport import render

    data = tmp_path / "data"
    shutil.copytree(need_real(), data)
    out = tmp_path / "out"
    args = ("RUS", "--lang", "en", "--kind", "brief", "--data", str(data), "--out", str(out), "--as-of", AS_OF)
    assert _build(capsys, *args)["brief/RUS.en"]["status"] == "built"
    before = _files(out)

    # print.css edited (the HTML is the same: the stylesheet is given to WeasyPrint beside it) while a
    # value the brief does not print is revised, so that the brief is computed again
    stylesheet_text = render.stylesheet_text
    monkeypatch.setattr(render, "stylesheet_text",
                        lambda media: stylesheet_text(media) + ("\n.tile { color: #000; }" if media == "print" else ""))
    render.renderer_digest.cache_clear()
    render.print_setup.cache_clear()
    raw = (data / UNEMPLOYMENT).read_bytes()
    (data / UNEMPLOYMENT).write_bytes(raw.replace(b'"5.68599987030029"', b'"6.18599987030029"'))
    again = _build(capsys, *args)["brief/RUS.en"]
    render.renderer_digest.cache_clear()
    render.print_setup.cache_clear()
    assert again["status"] == "built" and "pdf" in again["timings"]
    assert _files(out)["RUS.en.pdf"] != before["RUS.en.pdf"]


def test_a_new_way_of_finishing_the_html_version_writes_it_again(tmp_path, capsys, monkeypatch):
    """The HTML version's fonts are embedded after the digest of what the document prints is taken
    (once its PDF is made); what embeds them is part of that digest (`webfonts.finishing_digest`)."""
    from sesreport import webfonts

    data = tmp_path / "data"
    shutil.copytree(need_real(), data)
    out = tmp_path / "out"
    args = ("RUS", "--lang", "en", "--kind", "brief", "--data", str(data), "--out", str(out), "--as-of", AS_OF)
    assert _build(capsys, *args)["brief/RUS.en"]["status"] == "built"
    html = (out / "brief" / "RUS.en.html").read_text(encoding="utf-8")
    assert html.count("src: url(data:font/woff;base64,") >= 5  # finished: the page's fonts embedded

    monkeypatch.setattr(webfonts, "finishing_digest", lambda: "the fonts embedded another way")
    raw = (data / UNEMPLOYMENT).read_bytes()
    (data / UNEMPLOYMENT).write_bytes(raw.replace(b'"5.68599987030029"', b'"6.18599987030029"'))
    again = _build(capsys, *args)["brief/RUS.en"]
    assert again["status"] == "built" and "pdf" in again["timings"]
    assert (out / "brief" / "RUS.en.html").read_text(encoding="utf-8") == html

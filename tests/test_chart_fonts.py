"""Chart text in scripts Source Sans Pro lacks: set in the pinned fallback fonts, in the PDF and the HTML.

A real Russian Federation brief (the full format, whose ranking charts label every peer) is built with
four peers named in their own scripts (`display:` in a copy of config/country_names.yaml): Georgian,
Armenian, Chinese and Persian (Arabic script). In the PDF, the charts' glyphs for those names come from
the Noto fallbacks (the Persian one joined and right to left: `sesreport.svgtext` draws a text whole),
no other font is embedded and no glyph is the missing-glyph box; the Latin labels stay Source Sans Pro
text. In the HTML, Chromium sets the same names in the embedded Noto subsets.
That brief is the second build of the process (as under `watch`): the fonts still come out right.
"""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from pathlib import Path

import matplotlib
import pdfplumber
import pytest
import uharfbuzz as hb
import yaml

from sesreport import charts
from sesreport.cli import main
from sesreport.fonts import FAMILIES, fallback_file
from sesreport.pdfcheck import check_pdf
from tests.conftest import CONFIG, need_real
from tests.test_browser import ARGS, CHROMIUM
from tests.test_fonts import need_fallback_fonts

NAMES = {"GEO": ("საქართველო", "Noto Sans Georgian"), "ARM": ("Հայաստան", "Noto Sans Armenian"),
         "KAZ": ("哈萨克斯坦", "Noto Sans CJK JP"), "TJK": ("تاجیکستان", "Noto Sans Arabic")}
#: ranking charts that label each peer: employment ratio, $3.00 poverty, health expenditure and union density,
#: for which the data have no value for Tajikistan or the Kyrgyz Republic
CHARTS = {"GEO": 4, "ARM": 4, "KAZ": 4, "TJK": 3, "KGZ": 3}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    need_fallback_fonts()
    real = need_real()
    config = tmp_path_factory.mktemp("config") / "config"
    shutil.copytree(CONFIG, config)
    names = yaml.safe_load((config / "country_names.yaml").read_text(encoding="utf-8"))
    names["display"]["en"] = {**names["display"].get("en", {}), **{c: name for c, (name, _) in NAMES.items()}}
    (config / "country_names.yaml").write_text(yaml.safe_dump(names, allow_unicode=True), encoding="utf-8")
    # a build before it in this process, as under `watch`: the fonts WeasyPrint was set up with in that
    # build must still be there in the next, though that build's temporary folder is gone
    earlier = tmp_path_factory.mktemp("earlier")
    assert main(["build", "RUS", "--document", "brief", "--lang", "en", "--data", str(real), "--out", str(earlier),
                 "--as-of", "2026-11-27", "-j", "1"]) == 0
    out = tmp_path_factory.mktemp("chart-fonts")
    assert main(["build", "RUS", "--document", "brief", "--lang", "en", "--format", "full", "--config", str(config),
                 "--data", str(real), "--out", str(out), "--as-of", "2026-11-27", "-j", "1"]) == 0
    return out / "brief"


def figure_text(pdf: Path) -> dict[str, str]:
    """The text the PDF shows inside its figures (the charts), by font family, as extracted."""
    shown: dict[str, str] = defaultdict(str)
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            for char in page.chars:
                if char.get("tag") == "Figure":
                    family = re.sub(r"-(Semi-Bold|Bold)$", "", char["fontname"].split("+", 1)[-1])
                    shown[family.replace("-", " ")] += char["text"]
    return shown


def test_chart_names_are_set_in_their_fallback_fonts(built):
    shown = figure_text(built / "RUS.en.pdf")
    for iso3, (name, family) in NAMES.items():
        # the Persian name is one run, shaped and set right to left (its letters joined): its glyphs come
        # in the order they stand on the page, the name's last letter first
        assert shown[family].count(name[::-1] if family == "Noto Sans Arabic" else name) == CHARTS[iso3], family
    assert set(shown) == {"Source Sans Pro", *(family for _, family in NAMES.values())}
    # the other labels stay text in the main family
    assert shown["Source Sans Pro"].count("Kyrgyz Republic") == CHARTS["KGZ"]  # one run, its space kept


def test_no_system_font_and_no_missing_glyph(built):
    assert [str(f) for f in check_pdf(built / "RUS.en.pdf", only=["glyphs", "fonts"])] == []
    with pdfplumber.open(built / "RUS.en.pdf") as doc:
        families = {re.sub(r"-(Semi-Bold|Bold)$", "", c["fontname"].split("+", 1)[-1]).replace("-", " ")
                    for page in doc.pages for c in page.chars}
    assert families <= set(FAMILIES)


def test_html_chart_text_names_only_the_fallbacks_it_needs(built):
    html = (built / "RUS.en.html").read_text(encoding="utf-8")
    texts = re.findall(r"<text style=\"[^\"]*font-family: ([^;\"]*)[^>]*>([^<]*)</text>", html)
    for iso3, (name, family) in NAMES.items():
        assert [f for f, t in texts if t == name] == [f"'Source Sans Pro','{family}'"] * CHARTS[iso3]
    assert {f for f, t in texts if t.isascii()} == {"'Source Sans Pro'"}


TEXT_CONTENT = "function() { return this.textContent; }"


def test_chromium_sets_chart_names_in_the_embedded_fallbacks(built):
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: install it with `sudo apt-get install -y chromium`",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto((built / "RUS.en.html").as_uri())
        page.evaluate("document.fonts.ready.then(() => true)")
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]
        used: dict[str, set[tuple[str, bool]]] = defaultdict(set)
        for node in cdp.send("DOM.querySelectorAll", {"nodeId": root["nodeId"], "selector": "svg text"})["nodeIds"]:
            text = cdp.send("DOM.resolveNode", {"nodeId": node})["object"]["objectId"]
            content = cdp.send("Runtime.callFunctionOn", {"objectId": text, "returnByValue": True,
                                                          "functionDeclaration": TEXT_CONTENT})["result"]["value"]
            for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]:
                used[content].add((font["familyName"], font["isCustomFont"]))
        browser.close()
    for name, family in NAMES.values():
        assert used[name] == {(family, True)}
    assert not {font for fonts in used.values() for font in fonts if not font[1]}


def test_widths_are_measured_in_the_font_that_sets_the_text():
    """A label's width, from which a chart sizes its gutter, agrees with HarfBuzz's shaping of the text in
    the fallback font (measured in Source Sans Pro alone, each of these names was 0 wide)."""
    need_fallback_fonts()
    for name, family in NAMES.values():
        face = hb.Face(hb.Blob.from_file_path(str(fallback_file(family, 400))), 0)
        font = hb.Font(face)
        buf = hb.Buffer()
        buf.add_str(name)
        buf.guess_segment_properties()
        hb.shape(font, buf)
        shaped = sum(p.x_advance for p in buf.glyph_positions) / face.upem * 6.5 / 72  # inches at 6.5 pt
        assert 1.0 <= charts.text_width(name, 6.5) / shaped <= 1.1, family
    latin = charts.text_width("Kyrgyz Republic", 6.5)
    assert charts.text_width("Kyrgyz Republic 哈萨克斯坦", 6.5) == pytest.approx(
        latin + charts.text_width(" 哈萨克斯坦", 6.5), rel=0.01)


def test_chart_svg_is_deterministic_and_quiet(recwarn, caplog):
    """Drawing a label in Georgian twice gives the same bytes, without a missing-glyph or font warning."""

    @charts.styled
    def draw() -> str:
        fig = charts._figure((2.0, 1.0))
        fig.text(0.1, 0.6, NAMES["GEO"][0], fontweight="semibold")
        fig.text(0.1, 0.2, f"{NAMES['KAZ'][0]} (Kazakhstan)", fontweight="bold")
        return charts._svg(fig)

    with matplotlib.rc_context():
        first, second = draw(), draw()
    assert first == second
    assert "font-family: 'Source Sans Pro','Noto Sans Georgian';" in first
    assert "font-family: 'Source Sans Pro','Noto Sans CJK JP';" in first
    assert not [str(w.message) for w in recwarn.list]
    assert not [r.getMessage() for r in caplog.records if r.levelname in ("WARNING", "ERROR")]

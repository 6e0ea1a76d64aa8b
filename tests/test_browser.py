"""The HTML documents in a real browser: Debian's Chromium driven by Playwright, checked by axe-core.

Every HTML document kind (brief, annex, the output folder's index page), in two languages, at
1280 and 390 pixels wide: no axe violation of any impact, no request outside the file, the embedded
fonts loaded, and at 390 pixels no table whose cells run into each other.

Without Chromium these tests fail and say what to install (they never pass by skipping).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from sesreport.cli import main
from tests.conftest import CONFIG, need_real

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = (1280, 390)
DOCUMENTS = ["brief/RUS.en.html", "brief/RUS.ru.html", "full/brief/RUS.en.html", "annex/ses.en.html",
             "annex/ses.ru.html", "index.html"]


def axe_source() -> str:
    try:
        import axe_playwright_python
    except ImportError:
        pytest.fail("axe-core is missing: install the test tools with .venv/bin/pip install -e '.[test]' "
                    "(it comes with the pinned axe-playwright-python package)", pytrace=False)
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: install it with `sudo apt-get install -y chromium` "
                    "(scripts/system-deps.sh, run by `make test`, does it)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: install the test tools with .venv/bin/pip install -e '.[test]'",
                    pytrace=False)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The Russian Federation brief in Russian and English and the annex in English and Russian (the
    project's annex is English only; a copy of the config adds Russian), with the index page."""
    real = need_real()
    config = tmp_path_factory.mktemp("config") / "config"
    shutil.copytree(CONFIG, config)
    annex = yaml.safe_load((config / "annex.yaml").read_text(encoding="utf-8"))
    annex["languages"] = ["en", "ru"]
    (config / "annex.yaml").write_text(yaml.safe_dump(annex, allow_unicode=True), encoding="utf-8")
    out = tmp_path_factory.mktemp("html")
    assert main(["build", "RUS", "--document", "brief", "--document", "annex", "--config", str(config),
                 "--data", str(real), "--out", str(out), "--as-of", "2026-11-27", "-j", "1"]) == 0
    # the long form of the brief too, with its tables, in full/
    assert main(["build", "RUS", "--document", "brief", "--config", str(config), "--format", "full",
                 "--data", str(real), "--out", str(out / "full"), "--as-of", "2026-11-27", "-j", "1"]) == 0
    return out


def open_page(browser, path: Path, width: int):
    """The page at `path`, with every request other than the file itself refused and recorded."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    outside: list[str] = []

    def route(r):
        if r.request.url == path.as_uri() or r.request.url.startswith("data:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.evaluate("document.fonts.ready.then(() => true)")
    return page, outside


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("document", DOCUMENTS)
def test_no_axe_violation_and_no_outside_request(browser, built, document, width):
    path = built / document
    page, outside = open_page(browser, path, width)
    try:
        page.add_script_tag(content=axe_source())
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        violations = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
        assert violations == []
        assert outside == []
        assert page.evaluate("document.documentElement.lang") == ("ru" if ".ru." in document else "en")
        assert page.title().strip()
        assert page.evaluate("document.querySelectorAll('main').length") == 1
    finally:
        page.close()


STRICT_CONTRAST = """
() => {
  axe.configure({checks: [{id: 'color-contrast', options: {
    ignoreUnicode: false, ignoreLength: true,
    contrastRatio: {normal: {expected: 4.5}, large: {expected: 4.5}}}}]});
  return axe.run(document, {runOnly: ['color-contrast'], resultTypes: ['violations', 'incomplete']});
}
"""


@pytest.mark.parametrize("document", DOCUMENTS)
def test_all_text_has_contrast_of_at_least_4_5(browser, built, document):
    """axe's contrast rule made stricter: 4.5:1 for large text too, and for separators and symbols."""
    page, _ = open_page(browser, built / document, 1280)
    try:
        page.add_script_tag(content=axe_source())
        result = page.evaluate(STRICT_CONTRAST)
        failing = [(n["target"], n["any"][0]["data"].get("contrastRatio") if n["any"] else None)
                   for v in result["violations"] for n in v["nodes"]]
        assert failing == []
    finally:
        page.close()


@pytest.mark.parametrize("document", DOCUMENTS[:4])
def test_embedded_fonts_are_loaded(browser, built, document):
    """The pinned fonts come from the file itself: every @font-face loads, and text is set in them."""
    page, _ = open_page(browser, built / document, 1280)
    try:
        faces = page.evaluate("[...document.fonts].map(f => [f.family.replaceAll('\"', ''), f.weight, f.status])")
        assert ["Source Sans Pro", "400", "loaded"] in faces and ["Source Serif Pro", "600", "loaded"] in faces
        assert all(status == "loaded" for _, _, status in faces), faces
        # charts are inline SVG; the publisher's logo (an SVG file of the config) stays an image with its alt text
        assert page.evaluate("document.querySelectorAll('img:not(.logo)').length") == 0
        assert page.evaluate("[...document.querySelectorAll('img.logo')].every(i => i.alt && i.complete)")
        chart_font = page.evaluate("getComputedStyle(document.querySelector('svg.chart text') "
                                   "|| document.body).fontFamily")
        assert "Source Sans Pro" in chart_font
    finally:
        page.close()


@pytest.mark.parametrize("document", ["brief/RUS.ru.html", "annex/ses.ru.html"])
def test_every_text_is_set_in_an_embedded_font(browser, built, document):
    """Chromium reports the fonts it really used for each element's text: all of them come from the
    file (capitals made by `text-transform` included), none from the system."""
    page, _ = open_page(browser, built / document, 1280)
    try:
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]
        ids = cdp.send("DOM.querySelectorAll", {"nodeId": root["nodeId"],
                                                "selector": "main *:not(svg *), main svg text"})["nodeIds"]
        system: set[tuple[str, str]] = set()
        for node in ids:
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            for font in fonts:
                if not font["isCustomFont"]:
                    tag = cdp.send("DOM.describeNode", {"nodeId": node})["node"]["localName"]
                    system.add((tag, font["familyName"]))
        assert len(ids) > 100
        assert system == set(), f"text set in system fonts: {sorted(system)[:10]}"
    finally:
        page.close()


CELLS_OVERLAP = """
(table) => {
  const boxes = [];
  for (const cell of table.querySelectorAll('th, td')) {
    const range = document.createRange();
    range.selectNodeContents(cell);
    const r = range.getBoundingClientRect();
    const c = cell.getBoundingClientRect();
    if (r.width === 0) continue;
    boxes.push({text: cell.innerText.trim(), l: r.left, r: r.right, t: r.top, b: r.bottom,
                inside: r.left >= c.left - 1 && r.right <= c.right + 1});
  }
  const problems = boxes.filter(b => !b.inside).map(b => 'overflows its cell: ' + b.text);
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    const w = Math.min(a.r, b.r) - Math.max(a.l, b.l), h = Math.min(a.b, b.b) - Math.max(a.t, b.t);
    if (w > 0.5 && h > 0.5) problems.push('overlap: ' + a.text + ' | ' + b.text);
  }
  return [boxes.length, problems];
}
"""


@pytest.mark.parametrize(("document", "section", "cells"), [
    ("full/brief/RUS.en.html", "#s-labour_market", "labour_market"),
    ("full/brief/RUS.ru.html", "#s-income_poverty", None),
    ("annex/ses.en.html", "#table", None),
])
def test_tables_stay_readable_at_390_px(browser, built, tmp_path, document, section, cells):
    """At phone width no two cells' contents overlap and none spills out of its cell (the table scrolls
    sideways in its frame instead); the screenshot of the section is kept for a person to look at."""
    page, _ = open_page(browser, built / document, 390)
    try:
        element = page.locator(section)
        element.screenshot(path=str(tmp_path / "section.png"))
        assert (tmp_path / "section.png").stat().st_size > 10_000
        count, problems = element.locator("table").first.evaluate(CELLS_OVERLAP)
        assert problems == []
        if cells is not None:  # a head of 8 cells, and 8 for each indicator the figures record in the table
            figures = json.loads((built / document).with_suffix(".figures.json").read_text(encoding="utf-8"))
            rows = [f for f in figures if f["what"] == "table value" and f.get("section") == cells]
            assert len(rows) >= 5 and count == 8 + 8 * len(rows)
        frame = element.locator(".table-wrap").first
        assert frame.evaluate("e => e.scrollWidth > e.clientWidth")  # wider than the screen: it scrolls
        assert frame.evaluate("e => e.getBoundingClientRect().right") <= 390
    finally:
        page.close()

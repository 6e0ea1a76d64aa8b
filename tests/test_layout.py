"""The page layout of every document kind, read back from the real PDFs (issue 9).

In: every document the default project builds from the real data, and the briefs in their long form
(two builds, module-scoped), each PDF read with pdfplumber: its structure tree (the PDFs are tagged,
so every heading, caption, table row and figure is a structure element whose marked content lies on
a page) and the positions of its text and figures. Out: for every page, what the last element on it
is and how much of the text area below the content is left empty.

Checked on every page of every A4 document:
- the last element on a page is not a heading (H1–H6), a caption (of a figure or a table) or a table
  head without any body row after it on that page: each of those belongs with what follows it;
- the content reaches at least three quarters of the way down the text area, except on the last page
  and on a page followed by a page of another size (the annex's landscape table must start a page;
  no other part of any document starts on a new page by force).

The slide decks are 16:9 pages in which each slide is a page by design, so the quarter-empty rule does
not apply to them; the stranding rule does.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import pdfplumber
import pytest

from tests.conftest import REPO, need_real

AS_OF = "2026-11-27"
MM = 72 / 25.4
#: the text area's top and bottom margins of print.css's @page rules, by orientation, for a page
#: without a running header or footer to measure it by
MARGINS = {"portrait": (20 * MM, 18 * MM), "landscape": (16 * MM, 15 * MM)}
#: the running header and footer stand this far from the text area (print.css @top-*, @bottom-*)
FURNITURE_GAP = 3 * MM
MAX_EMPTY = 0.25
STRANDING = re.compile(r"^(H[1-6]?|Caption)$")


@dataclass
class Block:
    """A structure element with marked content on one page, and the roles of the elements above it."""

    role: str
    path: tuple[str, ...]
    text: str
    bottom: float  # lowest point on the page, from the top, in points
    table: int | None = None  # which table it belongs to (an identity within one document)


@dataclass
class Page:
    number: int
    width: float
    height: float
    blocks: list[Block] = field(default_factory=list)
    furniture: list[tuple[float, float]] = field(default_factory=list)  # running header and footer: top, bottom

    @property
    def landscape(self) -> bool:
        return self.width > self.height

    @property
    def text_area(self) -> tuple[float, float]:
        """From the running header to the running footer, else from the margins of print.css."""
        top, bottom = MARGINS["landscape" if self.landscape else "portrait"]
        heads = [b for t, b in self.furniture if b < self.height / 2]
        feet = [t for t, b in self.furniture if t > self.height / 2]
        return (max(heads) + FURNITURE_GAP if heads else top,
                min(feet) - FURNITURE_GAP if feet else self.height - bottom)

    @property
    def empty(self) -> float:
        """Share of the text area left empty below the lowest content."""
        top, bottom = self.text_area
        lowest = max((b.bottom for b in self.blocks), default=top)
        return max(bottom - lowest, 0.0) / (bottom - top)


def _elements(node: dict, path: tuple[str, ...] = (), table: int | None = None
              ) -> Iterator[tuple[dict, tuple[str, ...], int | None]]:
    """Every structure element under `node` in reading order, with the roles of its ancestors and
    the table it is in."""
    for kid in node.get("children", []):
        yield kid, path, table
        yield from _elements(kid, (*path, kid["type"]), id(kid) if kid["type"] == "Table" else table)


def read_pages(pdf_path: Path) -> list[Page]:
    """The pages of a tagged PDF with their content blocks in reading order."""
    with pdfplumber.open(pdf_path) as pdf:
        pages = [Page(p.page_number, float(p.width), float(p.height)) for p in pdf.pages]
        by_mcid: dict[tuple[int, int], list[dict]] = {}
        for p in pdf.pages:
            for obj in [*p.chars, *p.rects, *p.lines, *p.curves, *p.images]:
                if obj.get("mcid") is not None:
                    by_mcid.setdefault((p.page_number, obj["mcid"]), []).append(obj)
        tagged: set[tuple[int, int]] = set()
        for element, path, table in _elements({"children": pdf.structure_tree}):
            number, mcids = element.get("page_number"), element.get("mcids")
            if number is None or not mcids:
                continue
            page = pages[number - 1]
            tagged.update((number, m) for m in mcids)
            objs = [o for m in mcids for o in by_mcid.get((number, m), [])]
            bottoms = [float(o["bottom"]) for o in objs]
            box = element.get("attributes", {}).get("BBox")
            if box:  # a figure: its bounding box in page coordinates, from the bottom
                bottoms.append(page.height - float(box[1]))
            if not bottoms:
                continue
            text = "".join(o.get("text", "") for o in objs if o.get("object_type") == "char")
            page.blocks.append(Block(element["type"], path, text.strip(), max(bottoms), table))
        for (number, mcid), objs in by_mcid.items():  # marked content outside the structure: the margin boxes
            if (number, mcid) not in tagged:
                pages[number - 1].furniture += [(float(o["top"]), float(o["bottom"])) for o in objs]
    return pages


def stranded(page: Page) -> str | None:
    """What is left alone at the foot of `page`, or None."""
    if not page.blocks:
        return None
    last = page.blocks[-1]
    roles = (*last.path, last.role)
    for r in reversed(roles):
        if STRANDING.match(r):
            return f"{'heading' if r.startswith('H') else 'caption'} {r} “{last.text[:60]}”"
    if "THead" in roles:
        return f"table head “{last.text[:60]}” without a body row"
    return None


def opens_anew(page: Page, following: Page | None) -> bool:
    """Whether `page` is the last, or the next page has another size (so what it holds had to start a page)."""
    return following is None or following.landscape != page.landscape


def captionless_tables(pages: list[Page]) -> Iterator[tuple[Page, Block]]:
    """Tables that open a page without their caption while the page before ends outside a table:
    the caption was left at the foot of that page (and the tag repair made it a paragraph, see
    sesreport/pdfpost.py). A table continued from the page before is not one of them."""
    for before, page in zip(pages, pages[1:]):
        if not page.blocks or not before.blocks:
            continue
        first = page.blocks[0]
        if first.table is not None and "Caption" not in (*first.path, first.role) and before.blocks[-1].table is None:
            yield page, first


def problems(name: str, pages: list[Page], slides: bool = False) -> list[str]:
    """Every stranded element and every page emptier than allowed, by document and page."""
    out = [f"{name} page {page.number}: a table starts with “{block.text[:40]}” and its caption was left on the "
           f"page before" for page, block in captionless_tables(pages)]
    for i, page in enumerate(pages):
        what = stranded(page)
        if what:
            out.append(f"{name} page {page.number}: {what} is the last thing on the page")
        following = pages[i + 1] if i + 1 < len(pages) else None
        if not slides and not opens_anew(page, following) and page.empty > MAX_EMPTY:
            last = f"{page.blocks[-1].role} “{page.blocks[-1].text[:50]}”" if page.blocks else "nothing"
            out.append(f"{name} page {page.number}: {page.empty:.0%} of the text area is empty "
                       f"(the last thing on it: {last})")
    return out


def test_the_checks_find_a_stranded_heading_and_an_empty_page(tmp_path):
    """The reading above, on a PDF made with the house style and forced breaks where the style
    would never put them."""
    from sesreport.render import write_pdf

    html = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Layout check</title></head>"
            "<body><main><p>An opening paragraph.</p><div style=\"height: 215mm\"></div>"
            "<h2 style=\"break-after: page\">Left behind</h2>"
            "<p style=\"break-after: page\">The only paragraph of the second page.</p>"
            "<p>The last page.</p></main></body></html>")
    (tmp_path / "check.pdf").write_bytes(write_pdf(html).data)
    assert problems("check.pdf", read_pages(tmp_path / "check.pdf")) == [
        "check.pdf page 1: heading H2 “Left behind” is the last thing on the page",
        "check.pdf page 2: 98% of the text area is empty (the last thing on it: Span “The only paragraph of the "
        "second page.”)"]


# ------------------------------------------------------------------------------------------------
# the documents the default project builds (one build for them all, one for the long-form briefs)

#: kind -> (the build it comes from, its output folder, the languages the default project builds it in)
KINDS = {
    "brief": ("default", "brief", ("en", "ru", "fr", "es", "uk")),
    "brief-full": ("full", "brief", ("en", "ru", "fr", "es", "uk")),
    "annex": ("default", "annex", ("en", "fr", "es", "ru", "uk")),
    "strategy": ("default", "strategy", ("en", "ru")),
    "implementation": ("default", "implementation", ("en", "fr", "es")),
}
#: build -> its options: everything the default project builds, and the briefs in their long form
BUILDS = {"default": (), "full": ("--kind", "brief", "--format", "full")}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """Every kind built once from the real data: kind -> its output folder."""
    root = tmp_path_factory.mktemp("layout")
    for name, options in BUILDS.items():
        run = subprocess.run([sys.executable, str(REPO / "generate.py"), "build", "--data", str(need_real()),
                              "--out", str(root / name), "--as-of", AS_OF, *options],
                             capture_output=True, text=True, cwd=REPO, timeout=1800)
        assert run.returncode == 0, run.stderr[-3000:]
    return {kind: root / build / folder for kind, (build, folder, _) in KINDS.items()}


@pytest.mark.parametrize(("kind", "lang"), [(k, lang) for k, (_, _, langs) in KINDS.items() for lang in langs])
def test_nothing_stranded_and_no_page_more_than_a_quarter_empty(built, kind, lang):
    pdfs = sorted(p for p in built[kind].glob(f"*.{lang}*.pdf") if re.search(rf"\.{lang}(\.slides)?\.pdf$", p.name))
    assert pdfs, f"no {kind} document in {lang}"
    found = []
    for pdf in pdfs:
        found += problems(f"{kind}/{pdf.name}", read_pages(pdf), slides=pdf.name.endswith(".slides.pdf"))
    assert not found, "\n".join(found)


# ------------------------------------------------------------------------------------------------
# ranking charts that read: every bar labelled up to 15 countries, else the country, the extremes and
# the median; the value axis fitted to the values

CIS = ["ARM", "AZE", "BLR", "GEO", "KAZ", "KGZ", "MDA", "RUS", "TJK", "UKR", "UZB"]


def _latest(ds, code: str, since: int, countries: list[str] | None = None):
    h = ds.headline(code)
    latest = h.sort_values(["iso3", "year"]).groupby("iso3").tail(1)
    latest = latest[latest["year"] >= since]
    if countries is not None:
        latest = latest[latest["iso3"].isin(countries)]
    return latest[["iso3", "year", "value"]].reset_index(drop=True)


def _tick_texts(svg: str, axis: str) -> list[str]:
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    return ["".join(t.itertext()).strip() for g in root.iter(f"{ns}g") if g.get("id", "").startswith(f"{axis}tick_")
            for t in g.iter(f"{ns}text")]


def _chart(ds, values, code: str, lang: str = "en"):
    from sesreport import charts
    from sesreport.documents.brief import country_name
    from sesreport.i18n import Lang

    tongue = Lang(lang)
    names = {c: country_name(ds, c, tongue) for c in values["iso3"]}
    peers = values[values["iso3"] != "RUS"]["value"]
    return charts.ranking(values, "RUS", names, ds.catalog[code], tongue, float(peers.median())), names


def test_up_to_fifteen_countries_every_bar_carries_its_name_and_value(real_ds):
    values = _latest(real_ds, "employment_ratio", 2015, CIS)
    assert len(values) == 11
    chart, names = _chart(real_ds, values, "employment_ratio")
    printed = {label.get("iso3", "median"): label["text"] for label in chart.labels}
    assert set(printed) == set(CIS) | {"median"}
    assert printed["RUS"] == "59.8"
    for iso3, text in printed.items():
        if iso3 != "median":
            assert f">{names[iso3]}<" in chart.svg and f">{text}<" in chart.svg, iso3
    assert f"Peer median: {printed['median']}" in chart.svg
    assert "Russian Federation is " in chart.alt and "with 59.8%" in chart.alt
    # the largest value, Moldova's 71.2, ends the axis at 72, not at the next tick (80) or beyond
    assert values["value"].max() == 71.202
    assert _tick_texts(chart.svg, "x") == ["0", "20", "40", "60"]


def test_above_fifteen_countries_the_country_the_extremes_and_the_median_are_labelled(real_ds):
    values = _latest(real_ds, "union_density", 2015)
    assert len(values) == 109
    chart, names = _chart(real_ds, values, "union_density")
    printed = {label.get("iso3", "median"): label["text"] for label in chart.labels}
    assert printed == {"median": printed["median"], "ISL": "91.4", "MMR": "1.0", "RUS": "27.5"}
    assert "Iceland: 91.4" in chart.svg and "Myanmar: 1.0" in chart.svg and "Russian Federation: 27.5" in chart.svg
    assert ">Germany<" not in chart.svg and "Germany:" not in chart.svg  # the other bars stand unnamed
    assert "Bar chart ranking 109 countries by Trade union density" in chart.alt
    assert _tick_texts(chart.svg, "y")[-1] == "100"  # a percentage: never beyond 100
    assert _tick_texts(chart.svg, "x") == []


def test_the_value_axis_is_fitted_to_the_values(real_ds):
    from sesreport.charts import fitted_axis

    ratio = _latest(real_ds, "lfp_ratio_fm", 2015)
    assert round(float(ratio["value"].max()), 1) == 105.5  # Turkmenistan: women take part more than men
    ticks, low, high = fitted_axis(ratio["value"].to_numpy(), real_ds.catalog["lfp_ratio_fm"])
    assert (low, high) == (0.0, 108.0) and ticks.tolist() == [0, 30, 60, 90]
    union = _latest(real_ds, "union_density", 2015)
    assert fitted_axis(union["value"].to_numpy(), real_ds.catalog["union_density"])[2] == 100.0
    employment = _latest(real_ds, "employment_ratio", 2015, CIS)
    assert fitted_axis(employment["value"].to_numpy(), real_ds.catalog["employment_ratio"])[1:] == (0.0, 72.0)


def test_the_brief_traces_every_number_its_ranking_charts_print(built):
    records = json.loads((built["brief-full"] / "RUS.en.figures.json").read_text(encoding="utf-8"))
    labels = [r for r in records if r["what"] == "chart label" and r.get("chart") == "ranking"
              and r.get("indicator") == "employment_ratio"]
    by_country = {r["observation"]["iso3"]: r for r in labels if "observation" in r}
    assert set(by_country) == set(CIS)
    assert by_country["RUS"]["text"] == "59.8" and by_country["RUS"]["observation"]["year"] == 2025
    median = [r for r in labels if "peers" in r]
    assert len(median) == 1 and len(median[0]["peers"]) == 10

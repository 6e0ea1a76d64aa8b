#!/usr/bin/env python3
"""Time the charts of real two-page briefs in each format WeasyPrint could be given; print, not assert.

    .venv/bin/python scripts/benchmark_charts.py [--data DIR] [--countries RUS KAZ ...] [--repeat N]

The charts of each brief (five trends and the security profile) are drawn as the build draws them,
then timed in three forms:

- `SVG (lean)`: what the documents use, vector with text as text, made lean by `sesreport.leansvg`;
- `SVG (as matplotlib writes it)`: the same without that pass, to show what it saves;
- `PNG, 300 dpi`: matplotlib's Agg at print resolution, the text then pixels (only the alt text says it).

For each: matplotlib's time per chart, WeasyPrint's time for a page holding the brief's charts (through
`sesreport.render.write_pdf`, less the same page without them), and the size of that page's PDF.
Times are process CPU time, the least of `--repeat` rounds, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from html import escape
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from matplotlib.figure import Figure  # noqa: E402

from sesreport import charts  # noqa: E402
from sesreport.render import write_pdf  # noqa: E402

AS_OF = date(2026, 11, 27)
KINDS = ("trend", "ranking", "profile", "small_multiples")
Call = tuple[Callable[..., Any], tuple, dict]


def record_calls(data: Path, cache: Path, countries: list[str]) -> list[list[Call]]:
    """The chart calls the two-page brief of each country makes (the same arguments, in order)."""
    from sesreport.data.load import load_dataset
    from sesreport.documents.brief import build_brief
    from sesreport.execute import compute_indices
    from sesreport.i18n import Lang
    from sesreport.project import check_project, load_project

    ds = load_dataset(data, REPO / "config", cache_dir=cache)
    project = load_project(REPO / "config")
    check_project(project, set(ds.countries.table.index), ds)
    calls: list[Call] = []
    originals = {kind: getattr(charts, kind) for kind in KINDS}

    def recorder(draw: Callable[..., Any]) -> Callable[..., Any]:
        def record(*args: Any, **kwargs: Any) -> Any:
            calls.append((draw, args, kwargs))
            return draw(*args, **kwargs)
        return record

    per_brief = []
    try:
        for kind, draw in originals.items():
            setattr(charts, kind, recorder(draw))
        for iso3 in countries:
            loaded = project.countries[iso3]
            wanted = {loaded.config.index} if loaded.config.index else set()
            index = compute_indices(project, ds, wanted, cache).get(loaded.config.index or "")
            calls.clear()
            build_brief(ds, loaded, Lang("en"), AS_OF, project.catalog, index)
            per_brief.append(list(calls))
    finally:
        for kind, draw in originals.items():
            setattr(charts, kind, draw)
    return per_brief


def png(fig: Figure) -> str:
    """The figure as a 300 dpi PNG, base64 (standing in for `charts._svg` while PNG is timed)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=300, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


FORMS = {"svg": "SVG, lean (as built)", "raw": "SVG as matplotlib writes it", "png": "PNG, 300 dpi (text as pixels)"}


def draw_all(briefs: list[list[Call]]) -> list[list[Any]]:
    return [[draw(*args, **kwargs) for draw, args, kwargs in calls] for calls in briefs]


def page(images: list[tuple[str, str]]) -> str:
    """An A4 page with the charts at the two-page brief's width, as `<img>` data addresses like the brief's."""
    figures = "\n".join(f'<figure style="width: 86mm"><img src="{src}" alt="{escape(alt)}"></figure>'
                        for src, alt in images)
    return f'<!DOCTYPE html><html lang="en"><head><title>Charts</title></head><body>{figures}</body></html>'


@contextmanager
def form(name: str) -> Iterator[None]:
    """Charts drawn in one of the forms timed: "svg" as built, "raw" without the lean pass, "png"."""
    lean, svg = charts.lean, charts._svg
    if name == "raw":
        charts.lean = lambda text: text[text.find("<svg"):]  # type: ignore[assignment]
    elif name == "png":
        charts._svg = png  # type: ignore[assignment]
    try:
        yield
    finally:
        charts.lean, charts._svg = lean, svg


def pages(made: list[list[Any]], name: str) -> list[str]:
    """One page per brief holding its charts, as data addresses like the brief's."""
    def src(chart: Any) -> str:
        data = chart.svg if name == "png" else base64.b64encode(chart.svg.encode("utf-8")).decode("ascii")
        return f"data:{'image/png' if name == 'png' else 'image/svg+xml'};base64,{data}"
    return [page([(src(c), c.alt) for c in charts_of_brief if c is not None]) for charts_of_brief in made]


def cpu(function: Callable[[], Any]) -> float:
    start = time.process_time()
    function()
    return time.process_time() - start


def measure(briefs: list[list[Call]], repeat: int) -> dict[str, dict[str, float]]:
    """Per form: matplotlib's time per chart, WeasyPrint's per page of charts, the PDF's size, the
    elements per SVG. The forms take turns in each round, and each keeps its least time."""
    count = sum(map(len, briefs))
    made, html = {}, {}
    for name in FORMS:
        with form(name):
            made[name] = draw_all(briefs)
        html[name] = pages(made[name], name)
    empty = page([])
    for text in [empty, *html["svg"]]:
        write_pdf(text)  # fonts and stylesheets loaded once per process, as in a worker
    best: dict[str, dict[str, float]] = {name: {"chart": float("inf"), "page": float("inf")} for name in FORMS}
    blank = float("inf")
    for _ in range(repeat):
        blank = min(blank, cpu(lambda: write_pdf(empty)))
        for name in FORMS:
            with form(name):
                best[name]["chart"] = min(best[name]["chart"], cpu(lambda: draw_all(briefs)) / count)
            spent = sum(cpu(partial(write_pdf, text)) for text in html[name])
            best[name]["page"] = min(best[name]["page"], spent / len(briefs))
    for name in FORMS:
        best[name]["page"] -= blank
        best[name]["size"] = sum(len(write_pdf(text).data) for text in html[name]) / len(briefs)
        svgs = [c.svg for charts_of_brief in made[name] for c in charts_of_brief if c is not None]
        best[name]["elements"] = sum(s.count("<") - s.count("</") for s in svgs) / len(svgs)
        best[name]["blank"] = blank
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "real")
    parser.add_argument("--cache", type=Path, default=REPO / ".cache" / "sesreport")
    parser.add_argument("--countries", nargs="+", default=["RUS", "KAZ", "UKR", "IDN"])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    briefs = record_calls(args.data, args.cache, args.countries)
    count = sum(map(len, briefs))
    figures = measure(briefs, args.repeat)
    print(f"Charts of {len(briefs)} two-page briefs ({count} charts), the least of {args.repeat} rounds; WeasyPrint: "
          f"a page of one brief's charts, less {figures['svg']['blank'] * 1000:.1f} ms for the page without them")
    print(f"  {'':<32} {'matplotlib':>15} {'WeasyPrint':>15} {'PDF':>13} {'elements':>9}")
    for name, label in FORMS.items():
        f = figures[name]
        elements = f"{f['elements']:9.0f}" if name != "png" else f"{'':9}"
        print(f"  {label:<32} {f['chart'] * 1000:6.1f} ms/chart {f['page'] * 1000:7.1f} ms/brief"
              f"{f['size'] / 1024:6.1f} KiB/brief {elements}")
    per_brief = {name: f["chart"] * count / len(briefs) + f["page"] for name, f in figures.items()}
    print(f"  Per brief, its charts drawn and painted: {per_brief['svg']:.3f} s as built, {per_brief['raw']:.3f} s "
          f"with SVG as matplotlib writes it, {per_brief['png']:.3f} s as PNG.")
    print("  The documents use SVG: its text stays text (searchable, read aloud, in the fonts the PDF embeds)\n"
          "  and sharp at any zoom; a PNG chart's text is pixels, which only its alt text tells.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

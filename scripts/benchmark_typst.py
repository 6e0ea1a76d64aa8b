#!/usr/bin/env python3
"""Time the reference route a Quarto user takes: matplotlib charts, then pandoc and Typst, per brief.

    python scripts/benchmark_typst.py [--data DIR] [--countries N] [--jobs N] [--keep DIR]

In: the real data folder and the same batch of countries as `scripts/benchmark.py`.
Out: printed total seconds, documents, pages and seconds per page; `measure()` returns them to
the main benchmark, which prints them next to sesreport's cold batch.

The route's tools (the `typst` compiler's Python package, `pypandoc_binary` for pandoc, and
matplotlib at the product's pin) live in their own virtual environment under
`.cache/bench-typst/`, made on first use: they are not dependencies of sesreport.

What is timed is what Quarto would run per document after its own start-up: a fresh Python
process that draws the five charts and writes the Markdown (Quarto's kernel), pandoc from Markdown
to Typst, and the Typst compiler to PDF, as many documents at a time as there are cores (two on
the development machine). Reading the data and the peers' medians is done before the clock starts
(sesreport reads its data cache inside its own timing, a fraction of a second).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from sesreport.data.load import Dataset

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "real"
ENV_DIR = REPO / ".cache" / "bench-typst"
#: the route's tools, pinned; matplotlib and numpy follow the product's pins (pyproject.toml)
ROUTE_PINS = ("typst==0.15.2", "pypandoc_binary==1.17")
CHART_YEARS = 25


class RouteUnavailable(Exception):
    """The Typst route's environment could not be set up; the message says why."""


@dataclass(frozen=True)
class RouteResult:
    """Wall-clock seconds for a batch of briefs through pandoc and Typst, and what it made."""

    seconds: float
    documents: int
    pages: int

    @property
    def per_page(self) -> float:
        return self.seconds / self.pages if self.pages else float("nan")


# --- the route's environment ------------------------------------------------------------------


def _product_pins(*names: str) -> list[str]:
    """The product's exact pins for `names`, so the route draws charts with the same matplotlib."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = [dep for dep in project["dependencies"] if dep.split("==")[0] in names]
    return sorted(pins)


def route_pins() -> list[str]:
    return [*ROUTE_PINS, *_product_pins("matplotlib", "numpy")]


def setup_env(root: Path = ENV_DIR) -> Path:
    """Create or reuse the route's virtual environment; return its Python. Raise RouteUnavailable."""
    python = root / "venv" / "bin" / "python"
    stamp = root / "venv" / "pins.txt"
    pins = route_pins()
    if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8").split() == pins:
        return python
    steps = [
        [sys.executable, "-m", "venv", str(root / "venv")],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
        # build matplotlib's font cache once, as a Quarto user's machine already has it
        [str(python), "-c", "import matplotlib.pyplot"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise RouteUnavailable(f"{' '.join(step[:4])} … failed: {last}")
    stamp.write_text("\n".join(pins) + "\n", encoding="utf-8")
    return python


def pandoc_path(python: Path) -> Path:
    """Where `pypandoc_binary` put the pandoc executable in the route's environment."""
    done = subprocess.run([str(python), "-c", "import pypandoc; print(pypandoc.get_pandoc_path())"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RouteUnavailable(f"pandoc not found in {python.parent.parent}: {done.stderr.strip()[-200:]}")
    return Path(done.stdout.strip())


# --- the content: the same kind as a brief, from the real data (not timed) --------------------


def choose_countries(ds: Dataset, n: int) -> list[str]:
    """The batch `scripts/benchmark.py` builds: the `n` countries with the most indicators."""
    counts = ds.resolved.groupby("iso3")["indicator"].nunique().sort_values(ascending=False, kind="stable")
    return [c for c in counts.index if c in ds.countries.table.index][:n]


def _sections() -> dict[str, dict[str, Any]]:
    import yaml

    defaults = yaml.safe_load((REPO / "config" / "defaults.yaml").read_text(encoding="utf-8"))
    return {"key_figures": defaults["key_figures"], "sections": defaults["sections"]}


def _peer_medians(resolved: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    """Median value per (region, income group, indicator, year), indexed by them."""
    groups = ds.countries.table[["region", "income"]]
    rows = resolved.join(groups, on="iso3", how="inner")
    return rows.groupby(["region", "income", "indicator", "year"])["value"].median().to_frame("median")


def build_specs(ds: Dataset, countries: Sequence[str], out: Path) -> list[Path]:
    """Write one JSON spec per country (figures, series, peers' medians) under `out/ISO3/`."""
    from sesreport.project import load_project

    catalog = load_project(REPO / "config").catalog
    layout = _sections()
    resolved = ds.resolved[ds.resolved["breakdown"].fillna("") == ""]  # national totals, not rural/urban
    resolved = resolved.drop_duplicates(["iso3", "indicator", "year"])[["iso3", "indicator", "year", "value"]]
    medians = _peer_medians(resolved, ds)
    by_country = dict(tuple(resolved.groupby("iso3")))
    specs = []
    for iso3 in countries:
        country = ds.countries.table.loc[iso3]
        rows = by_country.get(iso3, resolved.iloc[:0])
        series = {code: list(zip(g["year"].tolist(), g["value"].tolist()))
                  for code, g in rows.sort_values("year").groupby("indicator")}
        peers: dict[str, list[tuple[int, float]]] = {}
        key = (country["region"], country["income"])
        for code in series:
            try:
                med = medians.loc[(*key, code)]["median"]
            except KeyError:
                continue
            peers[code] = list(zip(med.index.tolist(), med.tolist()))
        used = set(layout["key_figures"]) | {c for s in layout["sections"].values() for c in s["indicators"]}
        spec = {
            "iso3": iso3,
            "name": str(country["name"]),
            "peers": f"{country['region']}, {country['income']}",
            "key_figures": layout["key_figures"],
            "sections": [{"key": k, "title": k.replace("_", " ").capitalize(), "indicators": s["indicators"],
                          "chart": _chart_indicator(s, series)} for k, s in layout["sections"].items()],
            "labels": {c: catalog.label(c) for c in used if c in catalog.indicators},
            "units": {c: catalog.indicators[c].unit for c in used if c in catalog.indicators},
            "series": {c: v for c, v in series.items() if c in used},
            "medians": {c: v for c, v in peers.items() if c in used},
        }
        folder = out / iso3
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        specs.append(folder / "spec.json")
    return specs


def _chart_indicator(section: dict[str, Any], series: dict[str, Any]) -> str:
    """The section's trend chart indicator, or its first indicator that has data."""
    wanted = [c["indicator"] for c in section.get("charts", []) if c.get("type") == "trend"]
    for code in [*wanted, *section["indicators"]]:
        if series.get(code):
            return code
    return wanted[0] if wanted else section["indicators"][0]


# --- one document, in the route's environment (timed) -----------------------------------------


def _fmt(value: float) -> str:
    return f"{value:,.1f}"


def _latest(spec: dict[str, Any], code: str) -> tuple[int, float] | None:
    points = spec["series"].get(code)
    return (int(points[-1][0]), float(points[-1][1])) if points else None


def _median_at(spec: dict[str, Any], code: str, year: int) -> float | None:
    return next((float(v) for y, v in spec["medians"].get(code, []) if int(y) == year), None)


def _change_5y(spec: dict[str, Any], code: str) -> float | None:
    latest = _latest(spec, code)
    if latest is None:
        return None
    before = next((float(v) for y, v in spec["series"][code] if int(y) == latest[0] - 5), None)
    return None if before is None else latest[1] - before


def _table(spec: dict[str, Any], codes: Sequence[str]) -> list[str]:
    lines = ["| Indicator | Latest | Year | Change over 5 years | Peers' median |", "|---|--:|--:|--:|--:|"]
    for code in codes:
        label = spec["labels"].get(code, code)
        latest = _latest(spec, code)
        if latest is None:
            lines.append(f"| {label} | — | — | — | — |")
            continue
        change = _change_5y(spec, code)
        median = _median_at(spec, code, latest[0])
        lines.append(f"| {label} | {_fmt(latest[1])} | {latest[0]} | "
                     f"{'—' if change is None else f'{change:+.1f}'} | {'—' if median is None else _fmt(median)} |")
    return lines


def _sentences(spec: dict[str, Any], code: str) -> str:
    label = spec["labels"].get(code, code)
    latest = _latest(spec, code)
    if latest is None:
        return f"No value of {label.lower()} is published for {spec['name']}. Peers are {spec['peers']}."
    year, value = latest
    median = _median_at(spec, code, year)
    text = [f"In {year}, {label.lower()} in {spec['name']} was {_fmt(value)} ({spec['units'].get(code, '')})"
            + ("." if median is None else f", against a median of {_fmt(median)} among its peers ({spec['peers']}).")]
    change = _change_5y(spec, code)
    if change is None:
        text.append("No value five years earlier is available to compare with.")
    else:
        way = "rose" if change > 0 else "fell" if change < 0 else "did not change"
        text.append(f"Over the five years to {year} it {way}" + ("." if change == 0 else f" by {abs(change):.1f}."))
    text.append(f"The chart shows the last {CHART_YEARS} years next to the peers' median.")
    return " ".join(text)


def _chart(spec: dict[str, Any], code: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6.3, 2.6))
    for points, label, style in ((spec["series"].get(code, []), spec["name"], "-"),
                                 (spec["medians"].get(code, []), "Peers' median", "--")):
        points = [p for p in points if int(p[0]) > 2026 - CHART_YEARS]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], style, marker="o", markersize=3, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(spec["units"].get(code, ""))
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=200, metadata={"Date": None})  # print resolution when the format is PNG
    plt.close(fig)


def write_markdown(spec: dict[str, Any], folder: Path, chart_format: str) -> Path:
    """Draw the charts and write the brief as Markdown, as Quarto's kernel would; return its path."""
    lines = ["---", f'title: "Social and economic security: {spec["name"]}"',
             'subtitle: "Policy brief"', "papersize: a4", "margin:", "  x: 2cm", "  y: 2cm",
             "fontsize: 11pt", "---", "", "## Key figures", "", *_table(spec, spec["key_figures"])]
    for section in spec["sections"]:
        code = section["chart"]
        chart = f"{section['key']}.{chart_format}"
        _chart(spec, code, folder / chart)
        caption = f"{spec['labels'].get(code, code)}: {spec['name']} and its peers' median"
        lines += ["", f"## {section['title']}", "", _sentences(spec, code), "",
                  f"![{caption}]({chart}){{width=100%}}", "", *_table(spec, section["indicators"])]
    path = folder / "brief.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def render_one(spec_path: Path, pandoc: Path, chart_format: str) -> None:
    """Markdown and charts → pandoc → Typst → PDF, for one brief; run inside the route's environment."""
    import typst

    folder = spec_path.parent
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    markdown = write_markdown(spec, folder, chart_format)
    subprocess.run([str(pandoc), markdown.name, "--standalone", "--to", "typst", "--output", "brief.typ"],
                   cwd=folder, check=True)
    typst.compile(str(folder / "brief.typ"), output=str(folder / "brief.pdf"), root=str(folder))


# --- the batch --------------------------------------------------------------------------------


def run_batch(python: Path, specs: Sequence[Path], jobs: int, chart_format: str = "svg") -> RouteResult:
    """Render every spec, `jobs` documents at a time, each in a cold process; time the whole batch."""
    import pikepdf

    pandoc = pandoc_path(python)

    def one(spec: Path) -> None:
        done = subprocess.run([str(python), __file__, "--render-one", str(spec), "--pandoc", str(pandoc),
                               "--chart-format", chart_format], capture_output=True, text=True)
        if done.returncode != 0:
            raise RouteUnavailable(f"{spec.parent.name}: {done.stderr.strip()[-500:]}")

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, specs))
    seconds = time.perf_counter() - start
    pages = 0
    for spec in specs:
        with pikepdf.open(spec.parent / "brief.pdf") as pdf:
            pages += len(pdf.pages)
    return RouteResult(seconds=seconds, documents=len(specs), pages=pages)


def measure(ds: Dataset, countries: Sequence[str], work: Path, jobs: int | None = None,
            chart_format: str = "svg") -> RouteResult:
    """Set up the route (or raise RouteUnavailable), then time a cold batch of `countries` under `work`."""
    python = setup_env()
    specs = build_specs(ds, countries, work)
    return run_batch(python, specs, jobs or os.cpu_count() or 2, chart_format)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--countries", type=int, default=100, help="size of the batch (default 100)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="documents at a time (default: cores)")
    parser.add_argument("--chart-format", choices=["svg", "png"], default="svg")
    parser.add_argument("--keep", type=Path, help="write the briefs here and keep them (default: a temporary folder)")
    parser.add_argument("--render-one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pandoc", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render_one:
        render_one(args.render_one, args.pandoc, args.chart_format)
        return 0
    if not args.data.is_dir():
        print(f"no data folder at {args.data}; pass --data DIR", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO))
    from sesreport.data.load import load_dataset

    work = args.keep or Path(tempfile.mkdtemp(prefix="sesreport-typst-"))
    try:
        ds = load_dataset(args.data, REPO / "config", cache_dir=work / "cache")
        countries = choose_countries(ds, args.countries)
        result = measure(ds, countries, work / "briefs", args.jobs, args.chart_format)
    except RouteUnavailable as err:
        print(f"Typst route unavailable: {err}", file=sys.stderr)
        return 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"Typst route (matplotlib {args.chart_format.upper()} charts, pandoc, Typst; {args.jobs} at a time)")
    print(f"  {result.documents} briefs, {result.pages} pages in {result.seconds:.1f} s: "
          f"{result.per_page:.3f} s per page")
    return 0


if __name__ == "__main__":
    sys.exit(main())

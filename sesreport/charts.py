"""Charts in one house style: vector SVG with text kept as text, colour-blind-safe colours.

Every chart comes with alt text that says what it shows and its key numbers. Output is
deterministic: the same data give the same bytes. Layout is computed from the font's own
metrics instead of matplotlib's constrained layout, which would draw every chart twice.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator  # noqa: E402

from .catalog import Indicator  # noqa: E402
from .fonts import SANS, font_path, register_matplotlib  # noqa: E402
from .i18n import Lang  # noqa: E402

P = ParamSpec("P")
R = TypeVar("R")

# Okabe–Ito, safe for the common colour-vision deficiencies, plus neutral greys
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREY = "#8C959F"  # lines and rules only
MUTED = "#5B6770"  # secondary text: 5.8:1 on white, above the 4.5:1 WCAG asks of text
LIGHT = "#D5DAE0"
BAND = "#E4E8EC"
INK = "#1F2933"

MM = 1 / 25.4
PT = 1 / 72
HALF = (82 * MM, 52 * MM)
FULL = (170 * MM, 84 * MM)
FONT_SIZE = 7.0
SMALL = 6.5

STYLE: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "sesreport",
    "text.hinting": "no_hinting",
    "font.family": SANS,
    "font.size": FONT_SIZE,
    "axes.edgecolor": GREY,
    "axes.labelcolor": INK,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.labelsize": SMALL,
    "ytick.labelsize": SMALL,
    "xtick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 0,
    "ytick.major.pad": 2.5,
    "grid.color": "#E3E7EB",
    "grid.linewidth": 0.5,
    "legend.frameon": False,
    "lines.solid_capstyle": "round",
}


@dataclass
class Chart:
    """A drawn chart: its SVG, its alt text, and the data values it prints as text.

    `labels` are the annotations (not the axis ticks, which are scale): each one the printed text and
    what it labels, `{"text", "value"}` with `"year"` (a series' last point; `"panel"` in small
    multiples), `"iso3"` (a country's bar) or `"row"` (a row of the profile), so that a document can
    record the observation behind it.
    """

    svg: str
    alt: str
    kind: str
    labels: tuple[dict, ...] = ()


@functools.lru_cache(maxsize=4)
def _face(weight: str) -> FT2Font:
    name = {"regular": "SourceSansPro-Regular.ttf", "bold": "SourceSansPro-Bold.ttf",
            "semibold": "SourceSansPro-Semibold.ttf"}[weight]
    return FT2Font(str(font_path(SANS, name)))


# A FreeType face reads its file through a descriptor that a forked worker would share with its
# parent (and their reads would interleave): each process opens its own, as matplotlib does.
os.register_at_fork(after_in_child=_face.cache_clear)


def text_width(text: str, size: float, weight: str = "regular") -> float:
    """Width of a one-line text in inches, from the font's unhinted metrics, with a little slack
    for the PDF renderer's own shaping."""
    face = _face(weight)
    face.set_size(size, 720)
    face.set_text(text, 0.0)
    return face.get_width_height()[0] / 64 / 720 * 1.06


def _figure(size: tuple[float, float]) -> Figure:
    register_matplotlib()
    return Figure(figsize=size)


def styled(draw: Callable[P, R]) -> Callable[P, R]:
    """Draw in the house style, inside a matplotlib style context (the process-wide settings are
    left as they were)."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]  # the stubs list keys as literals
            return draw(*args, **kwargs)

    return wrapper


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buf.getvalue()
    return text[text.find("<svg"):]  # the prolog and DOCTYPE are noise once embedded


def _decimals_for(values: np.ndarray) -> int:
    """As many decimals as the tick values have (2.5 needs one), at most two."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    for decimals in (0, 1, 2):
        scaled = values * 10 ** decimals
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            return decimals
    return 2


def _label_decimals(values) -> int:
    values = np.asarray(values, dtype=float)
    top = float(np.nanmax(np.abs(values))) if len(values) else 0.0
    return 0 if top >= 100 else 1 if top >= 1 else 2


def _value_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    return np.asarray(MaxNLocator(nbins=n, min_n_ticks=3).tick_values(lo, hi))


def _legend_items(lang: Lang, country: str, band: bool) -> list[tuple]:
    items: list[tuple[Artist, str]] = [(Line2D([], [], color=BLUE, lw=1.5), country),
             (Line2D([], [], color=VERMILLION, lw=1.1, ls=(0, (4, 2))), lang.gettext("Peer median"))]
    if band:
        items.append((Patch(color=BAND, lw=0), lang.gettext("Peer range (10th–90th percentile)")))
    return items


def _place_legend(fig: Figure, items: list[tuple], width: float, top: float) -> float:
    """A legend in rows across the top of the figure; returns the height it takes, in inches."""
    sizes = [0.28 + text_width(label, SMALL) for _, label in items]
    rows: list[list[tuple]] = []
    row: list[tuple] = []
    used = 0.0
    for item, size in zip(items, sizes):
        if row and used + size > width:
            rows.append(row)
            row, used = [], 0.0
        row.append(item)
        used += size + 0.12
    rows.append(row)
    height = fig.get_figheight()
    line = 10.5 * PT
    for r, entries in enumerate(rows):
        fig.legend([e[0] for e in entries], [e[1] for e in entries], loc="upper left",
                   bbox_to_anchor=(0.0, 1 - (top + r * line) / height), ncol=len(entries), fontsize=SMALL,
                   handlelength=1.6, handletextpad=0.5, columnspacing=1.1, borderaxespad=0.0, borderpad=0.0)
    return len(rows) * line


def _trend_axes(fig: Figure, rect: tuple[float, float, float, float], history: pd.DataFrame, band: pd.DataFrame,
                lang: Lang, first: int, last: int, line_width: float = 1.5) -> dict:
    """Draw a country line against the peer median and band in `rect` (inches: left, bottom, w, h); gives
    the label printed at the line's last point (see `Chart.labels`)."""
    width, height = fig.get_size_inches()
    values = np.concatenate([history["value"].to_numpy(dtype=float)]
                            + ([band["low"].to_numpy(dtype=float), band["high"].to_numpy(dtype=float)]
                               if len(band) else []))
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    pad = (hi - lo) * 0.06 or abs(hi) * 0.1 or 1.0
    floor = max(lo - pad, 0.0) if lo >= 0 else lo - pad  # non-negative data never dips below zero
    ticks = _value_ticks(floor, hi + pad)
    decimals = _decimals_for(ticks)
    labels = [lang.number(float(t), decimals) for t in ticks]
    gutter = max(text_width(s, SMALL) for s in labels) + 4 * PT
    left, bottom, w, h = rect
    w -= 9 * PT  # room for half of the last year's label at the right edge
    ax = fig.add_axes(((left + gutter) / width, bottom / height, (w - gutter) / width, h / height))
    ax.grid(axis="y")
    ax.set_axisbelow(True)
    if len(band):
        ax.fill_between(band["year"], band["low"], band["high"], color=BAND, lw=0, zorder=1)
        ax.plot(band["year"], band["median"], color=VERMILLION, lw=1.1, ls=(0, (4, 2)), zorder=2)
    ax.plot(history["year"], history["value"], color=BLUE, lw=line_width, zorder=3)
    if len(history) <= 12:  # sparse survey series: show where the observations are
        ax.plot(history["year"], history["value"], ls="none", marker="o", ms=2.2, color=BLUE, zorder=3)
    ax.yaxis.set_major_locator(FixedLocator(ticks.tolist()))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: lang.number(v, decimals)))
    ax.set_ylim(ticks[0], ticks[-1])
    span = last - first
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5 if w > 2 else 4, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{int(v)}"))
    end = history.iloc[-1]
    label = lang.number(float(end["value"]), _label_decimals(history["value"]))
    room = (text_width(label, FONT_SIZE, "semibold") + 5 * PT) / ((w - gutter) / max(span, 1))
    ax.set_xlim(first - 0.4, last + max(0.8, room))
    ax.annotate(label, (float(end["year"]), float(end["value"])), xytext=(3, 0), textcoords="offset points",
                va="center", color=BLUE, fontsize=FONT_SIZE, fontweight="semibold")
    return {"text": label, "year": int(end["year"]), "value": float(end["value"])}


@styled
def trend(history: pd.DataFrame, band: pd.DataFrame, ind: Indicator, country: str, peer_label: str,
          lang: Lang, size: tuple[float, float] = HALF) -> Chart | None:
    """The country's series against the peers' median and 10th–90th percentile range.

    The chart's title is the document's figure caption, so that it is translated and read as text.
    """
    if not len(history):
        return None
    fig = _figure(size)
    width, height = size
    legend = _place_legend(fig, _legend_items(lang, country, bool(len(band))), width, 0.0)
    first = int(min(history["year"].min(), band["year"].min() if len(band) else history["year"].min()))
    last = int(history["year"].max())
    bottom = 14 * PT
    label = _trend_axes(fig, (0.0, bottom, width - 2 * PT, height - legend - bottom - 6 * PT), history, band, lang,
                        first, last)
    return Chart(_svg(fig), _trend_alt(history, band, ind, country, peer_label, lang), "trend", (label,))


def _trend_alt(history, band, ind, country, peer_label, lang: Lang) -> str:
    first, last = history.iloc[0], history.iloc[-1]
    text = lang.gettext("Line chart of {indicator} for {country}, {first}–{last}").format(
        indicator=lang.indicator(ind), country=country, first=int(first["year"]), last=int(last["year"]))
    if len(band):
        text += lang.gettext(", with the median and 10th–90th percentile range of {peers}").format(peers=peer_label)
    text += ". " + lang.gettext("{country}: {start} in {first}, {end} in {last}.").format(
        country=country, start=lang.value(float(first["value"]), ind), first=int(first["year"]),
        end=lang.value(float(last["value"]), ind), last=int(last["year"]))
    at = band[band["year"] == last["year"]] if len(band) else band
    if len(at):
        text += " " + lang.gettext("Peer median in {year}: {value}.").format(
            year=int(last["year"]), value=lang.value(float(at["median"].iloc[0]), ind))
    return text


@styled
def ranking(values: pd.DataFrame, iso3: str, names: dict[str, str], ind: Indicator, lang: Lang,
            median: float | None, size: tuple[float, float] = HALF) -> Chart | None:
    """Peers ranked best to worst, the country highlighted; bars labelled by name up to 22 countries."""
    if iso3 not in set(values["iso3"]) or len(values) < 2:
        return None
    ascending = ind.direction == "lower_better"
    data = values.sort_values(["value", "iso3"], ascending=[ascending, True]).reset_index(drop=True)
    n = len(data)
    colors = [BLUE if c == iso3 else LIGHT for c in data["iso3"]]
    fig = _figure(size)
    width, height = size
    top = 0.0
    if median is not None:
        top = _place_legend(fig, [(Line2D([], [], color=VERMILLION, lw=1, ls=(0, (4, 2))),
                                   lang.gettext("Peer median"))], width, 0.0)
    vmax = float(max(data["value"].max(), median or 0))
    vmin = float(min(data["value"].min(), 0))
    ticks = _value_ticks(vmin, vmax, 4)
    decimals = _decimals_for(ticks)
    pos = int(np.flatnonzero(data["iso3"].to_numpy() == iso3)[0])
    printed: list[dict] = []
    if n <= 22:
        label_size = 6.0 if n > 14 else SMALL
        labels = [names.get(c, c) for c in data["iso3"]]
        gutter = max(text_width(s, label_size, "bold" if c == iso3 else "regular")
                     for s, c in zip(labels, data["iso3"])) + 4 * PT
        bottom = 12 * PT
        ax = fig.add_axes((gutter / width, bottom / height, (width - gutter - 4 * PT) / width,
                           (height - top - bottom - 5 * PT) / height))
        y = np.arange(n)
        ax.barh(y, data["value"], color=colors, height=0.72, zorder=2)
        ax.set_yticks(y, labels, fontsize=label_size)
        ax.get_yticklabels()[pos].set_fontweight("bold")
        ax.get_yticklabels()[pos].set_color(BLUE)
        ax.set_ylim(n - 0.5, -0.5)
        ax.grid(axis="x")
        ax.set_axisbelow(True)
        ax.spines["left"].set_visible(False)
        ax.xaxis.set_major_locator(FixedLocator(ticks.tolist()))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: lang.number(v, decimals)))
        ax.set_xlim(ticks[0], ticks[-1])
        if median is not None:
            ax.axvline(median, color=VERMILLION, lw=1, ls=(0, (4, 2)), zorder=3)
    else:
        tick_labels = [lang.number(float(t), decimals) for t in ticks]
        gutter = max(text_width(s, SMALL) for s in tick_labels) + 4 * PT
        bottom = 12 * PT
        ax = fig.add_axes((gutter / width, bottom / height, (width - gutter - 2 * PT) / width,
                           (height - top - bottom - 5 * PT) / height))
        x = np.arange(n)
        ax.bar(x, data["value"], color=colors, width=0.8, zorder=2)
        ax.set_xticks([])
        ax.set_xlim(-0.8, n - 0.2)
        ax.grid(axis="y")
        ax.set_axisbelow(True)
        headroom = ticks[-1] + (ticks[-1] - ticks[0]) * 0.28
        ax.yaxis.set_major_locator(FixedLocator(ticks.tolist()))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: lang.number(v, decimals)))
        ax.set_ylim(ticks[0], headroom)
        value = float(data.at[pos, "value"])
        where = pos / max(n - 1, 1)
        shown = lang.number(value, _label_decimals(data["value"]))
        printed.append({"text": shown, "iso3": iso3, "value": value})
        ax.annotate(lang.gettext("{country}: {value}").format(country=names.get(iso3, iso3), value=shown),
                    (pos, value), xytext=(pos, ticks[-1] + (ticks[-1] - ticks[0]) * 0.1), textcoords="data",
                    ha="center" if 0.25 < where < 0.75 else ("left" if where <= 0.25 else "right"),
                    va="bottom", color=BLUE, fontsize=FONT_SIZE, fontweight="semibold",
                    bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none"},
                    arrowprops={"arrowstyle": "-", "color": BLUE, "lw": 0.6, "shrinkA": 0, "shrinkB": 1})
        if median is not None:
            ax.axhline(median, color=VERMILLION, lw=1, ls=(0, (4, 2)), zorder=3)
        ax.set_xlabel(lang.gettext("countries, most to least favourable") if ind.direction != "neutral"
                      else lang.gettext("countries, highest to lowest"), fontsize=SMALL, color=MUTED, labelpad=2)
    years = sorted({int(y) for y in data["year"]})
    span = f"{years[0]}" if len(years) == 1 else f"{years[0]}–{years[-1]}"
    mine = float(data.at[pos, "value"])
    better = data["value"] < mine if ind.direction == "lower_better" else data["value"] > mine
    rank = int(better.sum()) + 1  # ties share the better rank, as in the tables
    alt = lang.gettext("Bar chart ranking {n} countries by {indicator} (latest values, {years}); "
                       "{country} is {rank} with {value}").format(
        n=n, indicator=lang.indicator(ind), years=span, country=names.get(iso3, iso3), rank=lang.ordinal(rank),
        value=lang.value(mine, ind))
    if median is not None:
        alt += lang.gettext(", against a peer median of {median}").format(median=lang.value(median, ind))
    return Chart(_svg(fig), alt + ".", "ranking", tuple(printed))


@styled
def small_multiples(panels: list[tuple[Indicator, pd.DataFrame, pd.DataFrame]], country: str, lang: Lang,
                    size: tuple[float, float] = FULL) -> Chart | None:
    """A grid of small trend charts sharing one legend and one time axis."""
    panels = [p for p in panels if len(p[1])]
    if not panels:
        return None
    cols = 2 if len(panels) <= 4 else 3
    rows = int(np.ceil(len(panels) / cols))
    width = size[0]
    cell_h = 36 * MM
    title_h = 11 * PT
    legend_probe = _figure((width, 1))
    legend_h = _place_legend(legend_probe, _legend_items(lang, country, True), width, 0.0)
    height = legend_h + 4 * PT + rows * (cell_h + title_h)
    fig = _figure((width, height))
    legend_h = _place_legend(fig, _legend_items(lang, country, any(len(b) for _, _, b in panels)), width, 0.0)
    first = min(int(h["year"].min()) for _, h, _ in panels)
    last = max(int(h["year"].max()) for _, h, _ in panels)
    gap = 7 * MM
    cell_w = (width - gap * (cols - 1)) / cols
    alts = []
    labels = []
    for i, (ind, history, band) in enumerate(panels):
        r, c = divmod(i, cols)
        top = legend_h + 4 * PT + r * (cell_h + title_h)
        x = c * (cell_w + gap)
        fig.text(x / width, 1 - (top + 8 * PT) / height, lang.indicator_with_unit(ind, short=True),
                 fontsize=FONT_SIZE, fontweight="semibold", color=INK, va="baseline")
        bottom = height - (top + title_h + cell_h) + 12 * PT
        labels.append({**_trend_axes(fig, (x, bottom, cell_w - 2 * PT, cell_h - 14 * PT), history, band, lang, first,
                                     last, line_width=1.3), "panel": i})
        end = history.iloc[-1]
        alts.append(lang.gettext("{indicator}: {value} in {year}").format(
            indicator=lang.indicator(ind, short=True), value=lang.value(float(end["value"]), ind),
            year=int(end["year"])))
    alt = lang.gettext("Small multiples for {country}, each line against the peer median: ").format(country=country)
    return Chart(_svg(fig), alt + "; ".join(alts) + ".", "small_multiples", tuple(labels))


@styled
def profile(rows: list[tuple[str, float | None, float | None]], country: str, lang: Lang,
            size: tuple[float, float] = (170 * MM, 62 * MM)) -> Chart | None:
    """The security profile: each form's index for the country (dot) against the peer median (tick).

    `rows` are (form label, country value or None, peer median or None) on the 0–1 index scale.
    """
    if not any(v is not None for _, v, _ in rows):
        return None
    fig = _figure(size)
    width, height = size
    items = [(Line2D([], [], color=BLUE, marker="o", ls="none", ms=5), country),
             (Line2D([], [], color=VERMILLION, marker="|", ls="none", ms=9, mew=1.6), lang.gettext("Peer median"))]
    top = _place_legend(fig, items, width, 0.0)
    missing = lang.gettext("insufficient data")
    gutter = max(text_width(label, FONT_SIZE) for label, _, _ in rows) + 6 * PT
    bottom = 24 * PT  # tick labels and the axis title below them
    ax = fig.add_axes((gutter / width, bottom / height, (width - gutter - 10 * PT) / width,
                       (height - top - bottom - 6 * PT) / height))
    n = len(rows)
    y = np.arange(n)
    ax.set_xlim(0, 1)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_yticks(y, [label for label, _, _ in rows], fontsize=FONT_SIZE)
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.xaxis.set_major_locator(FixedLocator([0, 0.2, 0.4, 0.6, 0.8, 1.0]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: lang.number(v, 1)))
    ax.grid(axis="x")
    ax.set_axisbelow(True)
    described = []
    labels = []
    for i, (label, value, median) in enumerate(rows):
        ax.plot([0, 1], [i, i], color=BAND, lw=3.2, solid_capstyle="round", zorder=1)
        if median is not None:
            ax.plot([median], [i], marker="|", ms=11, mew=1.8, color=VERMILLION, zorder=2)
        if value is None:
            ax.text(0.015, i, missing, va="center", ha="left", fontsize=SMALL, color=MUTED, zorder=3,
                    bbox={"boxstyle": "square,pad=0.2", "fc": "white", "ec": "none"})
            described.append(lang.gettext("{form}: insufficient data").format(form=label))
            continue
        ax.plot([value], [i], marker="o", ms=6, color=BLUE, zorder=3)
        ax.annotate(lang.number(value, 2), (value, i), xytext=(0, 6), textcoords="offset points", ha="center",
                    va="bottom", fontsize=SMALL, color=BLUE, fontweight="semibold")
        labels.append({"text": lang.number(value, 2), "row": i, "value": value})
        text = lang.gettext("{form}: {value}").format(form=label, value=lang.number(value, 2))
        if median is not None:
            text += lang.gettext(" (peer median {median})").format(median=lang.number(median, 2))
        described.append(text)
    ax.set_xlabel(lang.gettext("index, 0 (least secure) to 1 (most secure)"), fontsize=SMALL, color=MUTED, labelpad=2)
    alt = lang.gettext("Dot chart of the security profile of {country} across the forms of security: ").format(
        country=country) + "; ".join(described) + "."
    return Chart(_svg(fig), alt, "profile", tuple(labels))

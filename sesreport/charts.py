"""Charts in one house style: vector SVG with text kept as text, colour-blind-safe colours.

Every chart comes with alt text that says what it shows and its key numbers. Output is
deterministic: the same data give the same bytes. Layout is computed from the font's own
metrics instead of matplotlib's constrained layout, which would draw every chart twice.

Text in a script Source Sans Pro lacks (a peer's name in Georgian, Arabic or Chinese) stays text:
its element names Source Sans Pro and then the pinned fallback families its characters need
(:func:`sesreport.fonts.text_families`), which WeasyPrint and the browser resolve to the fonts the
document embeds, and its width is measured in those fonts.

For speed, matplotlib measures text in Source Sans Pro alone unless a text needs a fallback (see
`_svg`), and the SVG it writes is made lean (:func:`sesreport.leansvg.lean`): the same drawing in
half the elements, which WeasyPrint paints a fifth faster. A trend chart's ticks are plain texts and
lines (:func:`_axis_ticks`), the same drawing as matplotlib's ticks at a fifth less of the chart's time.
A trend chart and the security profile (the charts every brief draws) reuse their figure and axes from
one drawing to the next, emptied of the last drawing (`_figure`, `_axes`): a new Axes cost a third
of a trend chart's time, and the output is the same bytes.
"""

from __future__ import annotations

import functools
import io
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from html import unescape
from typing import Any, ParamSpec, TypeVar, cast

import matplotlib

matplotlib.use("Agg")

import matplotlib.text as mtext  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.markers import TICKDOWN, TICKLEFT  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator  # noqa: E402
from matplotlib.transforms import ScaledTranslation  # noqa: E402

from . import fonts  # noqa: E402
from .catalog import Indicator  # noqa: E402
from .chartspec import COMPACT as COMPACT  # noqa: E402  (the sizes, the record and the widths, re-exported)
from .chartspec import COMPACT_PROFILE as COMPACT_PROFILE  # noqa: E402
from .chartspec import FULL, HALF, MM, PROFILE, PT, Chart, text_width  # noqa: E402
from .fonts import SANS, register_matplotlib  # noqa: E402
from .i18n import Lang  # noqa: E402
from .leansvg import lean  # noqa: E402

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

FONT_SIZE = 7.0
SMALL = 6.5

STYLE: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "sesreport",
    "text.hinting": "no_hinting",
    # matplotlib looks up every family of this list for each text it measures: a text that needs a
    # fallback family is given the ones it needs (see _svg)
    "font.family": [SANS],
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


def _figure(size: tuple[float, float], reuse: str | None = None) -> Figure:
    """A figure of `size` (inches). With `reuse`, the one this thread drew the last chart of that name
    on, emptied of it (its axes are emptied by `_axes`), or a new one kept for the next."""
    register_matplotlib()
    if reuse is None:
        return Figure(figsize=size)
    kept = _kept.__dict__
    fig = kept.get(reuse)
    if fig is None:
        fig = kept[reuse] = Figure(figsize=size)
        return fig
    fig.set_size_inches(size)
    for artist in [*fig.legends, *fig.texts, *fig.lines, *fig.patches, *fig.artists]:
        artist.remove()
    return fig


_kept = threading.local()  # per thread (a chart a thread at a time): chart name -> the figure it reuses


def _axes(fig: Figure, rect: tuple[float, float, float, float], reuse: bool = False) -> Axes:
    """Axes at `rect` (fractions of the figure). With `reuse`, the figure's first axes, if it has any
    (a figure from `_figure(reuse=...)`), emptied of what the last drawing added and moved to `rect`:
    making a new Axes, with its axis and tick machinery, was a third of a trend chart's time. The
    chart is the same, byte for byte, whatever was drawn on them before (`tests/test_charts_lean.py`)."""
    if not reuse or not fig.axes:
        return fig.add_axes(rect)
    ax = fig.axes[0]
    for artist in [*ax.lines, *ax.collections, *ax.texts, *ax.patches, *ax.artists, *ax.images]:
        artist.remove()
    ax.set_position(rect)
    ax.set_prop_cycle(None)  # the colours of unstyled lines start again
    ax.relim()  # no data limits left from the last drawing (limits are set by each chart)
    return ax


def styled(draw: Callable[P, R]) -> Callable[P, R]:
    """Draw in the house style, inside a matplotlib style context (the process-wide settings are
    left as they were), each text measured once a process (`_measured`)."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with matplotlib.rc_context(STYLE), _measured_once():  # type: ignore[arg-type]  # the stubs list keys as literals
            return draw(*args, **kwargs)

    return wrapper


@contextmanager
def _measured_once() -> Iterator[None]:
    """Within: matplotlib's texts measured by `_measured` (its own function back afterwards)."""
    own = mtext._get_text_metrics_with_cache  # type: ignore[attr-defined]  # private, and the pinned version has it
    mtext._get_text_metrics_with_cache = _measured  # type: ignore[attr-defined]
    try:
        yield
    finally:
        mtext._get_text_metrics_with_cache = own  # type: ignore[attr-defined]


def _measured(renderer: Any, text: str, fontprop: Any, ismath: Any, dpi: float) -> tuple[float, float, float]:
    """A text's width, height and descent as `renderer` measures it, kept for every later renderer of
    its kind: matplotlib keeps them per renderer, and each chart it saves has a renderer of its own, so
    that the same tick labels were measured again in every chart (a third of its texts' drawing time).
    A renderer of one kind measures a text alike at the same dpi (SVG's, from the font alone); the
    house style fixes the fonts."""
    key = (type(renderer), text, fontprop.copy(), ismath, dpi)  # a copy: the properties are mutable
    size = _sizes.get(key)
    if size is None:
        if len(_sizes) >= 50_000:
            _sizes.clear()
        size = _sizes[key] = renderer.get_text_width_height_descent(text, fontprop, ismath)
    return size


_sizes: dict[tuple, tuple[float, float, float]] = {}


def _svg(fig: Figure) -> str:
    """The figure as SVG, each text in Source Sans Pro and the fallback families its characters need.

    It is drawn in Source Sans Pro alone first. When a text has characters that font lacks (a peer's
    name in Georgian), each such text is given its families and the figure is drawn again: the same
    drawing as with every fallback family listed for every text, at a sixth less of the cost."""
    with warnings.catch_warnings(record=True) as caught:  # a glyph missing from Source Sans Pro
        warnings.simplefilter("always")
        text = _save(fig)
    needing = [(t, families) for t in _drawn_texts(fig) if len(families := fonts.text_families(t.get_text())) > 1]
    for artist, families in needing:
        artist.set_fontfamily(families)
    if needing:
        text = _save(fig)
    else:
        for warning in caught:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return lean(_TEXT.sub(_name_families, text))


def _drawn_texts(artist: Artist) -> Iterator[Text]:
    """The texts a drawing of `artist` shows: a hidden artist is not searched (a hidden axis would make
    the tick objects it does without, only to be searched)."""
    for child in artist.get_children():
        if child.get_visible():
            if isinstance(child, Text):
                yield child
            yield from _drawn_texts(child)


def _save(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return buf.getvalue()


_TEXT = re.compile(r'(<text style="[^"]*?font-family: )([^;"]*)([^>]*>)(.*?)(</text>)', re.DOTALL)


def _name_families(match: re.Match[str]) -> str:
    """A text element's font-family: Source Sans Pro and the fallbacks its characters need.

    Without a space after the commas: WeasyPrint's SVG text splits the list at each comma and strips
    quotes but not spaces, so that `'A', 'B'` would look for a family named ` "B` and fall back to
    a system font (WeasyPrint 70)."""
    families = ",".join(f"'{family}'" for family in fonts.text_families(unescape(re.sub(r"<[^>]*>", "", match[4]))))
    return match[1] + families + match[3] + match[4] + match[5]


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


def _key(lang: Lang, country: str, band: bool, min_peers: int = 5) -> tuple[dict, ...]:
    """A trend chart's legend: the country's line and, where a chart draws them, the peer median and the
    band, which says how many peers it needs (see `compute.peer_band`)."""
    if not band:
        return ({"mark": "country", "text": country},)
    return ({"mark": "country", "text": country}, {"mark": "median", "text": lang.gettext("Peer median")},
            {"mark": "band", "text": band_label(lang, min_peers)})


def _legend_items(key: tuple[dict, ...]) -> list[tuple]:
    """The legend's entries as the chart draws them (see `_key`)."""
    marks = {"country": lambda: Line2D([], [], color=BLUE, lw=1.5),
             "median": lambda: Line2D([], [], color=VERMILLION, lw=1.1, ls=(0, (4, 2))),
             "band": lambda: Patch(color=BAND, lw=0)}
    return [(marks[item["mark"]](), item["text"]) for item in key]


def band_label(lang: Lang, min_peers: int) -> str:
    """What the band is, as its legend says it: "Peer range, 10th–90th percentile (at least 5 peers)"."""
    return lang.ngettext("Peer range, 10th–90th percentile (at least %(num)d peer)",
                         "Peer range, 10th–90th percentile (at least %(num)d peers)", min_peers) % {"num": min_peers}


def _year_runs(years: np.ndarray) -> list[slice]:
    """The runs of consecutive years, as slices of `years` (sorted)."""
    cuts = np.flatnonzero(np.diff(years) != 1) + 1
    edges = [0, *cuts.tolist(), len(years)]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def _segments(history: pd.DataFrame) -> list[pd.DataFrame]:
    """The country's series cut at its breaks (the `segment` column of `compute.segmented`), if any."""
    if "segment" not in history:
        return [history]
    segment = history["segment"].to_numpy()
    if len(segment) and np.all(segment[1:] >= segment[:-1]):  # in order, as `compute.segmented` gives it
        edges = [0, *(np.flatnonzero(np.diff(segment)) + 1).tolist(), len(segment)]
        return [history.iloc[a:b] for a, b in zip(edges[:-1], edges[1:])]  # slices: the columns not copied
    return [part for _, part in history.groupby("segment", sort=True)]


def _band_years(band: pd.DataFrame) -> list[dict]:
    """Each year of a band with the number of peers it rests on and who they are (when `band` says)."""
    peers = band["peers"] if "peers" in band else [""] * len(band)
    return [{"year": int(y), "n": int(n), "peers": p.split(",") if p else []}
            for y, n, p in zip(band["year"], band["n"], peers)]


def breaks_shown(history: pd.DataFrame) -> list[tuple[int, int]]:
    """(last year before, first year after) of each break inside the history a chart draws."""
    parts = _segments(history)
    return [(int(a["year"].iloc[-1]), int(b["year"].iloc[0])) for a, b in zip(parts[:-1], parts[1:])]


def _legend_rows(labels: list[str], width: float) -> list[list[int]]:
    """A legend's entries (by their labels) in rows as wide as the figure: the entries' indices."""
    rows: list[list[int]] = []
    row: list[int] = []
    used = 0.0
    for i, label in enumerate(labels):
        size = 0.28 + text_width(label, SMALL)
        if row and used + size > width:
            rows.append(row)
            row, used = [], 0.0
        row.append(i)
        used += size + 0.12
    rows.append(row)
    return rows


LEGEND_LINE = 10.5 * PT  # the height of a row of a legend


def _legend_height(key: tuple[dict, ...], width: float) -> float:
    """The height a legend of these entries (see `_key`) takes across the top of a figure, in inches."""
    return len(_legend_rows([item["text"] for item in key], width)) * LEGEND_LINE


def _place_legend(fig: Figure, items: list[tuple], width: float, top: float) -> float:
    """A legend in rows across the top of the figure; returns the height it takes, in inches."""
    rows = [[items[i] for i in row] for row in _legend_rows([label for _, label in items], width)]
    height = fig.get_figheight()
    line = LEGEND_LINE
    for r, entries in enumerate(rows):
        fig.legend([e[0] for e in entries], [e[1] for e in entries], loc="upper left",
                   bbox_to_anchor=(0.0, 1 - (top + r * line) / height), ncol=len(entries), fontsize=SMALL,
                   handlelength=1.6, handletextpad=0.5, columnspacing=1.1, borderaxespad=0.0, borderpad=0.0)
    return len(rows) * line


def _inside(values: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
    """The values within the limits (as an axis keeps the ticks its locator gives)."""
    lo, hi = sorted(limits)
    slack = (hi - lo) * 1e-10
    return values[(values >= lo - slack) & (values <= hi + slack)]


@functools.lru_cache(maxsize=8)
def _line_height(size: float) -> float:
    """The height in points matplotlib gives a one-line label of figures in the house font at `size`:
    the font's typographic ascent and descent (its OS/2 table), which no figure reaches beyond."""
    from matplotlib.font_manager import FontProperties, fontManager, get_font

    font = get_font(fontManager.findfont(FontProperties(family=[SANS], size=size)))
    metrics, head = font.get_sfnt_table("OS/2"), font.get_sfnt_table("head")
    assert metrics is not None and head is not None, "Source Sans Pro has both tables"
    return (metrics["sTypoAscender"] - metrics["sTypoDescender"]) / head["unitsPerEm"] * size


def _axis_ticks(ax: Any, which: str, values: np.ndarray, labels: Sequence[str], *, pad: float,
                mark: float = 0.0, grid: bool = False, size: float = SMALL, title: str | None = None,
                title_pad: float = 2.0) -> None:
    """An axis's ticks as plain artists, the axis itself hidden: each label (`size` points) `pad` points
    beyond its tick mark (`mark` points long, outwards; none when 0), a grid line across the axes
    when `grid`, and below an x axis's labels its `title`, `title_pad` points below them.

    The same drawing as matplotlib's own ticks and axis label (placed, sized and coloured as the style
    says), without its tick machinery, a Tick object per tick with its properties deep-copied and its
    label measured twice, which took over half of a trend chart's time."""
    shift = (mark + pad) * PT
    if which == "x":
        along = ax.get_xaxis_transform()
        offset = ScaledTranslation(0, -shift, ax.figure.dpi_scale_trans)
        place = {"ha": "center", "va": "top"}
    else:
        along = ax.get_yaxis_transform()
        offset = ScaledTranslation(-shift, 0, ax.figure.dpi_scale_trans)
        place = {"ha": "right", "va": "center_baseline"}
    if grid:  # added as artists, not as data: the limits stay as set
        ax.add_artist(LineCollection([[(v, 0.0), (v, 1.0)] if which == "x" else [(0.0, v), (1.0, v)] for v in values],
                                     transform=along, colors=matplotlib.rcParams["grid.color"],
                                     linewidths=matplotlib.rcParams["grid.linewidth"], capstyle="round", zorder=0.5))
    for n, (value, label) in enumerate(zip(values, labels), start=1):
        at = (float(value), 0.0) if which == "x" else (0.0, float(value))
        # in a group named as matplotlib names a tick's (`xtick_1`): a label that is scale, not data
        ax.text(*at, label, transform=along + offset, fontsize=size, color=INK, gid=f"{which}tick_{n}", **place)
    if mark and len(values):
        ends = np.zeros(len(values))
        ax.add_artist(Line2D(*((values, ends) if which == "x" else (ends, values)), transform=along, ls="none",
                             marker=cast(Any, TICKDOWN if which == "x" else TICKLEFT), ms=mark, mew=0.6, color=INK,
                             clip_on=False))
    if title is not None:  # where matplotlib puts an axis label: `title_pad` below the labels' line
        below = ScaledTranslation(0, -shift - (_line_height(size) + title_pad) * PT, ax.figure.dpi_scale_trans)
        ax.text(0.5, 0.0, title, transform=ax.transAxes + below, fontsize=SMALL, color=MUTED, ha="center", va="top")
    (ax.xaxis if which == "x" else ax.yaxis).set_visible(False)


def _trend_axes(fig: Figure, rect: tuple[float, float, float, float], history: pd.DataFrame, band: pd.DataFrame,
                lang: Lang, first: int, last: int, line_width: float = 1.5, reuse: bool = False) -> dict:
    """Draw a country line against the peer median and band in `rect` (inches: left, bottom, w, h); gives
    the label printed at the line's last point (see `Chart.labels`). With `reuse`, on the figure's
    axes from its last drawing (see `_axes`).

    A history with a `segment` column (`compute.segmented`) is drawn one segment at a time, the first
    point after each break marked "b"; the band is drawn over the years it has, each run on its own."""
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
    ax = _axes(fig, ((left + gutter) / width, bottom / height, (w - gutter) / width, h / height), reuse)
    if len(band):  # only over the years the band holds: a gap in its years is a gap in the drawing
        for run in _year_runs(band["year"].to_numpy()):
            part = band.iloc[run]
            ax.fill_between(part["year"], part["low"], part["high"], color=BAND, lw=0, zorder=1)
            ax.plot(part["year"], part["median"], color=VERMILLION, lw=1.1, ls=(0, (4, 2)), zorder=2)
    parts = _segments(history)
    for k, part in enumerate(parts):  # no line across a break in series
        ax.plot(part["year"], part["value"], color=BLUE, lw=line_width, zorder=3)
        if len(history) <= 12 or len(part) == 1:  # sparse survey series: show where the observations are
            ax.plot(part["year"], part["value"], ls="none", marker="o", ms=2.2, color=BLUE, zorder=3)
        if k:  # the first point after a break: an open marker and "b", as in the tables
            start = (float(part["year"].iloc[0]), float(part["value"].iloc[0]))
            ax.plot(*start, ls="none", marker="o", ms=3.4, mfc="white", mec=BLUE, mew=0.9, zorder=4)
            ax.annotate("b", start, xytext=(0, 3.5), textcoords="offset points", ha="center", va="bottom",
                        color=INK, fontsize=SMALL, fontstyle="italic", zorder=4)
    ax.set_ylim(ticks[0], ticks[-1])
    span = last - first
    end = history.iloc[-1]
    label = lang.number(float(end["value"]), _label_decimals(history["value"]))
    room = (text_width(label, FONT_SIZE, "semibold") + 5 * PT) / ((w - gutter) / max(span, 1))
    ax.set_xlim(first - 0.4, last + max(0.8, room))
    years = _inside(np.asarray(MaxNLocator(nbins=5 if w > 2 else 4, integer=True).tick_values(*ax.get_xlim())),
                    ax.get_xlim())
    _axis_ticks(ax, "y", ticks, labels, pad=2.5, grid=True)
    _axis_ticks(ax, "x", years, [f"{int(v)}" for v in years], pad=3.5, mark=2.5)
    ax.annotate(label, (float(end["year"]), float(end["value"])), xytext=(3, 0), textcoords="offset points",
                va="center", color=BLUE, fontsize=FONT_SIZE, fontweight="semibold")
    return {"text": label, "year": int(end["year"]), "value": float(end["value"])}


@styled
def trend(history: pd.DataFrame, band: pd.DataFrame, ind: Indicator, country: str, peer_label: str,
          lang: Lang, size: tuple[float, float] = HALF, min_peers: int = 5, key: bool = False) -> Chart | None:
    """The country's series against the peers' median and 10th–90th percentile range.

    The chart's title is the document's figure caption, so that it is translated and read as text.
    `history` may carry a `segment` column (`compute.segmented`): no line is drawn across a break.
    `band` is `compute.peer_band`'s, which needed `min_peers` peers a year (the legend says so).
    With `key`, the legend is the page's to print (`Chart.key`) and the chart is drawn without it,
    shorter by the rows it would take: the same plot, and no letters for WeasyPrint to lay out one by
    one in SVG.
    """
    if not len(history):
        return None
    width, height = size
    legend_key = _key(lang, country, bool(len(band)), min_peers)
    if key:
        height -= _legend_height(legend_key, width)
    fig = _figure((width, height), reuse="trend")
    legend = 0.0 if key else _place_legend(fig, _legend_items(legend_key), width, 0.0)
    first = int(min(history["year"].min(), band["year"].min() if len(band) else history["year"].min()))
    last = int(history["year"].max())
    bottom = 14 * PT
    label = _trend_axes(fig, (0.0, bottom, width - 2 * PT, height - legend - bottom - 6 * PT), history, band, lang,
                        first, last, reuse=True)
    legend_label = ({"text": band_label(lang, min_peers), "setting": "min_peers", "band": _band_years(band)},
                    ) if len(band) else ()
    return Chart(_svg(fig), _trend_alt(history, band, ind, country, peer_label, lang), "trend",
                 (label, *legend_label), legend_key if key else ())


def _trend_alt(history, band, ind, country, peer_label, lang: Lang) -> str:
    first, last = history.iloc[0], history.iloc[-1]
    text = lang.gettext("Line chart of {indicator} for {country}, {first}–{last}").format(
        indicator=lang.indicator(ind), country=country, first=int(first["year"]), last=int(last["year"]))
    if len(band):
        text += lang.gettext(", with the median and 10th–90th percentile range of {peers}").format(peers=peer_label)
    text += ". " + lang.gettext("{country}: {start} in {first}, {end} in {last}.").format(
        country=country, start=lang.value(float(first["value"]), ind), first=int(first["year"]),
        end=lang.value(float(last["value"]), ind), last=int(last["year"]))
    for before, after in breaks_shown(history):
        text += " " + lang.gettext("The series breaks between {before} and {after}; the line is not drawn "
                                   "across the break.").format(before=before, after=after)
    at = band[band["year"] == last["year"]] if len(band) else band
    if len(at):
        text += " " + lang.gettext("Peer median in {year}: {value}.").format(
            year=int(last["year"]), value=lang.value(float(at["median"].iloc[0]), ind))
    return text


#: up to this many countries a ranking chart names every bar and prints its value
LABEL_EVERY_BAR = 15


def fitted_axis(values: np.ndarray, ind: Indicator, n: int = 4) -> tuple[np.ndarray, float, float]:
    """Nice ticks and the limits of a bar chart's value axis, fitted to the values: from zero (or below
    a negative minimum) to the next tick when that is near the largest value, else to the next fifth of
    a tick step past it; never past the most the indicator can take when the data stay inside it (a
    percentage stops at 100). Gives the ticks inside the limits, and the limits."""
    values = np.asarray(values, dtype=float)
    lo, hi = min(float(np.nanmin(values)), 0.0), max(float(np.nanmax(values)), 0.0)
    if hi <= lo:
        hi = lo + 1.0
    ticks = _value_ticks(lo, hi, n)
    span, minor = float(ticks[-1] - ticks[0]), float(ticks[1] - ticks[0]) / 5
    top = float(ticks[-1]) if ticks[-1] - hi <= 0.1 * span else float(np.ceil(hi / minor - 1e-9)) * minor
    bottom = float(ticks[0]) if lo - ticks[0] <= 0.1 * span else float(np.floor(lo / minor + 1e-9)) * minor
    upper = ind.limits[1]
    if upper is not None and hi <= upper:
        top = min(top, float(upper))
    inside = ticks[(ticks >= bottom - 1e-9) & (ticks <= top + 1e-9)]
    return inside, bottom, top


@styled
def ranking(values: pd.DataFrame, iso3: str, names: dict[str, str], ind: Indicator, lang: Lang,
            median: float | None, size: tuple[float, float] = HALF) -> Chart | None:
    """Peers ranked best to worst, the country highlighted, the peer median a labelled line.

    Up to `LABEL_EVERY_BAR` countries every bar carries the country's name and value; above that, the
    bars stand unnamed and only the country, the highest and the lowest value are labelled. The value
    axis is fitted to the data (`fitted_axis`). `Chart.labels` holds every printed value: `"iso3"`
    for a country's, `"median"` for the peer median's.
    """
    if iso3 not in set(values["iso3"]) or len(values) < 2:
        return None
    ascending = ind.direction == "lower_better"
    data = values.sort_values(["value", "iso3"], ascending=[ascending, True]).reset_index(drop=True)
    fig = _figure(size)
    decimals = _label_decimals(data["value"])
    printed: list[dict] = []
    top = 0.0
    if median is not None:
        shown = lang.number(median, decimals)
        printed.append({"text": shown, "value": float(median), "median": True})
        top = _place_legend(fig, [(Line2D([], [], color=VERMILLION, lw=1, ls=(0, (4, 2))), lang.gettext(
            "{country}: {value}").format(country=lang.gettext("Peer median"), value=shown))], size[0], 0.0)
    draw = _every_bar if len(data) <= LABEL_EVERY_BAR else _extremes_only
    printed += draw(fig, data, iso3, names, ind, lang, median, top, decimals)
    return Chart(_svg(fig), _ranking_alt(data, iso3, names, ind, lang, median), "ranking", tuple(printed))


def _bar_label(row: pd.Series, decimals: int, lang: Lang) -> dict:
    value = float(row["value"])
    return {"text": lang.number(value, decimals), "iso3": str(row["iso3"]), "value": value}


def _every_bar(fig: Figure, data: pd.DataFrame, iso3: str, names: dict[str, str], ind: Indicator, lang: Lang,
               median: float | None, top: float, decimals: int) -> list[dict]:
    """Horizontal bars, each named on the left and with its value at its end."""
    width, height = fig.get_size_inches()
    n = len(data)
    label_size = 6.0 if n > 10 else SMALL
    labels = [names.get(c, c) for c in data["iso3"]]
    printed = [_bar_label(row, decimals, lang) for _, row in data.iterrows()]
    weight = ["bold" if c == iso3 else "regular" for c in data["iso3"]]
    gutter = max(text_width(s, label_size, w) for s, w in zip(labels, weight)) + 4 * PT
    room = max(text_width(p["text"], label_size, "bold") for p in printed) + 4 * PT
    ticks, lo, hi = fitted_axis(data["value"].to_numpy(), ind)
    left_room = room if lo < 0 else 0.0  # a negative bar's value sits left of its end
    bottom = 12 * PT
    ax_w = width - gutter - room - left_room
    ax = fig.add_axes(((gutter + left_room) / width, bottom / height, ax_w / width,
                       (height - top - bottom - 5 * PT) / height))
    y = np.arange(n)
    colors = [BLUE if c == iso3 else LIGHT for c in data["iso3"]]
    ax.barh(y, data["value"], color=colors, height=0.72, zorder=2)
    ax.set_yticks(y, labels, fontsize=label_size)
    for tick, c in zip(ax.get_yticklabels(), data["iso3"]):
        if c == iso3:
            tick.set_fontweight("bold")
            tick.set_color(BLUE)
    ax.set_ylim(n - 0.5, -0.5)
    ax.grid(axis="x")
    ax.set_axisbelow(True)
    ax.spines["left"].set_visible(False)
    tick_decimals = _decimals_for(ticks)
    ax.xaxis.set_major_locator(FixedLocator(ticks.tolist()))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: lang.number(v, tick_decimals)))
    ax.set_xlim(lo, hi)
    for i, p in enumerate(printed):
        mine = p["iso3"] == iso3
        ax.annotate(p["text"], (p["value"], i), xytext=(2 if p["value"] >= 0 else -2, 0), textcoords="offset points",
                    ha="left" if p["value"] >= 0 else "right", va="center", fontsize=label_size,
                    color=BLUE if mine else INK, fontweight="bold" if mine else "normal", annotation_clip=False,
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"}, zorder=4)
    if median is not None:
        ax.axvline(median, color=VERMILLION, lw=1, ls=(0, (4, 2)), zorder=3)
    return printed


def _extremes_only(fig: Figure, data: pd.DataFrame, iso3: str, names: dict[str, str], ind: Indicator, lang: Lang,
                   median: float | None, top: float, decimals: int) -> list[dict]:
    """Vertical unnamed bars; the country, the highest and the lowest value labelled with name and value."""
    width, height = fig.get_size_inches()
    n = len(data)
    ticks, lo, hi = fitted_axis(data["value"].to_numpy(), ind)
    tick_decimals = _decimals_for(ticks)
    gutter = max(text_width(lang.number(float(t), tick_decimals), SMALL) for t in ticks) + 4 * PT
    bottom = 12 * PT
    ax_h = height - top - bottom - 5 * PT
    ax = fig.add_axes((gutter / width, bottom / height, (width - gutter - 2 * PT) / width, ax_h / height))
    colors = [BLUE if c == iso3 else LIGHT for c in data["iso3"]]
    ax.bar(np.arange(n), data["value"], color=colors, width=0.8, zorder=2)
    ax.set_xticks([])
    ax.set_xlim(-0.8, n - 0.2)
    ax.grid(axis="y")
    ax.set_axisbelow(True)
    line = 10 * PT  # two rows of labels above the highest bar: the extremes', then the country's above them
    headroom = (hi - lo) * 2 * line / max(ax_h - 2 * line, line)
    ax.yaxis.set_major_locator(FixedLocator(ticks.tolist()))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: lang.number(v, tick_decimals)))
    ax.set_ylim(lo, hi + headroom)
    ax.spines["left"].set_bounds(lo, hi)
    if median is not None:
        ax.axhline(median, color=VERMILLION, lw=1, ls=(0, (4, 2)), zorder=3)
    pos = int(np.flatnonzero(data["iso3"].to_numpy() == iso3)[0])
    values = data["value"].to_numpy(dtype=float)
    extremes = sorted({int(np.argmax(values)), int(np.argmin(values))} - {pos})
    printed = []
    for i in [*extremes, pos]:
        row = data.iloc[i]
        label = _bar_label(row, decimals, lang)
        printed.append(label)
        text = lang.gettext("{country}: {value}").format(country=names.get(label["iso3"], label["iso3"]),
                                                         value=label["text"])
        where = i / max(n - 1, 1)
        ha = "center" if 0.25 < where < 0.75 else ("left" if where <= 0.25 else "right")
        mine = i == pos
        style: dict[str, Any] = {
            "ha": ha, "va": "bottom", "fontsize": FONT_SIZE if mine else SMALL, "annotation_clip": False,
            "color": BLUE if mine else INK, "fontweight": "semibold" if mine else "normal",
            "bbox": {"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none"}, "zorder": 4 if mine else 6}
        ax.annotate(text, (i, max(label["value"], 0.0)), xytext=(i, hi + headroom * (0.55 if mine else 0.08)),
                    textcoords="data", arrowprops={"arrowstyle": "-", "color": BLUE if mine else GREY, "lw": 0.6,
                                                   "shrinkA": 0, "shrinkB": 1}, **style)
    ax.set_xlabel(lang.gettext("countries, most to least favourable") if ind.direction != "neutral"
                  else lang.gettext("countries, highest to lowest"), fontsize=SMALL, color=MUTED, labelpad=2)
    return printed


def _ranking_alt(data: pd.DataFrame, iso3: str, names: dict[str, str], ind: Indicator, lang: Lang,
                 median: float | None) -> str:
    pos = int(np.flatnonzero(data["iso3"].to_numpy() == iso3)[0])
    years = sorted({int(y) for y in data["year"]})
    span = f"{years[0]}" if len(years) == 1 else f"{years[0]}–{years[-1]}"
    mine = float(data.at[pos, "value"])
    better = data["value"] < mine if ind.direction == "lower_better" else data["value"] > mine
    rank = int(better.sum()) + 1  # ties share the better rank, as in the tables
    alt = lang.gettext("Bar chart ranking {n} countries by {indicator} (latest values, {years}); "
                       "{country} is {rank} with {value}").format(
        n=len(data), indicator=lang.indicator(ind), years=span, country=names.get(iso3, iso3),
        rank=lang.ordinal(rank), value=lang.value(mine, ind))
    if median is not None:
        alt += lang.gettext(", against a peer median of {median}").format(median=lang.value(median, ind))
    return alt + "."


@styled
def small_multiples(panels: list[tuple[Indicator, pd.DataFrame, pd.DataFrame]], country: str, lang: Lang,
                    size: tuple[float, float] = FULL, min_peers: int = 5, key: bool = False) -> Chart | None:
    """A grid of small trend charts sharing one legend and one time axis (each panel as `trend`; with
    `key`, the legend is the page's to print, as there)."""
    panels = [p for p in panels if len(p[1])]
    if not panels:
        return None
    cols = 2 if len(panels) <= 4 else 3
    rows = int(np.ceil(len(panels) / cols))
    width = size[0]
    cell_h = 36 * MM
    title_h = 11 * PT
    banded = any(len(b) for _, _, b in panels)
    legend_key = _key(lang, country, banded, min_peers)
    legend_h = 0.0 if key else _legend_height(legend_key, width)
    height = legend_h + 4 * PT + rows * (cell_h + title_h)
    fig = _figure((width, height))
    if not key:
        _place_legend(fig, _legend_items(legend_key), width, 0.0)
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
        alt = lang.gettext("{indicator}: {value} in {year}").format(
            indicator=lang.indicator(ind, short=True), value=lang.value(float(end["value"]), ind),
            year=int(end["year"]))
        for before, after in breaks_shown(history):
            alt += lang.gettext(" (series break between {before} and {after})").format(before=before, after=after)
        alts.append(alt)
    alt = lang.gettext("Small multiples for {country}, each line against the peer median: ").format(country=country)
    if banded:
        labels.append({"text": band_label(lang, min_peers), "setting": "min_peers",
                       "band": [{**y, "panel": i} for i, (_, _, b) in enumerate(panels) for y in _band_years(b)]})
    return Chart(_svg(fig), alt + "; ".join(alts) + ".", "small_multiples", tuple(labels), legend_key if key else ())


def _beside_dot(value: float, median: float | None, text: float, axis: float) -> dict[str, Any]:
    """Where a stacked profile prints a form's value (`text` inches wide, on an axis `axis` inches long
    from 0 to 1): on its row, right of the dot, or left of it where the right is taken by the peer
    median's tick or the axis ends; below the dot only when both sides are taken. Below, the value
    sits where the next row's name is, which it hides when the dot is near the start of the axis: when
    the tick is just right of a dot at the start, the value goes right of the tick."""
    gap, tick = 4.5 * PT / axis, 1.5 * PT / axis
    width = text / axis

    def clear(lo: float, hi: float) -> bool:
        return median is None or not lo - tick <= median <= hi + tick

    if value + gap + width <= 1.02 and clear(value, value + gap + width):
        return {"xytext": (4.5, 0), "ha": "left", "va": "center_baseline"}
    if value - gap - width >= 0 and clear(value - gap - width, value):
        return {"xytext": (-4.5, 0), "ha": "right", "va": "center_baseline"}
    if median is not None and median > value and median + tick + gap + width <= 1.02:  # right of the tick
        return {"xytext": ((median - value + tick) / PT * axis + 4.5, 0), "ha": "left", "va": "center_baseline"}
    return {"xytext": (0, -5), "ha": "center", "va": "top"}


@styled
def profile(rows: list[tuple[str, float | None, float | None]], country: str, lang: Lang,
            size: tuple[float, float] = PROFILE) -> Chart | None:
    """The security profile: each form's index for the country (dot) against the peer median (tick).

    `rows` are (form label, country value or None, peer median or None) on the 0–1 index scale.
    """
    if not any(v is not None for _, v, _ in rows):
        return None
    fig = _figure(size, reuse="profile")
    width, height = size
    items = [(Line2D([], [], color=BLUE, marker="o", ls="none", ms=5), country),
             (Line2D([], [], color=VERMILLION, marker="|", ls="none", ms=9, mew=1.6), lang.gettext("Peer median"))]
    top = _place_legend(fig, items, width, 0.0)
    missing = lang.gettext("insufficient data")
    stacked = width < 120 * MM  # a half-width profile: each form's name above its row, not beside it
    gutter = 4 * PT if stacked else max(text_width(label, FONT_SIZE) for label, _, _ in rows) + 6 * PT
    bottom = 24 * PT  # tick labels and the axis title below them
    ax = _axes(fig, (gutter / width, bottom / height, (width - gutter - 10 * PT) / width,
                     (height - top - bottom - 6 * PT) / height), reuse=True)
    n = len(rows)
    y = np.arange(n)
    ax.set_xlim(0, 1)
    ax.set_ylim(n - 0.5, -0.5 - (0.5 if stacked else 0))
    if stacked:
        ax.yaxis.set_visible(False)
        for i, (label, _, _) in enumerate(rows):
            ax.text(0, i - 0.3, label, va="bottom", ha="left", fontsize=SMALL, color=INK, zorder=3)
    else:
        _axis_ticks(ax, "y", y, [label for label, _, _ in rows], pad=2.5, size=FONT_SIZE)
    ax.spines["left"].set_visible(False)
    ticks = np.array([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    _axis_ticks(ax, "x", ticks, [lang.number(float(v), 1) for v in ticks], pad=3.5, mark=2.5, grid=True,
                title=lang.gettext("index, 0 (least secure) to 1 (most secure)"))
    described = []
    labels = []
    # each kind of mark one artist for all rows: the rows' bars one line broken between them, the peer
    # medians and the country's dots one set of markers each, drawn under the texts
    ax.plot(np.tile([0.0, 1.0, np.nan], n), np.repeat(y.astype(float), 3), color=BAND, lw=3.2,
            solid_capstyle="round", zorder=1)
    kinds: list[tuple[list[tuple[float, int]], dict[str, Any]]] = [
        ([(m, i) for i, (_, _, m) in enumerate(rows) if m is not None],
         {"marker": "|", "ms": 11, "mew": 1.8, "color": VERMILLION, "zorder": 2}),
        ([(v, i) for i, (_, v, _) in enumerate(rows) if v is not None],
         {"marker": "o", "ms": 6, "color": BLUE, "zorder": 3})]
    for marks, style in kinds:
        if marks:
            ax.plot([x for x, _ in marks], [row for _, row in marks], ls="none", **style)
    for i, (label, value, median) in enumerate(rows):
        if value is None:
            ax.text(0.015, i, missing, va="center", ha="left", fontsize=SMALL, color=MUTED, zorder=3,
                    bbox={"boxstyle": "square,pad=0.2", "fc": "white", "ec": "none"})
            described.append(lang.gettext("{form}: insufficient data").format(form=label))
            continue
        shown = lang.number(value, 2)
        place = ({"xytext": (0, 6), "ha": "center", "va": "bottom"} if not stacked
                 else _beside_dot(value, median, text_width(shown, SMALL, "semibold"), width - gutter - 10 * PT))
        ax.annotate(shown, (value, i), textcoords="offset points", fontsize=SMALL, color=BLUE, fontweight="semibold",
                    **place)
        labels.append({"text": shown, "row": i, "value": value})
        text = lang.gettext("{form}: {value}").format(form=label, value=shown)
        if median is not None:
            text += lang.gettext(" (peer median {median})").format(median=lang.number(median, 2))
        described.append(text)
    alt = lang.gettext("Dot chart of the security profile of {country} across the forms of security: ").format(
        country=country) + "; ".join(described) + "."
    return Chart(_svg(fig), alt, "profile", tuple(labels))

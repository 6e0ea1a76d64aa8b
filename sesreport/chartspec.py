"""What a chart is, without drawing one: the chart sizes, the `Chart` record a drawing gives, and
text widths measured in the documents' fonts.

Light on purpose: a document whose charts all come from the chart cache (:mod:`.chartcache`), and the
two-page brief's column balancing (:func:`text_width`), need these without importing matplotlib
(:mod:`.charts` draws). Widths are measured by shaping the text with HarfBuzz, which the HTML's font
subsets also use, in the font file that sets each run of its characters.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import fonts
from .fonts import SANS, font_path

if TYPE_CHECKING:
    import uharfbuzz as hb

MM = 1 / 25.4
PT = 1 / 72
HALF = (82 * MM, 52 * MM)
FULL = (170 * MM, 84 * MM)
PROFILE = (170 * MM, 62 * MM)
COMPACT = (86 * MM, 39 * MM)  # a half-width chart of the two-page brief
COMPACT_PROFILE = (86 * MM, 60 * MM)


@dataclass
class Chart:
    """A drawn chart: its SVG, its alt text, and the data values it prints as text.

    `labels` are the annotations (not the axis ticks, which are scale): each one the printed text and
    what it labels, `{"text", "value"}` with `"year"` (a series' last point; `"panel"` in small
    multiples), `"iso3"` (a country's bar) or `"row"` (a row of the profile), so that a document can
    record the observation behind it; or `{"text", "setting"}`, a legend that prints a configured
    setting (the band's minimum of peers, `"min_peers"`), with `"band"`: each year the band is drawn,
    the number of peers and who they are.
    """

    svg: str
    alt: str
    kind: str
    labels: tuple[dict, ...] = ()
    #: the legend, when the page prints it beside the chart instead of the chart drawing it: each item
    #: `{"mark": "country" | "median" | "band", "text"}`
    key: tuple[dict, ...] = ()


WEIGHTS = {"regular": 400, "semibold": 600, "bold": 700}


@functools.lru_cache(maxsize=16)
def _font(weight: str, family: str = SANS) -> hb.Font:
    """The HarfBuzz font of a family at a weight, at its design units (a file read once per process)."""
    import uharfbuzz as hb

    if family != SANS:
        path = fonts.fallback_file(family, WEIGHTS[weight])
    else:
        path = font_path(SANS, {"regular": "SourceSansPro-Regular.ttf", "bold": "SourceSansPro-Bold.ttf",
                                "semibold": "SourceSansPro-Semibold.ttf"}[weight])
    return hb.Font(hb.Face(hb.Blob.from_file_path(str(path)), 0))


def text_width(text: str, size: float, weight: str = "regular") -> float:
    """Width of a one-line text in inches: the advances HarfBuzz gives each run of characters in the
    font that sets it (with its kerning), and a little slack for the PDF renderer's own shaping."""
    import uharfbuzz as hb

    width = 0.0
    for family, run in _runs(text):
        font = _font(weight, family)
        buf = hb.Buffer()
        buf.add_str(run)
        buf.guess_segment_properties()
        hb.shape(font, buf)
        width += sum(p.x_advance for p in buf.glyph_positions) / font.face.upem * size
    return width / 72 * 1.06


def _runs(text: str) -> list[tuple[str, str]]:
    """`text` cut into runs of characters set in the same family."""
    runs: list[tuple[str, str]] = []
    for char in text:
        family = fonts.fallback_family(char) or SANS
        if runs and runs[-1][0] == family:
            runs[-1] = (family, runs[-1][1] + char)
        else:
            runs.append((family, char))
    return runs

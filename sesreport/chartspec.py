"""What a chart is, without drawing one: the chart sizes, the `Chart` record a drawing gives, and
text widths measured in the documents' fonts.

Light on purpose: a document whose charts all come from the chart cache (:mod:`.chartcache`), and the
two-page brief's column balancing (:func:`text_width`), need these without importing matplotlib's
drawing machinery (:mod:`.charts` draws). Widths are measured by FreeType through matplotlib's
`ft2font` extension, imported on first use.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import fonts
from .fonts import SANS, font_path

if TYPE_CHECKING:
    from matplotlib.ft2font import FT2Font

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


WEIGHTS = {"regular": 400, "semibold": 600, "bold": 700}


@functools.lru_cache(maxsize=16)
def _face(weight: str, family: str = SANS) -> FT2Font:
    from matplotlib.ft2font import FT2Font

    if family != SANS:
        return FT2Font(str(fonts.fallback_file(family, WEIGHTS[weight])))
    name = {"regular": "SourceSansPro-Regular.ttf", "bold": "SourceSansPro-Bold.ttf",
            "semibold": "SourceSansPro-Semibold.ttf"}[weight]
    return FT2Font(str(font_path(SANS, name)))


# A FreeType face reads its file through a descriptor that a forked worker would share with its
# parent (and their reads would interleave): each process opens its own, as matplotlib does.
os.register_at_fork(after_in_child=_face.cache_clear)


def text_width(text: str, size: float, weight: str = "regular") -> float:
    """Width of a one-line text in inches, from the fonts' unhinted metrics (each run of characters
    in the font that sets it), with a little slack for the PDF renderer's own shaping."""
    width = 0
    for family, run in _runs(text):
        face = _face(weight, family)
        face.set_size(size, 720)
        face.set_text(run, 0.0)
        width += face.get_width_height()[0]
    return width / 64 / 720 * 1.06


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

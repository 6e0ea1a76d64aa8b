"""SVG text drawn a text at a time, not a letter at a time.

WeasyPrint 70 lays out and draws every SVG text one letter after the other, each letter its own Pango
layout and its own run in the PDF, so that it can honour per-letter positions (`x`, `y`, `dx`, `dy`,
`rotate`), `letter-spacing` and `textLength`. A chart's tick labels and values have none of these, and
drawing them that way took a quarter of a two-page brief's PDF time. :func:`install` makes WeasyPrint
lay out and draw such a text whole, in one layout and one run, shaped as a browser shapes it (the
kerning between its letters applied) and extracted as one word; any other text is drawn as before.

The function is WeasyPrint's own for that case, without the loop over letters: the same style, the same
baseline and bounding box, the same painting. It is installed in each process that renders, once.

A text anchored at its middle or its end (a chart's tick labels) WeasyPrint draws into a form of its
own, a PDF object with its own stream, and then draws the form moved back by the text's width or half
of it: a brief's sixty tick labels were sixty forms, a quarter of its PDF's bytes. A text drawn whole is
laid out before it is drawn, so its width is known: it is drawn moved back by that width, in the
page's own stream, where the form would have put it.
"""

from __future__ import annotations

import functools
from math import inf
from typing import Any

import weasyprint.svg
from weasyprint.css.properties import INITIAL_VALUES
from weasyprint.draw.text import draw_emojis, draw_first_line
from weasyprint.matrix import Matrix
from weasyprint.svg.bounding_box import extend_bounding_box
from weasyprint.svg.text import Style, TextBox
from weasyprint.svg.utils import normalize, size
from weasyprint.text.line_break import split_first_line

#: attributes that give a text per-letter positions, spacing or its own baseline: drawn letter by letter
_PER_LETTER = ("dx", "dy", "rotate", "letter-spacing", "textLength", "display-anchor", "dominant-baseline",
               "alignment-baseline")


@functools.cache
def install() -> None:
    """Draw plain SVG texts whole from now on in this process (once)."""
    svg = weasyprint.svg
    letters = svg.text  # WeasyPrint's function (the package imported it under its module's name)

    def text(svg_: Any, node: Any, font_size: float) -> None:
        if not hasattr(node, "whole") and not _whole(node):  # `anchored` found it whole already
            return letters(svg_, node, font_size)
        return _draw_whole(svg_, node, font_size)

    for tag, draw in list(svg.TAGS.items()):
        if draw is letters:
            svg.TAGS[tag] = text
    svg.text = text  # `draw_node` tells text nodes by this name (their anchor, their bounding box)

    draw_node = svg.SVG.draw_node

    def anchored(svg_: Any, node: Any, font_size: float, fill_stroke: bool = True, context: Any = None) -> None:
        """`draw_node`, a whole text anchored at its middle or end drawn without a form (see above)."""
        direction = node.get("direction", "ltr")
        anchor = node.get("text-anchor", "start")
        if (anchor, direction) in (("start", "ltr"), ("end", "rtl")) or direction not in ("ltr", "rtl") \
                or not node.display or not _whole(node):
            return draw_node(svg_, node, font_size, fill_stroke, context)
        own_size = size(node.get("font-size", "1em"), font_size, font_size)  # as `draw_node` works it out
        node.whole = _layout(svg_, node, own_size)
        width = node.whole[2]
        node.shift = width / 2 if anchor == "middle" else width
        node.attrib["text-anchor"] = "start" if direction == "ltr" else "end"  # no form
        try:
            return draw_node(svg_, node, font_size, fill_stroke, context)
        finally:
            node.attrib["text-anchor"] = anchor
            del node.whole, node.shift

    svg.SVG.draw_node = anchored


def _whole(node: Any) -> bool:
    """A `<text>` with one position at most per axis, nothing per letter, no child element."""
    if node.tag != "text" or not node.text or any(node.get(name) is not None for name in _PER_LETTER):
        return False
    if any(len(normalize(node.get(axis, "")).split()) > 1 for axis in ("x", "y")):
        return False
    return not any(True for _ in node)


def _layout(svg: Any, node: Any, font_size: float) -> tuple[Any, Any, float, float, float]:
    """The text's style and its one line: the layout, the style, its width, height and baseline."""
    style = Style()
    style.update(INITIAL_VALUES)
    style.font_config = svg.font_config
    style["font_family"] = [font.strip("\"'") for font in node.get("font-family", "sans-serif").split(",")]
    style["font_style"] = node.get("font-style", "normal")
    style["font_size"] = font_size
    if node.get("direction") in ("ltr", "rtl"):
        style["direction"] = node.get("direction")
    weight = node.get("font-weight", 400)
    try:
        style["font_weight"] = int({"normal": 400, "bold": 700}.get(weight, weight))
    except ValueError:
        style["font_weight"] = 400

    layout, _, _, width, height, baseline = split_first_line(node.text, style, svg.context, inf, 0)
    return layout, style, width, height, baseline


def _draw_whole(svg: Any, node: Any, font_size: float) -> None:
    # laid out already when its anchor is drawn without a form (see `install`), moved back by `shift`
    layout, style, width, height, baseline = getattr(node, "whole", None) or _layout(svg, node, font_size)
    shift = getattr(node, "shift", 0.0)
    x = size(normalize(node.get("x")).strip(), font_size, svg.inner_width) if node.get("x") else None
    y = size(normalize(node.get("y")).strip(), font_size, svg.inner_height) if node.get("y") else None
    if x:  # as WeasyPrint does: a position given (and not zero) ends a relative shift
        svg.cursor_d_position[0] = 0
    if y:
        svg.cursor_d_position[1] = 0
    x = svg.cursor_position[0] if x is None else x
    y = svg.cursor_position[1] if y is None else y
    svg.cursor_position = x + width, y
    x_position, y_position = x + svg.cursor_d_position[0] - shift, y + svg.cursor_d_position[1]
    node.text_bounding_box = extend_bounding_box(
        node.text_bounding_box,
        ((x_position, y_position - baseline), (x_position + width, y_position - baseline + height)))

    svg.stream.push_state()
    fill, stroke = svg.set_graphical_state(node, font_size)
    svg.stream.begin_text()
    layout.reactivate(style)
    svg.fill_stroke(fill, stroke, text=True)
    box = TextBox(layout, style)
    box.baseline = baseline
    emojis = draw_first_line(svg.stream, box, "none", "none", Matrix(a=1, d=-1, e=x_position, f=y_position))
    svg.stream.end_text()
    svg.stream.pop_state()
    draw_emojis(svg.stream, style, x - shift, y, emojis)

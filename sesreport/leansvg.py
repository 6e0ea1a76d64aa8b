"""A chart's SVG as matplotlib writes it in, the same drawing in fewer, simpler elements out.

WeasyPrint walks every element of an SVG, cascading attributes and parsing its style, so each
element costs time on every page. matplotlib wraps almost every element in a group that carries
nothing but an id (`<g id="line2d_5">`) or nothing at all (`<g>` around a marker's `<use>`), writes
an empty group for each invisible tick, a `rotate(-0 x y)` transform on every text, and a style
sheet whose one rule, `*{stroke-linejoin: round; stroke-linecap: butt}`, is matched against every
element. :func:`lean` removes only what draws nothing:

- a group with no attribute but an id (that nothing refers to) gives its children to its parent;
  when it holds one element without an id, that element takes the group's id (matplotlib's names,
  `line2d_5`, `text_3`, stay readable); an empty one goes. The groups of an axis's ticks
  (`xtick_1`, `ytick_2`) stay, holding a tick's mark and its label together;
- a rotation by zero degrees;
- the style sheet's rule, which becomes the same two properties on the `<svg>` element, inherited
  by every element that does not set its own (kept as it was if a group or a `<use>` sets either);
- a shape's style attribute, which WeasyPrint parses as CSS, becomes the same presentation
  attributes (`fill="none" stroke="#0072b2"`); a text keeps its style;
- `xlink:href` becomes SVG 2's `href` (WeasyPrint and browsers read both), and the whitespace in
  path data is single spaces.

Clip paths, marker definitions and everything else that is referenced or drawn stay as they were.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

SVG = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

#: groups kept although they carry only an id: an axis tick, its mark with its label
KEEP = re.compile(r"[xy]tick_\d+")
#: matplotlib's one style rule, and the SVG properties it sets on every element
RULE = "*{stroke-linejoin: round; stroke-linecap: butt}"
RULE_PROPERTIES = {"stroke-linejoin": "round", "stroke-linecap": "butt"}
#: the properties matplotlib sets in a style attribute that SVG also takes as attributes
PRESENTATION = frozenset({"fill", "fill-opacity", "opacity", "stroke", "stroke-width", "stroke-linecap",
                          "stroke-linejoin", "stroke-dasharray", "stroke-dashoffset", "stroke-opacity"})
_ZERO_ROTATION = re.compile(r"rotate\(-?0 [-0-9.e]+ [-0-9.e]+\)")
_REFERENCE = re.compile(r'url\(#([^)]+)\)|href="#([^"]+)"')


def lean(svg: str) -> str:
    """The same drawing as `svg` (a matplotlib SVG document, or its `<svg>` element) in fewer elements."""
    referenced = {a or b for a, b in _REFERENCE.findall(svg)}
    root = ElementTree.fromstring(svg[svg.find("<svg"):])
    for element in root.iter():  # written with no prefix, the namespace declared once on the root
        element.tag = element.tag.rpartition("}")[2]
    root.set("xmlns", SVG)
    _inherit_rule(root)
    _unwrap(root, referenced)
    _simplify(root)
    return ElementTree.tostring(root, encoding="unicode")


def _inherit_rule(root: ElementTree.Element) -> None:
    """The style sheet's rule as properties of the `<svg>` element, when inheritance gives every
    element the same values (no container sets its own)."""
    sheets = [(defs, style) for defs in root.findall("defs") for style in defs.findall("style")]
    if len(sheets) != 1 or (sheets[0][1].text or "").strip() != RULE:
        return
    for element in root.iter():
        if element is not root and (len(element) or element.tag == "use") and any(
                name in element.get("style", "") for name in RULE_PROPERTIES):
            return
    defs, style = sheets[0]
    defs.remove(style)
    if not len(defs):
        root.remove(defs)
    root.attrib.update(RULE_PROPERTIES)


def _unwrap(parent: ElementTree.Element, referenced: set[str]) -> None:
    """Groups that carry nothing but an id (or nothing) replaced by their children, bottom up."""
    kept: list[ElementTree.Element] = []
    for child in parent:
        _unwrap(child, referenced)
        ident = child.get("id", "")
        if child.tag != "g" or set(child.attrib) - {"id"} or ident in referenced or KEEP.fullmatch(ident):
            kept.append(child)
            continue
        if ident and len(child) == 1 and "id" not in child[0].attrib:
            child[0].set("id", ident)
        kept.extend(child)
    parent[:] = kept


def _simplify(element: ElementTree.Element) -> None:
    """No rotation by zero, SVG 2's `href`, path data in single spaces; one element a line (the
    content of a text as it was)."""
    if _ZERO_ROTATION.fullmatch(element.get("transform", "")):
        del element.attrib["transform"]
    if XLINK_HREF in element.attrib:
        element.attrib = {("href" if k == XLINK_HREF else k): v for k, v in element.attrib.items()}
    if "style" in element.attrib:
        _style_as_attributes(element)
    if element.tag == "path" and "d" in element.attrib:
        element.set("d", " ".join(element.attrib["d"].split()))
    if element.tag in ("text", "style"):
        return
    element.text = "\n" if len(element) else None
    for child in element:
        _simplify(child)
        child.tail = "\n"


def _style_as_attributes(element: ElementTree.Element) -> None:
    """A shape's style attribute as presentation attributes, which WeasyPrint reads without parsing
    CSS (with no style sheet left, nothing outranks either). A text keeps its style, which names the
    page's fonts (see `charts._name_families`): converting it saves nothing measurable."""
    declarations = [part.split(":", 1) for part in element.attrib["style"].split(";") if part.strip()]
    if element.tag == "text" or any(len(d) != 2 or d[0].strip() not in PRESENTATION for d in declarations):
        return
    attrib: dict[str, str] = {}
    for key, value in element.attrib.items():  # in the style's place
        if key == "style":
            attrib.update((name.strip(), value.strip()) for name, value in declarations)
        else:
            attrib[key] = value
    element.attrib = attrib

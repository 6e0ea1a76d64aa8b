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
  path data is single spaces;
- a run of sibling shapes painted alike in one opaque colour, with nothing but their geometry to tell
  them apart (a chart's gridlines, an axis's tick marks, a series' dots, each a `<path>` or a `<use>`
  of a marker), becomes one path of as many subpaths: what one colour paints opaquely is the same
  whatever the order, so the same pixels. WeasyPrint cost half a millisecond an element; a brief's
  six charts had 90 such elements. A marker no `<use>` refers to any more goes.

Clip paths, marker definitions still used and everything else that is referenced or drawn stay as
they were.
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
_URL = re.compile(r"url\(#([^)]+)\)")  # a reference in an attribute's value
#: path data in absolute commands only (what matplotlib writes): each number after a command a coordinate,
#: x and y in turn, so that moving it is adding to each
_ABSOLUTE = re.compile(r"(?:\s*(?:[MLCQZz]|-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?))*\s*")
_TOKEN = re.compile(r"[MLCQZz]|-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")
_OPAQUE = re.compile(r"#[0-9a-fA-F]{6}|none")
#: attributes with which shapes painted together would not paint as they did one by one
_APART = frozenset({"id", "style", "transform", "opacity", "fill-opacity", "stroke-opacity", "stroke-dasharray",
                    "mask", "filter", "marker-start", "marker-mid", "marker-end", "fill-rule"})
#: containers whose children are definitions, not drawn where they stand
_DEFINITIONS = frozenset({"defs", "clipPath", "marker", "mask", "pattern", "symbol"})


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
    markers = {e.get("id", ""): e for defs in root.iter("defs") for e in defs if e.tag == "path" and e.get("id")}
    _merge(root, markers)
    _drop_unused(root)
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


def _merge(parent: ElementTree.Element, markers: dict[str, ElementTree.Element]) -> None:
    """Runs of sibling shapes painted alike in one opaque colour made one path each (see the module)."""
    kept: list[ElementTree.Element] = []
    run: list[str] = []  # the path data of the run's shapes
    run_key: tuple[tuple[str, str], ...] | None = None

    def close() -> None:
        if run_key is None:
            return
        if len(run) == 1 and kept[-1].tag == "path":
            return  # a shape alone stays as it was
        kept[-1] = ElementTree.Element("path", {"d": " ".join(run), **dict(run_key)})
        kept[-1].tail = "\n"

    for child in parent:
        if child.tag not in _DEFINITIONS:
            _merge(child, markers)
        shape = _shape(child, markers)
        if shape is not None and shape[0] == run_key:
            run.append(shape[1])
            continue
        close()
        kept.append(child)
        run_key, run = (shape[0], [shape[1]]) if shape is not None else (None, [])
    close()
    parent[:] = kept


def _shape(element: ElementTree.Element, markers: dict[str, ElementTree.Element]
           ) -> tuple[tuple[tuple[str, str], ...], str] | None:
    """A shape that may be painted with others: its attributes but its geometry, and its path data
    (a `<use>` of a marker: the marker's, moved to where the `<use>` puts it); None for any other."""
    if element.tag == "path":
        attributes = {k: v for k, v in element.attrib.items() if k != "d"}
        data = element.get("d", "")
    elif element.tag == "use" and (marker := markers.get(element.get("href", "")[1:])) is not None:
        attributes = {k: v for k, v in element.attrib.items() if k not in ("href", "x", "y")}
        attributes.update((k, v) for k, v in marker.attrib.items() if k not in ("id", "d"))
        if (set(marker.attrib) - {"id"}) & _APART or not _ABSOLUTE.fullmatch(marker.get("d", "")):
            return None
        try:
            data = _moved(marker.get("d", ""), float(element.get("x", 0)), float(element.get("y", 0)))
        except ValueError:
            return None
    else:
        return None
    paints = {attributes.get("fill"), attributes.get("stroke")}
    if (len(element) or set(attributes) & _APART or not data or None in paints
            or not all(_OPAQUE.fullmatch(p or "") for p in paints) or len(paints - {"none"}) != 1):
        return None
    return tuple(sorted(attributes.items())), data


def _moved(data: str, dx: float, dy: float) -> str:
    """Absolute path data moved by (dx, dy), its numbers written as matplotlib writes them."""
    out, axis = [], 0
    for token in _TOKEN.findall(data):
        if token in "MLCQZz":
            out.append(token)
            continue
        value = float(token) + (dx if axis == 0 else dy)
        axis ^= 1
        number = f"{value:f}".rstrip("0").rstrip(".")
        out.append("0" if number == "-0" else number)
    return " ".join(out)


def _drop_unused(root: ElementTree.Element) -> None:
    """Markers no element refers to any more, and the definitions they leave empty, removed."""
    referenced: set[str] = set()
    for element in root.iter():
        referenced.update(_URL.findall(" ".join(element.attrib.values())))
        if element.get("href", "").startswith("#"):
            referenced.add(element.get("href", "")[1:])
    for parent in list(root.iter()):  # the whole tree first: definitions are removed as it goes
        for defs in [d for d in parent if d.tag == "defs"]:
            for marker in [m for m in defs if m.tag == "path" and m.get("id") not in referenced]:
                defs.remove(marker)
            if not len(defs):
                parent.remove(defs)

"""Finishing WeasyPrint's tagged PDF so that it meets what it declares (PDF/A-3a and PDF/UA-1).

In: the PDF bytes WeasyPrint wrote and the HTML it was made from. Out: PDF bytes, with

- every table header cell given a /Scope (column heads in THead, row heads elsewhere);
- link annotations described by the link's text, not by the anchor id;
- figure bounding boxes in PDF points and page coordinates (WeasyPrint writes CSS pixels, top-down);
- each associated file listed once in /AF, related to the document as /Data;
- a table split from its caption by a page break merged into the table it belongs to;
- one XMP packet, written from the document information dictionary (so the two agree), with the
  PDF/A identification, the PDF/UA identification and the extension schema PDF/A requires for it.

The same input gives the same bytes (deterministic /ID, no dates but the document's own).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from string import Template
from xml.sax.saxutils import escape

import pikepdf

XMP_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "pdfua.xmp"
PX = 0.75  # one CSS pixel in PDF points
#: document information entries and the XMP properties that must say the same (ISO 19005-3, 6.6.2.3.1)
XMP_PROPERTIES = {
    "/Title": ("dc:title", "alt"),
    "/Author": ("dc:creator", "seq"),
    "/Subject": ("dc:description", "alt"),
    "/Keywords": ("pdf:Keywords", "text"),
    "/Creator": ("xmp:CreatorTool", "text"),
    "/Producer": ("pdf:Producer", "text"),
    "/CreationDate": ("xmp:CreateDate", "date"),
    "/ModDate": ("xmp:ModifyDate", "date"),
}


def finish(data: bytes, html: str, identifier: bytes) -> bytes:
    """The finished PDF (see the module docstring), its /ID starting with `identifier` (the second
    part is qpdf's digest of the content)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.trailer.ID = pikepdf.Array([pikepdf.String(identifier)] * 2)
        root = pdf.Root
        if "/StructTreeRoot" in root:
            for parent, index in reversed(_structure(root.StructTreeRoot, _finish_element)):
                _rejoin(parent, index)
        describe_links(pdf, link_texts(html))
        dedupe_associated_files(pdf)
        write_xmp(pdf)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, fix_metadata_version=False, preserve_pdfa=False)
        return out.getvalue()


# ------------------------------------------------------------------------------------------------
# the structure tree


def kids(node: pikepdf.Object) -> list[pikepdf.Object]:
    """The structure elements directly under `node` (marked-content ids and object references left out)."""
    k = node.get("/K")
    if k is None:
        return []
    items = list(k) if isinstance(k, pikepdf.Array) else [k]
    return [i for i in items if isinstance(i, pikepdf.Dictionary) and "/S" in i]


def walk(node: pikepdf.Object) -> Iterator[pikepdf.Object]:
    """Every structure element under `node`, depth first, in document order."""
    for kid in kids(node):
        yield kid
        yield from walk(kid)


def role(node: pikepdf.Object) -> str:
    return str(node.get("/S", ""))


def table_attributes(node: pikepdf.Object) -> pikepdf.Dictionary:
    """The element's attribute dictionary owned by /Table, created when missing."""
    attrs = node.get("/A")
    candidates = list(attrs) if isinstance(attrs, pikepdf.Array) else [attrs] if attrs is not None else []
    for a in candidates:
        if isinstance(a, pikepdf.Dictionary) and a.get("/O") == pikepdf.Name.Table:
            return a
    new = pikepdf.Dictionary(O=pikepdf.Name.Table)
    if attrs is None:
        node.A = new
    elif isinstance(attrs, pikepdf.Array):
        attrs.append(new)
    else:
        node.A = pikepdf.Array([attrs, new])
    return new


def _structure(tree: pikepdf.Object, each: Callable[[pikepdf.Object, str, bool], None]
               ) -> list[tuple[pikepdf.Object, int]]:
    """Walk the structure tree once, depth first: `each(element, role, in_head)` for every element
    (`in_head`: inside a table head), and the tables without a row (a caption a page break left alone),
    in document order, as their parent and their place in its /K array."""
    stranded: list[tuple[pikepdf.Object, int]] = []

    def visit(node: pikepdf.Object, in_head: bool) -> bool:  # whether a row is below
        k = node.get("/K")
        items = list(k) if isinstance(k, pikepdf.Array) else [k] if k is not None else []
        rows = False
        for index, kid in enumerate(items):
            if not (isinstance(kid, pikepdf.Dictionary) and "/S" in kid):
                continue
            r = role(kid)
            each(kid, r, in_head)
            below = visit(kid, in_head or r == "/THead")
            if r == "/Table" and not below and isinstance(k, pikepdf.Array):
                stranded.append((node, index))
            rows = rows or below or r == "/TR"
        return rows

    visit(tree, False)
    return stranded


def _finish_element(node: pikepdf.Object, r: str, in_head: bool) -> None:
    """/Scope on a TH (/Column in a table head, /Row elsewhere); a figure's /BBox in points (WeasyPrint
    writes CSS pixels from the top of the page; PDF user space is points from the bottom)."""
    if r == "/TH":
        table_attributes(node).Scope = pikepdf.Name.Column if in_head else pikepdf.Name.Row
    elif r == "/Figure" and "/Pg" in node:
        attrs = node.get("/A")
        for a in list(attrs) if isinstance(attrs, pikepdf.Array) else [attrs]:
            if isinstance(a, pikepdf.Dictionary) and "/BBox" in a:
                height = float(node.Pg.MediaBox[3])
                x0, y0, x1, y1 = (float(v) for v in a.BBox)
                a.BBox = pikepdf.Array([round(x0 * PX, 3), round(height - y1 * PX, 3),
                                        round(x1 * PX, 3), round(height - y0 * PX, 3)])


def merge_stranded_tables(tree: pikepdf.Object) -> None:
    """A table whose caption a page break left alone (a /Table without rows) gives its caption to
    the table that follows it; with no table after it, it becomes a plain paragraph."""
    for parent, index in reversed(_structure(tree, lambda *_: None)):
        _rejoin(parent, index)


def _rejoin(parent: pikepdf.Object, index: int) -> None:
    """The stranded table at `index` of the parent's /K: its kids to the table that follows it, or a Div."""
    items = parent.K
    node = items[index]
    following = next((items[j] for j in range(index + 1, len(items))
                      if isinstance(items[j], pikepdf.Dictionary) and "/S" in items[j]), None)
    moved = kids(node)
    if following is not None and role(following) == "/Table":
        target = following.get("/K")
        target = target if isinstance(target, pikepdf.Array) else pikepdf.Array([target] if target else [])
        for kid in moved:
            kid.P = following
        following.K = pikepdf.Array([*moved, *target])
        del items[index]
    else:
        node.S = pikepdf.Name.Div
        for kid in moved:
            if role(kid) == "/Caption":
                kid.S = pikepdf.Name.P


# ------------------------------------------------------------------------------------------------
# links


class _Anchors(HTMLParser):
    """The text of every <a href> in a page, by href."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: dict[str, str] = {}
        self._href: str | None = None
        self._parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._parts = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._parts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            text = " ".join("".join(self._parts).split())
            if text:
                self.texts.setdefault(self._href, text)
            self._href = None


def link_texts(html: str) -> dict[str, str]:
    """Link text by target: '#id' for a link inside the document, the address for others."""
    parser = _Anchors()
    parser.feed(html)
    return parser.texts


def describe_links(pdf: pikepdf.Pdf, texts: dict[str, str]) -> None:
    """/Contents of every link annotation: the text of the link it belongs to."""
    for page in pdf.pages:
        for annot in page.get("/Annots", []):
            if annot.get("/Subtype") != pikepdf.Name.Link:
                continue
            if "/Dest" in annot and isinstance(annot.Dest, pikepdf.String):
                target = "#" + str(annot.Dest)
            elif "/A" in annot and "/URI" in annot.A:
                target = str(annot.A.URI)
            else:
                continue
            annot.Contents = pikepdf.String(texts.get(target) or f"Link to {target.lstrip('#')}")


# ------------------------------------------------------------------------------------------------
# associated files and metadata


def dedupe_associated_files(pdf: pikepdf.Pdf) -> None:
    """Each attached file once in /AF, as the data the document presents (/AFRelationship /Data)."""
    af = pdf.Root.get("/AF")
    if af is None:
        return
    seen: set[tuple[int, int]] = set()
    unique = []
    for spec in af:
        if spec.objgen in seen:
            continue
        seen.add(spec.objgen)
        spec.AFRelationship = pikepdf.Name.Data
        unique.append(spec)
    pdf.Root.AF = pdf.make_indirect(pikepdf.Array(unique))


def xmp_date(value: str) -> str:
    """A PDF date (D:20261127000000Z) as an XMP date (2026-11-27T00:00:00Z)."""
    v = value.removeprefix("D:")
    date = f"{v[0:4]}-{v[4:6]}-{v[6:8]}T{v[8:10]}:{v[10:12]}:{v[12:14]}"
    tz = v[14:].replace("'", "")
    if tz in ("", "Z"):
        return date + "Z"
    return f"{date}{tz[0]}{tz[1:3]}:{tz[3:5] or '00'}"


def write_xmp(pdf: pikepdf.Pdf) -> None:
    """One XMP packet made from the document information dictionary, replacing WeasyPrint's."""
    info = pdf.docinfo
    # keys a <meta> tag may add that have no XMP counterpart would put the two out of step
    for key in [k for k in info.keys() if k not in XMP_PROPERTIES]:
        del info[key]

    lang = escape(str(pdf.Root.get("/Lang", "x-default")))
    properties = []
    for key, (element, shape) in XMP_PROPERTIES.items():
        if key not in info:
            continue
        value = str(info[key])
        if shape == "date":
            properties.append(f"  <{element}>{xmp_date(value)}</{element}>")
        elif shape == "alt":
            properties.append(f'  <{element}><rdf:Alt><rdf:li xml:lang="x-default">{escape(value)}</rdf:li>'
                              f"</rdf:Alt></{element}>")
        elif shape == "seq":
            properties.append(f"  <{element}><rdf:Seq><rdf:li>{escape(value)}</rdf:li></rdf:Seq></{element}>")
        else:
            properties.append(f"  <{element}>{escape(value)}</{element}>")
    properties.append(f"  <dc:language><rdf:Bag><rdf:li>{lang}</rdf:li></rdf:Bag></dc:language>")
    packet = Template(XMP_TEMPLATE.read_text(encoding="utf-8")).substitute(properties="\n".join(properties))
    stream = pikepdf.Stream(pdf, packet.encode("utf-8"))
    stream.Type = pikepdf.Name.Metadata
    stream.Subtype = pikepdf.Name.XML
    pdf.Root.Metadata = pdf.make_indirect(stream)

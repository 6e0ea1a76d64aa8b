"""Checks of the machine-checkable PDF/UA-1 and PDF/A-3 rules a sesreport PDF must meet.

In: a PDF (bytes or a path). Out: a list of :class:`Finding` (empty when every check passes), each
naming the check, the Matterhorn protocol failure condition or ISO 19005-3 clause it stands for, and
what is wrong. The checks written here cover what the `pdfua` package (PyPI) does not; its own rules
run as the check ``pdfua`` (see :func:`check_pdfua_package`), so one call runs both.

PDF/UA-1 (ISO 14289-1, Matterhorn protocol 1.1): structure tree and role map (01, 02), content
tagged or marked as artifact (01-005), table headers with a scope (15-003) and tables with rows,
figures with alternative text (13-004) and a bounding box on the page (ISO 32000-1 14.8.5.4.3),
link annotations tagged and described (28-011, 28-012), document language (11-006), title and
DisplayDocTitle (06-003, 07-001), headings from H1 without skipped levels (14-002, 14-003), fonts
embedded with Unicode maps (31-009, 31-027) and no missing-glyph box or unpinned font (31-011), one
valid XMP packet with pdfuaid:part (06-002) and the extension schema PDF/A needs for it.
PDF/A-3 (ISO 19005-3): output intent (6.2.3), associated files with /AFRelationship, listed once
(6.8), embedded files with a MIME type and modification date, metadata stream unfiltered and in
step with the document information dictionary (6.6.2).
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf

from .pdfpost import XMP_PROPERTIES, kids, role, walk, xmp_date


@dataclass(frozen=True)
class Finding:
    check: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.check} ({self.rule}): {self.message}"


STANDARD_TYPES = frozenset(
    "Document Part Art Sect Div BlockQuote Caption TOC TOCI Index NonStruct Private P H H1 H2 H3 H4 H5 H6 "
    "L LI Lbl LBody Table TR TH TD THead TBody TFoot Span Quote Note Reference BibEntry Code Link Annot "
    "Ruby RB RT RP Warichu WT WP Figure Formula Form".split())
PAINTING = frozenset("Tj TJ ' \" f F f* S s B B* b b* sh Do BI".split())
NS = {
    "x": "adobe:ns:meta/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/", "pdfuaid": "http://www.aiim.org/pdfua/ns/id/",
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/", "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "dc": "http://purl.org/dc/elements/1.1/", "pdf": "http://ns.adobe.com/pdf/1.3/", "xmp": "http://ns.adobe.com/xap/1.0/",
}

Check = Callable[[pikepdf.Pdf], Iterator[Finding]]
CHECKS: dict[str, Check] = {}


def check(func: Check) -> Check:
    CHECKS[func.__name__.removeprefix("check_")] = func
    return func


def check_pdf(source: bytes | Path, only: list[str] | None = None) -> list[Finding]:
    """Every finding of the checks named in `only` (default: all of them, and the pdfua package's)."""
    names = only or [*CHECKS, "pdfua"]
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    findings: list[Finding] = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for name in names:
            if name in CHECKS:
                findings.extend(CHECKS[name](pdf))
    if "pdfua" in names:
        findings.extend(check_pdfua_package(data))
    return findings


def _instructions(content: Any) -> Any:
    """The instructions of a content stream (each with .operands and .operator)."""
    return pikepdf.parse_content_stream(content)


def _name(value: object) -> str:
    return str(value).removeprefix("/")


# ------------------------------------------------------------------------------------------------
# PDF/UA-1


@check
def check_structure(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    """Tagged (MarkInfo), a structure tree with a parent tree, and every role standard or mapped to one."""
    root: Any = pdf.Root
    if not bool(root.get("/MarkInfo", {}).get("/Marked", False)):
        yield Finding("structure", "01-002", "the document is not marked as tagged (/MarkInfo /Marked true)")
    tree = root.get("/StructTreeRoot")
    if tree is None:
        yield Finding("structure", "01-001", "there is no structure tree")
        return
    if "/ParentTree" not in tree:
        yield Finding("structure", "01-001", "the structure tree has no /ParentTree")
    role_map = tree.get("/RoleMap", pikepdf.Dictionary())
    for key in role_map.keys():
        if _name(key) in STANDARD_TYPES:
            yield Finding("structure", "02-003", f"the standard type {_name(key)} is remapped")
    unknown = set()
    for node in walk(tree):
        s = _name(role(node))
        mapped = _name(role_map.get("/" + s, "/" + s)) if s not in STANDARD_TYPES else s
        if mapped not in STANDARD_TYPES:
            unknown.add(s)
    for s in sorted(unknown):
        yield Finding("structure", "02-001", f"structure type {s} is neither standard nor mapped to a standard type")


@check
def check_artifacts(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    """Page content is either tagged (inside marked content) or marked as an artifact."""
    for number, page in enumerate(pdf.pages, 1):
        depth = 0
        loose: set[str] = set()
        for instruction in _instructions(page):
            o = str(instruction.operator)
            if o in ("BDC", "BMC"):
                depth += 1
            elif o == "EMC":
                depth -= 1
            elif depth == 0 and o in PAINTING:
                loose.add(o)
        if loose:
            yield Finding("artifacts", "01-005", f"page {number}: content neither tagged nor an artifact "
                          f"(operators {', '.join(sorted(loose))})")


@check
def check_tables(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    """Each TH has a /Scope (or the cells name their headers); each table has rows."""
    tree = pdf.Root.get("/StructTreeRoot")
    if tree is None:
        return
    missing = 0
    for node in walk(tree):
        r = role(node)
        if r == "/Table" and not any(role(e) == "/TR" for e in walk(node)):
            yield Finding("tables", "15", "a Table element contains no TR rows (a caption left alone by a page break?)")
        if r == "/TH" and _attribute(node, "/Scope") is None:
            missing += 1
    if missing:
        yield Finding("tables", "15-003", f"{missing} table header cell(s) without /Scope")


def _attribute(node: pikepdf.Object, key: str) -> object:
    attrs = node.get("/A")
    for a in list(attrs) if isinstance(attrs, pikepdf.Array) else [attrs]:
        if isinstance(a, pikepdf.Dictionary) and key in a:
            return a[key]
    return None


@check
def check_headings(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    """Numbered headings start at H1 and never skip a level on the way down (the rule the pdfua
    package's UA-14-001 is meant to check, which fails on these files)."""
    tree = pdf.Root.get("/StructTreeRoot")
    if tree is None:
        return
    levels = [int(role(n)[2:]) for n in walk(tree) if re.fullmatch(r"/H[1-6]", role(n))]
    if levels and levels[0] != 1:
        yield Finding("headings", "14-002", f"the first heading is H{levels[0]}, not H1")
    for before, after in zip(levels, levels[1:]):
        if after > before + 1:
            yield Finding("headings", "14-003", f"heading level skipped: H{before} followed by H{after}")


@check
def check_figures(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    """Figures have alternative text and a bounding box inside their page, in points."""
    tree = pdf.Root.get("/StructTreeRoot")
    if tree is None:
        return
    for number, node in enumerate((n for n in walk(tree) if role(n) == "/Figure"), 1):
        if not str(node.get("/Alt", "")).strip():
            yield Finding("figures", "13-004", f"figure {number} has no alternative text")
        box = _attribute(node, "/BBox")
        if box is None or "/Pg" not in node:
            yield Finding("figures", "ISO 32000-1 14.8.5.4.3", f"figure {number} has no bounding box and page")
            continue
        x0, y0, x1, y1 = (float(v) for v in box)  # type: ignore[attr-defined]
        mx0, my0, mx1, my1 = (float(v) for v in node.Pg.MediaBox)
        if not (mx0 <= x0 < x1 <= mx1 + 0.01 and my0 <= y0 < y1 <= my1 + 0.01):
            yield Finding("figures", "ISO 32000-1 14.8.5.4.3",
                          f"figure {number}: bounding box [{x0:.1f} {y0:.1f} {x1:.1f} {y1:.1f}] is not inside its page "
                          f"[{mx0:.1f} {my0:.1f} {mx1:.1f} {my1:.1f}] (pixels instead of points?)")


@check
def check_links(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    """Link annotations are tagged and described by text, not by an anchor id or an address."""
    for number, page in enumerate(pdf.pages, 1):
        for annot in page.get("/Annots", []):
            if annot.get("/Subtype") != pikepdf.Name.Link:
                continue
            if "/StructParent" not in annot:
                yield Finding("links", "28-012", f"page {number}: a link annotation is not tagged")
            text = str(annot.get("/Contents", "")).strip()
            dest = str(annot.get("/Dest", "")) if isinstance(annot.get("/Dest"), pikepdf.String) else ""
            uri = str(annot.A.get("/URI", "")) if "/A" in annot else ""
            if not text or text in (dest, uri):
                yield Finding("links", "28-011", f"page {number}: a link is described as {text!r}, not by its text")


@check
def check_document(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    """Language, title and DisplayDocTitle."""
    root: Any = pdf.Root
    if not str(root.get("/Lang", "")).strip():
        yield Finding("document", "11-006", "the document has no /Lang")
    if not str(pdf.docinfo.get("/Title", "")).strip():
        yield Finding("document", "06-003", "the document has no title")
    if not bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle", False)):
        yield Finding("document", "07-001", "/ViewerPreferences /DisplayDocTitle is not true")


def _fonts(resources: Any, seen: set[tuple[int, int]]) -> Iterator[pikepdf.Object]:
    """Fonts of a resource dictionary and of the form XObjects it uses, each once."""
    if not isinstance(resources, pikepdf.Dictionary) or resources.objgen in seen and resources.objgen != (0, 0):
        return
    seen.add(resources.objgen)
    for font in resources.get("/Font", {}).values():
        if font.objgen not in seen or font.objgen == (0, 0):
            seen.add(font.objgen)
            yield font
    for xobject in resources.get("/XObject", {}).values():
        if xobject.get("/Subtype") == pikepdf.Name.Form and xobject.objgen not in seen:
            seen.add(xobject.objgen)
            yield from _fonts(xobject.get("/Resources"), seen)


@check
def check_fonts(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    """Every font embedded and mapped to Unicode."""
    seen: set[tuple[int, int]] = set()
    for page in pdf.pages:
        for font in _fonts(page.get("/Resources"), seen):
            name = _name(font.get("/BaseFont", "?"))
            descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            descriptor = descendant.get("/FontDescriptor")
            if font.get("/Subtype") != pikepdf.Name.Type3 and not (
                    descriptor and any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))):
                yield Finding("fonts", "31-009", f"font {name} is not embedded")
            if "/ToUnicode" not in font:
                yield Finding("fonts", "31-027", f"font {name} has no /ToUnicode map")


def _family(font: pikepdf.Object) -> str:
    """A font's family as the PDF names it: the subset prefix and style suffix left out, spaces back."""
    base = _name(font.get("/BaseFont", "?")).split("+", 1)[-1]
    return re.sub(r"-(Regular|Semi-?[Bb]old|Bold|Italic|Semibold)$", "", base).replace("-", " ")


def _shown_gids(content: Any, resources: Any) -> Iterator[tuple[Any, list[int]]]:
    """(font, glyph ids) of every string shown in a content stream, for two-byte (Identity-H) fonts."""
    fonts: Any = resources.get("/Font", {}) if isinstance(resources, pikepdf.Dictionary) else {}
    font = None
    for instruction in _instructions(content):
        o, operands = str(instruction.operator), instruction.operands
        if o == "Tf":
            font = fonts.get(str(operands[0]))
        elif o in ("Tj", "TJ", "'", '"') and font is not None and font.get("/Encoding") == pikepdf.Name("/Identity-H"):
            strings = [x for x in operands[-1] if isinstance(x, pikepdf.String)] if o == "TJ" else [operands[-1]]
            data = [bytes(x) for x in strings]
            codes = [int.from_bytes(b[i:i + 2], "big") for b in data for i in range(0, len(b), 2)]
            cmap = font.DescendantFonts[0].get("/CIDToGIDMap")
            if isinstance(cmap, pikepdf.Stream):
                table = cmap.read_bytes()
                codes = [int.from_bytes(table[2 * c:2 * c + 2], "big") for c in codes]
            yield font, codes


def _streams(pdf: pikepdf.Pdf) -> Iterator[tuple[int, Any, Any]]:
    """(page number, content, resources) of every page and every form XObject it draws."""
    seen: set[tuple[int, int]] = set()
    for number, page in enumerate(pdf.pages, 1):
        yield number, page, page.get("/Resources")
        todo = [page.get("/Resources")]
        while todo:
            resources = todo.pop()
            if not isinstance(resources, pikepdf.Dictionary):
                continue
            for xobject in resources.get("/XObject", {}).values():
                if xobject.get("/Subtype") == pikepdf.Name.Form and xobject.objgen not in seen:
                    seen.add(xobject.objgen)
                    yield number, xobject, xobject.get("/Resources")
                    todo.append(xobject.get("/Resources"))


@check
def check_glyphs(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    """No character printed as the missing-glyph box (.notdef), and no font but the pinned ones."""
    from .fonts import FAMILIES

    allowed = {f.replace(" ", "").lower() for f in FAMILIES}
    reported: set[str] = set()
    for number, content, resources in _streams(pdf):
        for font, gids in _shown_gids(content, resources):
            if 0 in gids:
                yield Finding("glyphs", "31-011", f"page {number}: {gids.count(0)} character(s) in font "
                              f"{_family(font)} print as the missing-glyph box")
            family = _family(font)
            key = family.replace(" ", "").lower()
            if not any(key.startswith(a) for a in allowed) and family not in reported:
                reported.add(family)
                yield Finding("glyphs", "fonts", f"page {number}: font {family} is not one of the pinned fonts "
                              f"(a system font used as fallback)")


def _xmp(pdf: pikepdf.Pdf) -> tuple[bytes, pikepdf.Object] | None:
    meta = pdf.Root.get("/Metadata")
    return (meta.read_bytes(), meta) if meta is not None else None


@check
def check_xmp(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    """One well-formed XMP packet, unfiltered, with pdfaid, pdfuaid and the extension schema for pdfuaid."""
    found = _xmp(pdf)
    if found is None:
        yield Finding("xmp", "06-001", "the document has no XMP metadata")
        return
    data, stream = found
    if "/Filter" in stream:
        yield Finding("xmp", "ISO 19005-3 6.6.2.1", "the metadata stream is filtered (compressed)")
    text = data.decode("utf-8", "replace")
    for what, pattern in (("xpacket", r"<\?xpacket begin"), ("x:xmpmeta", r"<x:xmpmeta\b"), ("rdf:RDF", r"<rdf:RDF\b")):
        count = len(re.findall(pattern, text))
        if count != 1:
            yield Finding("xmp", "ISO 19005-3 6.6.2.1", f"the metadata holds {count} {what} blocks, not one")
    try:
        tree = ET.fromstring(re.sub(r"<\?xpacket[^>]*\?>", "", text).strip())
    except ET.ParseError as exc:
        yield Finding("xmp", "ISO 19005-3 6.6.2.1", f"the XMP packet is not well-formed XML: {exc}")
        return
    values = _xmp_values(tree)
    if values.get("pdfuaid:part") != "1":
        yield Finding("xmp", "06-002", "the XMP metadata does not say pdfuaid:part 1")
    if values.get("pdfaid:part") != "3" or values.get("pdfaid:conformance") != "A":
        yield Finding("xmp", "ISO 19005-3 6.6.4", "the XMP metadata does not identify PDF/A-3a")
    namespaces = {e.text for e in tree.iter(f"{{{NS['pdfaSchema']}}}namespaceURI")}
    if NS["pdfuaid"] not in namespaces:
        yield Finding("xmp", "ISO 19005-3 6.6.2.3.2", "no PDF/A extension schema declares the pdfuaid namespace")


def _xmp_values(tree: ET.Element) -> dict[str, str]:
    """Simple XMP properties (as elements or attributes) and the first item of array properties."""
    values: dict[str, str] = {}
    prefixes = {uri: prefix for prefix, uri in NS.items()}
    for desc in tree.iter(f"{{{NS['rdf']}}}Description"):
        for key, value in desc.attrib.items():
            uri, _, local = key[1:].partition("}")
            if uri in prefixes and prefixes[uri] != "rdf":
                values[f"{prefixes[uri]}:{local}"] = value
        for prop in desc:
            uri, _, local = prop.tag[1:].partition("}")
            if uri not in prefixes:
                continue
            item = prop.find(".//rdf:li", NS)
            values[f"{prefixes[uri]}:{local}"] = (item.text if item is not None else prop.text) or ""
    return values


# ------------------------------------------------------------------------------------------------
# PDF/A-3


@check
def check_output_intent(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    intents = [i for i in pdf.Root.get("/OutputIntents", []) if i.get("/S") == pikepdf.Name("/GTS_PDFA1")]
    if len(intents) != 1 or "/DestOutputProfile" not in intents[0]:
        yield Finding("output_intent", "ISO 19005-3 6.2.3", "no single PDF/A output intent with an ICC profile")


@check
def check_attachments(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    """Every embedded file is an associated file, listed once, with /AFRelationship, MIME type and date."""
    root: Any = pdf.Root
    af = list(root.get("/AF", []))
    ids = [spec.objgen for spec in af]
    if len(ids) != len(set(ids)):
        yield Finding("attachments", "ISO 19005-3 6.8", f"/AF lists {len(ids)} entries for {len(set(ids))} files")
    names: Any = root.get("/Names", {}).get("/EmbeddedFiles", {}).get("/Names", [])
    embedded = [names[i + 1] for i in range(0, len(names), 2)]
    for spec in embedded:
        if spec.objgen not in set(ids):
            yield Finding("attachments", "ISO 19005-3 6.8", f"embedded file {spec.get('/UF')} is not in /AF")
    for spec in {s.objgen: s for s in [*af, *embedded]}.values():
        name = str(spec.get("/UF", spec.get("/F", "?")))
        if "/AFRelationship" not in spec:
            yield Finding("attachments", "ISO 19005-3 6.8", f"{name} has no /AFRelationship")
        stream: Any = spec.get("/EF", {}).get("/F")
        if stream is None:
            yield Finding("attachments", "ISO 19005-3 6.8", f"{name} has no embedded file stream")
            continue
        if "/Subtype" not in stream:
            yield Finding("attachments", "ISO 19005-3 6.8", f"{name} has no MIME type (/Subtype)")
        if "/ModDate" not in stream.get("/Params", {}):
            yield Finding("attachments", "ISO 19005-3 6.8", f"{name} has no modification date")


@check
def check_metadata_sync(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    """The document information dictionary and the XMP metadata say the same."""
    found = _xmp(pdf)
    if found is None:
        return
    try:
        tree = ET.fromstring(re.sub(r"<\?xpacket[^>]*\?>", "", found[0].decode("utf-8", "replace")).strip())
    except ET.ParseError:
        return  # reported by check_xmp
    values = _xmp_values(tree)
    for key, (element, shape) in XMP_PROPERTIES.items():
        if key not in pdf.docinfo:
            continue
        expected = str(pdf.docinfo[key])
        if shape == "date":
            expected = xmp_date(expected)
        if values.get(element) != expected:
            yield Finding("metadata_sync", "ISO 19005-3 6.6.2.3.1",
                          f"{_name(key)} is {expected!r} but XMP {element} is {values.get(element)!r}")


# ------------------------------------------------------------------------------------------------
# the pdfua package


#: pdfua 0.1.3 rules that raise on valid structure (UA-14-001 reads an array as a dictionary)
PDFUA_BROKEN = frozenset({"UA-14-001"})


def check_pdfua_package(data: bytes) -> list[Finding]:
    """The rules of the `pdfua` package (PyPI): each finding, and each rule that could not run."""
    import tempfile

    from pdfua import validate

    with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
        tmp.write(data)
        tmp.flush()
        report = validate(tmp.name)
    findings = []
    for outcome in report.outcomes:
        if outcome.rule_id in PDFUA_BROKEN:
            continue
        if outcome.skipped_reason:
            findings.append(Finding("pdfua", outcome.rule_id, f"could not run: {outcome.skipped_reason}"))
        findings.extend(Finding("pdfua", outcome.rule_id, f.message) for f in outcome.findings)
    return findings


__all__ = ["CHECKS", "Finding", "check_pdf", "kids"]

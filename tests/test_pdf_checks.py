"""PDF/UA-1 and PDF/A-3 checks (sesreport/pdfcheck.py) on real documents, and on broken copies of them.

Every document the tests build from the real data passes every check; each check, fed a copy of a
real brief broken in the one way it looks for, fails with its message.
"""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest

from sesreport.cli import main
from sesreport.pdfcheck import CHECKS, check_pdf
from sesreport.pdfpost import kids, merge_stranded_tables, role, walk
from tests.conftest import need_real

AS_OF = "2026-11-27"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    real = need_real()
    out = tmp_path_factory.mktemp("pdfcheck")
    assert main(["build", "RUS", "--document", "brief", "--document", "annex", "--data", str(real), "--out", str(out),
                 "--as-of", AS_OF, "-j", "1", "--format", "full"]) == 0
    return out


def test_every_real_document_passes_every_check(built):
    pdfs = sorted(built.glob("*/*.pdf"))
    assert [p.relative_to(built).as_posix() for p in pdfs] == [
        *(f"annex/ses.{lang}.pdf" for lang in ("en", "es", "fr", "ru", "uk")), "brief/RUS.en.pdf", "brief/RUS.ru.pdf"]
    for pdf in pdfs:
        assert [str(f) for f in check_pdf(pdf)] == [], pdf.name


def test_what_the_fixes_put_in_place(built):
    """The repaired details themselves, read back from the Russian brief."""
    with pikepdf.open(built / "brief" / "RUS.ru.pdf") as pdf:
        tree = pdf.Root.StructTreeRoot
        scopes = [str(n.A.Scope) for n in walk(tree) if role(n) == "/TH"]
        # every header cell of the HTML's tables has its scope in the PDF (the long form: five topic tables
        # of eight columns and the index table of four)
        html = (built / "brief" / "RUS.ru.html").read_text(encoding="utf-8")
        assert scopes.count("/Column") == html.count('<th scope="col"') == 8 * 5 + 4
        assert scopes.count("/Row") == html.count('<th scope="row"') > 10
        assert len(scopes) == len(re.findall("<th ", html))
        contents = {str(a.Contents) for a in pdf.pages[0].Annots}
        assert "Рынок труда" in contents and "s-labour_market" not in contents
        assert len(pdf.Root.AF) == 6 and all(spec.AFRelationship == pikepdf.Name.Data for spec in pdf.Root.AF)
        xmp = pdf.Root.Metadata.read_bytes().decode()
        assert xmp.count("<rdf:RDF") == 1 and "<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>" in xmp
        assert "<dc:language><rdf:Bag><rdf:li>ru</rdf:li>" in xmp
        width = float(pdf.pages[0].MediaBox[2])
        boxes = [[float(v) for v in n.A.BBox] for n in walk(tree) if role(n) == "/Figure"]
        assert len(boxes) == 12 and max(b[2] for b in boxes) <= width


def test_a_finished_pdf_is_identified_by_its_html_which_weasyprint_does_not_hash(monkeypatch):
    """The first part of a finished PDF's /ID is the digest of its HTML (the second, qpdf's of its
    content). WeasyPrint is given no identifier: pydyf would serialise and compress every object a
    second time to hash them."""
    import pydyf

    from sesreport import render

    given = []
    write = pydyf.PDF.write

    def spy(self, output, version, identifier, compress):
        given.append(identifier)
        return write(self, output, version, identifier, compress)

    monkeypatch.setattr(pydyf.PDF, "write", spy)
    html = '<html lang="en"><head><title>Unemployment</title></head><body><p>5.1 % in 2024.</p></body></html>'
    pdf = render._write_pdf(html, (), "pdf/a-3a", True, None)
    with pikepdf.open(io.BytesIO(pdf.data)) as doc:
        first, second = (bytes(part) for part in doc.trailer.ID)
    assert first == hashlib.sha256(html.encode()).hexdigest()[:32].encode() and len(second) == 16
    assert given == [False]
    assert render._write_pdf(html, (), "pdf/a-3a", True, None).data == pdf.data


def test_caption_stranded_by_a_page_break_rejoins_its_table(built):
    """WeasyPrint leaves a caption pushed before a page break in a /Table of its own: the finishing
    step gives it back to the table that follows, and the table check is satisfied again."""
    with pikepdf.open(built / "brief" / "RUS.en.pdf") as pdf:
        tree = pdf.Root.StructTreeRoot
        table = _first(pdf, "/Table")
        parent = table.P
        caption = kids(table)[0]
        assert role(caption) == "/Caption"
        stranded = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.Table, P=parent,
                                                        K=pikepdf.Array([caption])))
        caption.P = stranded
        table.K = pikepdf.Array(list(table.K)[1:])
        siblings = list(parent.K)
        at = next(i for i, k in enumerate(siblings) if k.objgen == table.objgen)
        parent.K = pikepdf.Array([*siblings[:at], stranded, *siblings[at:]])
        assert [str(f) for f in CHECKS["tables"](pdf)] == [
            "tables (15): a Table element contains no TR rows (a caption left alone by a page break?)"]
        merge_stranded_tables(tree)
        assert list(CHECKS["tables"](pdf)) == []
        assert kids(table)[0].objgen == caption.objgen and caption.P.objgen == table.objgen
        assert not any(k.objgen == stranded.objgen for k in parent.K)


# ------------------------------------------------------------------------------------------------
# broken copies


def _first(pdf: pikepdf.Pdf, structure_type: str) -> pikepdf.Object:
    return next(n for n in walk(pdf.Root.StructTreeRoot) if role(n) == structure_type)


def _drop_scope(pdf):
    for n in walk(pdf.Root.StructTreeRoot):
        if role(n) == "/TH":
            del n.A["/Scope"]


def _empty_table(pdf):
    table = _first(pdf, "/Table")
    table.K = pikepdf.Array([k for k in kids(table) if role(k) == "/Caption"])


def _link_as_id(pdf):
    annot = next(a for a in pdf.pages[0].Annots if a.Subtype == pikepdf.Name.Link)
    annot.Contents = annot.Dest


def _untagged_link(pdf):
    annot = next(a for a in pdf.pages[0].Annots if a.Subtype == pikepdf.Name.Link)
    del annot["/StructParent"]


def _bbox_in_pixels(pdf):
    figure = _first(pdf, "/Figure")
    figure.A.BBox = pikepdf.Array([float(v) / 0.75 for v in figure.A.BBox])


def _skipped_heading(pdf):
    _first(pdf, "/H2").S = pikepdf.Name("/H4")


def _no_alt(pdf):
    del _first(pdf, "/Figure")["/Alt"]


def _second_rdf(pdf):
    xmp = pdf.Root.Metadata.read_bytes().replace(
        b"</rdf:RDF>", b'</rdf:RDF>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"></rdf:RDF>')
    pdf.Root.Metadata.write(xmp)


def _no_extension_schema(pdf):
    xmp = pdf.Root.Metadata.read_bytes()
    pdf.Root.Metadata.write(xmp.replace(b"<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/",
                                        b"<pdfaSchema:namespaceURI>http://example.org/other/"))


def _no_pdfuaid(pdf):
    pdf.Root.Metadata.write(pdf.Root.Metadata.read_bytes().replace(b"<pdfuaid:part>1</pdfuaid:part>", b""))


def _compressed_xmp(pdf):
    pdf.Root.Metadata.write(zlib.compress(pdf.Root.Metadata.read_bytes()), filter=pikepdf.Name.FlateDecode)


def _title_out_of_step(pdf):
    pdf.docinfo["/Title"] = "Another title"


def _duplicate_af(pdf):
    pdf.Root.AF.append(pdf.Root.AF[0])


def _no_af_relationship(pdf):
    del pdf.Root.AF[1]["/AFRelationship"]


def _no_output_intent(pdf):
    del pdf.Root["/OutputIntents"]


def _no_lang(pdf):
    del pdf.Root["/Lang"]


def _no_display_title(pdf):
    pdf.Root.ViewerPreferences.DisplayDocTitle = False


def _unmapped_role(pdf):
    _first(pdf, "/P").S = pikepdf.Name("/Paragraph")


def _untagged_text(pdf):
    page = pdf.pages[0]
    page.contents_add(pikepdf.Stream(pdf, b"BT /F1 9 Tf 10 10 Td (loose) Tj ET"), prepend=False)


def _no_to_unicode(pdf):
    font = next(iter(pdf.pages[0].Resources.Font.values()))
    del font["/ToUnicode"]


def _missing_glyph(pdf):
    """A string shown with glyph 0, the missing-glyph box."""
    page = pdf.pages[0]
    name = next(iter(page.Resources.Font.keys()))
    page.contents_add(pikepdf.Stream(pdf, f"/Artifact BMC BT {name} 9 Tf 10 10 Td <0000> Tj ET EMC".encode()),
                      prepend=False)


def _system_font(pdf):
    font = next(iter(pdf.pages[0].Resources.Font.values()))
    font.BaseFont = pikepdf.Name("/ABCDEF+DejaVuSans")


BREAKS: list[tuple[str, Callable[[pikepdf.Pdf], None], str]] = [
    ("tables", _drop_scope, " table header cell(s) without /Scope"),
    ("tables", _empty_table, "a Table element contains no TR rows"),
    ("links", _link_as_id, "a link is described as 's-labour_market', not by its text"),
    ("links", _untagged_link, "a link annotation is not tagged"),
    ("figures", _bbox_in_pixels, "is not inside its page"),
    ("headings", _skipped_heading, "heading level skipped: H1 followed by H4"),
    ("figures", _no_alt, "figure 1 has no alternative text"),
    ("xmp", _second_rdf, "the metadata holds 2 rdf:RDF blocks, not one"),
    ("xmp", _no_extension_schema, "no PDF/A extension schema declares the pdfuaid namespace"),
    ("xmp", _no_pdfuaid, "does not say pdfuaid:part 1"),
    ("xmp", _compressed_xmp, "the metadata stream is filtered"),
    ("metadata_sync", _title_out_of_step, "Title is 'Another title' but XMP dc:title is 'Russian Federation — "),
    ("attachments", _duplicate_af, "/AF lists 7 entries for 6 files"),
    ("attachments", _no_af_relationship, "has no /AFRelationship"),
    ("output_intent", _no_output_intent, "no single PDF/A output intent"),
    ("document", _no_lang, "the document has no /Lang"),
    ("document", _no_display_title, "/DisplayDocTitle is not true"),
    ("structure", _unmapped_role, "structure type Paragraph is neither standard nor mapped"),
    ("artifacts", _untagged_text, "page 1: content neither tagged nor an artifact (operators Tj)"),
    ("fonts", _no_to_unicode, "has no /ToUnicode map"),
    ("glyphs", _missing_glyph, "page 1: 1 character(s) in font Source S"),
    ("glyphs", _system_font, "font DejaVuSans is not one of the pinned fonts"),
]


@pytest.mark.parametrize(("name", "breaker", "message"), BREAKS, ids=[b.__name__.strip("_") for _, b, _ in BREAKS])
def test_each_check_fails_on_a_broken_copy(built, name, breaker, message):
    """The check runs on the broken document as it is in memory (saving it would let qpdf repair some
    of the damage, such as a compressed metadata stream)."""
    with pikepdf.open(built / "brief" / "RUS.en.pdf") as pdf:
        breaker(pdf)
        findings = [str(f) for f in CHECKS[name](pdf)]
    assert any(message in f for f in findings), findings


def test_every_check_has_a_broken_copy():
    assert {name for name, _, _ in BREAKS} == set(CHECKS)


def test_pdfua_package_rules_run_and_find_missing_scope(built):
    """The pdfua package's own rules run in check_pdf; its table rule sees a copy without /Scope."""
    with pikepdf.open(built / "brief" / "RUS.en.pdf") as pdf:
        _drop_scope(pdf)
        out = io.BytesIO()
        pdf.save(out, preserve_pdfa=False)
    findings = check_pdf(out.getvalue(), only=["pdfua"])
    assert findings and {f.rule for f in findings} == {"UA-15-003"}

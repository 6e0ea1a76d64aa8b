"""SVG texts laid out and drawn whole (`sesreport.svgtext`): a plain text is one run of glyphs in the
PDF, where WeasyPrint drew one run per letter, in the same place; a text with per-letter positions is
drawn letter by letter as before."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pikepdf
import pytest

from sesreport import render

from .conftest import REPO

STYLE = "font-size: 6.5px; font-family: 'Source Sans Pro'; fill: #1f2933"
PAGE = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Texts</title></head><body>
<svg xmlns="http://www.w3.org/2000/svg" width="240pt" height="60pt" viewBox="0 0 240 60">
<text style="{STYLE}" x="10" y="20">Peer median</text>
<text style="{STYLE}; text-anchor: middle" x="120" y="20">2016</text>
<text style="{STYLE}; text-anchor: end" font-weight="600" x="230" y="20">13.0</text>
<text style="{STYLE}" x="10" y="45" dx="0 2 2 2 2 2">Spaced</text>
</svg></body></html>"""

LETTER_BY_LETTER = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
from sesreport import render, svgtext
svgtext.install = lambda: None  # WeasyPrint's own drawing, letter by letter
sys.stdout.buffer.write(render._write_pdf(sys.stdin.read(), (), None, False, None).data)
"""


IN_FORMS = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
import weasyprint.svg
from sesreport import render, svgtext
own = weasyprint.svg.SVG.draw_node
svgtext.install()
weasyprint.svg.SVG.draw_node = own  # texts whole, each anchored one in a form of its own as WeasyPrint draws it
sys.stdout.buffer.write(render._write_pdf(sys.stdin.read(), (), None, False, None).data)
"""


def _forms(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return sum(1 for o in doc.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Form")


def _runs(pdf: bytes) -> int:
    """The text-showing operators in the PDF's page and in every form it draws."""
    count = 0
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        seen = set()

        def walk(stream) -> None:
            nonlocal count
            for _, operator in pikepdf.parse_content_stream(stream):
                count += str(operator) in ("Tj", "TJ")
            resources = stream.get("/Resources") or {}
            for form in (resources.get("/XObject") or {}).values():
                if form.objgen not in seen and form.get("/Subtype") == "/Form":
                    seen.add(form.objgen)
                    walk(form)

        for page in doc.pages:
            walk(page.obj)
    return count


def _words(pdf: bytes, tmp_path, name: str) -> list[tuple[str, float, float, float, float]]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [(w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html)]


@pytest.fixture(scope="module")
def both() -> tuple[bytes, bytes]:
    whole = render._write_pdf(PAGE, (), None, False, None).data
    run = subprocess.run([sys.executable, "-c", LETTER_BY_LETTER], input=PAGE.encode(), capture_output=True,
                         timeout=120, check=True)
    return whole, run.stdout


def test_a_plain_text_is_one_run_a_spaced_one_a_run_per_letter(both):
    whole, letters = both
    # the page's number, at its foot, is the same run in both
    assert _runs(letters) - _runs(whole) == len("Peermedian" "2016" "13.0") - 3


def test_each_word_where_letter_by_letter_drawing_put_it(both, tmp_path):
    whole, letters = both
    drawn, before = _words(whole, tmp_path, "whole"), _words(letters, tmp_path, "letters")
    assert [w for w, *_ in drawn] == [w for w, *_ in before] == ["Peer", "median", "2016", "13.0", "Spaced",
                                                                  "1", "/", "1"]  # and the page's number
    for (word, *box), (_, *then) in zip(drawn, before, strict=True):
        # the same lines, and each word where it was within a quarter of a point: the kerning between
        # letters now applied ("Pe" is 0.16 pt tighter at 6.5 pt), anchored texts still centred or
        # ending where they should
        assert box[1] == pytest.approx(then[1], abs=0.01) and box[3] == pytest.approx(then[3], abs=0.01), word
        assert box[0] == pytest.approx(then[0], abs=0.25) and box[2] == pytest.approx(then[2], abs=0.25), word


def test_an_anchored_text_is_drawn_in_the_page_where_its_form_would_have_put_it(both, tmp_path):
    whole, _ = both
    run = subprocess.run([sys.executable, "-c", IN_FORMS], input=PAGE.encode(), capture_output=True, timeout=120,
                         check=True)
    in_forms = run.stdout
    # "2016" (anchored at its middle) and "13.0" (at its end): a form each in WeasyPrint's drawing, none here
    assert _forms(in_forms) - _forms(whole) == 2
    assert _runs(in_forms) == _runs(whole)
    drawn, before = _words(whole, tmp_path, "whole"), _words(in_forms, tmp_path, "forms")
    assert [w for w, *_ in drawn] == [w for w, *_ in before]
    for (word, *box), (_, *then) in zip(drawn, before, strict=True):
        assert box == pytest.approx(then, abs=0.001), word

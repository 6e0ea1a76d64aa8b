"""A build of one document renders its PDF in a process of its own (`render.Renderer`), started
before the data is loaded so that WeasyPrint's start-up runs beside the load: the PDF is the same as
one rendered in the build's own process, an error comes back as the same exception, a renderer
that died leaves the build to render for itself, and one that ends leaves no temporary files."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import REPO

SCRIPT = r"""
import sys
from pathlib import Path
from sesreport import render

html = '<html lang="en"><head><title>Unemployment</title></head><body><h1>Unemployment</h1>'
html += '<p>The unemployment rate was 5.1 % in 2024.</p></body></html>'
out = Path(sys.argv[1])
renderer = render.start_renderer()
assert renderer is not None and renderer.serves(renderer.parent)
(out / "renderer.pdf").write_bytes(render.write_pdf(html).data)
assert "weasyprint" not in sys.modules and renderer.cpu > 0
try:
    render.write_pdf(html, variant="pdf/none")
except KeyError as exc:
    print("error:", exc)
renderer._process.kill()
renderer._process.join()
assert not renderer.serves(renderer.parent)
(out / "after-death.pdf").write_bytes(render.write_pdf(html).data)
assert "weasyprint" in sys.modules
render.stop_renderer()
assert render.start_renderer() is None  # WeasyPrint is here now: no second renderer
(out / "here.pdf").write_bytes(render.write_pdf(html).data)
"""


def test_a_renderer_process_gives_the_same_pdf_and_errors(tmp_path):
    temp = tmp_path / "temp"
    temp.mkdir()
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "TMPDIR": str(temp)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["error: 'pdf/none'"]
    here = (tmp_path / "here.pdf").read_bytes()
    assert here.startswith(b"%PDF-")
    assert (tmp_path / "renderer.pdf").read_bytes() == here == (tmp_path / "after-death.pdf").read_bytes()
    # WeasyPrint's font folders: the killed renderer's stays, the script's own is removed as it exits
    assert len(list(temp.glob("weasyprint-*"))) == 1


def test_a_renderer_that_ends_removes_its_font_folder(tmp_path):
    temp = tmp_path / "temp"
    temp.mkdir()
    script = ("from sesreport import render\n"
              "r = render.start_renderer()\n"
              "assert render.write_pdf('<html lang=\"en\"><title>T</title><p>Text</p></html>').data\n"
              "render.stop_renderer()\n"
              "assert not r._process.is_alive()\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "TMPDIR": str(temp)})
    assert run.returncode == 0, run.stderr
    assert list(temp.iterdir()) == []


TWINS = r"""
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from sesreport import render

pages = [f'<html lang="en"><head><title>Page {i}</title></head><body><h1>Page {i}</h1>'
         f'<p>{"The employment ratio was 57.5 % in 2025. " * 40 * i}</p></body></html>' for i in range(1, 7)]
out = Path(sys.argv[1])
renderer = render.start_renderer(2)
assert render.renderers() == 2
with ThreadPoolExecutor(2) as pool:  # two threads at once: each is served by a renderer of its own
    made = list(pool.map(render.write_pdf, pages))
assert "weasyprint" not in sys.modules
# a document and its slides side by side: all the renderers' time is counted to the thread that asked
total, mine = renderer.cpu, render.renderer_cpu()
pair = render.write_pdfs([(pages[5], {}), (pages[0], {})])
assert abs((renderer.cpu - total) - (render.renderer_cpu() - mine)) < 1e-9 and render.renderer_cpu() > mine
for i, pdf in enumerate(made):
    (out / f"beside-{i}.pdf").write_bytes(pdf.data)
(out / "pair-5.pdf").write_bytes(pair[0].data)
(out / "pair-0.pdf").write_bytes(pair[1].data)
render.stop_renderer()
assert render.renderers() == 0
for i, page in enumerate(pages):
    (out / f"here-{i}.pdf").write_bytes(render.write_pdf(page).data)
"""


def test_two_renderers_serve_two_threads_and_leave_no_temporary_files(tmp_path):
    """`start_renderer(2)`: the first renderer starts up and forks the second, each serving a pipe of its
    own; two threads rendering at once, or a document and its slides rendered side by side
    (`write_pdfs`), get the PDFs this process makes itself, and once both renderers
    end, WeasyPrint's font folder they shared is gone (only this process's own, removed at its exit,
    was left before it exited)."""
    temp = tmp_path / "temp"
    temp.mkdir()
    run = subprocess.run([sys.executable, "-c", TWINS, str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "TMPDIR": str(temp)})
    assert run.returncode == 0, run.stderr
    for i in range(6):
        beside, here = (tmp_path / f"beside-{i}.pdf").read_bytes(), (tmp_path / f"here-{i}.pdf").read_bytes()
        assert beside.startswith(b"%PDF-") and beside == here, i
    for i in (0, 5):
        assert (tmp_path / f"pair-{i}.pdf").read_bytes() == (tmp_path / f"here-{i}.pdf").read_bytes(), i
    assert list(temp.iterdir()) == []


SEARCHES = r"""
import ctypes.util
import subprocess
from sesreport import render

ran = []
popen = subprocess.Popen.__init__

def recorded(self, args, *rest, **options):
    ran.append(args[0])
    popen(self, args, *rest, **options)

subprocess.Popen.__init__ = recorded
search = ctypes.util.find_library
render.print_setup()
print(sorted(set(ran)))
print(ctypes.util.find_library is search)
"""


def test_weasyprint_finds_its_libraries_asking_ldconfig_alone():
    """WeasyPrint's start asks for each library under names of three systems; Python would run gcc and
    ld for every name ldconfig does not know. Only ldconfig runs, and the search is Python's again after."""
    done = subprocess.run([sys.executable, "-c", SEARCHES], cwd=REPO, capture_output=True, text=True, check=True)
    ran, restored = done.stdout.splitlines()
    assert ran == "['/sbin/ldconfig']" and restored == "True"


ARRAYS = r"""
import hashlib, sys
import pycparser.c_parser
from sesreport import render

if sys.argv[1] == "as-weasyprint-does":
    render._codepoint_arrays = lambda: None
render.print_setup()
render._write_pdf(render._WARM_UP, (), "pdf/a-3a", True, None)
parsed = []
parse = pycparser.c_parser.CParser.parse
pycparser.c_parser.CParser.parse = lambda self, text, *a, **k: parsed.append(text) or parse(self, text, *a, **k)
html = ('<html lang="fr"><head><title>Glyphes</title></head><body><h1>Sécurité sociale</h1>'
        '<p>Une autre page, d’autres glyphes : ÆØÅ, 12 345,6 % ; <em>quelques mots en italique</em>.</p></body></html>')
pdf = render._write_pdf(html, (), "pdf/a-3a", True, None)
print(len(parsed), hashlib.sha256(pdf.data).hexdigest())
"""


def test_font_subsetting_parses_no_c_type_per_glyph_count():
    """WeasyPrint makes each font's glyph list as `hb_codepoint_t[N]`, a C type cffi parses once per N;
    `render._CodepointArrays` makes the same arrays without parsing a type, and the PDF is the same."""
    def run(how: str) -> tuple[int, str]:
        done = subprocess.run([sys.executable, "-c", ARRAYS, how], cwd=REPO, capture_output=True, text=True,
                              check=True)
        parsed, digest = done.stdout.split()
        return int(parsed), digest

    ours, weasyprints = run("ours"), run("as-weasyprint-does")
    assert ours[0] == 0 and weasyprints[0] > 0
    assert ours[1] == weasyprints[1]


LEAN = r"""
import hashlib, sys
from sesreport import render

if sys.argv[1] == "full":
    render._lean_ua_sheets = lambda: None
sheets = []
weasyprint_html = __import__("weasyprint").HTML
own = weasyprint_html._ua_stylesheets
weasyprint_html._ua_stylesheets = lambda self, forms=False: sheets.append("full") or own(self, forms)
cells = "".join(f"<tr><th scope='row'>Country {i}</th><td>{i * 1.5:.1f}</td><td>{i}</td></tr>" for i in range(300))
html = ('<html lang="en"><head><title>Annex</title></head><body><h1>Statistical annex</h1>'
        '<ol><li>First, <em>with</em> a note</li><li>Second</li></ol><ul><li>A point</li></ul>'
        f'<table><caption>Values</caption><thead><tr><th>Country</th><th>Value</th><th>Rank</th></tr></thead>'
        f'<tbody>{cells}</tbody></table></body></html>')
footnoted = ('<html lang="en"><head><title>Notes</title></head><body>'
             '<p>A figure<span style="float: footnote">From the 2024 survey.</span> with its source.</p></body></html>')
first = render.write_pdf(html)  # with WeasyPrint's own sheet: the lean one is made after it
second = render.write_pdf(html)
with_note = render.write_pdf(footnoted)
assert first.data == second.data
print(hashlib.sha256(second.data).hexdigest(), second.pages, len(sheets))
sys.stdout.buffer.write(with_note.data)
"""


def test_the_lean_user_agent_sheet_gives_the_same_pdf_and_keeps_footnotes(tmp_path):
    """WeasyPrint's stylesheet styles six pseudo-elements of every element; `render._lean_ua_sheets`
    keeps `::marker` for list items and leaves out footnotes and notes. A process makes it after its
    first document and uses it from the second: the PDF is the same, byte for byte, and a document
    with a footnote is rendered with WeasyPrint's own sheet, its call numbered."""
    def run(how: str) -> tuple[str, bytes]:
        done = subprocess.run([sys.executable, "-c", LEAN, how], cwd=REPO, capture_output=True, check=True)
        first, _, note = done.stdout.partition(b"\n")
        return first.decode(), note

    (lean, lean_note), (full, full_note) = run("lean"), run("full")
    digest, pages, asked = lean.split()
    assert full.split()[:2] == [digest, pages] and int(pages) > 1
    assert asked == "2" and full.split()[2] == "3"  # the first document and the footnoted one; without, all
    assert lean_note == full_note
    (tmp_path / "note.pdf").write_bytes(lean_note)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "note.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "A figure1 with its source." in text and "1. From the 2024 survey." in text


class _Pipe:
    """A renderer's end of its pipe: `waiting` requests already sent, then the build closes it."""

    def __init__(self, waiting: list[tuple]) -> None:
        self.waiting, self.sent = list(waiting), []

    def poll(self) -> bool:
        return bool(self.waiting)

    def recv(self) -> tuple:
        if not self.waiting:
            raise EOFError
        return self.waiting.pop(0)

    def send(self, reply: tuple) -> None:
        self.sent.append(reply)


def test_a_renderer_makes_the_lean_sheet_while_nothing_is_asked_or_after_its_first_document(monkeypatch):
    from sesreport import render

    events: list[str] = []
    monkeypatch.setattr(render, "_lean_ua_sheets", lambda: events.append("lean"))
    monkeypatch.setattr(render, "_write_pdf", lambda html, *rest: events.append(html) or render.Pdf(b"%PDF", 1))
    for waiting, expected in [([], ["lean"]), ([("first",), ("second",)], ["first", "lean", "second"])]:
        monkeypatch.setattr(render, "_lean_ready", False)
        events.clear()
        pipe = _Pipe(waiting)
        render._serve(pipe)
        assert events == expected and render._lean_ready
        assert [ok for ok, *_ in pipe.sent] == [True] * len(waiting)

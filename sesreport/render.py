"""HTML from templates, and PDF from HTML with WeasyPrint.

Templates run in Jinja's sandbox with autoescaping. WeasyPrint may only read the project's own
templates and fonts and the charts embedded in the page: every other URL (files elsewhere, the
network) is refused by :class:`SafeFetcher`. Stylesheets and fonts are parsed once per process.
"""

from __future__ import annotations

import atexit
import functools
import gc
import hashlib
import os
import pickle
import queue
import re
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from .fonts import font_dirs, font_face_css
from .i18n import Lang
from .lifeline import collect_less, die_with_parent, loading

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@functools.lru_cache(maxsize=16)
def environment(folders: tuple[Path, ...], lang: Lang, compiled: Path | None = None) -> SandboxedEnvironment:
    """A sandboxed environment per template search path and language, with that language's
    gettext installed once. The first folder holding a template wins (a country's override first).
    With `compiled`, the templates' compiled code is kept in that folder (see `keep_compiled_templates`)."""
    loader = ChoiceLoader([FileSystemLoader(str(folder)) for folder in folders])
    env = SandboxedEnvironment(loader=loader, autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                               lstrip_blocks=True, extensions=["jinja2.ext.i18n"],
                               bytecode_cache=_CompiledTemplates(str(compiled)) if compiled else None)
    env.install_gettext_callables(lang.gettext, lang.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["columns"] = balanced_columns
    return env


class _CompiledTemplates(FileSystemBytecodeCache):
    """Jinja's own cache of compiled templates (a template whose source changed is compiled again);
    one that cannot be read or written only makes the build slower."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - a damaged entry: compiled again, and written anew
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            os.makedirs(self.directory, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


_compiled: Path | None = None  # see keep_compiled_templates


def keep_compiled_templates(cache_dir: Path | None) -> None:
    """Keep the templates' compiled code under `cache_dir` (None: compile them in each process): a
    build that starts from cold then compiles only the templates that changed since the last, rather
    than the forty a brief and a strategy input use (a tenth of a second)."""
    global _compiled
    _compiled = Path(cache_dir) / "templates" if cache_dir is not None else None


def balanced_columns(items: Sequence[tuple[str, str]], count: int, width_mm: float,
                     size_pt: float) -> list[list[tuple[str, list[str]]]]:
    """Split list items, in order, into `count` columns of about the same height: the partition that
    makes the tallest column shortest, from each item's estimated number of lines (its text set at
    `size_pt` in a column `width_mm` wide). Each column is a list of runs (list class, its items), so
    that consecutive items of one list stay one list.

    WeasyPrint balances CSS columns by laying them out again and again, a point at a time; on the
    two-page brief's back page that cost a fifth of the PDF's time. Estimated lines give the same
    picture within a line or two, in one pass."""
    from .chartspec import text_width

    heights = [_lines(Markup(text).striptags(), size_pt, width_mm, text_width) + 0.35 for _, text in items]
    cuts = _partition(heights, count)
    columns = []
    for start, end in zip([0, *cuts], [*cuts, len(items)], strict=True):
        runs: list[tuple[str, list[str]]] = []
        for list_class, text in items[start:end]:
            if runs and runs[-1][0] == list_class:
                runs[-1][1].append(text)
            else:
                runs.append((list_class, [text]))
        columns.append(runs)
    return columns


def _lines(text: str, size_pt: float, width_mm: float, measure: Any) -> int:
    """The lines a text takes when its words are set one after another in a column of that width
    (each word measured once; a line's width is the sum of its words' and spaces')."""
    width_in = width_mm / 25.4
    space = measure("a a", size_pt) - measure("aa", size_pt)
    lines, used = 1, 0.0
    for word in text.split():
        w = _word_width(word, size_pt, measure)
        if used and used + space + w > width_in:
            lines, used = lines + 1, w
        else:
            used += (space if used else 0.0) + w
    return lines


@functools.lru_cache(maxsize=4096)
def _word_width(word: str, size_pt: float, measure: Any) -> float:
    return measure(word, size_pt)


def _partition(heights: Sequence[float], count: int) -> list[int]:
    """Where to cut `heights` into `count` consecutive runs so that the largest sum is smallest; among
    equal answers, the earlier columns the fuller (as a reader fills them). No column is left empty
    while there are items enough."""
    n = len(heights)
    if n <= count:  # an item a column, the last columns empty
        return [*range(1, n), *[n] * (count - n)] if n else [0] * (count - 1)
    prefix = [0.0]
    for h in heights:
        prefix.append(prefix[-1] + h)
    # best[k][i]: the smallest tallest column putting the first i items into k columns, and its last cut
    best = [[(0.0 if i == 0 else float("inf"), 0) for i in range(n + 1)]]
    for k in range(1, count + 1):
        row = [(0.0, 0)]
        for i in range(1, n + 1):
            first = min(k - 1, i - 1)  # each of the k - 1 columns before keeps one item at least
            tallest, cut = min((max(best[k - 1][j][0], prefix[i] - prefix[j]), -j) for j in range(first, i))
            row.append((tallest, -cut))
        best.append(row)
    cuts, i = [], n
    for k in range(count, 1, -1):
        i = best[k][i][1]
        cuts.append(i)
    return cuts[::-1]


def render_html(template: str, context: dict[str, Any], lang: Lang, media: str,
                folders: tuple[Path, ...] = (TEMPLATES,)) -> str:
    """The document as HTML. `media` is "print" (for WeasyPrint) or "screen" (the HTML version, made
    one self-contained file by `webfonts.finish_html`: charts inline and the fonts embedded as subsets)."""
    css = Markup(stylesheet_text("screen")) if media == "screen" else ""
    return environment(folders, lang, _compiled).get_template(template).render(**context, media=media, inline_css=css)


@functools.cache
def stylesheet_text(media: str) -> str:
    parts = [(TEMPLATES / "document.css").read_text(encoding="utf-8")]
    extra = TEMPLATES / f"{media}.css"
    if extra.is_file():
        parts.append(extra.read_text(encoding="utf-8"))
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------------
# PDF


class Blocked(ValueError):
    """A resource the document is not allowed to load."""


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeFetcher(URLFetcher):
        """Only the project's templates and fonts, and embedded images; nothing else, ever."""

        def __init__(self) -> None:
            super().__init__(timeout=1, allowed_protocols={"file", "data"}, allow_redirects=False)
            self.blocked: deque[str] = deque(maxlen=64)  # the latest refusals, for tests and diagnostics
            self.roots = [TEMPLATES.resolve()] + [d.resolve() for d in font_dirs()]

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                media = url[5:].split(",", 1)[0].split(";", 1)[0]
                if media not in ("image/svg+xml", "image/png"):
                    self._refuse(url)
                return super().fetch(url, headers)
            if url.startswith("file:"):
                from urllib.request import url2pathname

                path = Path(url2pathname(url.split("?")[0].removeprefix("file:"))).resolve()
                if any(path.is_relative_to(root) for root in self.roots) and path.is_file():
                    return URLFetcherResponse(url, path.read_bytes(), {}, 200)
            self._refuse(url)

        def _refuse(self, url: str):
            self.blocked.append(url)
            raise Blocked(f"blocked: {url[:80]}")

    return SafeFetcher


@functools.lru_cache(maxsize=1)
def safe_fetcher():
    return _fetcher_class()()


RENDER_LIBRARIES = ("weasyprint", "pydyf", "tinycss2", "cssselect2", "fonttools", "pikepdf", "uharfbuzz",
                    "font-source-sans-pro", "font-source-serif-pro", "fontpkg-noto-sans-arabic", "noto-cjk-sans-otc")


@functools.lru_cache(maxsize=1)
def renderer_digest() -> str:
    """What a PDF is made from besides its HTML: the print stylesheets and font rules every document
    shares, the PDF/UA metadata template, the code that renders and finishes the PDF and the versions
    of the libraries and fonts that lay it out and write it. A document whose HTML is unchanged is
    rendered again when this changes (see `execute.content_digest`)."""
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for part in (font_face_css(), stylesheet_text("print"), (TEMPLATES / "pdfua.xmp").read_text(encoding="utf-8"),
                 *((here / name).read_text(encoding="utf-8") for name in ("render.py", "pdfpost.py", "svgtext.py"))):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part.encode("utf-8"))
    for package in RENDER_LIBRARIES:
        try:
            h.update(f"{package}={version(package)};".encode())
        except PackageNotFoundError:
            h.update(f"{package}=none;".encode())
    return h.hexdigest()


#: this process's temporary folder as it was set before any build pointed the process at its own (see
#: `execute.init_worker`): `tempfile.tempdir` and the TMPDIR variable (not yet worked out, which would
#: write a probe file)
_PROCESS_TEMP = (tempfile.tempdir, os.environ.get("TMPDIR"))


@functools.lru_cache(maxsize=1)
def print_setup():  # released at exit (below), while WeasyPrint's font library is still loaded
    """Font configuration and parsed stylesheets, shared by every document of this process.

    WeasyPrint copies the fonts of the @font-face rules into a folder of its own, which Fontconfig
    reads when a glyph is first needed and which lives as long as the configuration: in the process's
    temporary folder, not in the build's. A process that builds again (`watch`, `serve`) would
    otherwise look for a fallback font (Chinese, Arabic) in the folder of a build that has ended and
    removed it, and draw its glyphs in another font, or not at all."""
    with _libraries_found_once():
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

    from .svgtext import install

    install()  # a chart's texts laid out and drawn whole, not letter by letter
    _codepoint_arrays()
    with _process_temp():
        fonts = FontConfiguration()
        fetcher = safe_fetcher()
        sheets = [
            CSS(string=font_face_css(), font_config=fonts, url_fetcher=fetcher),
            CSS(string=stylesheet_text("print"), font_config=fonts, url_fetcher=fetcher,
                base_url=str(TEMPLATES) + "/"),
        ]
    return fonts, sheets


class _CodepointArrays:
    """WeasyPrint's cffi `ffi` as its PDF font subsetting sees it (`weasyprint.pdf.fonts`): an array
    `hb_codepoint_t[N]` made from N values is made as `hb_codepoint_t[]` from them, the same array.

    cffi parses each C type it is given as text once a process, with pycparser, and the length is
    part of that text: each glyph count a font had not had before in the process cost about two
    milliseconds to parse (70 ms of a renderer's first brief, and more as a batch went on)."""

    _SIZED = re.compile(r"hb_codepoint_t\[(\d+)\]")

    def __init__(self, ffi: Any) -> None:
        self._ffi = ffi

    def new(self, cdecl: Any, init: Any = None) -> Any:
        sized = self._SIZED.fullmatch(cdecl) if isinstance(cdecl, str) else None
        if sized and init is not None and len(init) == int(sized.group(1)):
            return self._ffi.new("hb_codepoint_t[]", init)
        return self._ffi.new(cdecl, init)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ffi, name)


#: what in a document's HTML (its templates' styles included) asks for user-agent rules that
#: `_lean_ua_sheets` leaves out: footnotes and notes, and a list item other than `li`
_FULL_UA = re.compile(r"footnote|note\(|list-item")


@functools.cache
def _lean_ua_sheets() -> Callable[[bool], list[Any]] | None:
    """WeasyPrint's HTML stylesheet as `HTML._ua_stylesheets` gives it, but with its rules for a
    pseudo-element of every element narrowed to the elements that can have one here: `::marker` for
    `li` (the one element these documents display as a list item), and the footnote and note rules
    (calls and markers) left out: these documents have neither.

    WeasyPrint works out a style for each pseudo-element a rule matches, whether or not the element
    ever has it: six per element, the better part of the cascade's time in a table of three thousand
    cells (a tenth of a statistical annex's rendering). The PDF is the same, byte for byte. None when
    the print stylesheet itself asks for what is left out (`_FULL_UA`).

    Parsing it takes a twentieth of a second, which a build of one document would wait for if a
    renderer's start-up did it: a renderer makes it while no document is asking (`prepare_lean_sheet`),
    and a process rendering for itself once it has rendered its first; documents use it from then on."""
    from weasyprint import CSS, html
    from weasyprint.css.counters import CounterStyle

    if _FULL_UA.search(stylesheet_text("print")):
        return None
    text = html.UA.replace("\n::marker {", "\nli::marker {")
    text = re.sub(r"\n::(?:footnote|note)-[a-z]+ \{[^}]*\}", "", text)
    if "\nli::marker {" not in text or re.search(r"::(?:footnote|note)-", text):  # another WeasyPrint's sheet
        return None
    lean = CSS(string=text, counter_style=CounterStyle())  # its counter styles are the UA sheet's, known

    def sheets(forms: bool = False) -> list[Any]:
        return [lean, html.UA_FORM_STYLESHEET] if forms else [lean]

    return sheets


_lean_ready = False  # `_lean_ua_sheets` has been made in this process


def prepare_lean_sheet() -> None:
    """Make the lean user-agent sheet (`_lean_ua_sheets`) for this process's next documents."""
    global _lean_ready
    if not _lean_ready:
        _lean_ua_sheets()
        _lean_ready = True


@functools.cache
def _codepoint_arrays() -> None:
    """Install `_CodepointArrays` in WeasyPrint's PDF fonts module (once a process)."""
    import weasyprint.pdf.fonts

    weasyprint.pdf.fonts.ffi = _CodepointArrays(weasyprint.pdf.fonts.ffi)


@contextmanager
def _libraries_found_once() -> Iterator[None]:
    """Within, on Linux: `ctypes.util.find_library` asks ldconfig only, not gcc and ld after it.

    WeasyPrint tries each of its seven libraries under up to six names (those of Linux, macOS and
    Windows), and cffi asks `find_library` about each name that does not open as it is; for a name
    ldconfig does not know, Python then runs gcc and ld as well. That was some forty processes and a
    sixth of a second of a renderer's start, for answers nothing can use: `find_library` gives a
    library's name, not its path, and the loader finds a name only where ldconfig, `LD_LIBRARY_PATH` or
    the system's own folders have it, where WeasyPrint's last names (`libpango-1.0.so.0`) find it anyway."""
    import ctypes.util
    import sys

    ldconfig = getattr(ctypes.util, "_findSoname_ldconfig", None)  # the first of Linux's three searches
    if not sys.platform.startswith("linux") or ldconfig is None or "weasyprint" in sys.modules:
        yield
        return
    search = ctypes.util.find_library
    ctypes.util.find_library = ldconfig
    try:
        yield
    finally:
        ctypes.util.find_library = search


@contextmanager
def _process_temp() -> Iterator[None]:
    """Within: the process's own temporary folder, not the build's (see `_PROCESS_TEMP`)."""
    build = (tempfile.tempdir, os.environ.get("TMPDIR"))
    _set_temp(*_PROCESS_TEMP)
    try:
        yield
    finally:
        _set_temp(*build)


def _set_temp(tempdir: str | None, variable: str | None) -> None:
    tempfile.tempdir = tempdir
    if variable is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = variable


atexit.register(print_setup.cache_clear)


def write_pdf(html: str, *, attachments: Sequence[tuple[str, bytes, str]] = (), variant: str | None = "pdf/a-3a",
              tags: bool = True, stamp: datetime | None = None) -> Pdf:
    """Render HTML to PDF bytes: PDF/A-3a (archival, tagged) that also declares PDF/UA-1 (the tags,
    language, title and alternative texts it needs are in place), with the data files attached.

    `stamp` dates the attachments (default: the epoch), so that the same inputs give the same bytes.
    In a process that started a :class:`Renderer`, the renderer's process does the work.
    """
    if _renderer is not None and _renderer.serves(os.getpid()):
        return _renderer.write_pdf(html, tuple(attachments), variant, tags, stamp)
    pdf = _write_pdf(html, tuple(attachments), variant, tags, stamp)
    prepare_lean_sheet()
    return pdf


def _write_pdf(html: str, attachments: tuple[tuple[str, bytes, str], ...], variant: str | None, tags: bool,
               stamp: datetime | None) -> Pdf:
    from weasyprint import HTML, Attachment

    fonts, sheets = print_setup()
    # no base URL: every resource of the page is embedded (a data URI) or named by its full URL (the
    # fonts), and a link to another document stays relative to this one (`../annex/ses.en.pdf`)
    # rather than becoming the path of the templates on the machine that built it
    doc = HTML(string=html, url_fetcher=safe_fetcher())
    lean = _lean_ua_sheets() if _lean_ready else None
    if lean is not None and not _FULL_UA.search(html):
        doc._ua_stylesheets = lean  # type: ignore[method-assign]  # WeasyPrint asks the document for them
    when = stamp or datetime(1970, 1, 1, tzinfo=UTC)
    files = [Attachment(string=data, name=name, description=description, created=when, modified=when)
             for name, data, description in attachments]
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode()
    finishing = tags and variant == "pdf/a-3a"  # the XMP written by finish() declares PDF/A-3a and PDF/UA-1
    # a PDF that is finished gets its identifier there: given to WeasyPrint, pydyf would serialise and
    # compress every object a second time to hash them, a tenth of the PDF's time
    options = {"stylesheets": sheets, "attachments": files or None, "pdf_identifier": not finishing and identifier,
               "pdf_variant": variant, "pdf_tags": tags, "custom_metadata": True}
    document = doc.render(font_config=fonts, **options)
    data = document.write_pdf(**options)
    if finishing:
        from .pdfpost import finish

        data = finish(data, html, identifier)
    return Pdf(data, len(document.pages))


class Renderer:
    """Processes of their own, forked before the data libraries are imported, that import WeasyPrint
    and read the stylesheets and fonts while this process loads the data and builds the documents,
    then render the PDFs this process asks for (`write_pdf`) with the same code.

    One process starts up and then forks the others (`count` in all), so that they share its start-up
    and its memory. Each serves one pipe, one document at a time; threads of this process asking at
    once are served by different processes. If a renderer dies, the document asking it is rendered in
    this process. `cpu` adds up the processor time the renderers spent on this process's documents
    (`renderer_cpu` gives the calling thread's share).
    """

    def __init__(self, count: int = 1) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self.parent = os.getpid()
        self.cpu = 0.0
        pipes = [context.Pipe() for _ in range(max(1, count))]
        self._conns: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for ours, _ in pipes:
            self._conns.put(ours)
        self._all = [ours for ours, _ in pipes]
        self._process = context.Process(target=_serve_all, args=(pipes,), name="sesreport-renderer", daemon=True)
        self._process.start()
        for _, theirs in pipes:
            theirs.close()

    def serves(self, pid: int) -> bool:
        return pid == self.parent and self._process.is_alive()

    def write_pdf(self, *request: Any) -> Pdf:
        conn = self._conns.get()  # a renderer no other thread is waiting for
        try:
            conn.send(request)
            ok, value, cpu = conn.recv()
        except (EOFError, OSError):  # that renderer died: render here
            with _here:
                return _write_pdf(*request)
        finally:
            self._conns.put(conn)
        self.cpu += cpu
        _thread.cpu = getattr(_thread, "cpu", 0.0) + cpu
        if not ok:
            raise value
        return value

    def close(self) -> None:
        for conn in self._all:
            conn.close()  # a renderer ends when it reads the end of its pipe
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


_here = threading.Lock()  # rendering in this process instead of a dead renderer: one thread at a time
_thread = threading.local()  # per thread of the build: the processor time its renderers spent


#: a page with what every document has (headings, text in each weight, a table, a chart's text), rendered
#: once as a renderer starts: the first document it renders then costs no more than the next
_WARM_UP = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Warm-up</title></head><body>'
            '<h1>Warm-up</h1><h2>Figures</h2><p>Text, <strong>bold</strong>, <em>italic</em>, '
            '<a href="#t">a link</a>.</p><table id="t"><caption>Table</caption><thead><tr><th scope="col">Year</th>'
            '</tr></thead><tbody><tr><td>2024</td></tr></tbody></table><figure><figcaption>Chart</figcaption>'
            '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Chart" width="40mm" height="10mm">'
            '<path d="M 0 8 L 30 2" stroke="#0072b2" fill="none"/><text x="2" y="9" style="font-size: 6.5px; '
            "font-family: 'Source Sans Pro'; font-weight: 600\">12.5</text></svg></figure></body></html>")


def _serve_all(pipes: list[tuple[Any, Any]]) -> None:
    """The first renderer: start up, fork the others (one per further pipe), serve the first pipe,
    and once every pipe has ended remove WeasyPrint's font folder, which all of them used."""
    for ours, _ in pipes:
        ours.close()  # the build's ends, copied by the fork: a pipe ends when the build closes its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the build, which then closes the pipes
    die_with_parent()  # a killed build takes its renderers with it, whatever they are rendering
    twins = []
    try:
        with loading():
            print_setup()
            _write_pdf(_WARM_UP, (), "pdf/a-3a", True, None)
        collect_less()  # the twins forked below inherit it
        for _, theirs in pipes[1:]:
            pid = os.fork()
            if pid == 0:  # a twin: it serves its pipe and ends without running any clean-up
                die_with_parent()
                for _, other in pipes:
                    if other is not theirs and not other.closed:
                        other.close()
                try:
                    _serve(theirs)
                finally:
                    os._exit(0)
            twins.append(pid)
            theirs.close()
        _serve(pipes[0][1])
    finally:  # the process ends without running `atexit`: the font configuration's folder is removed here
        for pid in twins:
            os.waitpid(pid, 0)
        print_setup.cache_clear()
        gc.collect()


def _serve(conn: Any) -> None:
    owed = 0.0  # the processor time collecting the last document's garbage took, counted to the next
    while True:
        try:
            if not _lean_ready and not conn.poll():  # nothing asked yet: the lean stylesheet meanwhile
                prepare_lean_sheet()
            request = conn.recv()
        except (EOFError, OSError):
            return
        cpu = time.process_time()
        try:
            reply: tuple[bool, Any] = (True, _write_pdf(*request))
        except Exception as exc:  # noqa: BLE001 - handed back to the build, which reports the document failed
            reply = (False, exc if _picklable(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))
        conn.send((*reply, time.process_time() - cpu + owed))
        # the document's garbage, once its PDF is on its way: a renderer collects less often than
        # Python would (`collect_less`), and would otherwise carry the layouts of ten documents;
        # and the lean stylesheet, if the first document came before it was made
        collecting = time.process_time()
        gc.collect()
        prepare_lean_sheet()
        owed = time.process_time() - collecting


def _picklable(exc: Exception) -> bool:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - whatever pickling raises, the message goes back as text
        return False
    return True


_renderer: Renderer | None = None


def start_renderer(count: int = 1) -> Renderer | None:
    """Start `count` :class:`Renderer` processes for this process, if nothing heavy is imported here
    yet: neither WeasyPrint (a process that builds again has paid for its start-up) nor the data
    libraries (their threads would not be forked with them), and no other thread runs (one could hold
    a lock the renderer would need, the import lock of a preview server's request, say)."""
    global _renderer
    import sys

    heavy = any(name in sys.modules for name in ("weasyprint", "pandas", "pyarrow"))
    if _renderer is None and not heavy and threading.active_count() == 1:
        _renderer = Renderer(count)
    return _renderer


def write_pdfs(requests: Sequence[tuple[str, dict[str, Any]]]) -> list[Pdf]:
    """The PDFs of several `(html, options)` requests for `write_pdf` (a document and its slides): side
    by side when more than one renderer serves this process, else one after the other. The renderers'
    processor time is counted to the calling thread, as for `write_pdf`."""
    if len(requests) < 2 or renderers() < 2:
        return [write_pdf(html, **options) for html, options in requests]
    from concurrent.futures import ThreadPoolExecutor

    def elsewhere(html: str, options: dict[str, Any]) -> tuple[Pdf, float]:
        before = renderer_cpu()  # of this helper thread, which may have served another request
        return write_pdf(html, **options), renderer_cpu() - before

    with ThreadPoolExecutor(max_workers=len(requests) - 1, thread_name_prefix="sesreport-pdf-extra") as pool:
        later = [pool.submit(elsewhere, html, options) for html, options in requests[1:]]
        first = write_pdf(requests[0][0], **requests[0][1])
        done = [future.result() for future in later]
    _thread.cpu = renderer_cpu() + sum(cpu for _, cpu in done)
    return [first, *(pdf for pdf, _ in done)]


def renderers() -> int:
    """How many renderer processes serve this process (0: it renders for itself)."""
    return len(_renderer._all) if _renderer is not None and _renderer.serves(os.getpid()) else 0


def renderer_cpu() -> float:
    """The processor time the renderers have spent on the calling thread's documents so far."""
    return getattr(_thread, "cpu", 0.0)


def stop_renderer() -> None:
    global _renderer
    if _renderer is not None:
        _renderer.close()
        _renderer = None


@dataclass(frozen=True)
class Pdf:
    data: bytes
    pages: int

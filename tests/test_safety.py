"""Hostile narratives and documents: nothing reads files, imports modules, reaches the network or
injects markup. Each attempt is refused or neutralised; nothing of the file and no request shows
up in the output or on the wire."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading

import pytest

from sesreport.catalog import load_catalog
from sesreport.cli import main
from sesreport.errors import UserError
from sesreport.narrative import Where, check_block, condition_holds, render_block
from tests.conftest import CONFIG, REPO

DEMO = REPO / "demo" / "data"
WHERE = Where("config/countries/UKR.yaml", 12)
PASSWD_MARK = "root:x:0:0"


class Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        Recorder.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(b"\x89PNG\r\n\x1a\n")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Recorder.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def context():
    from sesreport.compute import Stat
    from sesreport.i18n import Lang
    from sesreport.narrative import Indicators, IndicatorView

    catalog = load_catalog(CONFIG / "indicators.yaml")
    stat = Stat("unemployment", None)
    views = {"unemployment": IndicatorView("unemployment", stat, catalog, Lang("en"))}
    return {"ind": Indicators(views, catalog), "country": "Ukraine"}


@pytest.mark.parametrize("text", [
    "{{ ind.__class__ }}",
    "{{ ind.unemployment.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ country.__class__.__init__.__globals__ }}",
    "{{ ind._views }}",
    "{{ ind.unemployment.__dict__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
])
def test_attribute_escapes_are_refused(text, context):
    with pytest.raises(UserError) as err:
        render_block(text, context, WHERE)
    [problem] = err.value.problems
    assert (problem.file, problem.line) == (WHERE.file, WHERE.line)
    assert "narrative" in problem.message or "not allowed" in problem.message


@pytest.mark.parametrize("text", [
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}{{ os }}",
    "{% extends '/etc/passwd' %}",
    "{% from '/etc/passwd' import x %}",
])
def test_includes_and_imports_are_refused(text, context):
    with pytest.raises(UserError) as err:
        render_block(text, context, WHERE)
    assert PASSWD_MARK not in str(err.value)


def test_static_check_catches_escapes_before_building():
    catalog = load_catalog(CONFIG / "indicators.yaml")
    problems = check_block("{{ ind.__class__.__mro__ }} {{ ind.gini.__dict__ }} {{ config }}", WHERE, {"gini"},
                           catalog)
    messages = [p.message for p in problems]
    assert "in a narrative: unknown indicator '__class__'" in messages
    assert "in a narrative: unknown field '__dict__'" in messages
    assert "in a narrative: unknown name 'config'" in messages


def test_conditions_are_sandboxed_too(context):
    with pytest.raises(UserError):
        condition_holds("''.__class__.__mro__", context, WHERE)
    assert condition_holds('ind.unemployment.trend == "unknown"', context, WHERE)


def test_a_block_and_a_condition_are_compiled_once_and_refused_every_time(context):
    """A batch renders each configured block and tests each condition once a document: compiled once,
    each document gets its own values, and a block refused once is refused again."""
    from sesreport import narrative

    block, condition = "In {{ country }}: {{ ind.unemployment.latest }} (once)", 'country == "Ukraine" or False'
    blocks, conditions = narrative._compiled_block.cache_info(), narrative._compiled_condition.cache_info()
    for country in ("Ukraine", "Moldova", "Ukraine"):
        html = str(render_block(block, {**context, "country": country}, WHERE))
        assert html == f"<p>In {country}: no data (once)</p>\n"
        assert condition_holds(condition, {**context, "country": country}, WHERE) == (country == "Ukraine")
    assert narrative._compiled_block.cache_info().misses == blocks.misses + 1
    assert narrative._compiled_condition.cache_info().misses == conditions.misses + 1
    for _ in range(2):
        with pytest.raises(UserError, match="not allowed in a narrative: for"):
            render_block("{% for x in ind %}{{ x }}{% endfor %} (once)", context, WHERE)


@pytest.mark.parametrize("text, must_not", [
    ('<img src="file:///etc/passwd">', "<img"),
    ('<link rel="stylesheet" href="http://127.0.0.1:9/x.css">', "<link"),
    ("<style>body { background: url(http://127.0.0.1:9/bg.png) }</style>", "<style"),
    ('<script>alert(1)</script>', "<script"),
    ("[report](file:///etc/passwd)", "href"),
    ("![chart](http://127.0.0.1:9/c.png)", "<img"),
    ("<https://example.org>", "href"),
])
def test_markup_is_neutralised(text, must_not, context):
    html = str(render_block(text, context, WHERE))
    assert must_not not in html
    assert html.startswith("<p>")


def test_hostile_narrative_builds_with_nothing_fetched(tmp_path, server):
    """A full build with every markup attack in a narrative: the PDF and HTML hold the attack as
    harmless text, the PDF renderer asks the local server for nothing, and /etc/passwd stays unread."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    hostile = (f'Look: <img src="file:///etc/passwd"> <img src="{server}/pixel.png"> '
               f'<link rel="stylesheet" href="{server}/evil.css"> '
               f'<span style="background: url({server}/bg.png)">x</span> '
               f"<style>@import url({server}/import.css);</style> ![i]({server}/md.png)")
    text = hostile.replace("'", "''")
    path = config / "countries" / "IDN.yaml"
    path.write_text(path.read_text() + f"sections:\n  health:\n    narrative:\n      - text: '{text}'\n")
    out = tmp_path / "out"  # the long form, which prints every narrative block
    assert main(["build", "IDN", "--data", str(DEMO), "--config", str(config), "--out", str(out), "-j", "1",
                 "--format", "full"]) == 0
    html = (out / "brief" / "IDN.en.html").read_text()
    assert ("&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
            or "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in html)
    assert f'src="{server}' not in html and f'href="{server}' not in html
    pdf_text = subprocess.run(["pdftotext", str(out / "brief" / "IDN.en.pdf"), "-"], capture_output=True,
                              text=True, check=True).stdout
    assert '<img src="file:///etc/passwd">' in " ".join(pdf_text.split())
    assert PASSWD_MARK not in pdf_text and PASSWD_MARK not in html
    assert Recorder.requests == []


def test_pdf_renderer_fetches_only_its_own_files(server, tmp_path):
    """Even markup that reaches the renderer directly cannot read files or reach the network."""
    from sesreport.render import safe_fetcher, write_pdf

    fetcher = safe_fetcher()
    fetcher.blocked.clear()
    html = (f'<html lang="en"><head><title>t</title><link rel="stylesheet" href="{server}/a.css">'
            f'<style>@import url("{server}/b.css"); body {{ background: url("{server}/c.png") }}</style></head>'
            f'<body><p>safe</p><img src="{server}/d.png" alt="d"><img src="file:///etc/passwd" alt="p">'
            f'<img src="file://{REPO}/README.md" alt="r"></body></html>')
    pdf = write_pdf(html, variant=None, tags=False)
    (tmp_path / "x.pdf").write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(tmp_path / "x.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "safe" in text and PASSWD_MARK not in text
    assert Recorder.requests == []
    blocked = " ".join(fetcher.blocked)
    for needle in ("/a.css", "/b.css", "/c.png", "/d.png", "/etc/passwd", "README.md"):
        assert needle in blocked, needle


def test_config_text_is_escaped(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    path = config / "countries" / "IDN.yaml"
    path.write_text(path.read_text() + "title: {en: '<script>alert(1)</script> brief'}\n")
    out = tmp_path / "out"
    assert main(["build", "IDN", "--data", str(DEMO), "--config", str(config), "--out", str(out), "-j", "1"]) == 0
    html = (out / "brief" / "IDN.en.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; brief" in html


def test_formatting_filters_follow_the_language():
    from sesreport.narrative import environment

    assert environment("ru").from_string("{{ 47362.25 | number(1) }}").render() == "47\u00a0362,3"
    assert environment("fr").from_string("{{ 5.06 | percent(1) }}").render() == "5,1\u00a0%"
    assert environment("en").from_string("{{ 1.25 | signed(1) }}").render() == "+1.3"
    catalog = load_catalog(CONFIG / "indicators.yaml")
    [problem] = check_block("{{ ind.gini.value | numbr(1) }}", WHERE, {"gini"}, catalog)
    assert problem.message == "in a narrative: unknown filter 'numbr'" and "did you mean 'number'?" in problem.hint

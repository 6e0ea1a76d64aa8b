"""Watch mode and the preview server, for authors: the server answers with the documents the build
recorded and nothing else, to nobody but a loopback Host."""

from __future__ import annotations

import http.client
import shutil
import socket
import threading
import time
import urllib.request
from argparse import Namespace
from collections.abc import Iterator
from pathlib import Path

import pytest

from sesreport.cli import cmd_watch, main
from sesreport.preview import serve
from tests.conftest import CONFIG, REPO

DEMO = REPO / "demo" / "data"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The demo brief of Indonesia in English, built once for the module."""
    out = tmp_path_factory.mktemp("built") / "out"
    assert main(["build", "IDN", "--lang", "en", "--data", str(DEMO), "--out", str(out), "-j", "1",
                 "--as-of", "2026-11-27"]) == 0
    return out


@pytest.fixture
def out(built, tmp_path) -> Path:
    """A copy of the built folder that a test may tamper with."""
    copy = tmp_path / "out"
    shutil.copytree(built, copy, symlinks=True)
    return copy


@pytest.fixture
def port(out) -> Iterator[int]:
    server = serve(out, port=0)
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def get(port: int, path: str, host: str | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """A raw request: the path exactly as given, the Host header as given (default 127.0.0.1:PORT)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host if host is not None else f"127.0.0.1:{port}")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_index_page_and_preview_server(built, out, port):
    index = (built / "index.html").read_text()
    assert 'href="brief/IDN.en.pdf"' in index and 'href="brief/IDN.en.html"' in index
    base = f"http://127.0.0.1:{port}"
    assert b"brief/IDN.en.html" in urllib.request.urlopen(f"{base}/", timeout=5).read()
    page = urllib.request.urlopen(f"{base}/brief/IDN.en.html", timeout=5).read().decode()
    assert "<title>Indonesia" in page
    assert page.encode() == (built / "brief" / "IDN.en.html").read_bytes()


def test_documents_come_with_their_type_and_security_headers(out, port):
    status, headers, body = get(port, "/brief/IDN.en.pdf")
    assert status == 200 and body == (out / "brief" / "IDN.en.pdf").read_bytes() and body.startswith(b"%PDF-")
    assert headers["Content-Type"] == "application/pdf"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    status, headers, body = get(port, "/brief/IDN.en.html", host="localhost")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'unsafe-inline'; "
                                                         "img-src data:")
    assert "script-src" not in headers["Content-Security-Policy"]
    status, headers, body = get(port, "/brief/IDN.en.figures.json", method="HEAD")
    assert status == 200 and body == b"" and headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", [
    "/.sesreport-manifest.json", "/.sesreport.lock", "/.sesreport-generation", "/brief/", "/brief",
    "/brief/.IDN.en.html.4242.tmp", "/brief/XYZ.en.FAILED.txt", "/brief/notes.txt",
    "/brief/..%2f.sesreport-manifest.json", "/%2e%2e/%2e%2e/etc/passwd", "/brief/%2e%2e/index.html",
    "//etc/passwd", "/brief//IDN.en.html", "/brief\\IDN.en.html", "/brief/IDN.en.html%00.txt",
    "/%252e%252e/etc/passwd", "/brief/IDN.en.pdf/", "http://127.0.0.1/brief/IDN.en.html", "/brief/%ff.html",
])
def test_anything_but_a_recorded_document_is_404_with_no_content(out, port, path):
    (out / "brief" / ".IDN.en.html.4242.tmp").write_text("half-written")
    (out / "brief" / "XYZ.en.FAILED.txt").write_text("XYZ failed: secret detail")
    (out / "brief" / "notes.txt").write_text("dropped here by a user")
    status, headers, body = get(port, path)
    assert (status, body) == (404, b"")
    assert headers["Content-Length"] == "0" and headers["X-Content-Type-Options"] == "nosniff"


def test_a_symlink_is_never_followed_even_when_the_manifest_lists_it(out, port):
    figures = out / "brief" / "IDN.en.figures.json"
    figures.unlink()
    figures.symlink_to("/etc/passwd")
    assert get(port, "/brief/IDN.en.figures.json")[::2] == (404, b"")
    (out / "brief").rename(out / "real-brief")
    (out / "brief").symlink_to(out / "real-brief")  # a linked folder: the documents behind it are not served
    assert get(port, "/brief/IDN.en.html")[::2] == (404, b"")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example", "",
                                  "localhost:1", "0.0.0.0:{port}", "[::1]:{port}"])
def test_a_foreign_host_header_is_403_with_no_content(port, host):
    status, headers, body = get(port, "/brief/IDN.en.html", host=host.format(port=port))
    assert (status, body) == (403, b"")


def test_serve_bad_folder_and_ports_are_messages_not_tracebacks(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    assert main(["serve", "--out", str(afile)]) == 2
    err = capsys.readouterr().err
    assert f"error: {afile}: is a file, not an output folder" in err and "Traceback" not in err
    assert main(["serve", "--out", str(tmp_path / "missing")]) == 2
    assert "no such folder: nothing has been built there" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()
    assert main(["serve", "--out", str(tmp_path), "--port", "99999"]) == 2
    assert "error: port 99999 is not a port number (use one from 1024 to 65535" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert main(["serve", "--out", str(tmp_path), "--port", str(taken)]) == 2
    err = capsys.readouterr().err
    assert f"error: port {taken} is already in use" in err and "Traceback" not in err


def test_watch_rebuilds_after_a_save(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    out = tmp_path / "out"
    args = Namespace(countries=["IDN"], data=DEMO, config=config, out=out, as_of="2026-11-27", lang=["en"],
                     document=None, jobs=1, serve=False, port=0)
    stop = threading.Event()
    thread = threading.Thread(target=cmd_watch, args=(args, stop), daemon=True)
    thread.start()
    pdf = out / "brief" / "IDN.en.pdf"
    deadline = time.time() + 60
    while not pdf.exists() and time.time() < deadline:
        time.sleep(0.2)
    assert pdf.exists()
    first = pdf.stat().st_mtime_ns
    time.sleep(0.5)
    narrative = config / "narratives" / "IDN.en.md"  # a narrative file named by the config
    narrative.write_text(narrative.read_text().replace("comprehensive social", "comprehensive national social"))
    while pdf.stat().st_mtime_ns == first and time.time() < deadline:
        time.sleep(0.2)
    stop.set()
    thread.join(timeout=10)
    assert pdf.stat().st_mtime_ns != first
    assert "comprehensive national social" in (out / "brief" / "IDN.en.html").read_text()

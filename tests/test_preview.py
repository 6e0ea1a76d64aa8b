"""Watch mode and the preview server, for authors."""

from __future__ import annotations

import shutil
import threading
import time
import urllib.request
from argparse import Namespace

from sesreport.cli import cmd_watch, main
from sesreport.preview import serve
from tests.conftest import CONFIG, REPO

DEMO = REPO / "demo" / "data"


def test_index_page_and_preview_server(tmp_path):
    out = tmp_path / "out"
    assert main(["build", "IDN", "--lang", "en", "--data", str(DEMO), "--out", str(out), "-j", "1"]) == 0
    index = (out / "index.html").read_text()
    assert 'href="brief/IDN.en.pdf"' in index and 'href="brief/IDN.en.html"' in index
    server = serve(out, port=0)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert b"brief/IDN.en.html" in urllib.request.urlopen(f"{base}/index.html", timeout=5).read()
        page = urllib.request.urlopen(f"{base}/brief/IDN.en.html", timeout=5).read().decode()
        assert "<title>Indonesia" in page
    finally:
        server.shutdown()


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

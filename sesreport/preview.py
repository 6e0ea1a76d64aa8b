"""For authors: an index page of the built documents, a local preview server, and a watch mode that
rebuilds what changed whenever a config, template or data file is saved."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from html import escape
from pathlib import Path

from .manifest import atomic_write, load_manifest


def write_index(out: Path) -> None:
    """`OUT/index.html`: every document built, with its language and formats."""
    manifest = load_manifest(out)
    rows = []
    for key, entry in sorted(manifest.items()):
        if key.startswith("_"):
            continue
        outputs = sorted(entry.get("outputs", {}))
        links = " · ".join(f'<a href="{escape(rel)}">{escape(Path(rel).suffix[1:] or rel)}</a>' for rel in outputs)
        kind, _, name = key.partition("/")
        rows.append(f"<tr><td>{escape(kind)}</td><td>{escape(name)}</td><td>{links}</td></tr>")
    failed = sorted(p.relative_to(out).as_posix() for p in out.glob("*/*.FAILED.txt"))
    notes = "".join(f'<li><a href="{escape(f)}">{escape(f)}</a></li>' for f in failed)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sesreport documents</title>
<style>body{{font-family:"Source Sans Pro",Arial,sans-serif;max-width:60em;margin:2em auto;color:#1f2933}}
table{{border-collapse:collapse;width:100%}}td,th{{text-align:left;padding:.3em .6em;border-bottom:1px solid #d5dae0}}
a{{color:#0072b2}}</style></head>
<body><h1>Documents</h1>
<table><thead><tr><th>kind</th><th>document</th><th>files</th></tr></thead><tbody>
{"".join(rows)}
</tbody></table>
{f"<h2>Failed</h2><ul>{notes}</ul>" if notes else ""}
</body></html>
"""
    atomic_write(out / "index.html", page.encode("utf-8"))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(out: Path, port: int = 8000, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    """Serve the output folder on loopback (in a background thread); returns the server."""
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "index.html").exists():
        write_index(out)
    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def watch(build, paths: list[Path], stop_event: threading.Event | None = None, debounce_ms: int = 400,
          on_change=None) -> None:
    """Call `build()` now and again after every batch of saved changes under `paths`."""
    from watchfiles import watch as watch_files

    build()
    existing = [str(p) for p in paths if p.exists()]
    for changes in watch_files(*existing, stop_event=stop_event, debounce=debounce_ms, raise_interrupt=False,
                               watch_filter=lambda change, path: not Path(path).name.startswith((".", "~"))):
        if on_change is not None:
            on_change(changes)
        started = time.perf_counter()
        build()
        if on_change is not None:
            on_change(time.perf_counter() - started)

"""For authors: an index page of the built documents, a local preview server, and a watch mode that
rebuilds what changed whenever a config, template or data file is saved.

The preview server takes an output folder and answers HTTP requests on loopback with the documents
the build recorded in its manifest, and the index page; nothing else. It is written for a browser
on the same machine that may also have a hostile page open:

- the manifest is the allow-list: dotfiles, temporary files, FAILED notes, the lock, anything a
  user dropped into the folder, and directories (no listings) are all "404 Not Found";
- a file is opened component by component with `O_NOFOLLOW`, so a symlink anywhere on the way is
  never followed, whatever the manifest says;
- only `Host: 127.0.0.1` and `Host: localhost` are answered (a page on another site that rebinds its
  name to 127.0.0.1 gets "403 Forbidden"), and an error is a status with no content;
- every answer carries `X-Content-Type-Options: nosniff`, a restrictive `Content-Security-Policy`
  and `Cache-Control: no-store`.
"""

from __future__ import annotations

import errno
import functools
import http.server
import os
import stat
import threading
import time
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

from .errors import Problem, UserError, display_path
from .manifest import MANIFEST, atomic_write, load_manifest, manifest_lock

INDEX = "index.html"
HOSTS = ("127.0.0.1", "localhost")
# HTML documents: their own inline styles and data: images (the charts), nothing else, no scripts.
CSP_HTML = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")
# PDFs: browsers show them in a built-in viewer that must be allowed to embed the document itself.
CSP_PDF = "default-src 'none'; object-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def write_index(out: Path) -> None:
    """`OUT/index.html`: every document built, with its language and formats; failed ones by name.

    Read from the manifest and written under its lock, so that of two builds finishing at once the
    last index written lists what both recorded."""
    with manifest_lock(out):
        atomic_write(out / INDEX, _index_page(out).encode("utf-8"))


def _index_page(out: Path) -> str:
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
    notes = "".join(f"<li>{escape(f)}</li>" for f in failed)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sesreport documents</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:"Source Sans Pro",Arial,sans-serif;max-width:60em;margin:2em auto;color:#1f2933}}
table{{border-collapse:collapse;width:100%}}td,th{{text-align:left;padding:.3em .6em;border-bottom:1px solid #d5dae0}}
a{{color:#0072b2}}</style></head>
<body><main><h1>Documents</h1>
<table><thead><tr><th>kind</th><th>document</th><th>files</th></tr></thead><tbody>
{"".join(rows)}
</tbody></table>
{f"<h2>Failed</h2><p>The reasons are in these notes, in the output folder:</p><ul>{notes}</ul>" if notes else ""}
</main></body></html>
"""
    from .webfonts import finish_html  # the pinned fonts, embedded like the documents'

    return finish_html(page)


# ------------------------------------------------------------------------------------------------
# The preview server


def serve(out: Path, port: int = 8000, *, create: bool = True) -> http.server.ThreadingHTTPServer:
    """Serve the output folder on 127.0.0.1 (in a background thread); returns the server.

    `create` makes a missing folder (watch mode serves before its first build); without it a missing
    folder is a UserError, as are a file, an unreadable folder, an invalid or busy port.
    """
    out = Path(out)
    _check_folder(out, create)
    if not 0 <= port <= 65535:
        raise UserError(Problem(None, None, f"port {port} is not a port number",
                                "use one from 1024 to 65535, e.g. --port 8000 (or --port 0 for any free one)"))
    if not (out / INDEX).is_file():
        write_index(out)  # a UserError naming the file when the folder is read-only
    allowed = _AllowList(out)
    handler = functools.partial(_Handler, out=out.resolve(), allowed=allowed)
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise _cannot_listen(port, exc) from None
    threading.Thread(target=server.serve_forever, daemon=True, name="preview-server").start()
    return server


def _check_folder(out: Path, create: bool) -> None:
    shown = display_path(out)
    if out.exists() and not out.is_dir():
        raise UserError(Problem(shown, None, "is a file, not an output folder", "pass --out with the folder a build "
                                                                                "wrote, e.g. --out output"))
    if not out.exists():
        if not create:
            raise UserError(Problem(shown, None, "no such folder: nothing has been built there",
                                    f"build first (generate.py build --out {shown}), or pass --out with the output "
                                    f"folder"))
        try:
            out.mkdir(parents=True)
        except OSError as exc:
            raise UserError(Problem(shown, None, f"cannot create the output folder ({exc.strerror or exc})",
                                    "pass --out with a folder you can write to")) from None
    if not os.access(out, os.R_OK | os.X_OK):
        raise UserError(Problem(shown, None, "the output folder cannot be read", "check its permissions"))


def _cannot_listen(port: int, exc: OSError) -> UserError:
    if exc.errno == errno.EADDRINUSE:
        return UserError(Problem(None, None, f"port {port} is already in use (another preview server?)",
                                 "stop the other server, or pass --port with another number (--port 0 picks a free "
                                 "one)"))
    if exc.errno == errno.EACCES:
        return UserError(Problem(None, None, f"port {port} may only be used by the system administrator",
                                 "pass --port with a number from 1024 to 65535, e.g. --port 8000"))
    return UserError(Problem(None, None, f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc})",
                             "pass --port with another number"))


class _AllowList:
    """The files the server may answer with: the index and every output the manifest records.
    Read again whenever the manifest changes (watch mode rebuilds while serving)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._stamp: tuple[int, int] | None = None
        self._names: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def __contains__(self, rel: str) -> bool:
        return rel == INDEX or rel in self.names()

    def names(self) -> frozenset[str]:
        try:
            info = (self.out / MANIFEST).stat()
            stamp = (info.st_mtime_ns, info.st_size)
        except OSError:
            return frozenset()
        with self._lock:
            if stamp != self._stamp:
                manifest = load_manifest(self.out)
                self._names = frozenset(rel for key, entry in manifest.items()
                                        if not key.startswith("_") and isinstance(entry, dict)
                                        for rel in entry.get("outputs", {}) if isinstance(rel, str))
                self._stamp = stamp
            return self._names


def request_path(raw: str) -> str | None:
    """The file a request path names, relative to the output folder; None for anything that is not a
    plain path of plain names (no dot-names, empty, `.` or `..` segments, backslashes, control characters)."""
    if not raw.startswith("/"):
        return None
    path = raw.split("?", 1)[0].split("#", 1)[0]
    try:
        path = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return None
    if path == "/":
        return INDEX
    if "\\" in path or any(ord(c) < 32 or ord(c) == 127 for c in path):
        return None
    parts = path[1:].split("/")
    if any(not part or part.startswith(".") for part in parts):
        return None
    return "/".join(parts)


def host_allowed(header: str | None, port: int) -> bool:
    """`Host: 127.0.0.1[:PORT]` or `Host: localhost[:PORT]`, nothing else (DNS rebinding)."""
    if not header:
        return False
    name, colon, given = header.strip().lower().rpartition(":")
    if not colon or not given.isdigit():
        name, given = header.strip().lower(), ""
    return name in HOSTS and (not given or int(given) == port)


def open_plain(root: Path, rel: str) -> int | None:
    """A descriptor of the regular file `root/rel`, opened without following any symlink on the way."""
    parts = rel.split("/")
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            inner = os.open(part, flags | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        found = os.open(parts[-1], flags | os.O_NONBLOCK, dir_fd=fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(found).st_mode):
        os.close(found)
        return None
    return found


class _Handler(http.server.BaseHTTPRequestHandler):
    """GET and HEAD for the allowed files; every refusal a bare status."""

    server_version = "sesreport-preview"
    sys_version = ""

    def __init__(self, *args: Any, out: Path, allowed: _AllowList, **kwargs: Any) -> None:
        self.out = out
        self.allowed = allowed
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        if not host_allowed(self.headers.get("Host"), cast(http.server.HTTPServer, self.server).server_port):
            self.send_error(403)
            return
        rel = request_path(self.path)
        fd = open_plain(self.out, rel) if rel is not None and rel in self.allowed else None
        if fd is None:
            self.send_error(404)
            return
        with os.fdopen(fd, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            suffix = Path(rel or "").suffix
            self.send_response(200)
            self._security_headers(CSP_PDF if suffix == ".pdf" else CSP_HTML)
            self.send_header("Content-Type", TYPES.get(suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if send_body:
                _copy(fh.read, self.wfile.write)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A status and nothing else: no page that echoes the request, no hint of what exists."""
        self.close_connection = True
        self.send_response(code)
        self._security_headers(CSP_HTML)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    def _security_headers(self, csp: str) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", csp)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _copy(read: Callable[[int], bytes], write: Callable[[bytes], Any]) -> None:
    try:
        while chunk := read(1 << 16):
            write(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the browser went away


# ------------------------------------------------------------------------------------------------
# Watch mode


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

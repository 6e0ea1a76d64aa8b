"""A real HTTP server on loopback for tests: canned replies by path, every request recorded.

Tests that download must never touch the internet; this stands in for the publishers' servers
with `http.server` in a thread, on 127.0.0.1 and a free port chosen by the system.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """What the server answers for one path (with its query string)."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # when set, a matching If-None-Match gets "304 Not Modified"
    delay: float = 0.0  # seconds to wait before answering, to provoke client timeouts
    trickle: float = 0.0  # when set, the body goes one byte at a time, this many seconds apart
    length: int | None = None  # the Content-Length announced, when it is to differ from the body's


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class LocalServer:
    """`with LocalServer() as server:` then set `server.routes[path] = Reply(...)` and use `server.url`."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.requests: list[Seen] = []
        self.stopping = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                owner.requests.append(Seen(self.path, dict(self.headers.items())))
                reply = owner.routes.get(self.path) or Reply(
                    b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>Not found</body></html>",
                    404, {"Content-Type": "text/html"})
                if reply.delay:
                    time.sleep(reply.delay)
                status, body = reply.status, reply.body
                if reply.etag and self.headers.get("If-None-Match") == reply.etag:
                    status, body = 304, b""
                try:
                    self.send_response(status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.etag:
                        self.send_header("ETag", reply.etag)
                    self.send_header("Content-Length", str(len(body) if reply.length is None else reply.length))
                    self.end_headers()
                    if status != 304:
                        self._body(body, reply.trickle)
                    if reply.length is not None:
                        self.close_connection = True  # a body cut short: the connection ends with it
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to report

            def _body(self, body: bytes, trickle: float) -> None:
                if not trickle:
                    self.wfile.write(body)
                    return
                for i in range(len(body)):
                    if owner.stopping.is_set():
                        return
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(trickle)

            def log_message(self, format: str, *args) -> None:  # keep test output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def closed_port_url() -> str:
    """An address on loopback where nothing listens: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"

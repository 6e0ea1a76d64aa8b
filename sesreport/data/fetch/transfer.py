"""One HTTP download that a hostile or broken server cannot stretch, inflate, divert or cut short unseen.

In: a URL, the limits (`Limits`) and conditional headers. Out: the body in a staged `.part` file
(`store.Download`), None for "304 Not Modified", or a `store.Failed` that says what happened:

- `timeout` bounds each network read; `deadline` bounds the whole download, headers included. A
  watchdog shuts the connection's socket down when the deadline passes, wherever the transfer is
  blocked, so a server that trickles one byte every few seconds ends at the deadline;
- `max_size` bounds the bytes received (an announced Content-Length above it is refused at once);
- redirects are followed only to the base URL's host and the hosts `sources.yaml` allows;
- a body shorter than its Content-Length is a download cut off, not a damaged file.
"""

from __future__ import annotations

import functools
import http.client
import math
import socket
import ssl
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ... import __version__
from ...errors import Problem, UserError
from .store import Download, Failed, Staging

CHUNK = 1 << 16
MB = 1_000_000
DEFAULT_MAX_SIZE = 500 * MB  # a WDI archive is a few MB, the largest ILOSTAT bulk files a few hundred
DEFAULT_DEADLINE = 900.0

# Names the tool; the "Mozilla/5.0 (compatible; …)" prefix because ILOSTAT's pages have been seen to
# come back empty for clients without a browser-like agent.
USER_AGENT = (f"Mozilla/5.0 (compatible; sesreport/{__version__}; "
              f"Python-urllib/{sys.version_info.major}.{sys.version_info.minor})")


@dataclass(frozen=True)
class Limits:
    """How long, how large and where a download may go."""

    timeout: float
    """seconds to wait for each network read"""
    deadline: float
    """seconds for a whole download, headers to last byte"""
    max_size: int
    """bytes a download, and each file unpacked from it, may have"""
    hosts: frozenset[str]
    """host names a redirect may lead to"""

    @classmethod
    def checked(cls, timeout: float, deadline: float, max_size: float, hosts: tuple[str, ...]) -> Limits:
        problems = [Problem(None, None, f"{option} must be a positive finite number, not {value:g}", hint)
                    for option, value, hint in (("--timeout", timeout, "for example --timeout 60"),
                                                ("--deadline", deadline, "for example --deadline 900"),
                                                ("--max-size", max_size / MB, "for example --max-size 500"))
                    if not 0 < value < math.inf]
        if problems:
            raise UserError(problems)
        return cls(timeout, deadline, int(max_size), frozenset(h.lower() for h in hosts if h))


def size_text(size: int) -> str:
    return f"{size / MB:,g} MB"


def too_large(what: str, limit: int) -> Failed:
    return Failed(f"{what} is larger than the {size_text(limit)} limit; refused, nothing was written",
                  f"if the file really is that large, raise the limit with --max-size MB "
                  f"(e.g. --max-size {2 * limit // MB})")


class Failures(Protocol):
    """How the publisher puts an HTTP error status and a network failure into words."""

    def http(self, url: str, status: int, reason: str) -> Failed: ...

    def where(self, url: str) -> str: ...


def download(failures: Failures, url: str, folder: Path, limits: Limits, conditional: dict[str, str],
             staging: Staging) -> Download | None:
    """The response body in a staged file; None for "304 Not Modified"."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*", **conditional})
    received = [0]
    with _Watchdog(limits.deadline) as watchdog:
        opener = urllib.request.build_opener(_HTTPHandler(watchdog), _HTTPSHandler(watchdog),
                                             _Redirects(url, limits.hosts))
        try:
            with opener.open(request, timeout=limits.timeout) as response:
                got = _receive(response, url, folder, limits, staging, received)
            if watchdog.expired:
                raise _late(url, limits.deadline, received[0])
            return got
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 304 and conditional:
                return None
            raise failures.http(url, exc.code, exc.reason) from None
        except Failed:
            if watchdog.expired:
                raise _late(url, limits.deadline, received[0]) from None
            raise
        except Exception as exc:  # everything urllib, sockets and TLS can raise, turned into one message
            if watchdog.expired:
                raise _late(url, limits.deadline, received[0]) from None
            raise _network_failure(failures, url, limits.timeout, exc) from None


def _receive(response: Any, url: str, folder: Path, limits: Limits, staging: Staging,
             received: list[int]) -> Download:
    """Copy the body into a staged file, within the size cap, and check it against its announced length."""
    announced = _content_length(response.headers)
    if announced is not None and announced > limits.max_size:
        raise too_large(f"the download from {url} ({size_text(announced)} announced)", limits.max_size)
    temp, sink = staging.create(folder, "download")
    head = b""
    with sink:
        while chunk := response.read1(CHUNK):  # read1: returns what arrived, so the deadline is seen
            if len(head) < 8192:
                head += chunk[: 8192 - len(head)]
            sink.write(chunk)
            received[0] += len(chunk)
            if received[0] > limits.max_size:
                raise too_large(f"the download from {url}", limits.max_size)
    if announced is not None and received[0] < announced:
        host = urllib.parse.urlsplit(url).netloc
        raise Failed(f"the download from {host} was cut off after {received[0]:,} of the {announced:,} bytes "
                     f"announced: {url}", "try again; nothing was written")
    return Download(temp, received[0], head, response.headers)


def _content_length(headers: Any) -> int | None:
    value = headers.get("Content-Length")
    try:
        return int(value) if value is not None and int(value) >= 0 else None
    except ValueError:
        return None


def _late(url: str, deadline: float, received: int) -> Failed:
    host = urllib.parse.urlsplit(url).netloc
    return Failed(f"the download from {host} did not finish within {deadline:g} seconds "
                  f"({received:,} bytes received): {url}",
                  "the server is very slow; try again later, or allow more time with --deadline SECONDS")


def _network_failure(failures: Failures, url: str, timeout: float, exc: BaseException) -> Failed:
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc or url
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    where = failures.where(url)
    if isinstance(reason, ConnectionRefusedError):
        return Failed(f"could not connect to {host}, connection refused: {url}",
                      f"nothing answers at that address; {where}")
    if isinstance(reason, socket.gaierror):
        return Failed(f"cannot find the server {parts.hostname or host}: {url}",
                      f"no network, or a misspelt address; {where}")
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return Failed(f"no answer from {host} within {timeout:g} seconds: {url}",
                      "try again later, or allow more time with --timeout SECONDS")
    if isinstance(reason, ssl.SSLError):
        return Failed(f"the secure connection to {host} failed ({reason}): {url}",
                      "check the system clock and certificates, or a proxy that intercepts HTTPS")
    if isinstance(reason, (http.client.IncompleteRead, ConnectionError, http.client.HTTPException)):
        return Failed(f"the download from {host} was cut off ({type(reason).__name__}): {url}",
                      "try again; nothing was written")
    if isinstance(exc, ValueError):
        return Failed(f"'{url}' is not a usable address: {exc}", where)
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return Failed(f"could not download {url}: {text}", where)


# ------------------------------------------------------------------------------------------------
# The deadline: every socket of one download, shut down when its time is up


class _Watchdog:
    """A timer that shuts down every connection of one download at its deadline."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    """Shut the descriptor down under a blocked read (for TLS, beneath the SSL layer, which stays as it is)."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class _Watched:
    """A connection whose socket the watchdog can shut down at the deadline."""

    sock: socket.socket

    def __init__(self, *args: Any, watchdog: _Watchdog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self.watchdog = watchdog

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.watchdog.track(self.sock)


class _HTTPConnection(_Watched, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_Watched, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self.watchdog = watchdog

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_HTTPConnection, watchdog=self.watchdog), req)  # type: ignore[arg-type]


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        self.context = ssl.create_default_context()
        super().__init__(context=self.context)
        self.watchdog = watchdog

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_HTTPSConnection, watchdog=self.watchdog), req,  # type: ignore[arg-type]
                            context=self.context)


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to an allowed host; anything else is refused with the way to allow it."""

    def __init__(self, url: str, hosts: frozenset[str]) -> None:
        super().__init__()
        self.url = url
        self.hosts = hosts

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        host = (urllib.parse.urlsplit(newurl).hostname or "").lower()
        if host not in self.hosts:
            fp.close()
            raise Failed(f"{req.full_url} redirects (HTTP {code}) to {newurl}, on another host; refused",
                         f"if {host or 'that host'} really serves the publisher's files, add it to "
                         f"fetch.redirect_hosts in sources.yaml")
        return super().redirect_request(req, fp, code, msg, headers, newurl)

"""Publishers' bulk downloads → files in the data folder, under the names the publishers give them.

`python generate.py fetch wdi CODE…` and `fetch ilostat ID…` fetch exactly what a user would click
"download" for, so that a fetched folder and a hand-made one are the same thing to the loader.

Endpoints (the base is `--base-url`, else `$SESREPORT_WDI_URL` / `$SESREPORT_ILOSTAT_URL`, else the default):

- World Bank: ``GET {base}/v2/en/indicator/{CODE}?downloadformat=csv``, base ``https://api.worldbank.org``.
  The answer is a ZIP holding ``API_{CODE}_DS2_en_csv_v2_{N}.csv`` and its ``Metadata_Country_…`` and
  ``Metadata_Indicator_…`` companions; they are extracted, with their own names, into ``wdi_api/``.
  ``N`` changes with every release, so a newer vintage lands beside the older one (both are read; the
  precedence rules pick between them) and the fetch says so.
- ILOSTAT: ``GET {base}/data/indicator?id={ID}_A&format=.csv.gz``, base ``https://rplumber.ilo.org``.
  This is where ILOSTAT's bulk download facility (https://ilostat.ilo.org/data/bulk/, file list at
  https://rplumber.ilo.org/files/website/bulk/indicator.html) now serves its annual indicator files, in
  the "codes" layout (the same host the ILO's R package, Rilostat, downloads from). The classic
  ``www.ilo.org/ilostat-files/WEB_bulk_download/indicator/{ID}.csv.gz`` is reported as no longer
  served. The file is generated per request, with neither ETag nor Last-Modified (so every fetch
  downloads it, and identical bytes come out "unchanged"); it is gunzipped and saved as
  ``ilostat/{ID}_A.csv``, the name ILOSTAT gives it.

Everything is gathered first — downloaded, unpacked, checked to be the layout the readers expect, and
staged as hidden temporary files beside their targets — and only then written, each by ``os.replace``.
So one unknown code among several, a dropped connection or an HTML error page leaves the data folder
exactly as it was, and the CLI's "nothing was written" is true.

Nothing the user had is lost: a file with identical bytes is reported "unchanged" and left alone; a
file with different bytes is first kept as ``NAME.previous-YYYYMMDD-HHMMSS`` (a hard link, else a copy,
so that NAME itself never goes missing) and then replaced. The kept name does not end in ``.csv``, so
no ``sources.yaml`` glob reads it twice.

The data folder is the cache. ``.fetch.json`` beside it remembers, per URL, the ETag, Last-Modified and
the SHA-256 of the files it gave; while those files are intact the next fetch asks the server
conditionally, and a "304 Not Modified" costs no download at all.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import IO, TextIO

from .. import __version__
from ..errors import Problem, UserError, display_path

STATE_FILE = ".fetch.json"
CHUNK = 1 << 16
MAX_MEMBER = 1 << 30  # a WDI file is a few MB; a bigger declared size is a broken or hostile archive

# Names the tool; the "Mozilla/5.0 (compatible; …)" prefix because ILOSTAT's pages have been seen to
# come back empty for clients without a browser-like agent.
USER_AGENT = (f"Mozilla/5.0 (compatible; sesreport/{__version__}; "
              f"Python-urllib/{sys.version_info.major}.{sys.version_info.minor})")


@dataclass(frozen=True)
class Endpoint:
    """Where one publisher's bulk files come from and where they go."""

    publisher: str
    name: str  # as in "World Bank indicator code"
    who: str  # as in "the World Bank has no indicator …"
    default_base: str
    env: str
    folder: str
    what: str  # what an ID is called, in messages
    lookup: str  # where to check an ID


ENDPOINTS: dict[str, Endpoint] = {
    "wdi": Endpoint("wdi", "World Bank", "the World Bank", "https://api.worldbank.org", "SESREPORT_WDI_URL",
                    "wdi_api", "indicator code",
                    "look the code up at https://data.worldbank.org/indicator; codes look like SL.UEM.TOTL.ZS"),
    "ilostat": Endpoint("ilostat", "ILOSTAT", "ILOSTAT", "https://rplumber.ilo.org", "SESREPORT_ILOSTAT_URL",
                        "ilostat", "indicator ID",
                        "look the ID up at https://rplumber.ilo.org/files/website/bulk/indicator.html; "
                        "IDs look like ILR_TUMT_NOC_RT or EAR_4MTH_SEX_GEO_CUR_NB"),
}

_WDI_CODE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$")
_ILO_ID = re.compile(r"^[A-Z0-9]+(?:_[A-Z0-9]+)*$")
_WDI_MEMBER = {  # file-name prefix → the layout readers.sniff must find in it
    "API_": "wdi_api",
    "Metadata_Country_API_": "wdi_country_meta",
    "Metadata_Indicator_API_": "wdi_indicator_meta",
}


def fetch(publisher: str, ids: list[str], data_dir: Path | str, base_url: str | None = None,
          timeout: float = 60.0, *, now: datetime | None = None, log: TextIO | None = None) -> list[Path]:
    """Download the bulk files for `ids` into `data_dir`; return the paths written (new or replaced).

    Raises UserError (exit 2) naming every ID that failed, and then nothing has been written.
    `now` stamps the kept copies of replaced files; `log` receives one line per file (default stderr).
    """
    endpoint = ENDPOINTS.get(publisher)
    if endpoint is None:
        raise UserError(f"unknown publisher '{publisher}'; use one of: {', '.join(ENDPOINTS)}")
    base = resolve_base(endpoint, base_url)
    codes = normalise_ids(endpoint, ids)
    data_dir = Path(data_dir)
    folder = data_dir / endpoint.folder
    created = _make_folder(folder)
    when = now or datetime.now()
    out = _Log(log)
    state = _State.load(data_dir)
    staging = _Staging()
    problems: list[Problem] = []
    gathered: list[_Fetched] = []
    try:
        for code in codes:
            url = source_url(endpoint, base, code)
            try:
                gathered.append(_gather(endpoint, code, url, folder, data_dir, timeout, state, staging, out))
            except _Failed as exc:
                problems.append(exc.problem)
        if problems:
            raise UserError(problems)
        # Every file is downloaded and checked; only from here on does the data folder change.
        written: list[Path] = []
        for item in gathered:
            written += _commit(item, when, out)
            state.remember(item, data_dir, when)
        if endpoint.publisher == "wdi":
            for item in gathered:
                _note_older_downloads(item, out)
    except BaseException:
        staging.cleanup()
        _remove_if_empty(created)  # a failed first fetch leaves no empty folders behind either
        raise
    staging.cleanup()
    state.save(out)
    return written


# ------------------------------------------------------------------------------------------------
# What to ask for


def resolve_base(endpoint: Endpoint, base_url: str | None) -> str:
    """The base URL: the option, else the environment variable, else the publisher's own."""
    base = (base_url or os.environ.get(endpoint.env) or endpoint.default_base).strip().rstrip("/")
    parts = urllib.parse.urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        origin = "--base-url" if base_url else endpoint.env
        raise UserError(Problem(None, None, f"{origin} '{base}' is not an http:// or https:// address",
                                f"for {endpoint.name} the default is {endpoint.default_base}"))
    return base


def normalise_ids(endpoint: Endpoint, ids: list[str]) -> list[str]:
    """IDs as the endpoint wants them, each once; every malformed one reported at once.

    ILOSTAT IDs are accepted with or without the `_A` (annual) suffix and in any case; quarterly and
    monthly series are refused because the readers take annual data only.
    """
    out: list[str] = []
    problems: list[Problem] = []
    for raw in ids:
        code = raw.strip()
        if endpoint.publisher == "ilostat":
            code = code.upper()
            if code.endswith(("_Q", "_M")):
                kind = "quarterly" if code.endswith("_Q") else "monthly"
                annual = code[:-2]
                problems.append(Problem(None, None,
                                        f"'{raw}' is a {kind} ILOSTAT series; sesreport reads annual data only",
                                        f"ask for {annual} or {annual}_A, its annual series"))
                continue
            if code.endswith("_A"):
                code = code[:-2]
            ok = bool(_ILO_ID.match(code))
        else:
            ok = bool(_WDI_CODE.match(code)) and ".." not in code
        if not ok:
            problems.append(Problem(None, None, f"'{raw}' is not a valid {endpoint.name} {endpoint.what}",
                                    endpoint.lookup))
        elif code not in out:
            out.append(code)
    if problems:
        raise UserError(problems)
    if not out:
        raise UserError(Problem(None, None, f"no {endpoint.what} given", endpoint.lookup))
    return out


def source_url(endpoint: Endpoint, base: str, code: str) -> str:
    quoted = urllib.parse.quote(code, safe="._-")
    if endpoint.publisher == "wdi":
        return f"{base}/v2/en/indicator/{quoted}?downloadformat=csv"
    return f"{base}/data/indicator?id={quoted}_A&format=.csv.gz"


# ------------------------------------------------------------------------------------------------
# Gathering: download, unpack, check, stage


class _Failed(Exception):
    """One ID could not be fetched; carries the problem that says why and what to do."""

    def __init__(self, message: str, hint: str | None = None):
        self.problem = Problem(None, None, message, hint)
        super().__init__(message)


@dataclass
class _Staged:
    """One file ready to be put in place: its bytes sit in `temp` (None when the server said 304)."""

    target: Path
    temp: Path | None
    sha256: str
    size: int


@dataclass
class _Fetched:
    """What one URL gave."""

    code: str
    url: str
    files: list[_Staged]
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


@dataclass
class _Download:
    temp: Path
    size: int
    head: bytes
    headers: Message


class _Sink:
    """A staged file open for writing; a full disk or a permission error becomes a message, not a traceback."""

    def __init__(self, handle: IO[bytes], folder: Path) -> None:
        self.handle = handle
        self.folder = folder

    def write(self, data: bytes) -> int:
        try:
            return self.handle.write(data)
        except OSError as exc:
            raise _cannot_write(self.folder, exc) from None

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.handle.close()
        except OSError as error:
            raise _cannot_write(self.folder, error) from None


def _cannot_write(folder: Path, exc: OSError) -> _Failed:
    return _Failed(f"cannot write in {display_path(folder)}: {exc.strerror or exc}",
                   "check the folder's permissions and free space, or pass another --data folder")


class _Staging:
    """Hidden temporary files beside their targets (same file system, so `os.replace` is atomic);
    whatever is still here at the end — after a failure, an interrupt, or an unchanged file — goes."""

    def __init__(self) -> None:
        self.paths: list[Path] = []

    def create(self, folder: Path, name: str) -> tuple[Path, _Sink]:
        path = folder / f".{name}.{secrets.token_hex(4)}.part"
        try:
            handle = path.open("xb")  # unlike mkstemp, honours the umask: the final file gets normal modes
        except OSError as exc:
            raise _cannot_write(folder, exc) from None
        self.paths.append(path)
        return path, _Sink(handle, folder)

    def cleanup(self) -> None:
        for path in self.paths:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass


def _gather(endpoint: Endpoint, code: str, url: str, folder: Path, data_dir: Path, timeout: float,
            state: _State, staging: _Staging, out: _Log) -> _Fetched:
    conditional = state.conditional_headers(url, data_dir)
    out.line(f"fetching {url}")
    got = _download(endpoint, code, url, folder, timeout, conditional, staging)
    if got is None:
        return _Fetched(code, url, state.files_of(url, data_dir), not_modified=True)
    if endpoint.publisher == "wdi":
        files = _unpack_wdi(code, url, got, folder, staging)
    else:
        files = _unpack_ilostat(code, url, got, folder, staging)
    for item in files:
        if item.target.exists() and not item.target.is_file():
            raise _Failed(f"{display_path(item.target)} exists and is not a file; {code} cannot be saved there",
                          "move it away and fetch again")
    return _Fetched(code, url, files, got.headers.get("ETag"), got.headers.get("Last-Modified"))


def _download(endpoint: Endpoint, code: str, url: str, folder: Path, timeout: float,
              conditional: dict[str, str], staging: _Staging) -> _Download | None:
    """The response body in a staged file; None for "304 Not Modified"."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*", **conditional})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            temp, sink = staging.create(folder, "download")
            size, head = 0, b""
            with sink:
                while chunk := response.read(CHUNK):
                    if len(head) < 8192:
                        head += chunk[: 8192 - len(head)]
                    sink.write(chunk)
                    size += len(chunk)
            return _Download(temp, size, head, response.headers)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 304 and conditional:
            return None
        raise _http_failure(endpoint, code, url, exc.code, exc.reason) from None
    except _Failed:
        raise
    except Exception as exc:  # everything urllib, sockets and TLS can raise, turned into one message
        raise _network_failure(endpoint, url, timeout, exc) from None


def _http_failure(endpoint: Endpoint, code: str, url: str, status: int, reason: str) -> _Failed:
    said = f"{url} answered HTTP {status} {reason}".rstrip()
    if status in (404, 410):
        return _Failed(f"{endpoint.who} has no indicator '{code}': {said}",
                       f"{endpoint.lookup}; if the {endpoint.what} is right, check --base-url")
    if status in (401, 403, 429):
        return _Failed(f"{endpoint.who} refused the download of '{code}': {said}",
                       "wait a while and try again; the server limits how often it is asked")
    if status >= 500:
        return _Failed(f"{endpoint.who}'s server failed on '{code}': {said}",
                       "the server is having trouble; try again later")
    return _Failed(f"could not download '{code}': {said}", f"check the {endpoint.what} and --base-url")


def _network_failure(endpoint: Endpoint, url: str, timeout: float, exc: BaseException) -> _Failed:
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc or url
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    where = (f"check --base-url or {endpoint.env}"
             if parts.netloc != urllib.parse.urlsplit(endpoint.default_base).netloc
             else "check your internet connection")
    if isinstance(reason, ConnectionRefusedError):
        return _Failed(f"could not connect to {host}, connection refused: {url}",
                       f"nothing answers at that address; {where}")
    if isinstance(reason, socket.gaierror):
        return _Failed(f"cannot find the server {parts.hostname or host}: {url}",
                       f"no network, or a misspelt address; {where}")
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return _Failed(f"no answer from {host} within {timeout:g} seconds: {url}",
                       "try again later, or allow more time with --timeout SECONDS")
    if isinstance(reason, ssl.SSLError):
        return _Failed(f"the secure connection to {host} failed ({reason}): {url}",
                       "check the system clock and certificates, or a proxy that intercepts HTTPS")
    if isinstance(reason, (http.client.IncompleteRead, ConnectionError, http.client.HTTPException)):
        return _Failed(f"the download from {host} was cut off ({type(reason).__name__}): {url}",
                       "try again; nothing was written")
    if isinstance(exc, ValueError):
        return _Failed(f"'{url}' is not a usable address: {exc}", f"check --base-url or {endpoint.env}")
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return _Failed(f"could not download {url}: {text}", where)


def _unpack_wdi(code: str, url: str, got: _Download, folder: Path, staging: _Staging) -> list[_Staged]:
    """The API_, Metadata_Country_ and Metadata_Indicator_ files of one World Bank ZIP, staged."""
    _require_body(got, url, "the World Bank", code)
    if not zipfile.is_zipfile(got.temp):
        message = re.search(rb"<wb:message[^>]*>(.*?)</wb:message>", got.head, re.S)
        if message:
            said = message.group(1).decode("utf-8", "replace").strip()
            raise _Failed(f"the World Bank has no indicator '{code}': {url} answered \"{said}\"",
                          ENDPOINTS["wdi"].lookup)
        raise _Failed(f"{url} returned {_describe(got.head)} instead of a ZIP archive",
                      "the World Bank may be down, or --base-url wrong; try again later")
    wanted = re.compile(r"^(?:Metadata_Country_|Metadata_Indicator_)?API_" + re.escape(code) + r"_DS2_[^/\\]*\.csv$",
                        re.IGNORECASE)
    staged: list[_Staged] = []
    try:
        with zipfile.ZipFile(got.temp) as archive:
            members = archive.infolist()
            unsafe = [m.filename for m in members if not _plain_name(m.filename)]
            if unsafe:
                raise _Failed(f"the archive from {url} holds {unsafe[0]!r}, which is not a plain file name; "
                              f"refused, nothing extracted",
                              "the World Bank's archives hold plain files only; check --base-url")
            chosen = [m for m in members if wanted.match(m.filename)]
            if sum(1 for m in chosen if m.filename.upper().startswith("API_")) != 1:
                listed = ", ".join(m.filename for m in members[:5]) or "nothing"
                raise _Failed(f"the archive from {url} holds no single API_{code}_DS2_….csv file (it holds {listed})",
                              ENDPOINTS["wdi"].lookup)
            for member in chosen:
                if member.file_size > MAX_MEMBER:
                    raise _Failed(f"{member.filename} in the archive from {url} claims {member.file_size:,} bytes; "
                                  f"refused", "a WDI file is a few megabytes; check --base-url")
                temp, sink = staging.create(folder, member.filename)
                digest = hashlib.sha256()
                with sink, archive.open(member) as source:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        sink.write(chunk)
                item = _Staged(folder / member.filename, temp, digest.hexdigest(), member.file_size)
                _check_layout(item, url, _expected_wdi_layout(member.filename))
                staged.append(item)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise _Failed(f"the archive from {url} is damaged ({exc})", "try again; nothing was written") from None
    return staged


def _expected_wdi_layout(name: str) -> str:
    for prefix, layout in sorted(_WDI_MEMBER.items(), key=lambda kv: -len(kv[0])):
        if name.upper().startswith(prefix.upper()):
            return layout
    raise AssertionError(name)


def _unpack_ilostat(code: str, url: str, got: _Download, folder: Path, staging: _Staging) -> list[_Staged]:
    """One ILOSTAT file, gunzipped (however many times the server and the file were gzipped), staged."""
    _require_body(got, url, "ILOSTAT", code)
    path, head = got.temp, got.head
    for _ in range(2):  # the file itself is .csv.gz; a server may add Content-Encoding: gzip on top
        if not head.startswith(b"\x1f\x8b"):
            break
        temp, sink = staging.create(folder, f"{code}_A.csv")
        try:
            with sink, gzip.open(path, "rb") as source:
                shutil.copyfileobj(source, sink, CHUNK)
        except (OSError, EOFError, zlib.error) as exc:
            raise _Failed(f"the gzip file from {url} is damaged ({exc})", "try again; nothing was written") from None
        path = temp
        with path.open("rb") as fh:
            head = fh.read(8192)
    size = path.stat().st_size
    if not head.strip():
        raise _Failed(f"ILOSTAT answered with an empty file for '{code}': {url}", ENDPOINTS["ilostat"].lookup)
    item = _Staged(folder / f"{code}_A.csv", path, _sha256(path), size)
    _check_layout(item, url, "ilostat_")
    rows = [line for line in head.splitlines() if line.strip()]
    if len(rows) < 2 and size <= len(head):
        raise _Failed(f"ILOSTAT has no data for '{code}': the file from {url} holds a header only",
                      ENDPOINTS["ilostat"].lookup)
    return [item]


def _require_body(got: _Download, url: str, who: str, code: str) -> None:
    if got.size == 0:
        raise _Failed(f"{who} answered with an empty response for '{code}': {url}",
                      "try again later; if it persists, check the code and --base-url")


def _check_layout(item: _Staged, url: str, expected: str) -> None:
    """The file must be what the readers will recognise, or it is not saved at all."""
    from . import readers  # pandas comes with it; only needed once something has arrived

    assert item.temp is not None
    with item.temp.open("rb") as fh:
        head = fh.read(8192)
    layout = readers.sniff(item.target, head.decode("utf-8-sig", errors="replace"))
    if layout is None or not layout.startswith(expected):
        raise _Failed(f"{item.target.name} from {url} is {_describe(head)}, not the "
                      f"{'ILOSTAT CSV' if expected == 'ilostat_' else readers.LAYOUTS.get(expected, expected)} "
                      f"expected", "the server may have sent an error page; check --base-url and try again")


def _describe(head: bytes) -> str:
    """A few words on what a response that is not data actually is."""
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    lowered = text[:2000].lower()
    if text.startswith("<"):
        kind = "an HTML page" if "<html" in lowered or "<!doctype html" in lowered else "an XML document"
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        return kind + (f" titled {' '.join(title.group(1).split())[:80]!r}" if title else "")
    if text.startswith(("{", "[")):
        return f"JSON ({text.splitlines()[0][:80]!r})"
    first = text.splitlines()[0][:80] if text else ""
    return f"something else, beginning {first!r}"


def _plain_name(name: str) -> bool:
    """A ZIP member that can only land in the folder it is extracted to."""
    return (bool(name) and "/" not in name and "\\" not in name and ":" not in name and "\x00" not in name
            and not name.startswith(".") and name.strip() == name)


# ------------------------------------------------------------------------------------------------
# Writing


def _commit(item: _Fetched, now: datetime, out: _Log) -> list[Path]:
    """Put the staged files in place; an existing different file is kept under a dated name first."""
    written: list[Path] = []
    for staged in item.files:
        target = staged.target
        shown = display_path(target)
        if staged.temp is None:
            out.line(f"unchanged {shown} (not modified on the server)")
            continue
        try:
            if target.is_file() and _same_content(target, staged):
                out.line(f"unchanged {shown}")
                continue
            if target.is_file():
                kept = _keep_previous(target, now)
                os.replace(staged.temp, target)
                out.line(f"replaced {shown} ({staged.size:,} bytes); the previous file is kept as {kept.name}")
            else:
                os.replace(staged.temp, target)
                out.line(f"wrote {shown} ({staged.size:,} bytes)")
        except OSError as exc:
            raise UserError(Problem(shown, None, f"could not write the file: {exc.strerror or exc}",
                                    "check the folder's permissions and free space")) from None
        written.append(target)
    return written


def _same_content(target: Path, staged: _Staged) -> bool:
    return target.stat().st_size == staged.size and _sha256(target) == staged.sha256


def _keep_previous(target: Path, now: datetime) -> Path:
    """Keep the old file as NAME.previous-YYYYMMDD-HHMMSS; NAME itself stays in place until replaced."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    kept = target.with_name(f"{target.name}.previous-{stamp}")
    n = 2
    while kept.exists():
        kept = target.with_name(f"{target.name}.previous-{stamp}-{n}")
        n += 1
    try:
        os.link(target, kept)
    except OSError:  # no hard links on this file system
        shutil.copy2(target, kept)
    return kept


def _note_older_downloads(item: _Fetched, out: _Log) -> None:
    """A new WDI release comes under a new name; say that the older one is still there and still read."""
    if not item.files:
        return
    targets = {f.target.name for f in item.files}
    folder = item.files[0].target.parent
    pattern = re.compile(r"^API_" + re.escape(item.code) + r"_DS2_.*\.csv$", re.IGNORECASE)
    for other in sorted(folder.iterdir()):
        if pattern.match(other.name) and other.name not in targets:
            out.line(f"note: {display_path(other)} is an earlier download of {item.code}; both are read and the "
                     f"precedence rules choose between vintages (move it out of the data folder to drop it)")


def _make_folder(folder: Path) -> list[Path]:
    """Create the folder; return the folders that had to be created, deepest first."""
    missing = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        missing.append(parent)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(Problem(display_path(folder), None, f"cannot create the folder: {exc.strerror or exc}",
                                "pass --data DIR with a folder you can write to")) from None
    return missing


def _remove_if_empty(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _Log:
    """One line per event on stderr, kept plain so that it pipes and logs cleanly."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream

    def line(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------
# The sidecar: what each URL last gave, for conditional requests


@dataclass
class _State:
    """`DATA/.fetch.json`: URL → ETag, Last-Modified, when fetched, and the SHA-256 of each file it gave.

    Only a cache: a missing or unreadable sidecar means unconditional downloads, never an error.
    """

    path: Path
    urls: dict[str, dict] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def load(cls, data_dir: Path) -> _State:
        path = data_dir / STATE_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            urls = raw.get("urls", {}) if isinstance(raw, dict) else {}
        except (OSError, ValueError):
            urls = {}
        return cls(path, {k: v for k, v in urls.items() if isinstance(v, dict)})

    def conditional_headers(self, url: str, data_dir: Path) -> dict[str, str]:
        """If-None-Match / If-Modified-Since, but only while every file the URL gave is still intact."""
        record = self.urls.get(url, {})
        headers = {}
        if isinstance(record.get("etag"), str):
            headers["If-None-Match"] = record["etag"]
        if isinstance(record.get("last_modified"), str):
            headers["If-Modified-Since"] = record["last_modified"]
        files = record.get("files")
        if not headers or not isinstance(files, dict) or not files:
            return {}
        for rel, sha in files.items():
            path = data_dir / rel
            if not path.is_file() or _sha256(path) != sha:
                return {}
        return headers

    def files_of(self, url: str, data_dir: Path) -> list[_Staged]:
        files = self.urls.get(url, {}).get("files", {})
        return [_Staged(data_dir / rel, None, sha, (data_dir / rel).stat().st_size) for rel, sha in files.items()]

    def remember(self, item: _Fetched, data_dir: Path, now: datetime) -> None:
        if item.not_modified:
            return
        self.urls[item.url] = {
            "etag": item.etag,
            "last_modified": item.last_modified,
            "fetched": now.isoformat(timespec="seconds"),
            "files": {f.target.relative_to(data_dir).as_posix(): f.sha256 for f in item.files},
        }
        self.changed = True

    def save(self, out: _Log) -> None:
        if not self.changed:
            return
        text = json.dumps({"urls": dict(sorted(self.urls.items()))}, indent=2, sort_keys=True) + "\n"
        temp = self.path.with_name(f"{STATE_FILE}.{secrets.token_hex(4)}.part")
        try:
            temp.write_text(text, encoding="utf-8")
            os.replace(temp, self.path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            out.line(f"note: could not update {display_path(self.path)} ({exc.strerror or exc}); "
                     f"the next fetch will download in full")

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
staged as hidden ``.part`` files beside their targets — and only then written, each by ``os.replace``.
So one unknown code among several, a dropped connection or an HTML error page leaves the data folder
exactly as it was, and the CLI's "nothing was written" is true. A hostile or broken server cannot
make a download run forever, fill the disk or send it elsewhere: see `transfer` (deadline, size cap,
redirects, truncation) and `store` (the lock, the signal handler, leftovers of a killed fetch).

Nothing the user had is lost: a file with identical bytes is reported "unchanged" and left alone; a
file with different bytes is first kept as ``NAME.previous-YYYYMMDD-HHMMSS`` and then replaced.

The data folder is the cache. ``.fetch.json`` beside it remembers, per URL, the ETag, Last-Modified and
the SHA-256 of the files it gave; while those files are intact the next fetch asks the server
conditionally, and a "304 Not Modified" costs no download at all.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from ...errors import Problem, UserError, display_path
from .store import (
    STATE_FILE,
    Failed,
    Fetched,
    Log,
    Staging,
    State,
    commit,
    locked_folder,
    note_older_downloads,
    remove_leftovers,
    signals_stop_the_fetch,
    signals_wait,
)
from .transfer import DEFAULT_DEADLINE, DEFAULT_MAX_SIZE, MB, Limits, download
from .unpack import unpack_ilostat, unpack_wdi

__all__ = ["DEFAULT_DEADLINE", "DEFAULT_MAX_SIZE", "ENDPOINTS", "MB", "STATE_FILE", "Endpoint", "Limits", "fetch",
           "normalise_ids", "resolve_base", "source_url"]


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


def fetch(publisher: str, ids: list[str], data_dir: Path | str, base_url: str | None = None,
          timeout: float = 60.0, *, deadline: float = DEFAULT_DEADLINE, max_size: float = DEFAULT_MAX_SIZE,
          redirect_hosts: Sequence[str] = (), now: datetime | None = None,
          log: TextIO | None = None) -> list[Path]:
    """Download the bulk files for `ids` into `data_dir`; return the paths written (new or replaced).

    `timeout` bounds each network read, `deadline` each whole download (seconds); `max_size` (bytes)
    bounds each download and each file unpacked from it; redirects go only to the base URL's host and
    `redirect_hosts`. Raises UserError (exit 2) naming every ID that failed, and then nothing has been
    written. `now` stamps the kept copies of replaced files; `log` receives one line per file (stderr).
    """
    endpoint = ENDPOINTS.get(publisher)
    if endpoint is None:
        raise UserError(f"unknown publisher '{publisher}'; use one of: {', '.join(ENDPOINTS)}")
    base = resolve_base(endpoint, base_url)
    limits = Limits.checked(timeout, deadline, max_size, (urllib.parse.urlsplit(base).hostname or "",
                                                          *redirect_hosts))
    codes = normalise_ids(endpoint, ids)
    data_dir = Path(data_dir)
    folder = data_dir / endpoint.folder
    out = Log(log)
    staging = Staging()
    try:
        with signals_stop_the_fetch(), locked_folder(data_dir, folder, out):
            remove_leftovers([folder, data_dir], out)
            try:
                return _fetch_all(endpoint, base, codes, data_dir, folder, limits, staging,
                                  now or datetime.now(), out)
            finally:
                staging.cleanup()  # inside the lock: the folders may go with the failure
    finally:
        staging.cleanup()  # a signal may arrive between the two


def _fetch_all(endpoint: Endpoint, base: str, codes: list[str], data_dir: Path, folder: Path, limits: Limits,
               staging: Staging, when: datetime, out: Log) -> list[Path]:
    """Gather every ID, then (only when all succeeded) put the files in place and remember them."""
    state = State.load(data_dir)
    problems: list[Problem] = []
    gathered: list[Fetched] = []
    for code in codes:
        url = source_url(endpoint, base, code)
        try:
            gathered.append(_gather(endpoint, code, url, folder, data_dir, limits, state, staging, out))
        except Failed as exc:
            problems.append(exc.problem)
    if problems:
        raise UserError(problems)
    # Every file is downloaded and checked; only from here on does the data folder change, and a
    # SIGTERM waits until it is done, so that the files and the sidecar agree.
    written: list[Path] = []
    with signals_wait():
        for item in gathered:
            written += commit(item, when, out)
            state.remember(item, data_dir, when)
        state.save(out)
    if endpoint.publisher == "wdi":
        for item in gathered:
            note_older_downloads(item, out)
    return written


def _gather(endpoint: Endpoint, code: str, url: str, folder: Path, data_dir: Path, limits: Limits,
            state: State, staging: Staging, out: Log) -> Fetched:
    conditional = state.conditional_headers(url, data_dir)
    out.line(f"fetching {url}")
    got = download(_Failures(endpoint, code), url, folder, limits, conditional, staging)
    if got is None:
        return Fetched(code, url, state.files_of(url, data_dir), not_modified=True)
    lookup = endpoint.lookup
    if endpoint.publisher == "wdi":
        files = unpack_wdi(code, url, got, folder, staging, limits.max_size, lookup)
    else:
        files = unpack_ilostat(code, url, got, folder, staging, limits.max_size, lookup)
    for item in files:
        if item.target.exists() and not item.target.is_file():
            raise Failed(f"{display_path(item.target)} exists and is not a file; {code} cannot be saved there",
                         "move it away and fetch again")
    return Fetched(code, url, files, got.headers.get("ETag"), got.headers.get("Last-Modified"))


@dataclass(frozen=True)
class _Failures:
    """How one publisher's HTTP answers are put into words (see transfer.download)."""

    endpoint: Endpoint
    code: str

    def http(self, url: str, status: int, reason: str) -> Failed:
        endpoint, code = self.endpoint, self.code
        said = f"{url} answered HTTP {status} {reason}".rstrip()
        if status in (404, 410):
            return Failed(f"{endpoint.who} has no indicator '{code}': {said}",
                          f"{endpoint.lookup}; if the {endpoint.what} is right, check --base-url")
        if status in (401, 403, 429):
            return Failed(f"{endpoint.who} refused the download of '{code}': {said}",
                          "wait a while and try again; the server limits how often it is asked")
        if status >= 500:
            return Failed(f"{endpoint.who}'s server failed on '{code}': {said}",
                          "the server is having trouble; try again later")
        return Failed(f"could not download '{code}': {said}", f"check the {endpoint.what} and --base-url")

    def where(self, url: str) -> str:
        """Where to look when the network fails: the option for a custom server, else the connection."""
        custom = urllib.parse.urlsplit(url).netloc != urllib.parse.urlsplit(self.endpoint.default_base).netloc
        return f"check --base-url or {self.endpoint.env}" if custom else "check your internet connection"


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

"""A downloaded body → the files the readers expect, staged beside their targets.

In: the staged response body (`store.Download`) and the size cap. Out: `store.Staged` files, each
checked to be the layout the readers will recognise, or a `store.Failed` saying what the body was
instead (an HTML page, an XML error, a truncated or hostile archive, a file inflating past the cap).
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zipfile
import zlib
from pathlib import Path
from typing import Protocol

from .store import Download, Failed, Sink, Staged, Staging, sha256
from .transfer import CHUNK, size_text, too_large

_WDI_MEMBER = {  # file-name prefix → the layout readers.sniff must find in it
    "API_": "wdi_api",
    "Metadata_Country_API_": "wdi_country_meta",
    "Metadata_Indicator_API_": "wdi_indicator_meta",
}


def unpack_wdi(code: str, url: str, got: Download, folder: Path, staging: Staging, max_size: int,
               lookup: str) -> list[Staged]:
    """The API_, Metadata_Country_ and Metadata_Indicator_ files of one World Bank ZIP, staged."""
    _require_body(got, url, "the World Bank", code)
    if not zipfile.is_zipfile(got.temp):
        message = re.search(rb"<wb:message[^>]*>(.*?)</wb:message>", got.head, re.S)
        if message:
            said = message.group(1).decode("utf-8", "replace").strip()
            raise Failed(f"the World Bank has no indicator '{code}': {url} answered \"{said}\"", lookup)
        raise Failed(f"{url} returned {_describe(got.head)} instead of a ZIP archive",
                     "the World Bank may be down, or --base-url wrong; try again later")
    wanted = re.compile(r"^(?:Metadata_Country_|Metadata_Indicator_)?API_" + re.escape(code) + r"_DS2_[^/\\]*\.csv$",
                        re.IGNORECASE)
    staged: list[Staged] = []
    try:
        with zipfile.ZipFile(got.temp) as archive:
            members = archive.infolist()
            unsafe = [m.filename for m in members if not _plain_name(m.filename)]
            if unsafe:
                raise Failed(f"the archive from {url} holds {unsafe[0]!r}, which is not a plain file name; "
                             f"refused, nothing extracted",
                             "the World Bank's archives hold plain files only; check --base-url")
            chosen = [m for m in members if wanted.match(m.filename)]
            if sum(1 for m in chosen if m.filename.upper().startswith("API_")) != 1:
                listed = ", ".join(m.filename for m in members[:5]) or "nothing"
                raise Failed(f"the archive from {url} holds no single API_{code}_DS2_….csv file (it holds {listed})",
                             lookup)
            for member in chosen:
                what = f"{member.filename} in the archive from {url}"
                if member.file_size > max_size:
                    raise too_large(f"{what} ({size_text(member.file_size)} declared)", max_size)
                temp, sink = staging.create(folder, member.filename)
                with sink, archive.open(member) as source:
                    digest, size = _copy_capped(source, sink, max_size, what)
                item = Staged(folder / member.filename, temp, digest, size)
                _check_layout(item, url, _expected_wdi_layout(member.filename))
                staged.append(item)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise Failed(f"the archive from {url} is damaged ({exc})", "try again; nothing was written") from None
    return staged


def _expected_wdi_layout(name: str) -> str:
    for prefix, layout in sorted(_WDI_MEMBER.items(), key=lambda kv: -len(kv[0])):
        if name.upper().startswith(prefix.upper()):
            return layout
    raise AssertionError(name)


def unpack_ilostat(code: str, url: str, got: Download, folder: Path, staging: Staging, max_size: int,
                   lookup: str) -> list[Staged]:
    """One ILOSTAT file, gunzipped (however many times the server and the file were gzipped), staged."""
    _require_body(got, url, "ILOSTAT", code)
    path, head = got.temp, got.head
    for _ in range(2):  # the file itself is .csv.gz; a server may add Content-Encoding: gzip on top
        if not head.startswith(b"\x1f\x8b"):
            break
        temp, sink = staging.create(folder, f"{code}_A.csv")
        try:
            with sink, gzip.open(path, "rb") as source:
                _copy_capped(source, sink, max_size, f"the file unpacked from {url} ({size_text(got.size)} gzipped)")
        except (OSError, EOFError, zlib.error) as exc:
            raise Failed(f"the gzip file from {url} is damaged ({exc})", "try again; nothing was written") from None
        path = temp
        with path.open("rb") as fh:
            head = fh.read(8192)
    size = path.stat().st_size
    if not head.strip():
        raise Failed(f"ILOSTAT answered with an empty file for '{code}': {url}", lookup)
    item = Staged(folder / f"{code}_A.csv", path, sha256(path), size)
    _check_layout(item, url, "ilostat_")
    rows = [line for line in head.splitlines() if line.strip()]
    if len(rows) < 2 and size <= len(head):
        raise Failed(f"ILOSTAT has no data for '{code}': the file from {url} holds a header only", lookup)
    return [item]


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _copy_capped(source: _Readable, sink: Sink, max_size: int, what: str) -> tuple[str, int]:
    """Copy until the end or the cap, whichever comes first; return the SHA-256 and the size."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK):
        size += len(chunk)
        if size > max_size:
            raise too_large(what, max_size)
        digest.update(chunk)
        sink.write(chunk)
    return digest.hexdigest(), size


def _require_body(got: Download, url: str, who: str, code: str) -> None:
    if got.size == 0:
        raise Failed(f"{who} answered with an empty response for '{code}': {url}",
                     "try again later; if it persists, check the code and --base-url")


def _check_layout(item: Staged, url: str, expected: str) -> None:
    """The file must be what the readers will recognise, or it is not saved at all."""
    from .. import readers  # pandas comes with it; only needed once something has arrived

    assert item.temp is not None
    with item.temp.open("rb") as fh:
        head = fh.read(8192)
    layout = readers.sniff(item.target, head.decode("utf-8-sig", errors="replace"))
    if layout is None or not layout.startswith(expected):
        raise Failed(f"{item.target.name} from {url} is {_describe(head)}, not the "
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

"""The data folder's side of a fetch: staged `.part` files in, files in place out.

What comes in is downloaded bytes in hidden `.part` files beside their targets; what goes out is the
data folder changed only by `os.replace` once everything is checked, with a replaced file kept under
a dated name and `.fetch.json` updated. Around that: an `flock` on the data folder so that two
fetches never touch it at once (and `.part` files found while holding it are leftovers of a killed
fetch, removed), and a handler that turns SIGTERM and SIGHUP into a clean stop.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import IO, Any, TextIO

from ...errors import Problem, UserError, display_path

STATE_FILE = ".fetch.json"
PART = ".part"


class Failed(Exception):
    """One ID could not be fetched; carries the problem that says why and what to do."""

    def __init__(self, message: str, hint: str | None = None):
        self.problem = Problem(None, None, message, hint)
        super().__init__(message)


@dataclass
class Staged:
    """One file ready to be put in place: its bytes sit in `temp` (None when the server said 304)."""

    target: Path
    temp: Path | None
    sha256: str
    size: int


@dataclass
class Fetched:
    """What one URL gave."""

    code: str
    url: str
    files: list[Staged]
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


@dataclass
class Download:
    """A response body, staged: its file, size, first bytes and headers."""

    temp: Path
    size: int
    head: bytes
    headers: Message


class Log:
    """One line per event on stderr, kept plain so that it pipes and logs cleanly."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream

    def line(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------
# Staging


class Sink:
    """A staged file open for writing; a full disk or a permission error becomes a message, not a traceback."""

    def __init__(self, handle: IO[bytes], folder: Path) -> None:
        self.handle = handle
        self.folder = folder

    def write(self, data: bytes) -> int:
        try:
            return self.handle.write(data)
        except OSError as exc:
            raise cannot_write(self.folder, exc) from None

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.handle.close()
        except OSError as error:
            raise cannot_write(self.folder, error) from None


def cannot_write(folder: Path, exc: OSError) -> Failed:
    return Failed(f"cannot write in {display_path(folder)}: {exc.strerror or exc}",
                  "check the folder's permissions and free space, or pass another --data folder")


class Staging:
    """Hidden `.part` files beside their targets (same file system, so `os.replace` is atomic);
    whatever is still here at the end — after a failure, an interrupt, or an unchanged file — goes."""

    def __init__(self) -> None:
        self.paths: list[Path] = []

    def create(self, folder: Path, name: str) -> tuple[Path, Sink]:
        path = folder / f".{name}.{secrets.token_hex(4)}{PART}"
        self.paths.append(path)  # before it exists: a signal handled just after `open` must still find it
        try:
            handle = path.open("xb")  # unlike mkstemp, honours the umask: the final file gets normal modes
        except OSError as exc:
            self.paths.remove(path)  # nothing was made, or the name was taken: not ours to remove
            raise cannot_write(folder, exc) from None
        return path, Sink(handle, folder)

    def cleanup(self) -> None:
        for path in self.paths:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass


# ------------------------------------------------------------------------------------------------
# One fetch at a time, and what a killed one left


@contextmanager
def locked_folder(data_dir: Path, folder: Path, out: Log) -> Iterator[None]:
    """Make `folder` (under `data_dir`) if need be, and hold an exclusive `flock` on `data_dir` itself
    (no lock file is left behind). When the body fails, the folders made for it are removed before
    the lock is released, so a fetch that waited finds them again or makes them anew."""
    created = make_folder(folder)
    fd = _lock(data_dir, folder, created, out)
    try:
        created += make_folder(folder)  # a failed fetch removed it while this one waited
        yield
    except BaseException:
        remove_if_empty(created)  # a failed first fetch leaves no empty folders behind
        raise
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _lock(data_dir: Path, folder: Path, created: list[Path], out: Log) -> int:
    """A descriptor of `data_dir`, locked; if the folder was removed while we waited, lock the new one."""
    waited = False
    while True:
        try:
            fd = os.open(data_dir, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            created += make_folder(folder)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not waited:
                out.line(f"waiting for another fetch into {display_path(data_dir)} to finish")
                waited = True
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.path.samestat(os.fstat(fd), os.stat(data_dir)):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def remove_leftovers(folders: list[Path], out: Log) -> None:
    """`.part` files of a fetch that was killed (SIGKILL, power loss): we hold the lock, so no fetch runs."""
    for folder in folders:
        for path in sorted(folder.glob(f".*{PART}")):
            try:
                path.unlink()
            except OSError as exc:
                out.line(f"note: could not remove {display_path(path)} ({exc.strerror or exc})")
                continue
            out.line(f"removed {display_path(path)}, left by an interrupted fetch")


_STOPPING = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def signals_stop_the_fetch() -> Iterator[None]:
    """SIGTERM and SIGHUP raise SystemExit(128 + signal), so the staged files are removed on the way out.

    Only the main thread can install handlers; elsewhere (a test runner's thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        print(f"fetch stopped by {signal.Signals(signum).name}; its temporary files are removed", file=sys.stderr)
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in _STOPPING}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def signals_wait() -> Iterator[None]:
    """Hold SIGTERM, SIGHUP and SIGINT back while the files are put in place (a few renames)."""
    held = {*_STOPPING, signal.SIGINT}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# ------------------------------------------------------------------------------------------------
# Writing


def commit(item: Fetched, now: datetime, out: Log) -> list[Path]:
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


def _same_content(target: Path, staged: Staged) -> bool:
    return target.stat().st_size == staged.size and sha256(target) == staged.sha256


def _keep_previous(target: Path, now: datetime) -> Path:
    """Keep the old file as NAME.previous-YYYYMMDD-HHMMSS (a hard link, else a copy, so that NAME
    itself never goes missing); the kept name does not end in `.csv`, so no glob reads it twice."""
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


def note_older_downloads(item: Fetched, out: Log) -> None:
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


def make_folder(folder: Path) -> list[Path]:
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


def remove_if_empty(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------
# The sidecar: what each URL last gave, for conditional requests


@dataclass
class State:
    """`DATA/.fetch.json`: URL → ETag, Last-Modified, when fetched, and the SHA-256 of each file it gave.

    Only a cache: a missing or unreadable sidecar means unconditional downloads, never an error.
    """

    path: Path
    urls: dict[str, dict] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def load(cls, data_dir: Path) -> State:
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
            if not path.is_file() or sha256(path) != sha:
                return {}
        return headers

    def files_of(self, url: str, data_dir: Path) -> list[Staged]:
        files = self.urls.get(url, {}).get("files", {})
        return [Staged(data_dir / rel, None, sha, (data_dir / rel).stat().st_size) for rel, sha in files.items()]

    def remember(self, item: Fetched, data_dir: Path, now: datetime) -> None:
        if item.not_modified:
            return
        self.urls[item.url] = {
            "etag": item.etag,
            "last_modified": item.last_modified,
            "fetched": now.isoformat(timespec="seconds"),
            "files": {f.target.relative_to(data_dir).as_posix(): f.sha256 for f in item.files},
        }
        self.changed = True

    def save(self, out: Log) -> None:
        if not self.changed:
            return
        text = json.dumps({"urls": dict(sorted(self.urls.items()))}, indent=2, sort_keys=True) + "\n"
        temp = self.path.with_name(f"{STATE_FILE}.{secrets.token_hex(4)}{PART}")
        try:
            temp.write_text(text, encoding="utf-8")
            os.replace(temp, self.path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            out.line(f"note: could not update {display_path(self.path)} ({exc.strerror or exc}); "
                     f"the next fetch will download in full")

"""The output folder: atomic writes, the manifest of what was built from which inputs, and the lock
that keeps two builds (or the orphans of a killed one) from writing into it at once.

In: an output folder and what a build made. Out: files replaced whole or not at all (a failed write is
a UserError naming the file), and `.sesreport-manifest.json`, which records every document any build
made there: saving merges this build's changes into what is on disk, under a lock on the folder, so
that builds with different selections all stay listed (and so does the index page, see preview).
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .errors import Problem, UserError, display_path
from .fingerprint import sha256_bytes

MANIFEST = ".sesreport-manifest.json"
LOCK = ".sesreport.lock"
GENERATION = ".sesreport-generation"
TEMP_PREFIX = ".sesreport-tmp-"
QUICK = "_quick"


class Superseded(Exception):
    """A newer build owns the output folder: this process must not write into it any more."""


def atomic_write(path: Path, data: bytes, generation: str | None = None) -> None:
    """Write to a temporary file beside the target, then rename: never a half-written file.

    With `generation`, the rename happens only while the output folder still belongs to the build
    of that generation, so an orphan of a killed build never replaces a newer build's file.
    """
    # one temporary file per process and thread: the annexes of several languages write the same shared
    # exports (`ses.csv`), and two threads of a build can finish them at once
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if generation is not None and current_generation(_root_of(path)) != generation:
            raise Superseded(f"{path.name}: a newer build owns the output folder")
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, a read-only folder or file system, a file in the way
        raise UserError(Problem(display_path(path), None, f"cannot write the file ({exc.strerror or exc})",
                                "check the output folder's permissions and free space, or pass another "
                                "--out")) from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def _root_of(path: Path) -> Path:
    """The output folder a document file belongs to (the one holding the generation file)."""
    for parent in path.parents:
        if (parent / GENERATION).exists():
            return parent
    return path.parent


def current_generation(out: Path) -> str | None:
    try:
        return (out / GENERATION).read_text(encoding="ascii").strip()
    except OSError:
        return None


class OutputLock:
    """Exclusive ownership of an output folder for one build.

    The lock is an `flock` on `OUT/.sesreport.lock`; forked workers share it, so a new build also
    waits for the workers of a killed one. Each build writes a new generation id, which every
    atomic write checks before its rename. Temporary folders of builds that no longer run are
    removed when the next build starts; the build's own when it ends.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.generation = uuid.uuid4().hex
        self.temp: Path | None = None
        self._fh: IO[str] | None = None

    def __enter__(self) -> OutputLock:
        check_output_folder(self.out)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self._fh = (self.out / LOCK).open("a+")
        except OSError as exc:
            raise UserError(Problem(display_path(self.out), None,
                                    f"the output folder cannot be used ({exc.strerror or exc})",
                                    "check its permissions, or pass another --out")) from None
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX)
        _check_writable(self.out)
        _remove_leftovers(self.out)
        atomic_write(self.out / GENERATION, self.generation.encode("ascii"))
        self.temp = self.out / f"{TEMP_PREFIX}{self.generation}"
        self.temp.mkdir()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.temp is not None:
            shutil.rmtree(self.temp, ignore_errors=True)
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()


def check_output_folder(out: Path) -> None:
    """The output folder is a folder, or can become one: neither it nor a parent is a file, and the
    nearest existing parent takes a new folder."""
    for path in [out, *out.parents]:
        if not path.exists():
            continue
        if not path.is_dir():
            what = "is a file" if path.is_file() else "is not a folder"
            whose = "" if path == out else f", so {display_path(out)} cannot be an output folder"
            raise UserError(Problem(display_path(path), None, f"{what}{whose}", "pass --out with a folder"))
        if path != out and not os.access(path, os.W_OK | os.X_OK):
            raise UserError(Problem(display_path(path), None,
                                    f"is read-only, so the output folder {display_path(out)} cannot be made there",
                                    "pass --out with a folder you can write in"))
        return


def _check_writable(out: Path) -> None:
    """Every folder a build writes in must take a new file, before anything is written: a read-only
    folder would otherwise leave its documents' stale files in place, looking current."""
    for folder in [out, *sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))]:
        probe = folder / f"{TEMP_PREFIX}probe-{os.getpid()}"
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            probe.unlink()
        except OSError as exc:
            raise UserError(Problem(display_path(folder), None,
                                    f"cannot write in this output folder ({exc.strerror or exc})",
                                    "make it writable with chmod u+w, or pass another --out")) from None


def _remove_leftovers(out: Path) -> None:
    """Temporary folders and half-written files of builds that were killed (we hold the lock, so
    no other build is running)."""
    for folder in out.glob(f"{TEMP_PREFIX}*"):
        shutil.rmtree(folder, ignore_errors=True)
    for tmp in list(out.glob(".*.tmp")) + list(out.glob("*/.*.tmp")):
        tmp.unlink(missing_ok=True)


class Manifest(dict):
    """The manifest as loaded, remembering what it held then, so that saving it writes only the
    changes this build made and keeps what another build recorded in the meantime."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.loaded: dict[str, Any] = copy.deepcopy(data)


def load_manifest(out: Path) -> Manifest:
    path = out / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return Manifest({})
    return Manifest(data if isinstance(data, dict) else {})


@contextmanager
def manifest_lock(out: Path) -> Iterator[None]:
    """An exclusive `flock` on the output folder itself, held while the manifest or the index page is
    read and rewritten (separate from OutputLock's, so a build holding that one can take it too)."""
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def save_manifest(out: Path, manifest: dict) -> None:
    """Write this build's changes (entries added, replaced or removed since `load_manifest`) into the
    manifest as it is on disk now."""
    with manifest_lock(out):
        merged = merge(load_manifest(out), manifest, getattr(manifest, "loaded", {}))
        atomic_write(out / MANIFEST, json.dumps(merged, indent=1, sort_keys=True).encode())


def merge(disk: dict, ours: dict, base: dict) -> dict:
    """Three-way merge: what is on disk, with the keys this build changed from `base` (its snapshot)
    set to its values; a key it removed goes unless another build has rewritten it since."""
    merged = dict(disk)
    for key in set(ours) | set(base):
        if key == QUICK:
            merged[QUICK] = merge(disk.get(QUICK) or {}, ours.get(QUICK) or {}, base.get(QUICK) or {})
        elif key not in ours:
            if disk.get(key) == base.get(key):
                merged.pop(key, None)
        elif ours[key] != base.get(key):
            merged[key] = ours[key]
    return merged


def up_to_date(entry: dict | None, digest: str | None, out: Path) -> bool:
    """The manifest records this digest and every output is on disk with the recorded content."""
    if not entry or digest is None or entry.get("hash") != digest:
        return False
    for rel, sha in entry.get("outputs", {}).items():
        path = out / rel
        if not path.is_file() or sha256_bytes(path.read_bytes()) != sha:
            return False
    return True


def inputs_digest(selection: str, folders: list[Path], salt: str) -> str:
    """Every file under the folders, by name and content (dotfiles aside, but for `.fetch.json`)."""
    h = hashlib.sha256(f"{selection}|{salt}".encode())
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and (not path.name.startswith(".") or path.name == ".fetch.json"):
                h.update(str(path.relative_to(folder)).encode())
                h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def quick_unchanged(manifest: dict, selection: str, fingerprint: str, out: Path) -> list[str] | None:
    """The documents of the last build of this selection, when none of its inputs has changed."""
    record = manifest.get(QUICK, {}).get(selection)
    if not record or record.get("fingerprint") != fingerprint:
        return None
    keys = record.get("jobs", [])
    if not keys or not all(up_to_date(manifest.get(k), manifest.get(k, {}).get("hash"), out) for k in keys):
        return None
    return keys

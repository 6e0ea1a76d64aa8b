"""The output folder: atomic writes, the manifest of what was built from which inputs, and the lock
that keeps two builds (or the orphans of a killed one) from writing into it at once."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import IO

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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if generation is not None and current_generation(_root_of(path)) != generation:
            raise Superseded(f"{path.name}: a newer build owns the output folder")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


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
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self._fh = (self.out / LOCK).open("a+")
        except (NotADirectoryError, FileExistsError):
            raise UserError(Problem(display_path(self.out), None, "the output folder is a file",
                                    "pass --out with a folder")) from None
        except PermissionError:
            raise UserError(Problem(display_path(self.out), None, "the output folder cannot be written",
                                    "check its permissions or pass another --out")) from None
        except OSError as exc:
            raise UserError(Problem(display_path(self.out), None, f"the output folder cannot be used ({exc.strerror})",
                                    "pass another --out")) from None
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX)
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


def _remove_leftovers(out: Path) -> None:
    """Temporary folders and half-written files of builds that were killed (we hold the lock, so
    no other build is running)."""
    for folder in out.glob(f"{TEMP_PREFIX}*"):
        shutil.rmtree(folder, ignore_errors=True)
    for tmp in list(out.glob(".*.tmp")) + list(out.glob("*/.*.tmp")):
        tmp.unlink(missing_ok=True)


def load_manifest(out: Path) -> dict:
    path = out / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def save_manifest(out: Path, manifest: dict) -> None:
    atomic_write(out / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())


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

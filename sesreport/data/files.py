"""A data folder and sources.yaml in; which file belongs to which source, its hash and its vintage out.

Nothing outside the data folder is read: a path in sources.yaml that is absolute or leads out of the
folder (`../`), and a symbolic link to a file elsewhere, are refused with a problem before the file
is opened, and the problem never quotes the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from ..errors import Problem, Severity, display_path
from ..yamlio import Located
from .sources import SourceDecl, SourcesFile

if TYPE_CHECKING:  # the readers bring pandas: a rebuild with nothing changed never needs them
    from . import readers

DATA_SUFFIXES = (".csv", ".xlsx", ".xls", ".zip", ".dta")
COMPANION_NAMES = {"datapackage.json", "sources.yaml", "readme.md", "sources.md"}
_FILENAME_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def match_files(cfg: SourcesFile, data_dir: Path, shown_data: str,
                located: Located | None = None) -> tuple[list[tuple[SourceDecl, Path]], list[Problem]]:
    """Files for each declared source. A file named outright belongs to its entry even when a glob
    of another entry also matches it; two globs matching one file is reported. A path leading
    outside the data folder is refused (see :func:`find`)."""
    problems: list[Problem] = []
    taken: dict[Path, tuple[str, bool]] = {}  # path -> (source id, taken through a glob)
    found: dict[str, list[Path]] = {d.id: [] for d in cfg.sources}
    index = {d.id: i for i, d in enumerate(cfg.sources)}
    patterns = [(decl, pattern) for decl in cfg.sources for pattern in decl.paths]
    for decl, pattern in sorted(patterns, key=lambda dp: _is_glob(dp[1])):
        glob = _is_glob(pattern)
        where = _where(located, ("sources", index[decl.id], "path"), shown_data)
        paths, refused = find(data_dir, pattern, where, f"source '{decl.id}'")
        problems.extend(refused)
        if not paths and not refused:
            severity: Severity = "error" if (decl.required or not glob) else "warning"
            what = "no file matches" if glob else "file not found:"
            problems.append(Problem(
                shown_data, None, f"source '{decl.id}': {what} {pattern}",
                "download it (python generate.py fetch …), fix the path in sources.yaml, or remove the entry"
                if severity == "error" else "skipped; this source is optional", severity))
        for path in paths:
            if path in taken:
                owner, by_glob = taken[path]
                if by_glob and owner != decl.id:
                    problems.append(Problem(display_path(path), None,
                                            f"matched by sources '{owner}' and '{decl.id}'; read as '{owner}'",
                                            "make the paths in sources.yaml more specific", "warning"))
                continue
            taken[path] = (decl.id, glob)
            found[decl.id].append(path)
    out = [(decl, path) for decl in cfg.sources for path in sorted(found[decl.id])]
    return out, problems


def _where(located: Located | None, at: tuple, fallback: str) -> tuple[str, int | None]:
    """The file and line of a value of sources.yaml, for a message."""
    if located is None:
        return fallback, None
    return located.file, located.line_of(at)


def find(data_dir: Path, pattern: str, where: tuple[str, int | None],
         what: str) -> tuple[list[Path], list[Problem]]:
    """The files a path or glob of sources.yaml names inside the data folder, and a problem for each
    one refused: an absolute path, a path leading out of the folder, a link to a file elsewhere.

    Nothing refused is opened; only its name is looked at (and the link's target, never its content)."""
    file, line = where
    hint = "copy the file into the data folder and give its path relative to the folder"
    if PurePath(pattern).is_absolute() or pattern.startswith("~"):
        return [], [Problem(file, line, f"{what}: the path '{pattern}' is absolute; paths are relative to the "
                                        "data folder, and nothing outside it is read", hint)]
    if _is_glob(pattern):
        candidates = sorted(p for p in data_dir.glob(pattern) if p.is_file())
    else:
        candidates = [data_dir / pattern] if (data_dir / pattern).is_file() else []
    paths, problems = [], []
    for path in candidates:
        refusal = outside(data_dir, path, file, line, what)
        if refusal is None:
            paths.append(path)
        else:
            problems.append(refusal)
    return paths, problems


def outside(data_dir: Path, path: Path, file: str | None = None, line: int | None = None,
            what: str = "") -> Problem | None:
    """A problem when `path` (followed through any symbolic link) lies outside the data folder."""
    root, target = data_dir.resolve(), Path(os.path.realpath(path))  # realpath: no error on a link loop
    if root in target.parents:
        return None
    shown = str(path.relative_to(data_dir)) if path.is_relative_to(data_dir) else display_path(path)
    prefix = f"{what}: " if what else ""
    how = "is a link to a file outside the data folder" if _is_link(data_dir, path) else \
        "leads outside the data folder"
    return Problem(file or display_path(path), line,
                   f"{prefix}'{shown}' {how}; refused, nothing outside the data folder is read",
                   "copy the file into the data folder instead of linking to it or naming a path outside it")


def links_leading_out(folder: Path) -> list[Path]:
    """Symbolic links under `folder` whose target lies outside it (found without opening anything)."""
    if not folder.is_dir():
        return []
    root = folder.resolve()
    out = []
    for here, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(here) / name
            if path.is_symlink() and root not in Path(os.path.realpath(path)).parents:
                out.append(path)
    return sorted(out)


def _is_link(data_dir: Path, path: Path) -> bool:
    """Whether a symbolic link on the way from the data folder to `path` leads elsewhere."""
    probe = path
    while probe != data_dir and probe != probe.parent:
        if probe.is_symlink():
            return True
        probe = probe.parent
    return False


def undeclared(data_dir: Path, used: set[Path], cfg: SourcesFile) -> list[str]:
    """Data files in the folder that no source declares (nor reads along with a declared one)."""
    country_files = set(data_dir.glob(cfg.countries.path))
    out = []
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path in used or path in country_files:
            continue
        if path.name.lower() in COMPANION_NAMES or path.name.startswith("."):
            continue
        if path.suffix.lower() not in DATA_SUFFIXES:
            continue
        if path.name.startswith(("Metadata_", )) or "Series - Metadata" in path.name:
            continue
        out.append(str(path.relative_to(data_dir)))
    return out


def inside(data_dir: Path, relative: str) -> Path | None:
    """`relative` under the data folder, or None when it would lead outside it (through `..`, an
    absolute path or a symbolic link)."""
    root = data_dir.resolve()
    path = (data_dir / relative).resolve()
    return path if path == root or root in path.parents else None


def fetch_records(data_dir: Path) -> dict[str, tuple[str, str]]:
    """Files that `generate.py fetch` downloaded: relative path -> (sha256, date fetched)."""
    path = data_dir / ".fetch.json"
    if inside(data_dir, ".fetch.json") is None:
        return {}
    try:
        urls = json.loads(path.read_text(encoding="utf-8")).get("urls", {})
    except (OSError, ValueError, AttributeError):
        return {}
    out = {}
    for record in urls.values():
        fetched = str(record.get("fetched", ""))[:10]
        for rel, sha in (record.get("files") or {}).items():
            out[rel] = (sha, fetched)
    return out


def vintage(raw: readers.RawTable, decl: SourceDecl, path: Path, rel: str, digest: str,
            fetched: dict[str, tuple[str, str]], problems: list[Problem], shown: str) -> tuple[str | None, str | None]:
    """The vintage of a file: as the file states it, else the date in its name, else the day it was
    downloaded by `generate.py fetch` (if unchanged since), else as declared in sources.yaml.

    A declared vintage that contradicts the one the file states is a warning: the file's own wins."""
    if raw.vintage:
        if decl.vintage and decl.vintage != raw.vintage:
            problems.append(Problem(
                shown, None, f"sources.yaml declares vintage {decl.vintage.isoformat()} for source '{decl.id}', "
                             f"but the file states {raw.vintage.isoformat()} ({raw.vintage_from}); the file's is used",
                "remove the vintage from sources.yaml, or check that this is the file you meant", "warning"))
        return raw.vintage.isoformat(), raw.vintage_from
    from .readers import parse_date

    match = _FILENAME_DATE.search(path.name)
    if match:
        found = parse_date(match.group(1))
        if found:
            return found.isoformat(), "file name"
    record = fetched.get(rel)
    if record and record[0] == digest and parse_date(record[1]):
        return record[1], "downloaded"
    if decl.vintage:
        return decl.vintage.isoformat(), "sources.yaml"
    return None, None

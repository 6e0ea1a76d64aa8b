"""A data folder and sources.yaml in; which file belongs to which source, its hash and its vintage out."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from ..errors import Problem, Severity, display_path
from . import readers
from .sources import SourceDecl, SourcesFile

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


def match_files(cfg: SourcesFile, data_dir: Path,
                shown_data: str) -> tuple[list[tuple[SourceDecl, Path]], list[Problem]]:
    """Files for each declared source. A file named outright belongs to its entry even when a glob
    of another entry also matches it; two globs matching one file is reported."""
    problems: list[Problem] = []
    taken: dict[Path, tuple[str, bool]] = {}  # path -> (source id, taken through a glob)
    found: dict[str, list[Path]] = {d.id: [] for d in cfg.sources}
    patterns = [(decl, pattern) for decl in cfg.sources for pattern in decl.paths]
    for decl, pattern in sorted(patterns, key=lambda dp: _is_glob(dp[1])):
        glob = _is_glob(pattern)
        if glob:
            paths = sorted(p for p in data_dir.glob(pattern) if p.is_file())
        else:
            paths = [data_dir / pattern] if (data_dir / pattern).is_file() else []
        if not paths:
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
    """`relative` under the data folder, or None when it would lead outside it."""
    root = data_dir.resolve()
    path = (data_dir / relative).resolve()
    return path if path == root or root in path.parents else None


def fetch_records(data_dir: Path) -> dict[str, tuple[str, str]]:
    """Files that `generate.py fetch` downloaded: relative path -> (sha256, date fetched)."""
    path = data_dir / ".fetch.json"
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
    match = _FILENAME_DATE.search(path.name)
    if match:
        found = readers.parse_date(match.group(1))
        if found:
            return found.isoformat(), "file name"
    record = fetched.get(rel)
    if record and record[0] == digest and readers.parse_date(record[1]):
        return record[1], "downloaded"
    if decl.vintage:
        return decl.vintage.isoformat(), "sources.yaml"
    return None, None

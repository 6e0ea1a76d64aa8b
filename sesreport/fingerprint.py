"""Fingerprints of a build's inputs: code, templates, observations and index results, as digests.

A document is rebuilt only when the digest of its inputs differs from the one in the manifest.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
from importlib.metadata import entry_points, version
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent
LIBRARIES = ("weasyprint", "matplotlib", "babel", "jinja2", "font-source-sans-pro", "font-source-serif-pro")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_digest(folders: list[Path], pattern: str = "*") -> str:
    """Names and contents of every file under the folders (missing folders count as empty)."""
    h = hashlib.sha256()
    for folder in folders:
        h.update(f"[{folder.name}]".encode())
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob(pattern)):
            if path.is_file():
                h.update(path.relative_to(folder).as_posix().encode())
                h.update(path.read_bytes())
    return h.hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """The package's own code and the versions of the libraries that shape the output (worked out once
    a process: a running process runs the code it started with, and a build asks twice)."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")) + sorted((PACKAGE / "locale").rglob("*.po")):
        h.update(path.relative_to(PACKAGE).as_posix().encode())
        h.update(path.read_bytes())
    for package in LIBRARIES:
        h.update(f"{package}={version(package)}".encode())
    for entry in sorted(entry_points(group="sesreport.documents"), key=lambda e: e.name):
        h.update(f"kind {entry.name}={entry.value}".encode())
        h.update(_module_digest(entry.value.partition(":")[0]).encode())
    return h.hexdigest()


def _module_digest(module: str) -> str:
    """The source of a plug-in kind's module (its whole package folder, templates included), found
    without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return "-"
    if spec is None or not spec.origin or not Path(spec.origin).is_file():
        return "-"
    origin = Path(spec.origin)
    if origin.name == "__init__.py":
        return tree_digest([origin.parent])
    return sha256_bytes(origin.read_bytes())


def templates_fingerprint(folders: list[Path]) -> str:
    return tree_digest(folders)


class DataFingerprints:
    """A digest per (country, indicator) of the resolved observations, computed once per run."""

    def __init__(self, ds: Any) -> None:
        import pandas as pd

        res = ds.resolved
        cols = ["iso3", "indicator", "year", "value", "sex", "breakdown", "source_id", "source_code", "vintage",
                "file", "line", "estimate", "break"]
        row_hash = pd.util.hash_pandas_object(res[cols], index=False).to_numpy()
        frame = pd.DataFrame({"iso3": res["iso3"], "indicator": res["indicator"], "h": row_hash})
        grouped = frame.groupby(["iso3", "indicator"], sort=False)["h"]
        sums = grouped.sum()  # wraps modulo 2**64: order-independent
        counts = grouped.size().reindex(sums.index)
        self.digests = {k: f"{s}:{n}" for k, s, n in zip(sums.index, sums.to_numpy().tolist(),
                                                           counts.to_numpy().tolist())}
        meta = [ds.illustrative, ds.notice, ds.countries.vintage,
                [(f.source_id, f.path, f.vintage, f.title, f.licence, f.attribution, f.url) for f in ds.files]]
        self.meta = hashlib.sha256(json.dumps(meta, sort_keys=True, default=str).encode()).hexdigest()

    def of(self, countries: list[str], indicators: list[str]) -> str:
        h = hashlib.sha256(self.meta.encode())
        for c in sorted(countries):
            for i in sorted(indicators):
                h.update(f"{c}|{i}|{self.digests.get((c, i), '-')};".encode())
        return h.hexdigest()


class IndexDigests:
    """A digest per country of what a document prints from a composite index, rounded as printed."""

    def __init__(self, result: Any) -> None:
        values = result.values.round(2)
        rows = [[repr(v) for v in row] for row in values.to_numpy().tolist()]
        for parts, ranks in zip(rows, result.ranks.to_numpy().tolist()):
            parts += [str(r) for r in ranks]
        for parts, cluster in zip(rows, result.clusters.reindex(values.index).tolist()):
            parts.append(str(cluster))
        if result.sensitivity is not None:
            low = result.sensitivity.rank_p05.reindex(values.index).tolist()
            high = result.sensitivity.rank_p95.reindex(values.index).tolist()
            for parts, lo, hi in zip(rows, low, high):
                parts += [str(lo), str(hi)]
        self.by_country = {iso3: "|".join(parts) for iso3, parts in zip(values.index, rows)}
        self.label = str(result.label) + str(result.reference_year)

    def of(self, countries: list[str]) -> str:
        h = hashlib.sha256(self.label.encode())
        for c in sorted(countries):
            h.update(f"{c}:{self.by_country.get(c, '-')};".encode())
        return h.hexdigest()


class Fingerprints:
    """The digests of one run, shared by every kind's `fingerprint`."""

    def __init__(self, ds: Any, indices: dict[str, Any]) -> None:
        self.data = DataFingerprints(ds)
        self.index = {i: IndexDigests(r) for i, r in indices.items()}


def job_digest(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()

"""Index results cached on disk, so that a rebuild does not recompute an index whose inputs did not move.

The key is what the index is computed from and nothing more: the latest values (with their years and
provenance) that :func:`~.compute.prepare` takes from the data for the index's indicators up to the
reference year, the audit's plausibility measures, the validated index specification and the index
code. A correction to any other value of the data (another indicator, or a year after the reference
year) reuses the result; a change to any of the inputs computes afresh. The cache is this program's
own (pickle), never shared.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .compute import Latest, prepare
from .config import IndexSpec
from .result import IndexResult


def _code_hash() -> str:
    h = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def inputs_key(spec: IndexSpec, latest: Latest, measures: dict[str, pd.Series]) -> str:
    """A digest of everything the index result is computed from (see the module's docstring): the
    specification by its content, not by where its file is (a configuration folder given by another
    path reuses the result)."""
    h = hashlib.sha256()
    anywhere = dataclasses.replace(spec, file=Path(spec.file).name)
    for part in (repr(anywhere), _code_hash(), repr((latest.countries, latest.codes, latest.reference_year,
                                                  latest.duplicates))):
        h.update(part.encode())
        h.update(b"\0")
    for array in (latest.values, latest.years):
        h.update(np.ascontiguousarray(array, dtype=float).tobytes())
    for column in sorted(latest.provenance):
        h.update(repr((column, latest.provenance[column].tolist())).encode())
    for code in sorted(measures):
        series = measures[code]
        h.update(repr((code, tuple(series.index))).encode())
        h.update(series.to_numpy(dtype=float).tobytes())
    return h.hexdigest()[:24]


def cached_index(spec: IndexSpec, ds, cache_dir: Path) -> IndexResult:
    """The index of `spec` on `ds`, from the cache when a result for the same inputs is on disk."""
    from . import build_from, plausibility_measures

    prepared = prepare(spec, ds)
    measures = plausibility_measures(spec, ds, prepared.latest)
    path = Path(cache_dir) / f"index-{spec.id}-{inputs_key(spec, prepared.latest, measures)}.pickle"
    try:
        with path.open("rb") as fh:
            return _from(pickle.load(fh), spec)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    result = build_from(spec, prepared, measures)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".index-")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        # keep the few most recent results (several data folders may be in use)
        results = sorted(path.parent.glob(f"index-{spec.id}-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in results[6:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
    return result


def _from(result: IndexResult, spec: IndexSpec) -> IndexResult:
    """A kept result, naming the index file where this run found it (the same content elsewhere)."""
    if result.spec.file == spec.file:
        return result
    method = dict(result.method)
    if isinstance(method.get("index"), dict):
        method["index"] = {**method["index"], "file": spec.file}
    return dataclasses.replace(result, spec=spec, method=method)

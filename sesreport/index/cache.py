"""Index results cached on disk, so that a rebuild with nothing changed does not recompute them.

The key is the dataset's content key, the validated index specification and the index code; a
change to any of them computes afresh. The cache is this program's own (pickle), never shared.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from .config import IndexSpec
from .result import IndexResult


def _code_hash() -> str:
    h = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cached_index(spec: IndexSpec, ds, cache_dir: Path, build) -> IndexResult:
    """`build(spec, ds)` unless a result for the same data, specification and code is on disk."""
    key = hashlib.sha256("|".join([ds.key, repr(spec), _code_hash()]).encode()).hexdigest()[:24]
    path = Path(cache_dir) / f"index-{spec.id}-{key}.pickle"
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    result = build(spec, ds)
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

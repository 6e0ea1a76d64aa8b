"""Each chart drawn once for the same data: a drawn chart kept on disk under the digest of what it
is drawn from.

    chartcache.draw("trend", history, band, ind, name, peer_label, lang, size, min_peers)

gives what `charts.trend(...)` gives. The key is a digest of every argument (tables by their values,
index, columns and types; an indicator by its whole definition; a language by its code) and of
everything else a drawing reads: the package's code and translations, the font files and the
versions of matplotlib, numpy, pandas and Babel (which formats the numbers). A chart whose key is
in the cache folder is read back (and matplotlib is not imported at all when every chart of a
document is); any other is drawn and kept. An argument the digest cannot describe exactly is never
guessed at: that chart is drawn and not kept.

The folder is the build's cache folder (`use`, set for each worker); without one, every chart is
drawn. Entries are written whole or not at all, and the least recently used beyond `KEEP` are removed
by `prune` after a build.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import os
import pickle
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from . import fonts
from .chartspec import Chart
from .i18n import Lang

KEEP = 5000  # charts kept in the folder (a brief draws six to nine)
FOLDER = "charts"
_folder: Path | None = None


def use(cache_dir: Path | str | None) -> None:
    """Keep charts under `cache_dir` (None: draw every chart, keep none)."""
    global _folder
    _folder = Path(cache_dir) / FOLDER if cache_dir is not None else None


def draw(name: str, *args: Any, **kwargs: Any) -> Chart | None:
    """`charts.<name>(*args, **kwargs)` (a chart, or None when there is nothing to draw), from the
    cache when it was drawn from the same inputs."""
    folder = _folder
    try:
        key = digest(name, args, kwargs) if folder is not None else None
    except TypeError:  # an argument without an exact digest: draw it, keep nothing
        key = None
    if folder is not None and key is not None:
        path = folder / f"{key}.pickle"
        try:
            with path.open("rb") as fh:
                made = pickle.load(fh)
            os.utime(path)  # recently used: pruned last
            return made
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass
    from . import charts

    made = getattr(charts, name)(*args, **kwargs)
    if folder is not None and key is not None:
        _write(folder, key, made)
    return made


def _write(folder: Path, key: str, made: Chart | None) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".chart-")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(made, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / f"{key}.pickle")
    except OSError:
        pass


def prune(cache_dir: Path | str) -> None:
    """Remove the least recently used charts beyond `KEEP` from the folder under `cache_dir`."""
    folder = Path(cache_dir) / FOLDER
    try:
        entries = [(p.stat().st_mtime_ns, p) for p in folder.glob("*.pickle")]
    except OSError:
        return
    for _, path in sorted(entries, reverse=True)[KEEP:]:
        path.unlink(missing_ok=True)


def digest(name: str, args: tuple, kwargs: dict[str, Any]) -> str:
    """The key of a chart: its function, its arguments and what every drawing depends on."""
    h = hashlib.sha256(_environment().encode())
    _feed(h, (name, args, sorted(kwargs.items())))
    return h.hexdigest()[:32]


@cache
def _environment() -> str:
    """What a drawing reads besides its arguments: the package's code and translations and the
    libraries that shape the output (`fingerprint.code_fingerprint`), numpy and pandas, and the font
    files (read once a process: a running process draws with what it started with)."""
    from .fingerprint import code_fingerprint

    h = hashlib.sha256(code_fingerprint().encode())
    h.update(" ".join(importlib.metadata.version(package) for package in ("numpy", "pandas")).encode())
    for folder in fonts.font_dirs():
        for path in sorted(folder.glob("*")):
            if path.is_file():
                stat = path.stat()
                h.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return h.hexdigest()


def _feed(h: Any, value: Any) -> None:
    """Add `value` to the digest `h`, with its type, so that no two different values feed alike.
    Raises TypeError for a value it cannot describe exactly."""
    if value is None or isinstance(value, (bool, int, float, str, np.integer, np.floating, np.bool_)):
        h.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, (tuple, list)):
        h.update(f"{type(value).__name__}[{len(value)}](".encode())
        for item in value:
            _feed(h, item)
        h.update(b")")
    elif isinstance(value, dict):
        h.update(f"dict[{len(value)}](".encode())
        for k, v in value.items():  # in order: a chart may draw in the order it is given
            _feed(h, k)
            _feed(h, v)
        h.update(b")")
    elif isinstance(value, pd.DataFrame):
        h.update(f"frame{value.shape}(".encode())
        _feed(h, value.index)
        for column in value.columns:  # each column's values: the index is the frame's, fed once
            _feed(h, column)
            _feed_values(h, value[column])
        h.update(b")")
    elif isinstance(value, (pd.Series, pd.Index)):
        h.update(f"{type(value).__name__}:{value.name!r}".encode())
        if isinstance(value, pd.Series):
            _feed(h, value.index)
        _feed_values(h, value)
    elif isinstance(value, np.ndarray) and value.dtype != object:
        h.update(f"array{value.shape}:{value.dtype};".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, Lang):
        h.update(f"lang:{value.code};".encode())
    elif isinstance(value, BaseModel):
        h.update(f"{type(value).__qualname__}:{value.model_dump_json()};".encode())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(f"{type(value).__qualname__}(".encode())
        for f in dataclasses.fields(value):
            _feed(h, f.name)
            _feed(h, getattr(value, f.name))
        h.update(b")")
    else:
        raise TypeError(f"no exact digest for {type(value).__name__}")


def _feed_values(h: Any, values: pd.Series | pd.Index) -> None:
    """The values of a column or an index, with their type: a range by its bounds, a categorical by its
    categories and codes, numbers by their bytes, texts as one JSON list (exact for texts); anything
    else value by value."""
    h.update(f"{values.dtype}[{len(values)}]".encode())
    if isinstance(values, pd.RangeIndex):
        h.update(f"range({values.start},{values.stop},{values.step});".encode())
    elif isinstance(values.dtype, pd.CategoricalDtype):
        h.update(f"ordered:{values.dtype.ordered};".encode())
        _feed(h, values.dtype.categories)
        _feed(h, np.asarray(values.array.codes))
    elif values.dtype.kind in "biuf":
        _feed(h, values.to_numpy())
    else:
        items = values.tolist()
        if all(type(item) is str for item in items):
            h.update(f"texts:{json.dumps(items)};".encode())
        else:
            _feed(h, items)

"""A loaded dataset in, Parquet tables under a content key out (and back): the data cache.

The key covers the content of every input (data files and the files read with them, sources.yaml,
the catalog, the country names, the fetch record) and the data layer's own code, so a cached
dataset is never stale. Writes are atomic: a cache folder appears whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from ..catalog import Catalog
from ..errors import Problem
from .countries import CountryRef
from .dataset import Dataset, FileInfo

CACHE_SCHEMA = 5  # 5: the text columns of obs and aggregates are categorical
TABLES = ("obs", "resolved", "aggregates", "unresolved", "unmapped")
KEEP = 4  # cached datasets kept; older ones are removed


def default_cache_dir(config_dir: Path | str | None = None) -> Path:
    """`$SESREPORT_CACHE`, else `.cache` beside the config folder (the project's root).

    Without a config folder, the project's own (`config/` next to the package, in a checkout), else
    `./config`."""
    env = os.environ.get("SESREPORT_CACHE")
    if env:
        return Path(env)
    if config_dir is None:
        checkout = Path(__file__).resolve().parents[2] / "config"
        config_dir = checkout if checkout.is_dir() else Path("config")
    return (Path(config_dir).resolve().parent / ".cache").resolve()


def code_hash() -> str:
    """The data layer's own source, so that a code change never serves a stale cache."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(here.rglob("*.py")) + [here.parent / "catalog.py"]:
        h.update(str(path.relative_to(here.parent)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def write(root: Path, name: str, ds: Dataset) -> None:
    """Store a dataset under `root/name`; a failure to write leaves no trace and is not an error."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        for table in TABLES:
            getattr(ds, table).to_parquet(tmp / f"{table}.parquet", index=False)
        for cid, cl in ds.classifications.items():
            cl.to_parquet(tmp / f"classification.{cid}.parquet", index=False)
        ds.countries.table.to_parquet(tmp / "countries.parquet")
        ref = ds.countries
        meta = {
            "files": [f.__dict__ for f in ds.files],
            "problems": [p.as_dict() for p in ds.problems],
            "illustrative": ds.illustrative,
            "notice": ds.notice,
            "countries": {"file": ref.file, "vintage": ref.vintage, "aggregates": sorted(ref.aggregate_codes),
                          "names": ref._names, "spelling": ref._spelling,
                          "aggregate_names": sorted(ref._aggregate_names), "code_aliases": ref._code_aliases,
                          "display": ref.display, "choice": ref.choice},
        }
        (tmp / "meta.json").write_text(json.dumps(meta, sort_keys=True), encoding="utf-8")
        final = root / name
        if final.exists():
            # the key is the content: another process has written the same thing meanwhile
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return
    caches = sorted((p for p in root.glob("data-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in caches[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


def _sorted_categories(df: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns (stored as Parquet dictionaries) with their categories sorted, as they were
    written: sorting by such a column then sorts by its text."""
    for col in df.columns:
        if isinstance(df[col].dtype, pd.CategoricalDtype) and not df[col].cat.categories.is_monotonic_increasing:
            df[col] = df[col].cat.reorder_categories(sorted(df[col].cat.categories))
    return df


def read(path: Path, catalog: Catalog, data_dir: Path) -> Dataset | None:
    """The dataset stored at `path`, or None when there is none (or it cannot be read)."""
    if not (path / "meta.json").is_file():
        return None
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        tables = {t: _sorted_categories(pd.read_parquet(path / f"{t}.parquet")) for t in TABLES}
        classifications = {p.name.split(".")[1]: pd.read_parquet(p) for p in path.glob("classification.*.parquet")}
        table = pd.read_parquet(path / "countries.parquet")
        files = [FileInfo(**f) for f in meta["files"]]
    except (OSError, ValueError, TypeError, KeyError, json.JSONDecodeError):
        return None
    c = meta["countries"]
    ref = CountryRef(table, set(c["aggregates"]), c["file"], c["vintage"])
    ref._names = c["names"]
    ref._spelling = c["spelling"]
    ref._aggregate_names = set(c["aggregate_names"])
    ref._code_aliases = c["code_aliases"]
    ref.display = c["display"]
    ref.choice = c.get("choice", "")
    os.utime(path)
    return Dataset(
        obs=tables["obs"], resolved=tables["resolved"], aggregates=tables["aggregates"],
        unresolved=tables["unresolved"], unmapped=tables["unmapped"], classifications=classifications,
        countries=ref, catalog=catalog, files=files, problems=[Problem(**p) for p in meta["problems"]],
        data_dir=data_dir, illustrative=meta["illustrative"], notice=meta["notice"], key=path.name[5:],
        from_cache=True)

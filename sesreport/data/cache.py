"""A loaded dataset in, Arrow tables under a content key out (and back): the data cache.

Two levels. The whole dataset (`data-<key>/`), keyed by the content of every input (data files and
the files read with them, sources.yaml, the catalog, the country names, the fetch record) and the
data layer's own code: an unchanged folder loads without reading a data file. And each data file's
read result (`files/<key>/`: the reader's raw table, before mapping), keyed by that file alone (its
path, size, modification time and digest, the files read along with it, how sources.yaml says to
read it, the code): a new release of one file re-parses that file and takes the others from here,
and of those only what a load needs before mapping (`read_raw_summary`: the description, how many
rows, the area names a WDI file teaches); their rows stay on disk unless a file must be mapped again.
Beside it, the file's mapped tables (`Mapped`, with the problems mapping reported), keyed by the read
result's key, the file's declaration, the catalog and every country name known: mapped again only
when one of those changed.

Neither is ever stale nor trusted blindly: the code's digest is in every key; writes are atomic (a
cache folder appears whole or not at all); a file entry records the digest of each of its tables and
one that does not match, or cannot be read, is removed and the file read again; old entries are
pruned (`KEEP` datasets; file entries beyond `FILE_KEEP` or `FILE_BUDGET` bytes, least recently used
first, never one the current load uses).

Tables are Arrow IPC files (`write_table`), uncompressed unless large: a correction of one value
reads some forty file entries, and an IPC file is read in a twentieth of the time a Parquet file
takes (no decoding; its columns are the bytes read). Mapped tables stay in Arrow until the load
stacks them (`dataset.concat`), so that they are converted to pandas once, not once a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

from ..catalog import Catalog
from ..errors import Problem
from .countries import CountryRef
from .dataset import Dataset, FileInfo
from .mapping import Mapped
from .readers import RawTable

CACHE_SCHEMA = 7  # 5: the text columns of obs and aggregates are categorical; 6: and of resolved; 7: Arrow files
TABLES = ("obs", "resolved", "aggregates", "unresolved", "unmapped")
KEEP = 4  # cached datasets kept; older ones are removed
FILE_SCHEMA = 3  # the layout of a file entry: rows.arrow, classification.arrow, meta.json (2: rows, areas; 3: Arrow)
TABLE = ".arrow"  # the suffix of a stored table
COMPRESS_ABOVE = 64 << 20  # a table of more bytes than this is stored compressed (LZ4)
FILES = "files"  # the folder of file entries, under the cache folder
FILE_KEEP = 400  # file entries kept, beyond those the current load uses
FILE_BUDGET = 2 << 30  # bytes of file entries kept, likewise


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


@cache
def code_hash() -> str:
    """The data layer's own source, so that a code change never serves a stale cache (read once a
    process: a running process runs the code it started with)."""
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
            write_table(getattr(ds, table), tmp / f"{table}{TABLE}", index=False)
        for cid, cl in ds.classifications.items():
            write_table(cl, tmp / f"classification.{cid}{TABLE}", index=False)
        write_table(ds.countries.table, tmp / f"countries{TABLE}")
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
    except (OSError, ValueError, TypeError, NotImplementedError, _arrow_error()):
        shutil.rmtree(tmp, ignore_errors=True)
        return
    caches = sorted((p for p in root.glob("data-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in caches[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


def _sorted_categories(df: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns (stored as Arrow dictionaries) with their categories sorted, as they were
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
        tables = {t: _sorted_categories(read_table(path / f"{t}{TABLE}")) for t in TABLES}
        classifications = {p.name.split(".")[1]: read_table(p) for p in path.glob(f"classification.*{TABLE}")}
        table = read_table(path / f"countries{TABLE}")
        files = [FileInfo(**f) for f in meta["files"]]
    except (OSError, ValueError, TypeError, KeyError, NotImplementedError, _arrow_error()):
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


# --------------------------------------------------------------------------------------------
# One data file's read result


def write_table(df: pd.DataFrame, path: Path, index: bool | None = None) -> None:
    """A DataFrame as an Arrow IPC file (its index kept as `DataFrame.to_parquet` keeps it: `index`),
    compressed when it holds more than `COMPRESS_ABOVE` bytes."""
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=index)
    options = pa.ipc.IpcWriteOptions(compression="lz4" if table.nbytes > COMPRESS_ABOVE else None)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=options) as writer:
        writer.write_table(table)


def load_table(path: Path, digest: str | None = None) -> pa.Table:
    """The Arrow table stored at `path`, each column in one piece; ValueError when `digest` is given and
    the file's digest is another."""
    import pyarrow as pa

    data = path.read_bytes()
    if digest is not None and _digest(data) != digest:
        raise ValueError(f"{path.name} does not match its digest")
    return pa.ipc.open_file(pa.py_buffer(data)).read_all().combine_chunks()


def read_table(path: Path) -> pd.DataFrame:
    """A stored table as the DataFrame that was written, each column in one piece: taking rows from a
    column in pieces (what every document does with the resolved table, indicator by indicator) is
    several times slower."""
    return load_table(path).to_pandas()


def file_key(parts: Iterable[str]) -> str:
    """The key of a file entry: what identifies the file and how it is read, and the code that reads it."""
    lines = [f"file-schema={FILE_SCHEMA}", f"code={code_hash()}", *parts]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:24]


def _digest(data: Path | bytes) -> str:
    """The digest a file entry records of each of its tables (of a file's bytes, or of the bytes given)."""
    return hashlib.sha256(data if isinstance(data, bytes) else data.read_bytes()).hexdigest()


def _arrow_error() -> type[Exception]:
    import pyarrow  # not before it is needed

    return pyarrow.ArrowException


def write_raw(root: Path, key: str, raw: RawTable, file: str) -> bool:
    """Store the raw table of one file (`file`, relative to its data folder, is recorded for whoever looks)
    under `root/files/key`; False (and no trace) when it cannot be written."""
    tables = {"rows": raw.rows} | ({"classification": raw.classification} if raw.classification is not None else {})
    meta = {"kind": "raw", "file": file, "layout": raw.layout,
            "vintage": raw.vintage.isoformat() if raw.vintage else None, "vintage_from": raw.vintage_from,
            "title": raw.title, "licence": raw.licence, "indicator_names": raw.indicator_names,
            "problems": [p.as_dict() for p in raw.problems], "repairs": raw.repairs,
            "codeless_groups": raw.codeless_groups, "rows": len(raw.rows), "areas": area_names(raw.rows)}
    return _write_entry(root / FILES, key, tables, meta)


def area_names(rows: pd.DataFrame) -> list[tuple[str, str]]:
    """The distinct (area code, area name) pairs of a raw table, in the order they first appear."""
    if "area_code" not in rows.columns or "area_name" not in rows.columns:
        return []
    pairs = rows[["area_code", "area_name"]].drop_duplicates().itertuples(index=False)
    return [(code, name) for code, name in pairs if isinstance(code, str) and isinstance(name, str)]


@dataclass(frozen=True)
class RawSummary:
    """A cached raw table without its rows: what a load needs of a file before mapping it."""

    raw: RawTable  # everything the reader gave but the rows (an empty table stands in for them)
    rows: int  # how many rows it has
    areas: list[tuple[str, str]]  # see area_names


def read_raw(root: Path, key: str) -> RawTable | None:
    """The raw table stored under `root/files/key`, or None when there is none (or it was damaged)."""
    found = _raw(root, key, rows=True)
    return found.raw if found is not None else None


def read_raw_summary(root: Path, key: str) -> RawSummary | None:
    """The raw table stored under `root/files/key` without its rows, which are not parsed (their
    digest is checked all the same), or None when there is none (or it was damaged)."""
    return _raw(root, key, rows=False)


def _raw(root: Path, key: str, rows: bool) -> RawSummary | None:
    entry = _read_entry(root / FILES / key, None if rows else ("classification",))
    if entry is None:
        return None
    tables, meta = entry
    try:
        raw = RawTable(
            layout=meta["layout"], rows=tables["rows"].to_pandas() if rows else pd.DataFrame(),
            vintage=date.fromisoformat(meta["vintage"]) if meta["vintage"] else None,
            vintage_from=meta["vintage_from"], title=meta["title"], licence=meta["licence"],
            indicator_names=dict(meta["indicator_names"]), problems=[Problem(**p) for p in meta["problems"]],
            classification=_frame(tables.get("classification")), repairs=list(meta["repairs"]),
            codeless_groups=bool(meta["codeless_groups"]))
        return RawSummary(raw, int(meta["rows"]), [(str(code), str(name)) for code, name in meta["areas"]])
    except (KeyError, TypeError, ValueError):
        shutil.rmtree(root / FILES / key, ignore_errors=True)
        return None


def write_mapped(root: Path, key: str, mapped: Mapped, effects: dict[str, Any], file: str) -> bool:
    """Store one file's mapped tables and what mapping it did besides (`effects`: the problems it
    reported, the indicators it withheld, the repairs it noted) under `root/files/key`."""
    tables = {"obs": mapped.obs, "aggregates": mapped.aggregates, "unresolved": mapped.unresolved,
              "unmapped": mapped.unmapped}
    tables = {name: table for name, table in tables.items() if len(table)}  # an empty one is not stacked
    if mapped.classification is not None:
        tables["classification"] = mapped.classification
    # without their index: the load stacks them with the others' and numbers the rows afresh
    return _write_entry(root / FILES, key, tables, {"kind": "mapped", "file": file, "effects": effects}, index=False)


def read_mapped(root: Path, key: str) -> tuple[Mapped, dict[str, Any]] | None:
    """One file's mapped tables and the effects of mapping it, or None when there are none (or damaged).
    Its tables are Arrow tables, to be stacked with the other files' (`dataset.concat`); its
    classification a DataFrame."""
    entry = _read_entry(root / FILES / key)
    if entry is None:
        return None
    tables, meta = entry
    try:
        empty = pd.DataFrame()
        return Mapped(tables.get("obs", empty), tables.get("aggregates", empty), tables.get("unresolved", empty),
                      tables.get("unmapped", empty), _frame(tables.get("classification"))), dict(meta["effects"])
    except (KeyError, TypeError, ValueError):
        shutil.rmtree(root / FILES / key, ignore_errors=True)
        return None


def _frame(table: pa.Table | None) -> pd.DataFrame | None:
    return table.to_pandas() if table is not None else None


def _write_entry(folder: Path, key: str, tables: dict[str, pd.DataFrame], meta: dict[str, Any],
                 index: bool | None = None) -> bool:
    """Tables (with their index as `write_table` keeps it) and their description written whole to
    `folder/key`, or not at all (False)."""
    tmp: Path | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=folder))
        for name, table in tables.items():
            write_table(table, tmp / f"{name}{TABLE}", index=index)
        meta = meta | {"digests": {name: _digest(tmp / f"{name}{TABLE}") for name in tables}}
        (tmp / "meta.json").write_text(json.dumps(meta, sort_keys=True), encoding="utf-8")
        final = folder / key
        if final.exists():  # another process wrote the same entry meanwhile: the key is the content
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except (OSError, ValueError, TypeError, NotImplementedError, _arrow_error()):
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        return False
    return True


def _read_entry(path: Path, only: Collection[str] | None = None
                ) -> tuple[dict[str, pa.Table], dict[str, Any]] | None:
    """The tables (those named in `only`, default all; Arrow tables) and description stored at `path`,
    exactly as written. An entry that cannot be read, or any of whose tables does not match the digest
    it recorded, is removed, so that what it held is made again."""
    if not path.is_dir():
        return None
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        digests: dict[str, str] = meta["digests"]
        tables = {}
        for name, digest in digests.items():
            if only is None or name in only:
                tables[name] = load_table(path / f"{name}{TABLE}", digest)
            elif _digest(path / f"{name}{TABLE}") != digest:
                raise ValueError(f"{name}{TABLE} does not match its digest")
    except (OSError, ValueError, TypeError, KeyError, NotImplementedError, _arrow_error()):
        shutil.rmtree(path, ignore_errors=True)
        return None
    try:
        os.utime(path)  # recently used: pruned last
    except OSError:
        pass
    return tables, meta


def prune_files(root: Path, used: set[str]) -> None:
    """Remove the least recently used file entries beyond `FILE_KEEP` entries or `FILE_BUDGET` bytes,
    keeping those in `used` (the current load's) whatever their size."""
    folder = root / FILES
    try:
        entries = [p for p in folder.iterdir() if p.is_dir()]
        for p in entries:  # left half-written by a process that was killed
            if p.name.startswith(".") and p.stat().st_mtime < time.time() - 3600:
                shutil.rmtree(p, ignore_errors=True)
        entries = [p for p in entries if not p.name.startswith(".")]
        stamped = sorted(((p.stat().st_mtime, p) for p in entries if p.name not in used), reverse=True)
        total = sum(_size(p) for p in entries if p.name in used)
    except OSError:
        return
    for kept, (_, path) in enumerate(stamped):
        total += _size(path)
        if kept >= FILE_KEEP or total > FILE_BUDGET:
            shutil.rmtree(path, ignore_errors=True)


def _size(path: Path) -> int:
    try:
        return sum(f.stat().st_size for f in path.iterdir())
    except OSError:
        return 0

"""A data folder in; one tidy, traceable observation table out (the `Dataset`).

`load_dataset` reads every file that `sources.yaml` declares (readers), maps each source series
to a catalog indicator and each area to an ISO3 country, keeping aggregates apart (mapping), refuses
duplicates, and picks one value per (country, indicator, year, breakdown) by the declared
precedence, recording the choice (resolve). The result is cached (Arrow files), keyed by the content
of every input; and so are each file's read result, keyed by that file, and its mapped result, keyed
by that and by the catalog and country names, so that after a new release of one file only that file
is parsed and mapped again; the checks across files and resolution run on the whole (cache).

Nothing outside the data folder is read (files). A data file that cannot be read is an error, and so
are values out of their indicator's range and a file on another scale; with `partial=True` (the
build) they do not stop the others: the indicators only an unreadable file would provide, and the
indicators with unusable values, are listed in `Dataset.unavailable` with the problem naming the
file and line, for the documents that print them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..catalog import Catalog, load_catalog
from ..errors import Problem, UserError, display_path
from ..yamlio import Located
from . import cache, readers
from .cache import default_cache_dir
from .countries import Classification, CountryRef, NamesFile, choose_classification, load_names
from .dataset import OBS_COLUMNS, Dataset, FileInfo, concat
from .files import fetch_records, find, inside, match_files, outside, sha256, undeclared, vintage
from .mapping import Mapped, check_duplicates, map_file, report_empty
from .resolve import check_scales, resolve
from .sources import SourceDecl, SourcesFile, load_sources, sources_path

__all__ = ["Dataset", "FileInfo", "OBS_COLUMNS", "default_cache_dir", "load_dataset", "resolve"]


@dataclass
class _Read:
    """One declared file, as read (raw is None when it could not be)."""

    decl: SourceDecl
    path: Path
    shown: str
    raw: readers.RawTable | None
    info: FileInfo
    problem: Problem | None = None  # why it could not be read
    opts: readers.ReadOptions | None = None  # how it was read
    rows: int = 0  # how many rows `raw` has: its rows may have been left in the cache (see _Parsing.rows)
    cached: bool = False  # True when they were


def _replay(effects: dict, info: FileInfo, problems: list[Problem], withheld: dict[str, list[Problem]]) -> None:
    """What mapping a file did besides its tables, as recorded: problems, withheld indicators, repairs."""
    own = [Problem(**p) for p in effects["problems"]]
    problems.extend(own)
    for code, indices in effects["withheld"].items():
        withheld.setdefault(code, []).extend(own[i] for i in indices)
    info.repairs.extend(effects["repairs"])
    info.classifies = bool(effects["classifies"])


@dataclass
class _Parsing:
    """How one load parses its data files: through the file cache under `root` (None: every file is
    parsed and nothing is kept), and what it did with each file."""

    root: Path | None
    companions: dict[Path, list[Path]]  # files read along with each data file
    hashes: dict[str, str]  # digest of every input, by path relative to the data folder
    data_dir: Path
    catalog_path: Path
    parsed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    seconds: float = 0.0  # spent parsing
    keys: set[str] = field(default_factory=set)  # the file entries this load uses
    entries: dict[str, str] = field(default_factory=dict)  # the entry of each data file's read result
    remapped: list[str] = field(default_factory=list)  # the data files mapped afresh

    def read(self, path: Path, shown: str, opts: readers.ReadOptions) -> readers.RawTable | cache.RawSummary:
        """The reader's raw table for one data file, parsed (and kept); or, when the file, the files read
        with it and the way it is read are unchanged, its summary from the cache, the rows left there
        until mapping needs them (:meth:`rows`). Raises FileUnreadable."""
        rel = _relative(path, self.data_dir)
        key = self.key(path, shown, opts) if self.root is not None else ""
        if self.root is not None:
            cached = cache.read_raw_summary(self.root, key)
            if cached is not None:
                self.reused.append(rel)
                self.keys.add(key)
                self.entries[rel] = key
                return cached
        return self._parse(path, shown, opts, rel, key)

    def rows(self, r: _Read) -> readers.RawTable:
        """The raw table of `r` with its rows: from the cache when they were left there (parsed again
        should the entry have gone meanwhile)."""
        assert r.raw is not None
        if not r.cached:
            return r.raw
        rel = r.info.path
        assert self.root is not None and r.opts is not None
        raw = cache.read_raw(self.root, self.entries[rel])
        if raw is not None:
            return raw
        self.reused.remove(rel)
        return self._parse(r.path, r.shown, r.opts, rel, self.entries[rel])

    def _parse(self, path: Path, shown: str, opts: readers.ReadOptions, rel: str, key: str) -> readers.RawTable:
        self.parsed.append(rel)
        start = time.perf_counter()
        try:
            raw = readers.read(path, shown, opts)
        finally:
            self.seconds += time.perf_counter() - start
        if self.root is not None and cache.write_raw(self.root, key, raw, rel):
            self.keys.add(key)
            self.entries[rel] = key
        return raw

    def map(self, r: _Read, context: str, catalog: Catalog, ref: CountryRef, problems: list[Problem],
            withheld: dict[str, list[Problem]]) -> tuple[Mapped, dict[str, Any]]:
        """`map_file` for one read file, and its tally (`Mapped.tally`), from the cache when what was read,
        how sources.yaml declares it, the catalog and the country names (`context`) are unchanged; its
        problems, the indicators it withholds and the repairs it notes are recorded, so that they are the
        same either way."""
        rel = r.info.path
        key = ""
        if self.root is not None and rel in self.entries:
            key = cache.file_key([f"mapped-from={self.entries[rel]}", f"context={context}", f"shown={r.shown}",
                                  f"source={r.decl.model_dump_json()}",
                                  f"info={json.dumps(asdict(r.info), sort_keys=True, default=str)}"])
            found = cache.read_mapped(self.root, key)
            if found is not None:
                mapped, effects = found
                _replay(effects, r.info, problems, withheld)
                self.keys.add(key)
                return mapped, effects["tally"]
        self.remapped.append(rel)
        own: list[Problem] = []
        own_withheld: dict[str, list[Problem]] = {}
        repairs = len(r.info.repairs)
        mapped = map_file(self.rows(r), r.decl, r.info, r.shown, catalog, ref, own, own_withheld)
        effects = {"problems": [p.as_dict() for p in own],
                   "withheld": {code: [next(i for i, q in enumerate(own) if q is p) for p in why]
                                for code, why in own_withheld.items()},
                   "repairs": r.info.repairs[repairs:], "classifies": r.info.classifies, "tally": mapped.tally()}
        problems.extend(own)
        for code, why in own_withheld.items():
            withheld.setdefault(code, []).extend(why)
        if key and cache.write_mapped(self.root, key, mapped, effects, rel):  # type: ignore[arg-type]
            self.keys.add(key)
        return mapped, effects["tally"]

    def key(self, path: Path, shown: str, opts: readers.ReadOptions) -> str:
        stat = path.stat()
        along = [_relative(c, self.data_dir) for c in self.companions.get(path, [])]
        return cache.file_key([
            f"version={__version__}", f"path={path.resolve()}", f"shown={shown}", f"size={stat.st_size}",
            f"mtime={stat.st_mtime_ns}", f"sha256={self.hashes[_relative(path, self.data_dir)]}",
            f"options={json.dumps(asdict(opts), default=str, sort_keys=True)}",
            *(f"along={rel}={self.hashes[rel]}" for rel in along)])

    def context(self, ref: CountryRef) -> str:
        """What mapping depends on besides the file: the catalog and every country name known."""
        state = {"catalog": sha256(self.catalog_path) if self.catalog_path.is_file() else "-",
                 "countries": ref.table.reset_index().astype(str).to_numpy().tolist(),
                 "aggregates": sorted(ref.aggregate_codes), "names": ref._names, "spelling": ref._spelling,
                 "aggregate_names": sorted(ref._aggregate_names), "aliases": ref._code_aliases,
                 "pycountry": importlib.metadata.version("pycountry")}
        return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()

    def prune(self) -> None:
        """Old file entries removed, once this load has written new ones."""
        if self.root is not None and self.remapped:
            cache.prune_files(self.root, self.keys)


def load_dataset(data_dir: Path | str, config_dir: Path | str = "config", cache_dir: Path | str | None = None,
                 use_cache: bool = True, strict: bool = True, partial: bool = False) -> Dataset:
    """Load a data folder.

    Raises UserError (exit 2) when the data cannot be trusted; with strict=False the dataset is
    returned anyway, its errors listed in `problems`, so that a report can show everything. With
    partial=True, data files that cannot be read and unusable values do not raise when they are the
    only errors: the dataset lists what they leave unavailable (`Dataset.unavailable`) and is not cached.
    """
    data_dir = Path(data_dir)
    config_dir = Path(config_dir)
    shown_data = display_path(data_dir)
    if not data_dir.is_dir():
        raise UserError(Problem(shown_data, None, "data folder not found",
                                "pass --data DIR with the folder that holds the downloaded files"))
    src_path = own_sources(config_dir, data_dir)
    catalog_path = config_dir / "indicators.yaml"
    names_path = config_dir / "country_names.yaml"
    cfg, located = load_sources(src_path)
    catalog = load_catalog(catalog_path)
    names = load_names(names_path)

    matched, problems = match_files(cfg, data_dir, shown_data, located)
    classification = classification_choice(cfg, located, data_dir, src_path)
    country_file = classification.path
    # the newest of several classification files; its vintage is the one it states, if it states one
    cfg = cfg.model_copy(update={"countries": cfg.countries.model_copy(update={"vintage": classification.vintage})})
    options = {decl.id: _options(decl, i, located, data_dir, problems) for i, decl in enumerate(cfg.sources)}
    matched = _refuse_outside_companions(matched, options, data_dir, problems)
    companions = {path: _companions(decl, path, options[decl.id]) for decl, path in matched}
    # a file read along with another (a DDF entity file a glob also matched) is not data itself
    read_along = {c for cs in companions.values() for c in cs}
    matched = [(decl, path) for decl, path in matched if path not in read_along]

    # ---- the content key: every input, and the code that reads it
    hashes: dict[str, str] = {}
    key_parts = [f"schema={cache.CACHE_SCHEMA}", f"version={__version__}", f"code={cache.code_hash()}"]
    fetch_json = data_dir / ".fetch.json"
    for path in (src_path, catalog_path, names_path, fetch_json):
        readable = path.is_file() and (path != fetch_json or inside(data_dir, path.name) is not None)
        key_parts.append(f"{path.name}={sha256(path) if readable else '-'}")
    inputs = [country_file] + [p for _, p in matched] + sorted(read_along)
    for path in inputs:
        rel = _relative(path, data_dir)
        if rel not in hashes:
            hashes[rel] = sha256(path)
            key_parts.append(f"{rel}={hashes[rel]}")
    key_parts += [f"problem={p}" for p in problems] + [f"classification={classification.note}"]
    key = hashlib.sha256("\n".join(key_parts).encode()).hexdigest()[:24]
    used = {p for _, p in matched} | read_along
    not_declared = undeclared(data_dir, used, cfg)

    cache_root = Path(cache_dir) if cache_dir is not None else default_cache_dir(config_dir)
    if use_cache:
        cached = cache.read(cache_root / f"data-{key}", catalog, data_dir)
        if cached is not None:
            cached.undeclared = not_declared
            return cached

    parsing = _Parsing(cache_root if use_cache else None, companions, hashes, data_dir, catalog_path)
    ds = _build(cfg, catalog, names, data_dir, matched, options, parsing, problems, country_file, hashes, key)
    ds.countries.choice = classification.note
    ds.undeclared = not_declared
    if ds.errors:
        unread = {id(p) for p in ds.unread}
        blocking = [p for p in ds.errors if not (partial and id(p) in unread)]
        if strict and blocking:
            raise UserError(blocking + [p for p in ds.problems if p.severity != "error"])
        return ds
    if use_cache:
        cache.write(cache_root, f"data-{key}", ds)
    return ds


def own_sources(config_dir: Path, data_dir: Path) -> Path:
    """The sources.yaml that describes the data folder; the folder's own must lie inside it."""
    path = sources_path(config_dir, data_dir)
    if path.parent == data_dir:
        refusal = outside(data_dir, path)
        if refusal is not None:
            raise UserError(refusal)
    return path


def classification_file(cfg: SourcesFile, located: Located, data_dir: Path, src_path: Path) -> Path:
    """The country classification file the data is read with (see classification_choice)."""
    return classification_choice(cfg, located, data_dir, src_path).path


def classification_choice(cfg: SourcesFile, located: Located, data_dir: Path, src_path: Path) -> Classification:
    """The country classification file: the newest of those `countries.path` matches, inside the data folder."""
    where = (located.file, located.line_of(("countries", "path")))
    files, refused = find(data_dir, cfg.countries.path, where, "countries")
    if refused:
        raise UserError(refused)
    if not files:
        raise UserError(Problem(display_path(src_path), None,
                                f"no country classification file matches '{cfg.countries.path}' in "
                                f"{display_path(data_dir)}",
                                "download the World Bank Metadata_Country file (it comes with every WDI download)"))
    return choose_classification(files, cfg.countries.vintage, data_dir)


def _refuse_outside_companions(matched: list[tuple[SourceDecl, Path]], options: dict[str, readers.ReadOptions],
                               data_dir: Path, problems: list[Problem]) -> list[tuple[SourceDecl, Path]]:
    """Drop a data file whose companion (datapackage.json, DDF entity file) leads outside the data
    folder: reading the one would read the other."""
    kept = []
    for decl, path in matched:
        around = [path.parent / "datapackage.json"] + readers.ddf_companions(path)
        lookup = options[decl.id].lookup
        if lookup is not None:
            around.append(lookup[0])
        refused = [r for c in around if c.exists() and (r := outside(data_dir, c)) is not None]
        for refusal in refused:
            problems.append(replace(refusal, message=f"{refusal.message}; {display_path(path)}, read along with it, "
                                                     "was not read either"))
        if not refused:
            kept.append((decl, path))
    return kept


def _relative(path: Path, data_dir: Path) -> str:
    try:
        return str(path.relative_to(data_dir))
    except ValueError:
        return str(path.resolve().relative_to(data_dir.resolve()))


def _options(decl: SourceDecl, index: int, located: Located, data_dir: Path,
             problems: list[Problem]) -> readers.ReadOptions:
    """How sources.yaml says the files of one source are read."""
    at = ("sources", index)
    declared_at = f"{located.file}:{located.line_of(at + ('columns',))}" if decl.columns else \
        f"{located.file}:{located.line_of(at)}"
    lookup = None
    if decl.area_names is not None:
        path = inside(data_dir, decl.area_names.path)
        if path is None or not path.is_file():
            problems.append(Problem(
                located.file, located.line_of(at + ("area_names", "path")),
                f"source '{decl.id}': area_names file "
                + ("outside the data folder" if path is None else f"not found: {decl.area_names.path}"),
                "give a path relative to the data folder"))
        else:
            lookup = (path, decl.area_names.code, decl.area_names.name)
    return readers.ReadOptions(
        layout=decl.layout, sheet=decl.sheet, member=decl.member, repairs=tuple(decl.repair), year=decl.year,
        area_codes=decl.area_codes, columns=decl.columns.model_dump() if decl.columns else {}, lookup=lookup,
        declared_at=declared_at, source_id=decl.id)


def _companions(decl: SourceDecl, path: Path, opts: readers.ReadOptions) -> list[Path]:
    """Files read along with a data file: its datapackage.json, DDF entity files, a declared lookup."""
    layout: str = decl.layout
    if layout == "auto":  # only CSV layouts read other files along
        layout = (readers.sniff(path) or "") if path.suffix.lower() == ".csv" else ""
    found = readers.companions(layout, path)
    if opts.lookup is not None:
        found.append(opts.lookup[0])
    return found


def _build(cfg: SourcesFile, catalog: Catalog, names: NamesFile, data_dir: Path, matched: list[tuple[SourceDecl, Path]],
           options: dict[str, readers.ReadOptions], parsing: _Parsing, problems: list[Problem],
           country_file: Path, hashes: dict[str, str], key: str) -> Dataset:
    shown_country = display_path(country_file)
    try:
        meta = readers.read_wdi_country_meta(country_file, shown_country)
    except readers.FileUnreadable as exc:
        raise UserError(exc.problem) from None
    countries_vintage = cfg.countries.vintage.isoformat() if cfg.countries.vintage else None
    ref = CountryRef.build(meta, names, _relative(country_file, data_dir), countries_vintage)

    # Read every file first, so that names learnt from coded files help resolve name-only ones.
    fetched = fetch_records(data_dir)
    reads = [_read(decl, path, options[decl.id], parsing, fetched, problems, ref) for decl, path in matched]
    context = parsing.context(ref) if parsing.root is not None else ""

    # Then map each to the catalog and to countries.
    obs_parts, agg_parts, unresolved_parts, unmapped_parts = [], [], [], []
    withheld: dict[str, list[Problem]] = {}  # indicators whose values cannot be used in this run, and why
    classifications: dict[str, pd.DataFrame] = {}
    for r in reads:
        if r.raw is None:
            continue
        m, tally = parsing.map(r, context, catalog, ref, problems, withheld)
        info = r.info
        info.rows = r.rows
        info.mapped, info.aggregates = tally["mapped"], tally["aggregates"]
        info.unmapped, info.unresolved = tally["unmapped"], tally["unresolved"]
        info.indicators, info.countries = list(tally["indicators"]), tally["countries"]
        obs_parts.append(m.obs)
        agg_parts.append(m.aggregates)
        unresolved_parts.append(m.unresolved)
        unmapped_parts.append(m.unmapped)
        if m.classification is not None:
            classifications[r.decl.id] = m.classification
        # mapped: a large file's raw rows need not stay alongside its observations (a copy, for a slice
        # of no rows would keep them all)
        r.raw.rows = r.raw.rows.iloc[:0].copy()
    parsing.prune()

    obs = concat(obs_parts, OBS_COLUMNS)
    aggregates = concat(agg_parts, OBS_COLUMNS + ["area"])
    del obs_parts, agg_parts  # stacked: each file's tables need not stay alongside
    unresolved = concat(unresolved_parts, ["file", "line", "name", "indicator", "rows"])
    unmapped = concat(unmapped_parts, ["file", "line", "code", "name", "breakdown", "rows"])
    obs = check_scales(check_duplicates(obs, problems), problems, withheld)
    resolved = resolve(obs, cfg, catalog)
    files = [r.info for r in reads] + _lookup_files(reads, parsing.companions, data_dir, hashes)
    report_empty(files, cfg, catalog, obs, problems)
    unread = [r for r in reads if r.problem is not None]
    missing = unavailable(unread, set(obs["indicator"].unique()), catalog)
    for code, why in withheld.items():
        missing[code] = list(dict.fromkeys(missing.get(code, []) + why))
    bad = [r.problem for r in unread if r.problem is not None] + [p for why in withheld.values() for p in why]
    return Dataset(obs=obs, resolved=resolved, aggregates=aggregates, unresolved=unresolved, unmapped=unmapped,
                   classifications=classifications, countries=ref, catalog=catalog, files=files,
                   problems=problems, data_dir=data_dir, illustrative=cfg.illustrative, notice=cfg.notice,
                   key=key, unavailable=dict(sorted(missing.items())), unread=list(dict.fromkeys(bad)),
                   parsed=parsing.parsed, reused=parsing.reused, parse_seconds=parsing.seconds)


def unavailable(unread: list[_Read], provided: set[str], catalog: Catalog) -> dict[str, list[Problem]]:
    """The indicators that only unreadable files would provide, each with the problems naming those files.

    What a file would provide is read from its declaration (`indicator:`, `map:`) and from catalog codes
    in its name (`API_SL.UEM.TOTL.ZS_…`, `ILR_TUMT_NOC_RT_A.csv`); when neither says, every indicator
    its publisher's codes map to, so that no document prints an indicator the file might have changed."""
    out: dict[str, list[Problem]] = {}
    for r in unread:
        assert r.problem is not None
        for code in sorted(_would_provide(r, catalog) - provided):
            out.setdefault(code, []).append(r.problem)
    return out


def _would_provide(r: _Read, catalog: Catalog) -> set[str]:
    if r.decl.indicator:
        return {r.decl.indicator}
    layout = r.info.layout
    family = r.decl.family or (readers.REGISTRY[layout].family if layout in readers.REGISTRY else None)
    maps = [(code, src) for code, ind in catalog.indicators.items() for src in ind.sources
            if family is None or src.publisher == family]
    name = r.info.path.lower()
    named = {code for code, src in maps
             if re.search(rf"(?<![a-z0-9]){re.escape(src.code.lower())}(?![a-z0-9])", name)}
    declared = set(r.decl.map.values())
    return named | declared if named or declared else {code for code, _ in maps}


def _read(decl: SourceDecl, path: Path, opts: readers.ReadOptions, parsing: _Parsing,
          fetched: dict[str, tuple[str, str]], problems: list[Problem], ref: CountryRef) -> _Read:
    data_dir, hashes = parsing.data_dir, parsing.hashes
    rel = _relative(path, data_dir)
    shown = display_path(path)
    info = FileInfo(rel, decl.id, decl.layout, hashes[rel], decl.publisher, decl.title, decl.licence,
                    decl.attribution, decl.url, None, None)
    try:
        if decl.layout == "auto":
            detected = readers.sniff(path)
            if detected is None:
                first = path.read_bytes()[:2000].decode("utf-8-sig", errors="replace").splitlines()
                raise readers.FileUnreadable(readers.header_problem(shown, first[0] if first else ""))
            info.layout = detected
            opts = replace(opts, layout=detected)
        found = parsing.read(path, shown, opts)
    except readers.FileUnreadable as exc:
        problems.append(exc.problem)
        info.error = exc.problem.message
        return _Read(decl, path, shown, None, info, exc.problem)
    raw = found.raw if isinstance(found, cache.RawSummary) else found
    problems.extend(raw.problems)
    info.title = decl.title or raw.title
    info.licence = decl.licence or raw.licence
    info.repairs = list(raw.repairs)
    info.vintage, info.vintage_from = vintage(raw, decl, path, rel, hashes[rel], fetched, problems, shown)
    if readers.REGISTRY[raw.layout].family == "wdi":
        for code, name in found.areas if isinstance(found, cache.RawSummary) else cache.area_names(raw.rows):
            ref.learn(code, name)
    if isinstance(found, cache.RawSummary):
        return _Read(decl, path, shown, raw, info, opts=opts, rows=found.rows, cached=True)
    return _Read(decl, path, shown, raw, info, opts=opts, rows=len(raw.rows))


def _lookup_files(reads: list[_Read], companions: dict[Path, list[Path]], data_dir: Path,
                  hashes: dict[str, str]) -> list[FileInfo]:
    """A FileInfo for each file read only to decode another (a DDF entity file, a declared lookup)."""
    out: dict[str, FileInfo] = {}
    data_paths = {r.path for r in reads}
    for r in reads:
        for path in companions.get(r.path, []):
            if path.name == "datapackage.json" or path in data_paths:
                continue
            rel = _relative(path, data_dir)
            if rel in out:
                continue
            out[rel] = FileInfo(rel, r.decl.id, "lookup", hashes[rel], r.decl.publisher, r.info.title, r.info.licence,
                                r.decl.attribution, r.decl.url, r.info.vintage, r.info.vintage_from,
                                error=r.info.error, role="lookup")
    return sorted(out.values(), key=lambda f: f.path)

"""From a data folder to one tidy, traceable observation table.

`load_dataset` reads every file that `sources.yaml` declares, maps each source series to a catalog
indicator (checking that its definition is the catalog's), resolves areas to ISO3 countries (keeping
aggregates apart), flags estimates and breaks, refuses duplicates, and picks one value per
(country, indicator, year, breakdown) by the declared precedence, recording the choice.
The result is cached as Parquet, keyed by the content of every input.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import __version__
from ..catalog import Catalog, load_catalog
from ..errors import Problem, UserError, display_path
from . import readers
from .countries import CountryRef, load_names, unknown_name_problem
from .sources import PUBLISHER_FAMILY, SourceDecl, SourcesFile, load_sources, sources_path

CACHE_SCHEMA = 3

OBS_COLUMNS = [
    "iso3", "indicator", "year", "value", "sex", "breakdown", "source_id", "publisher", "source_code",
    "vintage", "file", "line", "estimate", "break", "unreliable", "imputed", "status",
]

FLAG_WORDS = {
    "break": ("break",),
    "unreliable": ("unreliable",),
    "estimate": ("estimate", "forecast", "provisional"),
    "imputed": ("imputed", "imputation"),
}


@dataclass
class FileInfo:
    """What was read from one file, for the coverage report and the sources page."""

    path: str  # relative to the data folder
    source_id: str
    layout: str
    sha256: str
    publisher: str
    title: str | None
    licence: str | None
    attribution: str | None
    url: str | None
    vintage: str | None
    vintage_from: str | None
    rows: int = 0
    mapped: int = 0
    aggregates: int = 0
    unmapped: int = 0
    unresolved: int = 0
    indicators: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class Dataset:
    """All observations from one data folder, resolved and ready for computation."""

    obs: pd.DataFrame  # every country observation from every source
    resolved: pd.DataFrame  # one value per (iso3, indicator, year, sex, breakdown)
    aggregates: pd.DataFrame  # regional and income aggregates, kept apart
    unresolved: pd.DataFrame  # rows whose area name could not be placed
    unmapped: pd.DataFrame  # source series that map to no catalog indicator
    classifications: dict[str, pd.DataFrame]
    countries: CountryRef
    catalog: Catalog
    files: list[FileInfo]
    problems: list[Problem]
    data_dir: Path
    illustrative: bool = False
    notice: str | None = None
    key: str = ""
    from_cache: bool = False
    undeclared: list[str] = field(default_factory=list)
    _headline: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def headline(self, indicator: str) -> pd.DataFrame:
        """The indicator's main series for every country: no breakdown, the indicator's own sex."""
        cached = self._headline.get(indicator)
        if cached is not None:
            return cached
        ind = self.catalog[indicator]
        res = self.resolved
        rows = res[(res["indicator"] == indicator) & (res["breakdown"] == "") & res["sex"].isin((ind.sex, ""))]
        rows = rows.sort_values(["iso3", "year"], kind="stable").reset_index(drop=True)
        self._headline[indicator] = rows
        return rows

    def series(self, iso3: str, indicator: str) -> pd.Series:
        rows = self.headline(indicator)
        rows = rows[rows["iso3"] == iso3]
        return pd.Series(rows["value"].to_numpy(), index=rows["year"].to_numpy(), name=indicator)

    def file_info(self, path: str) -> FileInfo | None:
        return next((f for f in self.files if f.path == path), None)


# ------------------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    env = os.environ.get("SESREPORT_CACHE")
    return Path(env) if env else Path.cwd() / ".cache" / "sesreport"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _code_hash() -> str:
    """The data layer's own source, so that a code change never serves a stale cache."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(here.glob("*.py")) + [here.parent / "catalog.py"]:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _match_files(cfg: SourcesFile, data_dir: Path, shown_data: str) -> tuple[list[tuple[SourceDecl, Path]], list[Problem]]:
    """Files for each declared source. A file named outright belongs to its entry even when a glob
    of another entry also matches it; two globs matching one file is reported."""
    problems: list[Problem] = []
    taken: dict[Path, str] = {}
    found: dict[str, list[Path]] = {}
    is_glob = {d.id: any(ch in d.path for ch in "*?[") for d in cfg.sources}
    for decl in sorted(cfg.sources, key=lambda d: is_glob[d.id]):
        if is_glob[decl.id]:
            paths = sorted(p for p in data_dir.glob(decl.path) if p.is_file())
        else:
            paths = [data_dir / decl.path] if (data_dir / decl.path).is_file() else []
        if not paths:
            severity = "error" if (decl.required or not is_glob[decl.id]) else "warning"
            what = "no file matches" if is_glob[decl.id] else "file not found:"
            problems.append(Problem(
                shown_data, None, f"source '{decl.id}': {what} {decl.path}",
                "download it (python generate.py fetch …), fix the path in sources.yaml, or remove the entry"
                if severity == "error" else "skipped; this source is optional", severity))
        mine = []
        for path in paths:
            if path in taken:
                if is_glob[taken[path]]:
                    problems.append(Problem(display_path(path), None,
                                            f"matched by sources '{taken[path]}' and '{decl.id}'; read as '{taken[path]}'",
                                            "make the paths in sources.yaml more specific", "warning"))
                continue
            taken[path] = decl.id
            mine.append(path)
        found[decl.id] = mine
    out = [(decl, path) for decl in cfg.sources for path in found.get(decl.id, [])]
    return out, problems


def _undeclared(data_dir: Path, matched: set[Path], cfg: SourcesFile) -> list[str]:
    companions = {"datapackage.json", "sources.yaml", "readme.md", "sources.md"}
    country_files = set(data_dir.glob(cfg.countries.path))
    out = []
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path in matched or path in country_files:
            continue
        if path.name.lower() in companions or path.name.startswith("."):
            continue
        if path.suffix.lower() not in (".csv", ".xlsx", ".xls"):
            continue
        if path.name.startswith(("Metadata_", )) or "Series - Metadata" in path.name:
            continue
        out.append(str(path.relative_to(data_dir)))
    return out


def load_dataset(data_dir: Path | str, config_dir: Path | str = "config", cache_dir: Path | str | None = None,
                 use_cache: bool = True, strict: bool = True) -> Dataset:
    """Load a data folder.

    Raises UserError (exit 2) when the data cannot be trusted; with strict=False the dataset is
    returned anyway, its errors listed in `problems`, so that a report can show everything.
    """
    data_dir = Path(data_dir)
    config_dir = Path(config_dir)
    shown_data = display_path(data_dir)
    if not data_dir.is_dir():
        raise UserError(Problem(shown_data, None, "data folder not found",
                                "pass --data DIR with the folder that holds the downloaded files"))
    src_path = sources_path(config_dir, data_dir)
    catalog_path = config_dir / "indicators.yaml"
    names_path = config_dir / "country_names.yaml"
    cfg, _ = load_sources(src_path)
    catalog = load_catalog(catalog_path)
    names = load_names(names_path)

    matched, problems = _match_files(cfg, data_dir, shown_data)
    country_files = sorted(data_dir.glob(cfg.countries.path))
    if not country_files:
        raise UserError(Problem(display_path(src_path), None,
                                f"no country classification file matches '{cfg.countries.path}' in {shown_data}",
                                "download the World Bank Metadata_Country file (it comes with every WDI download)"))
    country_file = country_files[-1]

    hashes = {}
    key_parts = [f"schema={CACHE_SCHEMA}", f"version={__version__}", f"code={_code_hash()}"]
    for path in (src_path, catalog_path, names_path, data_dir / ".fetch.json"):
        key_parts.append(f"{path.name}={_sha256(path) if path.is_file() else '-'}")
    for path in [country_file] + [p for _, p in matched]:
        rel = str(path.relative_to(data_dir))
        hashes[rel] = _sha256(path)
        key_parts.append(f"{rel}={hashes[rel]}")
        package = path.parent / "datapackage.json"
        if package.is_file():
            key_parts.append(f"{rel}:datapackage={_sha256(package)}")
    key = hashlib.sha256("\n".join(key_parts).encode()).hexdigest()[:24]
    undeclared = _undeclared(data_dir, {p for _, p in matched}, cfg)

    cache_root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if use_cache:
        cached = _read_cache(cache_root / f"data-{key}", catalog, data_dir)
        if cached is not None:
            cached.undeclared = undeclared
            return cached

    ds = _build(cfg, catalog, names, data_dir, matched, problems, country_file, hashes, key)
    ds.undeclared = undeclared
    if ds.errors:
        if strict:
            raise UserError(ds.errors + [p for p in ds.problems if p.severity != "error"])
        return ds
    if use_cache:
        _write_cache(cache_root, f"data-{key}", ds)
    return ds


def _build(cfg: SourcesFile, catalog: Catalog, names, data_dir: Path, matched, problems: list[Problem],
           country_file: Path, hashes: dict[str, str], key: str) -> Dataset:
    shown_country = display_path(country_file)
    try:
        meta = readers.read_wdi_country_meta(country_file, shown_country)
    except readers.FileUnreadable as exc:
        raise UserError(exc.problem) from None
    vintage = cfg.countries.vintage.isoformat() if cfg.countries.vintage else None
    ref = CountryRef.build(meta, names, str(country_file.relative_to(data_dir)), vintage)

    fetched = _fetch_records(data_dir)
    # Read every file first, so that names learnt from coded files help resolve name-only ones.
    raws: list[tuple[SourceDecl, Path, str, readers.RawTable | None, FileInfo]] = []
    for decl, path in matched:
        rel = str(path.relative_to(data_dir))
        shown = display_path(path)
        layout = decl.layout
        info = FileInfo(rel, decl.id, layout, hashes[rel], decl.publisher, decl.title, decl.licence,
                        decl.attribution, decl.url, None, None)
        try:
            if layout == "auto":
                detected = readers.sniff(path)
                if detected is None:
                    first = path.read_bytes()[:2000].decode("utf-8-sig", errors="replace").splitlines()
                    raise readers.FileUnreadable(readers.header_problem(shown, first[0] if first else ""))
                layout = info.layout = detected
            raw = readers.read(path, shown, layout, decl.sheet)
        except readers.FileUnreadable as exc:
            problems.append(exc.problem)
            info.error = exc.problem.message
            raws.append((decl, path, shown, None, info))
            continue
        problems.extend(raw.problems)
        info.title = decl.title or raw.title
        info.licence = decl.licence or raw.licence
        info.vintage, info.vintage_from = _vintage(raw, decl, path, rel, hashes[rel], fetched)
        if layout in ("wdi_api", "wdi_databank", "wdi_long"):
            for code, name in raw.rows[["area_code", "area_name"]].drop_duplicates().itertuples(index=False):
                ref.learn(code, name)
        raws.append((decl, path, shown, raw, info))

    obs_parts, agg_parts, unresolved_parts, unmapped_parts = [], [], [], []
    classifications: dict[str, pd.DataFrame] = {}
    for decl, path, shown, raw, info in raws:
        if raw is None:
            continue
        result = _map_file(raw, decl, info, shown, catalog, ref, problems)
        obs, agg, unresolved, unmapped, classification = result
        info.rows = len(raw.rows)
        info.mapped = len(obs)
        info.aggregates = len(agg)
        info.unmapped = int(unmapped["rows"].sum()) if len(unmapped) else 0
        info.unresolved = int(unresolved["rows"].sum()) if len(unresolved) else 0
        info.indicators = sorted(obs["indicator"].unique().tolist()) if len(obs) else []
        obs_parts.append(obs)
        agg_parts.append(agg)
        unresolved_parts.append(unresolved)
        unmapped_parts.append(unmapped)
        if classification is not None:
            classifications[decl.id] = classification

    obs = _concat(obs_parts, OBS_COLUMNS)
    aggregates = _concat(agg_parts, OBS_COLUMNS + ["area"])
    unresolved = _concat(unresolved_parts, ["file", "line", "name", "indicator", "rows"])
    unmapped = _concat(unmapped_parts, ["file", "line", "code", "name", "breakdown", "rows"])
    obs = _check_duplicates(obs, problems)
    resolved = resolve(obs, cfg, catalog)
    files = [info for *_, info in raws]
    return Dataset(obs=obs, resolved=resolved, aggregates=aggregates, unresolved=unresolved, unmapped=unmapped,
                   classifications=classifications, countries=ref, catalog=catalog, files=files,
                   problems=problems, data_dir=data_dir, illustrative=cfg.illustrative, notice=cfg.notice,
                   key=key)


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return pd.concat(parts, ignore_index=True)


_FILENAME_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _fetch_records(data_dir: Path) -> dict[str, tuple[str, str]]:
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


def _vintage(raw: readers.RawTable, decl: SourceDecl, path: Path, rel: str, sha256: str,
             fetched: dict[str, tuple[str, str]]) -> tuple[str | None, str | None]:
    """The vintage of a file: as the file states it, else the date in its name, else the day it was
    downloaded by `generate.py fetch` (if unchanged since), else as declared in sources.yaml."""
    if raw.vintage:
        return raw.vintage.isoformat(), raw.vintage_from
    match = _FILENAME_DATE.search(path.name)
    if match:
        found = readers.parse_date(match.group(1))
        if found:
            return found.isoformat(), "file name"
    record = fetched.get(rel)
    if record and record[0] == sha256 and readers.parse_date(record[1]):
        return record[1], "downloaded"
    if decl.vintage:
        return decl.vintage.isoformat(), "sources.yaml"
    return None, None


def _breakdown(c1: str, c2: str) -> str:
    parts = []
    for value in (c1, c2):
        if value:
            code, _, label = value.partition("|")
            parts.append(label or code)
    return " | ".join(parts)


def _map_file(raw: readers.RawTable, decl: SourceDecl, info: FileInfo, shown: str, catalog: Catalog,
              ref: CountryRef, problems: list[Problem]):
    family = PUBLISHER_FAMILY[raw.layout]
    rows = raw.rows

    # 1. Source series -> catalog indicator, checking the definition.
    series_cols = ["ind_code", "ind_name", "sex", "classif1", "classif2"]
    combos = rows.groupby(series_cols, sort=False, dropna=False).agg(line=("line", "min"), rows=("line", "size"))
    combos = combos.reset_index()
    indicators, consumed1, consumed2 = [], [], []
    unmapped = []
    for c in combos.itertuples(index=False):
        declared = decl.map.get(c.ind_code) or decl.map.get(c.ind_name)
        if declared:
            from ..catalog import Match

            match = Match(declared) if declared in catalog else Match(None, problem=(
                f"sources.yaml maps '{c.ind_code or c.ind_name}' to '{declared}', which is not in the catalog"))
        else:
            match = catalog.match(family, c.ind_code, c.ind_name, c.sex, c.classif1, c.classif2)
        indicators.append(match.indicator or "")
        src = match.source
        consumed1.append(bool(src and src.classif1))
        consumed2.append(bool(src and src.classif2))
        if match.problem:
            problems.append(Problem(shown, int(c.line), match.problem,
                                    "add a catalog indicator for this definition in config/indicators.yaml "
                                    "(never merge two definitions under one code)"))
        elif not match.indicator:
            unmapped.append({"file": info.path, "line": int(c.line), "code": c.ind_code, "name": c.ind_name,
                             "breakdown": " | ".join(x for x in (_sex_label(c.sex), _breakdown(c.classif1, c.classif2)) if x),
                             "rows": int(c.rows)})
    combos["indicator"] = indicators
    combos["consumed1"] = consumed1
    combos["consumed2"] = consumed2
    rows = rows.merge(combos[series_cols + ["indicator", "consumed1", "consumed2"]], on=series_cols, how="left")
    rows = rows[rows["indicator"] != ""]
    if not len(rows):
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in OBS_COLUMNS})
        classification = _classification(raw, ref, shown, info, problems, unresolved := [])
        return empty, empty.assign(area=""), pd.DataFrame(unresolved), pd.DataFrame(unmapped), classification
    c1 = rows["classif1"].where(~rows["consumed1"].astype(bool), "")
    c2 = rows["classif2"].where(~rows["consumed2"].astype(bool), "")
    rows = rows.assign(breakdown=[_breakdown(a, b) for a, b in zip(c1, c2)])

    # 2. Areas -> ISO3 countries, aggregates, or unknown.
    areas = rows[["area_code", "area_name"]].drop_duplicates()
    kinds, codes = [], []
    for code, name in areas.itertuples(index=False):
        if raw.layout == "owid_grapher" and not code:
            res = ref.resolve_name(name)
            if res.kind == "unknown":  # OWID leaves the code empty for groups of countries
                res.kind = "aggregate"
        elif code:
            res = ref.resolve_code(code, name)
        else:
            res = ref.resolve_name(name)
        kinds.append(res.kind)
        codes.append(res.code)
    areas = areas.assign(kind=kinds, iso3=codes)
    rows = rows.merge(areas, on=["area_code", "area_name"], how="left")

    # 3. Flags and provenance.
    status = rows["status"].fillna("").str.lower()
    ind_sex = rows["indicator"].map({code: catalog[code].sex for code in rows["indicator"].unique()})
    estimate_ind = rows["indicator"].map({code: catalog[code].estimate for code in rows["indicator"].unique()})
    rows = rows.assign(
        sex=rows["sex"].where(rows["sex"] != "", ind_sex),
        source_id=decl.id, publisher=decl.publisher,
        source_code=rows["source_code"].where(rows["source_code"] != "", rows["ind_code"]),
        vintage=info.vintage or "", file=info.path,
        estimate=_flag(status, "estimate") | estimate_ind.astype(bool),
        **{"break": _flag(status, "break")},
        unreliable=_flag(status, "unreliable"), imputed=_flag(status, "imputed"),
    )
    countries = rows[rows["kind"] == "country"][OBS_COLUMNS].reset_index(drop=True)
    aggregates = rows[rows["kind"] == "aggregate"].assign(area=lambda d: d["area_name"].where(d["area_name"] != "", d["area_code"]))
    aggregates = aggregates[OBS_COLUMNS + ["area"]].reset_index(drop=True)
    unknown = rows[rows["kind"] == "unknown"]
    unresolved = []
    if len(unknown):
        for name, group in unknown.groupby("area_name", sort=True):
            line = int(group["line"].min())
            problems.append(unknown_name_problem(ref, shown, line, str(name or group["area_code"].iloc[0]), len(group)))
            unresolved.append({"file": info.path, "line": line, "name": name, "indicator": group["indicator"].iloc[0],
                               "rows": len(group)})

    classification = _classification(raw, ref, shown, info, problems, unresolved)
    return countries, aggregates, pd.DataFrame(unresolved), pd.DataFrame(unmapped), classification


def _classification(raw: readers.RawTable, ref: CountryRef, shown: str, info: FileInfo,
                    problems: list[Problem], unresolved: list[dict]) -> pd.DataFrame | None:
    """A file that classifies countries (e.g. by region) rather than measuring them."""
    if raw.classification is None:
        return None
    cl = raw.classification
    resolved = [ref.resolve_code(c, n) if c else ref.resolve_name(n) for c, n in zip(cl["area_code"], cl["area_name"])]
    cl = cl.assign(iso3=[r.code for r in resolved], kind=[r.kind for r in resolved])
    for name, group in cl[cl["kind"] == "unknown"].groupby("area_name", sort=True):
        line = int(group["line"].min())
        problems.append(unknown_name_problem(ref, shown, line, str(name), len(group)))
        unresolved.append({"file": info.path, "line": line, "name": name, "indicator": "(classification)",
                           "rows": len(group)})
    return cl


def _sex_label(sex: str) -> str:
    return {"F": "female", "M": "male", "O": "other sex"}.get(sex, "")


def _flag(status: pd.Series, flag: str) -> pd.Series:
    words = FLAG_WORDS[flag]
    out = status.str.contains("|".join(words), regex=True)
    codes = {"break": "b", "unreliable": "u", "estimate": "e", "imputed": "i"}
    return out | (status == codes[flag])


def _check_duplicates(obs: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """The same (country, indicator, year, breakdown, source) twice: identical is dropped, different refused."""
    key = ["iso3", "indicator", "year", "sex", "breakdown", "source_id", "source_code", "vintage"]
    dup = obs.duplicated(key, keep=False)
    if not dup.any():
        return obs
    groups = obs[dup].groupby(key, sort=True)
    conflicting = 0
    for _, group in groups:
        lines = ", ".join(f"{f}:{ln}" for f, ln in zip(group["file"], group["line"]))
        first = group.iloc[0]
        if group["value"].nunique() > 1:
            conflicting += 1
            if conflicting <= 20:
                problems.append(Problem(
                    first["file"], int(first["line"]),
                    f"{first['iso3']} {first['indicator']} {first['year']} appears {len(group)} times from the same "
                    f"source with different values ({', '.join(str(v) for v in group['value'])}; lines {lines})",
                    "remove the duplicate rows, or split the file into separately declared sources"))
        else:
            problems.append(Problem(
                first["file"], int(first["line"]),
                f"{first['iso3']} {first['indicator']} {first['year']} appears {len(group)} times with the same "
                f"value; kept once (lines {lines})", severity="warning"))
    if conflicting > 20:
        problems.append(Problem(None, None, f"{conflicting - 20} more conflicting duplicates"))
    return obs.drop_duplicates(key, keep="first").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# Precedence

RESOLVED_EXTRA = ["candidates", "chosen_by", "alternatives"]


def resolve(obs: pd.DataFrame, cfg: SourcesFile, catalog: Catalog) -> pd.DataFrame:
    """One value per (iso3, indicator, year, sex, breakdown), chosen by the declared precedence rules."""
    key = ["iso3", "indicator", "year", "sex", "breakdown"]
    if not len(obs):
        return obs.assign(candidates=pd.Series(dtype="int64"), chosen_by="", alternatives="")
    obs = obs.copy()
    order = {sid: i for i, sid in enumerate(cfg.precedence.source_order)}
    obs["_vintage_rank"] = obs["vintage"].fillna("").map(lambda v: v or "0000")
    obs["_order"] = obs["source_id"].map(lambda s: order.get(s, len(order)))
    series_key = ["iso3", "indicator", "sex", "breakdown", "source_id", "source_code", "vintage"]
    obs["_length"] = obs.groupby(series_key, sort=False)["year"].transform("size")
    sort_cols = {
        "newest_vintage": ("_vintage_rank", False),
        "source_order": ("_order", True),
        "longest_series": ("_length", False),
        "source_code": ("source_code", True),
    }
    obs["candidates"] = obs.groupby(key, sort=False)["value"].transform("size")
    parts = []
    rule_sets: dict[tuple, list[str]] = {}
    for ind in obs["indicator"].unique():
        rules = tuple(cfg.precedence.indicators.get(ind, cfg.precedence.rules))
        rule_sets.setdefault(rules, []).append(ind)
    for rules, inds in sorted(rule_sets.items()):
        part = obs[obs["indicator"].isin(inds)]
        cols = [sort_cols[r][0] for r in rules] + ["file", "line"]
        asc = [sort_cols[r][1] for r in rules] + [True, True]
        part = part.sort_values(key + cols, ascending=[True] * len(key) + asc, kind="stable")
        part = part.assign(_pos=part.groupby(key, sort=False).cumcount())
        chosen = part[part["_pos"] == 0].copy()
        chosen["chosen_by"] = ""
        chosen["alternatives"] = ""
        multi = part[part["candidates"] > 1]
        if len(multi):
            first = multi[multi["_pos"] == 0].set_index(key)
            second = multi[multi["_pos"] == 1].set_index(key).reindex(first.index)
            decided = pd.Series("file order", index=first.index, dtype="object")
            for rule in reversed(rules):
                col = sort_cols[rule][0]
                decided = decided.where(first[col] == second[col], rule)
            rest = multi[multi["_pos"] > 0]
            text = (rest["source_id"] + " " + rest["source_code"] + " ("
                    + rest["vintage"].replace("", "no vintage") + "): " + rest["value"].map("{:g}".format))
            others = text.groupby([rest[k] for k in key], sort=False).agg("; ".join)
            index = pd.MultiIndex.from_frame(chosen[key])
            chosen["chosen_by"] = decided.reindex(index).fillna("").to_numpy()
            chosen["alternatives"] = others.reindex(index).fillna("").to_numpy()
        parts.append(chosen)
    out = pd.concat(parts, ignore_index=True).drop(columns=["_vintage_rank", "_order", "_length", "_pos"])
    return out.sort_values(key, kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# Cache


def _write_cache(root: Path, name: str, ds: Dataset) -> None:
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        for table in ("obs", "resolved", "aggregates", "unresolved", "unmapped"):
            getattr(ds, table).to_parquet(tmp / f"{table}.parquet", index=False)
        for cid, cl in ds.classifications.items():
            cl.to_parquet(tmp / f"classification.{cid}.parquet", index=False)
        ds.countries.table.to_parquet(tmp / "countries.parquet")
        meta = {
            "files": [f.__dict__ for f in ds.files],
            "problems": [p.as_dict() for p in ds.problems],
            "illustrative": ds.illustrative,
            "notice": ds.notice,
            "countries": {"file": ds.countries.file, "vintage": ds.countries.vintage,
                          "aggregates": sorted(ds.countries.aggregate_codes),
                          "names": ds.countries._names, "spelling": ds.countries._spelling, "aggregate_names": sorted(ds.countries._aggregate_names),
                          "code_aliases": ds.countries._code_aliases, "display": ds.countries.display},
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
    # keep the few most recent caches only
    caches = sorted((p for p in root.glob("data-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in caches[4:]:
        shutil.rmtree(old, ignore_errors=True)


def _read_cache(path: Path, catalog: Catalog, data_dir: Path) -> Dataset | None:
    if not (path / "meta.json").is_file():
        return None
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        tables = {t: pd.read_parquet(path / f"{t}.parquet")
                  for t in ("obs", "resolved", "aggregates", "unresolved", "unmapped")}
        classifications = {p.name.split(".")[1]: pd.read_parquet(p) for p in path.glob("classification.*.parquet")}
        table = pd.read_parquet(path / "countries.parquet")
    except (OSError, ValueError, json.JSONDecodeError):
        return None
    c = meta["countries"]
    ref = CountryRef(table, set(c["aggregates"]), c["file"], c["vintage"])
    ref._names = c["names"]
    ref._spelling = c["spelling"]
    ref._aggregate_names = set(c["aggregate_names"])
    ref._code_aliases = c["code_aliases"]
    ref.display = c["display"]
    os.utime(path)
    return Dataset(
        obs=tables["obs"], resolved=tables["resolved"], aggregates=tables["aggregates"],
        unresolved=tables["unresolved"], unmapped=tables["unmapped"], classifications=classifications,
        countries=ref, catalog=catalog, files=[FileInfo(**f) for f in meta["files"]],
        problems=[Problem(**p) for p in meta["problems"]], data_dir=data_dir,
        illustrative=meta["illustrative"], notice=meta["notice"], key=path.name[5:], from_cache=True)

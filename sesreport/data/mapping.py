"""A raw table in; observations out: catalog indicators, ISO3 countries (aggregates apart), flags, provenance."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

from ..catalog import Catalog, Match
from ..errors import Problem
from . import readers
from .countries import CountryRef, unknown_name_problem
from .dataset import OBS_COLUMNS, FileInfo, sortable, text_codes
from .sources import SourceDecl, SourcesFile

FLAG_WORDS = {
    "break": ("break",),
    "unreliable": ("unreliable",),
    "estimate": ("estimate", "forecast", "provisional"),
    "imputed": ("imputed", "imputation"),
}
FLAG_CODES = {"break": "b", "unreliable": "u", "estimate": "e", "imputed": "i"}
SERIES_COLUMNS = ["ind_code", "ind_name", "sex", "classif1", "classif2"]


@dataclass
class Mapped:
    """One file's rows, sorted: country observations, aggregates, unknown areas, unmapped series (Arrow
    tables when they come from the cache, to be stacked with the other files' before they are converted)."""

    obs: pd.DataFrame | pa.Table
    aggregates: pd.DataFrame | pa.Table
    unresolved: pd.DataFrame | pa.Table
    unmapped: pd.DataFrame | pa.Table
    classification: pd.DataFrame | None

    def tally(self) -> dict[str, object]:
        """What the load reports of the file (`FileInfo`'s counts), worked out as it is mapped: the rows
        of each kind, the indicators and the countries kept."""
        obs, unmapped, unresolved = self.obs, self.unmapped, self.unresolved
        assert isinstance(obs, pd.DataFrame) and isinstance(unmapped, pd.DataFrame)
        assert isinstance(unresolved, pd.DataFrame)
        return {"mapped": len(obs), "aggregates": len(self.aggregates),
                "unmapped": int(unmapped["rows"].sum()) if len(unmapped) else 0,
                "unresolved": int(unresolved["rows"].sum()) if len(unresolved) else 0,
                "indicators": sorted(obs["indicator"].unique().tolist()) if len(obs) else [],
                "countries": int(obs["iso3"].nunique()) if len(obs) else 0}


def map_file(raw: readers.RawTable, decl: SourceDecl, info: FileInfo, shown: str, catalog: Catalog,
             ref: CountryRef, problems: list[Problem], withheld: dict[str, list[Problem]] | None = None) -> Mapped:
    """Map one file's raw rows to catalog indicators and countries, recording what was set aside.

    `withheld` collects, per indicator, the errors that make its values unusable in this run
    (values out of range), so that a build can go on without that indicator."""
    family = decl.family or readers.REGISTRY[raw.layout].family
    rows = raw.rows

    # Text columns are categorical: what depends on a text is worked out once per distinct text (or
    # pair of texts) and looked up by code, so that a large file's millions of rows are never copied
    # as strings.

    # 1. Source series -> catalog indicator, checking the definition.
    series_of_row, combos = groups(rows, SERIES_COLUMNS)  # numbered by first appearance
    indicators, consumed1, consumed2 = [], [], []
    unmapped = []
    for c in combos.itertuples(index=False):
        declared = decl.indicator or decl.map.get(c.ind_code) or decl.map.get(c.ind_name)
        if declared:
            match = Match(declared) if declared in catalog else Match(None, problem=(
                f"sources.yaml maps '{c.ind_code or c.ind_name}' to '{declared}', which is not in the catalog"))
        else:
            match = catalog.match(family, c.ind_code, c.ind_name, c.sex, c.classif1, c.classif2)
        indicators.append(match.indicator or "")
        src = match.source
        consumed1.append(bool(src and src.classif1))
        consumed2.append(bool(src and src.classif2))
        if match.problem:
            hint = match.hint or ("add a catalog indicator for this definition in config/indicators.yaml "
                                  "(never merge two definitions under one code)")
            problems.append(Problem(shown, int(c.line), match.problem, hint))
        elif not match.indicator:
            breakdown = " | ".join(x for x in (_sex_label(c.sex), _breakdown(c.classif1, c.classif2)) if x)
            unmapped.append({"file": info.path, "line": int(c.line), "code": c.ind_code, "name": c.ind_name,
                             "breakdown": breakdown, "rows": int(c.rows)})
    # columns looked up by series number rather than merged: a merge would copy every row
    keep = np.array([code != "" for code in indicators], dtype=bool)[series_of_row]
    kept = series_of_row if keep.all() else series_of_row[keep]
    if not keep.all():
        rows = rows[keep]
    rows = rows.assign(indicator=lookup(indicators, kept))
    del keep, series_of_row
    unresolved: list[dict] = []
    if not len(rows):
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in OBS_COLUMNS})
        classification = _classification(raw, ref, shown, info, problems, unresolved)
        return Mapped(empty, empty.assign(area=""), pd.DataFrame(unresolved), pd.DataFrame(unmapped), classification)
    # a classification the catalog's source consumes is no breakdown; each distinct pair is described once
    c1, cats1 = text_codes(rows["classif1"], np.array(consumed1, dtype=bool)[kept])
    c2, cats2 = text_codes(rows["classif2"], np.array(consumed2, dtype=bool)[kept])
    rows = rows.assign(breakdown=per_pair(c1, cats1, c2, cats2, _breakdown))
    del c1, c2, kept
    if decl.scale != 1:
        rows = rows.assign(value=(rows["value"] * decl.scale).round(12))  # 0.484 × 100 is 48.4, not 48.400000000000006
        info.repairs.append(f"scale: every value multiplied by {decl.scale:g}, as declared")
    _check_categories(rows, catalog, shown, problems)
    rows = check_bounds(rows, catalog, shown, problems, withheld)

    # 2. Areas -> ISO3 countries, aggregates, or unknown.
    area_of_row, areas = groups(rows, ["area_code", "area_name"])
    kinds, codes = [], []
    for code, name in areas[["area_code", "area_name"]].itertuples(index=False):
        if raw.codeless_groups and not code:
            res = ref.resolve_name(name)
            if res.kind == "unknown":  # a group of countries, which has no country code
                res.kind = "aggregate"
        elif code:
            res = ref.resolve_code(code, name)
        else:
            res = ref.resolve_name(name)
        kinds.append(res.kind)
        codes.append(res.code)
    kind = np.array(kinds, dtype=object)[area_of_row]
    rows = rows.assign(iso3=lookup(codes, area_of_row))
    del area_of_row

    # 3. Flags and provenance.
    status, status_cats = text_codes(rows["status"])
    said = pd.Series(status_cats).str.lower()
    ind, ind_cats = text_codes(rows["indicator"])
    sex, sex_cats = text_codes(rows["sex"])
    source_code, source_cats = text_codes(rows["source_code"])
    ind_code, ind_code_cats = text_codes(rows["ind_code"])
    estimate_ind = np.array([bool(catalog[code].estimate) if code else False for code in ind_cats])
    rows = rows.assign(
        sex=per_pair(sex, sex_cats, ind, ind_cats, lambda s, i: s if s != "" else catalog[i].sex),
        source_code=per_pair(source_code, source_cats, ind_code, ind_code_cats, lambda s, c: s if s != "" else c),
        estimate=flag(said, "estimate").to_numpy()[status] | estimate_ind[ind],
        **{"break": flag(said, "break").to_numpy()[status]},
        unreliable=flag(said, "unreliable").to_numpy()[status], imputed=flag(said, "imputed").to_numpy()[status],
    )
    del status, ind, sex, source_code, ind_code
    # the same for every row: one category each, not a large file's every row as a string
    provenance = {"source_id": decl.id, "publisher": decl.publisher, "vintage": info.vintage or "", "file": info.path}
    own = [c for c in OBS_COLUMNS if c not in provenance]
    is_country = kind == "country"
    countries = rows[own] if is_country.all() else rows.loc[is_country, own]
    countries = countries.assign(**constant(provenance, len(countries)))[OBS_COLUMNS].reset_index(drop=True)
    aggregates = rows[kind == "aggregate"]
    code_, code_cats = text_codes(aggregates["area_code"])
    name_, name_cats = text_codes(aggregates["area_name"])
    aggregates = aggregates.assign(area=per_pair(name_, name_cats, code_, code_cats, lambda n, c: n if n != "" else c),
                                   **constant(provenance, len(aggregates)))
    aggregates = aggregates[OBS_COLUMNS + ["area"]].reset_index(drop=True)
    unknown = rows[kind == "unknown"]
    for name, group in unknown.groupby("area_name", sort=True, observed=True):
        line = int(group["line"].min())
        problems.append(unknown_name_problem(ref, shown, line, str(name or group["area_code"].iloc[0]), len(group)))
        unresolved.append({"file": info.path, "line": line, "name": name, "indicator": group["indicator"].iloc[0],
                           "rows": len(group)})
    classification = _classification(raw, ref, shown, info, problems, unresolved)
    return Mapped(countries, aggregates, pd.DataFrame(unresolved), pd.DataFrame(unmapped), classification)


def groups(rows: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Each row's combination of texts in `columns`, numbered in the order the combinations first
    appear, and a table of the combinations in that order with their first line and number of rows
    (as a groupby of the columns, worked out on their codes)."""
    coded = [text_codes(rows[c]) for c in columns]
    key = row_keys([codes for codes, _ in coded])
    n = len(key)
    first = np.full(int(key.max()) + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first, key, np.arange(n))
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    group = rank[key]
    at = first[order]  # each combination's first row
    line = np.full(len(order), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(line, group, rows["line"].to_numpy())
    table = pd.DataFrame({c: [texts[i] for i in codes[at].tolist()] for c, (codes, texts) in zip(columns, coded)})
    return group, table.assign(line=line, rows=np.bincount(group, minlength=len(order)))


def lookup(texts: list[str], index: np.ndarray) -> pd.Categorical:
    """`texts[index]` as a categorical whose categories are the texts used, sorted (as strings sort)."""
    cats = sorted(set(texts))
    pos = {t: i for i, t in enumerate(cats)}
    codes = np.array([pos[t] for t in texts], dtype=np.int32)[index] if texts else np.zeros(0, np.int32)
    used = np.bincount(codes, minlength=len(cats)) > 0
    if not used.all():  # renumber without the texts no row has
        codes = (np.cumsum(used) - 1).astype(np.int32)[codes]
        cats = [t for t, u in zip(cats, used) if u]
    return pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype="str"))


def per_pair(a: np.ndarray, a_texts: list[str], b: np.ndarray, b_texts: list[str],
             fn: Callable[[str, str], str]) -> pd.Categorical:
    """`fn(a_text, b_text)` for every row, worked out once per distinct pair of texts."""
    key = a.astype(np.int64) * len(b_texts) + b
    pairs, inverse = distinct(key, len(a_texts) * len(b_texts))
    return lookup([fn(a_texts[k // len(b_texts)], b_texts[k % len(b_texts)]) for k in pairs.tolist()], inverse)


def distinct(key: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct numbers of `key` (each below `bound`), in order, and for every row the place of its
    number among them: counted when the range of numbers is small, else sorted (for millions of
    distinct numbers several times faster than hashing them)."""
    small = np.int32 if min(bound, len(key)) < 2 ** 31 else np.int64  # ids below 2**31 fit in 32 bits
    if bound <= max(1 << 16, len(key)):
        present = np.bincount(key, minlength=bound) > 0
        place = (np.cumsum(present) - 1).astype(small)
        return np.flatnonzero(present), place[key]
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    new = np.empty(len(key), dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    place = np.empty(len(key), dtype=small)
    place[order] = np.cumsum(new) - 1
    return ordered[new], place


def constant(values: dict[str, str], n: int) -> dict[str, pd.Categorical]:
    """A column holding one text on every row, for each of `values`: one category, a byte a row."""
    return {name: pd.Categorical.from_codes(np.zeros(n, np.int8), categories=pd.Index([value], dtype="str"))
            for name, value in values.items()}


def _check_categories(rows: pd.DataFrame, catalog: Catalog, shown: str, problems: list[Problem]) -> None:
    """A coded (categorical) indicator holds only the codes its catalog entry defines."""
    for code in rows["indicator"].unique():
        allowed = catalog[code].categories
        if not allowed:
            continue
        bad = rows[(rows["indicator"] == code) & ~rows["value"].isin([float(k) for k in allowed])]
        if len(bad):
            first = bad.iloc[0]
            problems.append(Problem(
                shown, int(first["line"]), f"{first['ind_code']} = {first['value']:g} is not one of the codes of "
                                           f"{code} ({', '.join(str(k) for k in allowed)}); {len(bad)} such value(s)",
                "the publisher's coding changed: check its data dictionary and the catalog's categories"))


def check_bounds(rows: pd.DataFrame, catalog: Catalog, shown: str, problems: list[Problem],
                 withheld: dict[str, list[Problem]] | None = None) -> pd.DataFrame:
    """Values outside the range their indicator can take are errors, and are never used.

    One problem per indicator names the first such line and how many there are; the rows are
    removed, so that even a report that goes on (`data check`) never shows them as figures."""
    keep = pd.Series(True, index=rows.index)
    for code in sorted(rows["indicator"].unique()):
        low, high = catalog[code].limits
        if low is None and high is None:
            continue
        values = rows["value"]
        bad = (rows["indicator"] == code) & ((values < low if low is not None else False)
                                             | (values > high if high is not None else False))
        if not bad.any():
            continue
        keep &= ~bad
        first = rows[bad].sort_values("line", kind="stable").iloc[0]
        span = f"[{_g(low)}, {_g(high)}]"
        series = first["ind_code"] or first["ind_name"]
        area = first["area_code"] or first["area_name"]
        problem = Problem(
            shown, int(first["line"]),
            f"{series} = {first['value']:g} ({area}, {first['year']}) is outside the range of {code}, {span} "
            f"({catalog[code].unit}); {int(bad.sum())} such value(s), not used",
            "a damaged file, or values on another scale: declare `scale:` for the source in sources.yaml, or "
            f"give {code} its own `bounds:` in config/indicators.yaml if such values are possible")
        problems.append(problem)
        if withheld is not None:
            withheld.setdefault(code, []).append(problem)
    return rows if keep.all() else rows[keep]


def _g(bound: float | None) -> str:
    return "…" if bound is None else f"{bound:g}"


def _classification(raw: readers.RawTable, ref: CountryRef, shown: str, info: FileInfo,
                    problems: list[Problem], unresolved: list[dict]) -> pd.DataFrame | None:
    """A file that classifies countries (e.g. by region) rather than measuring them."""
    if raw.classification is None:
        return None
    info.classifies = True
    cl = raw.classification
    resolved = [ref.resolve_code(c, n) if c else ref.resolve_name(n) for c, n in zip(cl["area_code"], cl["area_name"])]
    cl = cl.assign(iso3=[r.code for r in resolved], kind=[r.kind for r in resolved])
    for name, group in cl[cl["kind"] == "unknown"].groupby("area_name", sort=True):
        line = int(group["line"].min())
        problems.append(unknown_name_problem(ref, shown, line, str(name), len(group)))
        unresolved.append({"file": info.path, "line": line, "name": name, "indicator": "(classification)",
                           "rows": len(group)})
    return cl


def _breakdown(c1: str, c2: str) -> str:
    parts = []
    for value in (c1, c2):
        if value:
            code, _, label = value.partition("|")
            parts.append(label or code)
    return " | ".join(parts)


def _sex_label(sex: str) -> str:
    return {"F": "female", "M": "male", "O": "other sex"}.get(sex, "")


def flag(status: pd.Series, name: str) -> pd.Series:
    """True where a status says `name` (estimate, break, …), in words or as the one-letter code."""
    out = status.str.contains("|".join(FLAG_WORDS[name]), regex=True)
    return out | (status == FLAG_CODES[name])


def check_duplicates(obs: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """The same (country, indicator, year, breakdown, source) twice: identical is dropped, different refused."""
    key = ["iso3", "indicator", "year", "sex", "breakdown", "source_id", "source_code", "vintage"]
    ids = row_keys([sortable(obs[k]) for k in key])  # compared as numbers, not as texts
    dup = np.bincount(ids)[ids] > 1
    if not dup.any():
        return obs
    conflicting = 0
    for _, group in obs[dup].groupby(key, sort=True, observed=True):
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
    return obs[~pd.Series(ids).duplicated(keep="first").to_numpy()].reset_index(drop=True)


def row_keys(columns: list[np.ndarray]) -> np.ndarray:
    """A number for every row's combination of values (integer columns), the same for the same
    combination, in the order the combinations sort (by sorting numbers, without hashing)."""
    ids = np.zeros(len(columns[0]), dtype=np.int64)
    bound = 1  # every id is below it
    for col in columns:
        if not len(col):
            break
        low = int(col.min())
        width = int(col.max()) - low + 1
        if bound >= (1 << 62) // width:  # renumber before the product overflows
            found, place = distinct(ids, bound)
            ids, bound = place.astype(np.int64), len(found)
        ids *= width
        ids += col
        if low:
            ids -= low
        bound *= width
    return distinct(ids, bound)[1]


def report_empty(files: list[FileInfo], cfg: SourcesFile, catalog: Catalog, obs: pd.DataFrame,
                 problems: list[Problem]) -> None:
    """A file read without error that holds no values (only its header, or cut at a line boundary
    before its first row) is a warning naming the indicators that go without because of it; so is
    a file whose name promises a series of which neither it nor any other file gives a value."""
    decls = {d.id: d for d in cfg.sources}
    have = set(obs["indicator"].unique()) if len(obs) else set()
    refused = [p.file for p in problems if p.severity == "error" and p.file]
    for info in files:
        if info.error or info.role != "data" or info.classifies or info.source_id not in decls:
            continue
        if any(f.replace("\\", "/").endswith(info.path) for f in refused):
            continue  # already reported with the reason
        promised = promised_indicators(info.path, decls[info.source_id], info.layout, catalog)
        # a code with several definitions (SI.POV.DDAY) goes without only when none of them has data
        missing = sorted({code for group in promised for code in group if not have & set(group)})
        named = sorted({code for group in promised for code in group})
        if info.rows == 0:
            if missing:
                what = f"{', '.join(missing)} {'goes' if len(missing) == 1 else 'go'} without data: no other file " \
                       "gives a value"
            elif named:
                what = f"{', '.join(named)} {'comes' if len(named) == 1 else 'come'} from other files"
            else:
                what = "no indicator comes from it"
            problems.append(Problem(info.path, None, f"holds no values (only its header, or cut before its first "
                                                     f"row); {what}",
                                    "download it again; a file the publisher really ships empty can be left out "
                                    "of sources.yaml", "warning"))
        elif missing:
            problems.append(Problem(info.path, None, f"its name promises {', '.join(missing)}, but it gives no value "
                                                     "of it and no other file does",
                                    "check that the file is whole (download it again)", "warning"))


def promised_indicators(path: str, decl: SourceDecl, layout: str, catalog: Catalog) -> list[tuple[str, ...]]:
    """The catalog indicators a file should give, grouped by the publisher code they share: those its
    source declares, and those whose code its name carries (API_SL.UEM.TOTL.ZS_…, ILR_TUMT_NOC_RT_A.csv,
    si.pov.gini/data.csv)."""
    family = decl.family or (readers.REGISTRY[layout].family if layout in readers.REGISTRY else "")
    name = path.upper()
    groups: dict[str, set[str]] = {}
    if decl.indicator:
        groups.setdefault(decl.indicator, set()).add(decl.indicator)
    for code in decl.map.values():
        if code in catalog:
            groups.setdefault(code, set()).add(code)
    for code in catalog:
        for src in catalog[code].sources:
            if src.publisher != family or src.publisher == "owid":
                continue
            if re.search(rf"(?<![A-Z0-9.]){re.escape(src.code.upper())}(?![A-Z0-9.])", name):
                groups.setdefault(src.code.upper(), set()).add(code)
    return [tuple(sorted(group)) for _, group in sorted(groups.items())]

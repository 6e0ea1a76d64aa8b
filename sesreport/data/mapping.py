"""A raw table in; observations out: catalog indicators, ISO3 countries (aggregates apart), flags, provenance."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..catalog import Catalog, Match
from ..errors import Problem
from . import readers
from .countries import CountryRef, unknown_name_problem
from .dataset import OBS_COLUMNS, FileInfo
from .sources import SourceDecl

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
    """One file's rows, sorted: country observations, aggregates, unknown areas, unmapped series."""

    obs: pd.DataFrame
    aggregates: pd.DataFrame
    unresolved: pd.DataFrame
    unmapped: pd.DataFrame
    classification: pd.DataFrame | None


def map_file(raw: readers.RawTable, decl: SourceDecl, info: FileInfo, shown: str, catalog: Catalog,
             ref: CountryRef, problems: list[Problem]) -> Mapped:
    """Map one file's raw rows to catalog indicators and countries, recording what was set aside."""
    family = decl.family or readers.REGISTRY[raw.layout].family
    rows = raw.rows

    # 1. Source series -> catalog indicator, checking the definition.
    combos = rows.groupby(SERIES_COLUMNS, sort=False, dropna=False).agg(line=("line", "min"), rows=("line", "size"))
    combos = combos.reset_index()
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
            problems.append(Problem(shown, int(c.line), match.problem,
                                    "add a catalog indicator for this definition in config/indicators.yaml "
                                    "(never merge two definitions under one code)"))
        elif not match.indicator:
            breakdown = " | ".join(x for x in (_sex_label(c.sex), _breakdown(c.classif1, c.classif2)) if x)
            unmapped.append({"file": info.path, "line": int(c.line), "code": c.ind_code, "name": c.ind_name,
                             "breakdown": breakdown, "rows": int(c.rows)})
    combos["indicator"] = indicators
    combos["consumed1"] = consumed1
    combos["consumed2"] = consumed2
    rows = rows.merge(combos[SERIES_COLUMNS + ["indicator", "consumed1", "consumed2"]], on=SERIES_COLUMNS, how="left")
    rows = rows[rows["indicator"] != ""]
    unresolved: list[dict] = []
    if not len(rows):
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in OBS_COLUMNS})
        classification = _classification(raw, ref, shown, info, problems, unresolved)
        return Mapped(empty, empty.assign(area=""), pd.DataFrame(unresolved), pd.DataFrame(unmapped), classification)
    c1 = rows["classif1"].where(~rows["consumed1"].astype(bool), "")
    c2 = rows["classif2"].where(~rows["consumed2"].astype(bool), "")
    rows = rows.assign(breakdown=[_breakdown(a, b) for a, b in zip(c1, c2)])
    _check_categories(rows, catalog, shown, problems)

    # 2. Areas -> ISO3 countries, aggregates, or unknown.
    areas = rows[["area_code", "area_name"]].drop_duplicates()
    kinds, codes = [], []
    for code, name in areas.itertuples(index=False):
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
        estimate=flag(status, "estimate") | estimate_ind.astype(bool),
        **{"break": flag(status, "break")},
        unreliable=flag(status, "unreliable"), imputed=flag(status, "imputed"),
    )
    countries = rows[rows["kind"] == "country"][OBS_COLUMNS].reset_index(drop=True)
    aggregates = rows[rows["kind"] == "aggregate"]
    aggregates = aggregates.assign(area=aggregates["area_name"].where(aggregates["area_name"] != "",
                                                                      aggregates["area_code"]))
    aggregates = aggregates[OBS_COLUMNS + ["area"]].reset_index(drop=True)
    unknown = rows[rows["kind"] == "unknown"]
    for name, group in unknown.groupby("area_name", sort=True):
        line = int(group["line"].min())
        problems.append(unknown_name_problem(ref, shown, line, str(name or group["area_code"].iloc[0]), len(group)))
        unresolved.append({"file": info.path, "line": line, "name": name, "indicator": group["indicator"].iloc[0],
                           "rows": len(group)})
    classification = _classification(raw, ref, shown, info, problems, unresolved)
    return Mapped(countries, aggregates, pd.DataFrame(unresolved), pd.DataFrame(unmapped), classification)


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
    dup = obs.duplicated(key, keep=False)
    if not dup.any():
        return obs
    conflicting = 0
    for _, group in obs[dup].groupby(key, sort=True):
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

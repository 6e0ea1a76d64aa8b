"""A Stata cross-section in (a .dta file, or one inside a zip archive, read in memory); raw tables out.

Policy databases such as the WORLD Policy Analysis Center's ship one row per country and one
coded variable per column, for a single point in time that the file does not state as a year:
sources.yaml declares it (`year:`). Each numeric variable is a series, named by its variable
label; the codes stay codes (the catalog says what they mean).
"""

from __future__ import annotations

import fnmatch
import io
from pathlib import Path, PurePosixPath

import pandas as pd

from ...errors import Problem, did_you_mean
from .common import Collector, FileUnreadable, RawTable, ReadOptions, check_archive, parse_date
from .long import AreaDecoder

AREA_COLUMNS = ("iso3", "iso_3", "iso3c", "iso", "country_code")


def sniff_archive(names: list[str]) -> str | None:
    return "stata" if sum(n.lower().endswith(".dta") for n in names) == 1 else None


def read_dta_bytes(path: Path, shown: str, member: str | None) -> tuple[bytes, str]:
    """The .dta itself, or the one member of a zip archive that matches `member` (default: *.dta)."""
    if path.suffix.lower() == ".dta":
        return path.read_bytes(), shown
    archive = check_archive(path, shown)
    with archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        pattern = member or "*.dta"
        found = [n for n in names if fnmatch.fnmatch(n, pattern) or fnmatch.fnmatch(PurePosixPath(n).name, pattern)]
        if len(found) != 1:
            what = "no member matches" if not found else f"{len(found)} members match"
            raise FileUnreadable(Problem(shown, None, f"{what} '{pattern}' in the archive",
                                         "declare `member:` for this source in sources.yaml; the archive holds: "
                                         + ", ".join(names)))
        return archive.read(found[0]), f"{shown}[{found[0]}]"


def read_stata(path: Path, shown: str, opts: ReadOptions | None = None) -> RawTable:
    data, where = read_dta_bytes(path, shown, opts.member if opts else None)
    try:
        with pd.io.stata.StataReader(io.BytesIO(data)) as reader:
            df = reader.read(convert_categoricals=False)
            labels = reader.variable_labels()
            stamp = reader.time_stamp
            title = reader.data_label
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise FileUnreadable(Problem(where, None, f"not a readable Stata file ({exc})", "download it again")) from None
    declared = (opts.columns.get("area") if opts else None) or None
    lowered = {c.lower(): c for c in df.columns}
    area = declared or next((lowered[c] for c in AREA_COLUMNS if c in lowered), None)
    if area is None or area not in df.columns:
        at = opts.declared_at if opts else "sources.yaml"
        hint = did_you_mean(area, df.columns) if area else None
        raise FileUnreadable(Problem(
            where, None, f"no area column '{area}' (columns.area, declared in {at})" if area else "no ISO3 column",
            (hint + " " if hint else "") + "the variables are: " + ", ".join(map(str, df.columns))))
    year = opts.year if opts else None
    if year is None:
        raise FileUnreadable(Problem(where, None, "one cross-section without a year column",
                                     "declare the year the values refer to (`year:`) for this source in sources.yaml"))
    decoder = AreaDecoder((opts.area_codes if opts else None) or "iso3", None)
    names = df[lowered["country"]].astype(str) if "country" in lowered else pd.Series("", index=df.index)
    out = Collector(where)
    series = [c for c in df.columns if c != area and pd.api.types.is_numeric_dtype(df[c])]
    for row, (code, name) in enumerate(zip(df[area].astype(str), names)):
        iso3, name = decoder.decode(code.strip(), name.strip())
        for col in series:
            value = df[col].iat[row]
            if pd.isna(value):
                continue
            out.add(row + 1, year, str(value), col, area_code=iso3, area_name=name, ind_code=col,
                    ind_name=labels.get(col, ""))
    vintage = parse_date(stamp) if stamp else None
    return RawTable("stata", out.finish(), vintage=vintage, vintage_from="file" if vintage else None,
                    title=title or None, indicator_names={c: labels.get(c, "") for c in series}, problems=out.problems)

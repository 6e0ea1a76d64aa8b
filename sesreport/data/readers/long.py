"""Long tables in (one value per line, columns named in sources.yaml, or DDF datapoints); raw tables out.

The generic `long` layout reads any such file from a declaration: which column holds the area
(and in which code system: ISO3 in any case, ISO2, UN M49 or names), the year, the value, and
optionally sex, status flags, the publisher's source, the series and a breakdown. The `ddf` layout
(Gapminder's DDF, e.g. the UN SDG database republished by open-numbers) derives that declaration
from the file's own name, `ddf--datapoints--<value>--by--<key>--<key>….csv`, and decodes the area
codes through the entity file beside it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pycountry

from ...errors import Problem, did_you_mean, display_path
from .common import (
    Collector,
    CsvRows,
    FileUnreadable,
    LongSpec,
    RawTable,
    ReadOptions,
    check_width,
    header_and_body,
    read_text,
    sex_code,
    with_last,
    year_of,
)

DDF_NAME = re.compile(r"^ddf--datapoints--(?P<value>[a-z0-9_]+)--by--(?P<keys>[a-z0-9_]+(?:--[a-z0-9_]+)*)$")
DDF_TIME = ("year", "time")
DDF_SEX = ("sex",)
DDF_STATUS = ("nature",)  # UN SDG: C country data, CA adjusted, E estimated, M modelled, G global
DDF_UNIT = ("units", "unit")

# the field of the declaration each LongSpec attribute comes from, for messages
FIELD_NAMES = {
    "area": "columns.area", "time": "columns.time", "value": "columns.value", "area_name": "columns.area_name",
    "sex": "columns.sex", "status": "columns.status", "source": "columns.source", "series": "columns.series",
    "unit": "columns.unit",
}


def sniff(path: Path, lines: list[str]) -> str | None:
    return "ddf" if DDF_NAME.match(path.stem) else None


# --------------------------------------------------------------------------------------------
# The generic long layout


def spec_from_options(opts: ReadOptions) -> LongSpec:
    """The LongSpec a `long` source declares (columns, area codes, lookup), with the lookup read."""
    cols = opts.columns
    names = read_lookup(*opts.lookup) if opts.lookup else None
    return LongSpec(area=cols["area"] or "", time=cols.get("time") or "", value=cols.get("value") or "",
                    area_codes=opts.area_codes or "iso3", area_name=cols.get("area_name"), sex=cols.get("sex"),
                    status=cols.get("status"), source=cols.get("source"), series=cols.get("series"),
                    unit=cols.get("unit"), breakdowns=tuple(b for b in (cols.get("breakdown"),) if b), names=names)


def read_long(path: Path, shown: str, opts: ReadOptions | None = None, spec: LongSpec | None = None,
              final_newline: bool = False) -> RawTable:
    """A long table as declared in sources.yaml (or as derived for a known layout).

    `final_newline`: the publisher ends every line with a line break, so a last line without one
    was cut off (DDF files do; a team's own files may not)."""
    if spec is None:
        if opts is None or not opts.columns:
            raise FileUnreadable(Problem(shown, None, "the long layout needs its columns declared",
                                         "add `columns: {area: …, time: …, value: …}` to its source in sources.yaml"))
        spec = spec_from_options(opts)
    declared_at = opts.declared_at if opts else "sources.yaml"
    header_line, header, body, applied, problems = header_and_body(path, shown, opts, final_newline)
    idx = {name.strip(): i for i, name in enumerate(header)}

    def column(attr: str, name: str | None) -> int | None:
        if not name:
            return None
        if name in idx:
            return idx[name]
        hint = did_you_mean(name, idx) or ""
        raise FileUnreadable(Problem(
            shown, header_line,
            f"column '{name}' ({FIELD_NAMES.get(attr, attr)}, declared in {declared_at}) is not in the header",
            (hint + " " if hint else "") + "the header is: " + ", ".join(h for h in header if h.strip())))

    area, time, value = column("area", spec.area), column("time", spec.time), column("value", spec.value)
    if area is None or time is None or value is None:
        raise FileUnreadable(Problem(shown, header_line, "a long table needs its area, time and value columns",
                                     f"declare columns.area, columns.time and columns.value in {declared_at}"))
    area_name = column("area_name", spec.area_name)
    sex, status, source = column("sex", spec.sex), column("status", spec.status), column("source", spec.source)
    series, unit = column("series", spec.series), column("unit", spec.unit)
    breakdowns = [column(f"breakdown {b}", b) for b in spec.breakdowns[:2]]
    code = spec.series_code or header[value].strip()
    areas = AreaDecoder(spec.area_codes, spec.names)
    units: dict[str, tuple[str, int]] = {}

    def get(record: list[str], i: int | None) -> str:
        return record[i].strip() if i is not None and i < len(record) else ""

    out = Collector(shown)
    for line, record, last in with_last(body):
        if not any(cell.strip() for cell in record):
            continue
        check_width(shown, line, record, len(header), last)
        ind_code = get(record, series) or code
        if unit is not None:
            seen = units.setdefault(ind_code, (get(record, unit), line))
            if seen[0] != get(record, unit):
                raise FileUnreadable(Problem(
                    shown, line, f"series '{ind_code}' is in '{get(record, unit)}' here but in '{seen[0]}' "
                                 f"on line {seen[1]}", "declare each unit as a separate source, or split the file"))
        area_code, name = areas.decode(get(record, area), get(record, area_name))
        splits = [f"|{header[b].strip()}: {get(record, b)}" if get(record, b) else "" for b in breakdowns if b]
        splits += ["", ""]
        out.add(line, year_of(get(record, time), shown, line), record[value], header[value].strip(),
                area_code=area_code, area_name=name, ind_code=ind_code, sex=sex_code(get(record, sex)),
                status=get(record, status), source_code=get(record, source), classif1=splits[0],
                classif2=splits[1])
    return RawTable("long", out.finish(), problems=problems + out.problems, repairs=applied,
                    codeless_groups=spec.area_codes == "m49")


class AreaDecoder:
    """Area codes in one code system -> (ISO3 code or "", name), remembered per code."""

    def __init__(self, system: str, names: dict[str, str] | None):
        self.system = system
        self.names = names or {}
        self.seen: dict[tuple[str, str], tuple[str, str]] = {}

    def decode(self, code: str, name: str = "") -> tuple[str, str]:
        key = (code, name)
        if key not in self.seen:
            self.seen[key] = self._decode(code, name or self.names.get(code, ""))
        return self.seen[key]

    def _decode(self, code: str, name: str) -> tuple[str, str]:
        if self.system == "name":
            return "", code
        if self.system == "iso3":
            return code.upper(), name
        if self.system == "iso2":
            found = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
            return (found.alpha_3, name) if found else ("", name or code)
        # UN M49: the countries' codes are ISO 3166 numeric; every other code is a group of countries
        found = pycountry.countries.get(numeric=code.zfill(3)) if code.isdigit() else None
        return (found.alpha_3, name) if found else ("", name or f"M49 {code}")


def read_lookup(path: Path, code_col: str, name_col: str) -> dict[str, str]:
    """A two-column lookup (code -> name), such as a DDF entity file."""
    shown = display_path(path)
    records = list(CsvRows(read_text(path, shown), shown, final_newline=False))
    header = [h.strip() for h in records[0][1]]
    for col in (code_col, name_col):
        if col not in header:
            hint = did_you_mean(col, header) or ""
            raise FileUnreadable(Problem(
                shown, records[0][0], f"column '{col}' of the area lookup is not in its header",
                (hint + " " if hint else "") + "the header is: " + ", ".join(header)))
    ci, ni = header.index(code_col), header.index(name_col)
    return {r[ci].strip(): r[ni].strip() for _, r in records[1:] if len(r) > max(ci, ni) and r[ci].strip()}


# --------------------------------------------------------------------------------------------
# DDF datapoints


def ddf_spec(path: Path, shown: str, opts: ReadOptions | None) -> LongSpec:
    """The long declaration a DDF datapoints file implies through its name and its entity files."""
    match = DDF_NAME.match(path.stem)
    if not match:
        raise FileUnreadable(Problem(shown, None, "not a DDF datapoints file name "
                                     "(ddf--datapoints--<concept>--by--<key>--….csv)", "check the layout"))
    keys = match.group("keys").split("--")
    time = next((k for k in keys if k in DDF_TIME), None)
    areas = [k for k in keys if k not in DDF_TIME + DDF_SEX + DDF_STATUS + DDF_UNIT
             and (path.parent / f"ddf--entities--{k}.csv").is_file()]
    if time is None or len(areas) != 1:
        raise FileUnreadable(Problem(shown, None, "cannot tell the area and the year from the file name",
                                     "declare the file with layout: long and its columns in sources.yaml"))
    area = areas[0]
    entity = path.parent / f"ddf--entities--{area}.csv"
    names = read_lookup(entity, area, "name")
    system = opts.area_codes if opts and opts.area_codes else _guess_system(names)
    rest = [k for k in keys if k not in (time, area) and k not in DDF_SEX + DDF_STATUS + DDF_UNIT]
    pick = {k: next((x for x in keys if x in group), None) for k, group in
            (("sex", DDF_SEX), ("status", DDF_STATUS), ("unit", DDF_UNIT))}
    return LongSpec(area=area, time=time, value=match.group("value"), area_codes=system, sex=pick["sex"],
                    status=pick["status"], unit=pick["unit"], breakdowns=tuple(rest), names=names,
                    series_code=match.group("value").upper())


def _guess_system(names: dict[str, str]) -> str:
    codes = list(names)
    if codes and all(c.isdigit() for c in codes):
        return "m49"
    if codes and all(len(c) == 3 and c.isalpha() for c in codes):
        return "iso3"
    return "name"


def ddf_companions(path: Path) -> list[Path]:
    """The entity files a DDF datapoints file is decoded with."""
    match = DDF_NAME.match(path.stem)
    if not match:
        return []
    return [p for k in match.group("keys").split("--") if (p := path.parent / f"ddf--entities--{k}.csv").is_file()]


def read_ddf(path: Path, shown: str, opts: ReadOptions | None = None) -> RawTable:
    table = read_long(path, shown, opts, ddf_spec(path, shown, opts), final_newline=True)
    table.layout = "ddf"
    return table

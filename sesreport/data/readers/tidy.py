"""A team's own results in (tidy CSV or Excel: iso3 or country, indicator, year, value); raw tables out."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ...errors import Problem
from .common import (
    Collector,
    FileUnreadable,
    RawTable,
    ReadOptions,
    cell_text,
    check_width,
    csv_fields,
    header_and_body,
    sex_code,
    shorten,
    with_last,
    workbook_rows,
    year_number,
)

ALIASES = {
    "iso3": "iso3", "iso": "iso3", "country code": "iso3", "country_code": "iso3",
    "country": "country", "country name": "country", "country_name": "country",
    "indicator": "indicator", "year": "year", "value": "value", "sex": "sex",
    "breakdown": "breakdown", "source": "source", "status": "status", "flag": "status",
}


def sniff(path: Path, lines: list[str]) -> str | None:
    lowered = {c.lower() for c in csv_fields(lines[0]) if c != ""}
    if {"indicator", "year", "value"} <= lowered and ({"iso3", "country"} & lowered):
        return "tidy"
    return None


def read_tidy_csv(path: Path, shown: str, opts: ReadOptions | None = None) -> RawTable:
    header_line, header, body, applied, problems = header_and_body(path, shown, opts, final_newline=False)
    table = tidy_table(shown, header, body, "tidy")
    table.problems[:0] = problems
    table.repairs = applied
    return table


def read_excel(path: Path, shown: str, opts: ReadOptions | None = None) -> RawTable:
    """The first sheet (or the declared one) of a workbook, in the tidy layout."""
    name, rows = workbook_rows(path, shown, opts.sheet if opts else None)
    if not rows:
        raise FileUnreadable(Problem(shown, None, "the sheet is empty"))
    text_rows = [(n, [cell_text(v) for v in values]) for n, values in rows]
    header = text_rows[0][1]
    while header and header[-1] == "":
        header = header[:-1]
    return tidy_table(f"{shown} [{name}]", header, text_rows[1:], "excel")


def tidy_table(shown: str, header: list[str], body: Iterable[tuple[int, list[str]]], layout: str) -> RawTable:
    idx: dict[str, int] = {}
    for i, name in enumerate(header):
        key = ALIASES.get(name.strip().lower())
        if key and key not in idx:
            idx[key] = i
    missing = [k for k in ("indicator", "year", "value") if k not in idx]
    if "iso3" not in idx and "country" not in idx:
        missing.append("iso3 (or country)")
    if missing:
        raise FileUnreadable(Problem(shown, 1, f"missing column(s): {', '.join(missing)}",
                                     "a tidy file needs iso3 (or country), indicator, year and value"))
    out = Collector(shown)

    def get(record: list[str], key: str) -> str:
        i = idx.get(key)
        return record[i].strip() if i is not None and i < len(record) else ""

    for line, record, last in with_last(body):
        if not any(cell.strip() for cell in record):
            continue
        check_width(shown, line, record, max(idx.values()) + 1, last)
        year_text = get(record, "year")
        year = year_number(year_text)
        if year is None:
            out.problems.append(Problem(shown, line, f"year '{shorten(year_text)}' is not a year; the row was skipped",
                                        "write the year as four digits", "warning"))
            continue
        out.add(line, year, get(record, "value"), "value", area_code=get(record, "iso3"),
                area_name=get(record, "country"), ind_code=get(record, "indicator"), ind_name="",
                sex=sex_code(get(record, "sex")), classif1=get(record, "breakdown"), source_code=get(record, "source"),
                status=get(record, "status"))
    return RawTable(layout, out.finish(), problems=out.problems)

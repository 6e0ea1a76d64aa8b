"""World Bank files in: WDI bulk (API_), DataBank export, WDI long and the metadata files; raw tables out."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd

from ...errors import Problem, display_path
from .common import (
    Collector,
    CsvRows,
    FileUnreadable,
    RawTable,
    ReadOptions,
    check_width,
    csv_fields,
    header_and_body,
    parse_date,
    read_text,
    with_last,
    year_of,
)

YEAR_COLUMN = re.compile(r"^(\d{4}) \[YR(\d{4})\]$")
API_HEADER = ["Country Name", "Country Code", "Indicator Name", "Indicator Code"]


def sniff(path: Path, lines: list[str]) -> str | None:
    """The World Bank layouts, recognised by their first lines."""
    first = csv_fields(lines[0])
    if first[:1] == ["Data Source"]:
        if len(lines) >= 5 and csv_fields(lines[4])[:4] == API_HEADER:
            return "wdi_api"
        return None
    cols = [c for c in first if c != ""]
    if cols[:3] == ["Country Code", "Region", "IncomeGroup"]:
        return "wdi_country_meta"
    if cols[:2] == ["INDICATOR_CODE", "INDICATOR_NAME"]:
        return "wdi_indicator_meta"
    if {"Series Name", "Series Code", "Country Name", "Country Code"} <= set(cols) and any(
            YEAR_COLUMN.match(c) for c in cols):
        return "wdi_databank"
    if cols[:2] == ["Code", "License Type"]:
        return "wdi_databank_meta"
    if cols == ["Country Name", "Country Code", "Year", "Value"]:
        return "wdi_long"
    return None


def read_wdi_api(path: Path, shown: str, opts: ReadOptions | None = None) -> RawTable:
    """The bulk download: a preamble stating the vintage, then one row per area with a column per year."""
    text = read_text(path, shown)
    rows = iter(CsvRows(text, shown))
    preamble: dict[str, str] = {}
    header: list[str] | None = None
    header_line = 0
    for line, record in rows:
        if record[:4] == API_HEADER:
            header, header_line = record, line
            break
        if record and record[0]:
            preamble[record[0]] = record[1] if len(record) > 1 else ""
        if line > 10:
            break
    if header is None:
        raise FileUnreadable(Problem(shown, 1, "no 'Country Name,Country Code,Indicator Name,Indicator Code' header "
                                     "in the first lines", "this is not a WDI bulk download; check the layout"))
    years = year_columns(header, 4, shown, header_line)
    width = len(header)
    out = Collector(shown)
    names: dict[str, str] = {}
    for line, record, last in with_last(rows):
        if not any(record):
            continue
        check_width(shown, line, record, width, last)
        name, code, ind_name, ind_code = record[:4]
        names.setdefault(ind_code, ind_name)
        for col, year in years:
            cell = record[col] if col < len(record) else ""
            if cell:
                out.add(line, year, cell, header[col], area_code=code, area_name=name, ind_code=ind_code,
                        ind_name=ind_name)
    vintage = parse_date(preamble.get("Last Updated Date", ""))
    return RawTable("wdi_api", out.finish(), vintage=vintage, vintage_from="file" if vintage else None,
                    title=preamble.get("Data Source") or None, indicator_names=names, problems=out.problems)


def year_columns(header: list[str], start: int, shown: str, line: int) -> list[tuple[int, int]]:
    """(column, year) for the year columns of a wide layout ('1991' or '1991 [YR1991]')."""
    years = []
    for col, name in enumerate(header[start:], start):
        name = name.strip()
        if not name:
            continue
        match = YEAR_COLUMN.match(name)
        if match:
            years.append((col, int(match.group(1))))
        elif name.isdigit() and len(name) == 4:
            years.append((col, int(name)))
        else:
            raise FileUnreadable(Problem(shown, line, f"column '{name}' is not a year",
                                         "the wide layout expects year columns after the first columns"))
    return years


def read_wdi_databank(path: Path, shown: str, opts: ReadOptions | None = None) -> RawTable:
    """A DataBank export: series by country by year, with '..' for missing and a footer stating the vintage."""
    text = read_text(path, shown)
    records = list(CsvRows(text, shown))
    header_line, header = records[0]
    idx = {name: i for i, name in enumerate(header)}
    missing = [name for name in ("Series Name", "Series Code", "Country Name", "Country Code") if name not in idx]
    if missing:
        raise FileUnreadable(Problem(shown, header_line, f"no column {', '.join(missing)}: not a DataBank export",
                                     "check the layout declared for it in sources.yaml"))
    first_year = min((i for i, name in enumerate(header) if YEAR_COLUMN.match(name.strip())), default=len(header))
    years = year_columns(header, first_year, shown, header_line)
    out = Collector(shown)
    names: dict[str, str] = {}
    vintage: date | None = None
    title = None
    # DataBank appends blank rows and then "Data from database: …" and "Last Updated: MM/DD/YYYY".
    data_rows: list[tuple[int, list[str]]] = []
    footer_started = False
    for line, record in records[1:]:
        head = record[0] if record else ""
        if head.startswith("Data from database:"):
            title = head.split(":", 1)[1].strip()
            footer_started = True
            continue
        if head.startswith("Last Updated:"):
            vintage = parse_date(head.split(":", 1)[1])
            footer_started = True
            continue
        if not any(cell.strip() for cell in record):
            continue
        if footer_started:
            raise FileUnreadable(Problem(shown, line, "data after the DataBank footer lines",
                                         "the file was edited or two exports were joined; download it again"))
        data_rows.append((line, record))
    for i, (line, record) in enumerate(data_rows):
        check_width(shown, line, record, len(header), i == len(data_rows) - 1 and vintage is None)
        ind_code = record[idx["Series Code"]]
        ind_name = record[idx["Series Name"]]
        names.setdefault(ind_code, ind_name)
        for col, year in years:
            out.add(line, year, record[col], header[col], area_code=record[idx["Country Code"]],
                    area_name=record[idx["Country Name"]], ind_code=ind_code, ind_name=ind_name)
    problems = out.problems
    if vintage is None:
        problems.append(Problem(shown, None, "no 'Last Updated:' footer; the file may be truncated",
                                "download it again, or declare its vintage in config/sources.yaml", "warning"))
    return RawTable("wdi_databank", out.finish(), vintage=vintage, vintage_from="file" if vintage else None,
                    title=title, indicator_names=names, problems=problems)


def read_wdi_long(path: Path, shown: str, opts: ReadOptions | None = None) -> RawTable:
    """WDI long CSV, with its Frictionless `datapackage.json` beside it when there is one."""
    header_line, header, body, applied, problems = header_and_body(path, shown, opts)
    if header != ["Country Name", "Country Code", "Year", "Value"]:
        raise FileUnreadable(Problem(shown, header_line, "the header is not Country Name,Country Code,Year,Value: "
                                     "not a WDI long CSV", "check the layout declared for it in sources.yaml"))
    package = read_datapackage(path.parent / "datapackage.json")
    worldbank = package.get("worldbank")
    code = (worldbank.get("indicator") if isinstance(worldbank, dict) else None) or package.get("name") \
        or path.parent.name
    code = str(code).upper()
    name = str(package.get("title") or "")
    out = Collector(shown)
    for line, record, last in with_last(body):
        if not any(record):
            continue
        check_width(shown, line, record, 4, last)
        out.add(line, year_of(record[2], shown, line), record[3], "Value", area_code=record[1],
                area_name=record[0], ind_code=code, ind_name=name)
    licenses = package.get("licenses")
    licence = ", ".join(str(lic.get("name")) for lic in licenses if isinstance(lic, dict) and lic.get("name")) \
        if isinstance(licenses, list) else None
    vintage = package_vintage(package)
    return RawTable("wdi_long", out.finish(), title=name or None, licence=licence or None,
                    vintage=vintage, vintage_from="datapackage" if vintage else None,
                    indicator_names={code: name} if name else {}, problems=problems + out.problems, repairs=applied)


def read_datapackage(path: Path) -> dict:
    """A Frictionless `datapackage.json` (a JSON object), or {} when there is none; refused when it is damaged."""
    if not path.is_file():
        return {}
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        package = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileUnreadable(Problem(shown, exc.lineno, f"not valid JSON ({exc.msg})",
                                     "download the datapackage.json again, or remove it")) from None
    except UnicodeDecodeError:
        raise FileUnreadable(Problem(shown, None, "not UTF-8 text",
                                     "download the datapackage.json again, or remove it")) from None
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number, nesting too deep
        long_number = re.search(r"\d{4000,}", text)
        line = text.count("\n", 0, long_number.start()) + 1 if long_number else None
        reason = "nested too deeply" if isinstance(exc, RecursionError) else "holds a number too long to read"
        raise FileUnreadable(Problem(shown, line, f"not a readable datapackage.json ({reason})",
                                     "download the datapackage.json again, or remove it")) from None
    if not isinstance(package, dict):
        raise FileUnreadable(Problem(shown, 1, f"a datapackage.json is a JSON object ({{…}}); this one is a "
                                               f"{type(package).__name__}",
                                     "download the datapackage.json again, or remove it"))
    return package


#: Keys of a datapackage.json that state when the data was published, most specific first.
PACKAGE_DATES = ("last_updated", "lastUpdated", "updated", "modified", "dateModified", "created")


def package_vintage(package: dict) -> date | None:
    """The release date a datapackage.json states, if any."""
    for key in PACKAGE_DATES:
        value = package.get(key)
        if isinstance(value, str):
            found = parse_date(value[:10])
            if found:
                return found
    return None


def read_wdi_country_meta(path: Path, shown: str) -> pd.DataFrame:
    """The Metadata_Country table: code, region (empty for aggregates), income group, name."""
    text = read_text(path, shown)
    records = list(CsvRows(text, shown))
    header = records[0][1]
    idx = {name: i for i, name in enumerate(header)}
    needed = ["Country Code", "Region", "IncomeGroup", "TableName"]
    missing = [n for n in needed if n not in idx]
    if missing:
        raise FileUnreadable(Problem(shown, 1, f"missing columns {missing} in the country metadata"))
    rows = []
    for i, (line, record) in enumerate(records[1:]):
        if not any(record):
            continue
        if len(record) <= max(idx[n] for n in needed):
            check_width(shown, line, record, len(header), i == len(records) - 2)
        rows.append({
            "iso3": record[idx["Country Code"]].strip(),
            "region": record[idx["Region"]].strip(),
            "income": record[idx["IncomeGroup"]].strip(),
            "name": record[idx["TableName"]].strip(),
            "line": line,
        })
    return pd.DataFrame(rows)


def read_wdi_indicator_meta(path: Path, shown: str) -> dict[str, dict[str, str]]:
    """The Metadata_Indicator table: code -> name, source note and organisation."""
    text = read_text(path, shown)
    records = list(CsvRows(text, shown))
    header = records[0][1]
    idx = {name: i for i, name in enumerate(header)}
    out = {}
    for _, record in records[1:]:
        if not any(record):
            continue
        code = record[idx["INDICATOR_CODE"]]
        out[code] = {
            "name": record[idx["INDICATOR_NAME"]],
            "note": record[idx.get("SOURCE_NOTE", 2)],
            "organization": record[idx.get("SOURCE_ORGANIZATION", 3)],
        }
    return out

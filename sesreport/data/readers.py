"""Readers for the layouts in which indicator data is really published.

Every reader takes a file exactly as the publisher ships it (byte-order marks, CRLF, preambles,
trailing empty columns, `..` for missing, footers) and returns a :class:`RawTable`: one row per
value with the area as the source names it, the source's own indicator code and name, the
breakdown, the year, the value, the status and the line it came from. Mapping to catalog
indicators and to ISO3 countries happens later, in :mod:`sesreport.data.load`.

Problems are collected, never raised, unless the file cannot be trusted at all.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from ..errors import Problem

RAW_COLUMNS = [
    "area_code", "area_name", "ind_code", "ind_name", "sex", "classif1", "classif2",
    "source_code", "year", "value", "status", "line",
]

LAYOUTS = {
    "wdi_api": "World Bank WDI bulk download (API_… wide CSV)",
    "wdi_country_meta": "World Bank Metadata_Country file",
    "wdi_indicator_meta": "World Bank Metadata_Indicator file",
    "wdi_databank": "World Bank DataBank export (YYYY [YRYYYY] columns)",
    "wdi_databank_meta": "World Bank DataBank series metadata",
    "wdi_long": "WDI long CSV (Country Name,Country Code,Year,Value)",
    "ilostat_codes": "ILOSTAT CSV, codes only (ref_area,indicator,source,time,obs_value,…)",
    "ilostat_labels": "ILOSTAT CSV, labels only (ref_area.label,…)",
    "ilostat_codes_labels": "ILOSTAT CSV, codes and labels side by side",
    "owid_grapher": "Our World in Data grapher CSV (Entity,Code,Year,…)",
    "owid_names": "Our World in Data CSV without codes (Entity,Year,…)",
    "tidy": "tidy CSV (iso3 or country, indicator, year, value)",
    "excel": "tidy Excel sheet (iso3 or country, indicator, year, value)",
}

MISSING = {"", "..", "NA", "N/A", "n/a", "NaN", "nan", "-", "—"}

SEX_CODES = {
    "sex_t": "T", "total": "T", "sex: total": "T", "both sexes": "T", "t": "T", "_t": "T",
    "sex_f": "F", "female": "F", "sex: female": "F", "women": "F", "f": "F",
    "sex_m": "M", "male": "M", "sex: male": "M", "men": "M", "m": "M",
    "sex_o": "O", "other": "O", "sex: other": "O", "o": "O",
}


class FileUnreadable(Exception):
    """The file cannot be trusted at all; carries the problem that says why."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


@dataclass
class RawTable:
    """What one file holds, before mapping to the catalog and to countries."""

    layout: str
    rows: pd.DataFrame
    vintage: date | None = None
    vintage_from: str | None = None  # where the vintage was read: "file", "filename", "datapackage"
    title: str | None = None
    licence: str | None = None
    indicator_names: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    classification: pd.DataFrame | None = None  # for files that classify countries rather than measure


# --------------------------------------------------------------------------------------------
# Low-level CSV access


def read_text(path: Path, shown: str) -> str:
    raw = path.read_bytes()
    if not raw.strip():
        raise FileUnreadable(Problem(shown, None, "the file is empty", "download it again"))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FileUnreadable(
            Problem(shown, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                    "publishers ship UTF-8; download the file again instead of re-saving it from a spreadsheet")
        ) from None


class CsvRows:
    """Iterate over CSV records with the line on which each starts, failing loudly on broken quoting."""

    def __init__(self, text: str, shown: str):
        self.text = text
        self.shown = shown

    def __iter__(self):
        reader = csv.reader(io.StringIO(self.text, newline=""), strict=True)
        start = 1
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileUnreadable(
                    Problem(self.shown, start, f"broken CSV ({exc}); the file looks truncated or damaged",
                            "download it again")
                ) from None
            yield start, record
            start = reader.line_num + 1


def header_problem(shown: str, first_line: str) -> Problem:
    """Explain an unrecognised header, spotting the common wrong-delimiter case."""
    for delim, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
        if first_line.count(delim) >= 2 and first_line.count(",") < first_line.count(delim):
            return Problem(shown, 1, f"the columns are separated by {name}, not commas",
                           "export the file again as comma-separated CSV (the publisher's original download is)")
    shown_header = first_line.strip()[:120]
    return Problem(shown, 1, f"unknown layout; the header is: {shown_header!r}",
                   "declare the layout in config/sources.yaml, or use one of: " + ", ".join(LAYOUTS))


def to_float(text: str) -> float | None:
    """A published number, or None for a missing marker; ValueError when it is neither."""
    text = text.strip()
    if text in MISSING:
        return None
    return float(text.replace("\u2212", "-"))


def parse_date(text: str) -> date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%d %B %Y", "%B %d, %Y", "%Y%m%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def frame(records: dict[str, list]) -> pd.DataFrame:
    n = len(records["year"])
    for col in RAW_COLUMNS:
        records.setdefault(col, [""] * n)
    df = pd.DataFrame({col: records[col] for col in RAW_COLUMNS})
    df["year"] = df["year"].astype("int64")
    df["value"] = df["value"].astype("float64")
    df["line"] = df["line"].astype("int64")
    return df


class Collector:
    """Accumulates parsed values column by column, and problems alongside."""

    def __init__(self, shown: str):
        self.shown = shown
        self.cols: dict[str, list] = {c: [] for c in RAW_COLUMNS}
        self.problems: list[Problem] = []
        self.bad_values = 0

    def add(self, line: int, year: int, text: str, column: str, **fields: str) -> None:
        try:
            value = to_float(text)
        except ValueError:
            self.bad_values += 1
            if self.bad_values <= 20:
                self.problems.append(Problem(
                    self.shown, line, f"'{text}' in column '{column}' is not a number; the value was skipped",
                    "use an empty cell or '..' for a missing value", "warning"))
            return
        if value is None:
            return
        cols = self.cols
        cols["year"].append(year)
        cols["value"].append(value)
        cols["line"].append(line)
        for key in ("area_code", "area_name", "ind_code", "ind_name", "sex", "classif1", "classif2",
                    "source_code", "status"):
            cols[key].append(fields.get(key, ""))

    def finish(self) -> pd.DataFrame:
        if self.bad_values > 20:
            self.problems.append(Problem(self.shown, None, f"{self.bad_values - 20} more non-numeric values skipped",
                                         severity="warning"))
        return frame(self.cols)


def check_width(shown: str, line: int, record: list[str], width: int, last: bool) -> None:
    """A record narrower than the header (a truncated download if it is the last one), or wider."""
    if len(record) > width:
        raise FileUnreadable(Problem(
            shown, line, f"this line has {len(record)} columns where the header has {width}",
            "a number written with a decimal comma, or an unquoted comma in a name? "
            "download the file again rather than editing it"))
    if len(record) < width:
        if last:
            raise FileUnreadable(Problem(
                shown, line, f"the last line has {len(record)} of {width} columns; the file is truncated",
                "download it again"))
        raise FileUnreadable(Problem(
            shown, line, f"this line has {len(record)} columns where the header has {width}",
            "the file is damaged; download it again"))


# --------------------------------------------------------------------------------------------
# Layout detection


def sniff(path: Path, text: str | None = None) -> str | None:
    """Recognise the layout of a file from its header; None when unknown."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return "excel"
    head = text if text is not None else path.read_bytes()[:8192].decode("utf-8-sig", errors="replace")
    lines = head.splitlines()
    if not lines:
        return None
    first = _fields(lines[0])
    if first[:1] == ["Data Source"] and len(lines) >= 5:
        header = _fields(lines[4])
        if header[:4] == ["Country Name", "Country Code", "Indicator Name", "Indicator Code"]:
            return "wdi_api"
        return None
    cols = [c for c in first if c != ""]
    colset = set(cols)
    if cols[:3] == ["Country Code", "Region", "IncomeGroup"]:
        return "wdi_country_meta"
    if cols[:2] == ["INDICATOR_CODE", "INDICATOR_NAME"]:
        return "wdi_indicator_meta"
    if {"Series Name", "Series Code", "Country Name", "Country Code"} <= colset and any(
            _YR.match(c) for c in cols):
        return "wdi_databank"
    if cols[:2] == ["Code", "License Type"]:
        return "wdi_databank_meta"
    if cols == ["Country Name", "Country Code", "Year", "Value"]:
        return "wdi_long"
    if {"time", "obs_value"} <= colset:
        codes = "ref_area" in colset
        labels = "ref_area.label" in colset
        if codes and labels:
            return "ilostat_codes_labels"
        if codes:
            return "ilostat_codes"
        if labels:
            return "ilostat_labels"
    if cols[:3] == ["Entity", "Code", "Year"] and len(cols) > 3:
        return "owid_grapher"
    if cols[:2] == ["Entity", "Year"] and len(cols) > 2:
        return "owid_names"
    lowered = {c.lower() for c in cols}
    if {"indicator", "year", "value"} <= lowered and ({"iso3"} & lowered or {"country"} & lowered):
        return "tidy"
    return None


def _fields(line: str) -> list[str]:
    try:
        return next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return []


_YR = re.compile(r"^(\d{4}) \[YR(\d{4})\]$")


# --------------------------------------------------------------------------------------------
# World Bank


def read_wdi_api(path: Path, shown: str) -> RawTable:
    text = read_text(path, shown)
    rows = iter(CsvRows(text, shown))
    preamble: dict[str, str] = {}
    header: list[str] | None = None
    header_line = 0
    for line, record in rows:
        if record[:4] == ["Country Name", "Country Code", "Indicator Name", "Indicator Code"]:
            header, header_line = record, line
            break
        if record and record[0]:
            preamble[record[0]] = record[1] if len(record) > 1 else ""
        if line > 10:
            break
    if header is None:
        raise FileUnreadable(Problem(shown, 1, "no 'Country Name,Country Code,Indicator Name,Indicator Code' header "
                                     "in the first lines", "this is not a WDI bulk download; check the layout"))
    years = _year_columns(header, 4, shown, header_line)
    width = len(header)
    records = list(rows)
    out = Collector(shown)
    names: dict[str, str] = {}
    for i, (line, record) in enumerate(records):
        if not any(record):
            continue
        check_width(shown, line, record, width, i == len(records) - 1)
        name, code, ind_name, ind_code = record[:4]
        names.setdefault(ind_code, ind_name)
        for col, year in years:
            cell = record[col] if col < len(record) else ""
            if cell:
                out.add(line, year, cell, header[col], area_code=code, area_name=name, ind_code=ind_code,
                        ind_name=ind_name)
    vintage = parse_date(preamble.get("Last Updated Date", ""))
    table = RawTable("wdi_api", out.finish(), vintage=vintage, vintage_from="file" if vintage else None,
                     title=preamble.get("Data Source") or None, indicator_names=names, problems=out.problems)
    return table


def _year_columns(header: list[str], start: int, shown: str, line: int) -> list[tuple[int, int]]:
    years = []
    for col, name in enumerate(header[start:], start):
        name = name.strip()
        if not name:
            continue
        match = _YR.match(name)
        if match:
            years.append((col, int(match.group(1))))
        elif name.isdigit() and len(name) == 4:
            years.append((col, int(name)))
        else:
            raise FileUnreadable(Problem(shown, line, f"column '{name}' is not a year",
                                         "the wide layout expects year columns after the first columns"))
    return years


def read_wdi_databank(path: Path, shown: str) -> RawTable:
    text = read_text(path, shown)
    records = list(CsvRows(text, shown))
    header_line, header = records[0]
    idx = {name: i for i, name in enumerate(header)}
    first_year = min(i for i, name in enumerate(header) if _YR.match(name.strip()))
    years = _year_columns(header, first_year, shown, header_line)
    out = Collector(shown)
    names: dict[str, str] = {}
    vintage: date | None = None
    title = None
    body = records[1:]
    # DataBank appends blank rows and then "Data from database: …" and "Last Updated: MM/DD/YYYY".
    data_rows: list[tuple[int, list[str]]] = []
    footer_started = False
    for line, record in body:
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


def read_wdi_long(path: Path, shown: str) -> RawTable:
    """WDI long CSV, with its Frictionless `datapackage.json` beside it when there is one."""
    text = read_text(path, shown)
    records = list(CsvRows(text, shown))
    package = read_datapackage(path.parent / "datapackage.json")
    code = (package.get("worldbank", {}) or {}).get("indicator") or package.get("name") or path.parent.name
    code = str(code).upper()
    name = package.get("title") or ""
    out = Collector(shown)
    for i, (line, record) in enumerate(records[1:]):
        if not any(record):
            continue
        check_width(shown, line, record, 4, i == len(records) - 2)
        year = _year(record[2], shown, line)
        if year is None:
            continue
        out.add(line, year, record[3], "Value", area_code=record[1], area_name=record[0], ind_code=code,
                ind_name=name)
    licence = ", ".join(lic.get("name", "") for lic in package.get("licenses", []) if lic.get("name")) or None
    return RawTable("wdi_long", out.finish(), title=name or None, licence=licence,
                    indicator_names={code: name} if name else {}, problems=out.problems)


def read_datapackage(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}


def _year(text: str, shown: str, line: int) -> int | None:
    text = text.strip()
    if len(text) == 4 and text.isdigit():
        return int(text)
    raise FileUnreadable(Problem(shown, line, f"'{text}' is not a year",
                                 "only annual data is supported; download the annual series"))


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
    for line, record in records[1:]:
        if not any(record):
            continue
        rows.append({
            "iso3": record[idx["Country Code"]].strip(),
            "region": record[idx["Region"]].strip(),
            "income": record[idx["IncomeGroup"]].strip(),
            "name": record[idx["TableName"]].strip(),
            "line": line,
        })
    return pd.DataFrame(rows)


def read_wdi_indicator_meta(path: Path, shown: str) -> dict[str, dict[str, str]]:
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


# --------------------------------------------------------------------------------------------
# ILOSTAT

ILO_STATUS = {
    # codes used by ILOSTAT's bulk files, and the labels used by its data explorer
    "b": "break", "break in series": "break",
    "u": "unreliable", "unreliable": "unreliable",
    "e": "estimate", "estimate": "estimate", "f": "estimate", "forecast": "estimate",
    "i": "imputed", "imputation": "imputed", "imputed": "imputed",
    "p": "provisional", "provisional": "provisional",
}

_ILO_FILE = re.compile(r"^([A-Z0-9]+(?:_[A-Z0-9]+)*?)_([AQM])(?:[-_.].*)?$")


def ilostat_code_from_filename(path: Path) -> tuple[str | None, str | None]:
    """ILOSTAT names files after the indicator and frequency: `EAR_4MTH_SEX_GEO_CUR_NB_A-filtered-….csv`."""
    match = _ILO_FILE.match(path.stem)
    if not match:
        return None, None
    return match.group(1), match.group(2)


def read_ilostat(path: Path, shown: str, layout: str) -> RawTable:
    text = read_text(path, shown)
    records = list(CsvRows(text, shown))
    header_line, header = records[0]
    idx = {name: i for i, name in enumerate(header)}
    file_code, freq = ilostat_code_from_filename(path)
    if freq and freq != "A":
        return RawTable(layout, frame({c: [] for c in RAW_COLUMNS}), problems=[Problem(
            shown, None, f"this is {'quarterly' if freq == 'Q' else 'monthly'} data",
            "download the annual series (file name ending in _A)")])

    def col(name: str) -> int | None:
        return idx.get(name)

    area_code, area_label = col("ref_area"), col("ref_area.label")
    ind_code, ind_label = col("indicator"), col("indicator.label")
    src_code, src_label = col("source"), col("source.label")
    sex_code, sex_label = col("sex"), col("sex.label")
    c1, c1l = col("classif1"), col("classif1.label")
    c2, c2l = col("classif2"), col("classif2.label")
    status_code, status_label = col("obs_status"), col("obs_status.label")
    time_col, value_col = idx["time"], idx["obs_value"]

    def get(record: list[str], i: int | None) -> str:
        return record[i] if i is not None and i < len(record) else ""

    out = Collector(shown)
    names: dict[str, str] = {}
    body = records[1:]
    for i, (line, record) in enumerate(body):
        if not any(record):
            continue
        check_width(shown, line, record, len(header), i == len(body) - 1)
        time = record[time_col].strip()
        if not (len(time) == 4 and time.isdigit()):
            raise FileUnreadable(Problem(shown, line, f"time '{time}' is not a year",
                                         "only annual data is supported; download the annual series (_A)"))
        code = get(record, ind_code) or file_code or ""
        label = get(record, ind_label)
        if label:
            names.setdefault(code, label)
        sex_text = get(record, sex_code) or get(record, sex_label)
        sex = SEX_CODES.get(sex_text.strip().lower(), sex_text) if sex_text else ""
        out.add(
            line, int(time), record[value_col], "obs_value",
            area_code=get(record, area_code), area_name=get(record, area_label),
            ind_code=code, ind_name=label, sex=sex,
            classif1=_classif(get(record, c1), get(record, c1l)),
            classif2=_classif(get(record, c2), get(record, c2l)),
            source_code=get(record, src_code) or get(record, src_label),
            status=get(record, status_code) or get(record, status_label),
        )
    return RawTable(layout, out.finish(), indicator_names=names, problems=out.problems)


def _classif(code: str, label: str) -> str:
    """A classification item as `code|label`, either part possibly empty; totals become empty.

    ILOSTAT spells "no breakdown" as a total item (`ECO_AGNAG_TOTAL`, `…: Total`) or, for area
    type, as the national item (`GEO_COV_NAT`, `Area type: National`).
    """
    code, label = code.strip(), label.strip()
    if not code and not label:
        return ""
    if code.endswith(("_TOTAL", "_NAT")) or label.endswith((": Total", ": National")) or label == "Total":
        return ""
    return f"{code}|{label}"


# --------------------------------------------------------------------------------------------
# Our World in Data


def read_owid(path: Path, shown: str, layout: str) -> RawTable:
    text = read_text(path, shown)
    records = list(CsvRows(text, shown))
    header_line, header = records[0]
    has_code = layout == "owid_grapher"
    first_value = 3 if has_code else 2
    value_cols = [(i, name) for i, name in enumerate(header) if i >= first_value and name]
    package = read_datapackage(path.parent / "datapackage.json")
    out = Collector(shown)
    body = records[1:]
    classification: dict[str, list] = {"area_code": [], "area_name": [], "year": [], "value": [], "line": []}
    # a column of words (e.g. a region name) is a classification, not a measurement
    categorical = {col for col, _ in value_cols if _is_categorical(body, col)}
    for i, (line, record) in enumerate(body):
        if not any(record):
            continue
        check_width(shown, line, record, len(header), i == len(body) - 1)
        year = _year(record[2 if has_code else 1], shown, line)
        entity = record[0]
        code = record[1] if has_code else ""
        for col, name in value_cols:
            cell = record[col] if col < len(record) else ""
            if col in categorical:
                classification["area_code"].append(code)
                classification["area_name"].append(entity)
                classification["year"].append(year)
                classification["value"].append(cell)
                classification["line"].append(line)
                continue
            out.add(line, year, cell, name, area_code=code, area_name=entity, ind_code="", ind_name=name)
    retrieved = None
    for src in package.get("sources", []) or []:
        retrieved = parse_date(str(src.get("retrievedDate", ""))) or retrieved
    table = RawTable(layout, out.finish(), title=package.get("title"),
                     indicator_names={name: name for _, name in value_cols}, problems=out.problems,
                     vintage=retrieved, vintage_from="datapackage" if retrieved else None)
    if classification["year"]:
        table.classification = pd.DataFrame(classification)
    return table


def _is_categorical(body: list[tuple[int, list[str]]], col: int) -> bool:
    """True when most non-empty cells of a column are words rather than numbers."""
    words = numbers = 0
    for _, record in body[:200]:
        cell = record[col] if col < len(record) else ""
        try:
            if to_float(cell) is not None:
                numbers += 1
        except ValueError:
            words += 1
    return words > numbers


# --------------------------------------------------------------------------------------------
# A team's own data: tidy CSV or Excel

TIDY_ALIASES = {
    "iso3": "iso3", "iso": "iso3", "country code": "iso3", "country_code": "iso3",
    "country": "country", "country name": "country", "country_name": "country",
    "indicator": "indicator", "year": "year", "value": "value", "sex": "sex",
    "breakdown": "breakdown", "source": "source", "status": "status", "flag": "status",
}


def read_tidy_csv(path: Path, shown: str) -> RawTable:
    text = read_text(path, shown)
    records = list(CsvRows(text, shown))
    header_line, header = records[0]
    return _tidy(shown, header, records[1:], "tidy")


def read_excel(path: Path, shown: str, sheet: str | int | None = None) -> RawTable:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise FileUnreadable(Problem(shown, None, f"cannot open the workbook ({exc})",
                                     "save it again as .xlsx")) from None
    if sheet is None:
        ws = book.worksheets[0]
    elif isinstance(sheet, int):
        ws = book.worksheets[sheet]
    elif sheet in book.sheetnames:
        ws = book[sheet]
    else:
        raise FileUnreadable(Problem(shown, None, f"no sheet named '{sheet}'",
                                     "sheets in this workbook: " + ", ".join(book.sheetnames)))
    rows = []
    for n, values in enumerate(ws.iter_rows(values_only=True), 1):
        rows.append((n, ["" if v is None else _cell_text(v) for v in values]))
    book.close()
    if not rows:
        raise FileUnreadable(Problem(shown, None, "the sheet is empty"))
    header = rows[0][1]
    while header and header[-1] == "":
        header = header[:-1]
    return _tidy(f"{shown} [{ws.title}]", header, rows[1:], "excel")


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _tidy(shown: str, header: list[str], body: list[tuple[int, list[str]]], layout: str) -> RawTable:
    idx: dict[str, int] = {}
    for i, name in enumerate(header):
        key = TIDY_ALIASES.get(name.strip().lower())
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

    for i, (line, record) in enumerate(body):
        if not any(cell.strip() for cell in record):
            continue
        check_width(shown, line, record, max(idx.values()) + 1, i == len(body) - 1)
        year_text = get(record, "year")
        try:
            year = int(float(year_text))
        except ValueError:
            out.problems.append(Problem(shown, line, f"year '{year_text}' is not a number; the row was skipped",
                                        "write the year as four digits", "warning"))
            continue
        sex_text = get(record, "sex")
        out.add(line, year, get(record, "value"), "value", area_code=get(record, "iso3"),
                area_name=get(record, "country"), ind_code=get(record, "indicator"), ind_name="",
                sex=SEX_CODES.get(sex_text.lower(), sex_text) if sex_text else "",
                classif1=get(record, "breakdown"), source_code=get(record, "source"),
                status=get(record, "status"))
    return RawTable(layout, out.finish(), problems=out.problems)


# --------------------------------------------------------------------------------------------


def read(path: Path, shown: str, layout: str, sheet: str | int | None = None) -> RawTable:
    """Read a data file in a known layout."""
    if layout == "wdi_api":
        return read_wdi_api(path, shown)
    if layout == "wdi_databank":
        return read_wdi_databank(path, shown)
    if layout == "wdi_long":
        return read_wdi_long(path, shown)
    if layout in ("ilostat_codes", "ilostat_labels", "ilostat_codes_labels"):
        return read_ilostat(path, shown, layout)
    if layout in ("owid_grapher", "owid_names"):
        return read_owid(path, shown, layout)
    if layout == "tidy":
        return read_tidy_csv(path, shown)
    if layout == "excel":
        return read_excel(path, shown, sheet)
    raise FileUnreadable(Problem(shown, None, f"layout '{layout}' holds no observations",
                                 "list it under 'countries:' or leave it undeclared"))

"""What every reader shares: a published file in, checked text, rows and typed values out.

Problems are collected, never raised, unless the file cannot be trusted at all; then
:class:`FileUnreadable` carries the one problem that says why.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from ...errors import Problem

RAW_COLUMNS = [
    "area_code", "area_name", "ind_code", "ind_name", "sex", "classif1", "classif2",
    "source_code", "year", "value", "status", "line",
]

MISSING = {"", "..", "NA", "N/A", "n/a", "NaN", "nan", "-", "—"}

SEX_CODES = {
    "sex_t": "T", "total": "T", "sex: total": "T", "both sexes": "T", "bothsex": "T", "both": "T", "t": "T",
    "_t": "T",
    "sex_f": "F", "female": "F", "sex: female": "F", "women": "F", "f": "F",
    "sex_m": "M", "male": "M", "sex: male": "M", "men": "M", "m": "M",
    "sex_o": "O", "other": "O", "sex: other": "O", "o": "O",
}

#: Repairs a source may declare in sources.yaml for a quirk its publisher really ships.
REPAIRS = {
    "drop_repeated_header_field": "drop a header field that repeats an earlier one when every line has one "
                                  "field fewer than the header (OWID exports that repeat 'Year')",
}

# An archive (xlsx, zip) must not expand beyond these before anything in it is parsed.
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for members larger than 1 MiB


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
    vintage_from: str | None = None  # where the vintage was read: "file", "datapackage"
    title: str | None = None
    licence: str | None = None
    indicator_names: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    classification: pd.DataFrame | None = None  # for files that classify countries rather than measure
    repairs: list[str] = field(default_factory=list)  # declared repairs that were applied, in words
    # True when an area without a code whose name is not a country is a group of countries
    # (OWID leaves the code of its regions empty; UN M49 codes that are not ISO 3166 are groupings)
    codeless_groups: bool = False


@dataclass(frozen=True)
class LongSpec:
    """The columns of a long table (one value per line), as declared in sources.yaml or derived."""

    area: str
    time: str
    value: str
    area_codes: str = "iso3"  # iso3 (any case) | iso2 | m49 | name
    area_name: str | None = None
    sex: str | None = None
    status: str | None = None
    source: str | None = None
    series: str | None = None
    unit: str | None = None
    breakdowns: tuple[str, ...] = ()
    names: dict[str, str] | None = None  # area code -> name, from a lookup file
    series_code: str | None = None  # the series of every line when there is no series column


@dataclass(frozen=True)
class ReadOptions:
    """How sources.yaml says one file is read."""

    layout: str
    sheet: str | None = None
    member: str | None = None
    repairs: tuple[str, ...] = ()
    year: int | None = None
    area_codes: str | None = None
    columns: dict[str, str | None] = field(default_factory=dict)
    lookup: tuple[Path, str, str] | None = None  # (file, code column, name column)
    declared_at: str = "sources.yaml"  # "config/sources.yaml:57", for messages
    source_id: str = ""


# --------------------------------------------------------------------------------------------
# Text and CSV


def read_text(path: Path, shown: str) -> str:
    """The file as text: UTF-8 with or without a byte-order mark, or a located refusal."""
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

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
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


def header_problem(shown: str, first_line: str, layouts: list[str]) -> Problem:
    """Explain an unrecognised header, spotting the common wrong-delimiter case."""
    for delim, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
        if first_line.count(delim) >= 2 and first_line.count(",") < first_line.count(delim):
            return Problem(shown, 1, f"the columns are separated by {name}, not commas",
                           "export the file again as comma-separated CSV (the publisher's original download is)")
    shown_header = first_line.strip()[:120]
    return Problem(shown, 1, f"unknown layout; the header is: {shown_header!r}",
                   "declare the layout in config/sources.yaml, or use one of: " + ", ".join(layouts))


def csv_fields(line: str) -> list[str]:
    """The fields of one CSV line, or [] when it is not one."""
    try:
        return next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return []


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


def header_and_body(path: Path, shown: str, opts: ReadOptions | None = None
                    ) -> tuple[int, list[str], list[tuple[int, list[str]]], list[str], list[Problem]]:
    """A CSV whose first line is its header: (header line, header, body, repairs applied, problems)."""
    records = list(CsvRows(read_text(path, shown), shown))
    header_line, header = records[0]
    body = records[1:]
    header, applied, problems = repair_header(shown, header_line, header, body, opts.repairs if opts else ())
    return header_line, header, body, applied, problems


def repair_header(shown: str, header_line: int, header: list[str], body: list[tuple[int, list[str]]],
                  repairs: tuple[str, ...]) -> tuple[list[str], list[str], list[Problem]]:
    """Apply the repairs declared for this file; explain the quirk when it is there but not declared."""
    repeated = [i for i, name in enumerate(header) if name.strip() and name in header[:i]]
    widths = {len(record) for _, record in body if any(cell.strip() for cell in record)}
    one_short = bool(repeated) and widths == {len(header) - len(repeated)}
    problems: list[Problem] = []
    applied: list[str] = []
    what = ", ".join(f"'{header[i]}' (fields {header.index(header[i]) + 1} and {i + 1})" for i in repeated)
    if "drop_repeated_header_field" in repairs:
        if one_short:
            header = [name for i, name in enumerate(header) if i not in repeated]
            applied.append(f"drop_repeated_header_field: the header repeats {what} and every line has "
                           f"{len(header)} fields; the repeated field was dropped")
        elif repeated and widths == {len(header)}:
            raise FileUnreadable(Problem(
                shown, header_line, f"the header repeats {what}, but the lines have a value under each",
                "the declared repair drop_repeated_header_field does not apply to this file; "
                "remove it from sources.yaml"))
        else:
            problems.append(Problem(
                shown, header_line, "the declared repair drop_repeated_header_field was not needed: "
                                    "the header repeats no field", "remove it from sources.yaml", "warning"))
    elif one_short:
        line, record = next((ln, r) for ln, r in body if any(cell.strip() for cell in r))
        raise FileUnreadable(Problem(
            shown, line, f"this line has {len(record)} columns where the header has {len(header)}",
            f"the header repeats {what} and every line has one field fewer: a quirk of the publisher's export. "
            "If the file is as published, declare `repair: [drop_repeated_header_field]` for its source in "
            "sources.yaml; otherwise download it again"))
    return header, applied, problems


# --------------------------------------------------------------------------------------------
# Values


def to_float(text: str) -> float | None:
    """A published number, or None for a missing marker; ValueError when it is neither."""
    text = text.strip()
    if text in MISSING:
        return None
    return float(text.replace("\u2212", "-"))


def parse_date(text: str) -> date | None:
    """A date as publishers write it, or None."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%d %B %Y", "%B %d, %Y", "%Y%m%d", "%d/%m/%Y", "%d%b%y", "%d %b %Y %H:%M"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def year_of(text: str, shown: str, line: int) -> int:
    """A four-digit year, or a located refusal (only annual data is read)."""
    text = str(text).strip()
    if text.endswith(".0") and text[:-2].isdigit():  # a year a spreadsheet stored as a number
        text = text[:-2]
    if len(text) == 4 and text.isdigit():
        return int(text)
    raise FileUnreadable(Problem(shown, line, f"'{text}' is not a year",
                                 "only annual data is supported; download the annual series"))


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def frame(records: dict[str, list]) -> pd.DataFrame:
    """The raw table of a reader, with its column types."""
    n = len(records["year"])
    for col in RAW_COLUMNS:
        records.setdefault(col, [""] * n)
    df = pd.DataFrame({col: records[col] for col in RAW_COLUMNS})
    df["year"] = df["year"].astype("int64")
    df["value"] = df["value"].astype("float64")
    df["line"] = df["line"].astype("int64")
    return df


def empty_rows() -> pd.DataFrame:
    return frame({c: [] for c in RAW_COLUMNS})


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


def sex_code(text: str) -> str:
    """T, F, M or O for the ways publishers write sex; anything else as written."""
    text = text.strip()
    return SEX_CODES.get(text.lower(), text) if text else ""


# --------------------------------------------------------------------------------------------
# Archives (xlsx workbooks are zip archives too)


def check_archive(path: Path, shown: str) -> zipfile.ZipFile:
    """Open a zip archive after checking that nothing in it expands beyond reason (a zip bomb)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileUnreadable(Problem(shown, None, f"not a valid zip archive or workbook ({exc})",
                                     "download it again")) from None
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES or (
                info.file_size > 1 << 20 and ratio > MAX_RATIO):
            archive.close()
            raise FileUnreadable(Problem(
                shown, None, f"'{info.filename}' in the archive would expand to {info.file_size / 1e6:.0f} MB "
                             f"({ratio:.0f} times its packed size); refused, as a damaged file or zip bomb might",
                "download the file again from the publisher"))
    return archive


def workbook_rows(path: Path, shown: str, sheet: str | int | None = None,
                  limit: int | None = None) -> tuple[str, list[tuple[int, list]]]:
    """The rows of one sheet of an .xlsx workbook as (row number, cell values), after the archive check."""
    import openpyxl

    check_archive(path, shown).close()
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise FileUnreadable(Problem(shown, None, f"cannot open the workbook ({exc})",
                                     "save it again as .xlsx")) from None
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif isinstance(sheet, int):
            ws = book.worksheets[sheet]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            raise FileUnreadable(Problem(shown, None, f"no sheet named '{sheet}'",
                                         "sheets in this workbook: " + ", ".join(book.sheetnames)))
        rows = [(n, list(values)) for n, values in enumerate(ws.iter_rows(max_row=limit, values_only=True), 1)]
        return ws.title, rows
    finally:
        book.close()


_STAMP = re.compile(r"(\d{1,2}[A-Z]{3}\d{2})")


def stamp_date(text: str) -> date | None:
    """ILOSTAT's compact stamps, as in 'Last update on 18APR21.'"""
    match = _STAMP.search(text)
    return parse_date(match.group(1).title()) if match else None

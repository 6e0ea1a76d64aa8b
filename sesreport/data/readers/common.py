"""What every reader shares: a published file in, checked text, rows and typed values out.

Problems are collected, never raised, unless the file cannot be trusted at all; then
:class:`FileUnreadable` carries the one problem that says why.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

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
# Published workbooks and archives expand 2 to 10 times (XML sheets about 8, a Stata file 7.5).
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, for members larger than 1 MiB, and for the whole archive


class NonFinite(ValueError):
    """A published number that is infinite (`inf`, or too large for a float such as `1e999`)."""


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
    """Iterate over CSV records with the line on which each starts, failing loudly on broken quoting.

    With `final_newline` (publishers whose files end every line, the last too, with a line break),
    a last line without one was cut off, perhaps inside a number ("59.8" read as "5"): refused."""

    def __init__(self, text: str, shown: str, final_newline: bool = True):
        self.text = text
        self.shown = shown
        self.cut = final_newline and bool(text.strip()) and not text.endswith(("\n", "\r"))

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(_lines(self.text), strict=True)
        start = 1
        pending: tuple[int, list[str]] | None = None
        while True:
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise FileUnreadable(
                    Problem(self.shown, start, f"broken CSV ({exc}); the file looks truncated or damaged",
                            "download it again")
                ) from None
            if pending is not None:
                yield pending
            pending = (start, record)
            start = reader.line_num + 1
        if pending is None:
            return
        if self.cut:
            raise FileUnreadable(Problem(
                self.shown, pending[0], "the last line ends without a line break, where every line of this "
                                        "publisher's files has one: the file is truncated, cut off inside this line",
                "download it again"))
        yield pending


def _lines(text: str) -> Iterator[str]:
    """The lines of a text with their endings, as csv.reader reads them, without a copy of the text
    (io.StringIO would hold one, at four bytes a character)."""
    if text.count("\r") != text.count("\r\n"):  # old Mac line ends: let StringIO split them
        yield from io.StringIO(text, newline="")
        return
    start, end = 0, len(text)
    while start < end:
        stop = text.find("\n", start)
        if stop < 0:
            yield text[start:]
            return
        yield text[start:stop + 1]
        start = stop + 1


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


class Body:
    """The records after a CSV's header, parsed afresh on each pass: a large file is never held as
    a list of records (a 200 MB file would take gigabytes), only as its text."""

    def __init__(self, text: str, shown: str, final_newline: bool):
        self.text = text
        self.shown = shown
        self.final_newline = final_newline

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return islice(CsvRows(self.text, self.shown, self.final_newline), 1, None)


def with_last(records: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str], bool]]:
    """(line, record, whether it is the last record), reading one record ahead."""
    it = iter(records)
    pending = next(it, None)
    for record in it:
        assert pending is not None
        yield pending[0], pending[1], False
        pending = record
    if pending is not None:
        yield pending[0], pending[1], True


def header_and_body(path: Path, shown: str, opts: ReadOptions | None = None, final_newline: bool = True
                    ) -> tuple[int, list[str], Body, list[str], list[Problem]]:
    """A CSV whose first line is its header: (header line, header, body, repairs applied, problems).

    `final_newline`: the publisher ends every line with a line break (see CsvRows)."""
    text = read_text(path, shown)
    body = Body(text, shown, final_newline)
    first = next(iter(CsvRows(text, shown, final_newline)), None)
    if first is None:  # nothing but a byte-order mark
        raise FileUnreadable(Problem(shown, None, "the file is empty", "download it again"))
    header_line, header = first
    header, applied, problems = repair_header(shown, header_line, header, body, opts.repairs if opts else ())
    return header_line, header, body, applied, problems


def repair_header(shown: str, header_line: int, header: list[str], body: Iterable[tuple[int, list[str]]],
                  repairs: tuple[str, ...]) -> tuple[list[str], list[str], list[Problem]]:
    """Apply the repairs declared for this file; explain the quirk when it is there but not declared."""
    repeated = [i for i, name in enumerate(header) if name.strip() and name in header[:i]]
    # the widths of the lines matter only when the header repeats a field (a pass over the file)
    widths = {len(record) for _, record in body if any(cell.strip() for cell in record)} if repeated else set()
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
    """A published number, or None for a missing marker; ValueError when it is neither, NonFinite
    when it is infinite."""
    text = text.strip()
    if text in MISSING:
        return None
    value = float(text.replace("\u2212", "-"))
    if not math.isfinite(value):
        raise NonFinite(text)
    return value


def shorten(text: str, limit: int = 40) -> str:
    """A cell as a message quotes it: a 5,000-digit number is not echoed whole."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def year_number(text: str) -> int | None:
    """A year written as a number (2019, 2019.0), or None when it is not one."""
    try:
        value = float(text)
    except (ValueError, OverflowError):
        return None
    if not math.isfinite(value) or not value.is_integer() or not 1000 <= value <= 9999:
        return None
    return int(value)


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
    raise FileUnreadable(Problem(shown, line, f"'{shorten(text)}' is not a year",
                                 "only annual data is supported; download the annual series"))


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def frame(records: dict) -> pd.DataFrame:
    """The raw table of a reader, with its column types: numbers typed, texts categorical (a column
    of millions of rows holds a few distinct texts; as strings it would take ten times the file)."""
    n = len(records["year"])
    for col in RAW_COLUMNS:
        records.setdefault(col, [""] * n)
    df = pd.DataFrame({col: (np.asarray(records[col]) if isinstance(records[col], array) else
                             pd.Categorical(records[col]) if col in TEXT_COLUMNS else records[col])
                       for col in RAW_COLUMNS})
    df["year"] = df["year"].astype("int64")
    df["value"] = df["value"].astype("float64")
    df["line"] = df["line"].astype("int64")
    return df


def stack(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    """Raw tables one after the other, their text columns categorical with the union of the categories
    (sorted, as a single table's would be); `pd.concat` would turn them back into strings."""
    if len(chunks) == 1:
        return chunks[0]
    out = pd.concat([c.drop(columns=list(TEXT_COLUMNS)) for c in chunks], ignore_index=True)
    for col in TEXT_COLUMNS:
        out[col] = union_categoricals([c[col] for c in chunks], sort_categories=True)
    return out[RAW_COLUMNS]


#: A text column as a code for every row and the texts the codes stand for.
Coded = tuple[np.ndarray, list[str]]


def derive(fn: Callable[..., str], *columns: Coded) -> Coded:
    """`fn` of the texts of every row, worked out once per distinct combination of texts."""
    n = len(columns[0][0])
    varying = [i for i, (_, texts) in enumerate(columns) if len(texts) > 1]
    if not varying:
        return np.zeros(n, dtype=np.int32), [fn(*(texts[0] if texts else "" for _, texts in columns))]
    if len(varying) == 1:
        codes, texts = columns[varying[0]]
        fixed = [t[0] if t else "" for _, t in columns]
        return codes, [fn(*fixed[:varying[0]], text, *fixed[varying[0] + 1:]) for text in texts]
    key = np.zeros(n, dtype=np.int64)
    for i in varying:
        key *= len(columns[i][1])
        key += columns[i][0]
    inverse, combos = pd.factorize(key)
    out = []
    for k in combos.tolist():
        parts = [t[0] if t else "" for _, t in columns]
        for i in reversed(varying):
            k, r = divmod(k, len(columns[i][1]))
            parts[i] = columns[i][1][r]
        out.append(fn(*parts))
    return inverse.astype(np.int32), out


def categorical(column: Coded, keep: np.ndarray) -> pd.Categorical:
    """The rows where `keep` is True of a coded column, as a categorical of the texts they use, sorted
    (as `pd.Categorical` of the texts would be)."""
    codes, texts = column
    if not keep.all():
        codes = codes[keep]
    if not len(codes):
        return pd.Categorical([])
    cats = sorted(set(texts))
    pos = {t: i for i, t in enumerate(cats)}
    small = np.int8 if len(cats) <= 127 else np.int16 if len(cats) <= 32767 else np.int32
    codes = np.array([pos[t] for t in texts], dtype=small)[codes]
    used = np.bincount(codes, minlength=len(cats)) > 0
    if not used.all():  # renumber without the texts no row has
        codes = (np.cumsum(used) - 1).astype(small)[codes]
        cats = [t for t, u in zip(cats, used) if u]
    return pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype="str"))


def empty_rows() -> pd.DataFrame:
    return frame({c: [] for c in RAW_COLUMNS})


TEXT_COLUMNS = ("area_code", "area_name", "ind_code", "ind_name", "sex", "classif1", "classif2", "source_code",
                "status")


class Collector:
    """Accumulates parsed values column by column, and problems alongside.

    Numbers go to typed arrays and each distinct text is kept once; every CHUNK values become a
    compact table, so that a large file never stands as millions of Python objects."""

    CHUNK = 100_000

    def __init__(self, shown: str):
        self.shown = shown
        self.cols: dict[str, list | array] = self._empty()
        self.chunks: list[pd.DataFrame] = []
        self.texts: dict[str, str] = {}
        self.problems: list[Problem] = []
        self.bad_values = 0
        self.infinite = 0

    def number(self, line: int, text: str, column: str) -> float | None:
        """The value a cell holds, or None when it holds none (a missing marker) or none that can be used
        (not a number, infinite: the problem is recorded)."""
        try:
            return to_float(text)
        except NonFinite:
            self.infinite += 1
            if self.infinite <= 20:
                self.problems.append(Problem(
                    self.shown, line, f"'{shorten(text)}' in column '{column}' is not a finite number",
                    "a damaged file, or a number too large to be right: download it again"))
        except ValueError:
            self.bad_values += 1
            if self.bad_values <= 20:
                self.problems.append(Problem(
                    self.shown, line, f"'{shorten(text)}' in column '{column}' is not a number; the value was skipped",
                    "use an empty cell or '..' for a missing value", "warning"))
        return None

    def add(self, line: int, year: int, text: str, column: str, **fields: str) -> None:
        value = self.number(line, text, column)
        if value is None:
            return
        cols = self.cols
        cols["year"].append(year)
        cols["value"].append(value)
        cols["line"].append(line)
        texts = self.texts
        for key in TEXT_COLUMNS:
            text = fields.get(key, "")
            cols[key].append(texts.setdefault(text, text))
        if len(cols["line"]) >= self.CHUNK:
            self.chunks.append(frame(cols))
            self.cols = self._empty()

    @staticmethod
    def _empty() -> dict[str, list | array]:
        cols: dict[str, list | array] = {c: [] for c in RAW_COLUMNS}
        cols.update(year=array("q"), value=array("d"), line=array("q"))
        return cols

    def summarise(self) -> None:
        """Count the problems beyond the first twenty of each kind."""
        if self.bad_values > 20:
            self.problems.append(Problem(self.shown, None, f"{self.bad_values - 20} more non-numeric values skipped",
                                         severity="warning"))
        if self.infinite > 20:
            self.problems.append(Problem(self.shown, None, f"{self.infinite - 20} more infinite values"))

    def finish(self) -> pd.DataFrame:
        self.summarise()
        last = frame(self.cols)
        self.cols = self._empty()
        if not self.chunks:
            return last
        chunks, self.chunks = self.chunks + [last], []
        return stack(chunks)


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
    packed = max(path.stat().st_size, 1)
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
    if total > 1 << 20 and total / packed > MAX_RATIO:  # many small members, each within the limits
        archive.close()
        raise FileUnreadable(Problem(
            shown, None, f"the archive would expand to {total / 1e6:.0f} MB ({total / packed:.0f} times its size "
                         f"on disk, in {len(archive.infolist())} members); refused, as a damaged file or zip bomb "
                         "might", "download the file again from the publisher"))
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

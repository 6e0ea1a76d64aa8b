"""A CSV file in; its records as Arrow columns, with the line on which each starts, out.

pyarrow's CSV reader parses a large file in a second or two where the line-by-line reader
(`common.CsvRows`) takes a minute, but it accepts some damage the line reader refuses (`"abc"def`)
and knows nothing of lines. So a file is read this way only when it is plain enough that both read
it alike: UTF-8 (a byte-order mark allowed), every line ended by LF or CRLF (the last too), no NUL
and no lone CR, its header alone on the first line, no record over more than one line, no field
beyond the csv module's size limit, and where a line has quotes, every field either quoted whole
(`"…"`, inner quotes doubled) or not starting with a quote. Blank lines are skipped as the line
reader skips them, and counted, so that every record keeps its line number. Otherwise `read_plain`
gives None and the caller reads the file line by line, which names the line of any damage.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .common import MISSING, Collector

BLOCK = 1 << 24  # bytes scanned at a time
BATCH = 1 << 22  # bytes parsed at a time
_FIELD = r'(?:"(?:[^"]|"")*"|[^",\r\n][^,\r\n]*|)'
WELL_FORMED = rf"^{_FIELD}(?:,{_FIELD})*\r?\n$"  # one line, its line break included
# a number that float() and Arrow read alike (both round correctly); anything else is read by to_float
NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_MISSING = pa.array(sorted(MISSING), type=pa.string())
TEXT = pa.dictionary(pa.int32(), pa.string())


@dataclass
class Records:
    """The records after the header that have a non-empty field: each text column as a code per
    record and the texts the codes stand for, the number column as floats (NaN: no value)."""

    header: list[str]
    codes: dict[str, np.ndarray]  # by column name, in as few bytes as the texts need
    texts: dict[str, list[str]]
    values: np.ndarray
    lines: np.ndarray  # the line of every record (int64)


def read_plain(path: Path, number: str, out: Collector) -> Records | None:
    """The records of a plain CSV file (see the module's docstring), or None when it is not plain.

    The column `number` is read as `out.number` reads a cell (its problems recorded in `out`, which
    is to be dropped when the file is not plain); every other column, of a few distinct texts over
    millions of records, as codes. Arrow parses a few megabytes at a time, so that the file's text
    is never held whole."""
    header = _header(path)
    if header is None or number not in header:
        return None
    scanned = _scan(path)
    if scanned is None:
        return None
    total, blank = scanned
    lines = np.arange(2, total + 1, dtype=np.int64)  # the lines after the header that are not blank
    if len(blank):
        lines = np.setdiff1d(lines, blank, assume_unique=True)
    names = [f"f{i}" for i in range(len(header))]
    at = header.index(number)
    types = {n: pa.string() if i == at else TEXT for i, n in enumerate(names)}
    columns = {h: _Column() for h in header if h != number}
    values = np.empty(len(lines), dtype=np.float64)
    empties: list[np.ndarray] = []  # records of nothing but commas: no record, as for the line reader
    done = kept = 0
    try:
        with pacsv.open_csv(
                path, read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=BATCH),
                parse_options=pacsv.ParseOptions(newlines_in_values=False),
                convert_options=pacsv.ConvertOptions(column_types=types, null_values=[], strings_can_be_null=False,
                                                     quoted_strings_can_be_null=False, check_utf8=True)) as batches:
            for batch in batches:
                size = batch.num_rows
                if done + size > len(lines):  # records over several lines
                    return None
                cells = batch.columns
                if max(_longest(c) for c in cells) > csv.field_size_limit():
                    return None
                at_lines = lines[done:done + size]
                empty = _empty(cells)
                if empty is not None:
                    cells = [c.filter(pa.array(~empty)) for c in cells]
                    empties.append(np.flatnonzero(empty) + done)
                    at_lines = at_lines[~empty]
                for h, cell in zip(header, cells):
                    if h == number:
                        values[kept:kept + len(at_lines)] = _numbers(cell, at_lines, out, number)
                    else:
                        columns[h].add(cell)
                done += size
                kept += len(at_lines)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a record of another width, not UTF-8
        return None
    finally:
        pa.default_memory_pool().release_unused()
    if done != len(lines):  # records over several lines
        return None
    if empties:
        lines = np.delete(lines, np.concatenate(empties))
    return Records(header, {h: c.done() for h, c in columns.items()}, {h: c.texts for h, c in columns.items()},
                   values[:kept], lines)


class _Column:
    """A text column gathered batch by batch: each batch's own dictionary mapped to one for the file,
    the codes kept in as few bytes as the texts so far need."""

    def __init__(self) -> None:
        self.code: dict[str, int] = {}
        self.parts: list[np.ndarray] = []

    @property
    def texts(self) -> list[str]:
        return list(self.code)

    def add(self, cell: pa.DictionaryArray) -> None:
        code = self.code
        remap: np.ndarray = np.array([code.setdefault(t, len(code)) for t in cell.dictionary.to_pylist()],
                                     dtype=_smallest(len(code) + len(cell.dictionary)))
        self.parts.append(remap[cell.indices.to_numpy(zero_copy_only=False)] if len(remap) else
                          np.zeros(len(cell), dtype=np.int8))

    def done(self) -> np.ndarray:
        out: np.ndarray = np.empty(sum(len(p) for p in self.parts), dtype=_smallest(len(self.code)))
        at = 0
        for part in self.parts:
            out[at:at + len(part)] = part
            at += len(part)
        self.parts = []
        return out


def _joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _smallest(n: int) -> type:
    """The smallest integer type that numbers `n` texts."""
    return np.int8 if n <= 127 else np.int16 if n <= 32767 else np.int32


def _numbers(cell: pa.StringArray, lines: np.ndarray, out: Collector, column: str) -> np.ndarray:
    """The value of every cell (NaN where there is none), as `out.number` reads it: Arrow parses a
    batch of plain numbers and missing markers; any other batch is read cell by cell."""
    missing = pc.is_in(cell, value_set=_MISSING)
    plain = pc.and_(pc.match_substring_regex(cell, NUMBER), pc.less_equal(pc.binary_length(cell), 24))
    if pc.all(pc.or_(missing, plain)).as_py() is not False:
        numbers = pc.cast(pc.if_else(missing, pa.scalar(None, pa.string()), cell), pa.float64())
        values = numbers.to_numpy(zero_copy_only=False)
        if not np.isinf(values).any():
            return values
    read = [out.number(line, text, column) for line, text in zip(lines.tolist(), cell.to_pylist())]
    return np.array([np.nan if v is None else v for v in read], dtype=np.float64)


def _header(path: Path) -> list[str] | None:
    """The fields of the first line, when it is a whole, non-empty record in UTF-8 that names no
    field twice."""
    with path.open("rb") as fh:
        first = fh.readline(BLOCK)
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if not line.endswith("\n") or not line.strip():
        return None
    try:
        header = next(csv.reader([line], strict=True))
    except (csv.Error, StopIteration):
        return None
    return None if len(set(header)) < len(header) else header


def _scan(path: Path) -> tuple[int, np.ndarray] | None:
    """(the number of lines, the numbers of the blank ones) of a plain file; None when it is not."""
    total = 0
    blanks: list[np.ndarray] = []
    offset = 0
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            end = block.rfind(b"\n") + 1  # whole lines; the next block starts after them
            if not end:  # the last line ends without a line break (the line reader says where), or is huge
                return None
            offset += end
            fh.seek(offset)

            def has(text: bytes, block: bytes = block, end: int = end) -> bool:
                return block.find(text, 0, end) >= 0

            crs = has(b"\r")
            if has(b"\x00") or (crs and block.count(b"\r", 0, end) != block.count(b"\r\n", 0, end)):
                return None
            quoted = has(b'"')
            data = np.frombuffer(block, dtype=np.uint8, count=end)
            breaks = data == 10
            blank = bool(breaks[0]) or bool((breaks[1:] & breaks[:-1]).any()) or crs and (
                block.startswith(b"\r\n") or bool((breaks[:-2] & breaks[2:] & (data[1:-1] == 13)).any()))
            if quoted or blank:
                ends = np.flatnonzero(breaks)
                starts = np.concatenate(([0], ends[:-1] + 1))
                width = ends - starts
                empty = (width == 0) | ((width == 1) & (data[starts] == 13))
                if empty.any():
                    blanks.append(np.flatnonzero(empty) + total + 1)
                if quoted and not _well_formed(block, starts, end):
                    return None
            total += int(np.count_nonzero(breaks))
    return total, _joined(blanks, np.int64)


def _well_formed(block: bytes, starts: np.ndarray, end: int) -> bool:
    """Every line of `block` up to `end` is a sequence of whole fields, as the csv module reads them."""
    offsets = pa.py_buffer(np.append(starts, end).astype(np.int64).tobytes())
    lines = pa.LargeStringArray.from_buffers(len(starts), offsets, pa.py_buffer(block))
    try:
        return bool(pc.all(pc.match_substring_regex(lines, WELL_FORMED)).as_py())
    except pa.ArrowInvalid:  # not UTF-8
        return False


def _empty(cells: list[pa.Array]) -> np.ndarray | None:
    """Which records have nothing in any field, or None when none (as when a column never is empty)."""
    for cell in cells:
        if isinstance(cell, pa.DictionaryArray) and not pc.any(pc.equal(cell.dictionary, "")).as_py():
            return None
    empty = np.logical_and.reduce([_lengths(c) == 0 for c in cells])
    return empty if empty.any() else None


def _lengths(cell: pa.Array) -> np.ndarray:
    """The length in bytes of every field."""
    if isinstance(cell, pa.DictionaryArray):
        per_text = pc.binary_length(cell.dictionary).to_numpy(zero_copy_only=False)
        if not len(per_text):
            return np.zeros(len(cell), dtype=np.int32)
        return per_text[cell.indices.to_numpy(zero_copy_only=False)]
    return pc.binary_length(cell).to_numpy(zero_copy_only=False)


def _longest(cell: pa.Array) -> int:
    texts = cell.dictionary if isinstance(cell, pa.DictionaryArray) else cell
    return int(pc.max(pc.binary_length(texts)).as_py() or 0)

"""Our World in Data CSV in (grapher exports with a Code column, owid-datasets without); raw tables out."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from pathlib import Path

import pandas as pd

from ...errors import Problem
from .common import (
    Collector,
    FileUnreadable,
    RawTable,
    ReadOptions,
    check_width,
    csv_fields,
    header_and_body,
    parse_date,
    to_float,
    with_last,
    year_of,
)
from .wdi import read_datapackage


def sniff(path: Path, lines: list[str]) -> str | None:
    cols = [c for c in csv_fields(lines[0]) if c != ""]
    if cols[:3] == ["Entity", "Code", "Year"] and len(cols) > 3:
        return "owid_grapher"
    if cols[:2] == ["Entity", "Year"] and len(cols) > 2:
        return "owid_names"
    return None


def read_owid(path: Path, shown: str, opts: ReadOptions | None = None) -> RawTable:
    """One column per series; the column header is the series. A column of words classifies countries."""
    layout = opts.layout if opts else "owid_grapher"
    # OWID exports end without a line break: a cut inside the last number cannot be told from a whole file
    header_line, header, body, applied, problems = header_and_body(path, shown, opts, final_newline=False)
    has_code = layout == "owid_grapher"
    expected = ["Entity", "Code", "Year"] if has_code else ["Entity", "Year"]
    if header[:len(expected)] != expected:
        raise FileUnreadable(Problem(shown, header_line, f"the header does not start with {','.join(expected)}: "
                                     f"not an Our World in Data {'grapher ' if has_code else ''}CSV",
                                     "check the layout declared for it in sources.yaml"))
    first_value = 3 if has_code else 2
    value_cols = [(i, name) for i, name in enumerate(header) if i >= first_value and name]
    package = read_datapackage(path.parent / "datapackage.json")
    out = Collector(shown)
    classification: dict[str, list] = {"area_code": [], "area_name": [], "year": [], "value": [], "line": []}
    # a column of words (e.g. a region name) is a classification, not a measurement
    categorical = {col for col, _ in value_cols if _is_categorical(body, col)}
    for line, record, last in with_last(body):
        if not any(record):
            continue
        check_width(shown, line, record, len(header), last)
        year = year_of(record[2 if has_code else 1], shown, line)
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
                     indicator_names={name: name for _, name in value_cols}, problems=problems + out.problems,
                     vintage=retrieved, vintage_from="datapackage" if retrieved else None, repairs=applied,
                     codeless_groups=has_code)
    if classification["year"]:
        table.classification = pd.DataFrame(classification)
    return table


def _is_categorical(body: Iterable[tuple[int, list[str]]], col: int) -> bool:
    """True when most non-empty cells of a column are words rather than numbers."""
    words = numbers = 0
    for _, record in islice(body, 200):
        cell = record[col] if col < len(record) else ""
        try:
            if to_float(cell) is not None:
                numbers += 1
        except ValueError:
            words += 1
    return words > numbers

"""ILOSTAT files in: bulk CSV (codes, labels, or both) and Excel downloads; raw tables out."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import Problem
from .arrow import read_plain
from .common import (
    Coded,
    Collector,
    FileUnreadable,
    RawTable,
    ReadOptions,
    categorical,
    cell_text,
    check_width,
    csv_fields,
    derive,
    empty_rows,
    frame,
    header_and_body,
    sex_code,
    stamp_date,
    with_last,
    workbook_rows,
    year_of,
)

ILO_FILE = re.compile(r"^([A-Z0-9]+(?:_[A-Z0-9]+)*?)_([AQM])(?:[-_.].*)?$")
EXCEL_BANNER = "Downloaded from ILOSTAT"
EXCEL_KEYS = ("Reference area", "Source type", "Sex", "Time")
# value columns of an Excel download that hold the series itself rather than a breakdown of it
EXCEL_TOTALS = ("Value", "Total")


def sniff(path: Path, lines: list[str]) -> str | None:
    """The three bulk CSV layouts, told apart by which of code and label columns they have."""
    cols = {c for c in csv_fields(lines[0]) if c}
    if not {"time", "obs_value"} <= cols:
        return None
    codes, labels = "ref_area" in cols, "ref_area.label" in cols
    if codes and labels:
        return "ilostat_codes_labels"
    if codes:
        return "ilostat_codes"
    if labels:
        return "ilostat_labels"
    return None


def sniff_workbook(rows: list[tuple[int, list]]) -> str | None:
    """An ILOSTAT Excel download says where it comes from in its third row."""
    for _, values in rows[:6]:
        if values and isinstance(values[0], str) and values[0].startswith(EXCEL_BANNER):
            return "ilostat_excel"
    return None


def code_from_filename(path: Path) -> tuple[str | None, str | None]:
    """ILOSTAT names files after the indicator and frequency: `EAR_4MTH_SEX_GEO_CUR_NB_A-filtered-….csv`."""
    match = ILO_FILE.match(path.stem)
    if not match:
        return None, None
    return match.group(1), match.group(2)


def _not_annual(layout: str, shown: str, freq: str) -> RawTable:
    return RawTable(layout, empty_rows(), problems=[Problem(
        shown, None, f"this is {'quarterly' if freq == 'Q' else 'monthly'} data",
        "download the annual series (file name ending in _A)")])


def read_ilostat(path: Path, shown: str, opts: ReadOptions | None = None) -> RawTable:
    """A bulk CSV: one value per line, with codes, labels or both for every dimension.

    A plain file is parsed by Arrow (`arrow.read_plain`) and worked on as codes, once per distinct
    text; any other, line by line, to the same table, problems and messages."""
    layout = opts.layout if opts else "ilostat_codes"
    if not (opts and opts.repairs):
        fast = _read_plain(path, shown, layout)
        if fast is not None:
            return fast
    header_line, header, body, applied, problems = header_and_body(path, shown, opts)
    idx = {name: i for i, name in enumerate(header)}
    missing = [name for name in ("time", "obs_value") if name not in idx]
    if missing:
        raise FileUnreadable(Problem(shown, header_line, f"no column {', '.join(missing)}: not an ILOSTAT CSV",
                                     "check the layout declared for it in sources.yaml"))
    file_code, freq = code_from_filename(path)
    if freq and freq != "A":
        return _not_annual(layout, shown, freq)

    def col(name: str) -> int | None:
        return idx.get(name)

    area_code, area_label = col("ref_area"), col("ref_area.label")
    ind_code, ind_label = col("indicator"), col("indicator.label")
    src_code, src_label = col("source"), col("source.label")
    sex_col, sex_label = col("sex"), col("sex.label")
    c1, c1l = col("classif1"), col("classif1.label")
    c2, c2l = col("classif2"), col("classif2.label")
    status_code, status_label = col("obs_status"), col("obs_status.label")
    time_col, value_col = idx["time"], idx["obs_value"]

    def get(record: list[str], i: int | None) -> str:
        return record[i] if i is not None and i < len(record) else ""

    out = Collector(shown)
    names: dict[str, str] = {}
    for line, record, last in with_last(body):
        if not any(record):
            continue
        check_width(shown, line, record, len(header), last)
        time = record[time_col].strip()
        if not (len(time) == 4 and time.isdigit()):
            raise FileUnreadable(Problem(shown, line, f"time '{time}' is not a year",
                                         "only annual data is supported; download the annual series (_A)"))
        code = get(record, ind_code) or file_code or ""
        label = get(record, ind_label)
        if label:
            names.setdefault(code, label)
        out.add(
            line, int(time), record[value_col], "obs_value",
            area_code=get(record, area_code), area_name=get(record, area_label),
            ind_code=code, ind_name=label, sex=sex_code(get(record, sex_col) or get(record, sex_label)),
            classif1=classif(get(record, c1), get(record, c1l)),
            classif2=classif(get(record, c2), get(record, c2l)),
            source_code=get(record, src_code) or get(record, src_label),
            status=get(record, status_code) or get(record, status_label),
        )
    return RawTable(layout, out.finish(), indicator_names=names, problems=problems + out.problems, repairs=applied)


def _read_plain(path: Path, shown: str, layout: str) -> RawTable | None:
    """`read_ilostat` of a plain annual file through Arrow, or None where the line reader must say
    what is wrong (a time that is not a year) or the file is not plain."""
    file_code, freq = code_from_filename(path)
    if freq and freq != "A":
        return None
    out = Collector(shown)
    records = read_plain(path, "obs_value", out)
    if records is None or "time" not in records.header:
        return None
    n = len(records.lines)

    def col(name: str) -> Coded:
        if name in records.codes:
            return records.codes[name], records.texts[name]
        return np.zeros(n, dtype=np.int32), [""]

    time = derive(lambda t: t.strip(), col("time"))
    used = np.bincount(time[0], minlength=len(time[1])) > 0
    years = [int(t) if len(t) == 4 and t.isdigit() and t.isascii() else 0 for t in time[1]]
    if any(u and not y for u, y in zip(used, years)):
        return None
    ind_code = derive(lambda c: c or file_code or "", col("indicator"))
    ind_name = col("indicator.label")
    keep = ~np.isnan(records.values)  # no value, or none that can be used
    every = bool(keep.all())
    out.summarise()
    rows = frame({
        "area_code": categorical(col("ref_area"), keep), "area_name": categorical(col("ref_area.label"), keep),
        "ind_code": categorical(ind_code, keep), "ind_name": categorical(ind_name, keep),
        "sex": categorical(derive(lambda c, lab: sex_code(c or lab), col("sex"), col("sex.label")), keep),
        "classif1": categorical(derive(classif, col("classif1"), col("classif1.label")), keep),
        "classif2": categorical(derive(classif, col("classif2"), col("classif2.label")), keep),
        "source_code": categorical(derive(lambda c, lab: c or lab, col("source"), col("source.label")), keep),
        "status": categorical(derive(lambda c, lab: c or lab, col("obs_status"), col("obs_status.label")), keep),
        "year": np.array(years, dtype=np.int64)[time[0] if every else time[0][keep]],
        "value": records.values if every else records.values[keep],
        "line": records.lines if every else records.lines[keep],
    })
    return RawTable(layout, rows, indicator_names=first_names(ind_code, ind_name), problems=out.problems)


def first_names(codes: Coded, names: Coded) -> dict[str, str]:
    """Each code with the first non-empty name it appears with, in the order of first appearance."""
    pairs, texts = derive(lambda code, name: f"{code}\n{name}", codes, names)
    named = np.array([t.partition("\n")[2] != "" for t in texts], dtype=bool)
    out: dict[str, str] = {}
    for k in pd.unique(pairs[named[pairs]]).tolist() if len(texts) else []:
        code, _, name = texts[k].partition("\n")
        out.setdefault(code, name)
    return out


def classif(code: str, label: str) -> str:
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


def read_ilostat_excel(path: Path, shown: str, opts: ReadOptions | None = None) -> RawTable:
    """An Excel download from ILOSTAT's explorer.

    Five title rows (title, definition, "Downloaded from ILOSTAT. Last update on 18APR21.", a blank
    row, a label row over the value columns), then `Reference area, Source type, [Sex,] Time` and one
    value column per item of the last breakdown (`Value`, or `Total, Migrants, …`), then an unheaded
    column of free-text notes, which are not kept. Areas are named, never coded.
    """
    sheet_name, rows = workbook_rows(path, shown, opts.sheet if opts else None)
    where = f"{shown} [{sheet_name}]"
    file_code, freq = code_from_filename(path)
    if freq and freq != "A":
        return _not_annual("ilostat_excel", where, freq)
    header_at = next((i for i, (_, values) in enumerate(rows[:12]) if values and values[0] == "Reference area"), None)
    if header_at is None:
        raise FileUnreadable(Problem(where, None, "no 'Reference area' header in the first rows",
                                     "this is not an ILOSTAT Excel download; check the layout"))
    title = cell_text(rows[0][1][0]).strip() if rows[0][1] else ""
    banner = next((cell_text(v[0]) for _, v in rows[:header_at] if v and str(v[0] or "").startswith(EXCEL_BANNER)), "")
    vintage = stamp_date(banner)
    header_line, header = rows[header_at]
    names = [cell_text(v).strip() for v in header]
    keys = {name: i for i, name in enumerate(names) if name in EXCEL_KEYS}
    missing = [k for k in ("Reference area", "Time") if k not in keys]
    if missing:
        raise FileUnreadable(Problem(where, header_line, f"missing column(s): {', '.join(missing)}",
                                     "this is not an ILOSTAT Excel download; check the layout"))
    first_value = max(keys.values()) + 1
    value_cols = []
    for i in range(first_value, len(names)):
        if not names[i]:
            break  # the notes column has no header
        value_cols.append((i, names[i]))
    if not value_cols:
        raise FileUnreadable(Problem(where, header_line, "no value column after 'Time'",
                                     "this is not an ILOSTAT Excel download; check the layout"))
    code = file_code or ""
    out = Collector(where)
    for line, values in rows[header_at + 1:]:
        cells = [cell_text(v).strip() for v in values]
        if not any(cells):
            continue
        area = cells[keys["Reference area"]]
        year = year_of(cells[keys["Time"]], where, line)
        sex = sex_code(cells[keys["Sex"]]) if "Sex" in keys else ""
        source = cells[keys["Source type"]] if "Source type" in keys else ""
        for i, name in value_cols:
            cell = cells[i] if i < len(cells) else ""
            out.add(line, year, cell, name, area_name=area, ind_code=code, ind_name=title, sex=sex,
                    classif1="" if name in EXCEL_TOTALS else f"|{name}", source_code=source)
    return RawTable("ilostat_excel", out.finish(), vintage=vintage, vintage_from="file" if vintage else None,
                    title=title or None, indicator_names={code: title} if title else {}, problems=out.problems)

"""Published data files in, one raw table per file out: the layouts in which indicator data really comes.

Every reader takes a file exactly as the publisher ships it (byte-order marks, CRLF, preambles,
trailing empty columns, `..` for missing, footers) and returns a :class:`RawTable`: one row per
value with the area as the source names it, the source's own indicator code and name, the
breakdown, the year, the value, the status and the line it came from. Mapping to catalog
indicators and to ISO3 countries happens later, in :mod:`sesreport.data.mapping`.

`REGISTRY` maps each layout name (as written in sources.yaml) to its reader; `sniff` recognises
a layout from a file's first lines (or, for archives, from what they hold).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...errors import Problem
from . import ilostat, long, owid, tidy, wdi
from .common import (
    MISSING,
    RAW_COLUMNS,
    REPAIRS,
    SEX_CODES,
    Collector,
    CsvRows,
    FileUnreadable,
    LongSpec,
    RawTable,
    ReadOptions,
    check_archive,
    check_width,
    parse_date,
    read_text,
    to_float,
)
from .common import header_problem as _header_problem
from .ilostat import classif, read_ilostat, read_ilostat_excel
from .ilostat import code_from_filename as ilostat_code_from_filename
from .long import ddf_companions, read_ddf, read_long
from .owid import read_owid
from .stata import read_stata
from .tidy import read_excel, read_tidy_csv
from .wdi import (
    read_datapackage,
    read_wdi_api,
    read_wdi_country_meta,
    read_wdi_databank,
    read_wdi_indicator_meta,
    read_wdi_long,
)

__all__ = [
    "MISSING", "RAW_COLUMNS", "REPAIRS", "SEX_CODES", "Collector", "CsvRows", "FileUnreadable", "LongSpec", "RawTable",
    "ReadOptions", "REGISTRY", "LAYOUTS", "Reader", "SNIFFERS", "check_archive", "check_width", "classif", "companions",
    "header_problem", "ilostat_code_from_filename", "parse_date", "read", "read_datapackage", "read_ddf",
    "read_excel", "read_ilostat", "read_ilostat_excel", "read_long", "read_owid", "read_stata", "read_text",
    "read_tidy_csv", "read_wdi_api", "read_wdi_country_meta", "read_wdi_databank", "read_wdi_indicator_meta",
    "read_wdi_long", "sniff", "to_float",
]


@dataclass(frozen=True)
class Reader:
    """One layout: how to read it, what it is, whose codes it carries, which repairs it accepts."""

    read: Callable[[Path, str, ReadOptions], RawTable]
    description: str
    family: str  # whose series codes the rows carry: a publisher key of the catalog's source mappings
    repairs: bool = False  # a CSV with its header on the first line, so header repairs apply
    companions: Callable[[Path], list[Path]] | None = None  # files read along with this one


def _companion_datapackage(path: Path) -> list[Path]:
    package = path.parent / "datapackage.json"
    return [package] if package.is_file() else []


REGISTRY: dict[str, Reader] = {
    "wdi_api": Reader(read_wdi_api, "World Bank WDI bulk download (API_… wide CSV)", "wdi"),
    "wdi_databank": Reader(read_wdi_databank, "World Bank DataBank export (YYYY [YRYYYY] columns)", "wdi"),
    "wdi_long": Reader(read_wdi_long, "WDI long CSV (Country Name,Country Code,Year,Value)", "wdi", True,
                       _companion_datapackage),
    "ilostat_codes": Reader(read_ilostat, "ILOSTAT CSV, codes only (ref_area,indicator,source,time,obs_value,…)",
                            "ilostat", True),
    "ilostat_labels": Reader(read_ilostat, "ILOSTAT CSV, labels only (ref_area.label,…)", "ilostat", True),
    "ilostat_codes_labels": Reader(read_ilostat, "ILOSTAT CSV, codes and labels side by side", "ilostat", True),
    "ilostat_excel": Reader(read_ilostat_excel, "ILOSTAT Excel download (title rows, Reference area, Source type, …)",
                            "ilostat"),
    "owid_grapher": Reader(read_owid, "Our World in Data grapher CSV (Entity,Code,Year,…)", "owid", True,
                           _companion_datapackage),
    "owid_names": Reader(read_owid, "Our World in Data CSV without codes (Entity,Year,…)", "owid", True,
                         _companion_datapackage),
    "long": Reader(read_long, "long CSV with the columns declared in sources.yaml (area, time, value, …)", "tidy",
                   True),
    "ddf": Reader(read_ddf, "DDF datapoints CSV (ddf--datapoints--<value>--by--<keys>.csv) with its entity files",
                  "tidy", True, ddf_companions),
    "stata": Reader(read_stata, "Stata .dta cross-section, alone or in a zip archive", "tidy"),
    "tidy": Reader(read_tidy_csv, "tidy CSV (iso3 or country, indicator, year, value)", "tidy", True),
    "excel": Reader(read_excel, "tidy Excel sheet (iso3 or country, indicator, year, value)", "tidy"),
}

#: Every layout a file may have, including those that hold no observations.
LAYOUTS: dict[str, str] = {name: reader.description for name, reader in REGISTRY.items()} | {
    "wdi_country_meta": "World Bank Metadata_Country file",
    "wdi_indicator_meta": "World Bank Metadata_Indicator file",
    "wdi_databank_meta": "World Bank DataBank series metadata",
}


#: Recognisers of CSV layouts, tried in order: the DDF name test first (it reads no header), the
#: tidy test last (it is the loosest).
SNIFFERS: list[Callable[[Path, list[str]], str | None]] = [
    long.sniff, wdi.sniff, ilostat.sniff, owid.sniff, tidy.sniff,
]


def sniff(path: Path, text: str | None = None) -> str | None:
    """Recognise the layout of a file from its header (or what an archive holds); None when unknown."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _sniff_workbook(path)
    if suffix == ".dta":
        return "stata"
    if suffix == ".zip":
        return _sniff_zip(path)
    head = text if text is not None else path.read_bytes()[:8192].decode("utf-8-sig", errors="replace")
    lines = head.splitlines()
    if not lines:
        return None
    for sniffer in SNIFFERS:
        found = sniffer(path, lines)
        if found:
            return found
    return None


def _sniff_workbook(path: Path) -> str | None:
    from .common import workbook_rows
    from .ilostat import sniff_workbook

    if not path.is_file():
        return "excel"
    try:
        _, rows = workbook_rows(path, path.name, limit=8)
    except FileUnreadable:
        return "excel"  # the reader says why it cannot be read
    return sniff_workbook(rows) or "excel"


def _sniff_zip(path: Path) -> str | None:
    from .stata import sniff_archive

    try:
        with check_archive(path, path.name) as archive:
            return sniff_archive(archive.namelist())
    except FileUnreadable:
        return None


def header_problem(shown: str, first_line: str) -> Problem:
    """Explain an unrecognised header, spotting the common wrong-delimiter case."""
    return _header_problem(shown, first_line, list(LAYOUTS))


def companions(layout: str, path: Path) -> list[Path]:
    """The files a layout reads along with `path` (a datapackage.json, DDF entity files)."""
    reader = REGISTRY.get(layout)
    return reader.companions(path) if reader and reader.companions else []


def read(path: Path, shown: str, layout: str | ReadOptions, sheet: str | None = None) -> RawTable:
    """Read a data file in a known layout, as sources.yaml declares it."""
    opts = layout if isinstance(layout, ReadOptions) else ReadOptions(layout, sheet=sheet)
    reader = REGISTRY.get(opts.layout)
    if reader is None:
        raise FileUnreadable(Problem(shown, None, f"layout '{opts.layout}' holds no observations",
                                     "list it under 'countries:' or leave it undeclared"))
    if opts.repairs and not reader.repairs:
        raise FileUnreadable(Problem(shown, None, f"repairs ({', '.join(opts.repairs)}) apply to CSV files "
                                     f"whose first line is the header, not to layout '{opts.layout}'",
                                     f"remove `repair:` from source '{opts.source_id}' in sources.yaml"))
    try:
        return reader.read(path, shown, opts)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError, OverflowError) as exc:
        looks = sniff(path)
        raise FileUnreadable(Problem(
            shown, None, f"cannot be read as layout '{opts.layout}' ({type(exc).__name__}: {exc})",
            "check the layout declared for it in sources.yaml"
            + (f"; from its header it looks like '{looks}'" if looks and looks != opts.layout else ""))) from None

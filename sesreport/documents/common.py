"""What every kind of document shares: the sources it used, the illustrative-data notice and the
country classification note, as template context; the CSV form of the tables attached to it."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pandas as pd

from ..data.load import Dataset
from ..i18n import N_, Lang


def sources_used(ds: Dataset, source_ids: set[str], lang: Lang) -> list[dict]:
    """The sources a document used, one entry per publication with every release that was read."""
    groups: dict[tuple[str, str], dict] = {}
    for f in ds.files:
        if f.source_id not in source_ids or f.error:
            continue
        key = (f.publisher, f.title or f.source_id)
        entry = groups.setdefault(key, {
            "publisher": lang.gettext(f.publisher), "title": lang.gettext(f.title or f.source_id), "releases": set(),
            "licence": f.licence, "attribution": lang.gettext(f.attribution) if f.attribution else None,
            "url": f.url})
        if f.vintage:
            entry["releases"].add(f.vintage)
    out = []
    for key in sorted(groups):
        entry = groups[key]
        entry["releases"] = [lang.date(date.fromisoformat(v)) for v in sorted(entry["releases"])]
        out.append(entry)
    return out


def date_text(iso: str | None, lang: Lang) -> str | None:
    return lang.date(date.fromisoformat(iso)) if iso else None


def shared_context(ds: Dataset, lang: Lang, as_of: date) -> dict[str, Any]:
    """Context every document template reads: language, date, notice, classification."""
    return {
        "lang": lang.code,
        "date": lang.date(as_of),
        "as_of": as_of.isoformat(),
        "illustrative": ds.illustrative,
        "notice": lang.gettext(ds.notice or N_("Illustrative data — not official statistics")),
        "classification": {"file": ds.countries.file, "vintage": date_text(ds.countries.vintage, lang)},
    }


def _whole(name: str) -> bool:
    """Columns that hold years, line numbers, counts and ranks, written as integers."""
    return (name in ("year", "line", "rank", "rank_of", "peers_n", "forms_available", "draws")
            or name.endswith(("_year", "_line")) or name.startswith("rank_"))


def integer_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its year, line and rank columns as integers (missing stays missing): a column
    that lost its integer type to a missing value would otherwise be written "2018.0". A copy when a
    column changes; the table itself when its integers are integers already (most are)."""
    out = table
    for col in table.columns:
        column = table[col]
        if (not _whole(str(col)) or not pd.api.types.is_numeric_dtype(column)
                or pd.api.types.is_bool_dtype(column) or pd.api.types.is_integer_dtype(column)):
            continue
        values = column.dropna()
        if (values == values.round()).all():
            if out is table:
                out = table.copy()
            out[col] = column.astype("Int64")
    return out


def table_csv(table: pd.DataFrame) -> bytes:
    """A table as attached and exported: UTF-8 CSV, LF line ends, integers written as integers."""
    buf = io.StringIO()
    integer_columns(table).to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue().encode("utf-8")

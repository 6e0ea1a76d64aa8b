#!/usr/bin/env python3
"""Gettext catalogs: extract every translatable string into sesreport/locale/messages.pot and
merge it into each language's messages.po (the files translators edit).

    python scripts/messages.py           extract and update the .po files
    python scripts/messages.py --check   exit 1 when the .pot is out of date with the code
"""

from __future__ import annotations

import argparse
import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

REPO = Path(__file__).resolve().parents[1]
LOCALE = REPO / "sesreport" / "locale"
LANGS = ("fr", "es", "ru", "uk")

KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "N_": None,
    "Np_": ((1, "c"), 2),
}
METHODS = [
    ("sesreport/**.py", "python"),
    ("templates/**.j2", "jinja2"),
    ("config/indicators.yaml", "sesreport.i18n_extract:extract_yaml"),
    ("config/defaults.yaml", "sesreport.i18n_extract:extract_yaml"),
    ("config/countries/*.yaml", "sesreport.i18n_extract:extract_yaml"),
    ("config/indices/*.yaml", "sesreport.i18n_extract:extract_yaml"),
    ("config/annex.yaml", "sesreport.i18n_extract:extract_yaml"),
    ("config/sources.yaml", "sesreport.i18n_extract:extract_sources"),
]
OPTIONS = {"templates/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}


# fixed, so that regenerating unchanged catalogs changes nothing
STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def extract() -> Catalog:
    sys.path.insert(0, str(REPO))
    catalog = Catalog(project="sesreport", version="1", msgid_bugs_address="", copyright_holder="",
                      charset="utf-8", fuzzy=False, creation_date=STAMP, revision_date=STAMP)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(REPO), METHODS, OPTIONS, KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        if filename.startswith(("tests/", "scripts/", ".venv", "demo/")):
            continue
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def pot_text(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, omit_header=True, sort_output=True, width=100, include_lineno=False)
    return buf.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    template = extract()
    text = pot_text(template)
    pot = LOCALE / "messages.pot"
    if args.check:
        current = pot.read_bytes() if pot.is_file() else b""
        if current != text:
            print("sesreport/locale/messages.pot is out of date: run python scripts/messages.py", file=sys.stderr)
            return 1
        return 0
    LOCALE.mkdir(parents=True, exist_ok=True)
    pot.write_bytes(text)
    for lang in LANGS:
        po_path = LOCALE / lang / "LC_MESSAGES" / "messages.po"
        po_path.parent.mkdir(parents=True, exist_ok=True)
        if po_path.is_file():
            with po_path.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
        else:
            catalog = Catalog(locale=lang, project="sesreport", version="1", charset="utf-8",
                              creation_date=STAMP, revision_date=STAMP)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False
        catalog.creation_date = STAMP
        catalog.revision_date = STAMP
        catalog.last_translator = "sesreport translators"
        catalog.language_team = f"{lang}"
        buf = io.BytesIO()
        write_po(buf, catalog, sort_output=True, width=100, ignore_obsolete=True, include_previous=False,
                 include_lineno=False)
        po_path.write_bytes(buf.getvalue())
        missing = sum(1 for m in catalog if m.id and not m.string)
        print(f"{lang}: {len(catalog)} messages, {missing} to translate")
    print(f"{len(template)} messages in {pot.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

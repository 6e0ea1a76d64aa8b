"""Gettext catalogs: up to date with the code, and complete and well-formed in every shipped language."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from tests.conftest import REPO

LOCALE = REPO / "sesreport" / "locale"
LANGS = ["fr", "es", "ru", "uk"]
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)[sd]")


def template():
    with (LOCALE / "messages.pot").open("rb") as fh:
        return read_po(fh)


def catalog(lang: str):
    with (LOCALE / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def test_template_is_up_to_date_with_the_code():
    done = subprocess.run([sys.executable, "scripts/messages.py", "--check"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_translated(lang):
    pot, po = template(), catalog(lang)
    assert not po.fuzzy, "the catalog header is marked fuzzy"
    missing, fuzzy, broken = [], [], []
    for message in pot:
        if not message.id:
            continue
        found = po.get(message.id, context=message.context)
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        key = f"{message.context + ': ' if message.context else ''}{msgid}"
        if found is None or not found.string or (isinstance(found.string, tuple) and not all(found.string)):
            missing.append(key)
            continue
        if found.fuzzy:
            fuzzy.append(key)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = found.string if isinstance(found.string, tuple) else (found.string,)
        wanted = set(PLACEHOLDER.findall(ids[0]))
        for text in strings:
            if message.context == "gender":
                if text not in ("m", "f", "n", "pl"):
                    broken.append(f"{key}: gender must be m, f, n or pl, not {text!r}")
            elif set(PLACEHOLDER.findall(text)) != wanted and not (len(ids) > 1 and "%(num)d" not in text):
                broken.append(f"{key}: placeholders {sorted(set(PLACEHOLDER.findall(text)))} != {sorted(wanted)}")
    assert not missing, f"{len(missing)} untranslated in {lang}: {missing[:10]}"
    assert not fuzzy, f"fuzzy in {lang}: {fuzzy[:10]}"
    assert not broken, "\n".join(broken[:20])


@pytest.mark.parametrize("lang", LANGS)
def test_plural_forms_follow_the_language(lang):
    from sesreport.i18n import Lang

    forms = {n: Lang(lang).ngettext("%(num)d country", "%(num)d countries", n) % {"num": n} for n in (1, 2, 5, 21)}
    assert forms[1] != forms[5]
    if lang in ("ru", "uk"):  # one, few, many: 1 страна, 2 страны, 5 стран, 21 страна
        assert len({forms[1].split()[1], forms[2].split()[1], forms[5].split()[1]}) == 3
        assert forms[21].split()[1] == forms[1].split()[1]

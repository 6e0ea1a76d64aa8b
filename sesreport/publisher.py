"""The publisher's apparatus, one file for every document of an organisation: `config/publisher.yaml`.

In: the organisation's name and logo (an SVG file inside the config folder), copyright line,
disclaimer, suggested citation, ISSN/ISBN and contact, each text by language. Out: a validated
`Publisher`, and per document the texts its back page prints (`Publisher.context`). Without the
file, documents print no publisher block.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import field_validator

from .errors import Problem, display_path
from .i18n import Lang
from .schema import Strict, register, validate
from .yamlio import load_yaml

Text = dict[str, str]

#: A logo larger than this is not a logo: the file is refused before it is read.
LOGO_BYTES = 200_000
#: An ISSN is four digits, a hyphen, three digits and a check digit (a digit or X).
ISSN = r"^\d{4}-\d{3}[\dX]$"


class Contact(Strict):
    email: str = ""
    url: str = ""
    address: Text = {}


class Publisher(Strict):
    """What every document prints about who publishes it. `copyright` and `citation` may use
    {year}, {organisation}, {title} and {country} (the citation only)."""

    name: Text
    logo: str | None = None  # an SVG file, relative to the config folder
    copyright: Text = {}
    disclaimer: Text = {}
    citation: Text = {}
    issn: str = ""
    isbn: str = ""
    contact: Contact = Contact()

    @field_validator("name")
    @classmethod
    def _english_name(cls, value: Text) -> Text:
        if "en" not in value:
            raise ValueError("give the name in English (en) at least")
        return value

    @field_validator("issn")
    @classmethod
    def _issn(cls, value: str) -> str:
        if value and not re.fullmatch(ISSN, value):
            raise ValueError(f"'{value}' is not an ISSN: write it as 1234-567X")
        return value

    @field_validator("isbn")
    @classmethod
    def _isbn(cls, value: str) -> str:
        digits = value.replace("-", "").replace(" ", "")
        if value and not re.fullmatch(r"\d{13}|\d{9}[\dX]", digits):
            raise ValueError(f"'{value}' is not an ISBN: 13 digits (or 10), hyphens allowed")
        return value

    def context(self, lang: Lang, year: int, title: str, country: str = "", logo: str | None = None) -> dict[str, Any]:
        """The texts a document prints, in its language, with {year}, {title} and {country} filled in."""
        name = lang.text(self.name)
        fill = {"year": year, "organisation": name, "title": title, "country": country}

        def text(texts: Text) -> str:
            return lang.text(texts).format(**fill) if texts else ""

        return {"name": name, "logo": logo, "copyright": text(self.copyright), "disclaimer": text(self.disclaimer),
                "citation": text(self.citation), "issn": self.issn, "isbn": self.isbn,
                "email": self.contact.email, "url": self.contact.url, "address": text(self.contact.address)}


register(Contact, Publisher)


@dataclass(frozen=True)
class LoadedPublisher:
    """The publisher as configured, its logo as a data URI, and the line of each text in its file."""

    publisher: Publisher
    logo: str | None
    file: str
    lines: dict[str, int | None]

    def digest(self) -> list:
        """What a document's fingerprint needs to know of the publisher."""
        return [self.publisher.model_dump(mode="json"), self.logo]


def load_publisher(config_dir: Path) -> tuple[LoadedPublisher | None, list[Problem]]:
    """The publisher and every problem; (None, []) without the file."""
    path = config_dir / "publisher.yaml"
    if not path.is_file():
        return None, []
    located = load_yaml(path)
    publisher, problems = validate(Publisher, located)
    if publisher is None:
        return None, problems
    logo = None
    if publisher.logo is not None:
        logo, problem = _read_logo(config_dir, publisher.logo, located.file, located.line_of(("logo",)))
        problems += [problem] if problem else []
    lines = {key: located.line_of((key,)) for key in ("copyright", "disclaimer", "citation")}
    return LoadedPublisher(publisher, logo, located.file, lines), problems


def _read_logo(config_dir: Path, name: str, file: str, line: int | None) -> tuple[str | None, Problem | None]:
    """The logo file as a data URI: inside the config folder, an SVG, small, without entities."""
    root = config_dir.resolve()
    target = (config_dir / name).resolve()
    if Path(name).is_absolute() or not target.is_relative_to(root):
        return None, Problem(file, line, f"logo '{name}' is outside the config folder",
                             "keep the logo inside the config folder, e.g. config/publisher/logo.svg")
    if target.suffix.lower() != ".svg" or not target.is_file():
        return None, Problem(file, line, f"logo '{name}' is not an SVG file in the config folder",
                             f"save the logo as SVG at {display_path(target)}")
    if target.stat().st_size > LOGO_BYTES:
        return None, Problem(file, line, f"logo '{name}' holds {target.stat().st_size:,} bytes (at most "
                                         f"{LOGO_BYTES:,})", "simplify the SVG or export it without embedded images")
    data = target.read_bytes()
    head = data[:4096].decode("utf-8", "replace")
    if "<svg" not in data.decode("utf-8", "replace") or re.search(r"<!(DOCTYPE|ENTITY)", head, re.IGNORECASE):
        return None, Problem(file, line, f"logo '{name}' is not a plain SVG (no <svg> element, or a DOCTYPE or "
                                         "entity declaration)", "export the logo as plain SVG")
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii"), None


def publisher_context(project: Any, lang: Lang, year: int, title: str, country: str = "") -> dict[str, Any] | None:
    """What a document of `project` prints about its publisher (None when none is configured)."""
    loaded: LoadedPublisher | None = project.publisher
    if loaded is None:
        return None
    return loaded.publisher.context(lang, year, title, country, loaded.logo)


def publisher_records(project: Any, lang: Lang, year: int) -> list[dict[str, Any]]:
    """The figures record of each year a document prints in its publisher texts (the year of the
    build), traced to the line of the text that prints it."""
    from .documents.trace import configured

    loaded: LoadedPublisher | None = project.publisher
    if loaded is None:
        return []
    records = []
    for key in ("copyright", "disclaimer", "citation"):
        texts = getattr(loaded.publisher, key)
        if texts and "{year}" in lang.text(texts):
            records += [configured("year of publication", str(year), (loaded.file, loaded.lines[key]), part=key)
                        ] * lang.text(texts).count("{year}")
    return records

"""The HTML version as one self-contained file: the PDF's pinned fonts embedded, charts inline.

In: the HTML a template rendered for the screen. Out: the same page with

- each chart (an SVG ``<img>`` data URI) written inline as ``<svg role="img" aria-label="…">``, its
  ids prefixed so that several charts can share a page, so that chart text uses the page's fonts
  (an SVG loaded as an image can use no font but those installed on the reader's machine);
- ``@font-face`` rules whose sources are WOFF subsets (data URIs) of the pinned fonts
  (:mod:`sesreport.fonts`), holding the characters of this page only, and of a fallback font only
  where the page has characters the main families lack.

The page then makes no outside request and looks the same on every machine.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import re
from html import escape, unescape
from pathlib import Path

from .fonts import FACES, SANS, SERIF, cmap, fallbacks, font_path

#: the faces the stylesheets use (family, weight): text 400, 600 and 700; headings 600, the cover title 400
WEB_FACES = [(SANS, 400), (SANS, 600), (SANS, 700), (SERIF, 400), (SERIF, 600)]

_IMG = re.compile(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)">')
_ID = re.compile(r'\bid="([^"]+)"')


def finish_html(html: str) -> str:
    """Charts inline and fonts embedded (see the module docstring)."""
    html = inline_charts(html)
    css = font_faces(text_of(html))
    return html.replace("</head>", f"<style>{css}</style>\n</head>", 1) if css else html


@functools.cache
def finishing_digest() -> str:
    """What `finish_html` makes of a page depends on besides the page: this module's code and the font
    files it embeds from, by name and size (the libraries that subset them are in `renderer_digest`)."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    names = {(family, weight): name for family, weight, _, name in FACES}
    paths = [font_path(family, names[(family, weight)]) for family, weight in WEB_FACES]
    for path in paths + [path for _, _, path in fallbacks()]:
        h.update(f"{path.name}|{path.stat().st_size};".encode())
    return h.hexdigest()


def inline_charts(html: str) -> str:
    counter = iter(range(1, 10_000))

    def replace(match: re.Match[str]) -> str:
        svg = base64.b64decode(match.group(1)).decode("utf-8")
        return inline_svg(svg, unescape(match.group(2)), f"c{next(counter)}-")

    return _IMG.sub(replace, html)


def inline_svg(svg: str, alt: str, prefix: str) -> str:
    """An SVG document as an element of the page: ids prefixed, named by its alternative text."""
    svg = svg[svg.find("<svg"):]
    for ident in sorted(set(_ID.findall(svg)), key=len, reverse=True):
        svg = (svg.replace(f'id="{ident}"', f'id="{prefix}{ident}"')
               .replace(f"url(#{ident})", f"url(#{prefix}{ident})")
               .replace(f'href="#{ident}"', f'href="#{prefix}{ident}"'))
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(alt)}" class="chart" ', 1)


def text_of(html: str) -> str:
    """The characters a page may show: its text and attribute values (markup is ASCII and harmless)."""
    return unescape(re.sub(r'd="[^"]*"|points="[^"]*"', "", html))


def font_faces(text: str) -> str:
    """@font-face rules embedding subsets of the pinned fonts for the characters of `text`.

    Both cases of every letter are kept: the stylesheets set some text in capitals
    (`text-transform`), which the browser applies after the fonts are chosen."""
    distinct = "".join(set(text))  # a page's text is long, its characters few: case them once each
    chars = frozenset(ch for ch in set(distinct + distinct.upper() + distinct.lower()) if ord(ch) >= 0x20)
    rules = []
    names = {(family, weight): name for family, weight, _, name in FACES}
    covered: set[str] = set()
    for family, weight in WEB_FACES:
        path = font_path(family, names[(family, weight)])
        rules.append(_rule(family, weight, path, 0, chars))
        covered |= chars & cmap(path, 0)
    rest = chars - covered
    for family, weight, path in fallbacks():
        number = 0
        mine = rest & cmap(path, number)
        if mine:
            rules.append(_rule(family, weight, path, number, frozenset(mine)))
    return "\n".join(rules)


def _rule(family: str, weight: int, path: Path, number: int, chars: frozenset[str]) -> str:
    data = base64.b64encode(subset_woff(path, number, chars)).decode("ascii")
    return (f'@font-face {{ font-family: "{family}"; font-weight: {weight}; font-style: normal; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); }}')


@functools.lru_cache(maxsize=64)
def subset_woff(path: Path, number: int, chars: frozenset[str]) -> bytes:
    """A WOFF font holding only `chars` (and the glyphs their layout needs), without hinting.

    HarfBuzz subsets in a millisecond; WOFF (zlib) rather than WOFF2 because fontTools' Brotli
    compression takes a quarter of a second per face, for a file a fifth smaller."""
    import uharfbuzz as hb
    from fontTools.ttLib import TTFont

    face = hb.Face(hb.Blob.from_file_path(str(path)), number)
    request = hb.SubsetInput()
    for code in sorted(ord(ch) for ch in chars):
        request.unicode_set.add(code)
    request.flags = hb.SubsetFlags.NO_HINTING
    data = hb.subset(face, request).blob.data
    font = TTFont(io.BytesIO(data), lazy=True, recalcTimestamp=False, recalcBBoxes=False)
    font.flavor = "woff"
    out = io.BytesIO()
    font.save(out, reorderTables=False)
    return out.getvalue()

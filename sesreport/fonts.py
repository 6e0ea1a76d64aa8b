"""The fonts every document uses, shipped as pinned packages so every machine renders alike.

Source Sans Pro (text, tables, charts) and Source Serif Pro (titles) cover Latin, Cyrillic
(Russian, Ukrainian, Kazakh) and the symbols the documents print. A name or a narrative in a script
they lack falls back, glyph by glyph, to a pinned Noto font that covers it: Noto Sans Arabic and
Noto Sans CJK from PyPI; Noto Sans Georgian (and Armenian, Hebrew) from Debian's fonts-noto-core
and Symbola (emoji, symbols) from fonts-symbola, which scripts/system-deps.sh installs. Out:
@font-face rules for WeasyPrint, the CSS font stacks, the files for the HTML's embedded subsets, and
for chart text the fallback family (and file) that sets each character the main family lacks.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from pathlib import Path

import font_source_sans_pro
import font_source_serif_pro
import fontpkg_noto_sans_arabic
import noto_cjk_sans_otc

SANS = "Source Sans Pro"
SERIF = "Source Serif Pro"

# (family, weight, style, file name). The italic faces of this release have no Cyrillic, so none
# is declared: documents do not set text in italics, and any italic would be slanted from these.
FACES = [
    (SANS, 400, "normal", "SourceSansPro-Regular.ttf"),
    (SANS, 600, "normal", "SourceSansPro-Semibold.ttf"),
    (SANS, 700, "normal", "SourceSansPro-Bold.ttf"),
    (SERIF, 400, "normal", "SourceSerifPro-Regular.ttf"),
    (SERIF, 600, "normal", "SourceSerifPro-Semibold.ttf"),
    (SERIF, 700, "normal", "SourceSerifPro-Bold.ttf"),
]


DEBIAN_NOTO = Path("/usr/share/fonts/truetype/noto")
DEBIAN_SYMBOLA = Path("/usr/share/fonts/truetype/ancient-scripts")

# (family, weight, file): fonts for the scripts and symbols the two families lack, in the order
# they are tried. The Debian ones are missing on a machine without the packages (see module docstring).
FALLBACKS = [
    ("Noto Sans Arabic", 400, next((Path(fontpkg_noto_sans_arabic.ROOT) / "files").glob("NotoSansArabic*.ttf"))),
    ("Noto Sans Georgian", 400, DEBIAN_NOTO / "NotoSansGeorgian-Regular.ttf"),
    ("Noto Sans Georgian", 700, DEBIAN_NOTO / "NotoSansGeorgian-Bold.ttf"),
    ("Noto Sans Armenian", 400, DEBIAN_NOTO / "NotoSansArmenian-Regular.ttf"),
    ("Noto Sans Armenian", 700, DEBIAN_NOTO / "NotoSansArmenian-Bold.ttf"),
    ("Noto Sans Hebrew", 400, DEBIAN_NOTO / "NotoSansHebrew-Regular.ttf"),
    ("Noto Sans Hebrew", 700, DEBIAN_NOTO / "NotoSansHebrew-Bold.ttf"),
    ("Noto Sans CJK JP", 400, Path(str(noto_cjk_sans_otc.FONT_PATH))),
    ("Symbola", 400, DEBIAN_SYMBOLA / "Symbola_hint.ttf"),
]
FALLBACK_FAMILIES = list(dict.fromkeys(family for family, _, _ in FALLBACKS))
#: every family a document may embed; anything else in a PDF is a system font that slipped in
FAMILIES = [SANS, SERIF, *FALLBACK_FAMILIES]


def missing_fallbacks() -> list[Path]:
    """Fallback font files that are not installed (the Debian packages are missing)."""
    return [path for _, _, path in FALLBACKS if not path.is_file()]


def fallbacks() -> list[tuple[str, int, Path]]:
    return [(family, weight, path) for family, weight, path in FALLBACKS if path.is_file()]


def font_dirs() -> list[Path]:
    dirs = [Path(font_source_sans_pro.font_directory), Path(font_source_serif_pro.font_directory)]
    return dirs + list(dict.fromkeys(path.parent for _, _, path in fallbacks()))


def font_path(family: str, name: str) -> Path:
    folder = font_dirs()[0 if family == SANS else 1]
    return folder / name


@functools.lru_cache(maxsize=1)
def font_face_css() -> str:
    """@font-face rules pointing at the packaged font files."""
    rules = []
    for family, weight, style, name in FACES:
        url = font_path(family, name).as_uri()
        rules.append(f'@font-face {{ font-family: "{family}"; font-weight: {weight}; font-style: {style}; '
                     f'src: url("{url}"); }}')
    for family, weight, path in fallbacks():
        rules.append(f'@font-face {{ font-family: "{family}"; font-weight: {weight}; font-style: normal; '
                     f'src: url("{path.as_uri()}"); }}')
    return "\n".join(rules)


@functools.lru_cache(maxsize=1)
def register_matplotlib() -> None:
    """Make the packaged fonts, and the fallbacks installed, known to matplotlib (once per process)."""
    from matplotlib import font_manager

    for family, _, _, name in FACES:
        if family == SANS:
            font_manager.fontManager.addfont(str(font_path(family, name)))
    for _, _, path in fallbacks():
        font_manager.fontManager.addfont(str(path))
    logging.getLogger("matplotlib.font_manager").addFilter(_nearest_weight_is_expected)


def _nearest_weight_is_expected(record: logging.LogRecord) -> bool:
    """Drop matplotlib's notice that a fallback family lacks a weight (CJK and Symbola have one): the
    nearest is used, as WeasyPrint and the browser do."""
    return not (str(record.msg).startswith("findfont: Failed to find font weight")
                and any(family in record.getMessage() for family in FALLBACK_FAMILIES))


class Coverage:
    """The characters a font face maps to glyphs: `char in coverage`, `chars & coverage`.

    Held as one bit per code point (139 kB a face) rather than a set of one-character strings, which
    for the CJK face alone held 65,000 objects in every process."""

    def __init__(self, codes: Iterable[int]) -> None:
        bits = bytearray(0x110000 // 8)
        for code in codes:
            bits[code >> 3] |= 1 << (code & 7)
        self._bits = bytes(bits)

    def __contains__(self, char: object) -> bool:
        if not isinstance(char, str) or len(char) != 1:
            return False
        code = ord(char)
        return bool(self._bits[code >> 3] >> (code & 7) & 1)

    def __and__(self, chars: AbstractSet[str]) -> set[str]:
        return {char for char in chars if char in self}

    __rand__ = __and__


@functools.lru_cache(maxsize=64)
def cmap(path: Path, number: int = 0) -> Coverage:
    """The characters face `number` of a font file maps to glyphs."""
    import uharfbuzz as hb

    return Coverage(hb.Face(hb.Blob.from_file_path(str(path)), number).unicodes)


@functools.lru_cache(maxsize=4096)
def fallback_family(char: str) -> str | None:
    """The installed fallback family that sets `char`, the first in FALLBACKS order as in the CSS
    font stacks; None when Source Sans Pro has it (or when no pinned font has it)."""
    if char in cmap(font_path(SANS, FACES[0][3])) or not char.isprintable():
        return None
    return next((family for family, _, path in fallbacks() if char in cmap(path)), None)


def text_families(text: str) -> list[str]:
    """The families that set `text`: Source Sans Pro, then each fallback one of its characters needs."""
    return [SANS, *dict.fromkeys(f for f in map(fallback_family, text) if f is not None)]


def fallback_file(family: str, weight: int) -> Path:
    """The installed file of a fallback family nearest to `weight`, heavier first as CSS matches."""
    faces = [(abs(w - weight) - (w > weight) * 0.5, path) for f, w, path in fallbacks() if f == family]
    return min(faces)[1]

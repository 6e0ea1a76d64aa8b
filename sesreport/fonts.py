"""The fonts every document uses, shipped as pinned Python packages so every machine renders alike.

Source Sans Pro (text, tables, charts) and Source Serif Pro (titles) cover Latin, Cyrillic
(Russian, Ukrainian, Kazakh) and the symbols the documents print.
"""

from __future__ import annotations

import functools
from pathlib import Path

import font_source_sans_pro
import font_source_serif_pro

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


def font_dirs() -> list[Path]:
    return [Path(font_source_sans_pro.font_directory), Path(font_source_serif_pro.font_directory)]


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
    return "\n".join(rules)


@functools.lru_cache(maxsize=1)
def register_matplotlib() -> None:
    """Make the packaged fonts known to matplotlib (once per process)."""
    from matplotlib import font_manager

    for family, _, _, name in FACES:
        if family == SANS:
            font_manager.fontManager.addfont(str(font_path(family, name)))

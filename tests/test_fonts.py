"""Scripts the main fonts lack: a pinned fallback font prints them, in the PDF and in the HTML.

A brief whose context names countries as they write themselves (Georgian, Armenian, Hebrew, Arabic,
Chinese, Japanese, Korean) and uses emoji is built from the real data: no glyph prints as the
missing-glyph box, no system font is embedded, the text is extracted back from the PDF, and the HTML
carries subsets of the same fallback fonts.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
import yaml

from sesreport.cli import main
from sesreport.fonts import FALLBACK_FAMILIES, missing_fallbacks
from sesreport.pdfcheck import check_pdf
from sesreport.webfonts import font_faces
from tests.conftest import CONFIG, need_real

NAMES = ("საქართველო (Georgia), Հայաստան (Armenia), ישראל (Israel), مصر (Egypt), 中国 (China), 日本 (Japan), "
         "대한민국 (Korea)")
TEXT = f"Names as their countries write them: {NAMES}; trend 📈 ✅."


def need_fallback_fonts() -> None:
    missing = missing_fallbacks()
    if missing:
        pytest.fail(f"fallback fonts are missing ({', '.join(p.name for p in missing)}): install them with "
                    "`sudo apt-get install -y fonts-noto-core fonts-symbola` (scripts/system-deps.sh does it)",
                    pytrace=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    need_fallback_fonts()
    real = need_real()
    config = tmp_path_factory.mktemp("config") / "config"
    shutil.copytree(CONFIG, config)
    rus = yaml.safe_load((config / "countries" / "RUS.yaml").read_text(encoding="utf-8"))
    rus["languages"] = ["en"]
    rus["summary"] = [{"text": {"en": TEXT}}]
    (config / "countries" / "RUS.yaml").write_text(yaml.safe_dump(rus, allow_unicode=True), encoding="utf-8")
    out = tmp_path_factory.mktemp("fonts")
    assert main(["build", "RUS", "--document", "brief", "--config", str(config), "--data", str(real),
                 "--out", str(out), "--as-of", "2026-11-27", "-j", "1"]) == 0
    return out / "brief"


def test_no_missing_glyph_and_no_system_font(built):
    """Every check passes, with eleven embedded fonts: glyphs, fonts and the rest of PDF/UA and PDF/A."""
    assert [str(f) for f in check_pdf(built / "RUS.en.pdf")] == []


def test_each_script_is_set_in_its_pinned_fallback(built):
    with pikepdf.open(built / "RUS.en.pdf") as pdf:
        fonts = {str(f.BaseFont).split("+", 1)[1] for page in pdf.pages for f in page.Resources.Font.values()}
    assert {"Noto-Sans-Georgian", "Noto-Sans-Armenian", "Noto-Sans-Hebrew", "Noto-Sans-Arabic",
            "Noto-Sans-CJK-JP", "Symbola-Semi-Condensed"} <= fonts
    assert not [f for f in fonts if not f.startswith(("Source-Sans-Pro", "Source-Serif-Pro", "Noto-Sans", "Symbola"))]


def test_text_comes_back_out_of_the_pdf(built):
    text = subprocess.run(["pdftotext", str(built / "RUS.en.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.split())
    for word in ("საქართველო", "Հայաստան", "中国", "日本", "대한민국", "📈", "✅"):
        assert word in flat
    # right-to-left words come out in reading order, wrapped in directional marks
    assert "ישראל" in flat and "مصر" in flat


def test_html_embeds_subsets_of_the_same_fonts(built):
    html = (built / "RUS.en.html").read_text(encoding="utf-8")
    families = re.findall(r'@font-face \{ font-family: "([^"]+)"; font-weight: (\d+); font-style: normal; '
                          r'src: url\(data:font/woff;base64,', html)
    assert {f for f, _ in families} == {"Source Sans Pro", "Source Serif Pro", *FALLBACK_FAMILIES}
    assert "url(http" not in html and "url(file" not in html


def test_fallback_faces_only_where_needed():
    latin = font_faces("Unemployment 5.1 % — Безработица")
    assert latin.count("@font-face") == 5 and "Noto" not in latin
    georgian = font_faces("Unemployment in საქართველო")
    assert georgian.count("@font-face") == 7  # Noto Sans Georgian regular and bold
    assert 'font-family: "Noto Sans Georgian"; font-weight: 700' in georgian


def test_a_faces_coverage_answers_as_the_set_of_its_characters_would():
    import uharfbuzz as hb

    from sesreport.fonts import FACES, SANS, cmap, font_path

    path = font_path(SANS, FACES[0][3])
    chars = {chr(code) for code in hb.Face(hb.Blob.from_file_path(str(path)), 0).unicodes}
    coverage = cmap(path)
    probe = {chr(code) for code in range(0x20, 0x2FFF)} | {"ქ", "哈", "😀", "\U0010FFFF"}
    assert {char for char in probe if char in coverage} == chars & probe
    assert probe & coverage == chars & probe == coverage & probe
    assert "Ж" in coverage and "ქ" not in coverage and "ab" not in coverage and 1 not in coverage

"""The slide deck's layout, read from the real deck of Kazakhstan (`build --kind strategy KAZ --lang en`):
every slide's source line sits at the foot of the slide whatever the content above it, and on a topic
slide the key figures stand beside the chart (62% of the width, 8mm away), their tops level with the
chart's caption. The stylesheet reaches this without laying the slide out as flex items (see
slides.css); these positions are the ones the flex layout gave."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO, need_real

MM = 72 / 25.4  # points per millimetre
PAGE_HEIGHT = 167.06 * MM
SOURCE_FOOT = PAGE_HEIGHT - 9 * MM - 4 * MM  # the page's bottom margin, then the slide's bottom padding


@pytest.fixture(scope="module")
def words(tmp_path_factory) -> list[list[tuple[float, float, float, float, str]]]:
    """Per slide, the words above the page footer: (x0, y0, x1, y1, text), in points from the top left."""
    out = tmp_path_factory.mktemp("slides") / "out"
    done = subprocess.run([sys.executable, str(REPO / "generate.py"), "build", "--kind", "strategy", "KAZ", "--lang",
                           "en", "--data", str(need_real()), "--out", str(out), "--as-of", "2026-11-27"],
                          capture_output=True, text=True, cwd=REPO, timeout=900)
    assert done.returncode == 0, done.stderr
    xml = subprocess.run(["pdftotext", "-bbox", str(out / "strategy" / "KAZ.en.slides.pdf"), "-"],
                         capture_output=True, text=True, check=True).stdout
    pattern = r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<'
    footer = PAGE_HEIGHT - 9 * MM
    return [[(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in re.findall(pattern, page)
             if float(d) < footer] for page in xml.split("<page ")[1:]]


def test_every_source_line_sits_at_the_foot_of_its_slide(words):
    assert len(words) == 13  # title, agenda, 4 topics and their options, 2 dashboard slides, closing
    for number, slide in enumerate(words[2:-1], start=3):  # the agenda and the closing have none
        foot = max(w[3] for w in slide)
        line = " ".join(w[4] for w in slide if abs(w[3] - foot) < 1)
        assert foot == pytest.approx(SOURCE_FOOT, abs=0.5), (number, line)
        assert line.startswith(("Source:", "Evidence and rationale", "On track:")), (number, line)
        assert min(w[0] for w in slide if abs(w[3] - foot) < 1) == pytest.approx(14 * MM, abs=0.01)


def test_the_key_figures_stand_beside_the_chart(words):
    slide = words[2]  # the first topic: fatal occupational injuries, chart and three key figures
    caption, label = sorted((w for w in slide if w[4] == "Fatal"), key=lambda w: w[0])
    assert caption[0] == pytest.approx(14 * MM, abs=0.01)
    # the key figures start after the chart's 62% of the 269mm inner width and the 8mm gap, inside the
    # tile's 2mm border and 4.5mm padding
    assert label[0] == pytest.approx((14 + 0.62 * 269 + 8 + 2 + 4.5) * MM, abs=0.01)
    assert 0 < label[1] - caption[1] < 4 * MM  # the tile's 3mm top padding: level with the caption
    values = [w for w in slide if w[4] == "4.3" and w[0] > 150 * MM]  # the latest value, 2017, in its tile
    assert len(values) == 1 and values[0][0] == pytest.approx(label[0], abs=0.01)

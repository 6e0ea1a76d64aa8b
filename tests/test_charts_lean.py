"""Charts drawn lean and the same whatever the order: real charts of the Russian Federation.

Three charts are drawn from the real files: its unemployment rate against the CIS peers' band (a
trend), the CIS employment ratios (a ranking naming every bar, one of them in Georgian, so that the
figure is drawn a second time with the fallback font) and a security profile. Lean, each has far fewer
elements than matplotlib writes, and WeasyPrint paints it pixel for pixel as before, its text still
text in the same fonts. Drawn in any order, interleaved, after charts of other sizes, each gives the
same bytes.
"""

from __future__ import annotations

import base64
import contextlib
import re
import subprocess
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

import pdfplumber
import pytest
from matplotlib.ticker import FixedFormatter, FixedLocator
from PIL import Image, ImageChops

from sesreport import charts
from sesreport.compute import peer_band
from sesreport.documents.brief import country_name
from sesreport.i18n import Lang
from sesreport.render import write_pdf
from tests.test_fonts import need_fallback_fonts

CIS = ["ARM", "AZE", "BLR", "GEO", "KAZ", "KGZ", "MDA", "RUS", "TJK", "UKR", "UZB"]
GEORGIA = "საქართველო"


def trend(ds, size=charts.HALF) -> charts.Chart:
    history = ds.headline("unemployment")
    history = history[history["iso3"] == "RUS"].sort_values("year")[["year", "value"]].reset_index(drop=True)
    band = peer_band(ds.headline("unemployment"), [c for c in CIS if c != "RUS"], 2001, 2025)
    made = charts.trend(history, band, ds.catalog["unemployment"], "Russian Federation", "CIS", Lang("en"), size)
    assert made is not None
    return made


def ranking(ds) -> charts.Chart:
    latest = ds.headline("employment_ratio").sort_values(["iso3", "year"]).groupby("iso3").tail(1)
    values = latest[latest["iso3"].isin(CIS) & (latest["year"] >= 2015)][["iso3", "year", "value"]]
    names = {c: country_name(ds, c, Lang("en")) for c in values["iso3"]} | {"GEO": GEORGIA}
    median = float(values[values["iso3"] != "RUS"]["value"].median())
    made = charts.ranking(values.reset_index(drop=True), "RUS", names, ds.catalog["employment_ratio"], Lang("en"),
                          median)
    assert made is not None
    return made


def profile(size=charts.COMPACT_PROFILE) -> charts.Chart:
    rows = [("Income", 0.62, 0.55), ("Labour market", 0.71, 0.6), ("Employment", None, 0.5),
            ("Work", 0.44, 0.48), ("Skill reproduction", 0.8, 0.7)]
    made = charts.profile(rows, "Russian Federation", Lang("en"), size)
    assert made is not None
    return made


@pytest.fixture(scope="module")
def drawn(real_ds):
    need_fallback_fonts()
    return {"trend": trend(real_ds), "ranking": ranking(real_ds), "profile": profile()}


@pytest.fixture(scope="module")
def unlean(real_ds):
    """The same charts as matplotlib writes them (the lean pass left out)."""
    lean = charts.lean
    charts.lean = lambda svg: svg[svg.find("<svg"):]
    try:
        return {"trend": trend(real_ds), "ranking": ranking(real_ds), "profile": profile()}
    finally:
        charts.lean = lean


def elements(svg: str) -> Counter:
    return Counter(e.tag.rpartition("}")[2] for e in ElementTree.fromstring(svg).iter())


def texts(svg: str) -> list[tuple[str, str | None, str | None, str | None]]:
    """Each text element: its content, position and style (font family, size, anchor, colour)."""
    return [("".join(t.itertext()), t.get("x"), t.get("y"), t.get("style"))
            for t in ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]


def test_lean_charts_have_half_the_elements_and_no_empty_wrapper(drawn, unlean):
    for kind, chart in drawn.items():
        before, after = elements(unlean[kind].svg), elements(chart.svg)
        # trend and profile charts' ticks are plain texts and lines already (charts._axis_ticks): less to take away
        plain = kind in ("trend", "profile")
        assert sum(after.values()) <= (0.75 if plain else 0.6) * sum(before.values()), kind
        assert after["g"] <= before["g"] / (2.5 if plain else 3), kind
        for group in ElementTree.fromstring(chart.svg).iter("{http://www.w3.org/2000/svg}g"):
            assert set(group.attrib) - {"id"} or re.fullmatch(r"[xy]tick_\d+", group.get("id", "")), kind
        assert "rotate(-0 " in unlean[kind].svg and "rotate(-0 " not in chart.svg
        assert "<style" not in chart.svg and 'stroke-linejoin="round" stroke-linecap="butt"' in chart.svg
        # every clip path referenced is there and none is lost; a marker's uses may have become one path
        refs = set(re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', chart.svg))
        before = set(re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', unlean[kind].svg))
        assert {c for c, _ in refs if c} == {c for c, _ in before if c} and refs <= before, kind
        ids = set(re.findall(r' id="([^"]+)"', chart.svg))
        assert {a or b for a, b in refs} <= ids, kind
        # a marker no use refers to any more is gone with its definitions
        assert set(re.findall(r'<path id="(m[0-9a-f]+)"', chart.svg)) <= {m for _, m in refs}, kind


def test_shapes_painted_alike_are_one_path(drawn, unlean):
    # the profile: its gridlines, its axis's tick marks, the peer medians' marks and the dots, one path each
    before, after = elements(unlean["profile"].svg), elements(drawn["profile"].svg)
    assert before["use"] == 17 and after["use"] == 0
    gridlines = [p for p in ElementTree.fromstring(drawn["profile"].svg).iter("{http://www.w3.org/2000/svg}path")
                 if p.get("stroke") == "#e3e7eb"]
    assert len(gridlines) == 1 and gridlines[0].get("d", "").count("M") == 6  # 0.0, 0.2, ... 1.0
    dots = [p.get("d", "").count("M") for p in ElementTree.fromstring(drawn["profile"].svg).iter(
        "{http://www.w3.org/2000/svg}path") if p.get("fill") == "#0072b2"]
    assert dots == [4, 1]  # the country's four values (none for employment), then the legend's dot


def test_lean_charts_keep_every_text_where_it_was(drawn, unlean):
    for kind, chart in drawn.items():
        assert texts(chart.svg) == texts(unlean[kind].svg), kind
        assert chart.alt == unlean[kind].alt and chart.labels == unlean[kind].labels
    assert ">59.8<" in drawn["ranking"].svg  # the Russian Federation's employment ratio
    georgian = [t for t in texts(drawn["ranking"].svg) if t[0] == GEORGIA]
    assert len(georgian) == 1 and "font-family: 'Source Sans Pro','Noto Sans Georgian'" in georgian[0][3]


def page(made: dict[str, charts.Chart]) -> str:
    figures = "".join(f'<figure style="width: 86mm"><img src="data:image/svg+xml;base64,'
                      f'{base64.b64encode(c.svg.encode()).decode()}" alt="{c.kind}"></figure>' for c in made.values())
    return f'<!DOCTYPE html><html lang="en"><head><title>Charts</title></head><body>{figures}</body></html>'


def pixels(pdf: bytes, folder: Path, name: str) -> Image.Image:
    (folder / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(folder / f"{name}.pdf"), str(folder / name)],
                   check=True)
    return Image.open(folder / f"{name}.png").convert("RGB")


def test_weasyprint_paints_lean_charts_pixel_for_pixel_with_their_text(drawn, unlean, tmp_path):
    lean_pdf, unlean_pdf = write_pdf(page(drawn)).data, write_pdf(page(unlean)).data
    assert ImageChops.difference(pixels(lean_pdf, tmp_path, "lean"), pixels(unlean_pdf, tmp_path, "unlean")
                                 ).getbbox() is None
    (tmp_path / "lean.pdf").write_bytes(lean_pdf)
    with pdfplumber.open(tmp_path / "lean.pdf") as pdf:
        chars = pdf.pages[0].chars
    shown = "".join(c["text"] for c in chars)
    assert "RussianFederation" in shown.replace(" ", "") and GEORGIA in shown and "59.8" in shown
    families = {re.sub(r"-(Semi-Bold|Bold)$", "", c["fontname"].split("+", 1)[-1]) for c in chars}
    assert families == {"Source-Sans-Pro", "Noto-Sans-Georgian"}


def test_the_same_bytes_whatever_the_order(real_ds, drawn):
    draw = {"trend": lambda: trend(real_ds), "ranking": lambda: ranking(real_ds), "profile": profile,
            "compact": lambda: trend(real_ds, charts.COMPACT)}
    compact = draw["compact"]().svg
    for order in (["profile", "ranking", "trend"], ["ranking", "compact", "ranking", "trend", "profile", "trend"],
                  ["compact", "profile", "compact", "ranking"]):
        for kind in order:
            svg = draw[kind]().svg
            assert svg == (compact if kind == "compact" else drawn[kind].svg), (order, kind)
    assert compact != drawn["trend"].svg  # another size: another drawing


def test_a_reused_figure_draws_what_a_new_one_draws(real_ds, drawn):
    """A trend chart and a profile are drawn on the figure and axes of the last chart of their kind,
    emptied (`charts._figure`, `charts._axes`): the same bytes as on a new figure, after charts of
    other data and sizes."""
    kept = charts._kept.__dict__
    trend(real_ds, charts.COMPACT)
    profile(charts.PROFILE)
    figures = {name: id(fig) for name, fig in kept.items()}
    assert set(figures) == {"trend", "profile"}
    again = {"trend": trend(real_ds), "profile": profile()}
    assert {name: id(fig) for name, fig in kept.items()} == figures  # drawn on the same figures
    assert len(kept["trend"].axes) == len(kept["profile"].axes) == 1
    kept.clear()
    new = {"trend": trend(real_ds), "profile": profile()}
    for kind in ("trend", "profile"):
        assert again[kind].svg == new[kind].svg == drawn[kind].svg, kind


def test_a_text_measured_for_an_earlier_chart_draws_as_measured_anew(real_ds, drawn, monkeypatch):
    """The charts measure each text once a process (`charts._measured`), not once a chart as
    matplotlib does: drawn with matplotlib's own measuring, the same bytes."""
    charts._sizes.clear()
    first = {"trend": trend(real_ds), "profile": profile()}
    assert charts._sizes  # measured and kept
    again = {"trend": trend(real_ds), "profile": profile()}  # from what was kept
    monkeypatch.setattr(charts, "_measured_once", contextlib.nullcontext)
    own = {"trend": trend(real_ds), "profile": profile()}  # matplotlib's measuring, per renderer
    for kind in ("trend", "profile"):
        assert first[kind].svg == again[kind].svg == own[kind].svg == drawn[kind].svg, kind


def test_ticks_drawn_as_plain_artists_paint_as_matplotlibs_own(real_ds, drawn, tmp_path, monkeypatch):
    """Trend and profile charts draw their ticks and axis label as texts and lines of their own
    (`charts._axis_ticks`), not with matplotlib's tick machinery: the same texts at the same places, and
    WeasyPrint paints the same pixels."""

    def matplotlib_ticks(ax, which, values, labels, *, pad, mark=0.0, grid=False, size=charts.SMALL, title=None,
                         title_pad=2.0):  # pad and mark: the style's
        axis = ax.xaxis if which == "x" else ax.yaxis
        axis.set_visible(True)  # on axes reused from a chart that hid it
        axis.set_major_locator(FixedLocator([float(v) for v in values]))
        axis.set_major_formatter(FixedFormatter(list(labels)))
        axis.set_tick_params(labelsize=size)
        if grid:
            ax.grid(True, axis=which)  # on, not toggled (the axes may be reused)
            ax.set_axisbelow(True)
        if title is not None:
            ax.set_xlabel(title, fontsize=charts.SMALL, color=charts.MUTED, labelpad=title_pad)

    def draw_all() -> dict[str, charts.Chart]:
        charts._kept.__dict__.clear()  # new figures: matplotlib's ticks leave their axes as ours do not
        return {"trend": trend(real_ds), "compact": trend(real_ds, charts.COMPACT), "profile": profile(),
                "wide profile": profile(charts.PROFILE)}

    monkeypatch.setattr(charts, "_axis_ticks", matplotlib_ticks)
    own = draw_all()
    monkeypatch.undo()
    plain = draw_all()
    assert plain["trend"].svg == drawn["trend"].svg
    for kind in own:
        assert sorted(texts(plain[kind].svg)) == sorted(texts(own[kind].svg)), kind  # drawn in another order
        assert "xtick_1" in plain[kind].svg  # grouped and named as matplotlib's
        assert ("ytick_1" in plain[kind].svg) == (kind != "profile")  # a stacked profile names its rows above them
        # matplotlib's tick marks are markers, each in its tick's group; ours are siblings, made one path
        assert own[kind].svg.count("<use") > plain[kind].svg.count("<use"), kind
    shown = [t[0] for t in texts(plain["trend"].svg)]
    assert shown[:11] == ["0", "4", "8", "12", "16", "20", "1992", "1998", "2004", "2010", "2016"]
    assert ImageChops.difference(pixels(write_pdf(page(plain)).data, tmp_path, "plain"),
                                 pixels(write_pdf(page(own)).data, tmp_path, "own")).getbbox() is None


def test_a_stacked_profile_prints_each_value_beside_its_dot():
    """A half-width profile names each form above its row; a value printed below its dot would sit on
    the next form's name (Burkina Faso's job security, 0.06, hid "Work security"). It goes right of the
    dot, left of it where the peer median's tick or the axis's end is on the right, and right of the
    tick when the tick is just right of a dot at the start of the axis."""
    axis, text = 3.0, 0.2  # inches: the axis from 0 to 1, and the printed value
    assert charts._beside_dot(0.33, 0.20, text, axis)["ha"] == "left"
    assert charts._beside_dot(0.33, 0.40, text, axis)["ha"] == "right"  # the tick is on the right
    assert charts._beside_dot(0.97, 0.60, text, axis)["ha"] == "right"  # the axis ends on the right
    start = charts._beside_dot(0.06, 0.07, text, axis)
    assert start["ha"] == "left" and start["xytext"][0] > 4.5  # right of the tick at 0.07
    assert charts._beside_dot(0.50, None, text, axis) == {"xytext": (4.5, 0), "ha": "left", "va": "center_baseline"}
    rows = [("Labour market security", 0.82, 0.72), ("Job security", 0.06, 0.07), ("Work security", None, 0.3),
            ("Income security", 0.33, 0.40)]
    made = charts.profile(rows, "Burkina Faso", Lang("en"), charts.COMPACT_PROFILE)
    assert made is not None
    values = [style for content, _, _, style in texts(made.svg) if content in ("0.82", "0.06", "0.33")]
    assert len(values) == 3 and all("text-anchor: middle" not in style for style in values)

"""Every number printed in a real strategy input, report and slides, is in its `figures.json`, traced.

The strategy inputs of the Russian Federation and Kazakhstan are built from the real data in each of
their languages; the walk of `test_figures_trace` then runs over the text of the report
(`<ID>.<lang>.pdf`) and of the slide deck (`<ID>.<lang>.slides.pdf`). Both renderings share one
`figures.json`; each record says in `rendering` which of them prints it ("report" or "slides"), and
a number printed in both, or twice in one, has a record for each time it is printed.

The rules that set aside what is not data are those of the brief's walk (see `test_figures_trace`):

1. page furniture: the running footer's page numbers, the contents list's entries, and the numbers
   that order the document: the topics' numbers (in the summary's list, the contents, the agenda,
   the chapter headings, the slides' kickers and the options slides' reference "chapter 3 of the
   report"), the policy options' numbers and the number of a monitoring slide in its series ("(1/2)");
2. chart axis tick labels, read from the charts' SVG in the HTML version (the slides show the first
   chart of each topic);
3. dates: the build date and the release dates;
4. wording: a number in a translated message outside its placeholders, in an indicator's name or
   unit, in a source's title, attribution or licence, and in any text written in the strategy file
   (a title, a question, a narrative block's literal text, a policy option, a peer label). The
   monitoring table wraps an indicator's name beside its topic's, and the text in reading order
   interleaves the two cells' lines; wording is therefore also looked for in the order the text is
   drawn (`pdftotext -raw`), and what it finds there beyond the reading order is set aside too.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from sesreport.cli import main
from sesreport.i18n import Lang
from sesreport.project import load_project
from tests.conftest import CONFIG, need_real
from tests.test_figures_trace import (
    AS_OF,
    PLACEHOLDER,
    dates,
    flat,
    numbers,
    page_text,
    remove,
    removed,
    svg_ticks,
    traced,
    wording,
)

STRATEGIES = ("KAZ", "RUS")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    real = need_real()
    out = tmp_path_factory.mktemp("trace-strategy")
    assert main(["build", "--kind", "strategy", *STRATEGIES, "--data", str(real), "--out", str(out),
                 "--as-of", AS_OF, "-j", "2"]) == 0
    return out / "strategy"


def strategies() -> dict:
    return load_project(CONFIG).configs["strategy"]


def stems() -> list[str]:
    return [f"{sid}.{lang}" for sid in STRATEGIES for lang in strategies()[sid].config.languages]


def texts_of(value, lang: str) -> list[str]:
    """Every text written in the strategy file, in the language (rule 4)."""
    if isinstance(value, dict):
        if value and all(k in ("en", "fr", "es", "ru", "uk") and isinstance(v, str) for k, v in value.items()):
            return [value[lang]] if lang in value else []
        return [t for v in value.values() for t in texts_of(v, lang)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in texts_of(v, lang)]
    return [value] if isinstance(value, str) else []


def strategy_wording(lang: Lang, ds, cfg) -> list[str]:
    """Rule 4: the messages, catalog and sources' wording, and the strategy file's texts."""
    chunks = {c.strip(" ,.;:()") for t in texts_of(cfg.model_dump(mode="json"), lang.code)
              for c in PLACEHOLDER.split(t)}
    extra = [c for c in chunks if re.search(r"\d", c)]
    return sorted(set(wording(lang, ds, None)) | set(extra), key=len, reverse=True)


def furniture(lang: Lang, cfg) -> list[str]:
    """Rule 1: the phrases the topics' and options' numbers stand in."""
    out = []
    for n, topic in enumerate(cfg.topics.values(), start=1):
        title = lang.text(topic.title)
        out += [f"{n}. {title}", f"{n} · {title}",
                lang.gettext("Evidence and rationale for each option: chapter %(n)d of the report.") % {"n": n}]
        out += [f"{k}. {lang.text(o.title)}" for k, o in enumerate(topic.options, start=1)]
    return sorted(out, key=len, reverse=True)


def chart_ticks(html: Path, slides: bool) -> Counter:
    """Rule 2: the tick labels of the charts the report prints, or of those the slides print (the
    first chart of each topic)."""
    body = html.read_text(encoding="utf-8")
    found: Counter = Counter()
    for chapter in re.findall(r'<section class="topic chapter".*?</section>', body, re.S):
        svgs = re.findall(r"<svg\b.*?</svg>", chapter, re.S)
        for svg in svgs[:1] if slides else svgs:
            found += svg_ticks(svg)
    return found


def walk(folder: Path, stem: str, rendering: str, ds) -> tuple[Counter, list[str]]:
    """(the numbers checked, problems) for one rendering of a built strategy input."""
    sid, code = stem.split(".")
    cfg, lang = strategies()[sid].config, Lang(code)
    words = strategy_wording(lang, ds, cfg)
    pdf = folder / f"{stem}.{'slides.pdf' if rendering == 'slides' else 'pdf'}"
    raw = page_text(pdf)
    text, worded = removed(remove(remove(raw, furniture(lang, cfg)), dates(lang, ds)), words)
    text = re.sub(r"\(\d+/\d+\)", " ", text) if rendering == "slides" else text  # a monitoring slide's number
    # a table cell's wrapped lines interleave with the next cell's in the layout order of the text:
    # what wording the drawing order holds beyond what was found is wording all the same
    drawn = removed(remove(remove(page_text(pdf, stream_order=True), furniture(lang, cfg)), dates(lang, ds)), words)
    printed = (Counter(numbers(flat(text))) - (drawn[1] - worded)
               - chart_ticks(folder / f"{stem}.html", rendering == "slides"))
    records = [r for r in json.loads((folder / f"{stem}.figures.json").read_text(encoding="utf-8"))
               if r.get("rendering") == rendering]
    problems, recorded = [], Counter()
    squeezed = re.sub(r"[\s\u00ad]+", "", raw)
    for record in records:
        shown = numbers(flat(remove(flat(record["text"]), words)))
        where = f"{stem} {rendering}: {record['what']} {record.get('indicator') or ''} {record['text']!r}"
        if not traced(record):
            problems.append(f"{where}: not traced to a file and line")
            continue
        if "parts" in record:
            parts = Counter(n for p in record["parts"] for n in numbers(flat(p["text"])))
            if Counter(shown) - parts:
                problems.append(f"{where}: {sorted(Counter(shown) - parts)} printed without a traced part")
        if re.sub(r"[\s\u00ad]+", "", record["text"]) not in squeezed:
            problems.append(f"{where}: recorded but not printed")
        recorded.update(shown)
    missing = printed - recorded
    problems += [f"{stem} {rendering}: {n} printed {k} time(s) more than recorded" for n, k in sorted(missing.items())]
    return printed, problems


@pytest.mark.parametrize(("stem", "rendering"), [(stem, rendering) for stem in stems()
                                                 for rendering in ("report", "slides")])
def test_every_number_printed_in_a_real_strategy_input_is_traced(built, real_ds, stem, rendering):
    printed, problems = walk(built, stem, rendering, real_ds)
    assert sum(printed.values()) > (150 if rendering == "report" else 60), printed
    assert not problems, "\n".join(problems[:40])


def test_the_walk_sees_the_numbers_of_the_russian_strategy(built, real_ds):
    report, _ = walk(built, "RUS.en", "report", real_ds)
    slides, _ = walk(built, "RUS.en", "slides", real_ds)
    # the Gini index of 2023 and its peer median; life expectancy's baseline (2015), target (2030),
    # latest value (2024) and path value; 2 of 3 indicators with new data on track
    assert {"33.0", "27.2", "71.2", "78.0", "73.4", "75.3", "2030"} <= set(report)
    # on the slides: the Gini tile and its peer median, the national poverty rate of 2018
    assert {"33.0", "27.2", "12.6", "2018", "71.2", "78.0"} <= set(slides)
    assert "75.3" not in slides  # the dashboard has no path value
    # the headline printed twice in the report (summary and chapter), once on the slides: 33.0 is
    # also the Gini tile, the chart's end label and (report) the sentence and the monitoring table
    assert report["33.0"] >= 5 and slides["33.0"] >= 3
    # the axis ticks were set aside: 2004 is the first tick of every trend chart
    assert report["2004"] == slides["2004"] == 0


def test_a_target_rests_on_the_strategy_file_and_a_baseline_on_its_observation(built):
    figures = json.loads((built / "RUS.en.figures.json").read_text(encoding="utf-8"))
    life = {(r["what"], r["rendering"]): r for r in figures
            if r["indicator"] == "life_expectancy" and r["what"].startswith("monitoring")}
    assert {w for w, _ in life} == {"monitoring target", "monitoring baseline", "monitoring latest",
                                    "monitoring path value", "monitoring status"}
    assert ("monitoring path value", "slides") not in life  # printed in the report's annex only
    target = life["monitoring target", "slides"]
    assert target["text"] == "78.0\u00a0years (2030)"
    # `- {indicator: life_expectancy, target: 78, target_year: 2030}` on line 121
    assert [(p["text"], p["config"]) for p in target["parts"]] == [
        ("78.0\u00a0years", {"file": "config/strategies/RUS.yaml", "line": 121}),
        ("2030", {"file": "config/strategies/RUS.yaml", "line": 121})]
    wdi = "wdi_datahub/sp.dyn.le00.in/data.csv"
    baseline, latest = life["monitoring baseline", "report"], life["monitoring latest", "report"]
    assert baseline["text"] == "71.2\u00a0years (2015)" and latest["text"] == "73.4\u00a0years (2024)"
    assert {(p["observation"]["file"], p["observation"]["line"]) for p in baseline["parts"]} == {(wdi, 13023)}
    assert {(p["observation"]["file"], p["observation"]["line"]) for p in latest["parts"]} == {(wdi, 13032)}
    path = life["monitoring path value", "report"]
    assert (path["text"], [o["line"] for o in path["observations"]], path["config"]["line"]) == (
        "75.3\u00a0years", [13023, 13032], 121)
    # the Gini tile's peer median: the values, files and lines of the nine peers with one (not Azerbaijan)
    [median] = [r for r in figures if r["what"] == "key figure peer median" and r["indicator"] == "gini"]
    assert median["rendering"] == "slides" and median["text"] == "peer median 27.2"
    assert len(median["peers"]) == 9 and {"iso3": "ARM", "year": 2023, "value": 27.2,
                                           "file": "wdi_datahub/si.pov.gini/data.csv", "line": 79} in [
        {k: p[k] for k in ("iso3", "year", "value", "file", "line")} for p in median["peers"]]

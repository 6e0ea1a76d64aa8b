"""Every number printed in a real brief is in its `figures.json`, traced to a file and line.

Every configured brief is built from the real data in each of its languages (the Russian
Federation's in English and Russian among them); every number in the text `pdftotext` extracts from
the PDF must be the printed text of a record in `figures.json` whose trace ends in files and lines
(see `sesreport.documents.trace`), counted occurrence by occurrence: a number printed three times
needs three records. A record must itself be printed, and a record that prints several numbers (a
sentence) must have a traced part for each.

What is not data is set aside by these rules, and by nothing else:

1. page furniture: the running footer's page numbers ("3/7", "3 / 13") and the contents list's
   numbering and page numbers;
2. chart axis tick labels: scale, not data; read from the charts' SVG (matplotlib's `xtick_*` and
   `ytick_*` groups) in the HTML;
3. dates: the build date, and the release dates of the data files and the country classification,
   as the language writes them (day month year; month year);
4. wording: a number that is part of a translated message outside its placeholders ("Change,
   5 years", "10th–90th percentile", "on a scale from 0 to 1"), of an indicator's name or unit
   ("$3.00 a day (2021 PPP)", "aged 7–14"), of the literal text of a narrative block or of a
   source's title, attribution, licence and address ("CC BY 4.0").
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections import Counter
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import pytest
from babel.messages.pofile import read_po

from sesreport.cli import main
from sesreport.i18n import Lang
from sesreport.project import load_project
from tests.conftest import CONFIG, REPO, need_real

AS_OF = "2026-11-27"
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([^)]*\)[sd]|%[sd]|\{\{.*?\}\}|\{%.*?%\}", re.S)
GAP = r"[\s\u00ad]*"
CONTENTS = re.compile(r"\s*(?:\d+\.\s)?\S.*?(?:\s?\.){3,}\s*\d+\s*")  # an entry, its dot leaders and page


@pytest.fixture(scope="module", params=["full", "two_page"])
def built(tmp_path_factory, request) -> Path:
    """Every brief in the long form (every table) and in the two-page form (a sentence and a chart
    per topic, whose figures keep only what it prints)."""
    real = need_real()
    out = tmp_path_factory.mktemp(f"trace-{request.param}-")
    assert main(["build", "--document", "brief", "--data", str(real), "--out", str(out), "--as-of", AS_OF,
                 "-j", "2", "--format", request.param]) == 0
    return out / "brief"


#: the fewest numbers the walk must see in a brief: it read the brief, not an empty text
LEAST = {"full": 300, "two_page": 80}


def briefs() -> list[str]:
    """Every configured brief in each of its languages: `RUS.en`, `RUS.ru`, …"""
    project = load_project(CONFIG)
    return [f"{iso3}.{lang}" for iso3, loaded in sorted(project.countries.items())
            if "brief" in loaded.config.documents for lang in loaded.config.languages]


def flat(text: str) -> str:
    """One space for any run of white space (the PDF breaks lines; numbers group with a no-break space)."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def numbers(text: str) -> list[str]:
    return NUMBER.findall(text)


# --------------------------------------------------------------------------- what is not data


def messages(lang: str) -> list[str]:
    """Every message of the catalog as the language prints it (singular and plural forms)."""
    path = (REPO / "sesreport" / "locale" / "messages.pot" if lang == "en"
            else REPO / "sesreport" / "locale" / lang / "LC_MESSAGES" / "messages.po")
    with path.open("rb") as f:
        catalog = read_po(f)
    out = []
    for message in catalog:
        if not message.id:
            continue
        texts = message.string if lang != "en" else message.id
        out += [t for t in (texts if isinstance(texts, tuple | list) else [texts]) if t]
    return out


def wording(lang: Lang, ds, loaded) -> list[str]:
    """Literal stretches of text that contain a digit (rule 4), longest first."""
    texts = messages(lang.code)
    for ind in (ds.catalog[code] for code in ds.catalog):
        texts += [lang.indicator(ind), lang.indicator(ind, short=True), lang.indicator_with_unit(ind),
                  lang.indicator_with_unit(ind, short=True), lang.phrase(ind), lang.unit_label(ind)]
    cfg = loaded.config if loaded is not None else None
    for block in [*cfg.summary, *(b for s in cfg.sections.values() for b in s.narrative)] if cfg else []:
        texts.append(block.text if isinstance(block.text, str) else lang.text(block.text))
    for f in ds.files:
        texts += [lang.gettext(t) for t in (f.publisher, f.title, f.attribution, f.licence, f.url) if t]
    chunks = {c.strip(" ,.;:()") for t in texts for c in PLACEHOLDER.split(t)}
    return sorted((c for c in chunks if re.search(r"\d", c)), key=len, reverse=True)


def dates(lang: Lang, ds) -> list[str]:
    """The build date and every release date, as printed (rule 3)."""
    days = {date.fromisoformat(AS_OF)} | {date.fromisoformat(f.vintage) for f in ds.files if f.vintage}
    if ds.countries.vintage:
        days.add(date.fromisoformat(ds.countries.vintage))
    return sorted({flat(lang.date(d)) for d in days} | {flat(lang.month(d)) for d in days}, key=len, reverse=True)


def remove(text: str, phrases: list[str]) -> str:
    """The text without the phrases, wherever the PDF broke a line or a word inside them (`pdftotext`
    drops the hyphen of a word broken at the end of a line)."""
    return removed(text, phrases)[0]


def removed(text: str, phrases: list[str]) -> tuple[str, Counter]:
    """`remove`, and the numbers of the phrases it removed, counted occurrence by occurrence."""
    found: Counter = Counter()
    for phrase in phrases:
        letters = [re.escape(ch) + ("?" if ch == "-" else "") for ch in flat(phrase).replace(" ", "")]
        if letters:
            text, k = re.subn(GAP.join(letters), " ", text, flags=re.I)
            found.update({n: c * k for n, c in Counter(numbers(flat(phrase))).items()} if k else {})
    return text, found


def page_text(pdf: Path, stream_order: bool = False) -> str:
    """The PDF's text without page furniture (rule 1); in the order it is drawn with `stream_order`
    (`pdftotext -raw`: a table cell's wrapped lines stay together instead of interleaving with the
    next cell's)."""
    raw = subprocess.run(["pdftotext", *(["-raw"] if stream_order else []), "-enc", "UTF-8", str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    pages = raw.rstrip("\f").split("\f")
    lines = []
    for i, page in enumerate(pages, 1):
        kept = [line for line in page.splitlines() if not re.fullmatch(CONTENTS, line)]
        footer = [k for k, line in enumerate(kept) if re.fullmatch(rf"\s*{i}\s*/\s*{len(pages)}\s*", line)]
        if footer:  # the running footer of page i, once (a table cell may read the same: rank 2/7)
            del kept[footer[-1]]
        lines += kept
    return "\n".join(lines)


def tick_labels(page: Path) -> Counter:
    """Numbers in the axis tick labels of every chart of the HTML version (rule 2)."""
    body = page.read_text(encoding="utf-8")
    svgs = [base64.b64decode(uri).decode("utf-8")
            for uri in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', body)]
    svgs += re.findall(r"<svg\b.*?</svg>", body, re.S)  # charts written into the page itself
    assert svgs, f"no chart in {page}"
    return sum(map(svg_ticks, svgs), Counter())


def svg_ticks(svg: str) -> Counter:
    """Numbers in the axis tick labels of one chart (matplotlib's `xtick_*` and `ytick_*` groups)."""
    found: Counter = Counter()
    for group in ElementTree.fromstring(svg).iter():
        if local(group.tag) == "g" and re.fullmatch(r"(?:[\w.]+-)?[xy]tick_\d+", group.get("id", "")):
            for label in group.iter():
                if local(label.tag) == "text":
                    found.update(numbers(flat(label.text or "")))
    return found


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


# --------------------------------------------------------------------------- what the records trace


def located(ref: dict) -> bool:
    return bool(ref.get("file")) and isinstance(ref.get("line"), int) and ref["line"] > 0


def peer_located(peer: dict) -> bool:
    """A peer's observation, or (for an index value) the inputs of the peer's value."""
    return located(peer) if "file" in peer else bool(peer.get("inputs")) and all(map(located, peer["inputs"]))


def traced(record: dict) -> bool:
    """Whether a record's trace ends in files and lines (see `sesreport.documents.trace`)."""
    if "parts" in record:
        return all(traced(p) for p in record["parts"])
    if "observation" in record:
        return located(record["observation"])
    if "observations" in record:
        return bool(record["observations"]) and all(map(located, record["observations"]))
    if "inputs" in record:
        return bool(record["inputs"]) and all(map(located, record["inputs"]))
    if "peers" in record:
        own = record.get("country_observation")  # a rank: the country's own value among the peers'
        return bool(record["peers"]) and all(map(peer_located, record["peers"])) and (own is None or located(own))
    if "config" in record:
        return located(record["config"])
    return False


def check(folder: Path, stem: str, ds, loaded) -> tuple[Counter, list[str]]:
    """(the numbers checked, problems) for one built brief."""
    lang = Lang(stem.split(".")[-1])
    words = wording(lang, ds, loaded)
    text = remove(remove(page_text(folder / f"{stem}.pdf"), dates(lang, ds)), words)
    printed = Counter(numbers(flat(text))) - tick_labels(folder / f"{stem}.html")
    records = json.loads((folder / f"{stem}.figures.json").read_text(encoding="utf-8"))
    problems, recorded = [], Counter()
    # without white space and hyphens: pdftotext drops the hyphen of a word broken at a line end
    squeezed = re.sub(r"[\s\u00ad-]+", "", page_text(folder / f"{stem}.pdf"))
    for record in records:
        shown = numbers(flat(remove(flat(record["text"]), words)))
        where = f"{stem}: {record['what']} {record.get('indicator') or record.get('form') or ''} {record['text']!r}"
        if not traced(record):
            problems.append(f"{where}: not traced to a file and line")
            continue
        if "parts" in record:
            parts = Counter(n for p in record["parts"] for n in numbers(flat(p["text"])))
            if Counter(shown) - parts:
                problems.append(f"{where}: {sorted(Counter(shown) - parts)} printed without a traced part")
        if re.sub(r"[\s\u00ad-]+", "", record["text"]) not in squeezed:
            problems.append(f"{where}: recorded but not printed")
        recorded.update(shown)
    missing = printed - recorded
    problems += [f"{stem}: {n} printed {k} time(s) more than recorded" for n, k in sorted(missing.items())]
    return printed, problems


@pytest.mark.parametrize("stem", briefs())
def test_every_number_printed_in_a_real_brief_is_traced(built, real_ds, stem):
    iso3 = stem.split(".")[0]
    printed, problems = check(built, stem, real_ds, load_project(CONFIG, only=[iso3]).countries[iso3])
    form = "two_page" if built.parent.name.startswith("trace-two_page") else "full"
    assert sum(printed.values()) > LEAST[form], printed  # the walk saw the brief's numbers, not an empty text
    assert not problems, "\n".join(problems[:30])


def test_the_walk_sees_the_numbers_of_the_russian_brief(built, real_ds):
    loaded = load_project(CONFIG, only=["RUS"]).countries["RUS"]
    english, _ = check(built, "RUS.en", real_ds, loaded)
    russian, _ = check(built, "RUS.ru", real_ds, loaded)
    # the employment ratio 2025 (WDI), the rank of the overall index (15 of 119), union density 2017
    # (ILOSTAT); in the long form also GDP per capita 2024 (WDI) and the peer range of the unemployment rate
    assert {"59.8", "15", "119", "27.5", "2017"} <= set(english)
    assert {"59,8", "15", "119", "27,5", "2017"} <= set(russian)
    if not built.parent.name.startswith("trace-two_page"):
        assert {"47,362", "0.5", "18.3"} <= set(english)
        assert {"47", "362", "0,5", "18,3"} <= set(russian)
    # and the axis ticks were set aside: 2004 is the first tick of every trend chart, and no value's year
    assert english["2004"] == 0 and "2004" in subprocess.run(
        ["pdftotext", str(built / "RUS.en.pdf"), "-"], capture_output=True, text=True, check=True).stdout.split()


def test_attached_tables_write_years_lines_and_ranks_as_integers(built, tmp_path):
    subprocess.run(["pdfdetach", "-saveall", "-o", str(tmp_path), str(built / "RUS.en.pdf")], check=True)
    table = (tmp_path / "RUS.en.labour_market.csv").read_text(encoding="utf-8").splitlines()
    head = table[0].split(",")
    rows = {line.split(",")[0]: dict(zip(head, line.split(","))) for line in table[1:]}
    # the unemployment rate of 2018 in the WDI API file, line 206, rank 4 of 11 among 10 peers
    unemployment = rows["unemployment"]
    assert (unemployment["year"], unemployment["line"], unemployment["rank"], unemployment["rank_of"],
            unemployment["peers_n"]) == ("2018", "206", "4", "11", "10")
    # an indicator without data has no row (the notes name it), and the others stay integers
    assert "informal_employment" not in rows
    assert not any(re.fullmatch(r"\d+\.0", row[col]) for row in rows.values()
                   for col in ("year", "line", "rank", "rank_of", "peers_n"))
    # the figures attached are the ones written beside the PDF
    assert (tmp_path / "RUS.en.figures.json").read_bytes() == (built / "RUS.en.figures.json").read_bytes()


# ---------------------------------------------------------------------------------------------
# The statistical annex


@pytest.fixture(scope="module")
def annex(tmp_path_factory) -> Path:
    real = need_real()
    out = tmp_path_factory.mktemp("trace-annex")
    assert main(["build", "--document", "annex", "--data", str(real), "--out", str(out), "--as-of", AS_OF,
                 "--lang", "en"]) == 0
    return out / "annex"


def test_every_number_printed_in_the_annex_is_recorded(annex, real_ds):
    """The annex's numbers, under the same rules: each country's figures rest on its index inputs
    (files and lines), listed once per country; each number of the methodology's paragraphs,
    generated from the index file and the run, is a part traced to the line of the index file whose
    setting, node or block it comes from."""
    lang = Lang("en")
    words = wording(lang, real_ds, None)
    text = remove(remove(page_text(annex / "ses.en.pdf"), dates(lang, real_ds)), words)
    printed = Counter(numbers(flat(text)))
    records = json.loads((annex / "ses.en.figures.json").read_text(encoding="utf-8"))
    recorded = Counter(n for r in records for n in numbers(flat(remove(flat(r["text"]), words))))
    assert sum(printed.values()) > 1500
    assert not printed - recorded, sorted((printed - recorded).items())
    inputs = {r["iso3"]: r["inputs"] for r in records if r["what"] == "index inputs"}
    rows = [r for r in records if "inputs_of" in r]
    assert {r["what"] for r in rows} == {"rank", "index value", "rank range", "form value", "data coverage",
                                         "data missing"}
    for r in rows:
        assert r["what"] in ("data coverage", "data missing") or inputs[r["inputs_of"]], r
        assert all(map(located, inputs[r["inputs_of"]])), r
    methodology = [r for r in records if r["what"] == "methodology"]
    assert len(methodology) >= 15
    for r in methodology:
        parts = Counter(n for p in r["parts"] for n in numbers(flat(p["text"])))
        assert not Counter(numbers(flat(remove(flat(r["text"]), words)))) - parts, r["text"]
        assert traced(r) and all(p["config"]["file"] == "config/indices/ses.yaml" for p in r["parts"]), r
    [threshold] = [p for r in methodology for p in r["parts"] if p["what"] == "decile"]
    assert (threshold["text"], threshold["config"]["line"]) == ("6", yaml_line("clusters", "threshold"))
    # Belarus, 26th: its Gini index of 2019 is one of the values its rank rests on
    [rank] = [r for r in rows if r["iso3"] == "BLR" and r["what"] == "rank"]
    assert rank["text"] == "26"
    assert {"indicator": "gini", "iso3": "BLR", "year": 2019, "value": 25.3, "source": "wdi_datahub",
            "vintage": "2026-07-01", "file": "wdi_datahub/si.pov.gini/data.csv", "line": 236} in inputs["BLR"]


def yaml_line(*path: str) -> int | None:
    from sesreport.yamlio import load_yaml

    return load_yaml(CONFIG / "indices" / "ses.yaml").line_of(path)

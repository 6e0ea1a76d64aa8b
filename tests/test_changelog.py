"""The change log covers every kind of document and reports a latest year that moved.

A copy of the real data is built (the Russian Federation's brief in English and the statistical
annex), then updated as a new release would update it, and rebuilt: a later ILOSTAT value of the
Russian union density (2021, after 2017) and a revised Gini index for Belarus (38.0 instead of 25.3
in 2019, the index's reference year). `changes.md` and `changes.json` must say what moved, in the
brief and in the annex, with the exact figures the real files give.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sesreport.changes import compare, markdown, moved_line
from sesreport.cli import main
from tests.conftest import need_real

AS_OF = "2026-11-27"
UNION = Path("ilostat/ILR_TUMT_NOC_RT_A.csv")
GINI = Path("wdi_datahub/si.pov.gini/data.csv")


def replace_line(path: Path, old: str, *new: str) -> None:
    """Replace one whole line of a data file by the lines `new`, keeping the file's BOM and line ends."""
    raw = path.read_bytes()
    end = b"\r\n" if b"\r\n" in raw else b"\n"
    line = old.encode() + end
    assert raw.count(line) == 1, old
    path.write_bytes(raw.replace(line, b"".join(n.encode() + end for n in new)))


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> tuple[Path, str, dict]:
    data = tmp_path_factory.mktemp("changelog") / "data"
    shutil.copytree(need_real(), data)
    out = data.parent / "out"
    args = ["build", "RUS", "--lang", "en", "--document", "brief", "--document", "annex", "--data", str(data),
            "--out", str(out), "--as-of", AS_OF, "--format", "full"]
    assert main(args) == 0
    assert not (out / "changes.md").exists()
    # a later release: the union density of 2021 after that of 2017, and a revised Gini for Belarus
    last = "RUS,ILR_TUMT_NOC_RT,FI:13420,2017,27.45,T31:4129,"
    replace_line(data / UNION, last, last, "RUS,ILR_TUMT_NOC_RT,FI:13420,2021,30.12,T31:4129,")
    replace_line(data / GINI, "Belarus,BLR,2019,25.3", "Belarus,BLR,2019,38.0")
    assert main(args) == 0
    # numbers and units are joined by a no-break space: written here as a space
    log = (out / "changes.md").read_text(encoding="utf-8").replace("\u00a0", " ").replace("\u202f", " ")
    return out, log, json.loads(
        (out / "changes.json").read_text(encoding="utf-8"))


def test_the_brief_reports_a_latest_year_that_moved(rebuilt):
    out, log, changes = rebuilt
    brief = log[log.index("## brief/RUS.en"):]
    for line in ["- union_density, table value: 27.5 (2017) → 30.1 (2021)",
                 "- union_density, table year: 2017 → 2021",
                 "- union_density, key figure: 27.5% (2017) → 30.1% (2021)",
                 "- union_density, table change over 5 years: −3.6 pp → +2.1 pp",
                 "- union_density, table peer median: 22.7 → 20.6",
                 "- union_density, chart caption: Trade union density (%), 2006–2017 → Trade union density (%), "
                 "2006–2021"]:
        assert line in brief.splitlines(), line
    assert "- **union_density** (stale True → False)" in brief
    [value] = [m for m in changes["brief/RUS.en"]["moved"] if m["what"] == "table value"]
    assert value["year"] == [2017, 2021] and value["source"] == UNION.as_posix()
    # the new value is traced to the line added to the file
    figures = json.loads((out / "brief" / "RUS.en.figures.json").read_text(encoding="utf-8"))
    [row] = [f for f in figures if f["what"] == "table value" and f["indicator"] == "union_density"]
    assert (row["observation"]["file"], row["observation"]["line"], row["observation"]["value"]) == (
        UNION.as_posix(), 1065, 30.12)


def test_the_annex_reports_ranks_and_index_values_that_moved(rebuilt):
    out, log, changes = rebuilt
    annex = log[log.index("## annex/ses.en"):log.index("## brief/RUS.en")].splitlines()
    for line in ["- Belarus: rank 26 → 30", "- Belarus: index value 0.70 → 0.69", "- Belarus: rank range 14–81 → 16–81",
                 "- Belarus, income: form value 1.00 → 0.95", "- Kazakhstan: rank 27 → 26",
                 "- Russian Federation: rank range 8–31 → 8–30"]:
        assert line in annex, line
    moved = {(m["iso3"], m["what"], m.get("form")): (m["before"], m["after"])
             for m in changes["annex/ses.en"]["moved"] if "iso3" in m}  # the rest: methodology paragraphs
    assert moved[("BLR", "rank", None)] == ("26", "30")
    # the annex writes its figures beside the PDF: Belarus's row rests on the revised Gini's line
    figures = json.loads((out / "annex" / "ses.en.figures.json").read_text(encoding="utf-8"))
    [inputs] = [f for f in figures if f["what"] == "index inputs" and f["iso3"] == "BLR"]
    [gini] = [i for i in inputs["inputs"] if i["indicator"] == "gini"]
    assert (gini["file"], gini["line"], gini["year"], gini["value"]) == (GINI.as_posix(), 236, 2019, 38.0)
    assert {f["what"] for f in figures if f.get("iso3") == "BLR"} >= {
        "rank", "index value", "rank range", "form value", "data coverage", "index inputs"}


# ---------------------------------------------------------------------------------------------
# Without the real data


def test_a_year_that_moved_is_reported_even_when_the_text_did_not():
    old = [{"indicator": "gini", "what": "table value", "section": "s", "text": "33.0", "year": 2021}]
    new = [{**old[0], "year": 2023}]
    [moved] = compare(old, new)["moved"]
    assert moved["year"] == [2021, 2023]
    assert moved_line(moved) == "gini, table value: 33.0 (2021) → 33.0 (2023)"
    assert compare(old, old)["moved"] == []


def test_annex_rows_are_compared_country_by_country():
    row = {"what": "rank", "node": "overall", "iso3": "BLR", "country": "Belarus"}
    old = [{**row, "text": "2"}, {**row, "iso3": "DNK", "country": "Denmark", "text": "3"}]
    new = [{**row, "text": "4"}, {**row, "iso3": "DNK", "country": "Denmark", "text": "3"}]
    diff = compare(old, new)
    assert [moved_line(m) for m in diff["moved"]] == ["Belarus: rank 2 → 4"]
    assert markdown({"annex/ses.en": diff}, AS_OF).splitlines()[2:] == [
        "## annex/ses.en", "", "Values that moved:", "", "- Belarus: rank 2 → 4"]

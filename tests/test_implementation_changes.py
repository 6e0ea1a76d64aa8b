"""The implementation report over time: one activity added to a copy of the register moves the
outcome by one and the change log names the member State and the entry; one data file removed from a
copy of the data moves the "data generated" count and the change log names who dropped out, which the
test checks against the raw file itself; the demo data build an illustrative, stamped report."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.conftest import CONFIG, REPO, need_real

AS_OF = "2026-12-01"
LITERACY = "wdi_api/API_SE.ADT.LITR.ZS_DS2_en_csv_v2_69.csv"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "generate.py"), *args], capture_output=True, text=True,
                          cwd=REPO, timeout=900)


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.replace("\u00a0", " ").split())


def one_biennium(tmp_path: Path, biennium: str) -> Path:
    """A copy of the configuration whose programme reports one biennium."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    path = config / "programme.yaml"
    text = path.read_text(encoding="utf-8")
    assert 'bienniums: ["2000-2001", "2002-2003"]' in text
    path.write_text(text.replace('bienniums: ["2000-2001", "2002-2003"]', f'bienniums: ["{biennium}"]'),
                    encoding="utf-8")
    return config


def build(config: Path, data: Path, out: Path) -> subprocess.CompletedProcess:
    done = run("build", "--kind", "implementation", "--lang", "en", "--config", str(config), "--data", str(data),
               "--out", str(out), "--as-of", AS_OF, "-j", "1")
    assert done.returncode == 0, done.stderr
    return done


RUS_2002 = """  - id: rus-strategy-follow-up
    country: RUS
    date: "2002-05"
    activity: technical_advice
    delivered: {en: "Follow-up advice", fr: "Conseil de suivi", es: "Asesoramiento de seguimiento"}
    result:
      type: meeting
      text: {en: "A follow-up meeting", fr: "Une réunion de suivi", es: "Una reunión de seguimiento"}
    reference: "test entry"
"""


def test_one_activity_added_to_the_register_moves_the_outcome_by_one_and_names_the_country(tmp_path):
    config = one_biennium(tmp_path, "2002-2003")
    out = tmp_path / "out"
    build(config, need_real(), out)
    pdf = out / "implementation" / "2002-2003.en.pdf"
    assert "Outcome 0 member States" in pdf_text(pdf)
    register = config / "activities.yaml"
    register.write_text(register.read_text(encoding="utf-8") + RUS_2002, encoding="utf-8")
    build(config, need_real(), out)
    text = pdf_text(pdf)
    assert "Outcome 1 member State " in text
    assert "Russian Federation 34" in text and "A follow-up meeting (May 2002)" in text
    log = (out / "changes.md").read_text(encoding="utf-8")
    assert ("- 3e.1 (2002-2003): 0 → 1 member States; Russian Federation now counts — 34 indicators, 4 forms; "
            "meeting recorded on 2002-05 (rus-strategy-follow-up)") in log


def test_a_data_file_removed_moves_the_data_generated_count_and_names_who_dropped_out(tmp_path):
    real = need_real()
    data = tmp_path / "data"
    shutil.copytree(real, data)
    config = one_biennium(tmp_path, "2000-2001")
    out = tmp_path / "out"
    build(config, data, out)
    pdf = out / "implementation" / "2000-2001.en.pdf"
    assert "data are generated for 176 of 217 member States" in pdf_text(pdf)
    # the raw file: Sri Lanka and Papua New Guinea have an adult literacy rate for 2000-2001 in it
    raw = pd.read_csv(real / LITERACY, skiprows=4)
    raw = raw.set_index("Country Code")[["2000", "2001"]]
    assert raw.loc["LKA"].notna().any() and raw.loc["PNG"].notna().any()
    (data / LITERACY).unlink()
    sources = config / "sources.yaml"
    listed = f"      - {LITERACY}\n"
    assert listed in sources.read_text(encoding="utf-8")
    sources.write_text(sources.read_text(encoding="utf-8").replace(listed, ""), encoding="utf-8")
    build(config, data, out)
    assert "data are generated for 174 of 217 member States" in pdf_text(pdf)
    log = (out / "changes.md").read_text(encoding="utf-8")
    assert ("- 3e.1 (2000-2001): 2 → 2 member States; data generated: 176 → 174 member States "
            "(Papua New Guinea, Sri Lanka dropped out)") in log


def test_the_demo_data_build_an_illustrative_report(tmp_path):
    config = one_biennium(tmp_path, "2000-2001")
    out = tmp_path / "out"
    build(config, REPO / "demo" / "data", out)
    text = pdf_text(out / "implementation" / "2000-2001.en.pdf")
    assert "Illustrative data — not official statistics" in text
    assert "Strategic Objective 3" in text

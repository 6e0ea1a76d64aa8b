"""Two builds into one output folder with different selections: both stay in the manifest and on the
index page, whichever finishes last."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from sesreport.manifest import MANIFEST, QUICK, load_manifest, save_manifest
from sesreport.preview import write_index
from tests.conftest import REPO

DEMO = REPO / "demo" / "data"


def entry(name: str) -> dict:
    return {"hash": f"hash-of-{name}", "outputs": {f"brief/{name}.pdf": "sha", f"brief/{name}.html": "sha"}}


def test_saving_keeps_what_another_build_recorded_meanwhile(tmp_path):
    save_manifest(tmp_path, {"brief/IDN.en": entry("IDN.en"), QUICK: {"IDN": {"jobs": ["brief/IDN.en"]}}})
    first, second = load_manifest(tmp_path), load_manifest(tmp_path)  # two builds start
    second["brief/KAZ.en"] = entry("KAZ.en")
    second[QUICK]["KAZ"] = {"jobs": ["brief/KAZ.en"]}
    save_manifest(tmp_path, second)  # the second finishes first
    first["brief/RUS.en"] = entry("RUS.en")
    first[QUICK]["RUS"] = {"jobs": ["brief/RUS.en"]}
    save_manifest(tmp_path, first)
    on_disk = json.loads((tmp_path / MANIFEST).read_text())
    assert sorted(on_disk) == ["_quick", "brief/IDN.en", "brief/KAZ.en", "brief/RUS.en"]
    assert sorted(on_disk[QUICK]) == ["IDN", "KAZ", "RUS"]
    write_index(tmp_path)
    index = (tmp_path / "index.html").read_text()
    assert re.findall(r'href="(brief/\w+\.en\.pdf)"', index) == ["brief/IDN.en.pdf", "brief/KAZ.en.pdf",
                                                                  "brief/RUS.en.pdf"]


def test_a_removal_applies_unless_another_build_rewrote_the_entry(tmp_path):
    save_manifest(tmp_path, {"brief/IDN.en": entry("IDN.en"), "brief/KAZ.en": entry("KAZ.en")})
    first, second = load_manifest(tmp_path), load_manifest(tmp_path)
    second["brief/KAZ.en"] = {**entry("KAZ.en"), "hash": "rebuilt"}
    save_manifest(tmp_path, second)
    first.pop("brief/KAZ.en")  # failed in the first build, rebuilt by the second since
    first.pop("brief/IDN.en")  # failed in the first build, untouched by the second
    save_manifest(tmp_path, first)
    on_disk = json.loads((tmp_path / MANIFEST).read_text())
    assert list(on_disk) == ["brief/KAZ.en"] and on_disk["brief/KAZ.en"]["hash"] == "rebuilt"


def start(out: Path, *countries: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "generate.py", "build", *countries, "--lang", "en", "--document",
                             "brief", "--data", str(DEMO), "--out", str(out), "-j", "1", "--as-of", "2026-11-27"],
                            cwd=REPO, env={**os.environ, "SESREPORT_CACHE": str(out.parent / "cache")},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_concurrent_builds_with_different_selections_are_both_listed(tmp_path):
    out = tmp_path / "out"
    builds = [start(out, "RUS"), start(out, "KAZ", "UKR")]
    errors = [b.communicate(timeout=600)[1] for b in builds]
    assert [b.returncode for b in builds] == [0, 0], errors
    manifest = json.loads((out / MANIFEST).read_text())
    assert sorted(k for k in manifest if k != QUICK) == ["brief/KAZ.en", "brief/RUS.en", "brief/UKR.en"]
    assert len(manifest[QUICK]) == 2
    index = (out / "index.html").read_text()
    assert sorted(re.findall(r'href="(brief/\w+\.en\.pdf)"', index)) == ["brief/KAZ.en.pdf", "brief/RUS.en.pdf",
                                                                          "brief/UKR.en.pdf"]
    for name in ("KAZ", "RUS", "UKR"):
        assert (out / "brief" / f"{name}.en.pdf").read_bytes().startswith(b"%PDF-")
    # both selections are remembered: run again, each answers "unchanged" before loading any data
    again = [start(out, "RUS"), start(out, "KAZ", "UKR")]
    errors = [b.communicate(timeout=120)[1] for b in again]
    assert [b.returncode for b in again] == [0, 0], errors
    assert "1 unchanged" in errors[0] and "2 unchanged" in errors[1]

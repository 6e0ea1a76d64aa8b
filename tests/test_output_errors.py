"""An output folder that cannot be written: a file in the way, a read-only folder, /dev/full. Each is a
message naming the path with exit 2 and no traceback; a read-only existing file is replaced.

Permissions do not bind root, so as root the builds run without the capabilities that override them
(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER are dropped from the bounding set before exec).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

DEMO = REPO / "demo" / "data"
PR_CAPBSET_DROP = 24
OVERRIDING = (1, 2, 3)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER (linux/capability.h)


def _bound_by_permissions() -> None:
    """In the child, before exec: root keeps its uid but loses the powers to ignore file modes."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in OVERRIDING:
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "cannot drop a capability")


def build(out: Path | str, *extra: str) -> subprocess.CompletedProcess:
    """`generate.py build IDN --lang en` with the demo data, bound by file permissions."""
    return subprocess.run([sys.executable, "generate.py", "build", "IDN", "--lang", "en", "--data", str(DEMO),
                           "--out", str(out), "-j", "1", "--as-of", "2026-11-27", *extra],
                          cwd=REPO, capture_output=True, text=True, timeout=300, preexec_fn=_bound_by_permissions)


@pytest.fixture(scope="module")
def first_build(tmp_path_factory) -> Path:
    """One build of the brief, made once and copied by the tests that need a built folder."""
    out = tmp_path_factory.mktemp("first") / "out"
    done = build(out)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture
def home(tmp_path) -> Iterator[Path]:
    yield tmp_path
    for item in [tmp_path, *tmp_path.rglob("*")]:  # give pytest back a folder it can remove
        if item.is_dir() and not item.is_symlink():
            item.chmod(0o755)


def built_copy(first_build: Path, home: Path) -> Path:
    out = home / "out"
    shutil.copytree(first_build, out, symlinks=True)
    return out


def failed_clearly(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def test_out_is_a_file(home):
    (home / "afile").write_text("a file")
    err = failed_clearly(build(home / "afile"))
    assert f"error: {home / 'afile'}: is a file (pass --out with a folder)" in err
    assert (home / "afile").read_text() == "a file"


def test_out_under_a_file(home):
    (home / "afile").write_text("a file")
    err = failed_clearly(build(home / "afile" / "out"))
    assert f"error: {home / 'afile'}: is a file, so {home / 'afile' / 'out'} cannot be an output folder" in err


def test_out_under_dev_full(home):
    err = failed_clearly(build("/dev/full/out"))
    assert "error: /dev/full: is not a folder, so /dev/full/out cannot be an output folder" in err


def test_out_in_a_read_only_folder(home):
    locked = home / "locked"
    locked.mkdir(mode=0o555)
    err = failed_clearly(build(locked / "out"))
    assert f"error: {locked}: is read-only, so the output folder {locked / 'out'} cannot be made there" in err
    assert list(locked.iterdir()) == []


def test_a_read_only_output_folder(first_build, home):
    out = built_copy(first_build, home)
    before = sorted(p.name for p in out.rglob("*"))
    out.chmod(0o555)
    err = failed_clearly(build(out, "--force"))
    assert f"error: {out}: cannot write in this output folder (Permission denied) (make it writable" in err
    assert sorted(p.name for p in out.rglob("*")) == before


def test_a_read_only_document_folder_fails_before_anything_is_written(first_build, home):
    out = built_copy(first_build, home)
    pdf = out / "brief" / "IDN.en.pdf"
    stamp = pdf.stat().st_mtime_ns
    (out / "brief").chmod(0o555)
    err = failed_clearly(build(out, "--force"))
    assert f"error: {out / 'brief'}: cannot write in this output folder (Permission denied)" in err
    assert pdf.stat().st_mtime_ns == stamp


def test_a_read_only_output_file_is_replaced(first_build, home):
    out = built_copy(first_build, home)
    pdf = out / "brief" / "IDN.en.pdf"
    pdf.chmod(0o444)
    inode = pdf.stat().st_ino
    done = build(out, "--force")
    assert done.returncode == 0, done.stderr
    assert pdf.stat().st_ino != inode and pdf.read_bytes().startswith(b"%PDF-")
    assert "brief/IDN.en  built" in done.stderr

"""Tests that read the real data files fail without them under CI; only SESREPORT_SKIP_REAL=1 skips them elsewhere."""

from __future__ import annotations

import pytest

from tests import conftest


@pytest.fixture
def missing(tmp_path, monkeypatch):
    monkeypatch.setattr(conftest, "REAL", tmp_path / "real")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("SESREPORT_SKIP_REAL", raising=False)
    return monkeypatch


@pytest.mark.parametrize("ci", ["true", "1"])
@pytest.mark.parametrize("skip", [None, "1"])
def test_fails_under_ci_even_when_asked_to_skip(missing, ci, skip):
    missing.setenv("CI", ci)
    if skip:
        missing.setenv("SESREPORT_SKIP_REAL", skip)
    with pytest.raises(pytest.fail.Exception, match="under CI they are required"):
        conftest.need_real()


def test_skips_when_asked_to_outside_ci(missing):
    missing.setenv("SESREPORT_SKIP_REAL", "1")
    with pytest.raises(pytest.skip.Exception, match="the real data files are not at"):
        conftest.need_real()


@pytest.mark.parametrize("ci", [None, "false"])
def test_fails_by_default_and_says_how_to_skip(missing, ci):
    if ci:
        missing.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="set SESREPORT_SKIP_REAL=1"):
        conftest.need_real()


def test_present_files_are_used_whatever_the_settings(missing, tmp_path):
    (tmp_path / "real").mkdir()
    missing.setenv("CI", "true")
    missing.setenv("SESREPORT_SKIP_REAL", "1")
    assert conftest.need_real() == tmp_path / "real"

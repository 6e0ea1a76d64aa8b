"""Shared fixtures: the repository, the real published data files, and datasets loaded from them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"
CONFIG = REPO / "config"

os.environ.setdefault("MPLBACKEND", "Agg")


def need_real() -> Path:
    """The real data files. Without them a test fails: always under CI, and elsewhere unless
    SESREPORT_SKIP_REAL=1 says that skipping is meant (for a machine that has not got them)."""
    if REAL.is_dir():
        return REAL
    missing = f"the real data files are not at {REAL} (../shared/data/real next to the repository)"
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{missing}; under CI they are required", pytrace=False)
    if os.environ.get("SESREPORT_SKIP_REAL") == "1":
        pytest.skip(missing, allow_module_level=True)
    pytest.fail(f"{missing}; set SESREPORT_SKIP_REAL=1 to skip the tests that need them", pytrace=False)


@pytest.fixture(scope="session")
def real_dir() -> Path:
    return need_real()


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def real_ds(real_dir, cache_dir):
    from sesreport.data.load import load_dataset

    return load_dataset(real_dir, CONFIG, cache_dir=cache_dir)

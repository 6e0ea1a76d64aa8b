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
    if not REAL.is_dir():
        pytest.skip(f"the real data files are not at {REAL}")
    return REAL


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

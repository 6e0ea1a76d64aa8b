"""Build options: what the user asked for, as one frozen value handed from the CLI to the build."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .errors import Problem, UserError


@dataclass(frozen=True)
class BuildOptions:
    """Everything `build` and `watch` need from the command line; nothing else travels into the build."""

    data_dir: Path
    config_dir: Path = Path("config")
    out: Path = Path("output")
    countries: tuple[str, ...] = ()  # ISO3 codes (upper case); empty: every configured country
    langs: tuple[str, ...] = ()  # empty: every configured language
    kinds: tuple[str, ...] = ()  # document kinds; empty: every kind
    as_of: date | None = None  # None: today
    jobs: int | None = None  # parallel workers; None: the number of cores
    force: bool = False  # rebuild even when nothing changed
    use_cache: bool = True  # read the parsed data from the cache when its inputs are unchanged
    scheduler: str | None = None  # a Dask scheduler address, or "local"
    json: bool = False  # print a machine-readable summary on stdout
    brief_format: str | None = None  # "two_page" or "full" for every brief; None: as each config says

    @property
    def date(self) -> date:
        return self.as_of or date.today()


def parse_as_of(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(Problem(None, None, f"--as-of '{text}' is not a date", "write it as YYYY-MM-DD")) from None

"""Problems found in a user's files, and the exception that carries them.

A user mistake is never a traceback: it is a :class:`Problem` naming the file, the line and
what to do, collected so that every mistake in a file is reported at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    file: str | None
    line: int | None
    message: str
    hint: str | None = None
    severity: Severity = "error"

    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "hint": self.hint,
            "severity": self.severity,
        }


class UserError(Exception):
    """Raised for mistakes in the user's inputs; the CLI prints the problems and exits 2."""

    exit_code = 2

    def __init__(self, problems: Problem | str | Iterable[Problem]):
        if isinstance(problems, str):
            problems = [Problem(None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean …?' hint for a misspelt name, or None when nothing is close."""
    candidates = list(candidates)
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        close = [lowered[m] for m in difflib.get_close_matches(name.lower(), lowered, n=1, cutoff=0.6)]
    return f"did you mean '{close[0]}'?" if close else None


def display_path(path: Path | str) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)

"""Validation of YAML files against typed schemas, with every error located and explained."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import Problem, did_you_mean
from .yamlio import Located

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base for configuration models: unknown keys are mistakes, not extensions."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def validate(model: type[M], located: Located, data: Any = None, prefix: tuple = ()) -> tuple[M | None, list[Problem]]:
    """Validate `data` (default: the file's data) against `model`; problems carry file and line."""
    data = located.data if data is None else data
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, problems_from(exc, located, prefix)


def problems_from(exc: ValidationError, located: Located, prefix: tuple = (),
                  locate: Callable[[tuple], tuple[str, int | None]] | None = None) -> list[Problem]:
    """Located problems from a pydantic error; `locate` maps a value's path to (file, line)."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = prefix + tuple(err["loc"])
        # pydantic adds the tag of a union member to the location; drop it for line lookup
        clean = tuple(part for part in loc
                      if not (isinstance(part, str) and part.startswith(("function-", "literal["))))
        file, line = locate(clean) if locate else (located.file, located.line_of(clean))
        where = ".".join(str(p) for p in clean) or "(top level)"
        kind = err["type"]
        hint = None
        if kind == "extra_forbidden":
            key = clean[-1]
            message = f"unknown key '{key}' in {'.'.join(map(str, clean[:-1])) or 'the top level'}"
            hint = did_you_mean(str(key), _known_keys())
        elif kind == "missing":
            message = f"'{clean[-1]}' is required in {'.'.join(map(str, clean[:-1])) or 'the top level'}"
        elif kind in ("literal_error", "enum"):
            expected = err.get("ctx", {}).get("expected", "")
            value = err.get("input")
            message = f"{where}: '{value}' is not allowed; expected {expected}"
            options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
            hint = did_you_mean(str(value), options)
        else:
            value = err.get("input")
            shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
            message = f"{where}: {err['msg'].rstrip('.')} (got {shown})"
            message = message.replace("Value error, ", "")
        problems.append(Problem(file, line, message, hint))
    return problems


_FIELDS: dict[str, tuple[str, ...]] = {}


def register(*models: type[BaseModel]) -> None:
    """Remember the field names of models, so an unknown key gets a 'did you mean'."""
    for model in models:
        _FIELDS[model.__name__] = tuple(model.model_fields)


def _known_keys() -> list[str]:
    return sorted({name for fields in _FIELDS.values() for name in fields})

"""YAML loading that remembers where every value came from.

Validation errors must name the file and line of the offending value, so the loader returns,
next to the plain Python data, a map from each value's path (a tuple of keys and indices)
to its line number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, UserError, display_path

Path_ = tuple[Any, ...]


@dataclass
class Located:
    """Data read from one YAML file, with the line of every key and value."""

    data: Any
    file: str
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


# libyaml's parser when pyyaml has it (it does in the wheels): ten times faster than pure Python
_Composer = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALARS = yaml.constructor.SafeConstructor()


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int], file: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise UserError(
                    Problem(file, key_node.start_mark.line + 1, "YAML merge keys ('<<') are not supported",
                            "write the keys out, or rely on the shared defaults file")
                )
            key = _scalar(key_node, file)
            if key in result:
                raise UserError(
                    Problem(file, key_node.start_mark.line + 1, f"key '{key}' appears twice",
                            f"first at line {lines[path + (key,)]}; keep one of them")
                )
            result[key] = _construct(value_node, path + (key,), lines, file)
            lines[path + (key,)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, path + (i,), lines, file) for i, item in enumerate(node.value)]
    return _scalar(node, file)


def _scalar(node: yaml.Node, file: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise UserError(Problem(file, node.start_mark.line + 1, "a key must be a plain value, not a list or mapping"))
    try:
        if node.tag == "tag:yaml.org,2002:str":
            return node.value
        return _SCALARS.construct_object(node, deep=True)
    except yaml.YAMLError as exc:  # e.g. an invalid timestamp
        raise UserError(Problem(file, node.start_mark.line + 1, f"cannot read this value: {exc}")) from None


def load_yaml(path: Path | str, text: str | None = None) -> Located:
    """Read a YAML file; a syntax error becomes a UserError with file and line."""
    path = Path(path)
    shown = display_path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise UserError(Problem(shown, None, "file not found")) from None
        except UnicodeDecodeError as exc:
            raise UserError(Problem(shown, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                                    "save the file as UTF-8")) from None
    try:
        node = yaml.compose(text, Loader=_Composer)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or "invalid YAML"
        if exc.context:
            what = f"{exc.context}, {what}"
        raise UserError(Problem(shown, line, f"invalid YAML: {what}",
                                "check the indentation and that every ':' is followed by a space")) from None
    except yaml.YAMLError as exc:
        raise UserError(Problem(shown, None, f"invalid YAML: {exc}")) from None
    lines: dict[Path_, int] = {}
    try:
        data = {} if node is None else _construct(node, (), lines, shown)
    finally:
        _SCALARS.constructed_objects.clear()  # the constructor remembers every node it built
    return Located(data=data, file=shown, lines=lines)

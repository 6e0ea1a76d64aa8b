"""YAML loading that remembers where every value came from.

Validation errors must name the file and line of the offending value, so the loader returns,
next to the plain Python data, a map from each value's path (a tuple of keys and indices)
to its line number.

A file is checked before anything is built from it: one larger than `MAX_BYTES` is not read;
aliases that refer to the value they are part of, values nested deeper than `MAX_DEPTH`, and aliases
that would expand the file beyond `MAX_VALUES` values (a "billion laughs" file is a few lines) are
refused with the line.
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

#: The size of a YAML file read (the catalog, the largest, is about 50 KB).
MAX_BYTES = 8 * 1024 * 1024
#: Mappings and lists within each other, aliases followed (the configuration needs fewer than ten).
MAX_DEPTH = 50
#: Values in a file once its aliases are expanded (the largest configuration file, the catalog, holds 2,916).
MAX_VALUES = 100_000


def check_graph(root: yaml.Node, file: str) -> None:
    """Refuse a composed document that refers to itself, nests too deep or expands too far.

    Walks the node graph once (an alias is the node it names, so a shared node is measured once)
    without recursion, counting what construction would build."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = _children(node)
        if finished:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            _within_limits(node, size[key], depth[key], file)
            continue
        if key in size:
            continue
        if key in on_path:
            raise UserError(Problem(file, node.start_mark.line + 1,
                                    "a YAML alias (*name) refers to the value it is part of, which would never end",
                                    "write the value out instead of referring to it"))
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _within_limits(node: yaml.Node, size: int, depth: int, file: str) -> None:
    line = node.start_mark.line + 1
    if size > MAX_VALUES:
        raise UserError(Problem(file, line, f"the value here expands to more than {MAX_VALUES:,} values through "
                                            "YAML aliases (*name); refused, as a 'billion laughs' file would be",
                                "write the values out; configuration files need no aliases"))
    if depth > MAX_DEPTH:
        raise UserError(Problem(file, line, f"values nested more than {MAX_DEPTH} levels deep",
                                "configuration files need a few levels; check the indentation"))


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
        if path.exists() and not path.is_file():  # a folder, or a device or pipe that would never end
            raise UserError(Problem(shown, None, "not a file", "give the path of a YAML file"))
        if path.is_file() and path.stat().st_size > MAX_BYTES:
            raise UserError(Problem(shown, None, f"{path.stat().st_size:,} bytes; a configuration file holds at "
                                                 f"most {MAX_BYTES:,}", "check that this is the file you meant"))
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise UserError(Problem(shown, None, "file not found")) from None
        except UnicodeDecodeError as exc:
            raise UserError(Problem(shown, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                                    "save the file as UTF-8")) from None
        except OSError as exc:
            raise UserError(Problem(shown, None, f"cannot be read ({exc.strerror})",
                                    "check that the file is readable")) from None
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
    except RecursionError:  # the pure-Python parser, when libyaml is missing, recurses per level
        raise UserError(Problem(shown, None, f"values nested more than {MAX_DEPTH} levels deep",
                                "configuration files need a few levels; check the indentation")) from None
    if node is not None:
        check_graph(node, shown)
    lines: dict[Path_, int] = {}
    try:
        data = {} if node is None else _construct(node, (), lines, shown)
    finally:
        _SCALARS.constructed_objects.clear()  # the constructor remembers every node it built
    return Located(data=data, file=shown, lines=lines)

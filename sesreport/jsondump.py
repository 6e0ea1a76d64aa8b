"""JSON text of a document's figures: plain values in, exactly the text `json.dumps(value, indent=1,
ensure_ascii=False, sort_keys=True)` gives out, in a third of its time.

The standard library encodes an indented document in pure Python, through a generator per level
of nesting; a brief's figures (a few hundred kilobytes, deeply nested) spent more time there than
in computing them. This encoder writes the same text with one recursive function and the
standard library's own string and number formatting, so the bytes cannot differ: the tests
compare it with `json.dumps` on real figures and on edge cases (empty containers, tuples, NaN,
non-string keys, markup strings).
"""

from __future__ import annotations

from json.encoder import encode_basestring  # the C function where available, as json.dumps uses
from typing import Any

_INDENTS = ["\n" + " " * level for level in range(64)]
_INF = float("inf")
_CONSTANTS = {None: "null", True: "true", False: "false"}


def dumps(value: Any) -> str:
    """`json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True)`.

    A list or dict that occurs more than once (the same object: a statistic's peers, cited by each
    record that rests on them) is encoded once per depth and its text reused."""
    return _Encoder().text(value, 0)


def _indent(level: int) -> str:
    return _INDENTS[level] if level < len(_INDENTS) else "\n" + " " * level


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INF:
        return "Infinity"
    if value == -_INF:
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, float):
        return encode_basestring(_float(key))
    if key is True or key is False or key is None:
        return encode_basestring(_CONSTANTS[key])
    if isinstance(key, int):
        return encode_basestring(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


class _Encoder:
    """One `dumps` call: the text of each container already encoded, by identity and depth (the
    containers live as long as the call, so an identity is never reused within it)."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, int], str] = {}

    def text(self, value: Any, level: int) -> str:
        kind = type(value)
        if kind is str:
            return encode_basestring(value)
        if kind is float:
            return _float(value)
        if kind is int:
            return int.__repr__(value)
        if value is None or value is True or value is False:
            return _CONSTANTS[value]
        if kind is dict or kind is list:  # the common cases first; subclasses and tuples below
            return self.container(value, level)
        if isinstance(value, str):
            return encode_basestring(value)
        if isinstance(value, int):
            return int.__repr__(value)
        if isinstance(value, float):
            return _float(value)
        if isinstance(value, (list, tuple, dict)):
            return self.container(value, level)
        raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")

    def container(self, value: list | tuple | dict, level: int) -> str:
        key = (id(value), level)
        known = self.seen.get(key)
        if known is None:
            known = self.seen[key] = self.encode(value, level)
        return known

    def encode(self, value: list | tuple | dict, level: int) -> str:
        if not value:
            return "{}" if isinstance(value, dict) else "[]"
        inner = _indent(level + 1)
        deeper = level + 1
        if isinstance(value, dict):
            items = [_key(k) + ": " + self.text(v, deeper) for k, v in sorted(value.items())]
            return "{" + inner + ("," + inner).join(items) + _indent(level) + "}"
        return "[" + inner + ("," + inner).join([self.text(v, deeper) for v in value]) + _indent(level) + "]"

"""Babel extraction of the texts the YAML configuration holds in English.

Indicator labels, short labels, phrases and definitions, and the English texts of the shared
defaults and country configs (titles, peer labels), become gettext messages, so that translators
work in one place: the `.po` files. Each indicator phrase also yields a message in context
"gender", whose translation is the grammatical gender of the translated phrase (m, f, n or pl).
Narrative blocks are not extracted: an analyst writes them in each document language.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from .yamlio import check_graph

# narratives are written in each language; definitions and descriptions are not printed
SKIP = {"summary", "narrative", "text", "definition", "description"}


def extract_yaml(fileobj, keywords, comment_tags, options) -> Iterator[tuple[int, str, Any, list[str]]]:
    text = fileobj.read().decode("utf-8-sig")
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is None:
        return
    check_graph(node, getattr(fileobj, "name", "YAML file"))  # no self-reference, no alias bomb
    yield from _walk(node, ())


def _walk(node, path: tuple) -> Iterator[tuple[int, str, Any, list[str]]]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            if key in SKIP:
                continue
            if key == "en" and isinstance(value_node, yaml.ScalarNode) and value_node.value.strip():
                line = value_node.start_mark.line + 1
                message = " ".join(value_node.value.split())
                field = path[-1] if path else ""
                comment = [f"{'.'.join(str(p) for p in path)}"]
                yield line, "gettext", message, comment
                if field == "phrase":
                    yield line, "pgettext", ("gender", message), [
                        "Grammatical gender and number of your translation of this phrase: m, f, n or pl"]
            else:
                yield from _walk(value_node, path + (key,))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, path + (i,))


SOURCE_KEYS = ("publisher", "title", "attribution")


def extract_sources(fileobj, keywords, comment_tags, options) -> Iterator[tuple[int, str, Any, list[str]]]:
    """sources.yaml: each source's publisher, title and attribution, printed on the sources page."""
    node = yaml.compose(fileobj.read().decode("utf-8-sig"), Loader=yaml.SafeLoader)
    if node is None:
        return
    check_graph(node, getattr(fileobj, "name", "sources.yaml"))
    for key_node, value_node in node.value:
        if key_node.value != "sources" or not isinstance(value_node, yaml.SequenceNode):
            continue
        for item in value_node.value:
            for k, v in item.value:
                if k.value in SOURCE_KEYS and isinstance(v, yaml.ScalarNode) and v.value.strip():
                    yield v.start_mark.line + 1, "gettext", " ".join(v.value.split()), [f"sources.{k.value}"]

"""README.md's "Commands" table documents every command of the CLI and every option of each command.

The commands and options are read from `build_parser()`, so a new one fails here until the README names it.
"""

from __future__ import annotations

import argparse
import re

import pytest

from sesreport.cli import build_parser
from tests.conftest import REPO


def commands(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()):
    """(words, parser) for every command that runs something, e.g. (("data", "check"), <parser>)."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups and words:
        yield words, parser
    for group in groups:
        for name, sub in group.choices.items():
            yield from commands(sub, words + (name,))


def subparser_actions(parser: argparse.ArgumentParser):
    """Every subparsers action, nested ones included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield action
            for sub in action.choices.values():
                yield from subparser_actions(sub)


def options(parser: argparse.ArgumentParser) -> list[str]:
    """The long form of every option (the short one where there is none), without --help."""
    out = []
    for action in parser._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        long = [s for s in action.option_strings if s.startswith("--")]
        out.append((long or action.option_strings)[0])
    return out


COMMANDS = list(commands(build_parser()))
OPTIONS = [(words, option) for words, parser in COMMANDS for option in options(parser)]


def commands_section() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^## Commands\n(.*?)(?=^## )", readme, flags=re.M | re.S)
    assert found, "README.md has no '## Commands' section"
    return found.group(1)


def row(words: tuple[str, ...]) -> str:
    """The table row of the README's Commands section that documents `generate.py <words>`."""
    pattern = re.compile(r"generate\.py " + re.escape(" ".join(words)) + r"(?![\w-])")
    rows = [line for line in commands_section().splitlines()
            if line.startswith("|") and pattern.search(line.split("|")[1])]
    assert rows, f"no row for 'generate.py {' '.join(words)}' in README.md's Commands table"
    return rows[0]


def test_the_parser_has_commands():
    assert len(COMMANDS) >= 6 and len(OPTIONS) >= 20


@pytest.mark.parametrize("words", [w for w, _ in COMMANDS], ids=" ".join)
def test_command_in_readme(words):
    row(words)


@pytest.mark.parametrize("words,option", OPTIONS, ids=[f"{' '.join(w)} {o}" for w, o in OPTIONS])
def test_option_in_readme(words, option):
    assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", row(words)), (
        f"README.md's row for 'generate.py {' '.join(words)}' does not mention {option}")


@pytest.mark.parametrize("words,parser", COMMANDS, ids=[" ".join(w) for w, _ in COMMANDS])
def test_positional_choices_in_readme(words, parser):
    """`fetch wdi` and `fetch ilostat`: a positional argument's choices are commands of their own."""
    line = row(words)
    for action in parser._actions:
        if not action.option_strings and action.choices:
            for choice in action.choices:
                assert f"{words[-1]} {choice}" in line, f"README.md does not mention '{words[-1]} {choice}'"


def test_every_command_and_option_has_help():
    for group in subparser_actions(build_parser()):
        for choice in group._choices_actions:
            assert choice.help, f"command {choice.dest} has no help text"
    for words, parser in COMMANDS:
        for action in parser._actions:
            assert action.help, f"generate.py {' '.join(words)}: {action.dest} has no help text"

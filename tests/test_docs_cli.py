"""docs/cli.md is exactly what scripts/gen_cli_docs.py writes now, and every command's help
ends with a runnable `Example: chiso …` whose command and options exist."""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gen_cli_docs.py"
EXAMPLE = re.compile(r"Example: (chiso\b.*)$", re.M)


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_cli_docs", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_cli_docs"] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
COMMANDS = list(gen.walk_commands())
LEAVES = [c for c in COMMANDS if not c.is_group]
GROUPS = [c for c in COMMANDS if c.is_group]
ROOT = COMMANDS[0].command
# Groups whose help (`typer.Typer(help=...)`) has no example yet, reported to their owners.
# This list may only shrink; a new group needs an `Example: chiso <group> <command> …` at once.
GROUPS_WITHOUT_EXAMPLE_KNOWN: set[str] = set()


def test_cli_reference_is_up_to_date() -> None:
    expected = gen.generate()
    current = gen.CLI_DOC.read_text(encoding="utf-8") if gen.CLI_DOC.exists() else ""
    assert current == expected, (
        "docs/cli.md is out of date: run `.venv/bin/python scripts/gen_cli_docs.py` "
        "and commit docs/cli.md"
    )


def test_generator_is_idempotent_and_width_independent(monkeypatch: pytest.MonkeyPatch) -> None:
    first = gen.generate()
    monkeypatch.setenv("COLUMNS", "37")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert gen.generate() == first


def test_reference_has_one_section_per_command_without_rich_art() -> None:
    text = gen.generate()
    headings = re.findall(r"^## (chiso.*)$", text, re.M)
    assert headings == [c.name for c in COMMANDS]
    assert len(set(headings)) == len(headings)
    for art in ("╭", "│", "╰", "\x1b["):
        assert art not in text, f"Rich box art or colour {art!r} in docs/cli.md"
    assert "## chiso db upgrade" in text and "Usage: chiso db upgrade" in text


def _example_lines(item: Any) -> list[str]:
    return EXAMPLE.findall(item.command.help or "")


def _resolve(tokens: list[str]) -> tuple[tuple[str, ...], Any, list[str]]:
    """Follow sub-command names from the root; returns (path, command, remaining tokens)."""
    command, path = ROOT, ("chiso",)
    rest = tokens[1:]
    while gen.is_group(command) and rest and rest[0] in command.commands:
        command, path, rest = command.commands[rest[0]], (*path, rest[0]), rest[1:]
    return path, command, rest


def _parses(command: Any, name: str, args: list[str]) -> str:
    """Parse the example's arguments as the real command would, without running it; returns
    the error, or "". Example input files are created (empty) in the current directory."""
    for _ in range(5):
        try:
            command.make_context(name, list(args))
            return ""
        except Exception as error:  # Click's UsageError/BadParameter: the message is the point
            missing = re.search(r"'(.+?)' does not exist", str(error))
            if not missing or Path(missing.group(1)).is_absolute():
                return f"{type(error).__name__}: {error}"
            Path(missing.group(1)).parent.mkdir(parents=True, exist_ok=True)
            Path(missing.group(1)).touch()
    return "too many missing files"


@pytest.mark.parametrize("item", LEAVES, ids=lambda c: c.name)
def test_every_command_ends_with_an_example_of_itself(
    item: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    examples = _example_lines(item)
    assert examples, f"`{item.name} --help` has no 'Example: chiso …' line (docstring)"
    assert f"Example: {examples[0].split()[0]}" in item.help_text
    for example in examples:
        path, command, rest = _resolve(shlex.split(example))
        assert path == item.path, (
            f"`{item.name}`: the example `{example}` runs `{' '.join(path)}`, not this command"
        )
        error = _parses(command, path[-1], rest)
        assert not error, f"`{example}` does not parse as `{item.name}` arguments: {error}"


@pytest.mark.parametrize("item", GROUPS, ids=lambda c: c.name)
def test_group_help_and_examples_name_existing_commands(item: Any) -> None:
    assert (item.command.help or "").strip(), f"`{item.name}` has no help text"
    assert item.command.commands, f"`{item.name}` is a group without commands"
    examples = _example_lines(item)
    if item.name in GROUPS_WITHOUT_EXAMPLE_KNOWN:
        assert not examples, f"`{item.name}` has an example now: remove it from the known list"
    else:
        assert examples, f"`{item.name} --help` has no 'Example: chiso {item.name[6:]} …' line"
    for example in examples:
        path, command, _ = _resolve(shlex.split(example))
        assert path[: len(item.path)] == item.path and not gen.is_group(command), (
            f"`{item.name}`: the example `{example}` does not name one of its commands"
        )


def test_help_paragraphs_read_as_paragraphs() -> None:
    """Each paragraph of a command's help is one line for the terminal to wrap: a docstring's
    line breaks printed at 80 columns as ragged lines ('… propose its' / 'targets,')."""
    ragged = [c.name for c in COMMANDS for paragraph in (c.command.help or "").split("\n\n")
              if "\n" in paragraph.strip() and not paragraph.startswith("\b")
              and not any(line.startswith((" ", "-", "•", "*"))
                          for line in paragraph.strip().split("\n")[1:])]
    assert not ragged, ragged

"""docs/settings.md documents every field of chiso.settings.Settings, with the type and the
default the code really has."""

from __future__ import annotations

import os
import re
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from chiso.settings import Settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"
TEXT = DOC.read_text(encoding="utf-8")
TABLE_ROW = re.compile(r"^\| `(CHISO_[A-Z_]+)` \| `(.+?)` \| (.+?) \|$", re.M)


def _env_name(field: str) -> str:
    return f"CHISO_{field.upper()}"


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) in (Union, types.UnionType):
        return " | ".join(_type_name(arg) for arg in get_args(annotation))
    return "None" if annotation is type(None) else annotation.__name__


def _default_shown(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, Path):  # relative to the directory chiso starts from
        return f"`./{value.relative_to(Path.cwd())}`"
    return f"`{value}`"


def _table() -> dict[str, tuple[str, str]]:
    return {name: (kind.replace("\\|", "|"), default)
            for name, kind, default in TABLE_ROW.findall(TEXT)}


def test_every_setting_has_a_section_with_what_it_does() -> None:
    missing = []
    for field in Settings.model_fields:
        match = re.search(rf"^### `{_env_name(field)}`\n(.+?)(?=^#|\Z)", TEXT, re.M | re.S)
        if not match or len(match.group(1).split()) < 15:
            missing.append(_env_name(field))
    assert not missing, f"docs/settings.md: no section (what, when to change) for {missing}"


def test_table_type_and_default_match_the_code() -> None:
    table = _table()
    for field, info in Settings.model_fields.items():
        name = _env_name(field)
        assert name in table, f"{name} is missing from the table in docs/settings.md"
        kind, default = table[name]
        assert kind == _type_name(info.annotation), f"{name}: documented type {kind!r}"
        assert default == _default_shown(info.default), f"{name}: documented default {default!r}"


def test_no_documented_setting_is_stale() -> None:
    real = {_env_name(field) for field in Settings.model_fields}
    documented = set(_table()) | set(re.findall(r"^### `(CHISO_[A-Z_]+)`", TEXT, re.M))
    assert documented <= real, f"documented but not in Settings: {sorted(documented - real)}"


def test_documented_defaults_are_what_an_empty_environment_gives(monkeypatch: Any) -> None:
    for name in list(os.environ):
        if name.startswith("CHISO_"):
            monkeypatch.delenv(name)
    settings = Settings.from_environment(env_file=None)
    table = _table()
    for field in Settings.model_fields:
        value = getattr(settings, field)
        assert _default_shown(value) == table[_env_name(field)][1], field

"""Every action chiso can write to the audit trail has words in Vietnamese and English
(chiso/audit/labels.py), so the audit page and its action filter never show a code such as
`scoring.appraised`.

The actions are found in the source: each `record_event(...)` call in chiso/ names its
action as a literal, `a if … else b`, an f-string, a helper's parameter or a bulk write's
`BatchEvent`. Each way is followed to the literal words it can take; a call naming its
action some other way, or a new f-string, fails here until this test learns what it can be.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from chiso.audit import labels
from chiso.scoring.models import ScoreKind
from chiso.values.service import BatchEvent

CHISO = Path(__file__).resolve().parent.parent / "chiso"
ACTION = re.compile(r"^[a-z_0-9]+(\.[a-z_0-9]+)*$")
TREES = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(CHISO.rglob("*.py"))}


def _called(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else (
        func.attr if isinstance(func, ast.Attribute) else None)


def _calls(name: str, path: Path | None = None) -> Iterator[tuple[Path, ast.Call]]:
    for where, tree in TREES.items():
        if path is None or where == path:
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _called(node) == name:
                    yield where, node


def _constant(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) \
        else None


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _keyword_constants(name: str, path: Path | None = None) -> set[str]:
    """Every literal passed as `name=` (to any call) and every default of a parameter
    `name`, in one file or all of chiso."""
    found: set[str] = set()
    for where, tree in TREES.items():
        if path is not None and where != path:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                found |= {v for v in [_constant(_keyword(node, name))] if v}
            if isinstance(node, ast.FunctionDef):
                args = node.args
                positional = args.posonlyargs + args.args
                pairs = list(zip(positional[len(positional) - len(args.defaults):],
                                 args.defaults, strict=True))
                pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults,
                                                  strict=True) if d is not None]
                found |= {v for a, d in pairs if a.arg == name and (v := _constant(d))}
    return found


def _positional_constants(function: str, index: int, path: Path) -> set[str]:
    return {v for _, call in _calls(function, path) if len(call.args) > index
            and (v := _constant(call.args[index]))}


def _file(relative: str) -> Path:
    return CHISO / relative


# What each f-string action can be, read from the code that fills it in.
F_STRINGS = {
    ("collection/service.py", "f'submission.{action}'"):
        lambda: {f"submission.{a}" for a in _positional_constants(
            "_move", 2, _file("collection/service.py"))},
    ("tasks/service.py", "f'task.{change}'"):
        lambda: {f"task.{c}" for c in _positional_constants(
            "_commit_change", 2, _file("tasks/service.py"))},
    ("values/service.py", "f'value.{change}'"):
        lambda: {f"value.{c}" for c in
                 _keyword_constants("change", _file("values/service.py")) | {"update", "restore"}},
    ("scoring/service.py", "f'scoring.{kind.value}'"):
        lambda: {f"scoring.{kind.value}" for kind in ScoreKind},
    ("accounts/service.py", "f'user.password_{reason}'"):
        lambda: {f"user.password_{r}" for r in _keyword_constants(
            "reason", _file("accounts/service.py")) | _keyword_constants(
            "reason", _file("admin/routes.py"))},
}


def _enclosing_function(tree: ast.AST, call: ast.Call) -> ast.FunctionDef | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(child is call for child in ast.walk(node)):
            return node
    return None


def recordable_actions() -> set[tuple[str, str]]:
    """(action, object_type) of every event chiso can record."""
    found: set[tuple[str, str]] = set()
    for path, call in _calls("record_event"):
        action, kind = _keyword(call, "action"), _keyword(call, "object_type")
        object_type = _constant(kind)
        where = f"{path.relative_to(CHISO)}:{call.lineno}"
        if isinstance(action, ast.Attribute) and ast.unparse(action) == "event.action":
            continue  # a bulk write's BatchEvent: below
        assert object_type is not None, f"{where}: object_type is not a literal"
        if _constant(action):
            found.add((_constant(action), object_type))  # type: ignore[arg-type]
        elif isinstance(action, ast.IfExp) and _constant(action.body) and _constant(
                action.orelse):
            found |= {(_constant(action.body), object_type),  # type: ignore[arg-type]
                      (_constant(action.orelse), object_type)}
        elif isinstance(action, ast.JoinedStr):
            key = (path.relative_to(CHISO).as_posix(), ast.unparse(action))
            assert key in F_STRINGS, f"{where}: teach F_STRINGS what {key[1]} can be"
            values = F_STRINGS[key]()
            assert values, f"{where}: found nothing {key[1]} can be"
            found |= {(value, object_type) for value in values}
        elif isinstance(action, ast.Name):
            helper = _enclosing_function(TREES[path], call)
            assert helper is not None and action.id in [a.arg for a in helper.args.args], where
            index = [a.arg for a in helper.args.args].index(action.id)
            values = _positional_constants(helper.name, index, path)
            assert values, f"{where}: no literal action passed to {helper.name}"
            found |= {(value, object_type) for value in values}
        else:
            raise AssertionError(f"{where}: an action named in a way this test cannot read")
    defaults = {f.name: f.default for f in dataclasses.fields(BatchEvent)}
    found.add((str(defaults["action"]), str(defaults["object_type"])))
    for _path, call in _calls("BatchEvent"):
        action = _constant(_keyword(call, "action"))
        if action is not None:
            found.add((action, _constant(_keyword(call, "object_type"))
                       or str(defaults["object_type"])))
    return found


def test_the_source_is_read_as_expected() -> None:
    actions = recordable_actions()
    names = {action for action, _ in actions}
    assert {"submission.approve", "task.progress", "value.delete", "scoring.appraised",
            "user.password_change", "extract.accept", "framework_target.update",
            "records.recompute", "values.upsert", "user.enable"} <= names
    assert all(ACTION.match(name) for name in names), sorted(names)
    assert len(actions) > 80


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_recordable_action_has_a_label(locale: str) -> None:
    missing = sorted(f"{action} ({object_type})" for action, object_type in recordable_actions()
                     if not labels.action_label(action, object_type, locale))
    assert not missing, f"add to chiso/audit/labels.py (ACTIONS or VERBS/OBJECTS): {missing}"


def test_scoring_events_read_as_people_say_them() -> None:
    assert labels.action_label("scoring.self", "scoring_assessment", "vi") == \
        "Tự chấm điểm tiêu chí"
    assert labels.action_label("scoring.appraised", "scoring_assessment", "vi") == \
        "Thẩm định điểm tiêu chí"
    assert labels.action_label("scoring.appraised", "scoring_assessment", "en") == \
        "Appraise a criterion's score"

"""One page of the audit trail as people read it: Vietnam time, who did what to which object
in which unit, and each changed field by the name people know it by, before → after, with
names instead of ids and codes. The records stay as stored; only their reading changes."""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.models import User
from chiso.audit import labels
from chiso.audit.models import AuditEvent
from chiso.indicators.models import Indicator
from chiso.periods import PeriodError, period_label
from chiso.plans.models import Plan
from chiso.text import entered_decimals, format_date, format_moment, format_number
from chiso.units.models import OrgUnit
from chiso.web.i18n import gettext_for

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")
LONGEST_TEXT = 200  # a whole definition or message is cut: the row stays a row
LONGEST_LIST = 5


@dataclass(frozen=True)
class Shown:
    """A value on the page; `code` marks a code shown beside its field's name."""

    text: str
    code: bool = False


@dataclass(frozen=True)
class Change:
    label: Shown  # the field as people know it (its stored name, as a code, if unknown)
    before: Shown | None  # None: the event had no "before" (a creation)
    after: Shown | None  # None: nothing after (a deletion)


@dataclass
class Row:
    id: int
    when: str
    actor: str
    action: Shown
    object: Shown
    object_id: str
    unit: str
    changes: list[Change] = field(default_factory=list)
    note: str = ""


@dataclass
class Names:
    """Names of the units, people, indicators and plans a page of events mentions."""

    units: dict[int, str] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)
    indicators: dict[int, str] = field(default_factory=dict)
    plans: dict[int, str] = field(default_factory=dict)

    def of(self, key: str, value: Any) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        table = (self.units if key in labels.UNIT_FIELDS else
                 self.users if key in labels.USER_FIELDS else
                 self.indicators if key in labels.INDICATOR_FIELDS else
                 self.plans if key in labels.PLAN_FIELDS else None)
        return None if table is None else table.get(value)


def names_for(session: Session, events: Sequence[AuditEvent]) -> Names:
    """One query per kind of name for the whole page."""
    wanted: dict[frozenset[str], set[int]] = {
        labels.UNIT_FIELDS: {e.unit_id for e in events if e.unit_id is not None},
        labels.USER_FIELDS: set(), labels.INDICATOR_FIELDS: set(), labels.PLAN_FIELDS: set()}
    for event in events:
        for key, value in _fields(event):
            for kinds, ids in wanted.items():
                if key in kinds and isinstance(value, int):
                    ids.add(value)
    return Names(
        units=_lookup(session, OrgUnit.id, OrgUnit.name, wanted[labels.UNIT_FIELDS]),
        users=_lookup(session, User.id, User.username, wanted[labels.USER_FIELDS]),
        indicators=_lookup(session, Indicator.id, Indicator.name_vi,
                           wanted[labels.INDICATOR_FIELDS]),
        plans=_lookup(session, Plan.id, Plan.title, wanted[labels.PLAN_FIELDS]))


def _lookup(session: Session, key: Any, name: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {k: v for k, v in session.execute(select(key, name).where(key.in_(ids)))}


def _fields(event: AuditEvent) -> Iterable[tuple[str, Any]]:
    yield from (event.before or {}).items()
    yield from (event.after or {}).items()


def rows(session: Session, events: Sequence[AuditEvent], locale: str) -> list[Row]:
    names = names_for(session, events)
    return [_row(event, names, locale) for event in events]


def _row(event: AuditEvent, names: Names, locale: str) -> Row:
    action = labels.action_label(event.action, event.object_type, locale)
    thing = labels.object_label(event.object_type, locale)
    return Row(
        id=event.id, when=format_moment(event.at, locale, seconds=True),
        actor=labels.actor_label(event.actor_label, locale),
        action=Shown(action) if action else Shown(event.action, code=True),
        object=Shown(thing) if thing else Shown(event.object_type, code=True),
        object_id=event.object_id,
        unit=names.units.get(event.unit_id, "") if event.unit_id is not None else "",
        changes=changes(event.before, event.after, names, locale), note=event.note)


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None, names: Names,
            locale: str) -> list[Change]:
    """The fields an event changed. An update records the whole object on both sides;
    listing every unchanged field buried the one that changed."""
    before, after = before or {}, after or {}
    found = []
    for key in list(before) + [k for k in after if k not in before]:
        old, new = before.get(key), after.get(key)
        if key in labels.HIDDEN_FIELDS or (before and after and old == new):
            continue
        label = labels.field_label(key, locale)
        found.append(Change(
            label=Shown(label) if label else Shown(key, code=True),
            before=shown(key, old, names, locale) if before else None,
            after=shown(key, new, names, locale) if after else None))
    return found


def shown(key: str, value: Any, names: Names, locale: str) -> Shown:
    """One recorded value as the reader expects it: '–' for nothing, names for ids and
    vocabulary codes, 76,6 and 31/12/2025 in Vietnamese, 'Quý III/2026' for a period."""
    if value is None or value == "":
        return Shown("–")
    if (name := names.of(key, value)) is not None:
        return Shown(name)
    if key in labels.CODE_FIELDS:
        return Shown(value if isinstance(value, str) else _plain(value, locale), code=True)
    if isinstance(value, str):
        value = _stored_as_text(value)
    if isinstance(value, str):
        return Shown(_text(key, value, locale))
    return Shown(_plain(value, locale))


def _stored_as_text(value: str) -> Any:
    """Events written before December 2026 kept a list or mapping (a target's milestones) as
    Python's text of it, "[{'date': '2026-06-30', 'value': 60.0}]"; read it back as what it
    was. `literal_eval` builds literals only, never runs anything."""
    if not value.startswith(("[", "{")):
        return value
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return value
    return parsed if isinstance(parsed, (list, dict)) else value


def _text(key: str, value: str, locale: str) -> str:
    if key == "period":
        try:
            return period_label(value, locale)
        except PeriodError:
            return value
    if key == "role":
        return gettext_for(locale)(value)
    if ISO_DAY.fullmatch(value):
        return format_date(dt.date.fromisoformat(value), locale)
    if ISO_MOMENT.fullmatch(value):
        return format_moment(dt.datetime.fromisoformat(value), locale, seconds=True)
    word = labels.value_label(value, locale)
    if word is not None:
        return word
    return value if len(value) <= LONGEST_TEXT else value[:LONGEST_TEXT] + "…"


def _plain(value: Any, locale: str) -> str:
    if isinstance(value, bool):
        return gettext_for(locale)("Yes" if value else "No")
    if isinstance(value, float):
        # Whole numbers are left ungrouped: they are mostly ids, codes and years.
        return format_number(value, entered_decimals(value), locale).replace(
            "." if locale == "vi" else ",", "")
    if isinstance(value, dict):
        if set(value) == {"date", "value"}:  # a milestone: "30/06/2026: 60"
            return f"{_plain(value['date'], locale)}: {_plain(value['value'], locale)}"
        return "; ".join(f"{key}: {_plain(v, locale)}" for key, v in value.items())
    if isinstance(value, list):
        # Milestones carry a decimal comma in Vietnamese: they are set apart by semicolons.
        sep = "; " if any(isinstance(v, dict) for v in value) else ", "
        head = sep.join(_plain(v, locale) for v in value[:LONGEST_LIST])
        more = len(value) - LONGEST_LIST
        return (head + (f" … (+{more})" if more > 0 else "")) or "–"
    if isinstance(value, str):
        return _text("", value, locale)
    return str(value)


# ------------------------------------------------------------------ the search form


def choices(session: Session, locale: str) -> dict[str, list[tuple[str, str]]]:
    """What the search form offers, from what the trail holds: people and jobs, actions,
    objects and units, each by its name (value, label)."""
    actors = sorted(session.scalars(select(AuditEvent.actor_label).distinct()))
    pairs = session.execute(select(AuditEvent.action, AuditEvent.object_type).distinct())
    actions = {a: labels.action_label(a, o, locale) or a for a, o in pairs}
    objects = sorted(session.scalars(select(AuditEvent.object_type).distinct()))
    unit_ids = {i for i in session.scalars(select(AuditEvent.unit_id).distinct())
                if i is not None}
    return {
        "actors": [(a, labels.actor_label(a, locale)) for a in actors],
        "actions": sorted(actions.items(), key=lambda item: item[1]),
        "objects": sorted(((o, labels.object_label(o, locale) or o) for o in objects),
                          key=lambda item: item[1]),
        "units": unit_choices(session, unit_ids),
    }


def unit_choices(session: Session, ids: set[int]) -> list[tuple[str, str]]:
    """Units by name; two units of one name (a ward before and after the 2025 merger) are
    told apart by their code in brackets after the name."""
    rows = session.execute(select(OrgUnit.id, OrgUnit.name, OrgUnit.code).where(
        OrgUnit.id.in_(ids))).all() if ids else []
    names = Counter(name for _, name, _ in rows)
    return sorted(((str(i), f"{name} ({code})" if names[name] > 1 else name)
                   for i, name, code in rows), key=lambda item: item[1])

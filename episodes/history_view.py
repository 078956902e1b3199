"""One subject's history as people read it: an episode, a question, a member or a department.

``hotline.history`` records rows by id; this names them the way the desk does (第1200期,
王伟, 问题 #17, 转办 #3 → 市民政局) and finds the subject from what users type
(episode number, question id, member id or name, department id or name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from episodes.departments import get_department
from episodes.lookup import get_episode, get_member, get_question
from hotline.errors import InvalidInput
from hotline.history import HistoryEntry, read_history
from hotline.models import Department, Episode, Member, table_of

SUBJECTS = ("episode", "question", "member", "department")
ACTIONS_ZH = {
    "insert": "新建",
    "update": "修改",
    "delete": "删除",
    "withdraw": "撤下",
    "reinstate": "恢复上线",
}
WITHDRAWAL_FIELDS = ("withdrawn_at", "withdrawal_reason")


@dataclass(frozen=True)
class HistoryLine:
    """One recorded change, with the changed row named for people."""

    at: datetime
    actor: str
    entity: str
    entity_id: int
    what: str
    """The row changed, named: 第1200期, 邀请 王伟 → 第1200期, 转办 #3 → 市民政局."""
    action: str
    changes: dict[str, list[Any]]
    summary: str


def _names(session: Session, entries: list[HistoryEntry]) -> dict[tuple[str, int], str]:
    """Names for the rows the entries are about, a query per kind of row."""
    connection = session.connection()
    ids: dict[str, set[int]] = {}
    for e in entries:
        ids.setdefault(e.entity, set()).add(e.entity_id)
        for column in ("episode_id", "member_id", "department_id"):
            value = getattr(e, column)
            if value is not None:
                ids.setdefault(column, set()).add(value)
    episode, member, department = table_of(Episode).c, table_of(Member).c, table_of(Department).c
    numbers = dict(
        connection.execute(
            sa.select(episode.id, episode.number).where(
                episode.id.in_(ids.get("episode_id", set()) | ids.get("episode", set()))
            )
        ).all()
    )
    people = dict(
        connection.execute(
            sa.select(member.id, member.name).where(
                member.id.in_(ids.get("member_id", set()) | ids.get("member", set()))
            )
        ).all()
    )
    offices = dict(
        connection.execute(
            sa.select(department.id, department.name).where(
                department.id.in_(ids.get("department_id", set()) | ids.get("department", set()))
            )
        ).all()
    )
    names: dict[tuple[str, int], str] = {}
    for e in entries:
        key = (e.entity, e.entity_id)
        if e.entity == "episode":
            names[key] = f"第{numbers.get(e.entity_id, '?')}期"
        elif e.entity == "member":
            names[key] = f"委员 {people.get(e.entity_id, f'#{e.entity_id}')}"
        elif e.entity == "booking":
            who = people.get(e.member_id or 0, f"#{e.member_id}")
            names[key] = f"邀请 {who} → 第{numbers.get(e.episode_id or 0, '?')}期"
        elif e.entity == "question":
            names[key] = f"问题 #{e.entity_id}"
        elif e.entity == "referral":
            names[key] = f"转办 #{e.entity_id} → {offices.get(e.department_id or 0, '?')}"
        elif e.entity == "callback":
            names[key] = f"回访 #{e.entity_id}（问题 #{e.question_id}）"
        elif e.entity == "department":
            names[key] = f"部门 {offices.get(e.entity_id, f'#{e.entity_id}')}"
        else:
            names[key] = f"{e.entity} #{e.entity_id}"
    return names


def _value_text(field: str, value: Any, tz: ZoneInfo) -> str:
    """A recorded value for people: times in the station's zone, long text clipped."""
    if value is None or value == "" or value == []:
        return "∅"
    if isinstance(value, list):
        return "、".join(_value_text(field, v, tz) for v in value)
    if isinstance(value, str) and (field.endswith("_at") or field == "air_start"):
        try:
            return datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            pass
    text = " ".join(str(value).split())
    return text if len(text) <= 60 else text[:59] + "…"


def action_of(entry: HistoryEntry) -> str:
    """The recorded action, or ``withdraw`` / ``reinstate`` for an episode's withdrawal."""
    if entry.entity == "episode" and entry.action == "update" and "withdrawn_at" in entry.changes:
        return "reinstate" if entry.changes["withdrawn_at"][1] is None else "withdraw"
    return entry.action


def summary(entry: HistoryEntry, tz: ZoneInfo) -> str:
    """One line for a change: ``status: assigned → referred; referral_department: ∅ → 市民政局``.

    A withdrawal reads ``withdrawn from every feed: REASON`` (a reinstatement likewise).
    """
    if entry.action == "delete":
        return "deleted"
    parts = []
    action = action_of(entry)
    if action in ("withdraw", "reinstate"):
        reason = entry.changes.get("withdrawal_reason", [None, None])[1] or ""
        said = "withdrawn from every feed" if action == "withdraw" else "listed in the feeds again"
        parts.append(f"{said}: {reason}" if reason else said)
    for field, (old, new) in entry.changes.items():
        if action != entry.action and field in WITHDRAWAL_FIELDS:
            continue
        if entry.action == "insert":
            parts.append(f"{field}: {_value_text(field, new, tz)}")
        else:
            parts.append(f"{field}: {_value_text(field, old, tz)} → {_value_text(field, new, tz)}")
    return "; ".join(parts)


def history_of(
    *,
    session: Session,
    subject: str,
    ref: str | int,
    tz: ZoneInfo,
    limit: int | None = None,
) -> list[HistoryLine]:
    """The changes in ``subject`` ``ref``'s history, oldest first (the last ``limit``).

    An episode's history holds its own changes and its bookings'; a member's, theirs
    and their bookings'; a question's, its own, its referrals' and its call-backs'.
    """
    if subject not in SUBJECTS:
        raise InvalidInput(f"unknown history subject {subject!r}; use {', '.join(SUBJECTS)}")
    if limit is not None and limit < 0:
        raise InvalidInput(f"limit {limit} must be 0 (all) or more")
    if subject == "episode":
        number = int(str(ref).strip()) if str(ref).strip().isdigit() else -1
        if number < 0:
            raise InvalidInput(f"episode {ref!r} is not an episode number")
        key = {"episode_id": get_episode(session, number).id}
    elif subject == "question":
        text = str(ref).strip().removeprefix("#")
        if not text.isdigit():
            raise InvalidInput(f"question {ref!r} is not a question id")
        key = {"question_id": get_question(session, int(text)).id}
    elif subject == "member":
        key = {"member_id": get_member(session, ref).id}
    else:
        key = {"department_id": get_department(session, ref).id}
    entries = read_history(session, limit=limit or None, **key)
    names = _names(session, entries)
    return [
        HistoryLine(
            at=e.at,
            actor=e.actor,
            entity=e.entity,
            entity_id=e.entity_id,
            what=names[(e.entity, e.entity_id)],
            action=action_of(e),
            changes=e.changes,
            summary=summary(e, tz),
        )
        for e in entries
    ]

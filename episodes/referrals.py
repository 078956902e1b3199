"""Referrals (转办): a question sent to a department, its due date, the reply, and the lists.

A referral is ``open`` from sending until the department replies (``replied``) and
``closed`` once its question closes (办结): after a reply and a call-back, or resolved
with a reason. An open referral whose due day has passed is overdue. The due day is a
local date; the row stores the instant it ends (the next local midnight, ``due_at``),
so "overdue" is ``due_at <= now`` and "replied on time" is ``replied_at < due_at``.

The question's side of the lifecycle (refer, call back, resolve) is in
``episodes.questions``; this module owns the referral rows and the reads over them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from episodes.departments import get_department
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.models import (
    Callback,
    Department,
    Question,
    Referral,
    ReferralStatus,
    table_of,
)
from hotline.text import clean_text
from hotline.timeutil import parse_date, parse_local_datetime, utcnow

REPLY_LIMIT = 4000
REASON_LIMIT = 200
R = ReferralStatus


# ---------------------------------------------------------------- due days


def day_end(day: date, tz: ZoneInfo) -> datetime:
    """The instant (UTC) local ``day`` ends: the next local midnight."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz).astimezone(UTC)


def due_day(due_at: datetime, tz: ZoneInfo) -> date:
    """The local due date of a referral whose due day ends at ``due_at``."""
    return (due_at.astimezone(tz) - timedelta(seconds=1)).date()


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


@dataclass(frozen=True)
class Opened:
    """A referral just made, and what the working-day count could not know ("" if nothing)."""

    question: Question
    referral: Referral
    department: Department
    warning: str = ""
    warning_zh: str = ""


def open_referral(
    *,
    session: Session,
    question: Question,
    department: str | int,
    tz: ZoneInfo,
    working_days: int,
    due: date | str | None = None,
    now: datetime | None = None,
) -> Opened:
    """Send ``question`` to ``department``: due on ``due``, or ``working_days`` working days on.

    The caller (``episodes.questions.refer``) has checked the question may be referred.
    """
    found = get_department(session, department)
    if not found.active:
        raise Conflict(
            f"department {found.name!r} is marked inactive; reactivate it with "
            f"`hotline departments edit {found.id} --active` or choose another",
            zh=f"部门“{found.name}”已停用",
        )
    sent = (now or utcnow()).replace(microsecond=0)
    warning = warning_zh = ""
    if due is None:
        from episodes.workdays import add_working_days  # the calendar loads only to count

        counted = add_working_days(local_day(sent, tz), working_days)
        due_date, warning, warning_zh = counted.day, counted.warning, counted.warning_zh
    else:
        due_date = parse_date(due, field="due date") if isinstance(due, str) else due
        if due_date < local_day(sent, tz):
            raise InvalidInput(
                f"due date {due_date} is before the referral ({local_day(sent, tz)})",
                zh=f"期限 {due_date} 早于转办日期 {local_day(sent, tz)}",
            )
    referral = Referral(
        question_id=question.id,
        department_id=found.id,
        sent_at=sent,
        due_at=day_end(due_date, tz),
        status=R.open,
        updated_at=sent,
    )
    session.add(referral)
    session.flush()
    return Opened(question, referral, found, warning, warning_zh)


def latest_referral(session: Session, question_id: int) -> Referral | None:
    """The question's most recent referral, if it was ever referred."""
    return session.exec(
        select(Referral).where(Referral.question_id == question_id).order_by(Referral.id.desc())
    ).first()


def latest_referrals(session: Session, question_ids: Sequence[int]) -> dict[int, Referral]:
    """Each of these questions' most recent referral, for those ever referred (one query)."""
    if not question_ids:
        return {}
    found = session.exec(
        select(Referral)
        .where(col(Referral.question_id).in_(question_ids))
        .order_by(col(Referral.id))
    )
    return {referral.question_id: referral for referral in found}  # the last one stays


def get_referral(session: Session, referral_id: int) -> Referral:
    found = session.get(Referral, referral_id)
    if found is None:
        raise NotFound(
            f"referral {referral_id} does not exist", zh=f"没有编号为 {referral_id} 的转办"
        )
    return found


def _reply_time(value: str | None, tz: ZoneInfo, now: datetime) -> datetime:
    """``--date``: a local date (its start) or date and time; default now."""
    if value is None or not value.strip():
        return now
    text = value.strip()
    if len(text) <= len("YYYY-MM-DD"):
        day = parse_date(text, field="reply date")
        return now if day == local_day(now, tz) else day_end(day - timedelta(days=1), tz)
    return parse_local_datetime(text, tz, field="reply date")


class Followed(Protocol):
    """A referral as stored (``Referral``) or as listed (``ReferralRow``): its id and status."""

    @property
    def id(self) -> int | None: ...

    @property
    def status(self) -> str: ...


def reply_refusal(referral: Followed) -> Conflict | None:
    """Why the department's reply cannot be recorded on ``referral`` (None: it can).

    ``reply`` raises it; the desk asks it before opening the reply form.
    """
    if referral.status == R.open:
        return None
    replied = referral.status == R.replied
    return Conflict(
        f"referral {referral.id} {'already has a reply' if replied else 'is closed'}: "
        "a reply is recorded only on an open referral",
        zh=f"转办 #{referral.id} {'已有答复' if replied else '已关闭'}，不能再记录答复",
    )


def reply(
    *,
    session: Session,
    referral: int,
    text: str,
    tz: ZoneInfo,
    when: str | None = None,
    now: datetime | None = None,
) -> Referral:
    """Record the department's answer to an open referral (on ``when``, default now)."""
    found = get_referral(session, referral)
    refusal = reply_refusal(found)
    if refusal is not None:
        raise refusal
    answer = clean_text(
        text, field="reply text", max_length=REPLY_LIMIT, multiline=True, required=True
    )
    current = (now or utcnow()).replace(microsecond=0)
    replied = _reply_time(when, tz, current)
    if replied > current:
        raise InvalidInput(f"reply date {when} is in the future", zh="答复日期不能晚于今天")
    if local_day(replied, tz) < local_day(found.sent_at, tz):
        raise InvalidInput(
            f"reply date {local_day(replied, tz)} is before the referral was sent "
            f"({local_day(found.sent_at, tz)})",
            zh=f"答复日期早于转办日期 {local_day(found.sent_at, tz)}",
        )
    found.reply_text = answer
    found.replied_at = max(replied, found.sent_at)
    found.status = R.replied
    found.updated_at = current
    session.add(found)
    session.flush()
    return found


def close(session: Session, referral: Referral, *, reason: str = "", now: datetime) -> None:
    """Close a referral as its question closes (with the reason when there was no reply)."""
    referral.status = R.closed
    if reason:
        referral.close_reason = clean_text(
            reason, field="reason", max_length=REASON_LIMIT, required=True
        )
    referral.updated_at = now
    session.add(referral)


# ---------------------------------------------------------------- lists


@dataclass(frozen=True)
class ReferralRow:
    """A referral as lists show it, with its question and department."""

    id: int
    question_id: int
    department_id: int
    department: str
    sent_at: datetime
    due_at: datetime
    status: str
    replied_at: datetime | None
    reply_text: str
    close_reason: str
    topic: str
    text: str
    listener_name: str
    question_status: str

    def overdue(self, now: datetime) -> bool:
        return self.status == R.open and self.due_at <= now

    def state(self, now: datetime) -> str:
        """open, overdue, replied or closed."""
        return "overdue" if self.overdue(now) else self.status

    def days_overdue(self, now: datetime, tz: ZoneInfo) -> int:
        """Whole local days since the due day ended (0 when not overdue)."""
        if not self.overdue(now):
            return 0
        return (local_day(now, tz) - due_day(self.due_at, tz)).days


def _row_query() -> sa.Select:
    referral, question, department = (
        table_of(Referral).c,
        table_of(Question).c,
        table_of(Department).c,
    )
    return sa.select(
        referral.id,
        referral.question_id,
        referral.department_id,
        department.name,
        referral.sent_at,
        referral.due_at,
        referral.status,
        referral.replied_at,
        referral.reply_text,
        referral.close_reason,
        question.topic,
        question.text,
        question.listener_name,
        question.status,
    ).select_from(
        table_of(Referral)
        .join(table_of(Question), question.id == referral.question_id)
        .join(table_of(Department), department.id == referral.department_id)
    )


def _conditions(
    session: Session,
    *,
    tz: ZoneInfo,
    now: datetime,
    overdue: bool,
    due_within: int | None,
    department: str | int | None,
    question: int | None,
    include_closed: bool,
    search: str | None,
) -> list[Any]:
    referral = table_of(Referral).c
    conditions: list[Any] = []
    windows = []
    if overdue:
        windows.append(referral.due_at <= now)
    if due_within is not None:
        if due_within < 0:
            raise InvalidInput(
                f"due within {due_within} days: give 0 days or more",
                zh=f"{due_within} 天内到期：天数不能为负",
            )
        horizon = day_end(local_day(now, tz) + timedelta(days=due_within), tz)
        windows.append(sa.and_(referral.due_at > now, referral.due_at <= horizon))
    if windows:
        conditions += [referral.status == R.open, sa.or_(*windows)]
    elif not include_closed:
        conditions.append(referral.status.in_([R.open, R.replied]))
    if department is not None:
        conditions.append(referral.department_id == get_department(session, department).id)
    if question is not None:
        conditions.append(referral.question_id == question)
    needle = clean_text(search or "", field="search", max_length=100)
    if needle:
        conditions.append(
            sa.or_(
                table_of(Department).c.name.contains(needle, autoescape=True),
                table_of(Question).c.text.contains(needle, autoescape=True),
                table_of(Question).c.topic.contains(needle, autoescape=True),
            )
        )
    return conditions


def list_referrals(
    *,
    session: Session,
    tz: ZoneInfo,
    now: datetime | None = None,
    overdue: bool = False,
    due_within: int | None = None,
    department: str | int | None = None,
    question: int | None = None,
    include_closed: bool = False,
    search: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[ReferralRow]:
    """Referrals still being followed (open or awaiting a call-back), overdue first.

    ``overdue`` keeps the open ones past their due day; ``due_within`` N keeps the open
    ones due in the next N days (today included); both together keep either. Core
    columns over the (status, due_at) index: no ORM objects on the way.
    """
    now = now or utcnow()
    referral = table_of(Referral).c
    conditions = _conditions(
        session,
        tz=tz,
        now=now,
        overdue=overdue,
        due_within=due_within,
        department=department,
        question=question,
        include_closed=include_closed,
        search=search,
    )
    # Open ones by due time (the most overdue first), then replied and closed ones.
    rank = sa.case((referral.status == R.open, 0), (referral.status == R.replied, 1), else_=2)
    query = _row_query().where(*conditions).order_by(rank, referral.due_at, referral.id)
    if offset:
        query = query.offset(offset)
    if limit:
        query = query.limit(limit)
    rows = session.connection().execute(query).all()
    return [ReferralRow(*row) for row in rows]


def count_referrals(*, session: Session, tz: ZoneInfo, now: datetime, **filters: Any) -> int:
    """How many referrals ``list_referrals`` would list with the same filters."""
    conditions = _conditions(
        session,
        tz=tz,
        now=now,
        overdue=filters.get("overdue", False),
        due_within=filters.get("due_within"),
        department=filters.get("department"),
        question=filters.get("question"),
        include_closed=filters.get("include_closed", False),
        search=filters.get("search"),
    )
    query = _row_query().where(*conditions).with_only_columns(sa.func.count())
    return int(session.connection().execute(query).scalar_one())


@dataclass(frozen=True)
class FollowThrough:
    """What became of a question after it left the desk: its referrals and call-backs."""

    referrals: list[ReferralRow]
    callbacks: list[Callback]


def follow_through(*, session: Session, question: int, tz: ZoneInfo) -> FollowThrough:
    """A question's referrals (oldest first) and call-backs (in the order they were made)."""
    rows = list_referrals(session=session, tz=tz, question=question, include_closed=True)
    made = session.exec(
        select(Callback).where(Callback.question_id == question).order_by(Callback.id)
    ).all()
    return FollowThrough(sorted(rows, key=lambda r: r.id), list(made))

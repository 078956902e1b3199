"""Paged reads for interactive lists: one page of episodes, members or questions plus the total.

An interactive table shows a screenful at a time, so these return ``limit`` rows from
``offset`` in the list's order and the count of everything that matches, instead of the
whole list (1200 episodes, 3000 members, 50 000 questions). Filters are the ones the
CLI lists offer (status, text), with the same validation and the same messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from episodes import listing
from episodes.lifecycle import check_status as check_episode_status
from episodes.lookup import get_episode
from episodes.members import MemberSummary
from episodes.questions import QuestionView
from episodes.questions import check_status as check_question_status
from episodes.referrals import latest_referrals
from hotline.errors import InvalidInput
from hotline.models import Booking, BookingStatus, Episode, EpisodeStatus, Member, Question
from hotline.text import clean_text
from hotline.timeutil import utcnow

T = TypeVar("T")
MAX_PAGE = 5000


@dataclass(frozen=True)
class Page(Generic[T]):
    """Rows ``offset``…``offset + len(rows)`` of a list of ``total`` matching rows."""

    rows: Sequence[T]
    offset: int
    total: int


def _check_window(offset: int, limit: int) -> None:
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"page {offset}+{limit} is out of range: limit 1 to {MAX_PAGE}")


def _needle(text: str | None) -> str:
    return clean_text(text or "", field="search", max_length=100)


def _count(session: Session, conditions: Sequence[Any], table: Any) -> int:
    stmt = sa.select(sa.func.count()).select_from(table).where(*conditions)
    return int(session.connection().execute(stmt).scalar_one())


# ---------------------------------------------------------------- episodes, newest number first


def _episode_conditions(text: str | None, status: str | None) -> list[Any]:
    conditions: list[Any] = []
    if status:
        conditions.append(Episode.status == check_episode_status(status).value)
    needle = _needle(text)
    if needle:
        conditions.append(
            sa.or_(
                col(Episode.title).contains(needle, autoescape=True),
                col(Episode.topic).contains(needle, autoescape=True),
            )
        )
    return conditions


def episode_page(
    *,
    session: Session,
    text: str | None = None,
    status: str | None = None,
    offset: int = 0,
    limit: int = 200,
) -> Page[listing.EpisodeView]:
    """Episodes whose title or topic contains ``text``, highest number first, with guests."""
    _check_window(offset, limit)
    conditions = _episode_conditions(text, status)
    order = col(Episode.number).desc()
    stmt = sa.select(*listing._COLUMNS).where(*conditions).order_by(order)
    rows = session.connection().execute(stmt.offset(offset).limit(limit))
    views = [listing.EpisodeView(*row) for row in rows]
    if views:
        guests = listing._guests(session, [v.id for v in views])
        for view in views:
            view.guests = guests.get(view.id, [])
    return Page(views, offset, _count(session, conditions, Episode))


def episode_position(
    *, session: Session, number: int, text: str | None = None, status: str | None = None
) -> int | None:
    """Where episode ``number`` sits in ``episode_page``'s order, or None if filtered out."""
    episode = get_episode(session, number)
    conditions = _episode_conditions(text, status)
    if _count(session, [*conditions, Episode.id == episode.id], Episode) == 0:
        return None
    return _count(session, [*conditions, col(Episode.number) > number], Episode)


def next_upcoming(*, session: Session, now: datetime | None = None) -> int | None:
    """The number of the next episode still to air (not cancelled), else the latest one."""
    soonest = session.exec(
        select(Episode.number)
        .where(col(Episode.air_start) >= (now or utcnow()))
        .where(Episode.status != EpisodeStatus.cancelled)
        .order_by(col(Episode.air_start))
        .limit(1)
    ).first()
    if soonest is not None:
        return soonest
    return session.exec(select(sa.func.max(Episode.number))).one()


# ---------------------------------------------------------------- members, by id


def member_page(
    *, session: Session, search: str | None = None, offset: int = 0, limit: int = 200
) -> Page[MemberSummary]:
    """Members whose name, sector or affiliation contains ``search``, with appearance counts."""
    _check_window(offset, limit)
    conditions: list[Any] = []
    needle = _needle(search)
    if needle:
        conditions.append(
            sa.or_(
                col(Member.name).contains(needle, autoescape=True),
                col(Member.sector).contains(needle, autoescape=True),
                col(Member.affiliation).contains(needle, autoescape=True),
            )
        )
    members = session.exec(
        select(Member).where(*conditions).order_by(col(Member.id)).offset(offset).limit(limit)
    ).all()
    # Appearances of this page's members only: one grouped query over their bookings.
    counts = dict(
        session.exec(
            select(Booking.member_id, sa.func.count())
            .where(col(Booking.member_id).in_([m.id for m in members]))
            .where(Booking.status == BookingStatus.appeared)
            .group_by(col(Booking.member_id))
        ).all()
    )
    rows = [MemberSummary(m, int(counts.get(m.id, 0))) for m in members]
    return Page(rows, offset, _count(session, conditions, Member))


# ---------------------------------------------------------------- questions, newest first


def question_page(
    *,
    session: Session,
    status: str | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int = 200,
) -> Page[QuestionView]:
    """Questions in ``status`` whose text contains ``search``, newest first."""
    _check_window(offset, limit)
    conditions: list[Any] = []
    if status:
        # The composite index (status, received_at, id) serves the filter, order and count.
        conditions.append(Question.status == check_question_status(status).value)
    needle = _needle(search)
    if needle:
        conditions.append(col(Question.text).contains(needle, autoescape=True))
    ep, member = aliased(Episode), aliased(Member)
    query = (
        select(Question, ep.number, member)
        .outerjoin(ep, col(Question.episode_id) == ep.id)
        .outerjoin(member, col(Question.member_id) == member.id)
        .where(*conditions)
        .order_by(col(Question.received_at).desc(), col(Question.id).desc())
        .offset(offset)
        .limit(limit)
    )
    found = list(session.exec(query))
    referred = latest_referrals(session, [q.id for q, _, _ in found if q.id is not None])
    rows = [QuestionView(q, number, m, referred.get(q.id or 0)) for q, number, m in found]
    return Page(rows, offset, _count(session, conditions, Question))

"""Merging two records of the same member: bookings, appearances and answers move to one.

Duplicates creep in before the uniqueness check existed, or through a typo in a contact.
``merge_members`` moves everything that names OTHER (bookings with their appearances,
answered questions, live-desk calls) to KEEP, fills KEEP's empty details from OTHER and
removes OTHER. Both being booked on one episode is the conflict a merge cannot decide:
when one of the two bookings only records an invitation that was declined or cancelled,
that one is dropped; when both hold a seat, the merge is refused naming the episodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col, select

from episodes.lookup import get_member
from hotline.errors import Conflict, InvalidInput, NeedsConfirmation
from hotline.locks import lock_ids
from hotline.models import Booking, BookingStatus, Call, Episode, Member, Question
from hotline.timeutil import utcnow

RELEASED = (BookingStatus.declined, BookingStatus.cancelled)
"""Bookings that record only an invitation that came to nothing: dropped on a clash."""
FILLED = ("affiliation", "district", "contact")
"""Details KEEP takes from OTHER where its own are empty."""


@dataclass
class MergePlan:
    """What a merge moves, drops and fills; ``blocked`` lists the episodes that refuse it."""

    keep: Member
    other: Member
    moved: list[Booking] = field(default_factory=list)
    dropped: list[Booking] = field(default_factory=list)
    blocked: list[int] = field(default_factory=list)
    answers: int = 0
    calls: int = 0
    filled: list[str] = field(default_factory=list)


def _plan(session: Session, keep: Member, other: Member) -> MergePlan:
    plan = MergePlan(keep=keep, other=other)
    kept = {
        b.episode_id: b for b in session.exec(select(Booking).where(Booking.member_id == keep.id))
    }
    for booking in session.exec(select(Booking).where(Booking.member_id == other.id)):
        mine = kept.get(booking.episode_id)
        if mine is None:
            plan.moved.append(booking)
        elif booking.status in RELEASED:
            plan.dropped.append(booking)
        elif mine.status in RELEASED:
            plan.dropped.append(mine)
            plan.moved.append(booking)
        else:
            plan.blocked.append(booking.episode_id)
    if plan.blocked:
        plan.blocked = list(
            session.exec(
                select(Episode.number)
                .where(col(Episode.id).in_(plan.blocked))
                .order_by(Episode.number)
            )
        )
    plan.answers = session.exec(
        select(sa.func.count()).select_from(Question).where(Question.member_id == other.id)
    ).one()
    plan.calls = session.exec(
        select(sa.func.count()).select_from(Call).where(Call.member_id == other.id)
    ).one()
    plan.filled = [name for name in FILLED if not getattr(keep, name) and getattr(other, name)]
    return plan


def _describe(plan: MergePlan) -> tuple[str, str]:
    keep, other = plan.keep, plan.other
    parts = [f"{len(plan.moved)} booking{'s' if len(plan.moved) != 1 else ''}"]
    parts.append(f"{plan.answers} answer{'s' if plan.answers != 1 else ''}")
    if plan.calls:
        parts.append(f"{plan.calls} call{'s' if plan.calls != 1 else ''}")
    text = (
        f"merge member #{other.id} {other.name} into #{keep.id} {keep.name}: "
        f"{', '.join(parts)} move to #{keep.id}"
    )
    zh = (
        f"把委员 #{other.id} {other.name} 并入 #{keep.id} {keep.name}："
        f"{len(plan.moved)} 个邀请、{plan.answers} 个回答"
        f"{f'、{plan.calls} 个来电' if plan.calls else ''}转到 #{keep.id}"
    )
    if plan.dropped:
        text += (
            f"; {len(plan.dropped)} declined or cancelled invitation(s) on the same episode dropped"
        )
        zh += f"；同一期重复的 {len(plan.dropped)} 个已婉拒或已取消的邀请删除"
    if plan.filled:
        text += f"; #{keep.id} takes {', '.join(plan.filled)} from #{other.id}"
        zh += f"；#{keep.id} 补上 #{other.id} 的联系信息"
    return text + f"; #{other.id} is removed", zh + f"；#{other.id} 将被删除"


def merge_members(
    *, session: Session, keep: str | int, other: str | int, confirm: bool = False
) -> MergePlan:
    """Move OTHER's bookings, appearances, answers and calls to KEEP and remove OTHER.

    Raises:
        Conflict: both are booked (holding a seat) on one episode; nothing changes.
        NeedsConfirmation: the merge is possible; its message says what it will do.
            Call again with ``confirm=True`` to do it.
    """
    kept, gone = get_member(session, keep), get_member(session, other)
    lock_ids(session, Member, (kept.id, gone.id))  # both rows, in id order: no deadlock
    if kept.id == gone.id:
        raise InvalidInput(
            f"member #{kept.id} cannot be merged into itself", zh="不能把委员并入自己"
        )
    plan = _plan(session, kept, gone)
    if plan.blocked:
        episodes = ", ".join(str(n) for n in sorted(plan.blocked))
        raise Conflict(
            f"#{kept.id} {kept.name} and #{gone.id} {gone.name} are both booked on episode(s) "
            f"{episodes}: cancel or decline one of each pair of bookings first",
            zh=f"#{kept.id} 和 #{gone.id} 都在第 {episodes} 期的嘉宾名单上，请先取消其中一个邀请",
        )
    text, zh = _describe(plan)
    if not confirm:
        raise NeedsConfirmation(text, zh=zh)
    stamp = utcnow()
    for booking in plan.dropped:
        session.delete(booking)
    session.flush()  # the unique (episode, member) pair is free before bookings move
    for booking in plan.moved:
        booking.member_id = kept.id
        booking.updated_at = stamp
        session.add(booking)
    session.execute(
        sa.update(Question)
        .where(Question.member_id == gone.id)
        .values(member_id=kept.id, updated_at=stamp)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        sa.update(Call)
        .where(Call.member_id == gone.id)
        .values(member_id=kept.id)
        .execution_options(synchronize_session="fetch")
    )
    for name in plan.filled:
        setattr(kept, name, getattr(gone, name))
    session.add(kept)
    session.flush()
    session.delete(gone)
    session.flush()
    return plan

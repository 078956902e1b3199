"""Find episodes, members and questions by the references users type, or say what is missing."""

from __future__ import annotations

from sqlmodel import Session, select

from hotline.errors import InvalidInput, NotFound
from hotline.models import Episode, Member, Question


def get_episode(session: Session, number: int) -> Episode:
    """The episode with ``number`` (the on-air number, not the row id)."""
    episode = session.exec(select(Episode).where(Episode.number == number)).first()
    if episode is None:
        raise NotFound(f"episode {number} does not exist", zh=f"第{number}期不存在")
    return episode


def get_member(session: Session, ref: str | int) -> Member:
    """A member by id (``42``, ``#42``) or by exact name when that name is unique."""
    text = str(ref).strip().removeprefix("#")
    if text.isdigit():
        member = session.get(Member, int(text))
        if member is None:
            raise NotFound(f"member {text} does not exist", zh=f"委员 #{text} 不存在")
        return member
    matches = session.exec(select(Member).where(Member.name == text)).all()
    if not matches:
        raise NotFound(f"no member named {text!r}", zh=f"没有名叫“{text}”的委员")
    if len(matches) > 1:
        ids = ", ".join(f"#{m.id} {m.sector}" for m in matches)
        ids_zh = "、".join(f"#{m.id} {m.sector}" for m in matches)
        raise InvalidInput(
            f"{len(matches)} members are named {text!r} ({ids}): give the id",
            zh=f"有 {len(matches)} 位委员名叫“{text}”（{ids_zh}），请用编号",
        )
    return matches[0]


def get_question(session: Session, question_id: int) -> Question:
    """The listener question with ``question_id``."""
    question = session.get(Question, question_id)
    if question is None:
        raise NotFound(f"question {question_id} does not exist", zh=f"问题 #{question_id} 不存在")
    return question

"""Find episodes, members and questions by the references users type, or say what is missing."""

from __future__ import annotations

from sqlmodel import Session, select

from hotline.errors import InvalidInput, NotFound
from hotline.locks import for_update, get_for_update
from hotline.models import Episode, Member, Question


def get_episode(session: Session, number: int, *, lock: bool = False) -> Episode:
    """The episode with ``number`` (the on-air number, not the row id).

    ``lock``: hold the row until the transaction ends (see ``hotline.locks``).
    """
    query = select(Episode).where(Episode.number == number)
    episode = session.exec(for_update(query) if lock else query).first()
    if episode is None:
        raise NotFound(f"episode {number} does not exist", zh=f"第{number}期不存在")
    return episode


def get_member(session: Session, ref: str | int, *, lock: bool = False) -> Member:
    """A member by id (``42``, ``#42``) or by exact name when that name is unique.

    ``lock``: hold the row until the transaction ends (see ``hotline.locks``).
    """
    text = str(ref).strip().removeprefix("#")
    if text.isdigit():
        get = get_for_update if lock else Session.get
        member = get(session, Member, int(text))
        if member is None:
            raise NotFound(f"member {text} does not exist", zh=f"委员 #{text} 不存在")
        return member
    query = select(Member).where(Member.name == text)
    matches = session.exec(for_update(query) if lock else query).all()
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


def get_question(session: Session, question_id: int, *, lock: bool = False) -> Question:
    """The listener question with ``question_id``; ``lock`` holds its row (``hotline.locks``)."""
    get = get_for_update if lock else Session.get
    question = get(session, Question, question_id)
    if question is None:
        raise NotFound(f"question {question_id} does not exist", zh=f"问题 #{question_id} 不存在")
    return question

"""Whisper's initial prompt: the show's vocabulary and the episode's people, in simplified script.

A prompt tells whisper how names are written and, being in simplified characters, steers
it away from traditional output. Whisper keeps only the last 223 prompt tokens, so the
prompt is built to fit ``PROMPT_TOKENS``: people first (the hosts, the booked guests), then
as many vocabulary words (``data/vocabulary.txt``, most important first) as fit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path

from sqlmodel import Session, col, select

from episodes.lookup import get_episode
from hotline.models import Booking, BookingStatus, Member
from transcripts.normalize import to_simplified

VOCABULARY_FILE = Path(__file__).with_name("data") / "vocabulary.txt"
PROMPT_TOKENS = 200
"""Token budget: under whisper's 223 (n_text_ctx // 2 − 1), with room for the SOT tokens."""
OPENING = "以下是政协热线节目的普通话访谈。"

TokenCounter = Callable[[str], int]


@cache
def vocabulary() -> tuple[str, ...]:
    """The show's words, most important first."""
    lines = VOCABULARY_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(w.strip() for w in lines if w.strip() and not w.lstrip().startswith("#"))


@cache
def _tokenizer():  # noqa: ANN202 (whisper's Tokenizer; whisper is imported lazily)
    from whisper.tokenizer import get_tokenizer

    return get_tokenizer(multilingual=True, language="zh", task="transcribe")


def whisper_tokens(text: str) -> int:
    """How many tokens whisper's multilingual tokenizer makes of the prompt ``text``."""
    return len(_tokenizer().encode(" " + text.strip()))


def _unique(names: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        name = to_simplified(name.strip())
        if name:
            seen.setdefault(name, None)
    return list(seen)


def build_prompt(
    *,
    hosts: Sequence[str] = (),
    guests: Sequence[str] = (),
    words: Sequence[str] | None = None,
    budget: int = PROMPT_TOKENS,
    count_tokens: TokenCounter | None = None,
) -> str:
    """The prompt for one episode, within ``budget`` tokens (people before vocabulary)."""
    count = count_tokens or whisper_tokens
    hosts, guests = _unique(hosts), [g for g in _unique(guests) if g not in hosts]
    words = list(vocabulary() if words is None else words)

    def text(hosts: list[str], guests: list[str], words: list[str]) -> str:
        parts = [OPENING]
        if hosts:
            parts.append("主持人：" + "、".join(hosts) + "。")
        if guests:
            parts.append("嘉宾：" + "、".join(guests) + "。")
        if words:
            parts.append("关键词：" + "、".join(words) + "。")
        return "".join(parts)

    # An absurd guest list must not push the prompt over the budget: drop names from the end.
    while (hosts or guests) and count(text(hosts, guests, [])) > budget:
        if guests:
            guests.pop()
        else:
            hosts.pop()
    kept: list[str] = []
    for word in words:
        if count(text(hosts, guests, [*kept, word])) > budget:
            break
        kept.append(word)
    return text(hosts, guests, kept)


def episode_people(*, session: Session, number: int) -> tuple[list[str], list[str]]:
    """(hosts, booked guests) of episode ``number``; declined and cancelled bookings left out."""
    episode = get_episode(session, number)
    names = session.exec(
        select(Member.name)
        .join(Booking, col(Booking.member_id) == col(Member.id))
        .where(Booking.episode_id == episode.id)
        .where(col(Booking.status).not_in([BookingStatus.declined, BookingStatus.cancelled]))
        .order_by(col(Booking.id))
    ).all()
    return list(episode.hosts or []), list(names)


def episode_prompt(
    *, session: Session, number: int, count_tokens: TokenCounter | None = None
) -> str:
    """The initial prompt for episode ``number``."""
    hosts, guests = episode_people(session=session, number=number)
    return build_prompt(hosts=hosts, guests=guests, count_tokens=count_tokens)

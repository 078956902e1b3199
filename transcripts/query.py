"""What a search asks for: normalised terms, and filters resolved to ranges of index keys."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from episodes.lookup import get_member
from hotline.errors import InvalidInput
from hotline.models import Booking, BookingStatus, Episode, Member, SearchEpisode
from hotline.timeutil import parse_date
from hotline.vocab import check_sector
from transcripts.index import key_range
from transcripts.normalize import normalize

MAX_QUERY_CHARS = 200
APPEARED = (BookingStatus.appeared.value, BookingStatus.confirmed.value)
"""Booking states that count as "the member was on that episode"."""


def _is_noise(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] in "PZC"


_WORDS = re.compile(r'"([^"]*)"|[^\s"]+')
"""A phrase in ASCII double quotes (spaces kept), or a run of characters without spaces."""


def _raw_terms(text: str) -> list[str]:
    """The terms as typed: ``"…"`` is one term, quotes dropped, as in a search engine.

    ``"养老"`` finds 养老, not only 养老 between ASCII quotes; a lone quote is dropped.
    """
    return [
        found.group(1) if found.group(1) is not None else found.group(0)
        for found in _WORDS.finditer(text)
    ]


def parse_query(query: str) -> list[str]:
    """Space-separated terms (``"a b"`` one term), normalised, without repeats.

    A query of only punctuation and spaces is refused; inside a real query a term is
    matched exactly as typed, punctuation included (Chinese quotation marks too: only
    ASCII double quotes group a phrase).
    """
    text = (query or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput(f"query is {len(text)} characters long; the limit is {MAX_QUERY_CHARS}")
    if not text or all(_is_noise(ch) for ch in text):
        raise InvalidInput(f"empty query {query!r}: type a word or a character to search for")
    terms: list[str] = []
    for raw in _raw_terms(text):
        term = normalize(raw.strip())
        if term and not term.isspace() and term not in terms:
            terms.append(term)
    if not terms:
        raise InvalidInput(f"empty query {query!r}: type a word or a character to search for")
    return terms


@dataclass(frozen=True)
class Filters:
    """Which episodes a search looks in; ``None`` everywhere means the whole archive."""

    first: int | None = None
    last: int | None = None
    air_from: datetime | None = None  # aware UTC, inclusive
    air_before: datetime | None = None  # aware UTC, exclusive
    member_id: int | None = None
    sector: str | None = None

    @property
    def unrestricted(self) -> bool:
        return self == Filters()


def parse_episode_range(text: str) -> tuple[int | None, int | None]:
    """``N``, ``A-B``, ``A-`` or ``-B`` → (first, last)."""
    value = text.strip()
    head, dash, tail = value.partition("-")
    try:
        first = int(head) if head.strip() else None
        last = (int(tail) if tail.strip() else None) if dash else first
    except ValueError:
        first = last = -1
    if (first is None and last is None) or any(n is not None and n < 1 for n in (first, last)):
        raise InvalidInput(f"episode range {text!r}: use N, A-B, A- or -B")
    if first is not None and last is not None and first > last:
        raise InvalidInput(f"episode range {text!r}: {first} comes after {last}")
    return first, last


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def make_filters(
    *,
    session: Session,
    tz: ZoneInfo,
    episodes: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    member: str | None = None,
    sector: str | None = None,
) -> Filters:
    """Validate what the user typed (dates are local air dates, ``--to`` inclusive)."""
    first, last = parse_episode_range(episodes) if episodes else (None, None)
    start = parse_date(date_from, field="--from date") if date_from else None
    end = parse_date(date_to, field="--to date") if date_to else None
    if start and end and start > end:
        raise InvalidInput(f"--from {start} is after --to {end}")
    return Filters(
        first=first,
        last=last,
        air_from=_local_midnight(start, tz) if start else None,
        air_before=_local_midnight(end + timedelta(days=1), tz) if end else None,
        member_id=get_member(session, member).id if member else None,
        sector=check_sector(sector) if sector else None,
    )


def key_ranges(session: Session, filters: Filters) -> list[tuple[int, int]] | None:
    """Inclusive sort-key ranges, in result order, covering the episodes the filters allow.

    None means no restriction. Neighbouring allowed episodes share one range, so a filter
    that picks a run of episodes costs one index range, not one per episode.
    """
    if filters.unrestricted:
        return None
    allowed = select(Episode.id)
    if filters.first is not None:
        allowed = allowed.where(Episode.number >= filters.first)
    if filters.last is not None:
        allowed = allowed.where(Episode.number <= filters.last)
    if filters.air_from is not None:
        allowed = allowed.where(Episode.air_start >= filters.air_from)
    if filters.air_before is not None:
        allowed = allowed.where(Episode.air_start < filters.air_before)
    if filters.member_id is not None:
        allowed = allowed.where(
            Episode.id.in_(
                select(Booking.episode_id).where(
                    Booking.member_id == filters.member_id, Booking.status.in_(APPEARED)
                )
            )
        )
    if filters.sector is not None:
        allowed = allowed.where(
            Episode.id.in_(
                select(Booking.episode_id)
                .join(Member, Member.id == Booking.member_id)
                .where(Member.sector == filters.sector, Booking.status.in_(APPEARED))
            )
        )
    allowed_ids = set(session.exec(allowed).all())
    indexed = session.exec(
        select(SearchEpisode.episode_id, SearchEpisode.number).order_by(
            sa.desc(SearchEpisode.number)
        )
    ).all()
    ranges: list[tuple[int, int]] = []
    extend = False
    for episode_id, number in indexed:
        if episode_id not in allowed_ids:
            extend = False
            continue
        lo, hi = key_range(number)
        if extend:
            ranges[-1] = (ranges[-1][0], hi)
        else:
            ranges.append((lo, hi))
        extend = True
    return ranges

"""What may go public: text with contacts masked, and question titles never from a listener.

Everything listeners receive (feed titles and descriptions, chapter titles, the master's
ID3 tags, published transcripts) passes through a :class:`Redactor`. It masks what
identifies a person whatever field it was typed into:

- e-mail addresses;
- phone numbers and national ID numbers, written or spoken: a run of seven or more
  digits, Arabic, full-width or Chinese (一三七…, 幺 and 两 included), on its own or
  grouped as phone numbers are (138 1234 5678, 010-12345678, one digit at a time);
  dates (2022-08-13) and amounts (12,000,000) are grouped otherwise and stay;
- the station's own record of contacts (listeners' and members'), found literally, for
  contacts the patterns above would miss (a WeChat ID, a QQ handle).

Each masked digit becomes ``*`` and an e-mail ``***@***``, so a reader sees that
something was said there. The station's own copies (database, ``transcripts/``) keep
the original.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session

from hotline.models import Member, Question, table_of
from hotline.privacy import may_read_private

UNTITLED_QUESTION = "听众提问"
"""A question's public title when a producer wrote none and it has no topic."""

_DIGITS = "0-9０-９零〇一二三四五六七八九幺两"
# Digit groups separated by one space, hyphen or dot (no other separators: "2022年"
# ends a run), grouping checked in ``_is_contact_like``.
_RUN = re.compile(rf"[{_DIGITS}]+(?:[ \-.‐–—][{_DIGITS}]+)*(?:[xX×](?![A-Za-z]))?")
_SEPARATORS = re.compile(r"[ \-.‐–—]")
_CANDIDATE = re.compile(rf"[{_DIGITS}](?:[ \-.‐–—]?[{_DIGITS}]){{6}}")
_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
_HANDLE = re.compile(r"[A-Za-z0-9_.+@-]{5,}")
MIN_DIGITS = 7
"""Shortest digit run treated as a phone or ID number (a local number has seven)."""


def _is_contact_like(run: str) -> bool:
    groups = _SEPARATORS.split(run.rstrip("xX×"))
    digits = sum(len(g) for g in groups)
    if digits < MIN_DIGITS:
        return False
    if max(len(g) for g in groups) >= MIN_DIGITS:
        return True  # a whole number in one piece, whatever stands next to it
    # Phone numbers are grouped in threes and fours (or read out a digit at a time);
    # dates, times and versions have groups of two, a span of years two groups of four.
    sizes = {len(g) for g in groups}
    if len(groups) == 2 and sizes == {4} and all(g[:2] in ("19", "20") for g in groups):
        return False
    return min(sizes) >= 3 or sizes == {1}


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if not _is_contact_like(run):
        return run
    return "".join("*" if not _SEPARATORS.fullmatch(ch) else ch for ch in run)


def mask_patterns(text: str) -> str:
    """``text`` with e-mail addresses and phone/ID-number-like digit runs masked."""
    if not text:
        return text
    if "@" in text:
        text = _EMAIL.sub("***@***", text)
    # Most text has no seven digits in a row (one separator between them at most):
    # one search in C decides, and the per-run check runs only where it may matter.
    if _CANDIDATE.search(text) is None:
        return text
    return _RUN.sub(_mask_run, text)


@dataclass
class Redactor:
    """Masks contacts in public text: the patterns, and the station's known contacts.

    Build it with :meth:`with_contacts` from every contact the station holds; contacts
    the patterns mask anyway are not kept.
    """

    handles: frozenset[str] = frozenset()
    """Known contacts made of handle characters (letters, digits, ``_.+@-``)."""
    phrases: tuple[str, ...] = ()
    """Other known contacts (an address, a name with a handle), found as substrings."""
    _cache: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def with_contacts(cls, contacts: Iterable[str]) -> Redactor:
        handles: set[str] = set()
        phrases: set[str] = set()
        for contact in contacts:
            value = (contact or "").strip()
            if len(value) < 5 or _plain_phone_or_email(value):
                continue  # the patterns mask these wherever they appear
            if mask_patterns(value) != value and not _leftover(value):
                continue
            if _HANDLE.fullmatch(value):
                handles.add(value)
            else:
                phrases.add(value)
        return cls(frozenset(handles), tuple(sorted(phrases, key=len, reverse=True)))

    def __call__(self, text: str) -> str:
        """``text`` as it may be published."""
        if not text:
            return text
        done = self._cache.get(text)
        if done is not None:
            return done
        out = self._mask(text)
        if len(self._cache) < 100_000:
            self._cache[text] = out
        return out

    def each(self, texts: list[str]) -> list[str]:
        """Every one of ``texts`` as it may be published (a transcript's cues).

        Most transcripts have nothing to mask: one pass over all the texts at once says
        so, and the texts are returned as they are; else each is masked on its own. They
        are joined by a character no pattern or handle matches, so every match of one
        text is a match of the whole (a phrase spanning two texts only costs the fallback).
        """
        whole = _APART.join(texts)
        if self._mask(whole) == whole:
            return texts
        return [self(text) for text in texts]

    def _mask(self, text: str) -> str:
        out = text
        for phrase in self.phrases:
            if phrase in out:
                out = out.replace(phrase, "*" * len(phrase))
        if self.handles:
            out = _HANDLE.sub(
                lambda m: "*" * len(m.group(0)) if m.group(0) in self.handles else m.group(0),
                out,
            )
        return mask_patterns(out)


_APART = "\x00"
"""Joins texts for one pass of :meth:`Redactor.each`: a character no pattern matches."""


def _plain_phone_or_email(value: str) -> bool:
    """The common contacts, decided without the patterns: a number, or one e-mail address."""
    digits = value.replace(" ", "").replace("-", "")
    if digits.isascii() and digits.isdigit():
        return len(digits) >= MIN_DIGITS
    return "@" in value and _EMAIL.fullmatch(value) is not None


def _leftover(value: str) -> bool:
    """True when masking the patterns leaves a handle-like part of ``value`` readable."""
    masked = mask_patterns(value)
    return any(m.group(0).strip("*@.-_+") for m in _HANDLE.finditer(masked))


def public_question_title(*, public_title: str, topic: str) -> str:
    """What listeners see for a question: the producer's public title, else the topic.

    Never the question's text: a listener's words may name them or carry a phone
    number. With neither, the question is just ``听众提问``.
    """
    return (public_title or "").strip() or (topic or "").strip() or UNTITLED_QUESTION


def station_redactor(session: Session) -> Redactor:
    """A :class:`Redactor` that also knows every contact the station holds.

    Listeners' and members' contacts are read once (distinct values only); most are
    phone numbers or e-mail addresses the patterns mask anyway. A database role that may
    not read contacts gets the patterns alone.
    """
    if not may_read_private(session.connection()):
        # A database role kept from contacts (a worker publishing): the patterns still
        # mask every phone number and address; the contacts themselves it cannot know.
        return Redactor.with_contacts(())
    question, member = table_of(Question), table_of(Member)
    contacts = session.execute(
        sa.select(question.c.listener_contact)
        .where(question.c.listener_contact != "")
        .union(sa.select(member.c.contact).where(member.c.contact != ""))
    ).scalars()
    return Redactor.with_contacts(contacts)

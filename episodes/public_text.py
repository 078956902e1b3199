"""What may go public: text with contacts masked, and question titles never from a listener.

Everything listeners receive (feed titles and descriptions, chapter titles, the master's
ID3 tags, published transcripts) passes through a :class:`Redactor`. It masks what
identifies a person whatever field it was typed into:

- e-mail addresses, full-width ＠ and ．and non-ASCII domains included;
- phone numbers and national ID numbers, written or spoken: a run of seven or more
  digits, Arabic, full-width or Chinese (一三七…, 幺 and 两, 壹贰叁… included), on its
  own or grouped as phone numbers are (138 1234 5678, 010-12345678, +86 138-1234-5678,
  (0571)8765-4321, one digit at a time, 幺三八，幺二三四，五六七八 as speech is
  transcribed); dates (2022-08-13), amounts (12,000,000), years (2019、2020、2021) and
  lists (第138、139、140期) are grouped otherwise and stay;
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

_DIGITS = "0-9０-９零〇一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖貳參陸"
_DIGIT = re.compile(rf"[{_DIGITS}]")
# Digits are grouped by one space, hyphen or dot, or (as speech is transcribed) by a
# Chinese comma or 、; no other separators: "2022年" ends a run. A run may open with a
# country code's "+" or an area code in brackets. Grouping is checked in _is_contact_like.
_SEPARATOR = " \\-.‐–—，、"
_RUN = re.compile(
    rf"(?:[+＋] ?)?(?:[(（][{_DIGITS}]{{2,5}}[)）] ?)?"
    rf"[{_DIGITS}]+(?:[{_SEPARATOR}][{_DIGITS}]+)*(?:[xX×](?![A-Za-z]))?"
)
_SEPARATORS = re.compile(rf"([{_SEPARATOR}])")
_CANDIDATE = re.compile(rf"[{_DIGITS}](?:[{_SEPARATOR}()（）]{{0,2}}[{_DIGITS}]){{6}}")
_EMAIL = re.compile(r"[\w.+%-]+[@＠][\w-]+(?:[.．。][\w-]+)+", re.ASCII)
# An address whose domain is not ASCII (张三@公司.中国); matched after the ASCII ones, so
# it only ever takes text around an "@" no ASCII address explained.
_WIDE_EMAIL = re.compile(r"[\w.+%-]+[@＠][\w-]+(?:[.．。][\w-]+)+")
_HANDLE = re.compile(r"[A-Za-z0-9_.+@-]{5,}")
MIN_DIGITS = 7
"""Shortest digit run treated as a phone or ID number (a local number has seven)."""


def _mask_run(match: re.Match[str]) -> str:
    """The run as it may be published: phone- and ID-like parts of it masked."""
    run = match.group(0)
    digits = len(_DIGIT.findall(run))
    if digits < MIN_DIGITS:
        return run
    if run[0] in "+＋(（":
        return _masked(run)  # a country code or an area code in brackets: a phone number
    # The run's digit groups and, between them, its separators: [group, sep, group, …].
    parts = _SEPARATORS.split(run)
    groups = [part.rstrip("xX×") for part in parts[::2]]  # an ID card's X ends the last
    listed = "，" in run or "、" in run
    if max(len(g) for g in groups) >= MIN_DIGITS or (
        {len(g) for g in groups} == {1} and not listed
    ):
        # A whole number in one piece, whatever stands next to it; or read a digit at a time.
        return _masked(run)
    # Phone numbers are grouped in threes and fours; dates, times and versions in twos
    # (2022-08-13), so a stretch of groups of three or more digits is what may be one
    # (0.138 1234 5678 masks from 138 on). Years come in fours from 19 or 20 (2020-2023),
    # and with Chinese commas lists (第138、139、140期) in threes: those stay.
    stretch: list[int] = []
    for index in [*range(len(groups)), len(groups)]:
        if index < len(groups) and len(groups[index]) >= 3:
            stretch.append(index)
            continue
        found = [groups[i] for i in stretch]
        if sum(len(g) for g in found) >= MIN_DIGITS and not _kept(found, listed):
            for i in stretch:
                parts[2 * i] = _masked(parts[2 * i])
        stretch = []
    return "".join(parts)


def _kept(groups: list[str], listed: bool) -> bool:
    """True for digit groups that are years or, listed with commas, three-digit numbers."""
    sizes = {len(g) for g in groups}
    if sizes == {4} and all(g[:2] in ("19", "20") for g in groups):
        return True
    return listed and sizes == {3}


def _masked(text: str) -> str:
    masked = _DIGIT.sub("*", text)
    return masked[:-1] + "*" if masked[-1:] in "xX×" else masked


def mask_patterns(text: str) -> str:
    """``text`` with e-mail addresses and phone/ID-number-like digit runs masked."""
    if not text:
        return text
    if "@" in text or "＠" in text:
        text = _WIDE_EMAIL.sub("***@***", _EMAIL.sub("***@***", text))
    # Most text has no seven digits close together: one search in C decides, and the
    # per-run check runs only where it may matter.
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

"""Importing the back catalogue from CSV: every row is checked first, every bad row is
reported as ``FILE:LINE: reason``, and nothing is imported unless every row is good.

Columns (header row, any order): ``number``, ``air`` (``YYYY-MM-DD HH:MM`` station time),
``title``, and optionally ``topic`` and ``guests`` (member names separated by 、 ; , or
their full-width forms; each must name exactly one member). The encoding is detected
(UTF-8 with or without BOM, UTF-16, GB18030 as Excel saves it in a mainland office,
Big5) unless the caller names it.

Statuses of imported episodes: an episode whose air time is still ahead is ``planned``
and its guests are ``confirmed`` bookings. One that has aired is back catalogue, taken
only when the caller says so (``past``, the CLI's ``--past``), so a mistyped year is
refused rather than filed as history: it is ``aired`` (it went out, but the archive
holds no audio for it yet; ingesting its recording moves it on) and its guests
``appeared``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from episodes.csv_text import decode_csv
from episodes.schedule import MAX_NUMBER, clean_hosts
from hotline.config import Settings
from hotline.errors import HotlineError, InvalidInput
from hotline.locks import lock_schedule
from hotline.models import Booking, BookingStatus, Episode, EpisodeStatus, Member, Role
from hotline.text import clean_text
from hotline.timeutil import local_text, parse_local_datetime, utcnow, zone

COLUMNS = ("number", "air", "title", "topic", "guests")
REQUIRED = ("number", "air", "title")
GUEST_SEPARATORS = re.compile(r"[、;,；，]")
T = TypeVar("T")


class CatalogueError(InvalidInput):
    """A catalogue with bad rows; ``problems`` holds one ``FILE:LINE: reason`` per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        count = len(problems)
        summary = f"{source}: {count} problem{'s' if count != 1 else ''}; nothing imported"
        super().__init__("\n".join([summary, *problems]))


@dataclass
class ImportResult:
    """What an import added."""

    episodes: int = 0
    aired: int = 0
    upcoming: int = 0
    bookings: int = 0
    first: int | None = None
    last: int | None = None


@dataclass
class _Row:
    line: int
    number: int | None = None
    air_start: datetime | None = None
    title: str | None = None
    topic: str | None = None
    guests: list[int] = field(default_factory=list)


@dataclass
class _Members:
    """Members by name, loaded once: id, sector and whether active."""

    by_name: dict[str, list[tuple[int, str, bool]]]

    @classmethod
    def load(cls, session: Session) -> _Members:
        by_name: dict[str, list[tuple[int, str, bool]]] = {}
        for member_id, name, sector, active in session.exec(
            select(Member.id, Member.name, Member.sector, Member.active)
        ):
            by_name.setdefault(name, []).append((member_id, sector, active))
        return cls(by_name)


class _Report:
    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, reason: str) -> None:
        self.items.append((line, reason))

    def raise_if_any(self) -> None:
        if self.items:
            ordered = sorted(self.items, key=lambda item: item[0])
            raise CatalogueError(
                self.source, [f"{self.source}:{line}: {reason}" for line, reason in ordered]
            )


def _records(lines: list[str], report: _Report) -> list[tuple[int, int, list[str]]]:
    """CSV records as (first line, last line, fields); blank records dropped."""
    reader = csv.reader(lines)
    records = []
    while True:
        first = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.add(first, f"not valid CSV: {exc}")
            break
        if any(f.strip() for f in fields):
            records.append((first, reader.line_num, fields))
    return records


def _header(line: int, fields: list[str], report: _Report) -> list[str]:
    names = [f.strip().lower() for f in fields]
    for name in REQUIRED:
        if name not in names:
            report.add(line, f"missing column {name!r}")
    for name in names:
        if name not in COLUMNS:
            report.add(line, f"unknown column {name!r}: the columns are {', '.join(COLUMNS)}")
        elif names.count(name) > 1:
            report.add(line, f"column {name!r} appears {names.count(name)} times")
    return names


def _number(value: str) -> int:
    text = value.strip()
    if not text:
        raise InvalidInput("number is empty")
    if not text.isdigit() or not 1 <= int(text) <= MAX_NUMBER:
        raise InvalidInput(f"number {value!r} is not a whole number from 1 to {MAX_NUMBER}")
    return int(text)


def _guest_ids(value: str, members: _Members, future: bool) -> list[int]:
    ids: list[int] = []
    cleaned = (
        clean_text(p, field="guest name", max_length=50) for p in GUEST_SEPARATORS.split(value)
    )
    names = [name for name in cleaned if name]
    problems: list[str] = []
    for name in names:
        found = members.by_name.get(name, [])
        if not found:
            problems.append(f"unknown guest {name!r}: no member has that name")
        elif len(found) > 1:
            which = ", ".join(f"#{mid} {sector}" for mid, sector, _ in found)
            problems.append(f"guest name {name!r} is ambiguous: {len(found)} members ({which})")
        elif found[0][0] in ids:
            problems.append(f"guest {name!r} is listed twice")
        elif future and not found[0][2]:
            problems.append(f"guest {name!r} is an inactive member")
        else:
            ids.append(found[0][0])
    if problems:
        raise InvalidInput("; ".join(problems))
    return ids


def _field(report: _Report, line: int, parse: Callable[[], T]) -> T | None:
    """``parse()``, or None with its error reported against ``line``."""
    try:
        return parse()
    except HotlineError as exc:
        report.add(line, str(exc))
        return None


def _parse_row(
    line: int,
    values: dict[str, str],
    *,
    tz: ZoneInfo,
    members: _Members,
    now: datetime,
    guest_limit: int,
    past: bool,
    report: _Report,
) -> _Row:
    row = _Row(line)
    row.number = _field(report, line, lambda: _number(values["number"]))
    row.air_start = _field(report, line, lambda: _air(values["air"], tz))
    if row.air_start is not None and row.air_start <= now and not past:
        report.add(
            line,
            f"air time {local_text(row.air_start, tz)} has passed: pass --past to import "
            "back catalogue (marked aired)",
        )
    row.title = _field(report, line, lambda: _text(values["title"], "title", required=True))
    row.topic = _field(report, line, lambda: _text(values.get("topic", ""), "topic"))
    upcoming = row.air_start is not None and row.air_start > now
    guests = _field(report, line, lambda: _guest_ids(values.get("guests", ""), members, upcoming))
    row.guests = guests or []
    if upcoming and len(row.guests) > guest_limit:
        report.add(
            line, f"{len(row.guests)} guests on an upcoming episode; the limit is {guest_limit}"
        )
    return row


def _text(value: str, name: str, *, required: bool = False) -> str:
    return clean_text(value, field=name, max_length=200, required=required)


def _air(value: str, tz: ZoneInfo) -> datetime:
    if not value.strip():
        raise InvalidInput("air is empty")
    return parse_local_datetime(value, tz, field="air")


def _check_numbers(session: Session, rows: list[_Row], report: _Report) -> None:
    seen: dict[int, int] = {}
    existing = set(session.exec(select(Episode.number)).all())
    for row in rows:
        if row.number is None:
            continue
        if row.number in seen:
            report.add(row.line, f"number {row.number} is also on line {seen[row.number]}")
        elif row.number in existing:
            report.add(row.line, f"episode {row.number} already exists in the station")
        seen.setdefault(row.number, row.line)


def _check_overlaps(
    session: Session, rows: list[_Row], minutes: int, tz: ZoneInfo, report: _Report
) -> None:
    """Report rows whose air time overlaps another row's or an existing episode's."""
    spans: list[tuple[datetime, datetime, str, int | None]] = [
        (start, start + timedelta(minutes=length), f"episode {number}", None)
        for number, start, length in session.exec(
            select(Episode.number, Episode.air_start, Episode.duration_minutes).where(
                Episode.status != EpisodeStatus.cancelled
            )
        )
    ]
    spans += [
        (r.air_start, r.air_start + timedelta(minutes=minutes), f"line {r.line}", r.line)
        for r in rows
        if r.air_start is not None
    ]
    spans.sort(key=lambda s: (s[0], s[3] or 0))
    reach: tuple[datetime, datetime, str, int | None] | None = None
    for span in spans:
        if reach is not None and span[0] < reach[1]:
            if span[3] is not None:
                report.add(span[3], f"air time {local_text(span[0], tz)} overlaps {reach[2]}")
            elif reach[3] is not None:
                report.add(reach[3], f"air time {local_text(reach[0], tz)} overlaps {span[2]}")
        if reach is None or span[1] > reach[1]:
            reach = span


def import_catalogue(
    *,
    session: Session,
    settings: Settings,
    data: bytes,
    source: str,
    encoding: str | None = None,
    past: bool = False,
    now: datetime | None = None,
) -> ImportResult:
    """Validate every row of the CSV ``data`` and import all of it, or raise
    ``CatalogueError`` listing every problem as ``source:LINE: reason`` and add nothing.

    ``encoding`` overrides detection; ``past`` admits rows whose air time has passed
    (back catalogue, marked aired).
    """
    lock_schedule(session)
    tz = zone(settings.show.timezone)
    now = now or utcnow()
    report = _Report(source)
    decoded = decode_csv(data, source=source, encoding=encoding)
    for line, problem in decoded.bad_lines.items():
        report.add(line, problem)
    # Lines end at \n only (the decoder normalised them): a U+2028 inside a field is text.
    lines = [line + "\n" for line in decoded.text.split("\n")]
    records = _records(lines, report)
    if not records:
        report.add(1, f"no header row: expected {','.join(COLUMNS)}")
        report.raise_if_any()
    header_line, _, header_fields = records[0]
    known = len(report.items)
    header = _header(header_line, header_fields, report)
    if len(report.items) > known or header_line in decoded.bad_lines:
        report.raise_if_any()  # without a usable header no row can be read

    members = _Members.load(session)
    rows: list[_Row] = []
    for first, last, fields in records[1:]:
        if any(n in decoded.bad_lines for n in range(first, last + 1)):
            continue  # already reported: not in the file's encoding
        if len(fields) < len(header):
            missing = ", ".join(repr(n) for n in header[len(fields) :])
            report.add(first, f"missing column {missing}")
            continue
        if len(fields) > len(header):
            report.add(first, f"{len(fields)} fields, but the header has {len(header)}")
            continue
        rows.append(
            _parse_row(
                first,
                dict(zip(header, fields, strict=True)),
                tz=tz,
                members=members,
                now=now,
                guest_limit=settings.bookings.guest_limit,
                past=past,
                report=report,
            )
        )
    minutes = settings.schedule.duration_minutes
    _check_numbers(session, rows, report)
    _check_overlaps(session, rows, minutes, tz, report)
    report.raise_if_any()
    return _insert(session, settings, rows, now)


def _insert(session: Session, settings: Settings, rows: list[_Row], now: datetime) -> ImportResult:
    hosts = clean_hosts(settings.show.hosts)
    result = ImportResult()
    episodes: list[tuple[_Row, Episode]] = []
    for row in rows:
        assert row.number is not None and row.air_start is not None  # validated above
        aired = row.air_start <= now
        episode = Episode(
            number=row.number,
            title=row.title or "",
            topic=row.topic or "",
            air_start=row.air_start,
            duration_minutes=settings.schedule.duration_minutes,
            hosts=list(hosts),
            status=EpisodeStatus.aired if aired else EpisodeStatus.planned,
        )
        episodes.append((row, episode))
        result.aired += aired
        result.upcoming += not aired
    session.add_all([episode for _, episode in episodes])
    session.flush()
    bookings = [
        Booking(
            episode_id=episode.id,
            member_id=member_id,
            role=Role.guest,
            status=(
                BookingStatus.appeared
                if row.air_start and row.air_start <= now
                else BookingStatus.confirmed
            ),
        )
        for row, episode in episodes
        for member_id in row.guests
    ]
    session.add_all(bookings)
    session.flush()
    numbers = [row.number for row in rows if row.number is not None]
    result.episodes, result.bookings = len(rows), len(bookings)
    result.first, result.last = (min(numbers), max(numbers)) if numbers else (None, None)
    return result

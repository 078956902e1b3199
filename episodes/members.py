"""Members (政协委员): add, edit, list with appearance counts, detail, history and CSV import."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from episodes.lookup import get_member
from hotline.errors import InvalidInput
from hotline.models import Booking, BookingStatus, Episode, Level, Member
from hotline.text import clean_text
from hotline.timeutil import utcnow
from hotline.vocab import check_level, check_sector

# Limits come from the schema so text is refused before the database would truncate it.
LIMITS = {"name": 50, "sector": 50, "affiliation": 200, "district": 50, "contact": 200}
IMPORT_COLUMNS = ("name", "sector", "level", "affiliation", "district", "contact", "active")
REQUIRED_COLUMNS = ("name", "sector")
_TRUE = {"", "1", "true", "yes", "y", "是", "在任"}
_FALSE = {"0", "false", "no", "n", "否", "离任"}


@dataclass
class MemberSummary:
    """One line of the member list: the member and how often they have appeared."""

    member: Member
    appearances: int


@dataclass
class HistoryRow:
    """One booking of a member, as their history shows it."""

    episode: int
    air_start: datetime
    title: str
    role: str
    status: str


@dataclass
class MemberDetail:
    """A member with their bookings counted by status, last appearance and upcoming bookings."""

    member: Member
    status_counts: dict[str, int] = field(default_factory=dict)
    last_appearance: HistoryRow | None = None
    upcoming: list[HistoryRow] = field(default_factory=list)

    @property
    def appearances(self) -> int:
        return self.status_counts.get(BookingStatus.appeared, 0)


def _clean_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Clean and check the member fields present in ``values``; refuse bad ones."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if key in LIMITS:
            out[key] = clean_text(
                value, field=key, max_length=LIMITS[key], required=key in REQUIRED_COLUMNS
            )
        elif key in ("level", "active"):
            out[key] = value
        else:  # a programming error, not user input
            raise TypeError(f"unknown member field {key!r}")
    if "sector" in out:
        out["sector"] = check_sector(out["sector"])
    if "level" in out:
        out["level"] = check_level(str(out["level"]))
    return out


def add_member(
    *,
    session: Session,
    name: str,
    sector: str,
    level: str = Level.municipal,
    affiliation: str = "",
    district: str = "",
    contact: str = "",
    active: bool = True,
) -> Member:
    """Add a member after checking sector, level and text limits."""
    values = _clean_fields(
        {
            "name": name,
            "sector": sector,
            "level": level,
            "affiliation": affiliation,
            "district": district,
            "contact": contact,
            "active": active,
        }
    )
    member = Member(**values)
    session.add(member)
    session.flush()
    return member


def edit_member(
    *,
    session: Session,
    member: str | int,
    name: str | None = None,
    sector: str | None = None,
    level: str | None = None,
    affiliation: str | None = None,
    district: str | None = None,
    contact: str | None = None,
    active: bool | None = None,
) -> Member:
    """Change the fields given (None leaves a field as it is)."""
    target = get_member(session, member, lock=True)
    values = _clean_fields(
        {
            "name": name,
            "sector": sector,
            "level": level,
            "affiliation": affiliation,
            "district": district,
            "contact": contact,
            "active": active,
        }
    )
    if not values:
        raise InvalidInput(f"member #{target.id}: nothing to change")
    for key, value in values.items():
        setattr(target, key, value)
    session.add(target)
    session.flush()
    return target


def _appearance_counts() -> Any:
    """Subquery: member_id → number of appearances, one grouped pass over the bookings."""
    return (
        select(Booking.member_id, sa.func.count().label("appearances"))
        .where(Booking.status == BookingStatus.appeared)
        .group_by(Booking.member_id)
        .subquery()
    )


def list_members(
    *,
    session: Session,
    search: str | None = None,
    sector: str | None = None,
    active: bool | None = None,
) -> list[MemberSummary]:
    """Members matching the filters, with appearance counts, ordered by id.

    ``search`` matches a substring of name, sector or affiliation.
    """
    counts = _appearance_counts()
    query = select(Member, sa.func.coalesce(counts.c.appearances, 0)).outerjoin(
        counts, counts.c.member_id == Member.id
    )
    if search:
        text = clean_text(search, field="search", max_length=100)
        query = query.where(
            sa.or_(
                col(Member.name).contains(text, autoescape=True),
                col(Member.sector).contains(text, autoescape=True),
                col(Member.affiliation).contains(text, autoescape=True),
            )
        )
    if sector:
        query = query.where(Member.sector == check_sector(sector))
    if active is not None:
        query = query.where(Member.active == active)
    rows = session.exec(query.order_by(Member.id)).all()
    return [MemberSummary(member, int(appearances)) for member, appearances in rows]


def _history_query(member_id: int) -> Any:
    return (
        select(Episode.number, Episode.air_start, Episode.title, Booking.role, Booking.status)
        .join(Episode, Episode.id == Booking.episode_id)
        .where(Booking.member_id == member_id)
    )


def member_history(*, session: Session, member: str | int) -> list[HistoryRow]:
    """Every booking of the member, oldest episode first, with its status."""
    target = get_member(session, member)
    rows = session.exec(_history_query(target.id).order_by(Episode.air_start)).all()
    return [HistoryRow(*row) for row in rows]


def member_detail(
    *, session: Session, member: str | int, now: datetime | None = None
) -> MemberDetail:
    """The member, their bookings counted by status, last appearance and upcoming bookings."""
    target = get_member(session, member)
    now = now or utcnow()
    counts = session.exec(
        select(Booking.status, sa.func.count())
        .where(Booking.member_id == target.id)
        .group_by(Booking.status)
    ).all()
    last = session.exec(
        _history_query(target.id)
        .where(Booking.status == BookingStatus.appeared)
        .order_by(col(Episode.air_start).desc())
        .limit(1)
    ).first()
    upcoming = session.exec(
        _history_query(target.id)
        .where(Episode.air_start > now)
        .where(col(Booking.status).in_([BookingStatus.invited, BookingStatus.confirmed]))
        .order_by(Episode.air_start)
    ).all()
    return MemberDetail(
        member=target,
        status_counts={status: int(n) for status, n in counts},
        last_appearance=HistoryRow(*last) if last else None,
        upcoming=[HistoryRow(*row) for row in upcoming],
    )


# --- CSV import -------------------------------------------------------------------------


class ImportRefused(InvalidInput):
    """A CSV import refused as a whole; ``problems`` holds one ``FILE:LINE: reason`` per bad row."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        rows = "row" if len(problems) == 1 else "rows"
        summary = f"{source}: {len(problems)} bad {rows}; nothing imported"
        super().__init__("\n".join([summary, *problems]))


def _parse_active(value: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(f"active {value!r} is not yes/no")


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the line each starts on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for record in reader:
        yield start, record
        start = reader.line_num + 1


def parse_members_csv(data: bytes, *, source: str) -> list[dict[str, Any]]:
    """Validate every row of a members CSV; return the rows or raise ``ImportRefused``.

    Columns: name, sector (required), level, affiliation, district, contact, active.
    A UTF-8 BOM is accepted. Each bad row is reported as ``FILE:LINE: reason``.
    """
    # surrogateescape keeps undecodable bytes as lone surrogates, so a bad line is
    # reported with its number instead of failing the whole file at the first byte.
    text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="surrogateescape")
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    records = _records(text)
    header_line, header = next(records, (1, []))
    columns = [c.strip().lower() for c in header]
    for bad in [c for c in columns if c not in IMPORT_COLUMNS]:
        problems.append(f"{source}:{header_line}: unknown column {bad!r}")
    for missing in [c for c in REQUIRED_COLUMNS if c not in columns]:
        problems.append(f"{source}:{header_line}: missing column {missing!r}")
    if problems:
        raise ImportRefused(source, problems)
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue  # blank lines are not rows
        where = f"{source}:{line}"
        if any("\udc80" <= ch <= "\udcff" for cell in record for ch in cell):
            problems.append(f"{where}: not valid UTF-8")
            continue
        if len(record) < len(columns):
            problems.append(f"{where}: missing column {columns[len(record)]!r}")
            continue
        if len(record) > len(columns):
            problems.append(f"{where}: {len(record)} fields, the header has {len(columns)}")
            continue
        values: dict[str, Any] = dict(zip(columns, record, strict=True))
        try:
            values["active"] = _parse_active(values.get("active", ""))
            if not values.get("level", "").strip():
                values["level"] = Level.municipal
            rows.append(_clean_fields(values))
        except InvalidInput as exc:
            problems.append(f"{where}: {exc}")
    if problems:
        raise ImportRefused(source, problems)
    return rows


def import_members(*, session: Session, path: Path) -> list[Member]:
    """Import members from a CSV file: all rows or, if any row is bad, none."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc.strerror}") from exc
    rows = parse_members_csv(data, source=str(path))
    members = [Member(**row) for row in rows]
    session.add_all(members)
    session.flush()
    return members

"""Members (政协委员): add, edit, list with appearance counts, detail, history and CSV import.

Members stay unique: adding or importing one with the same name and contact as an
existing member, or the same name and sector where either has no contact to tell them
apart, is refused naming the member already there (``allow_duplicate`` for a true
namesake); an import skips such rows, so importing a file twice adds nothing the second
time. Duplicates already in the station are merged (``episodes.member_merge``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from episodes.csv_text import decode_csv
from episodes.lookup import get_member
from hotline.errors import Conflict, InvalidInput
from hotline.models import Booking, BookingStatus, Episode, Level, Member
from hotline.text import clean_text, mask_contact
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
        try:
            out["sector"] = check_sector(out["sector"])
        except InvalidInput as exc:
            raise InvalidInput(str(exc), zh=f"没有“{out['sector']}”这个界别") from None
    if "level" in out:
        try:
            out["level"] = check_level(str(out["level"]))
        except InvalidInput as exc:
            raise InvalidInput(
                str(exc), zh=f"级别“{out['level']}”不对，请选 全国、省、市 或 区"
            ) from None
    return out


class DuplicateMember(Conflict):
    """A member refused because one already in the station looks like the same person."""

    def __init__(self, existing: Member, reason: str, reason_zh: str) -> None:
        self.existing = existing
        where = f"{existing.sector}, {mask_contact(existing.contact)}".rstrip(", ")
        super().__init__(
            f"member #{existing.id} {existing.name} ({where}) has the same {reason}: "
            f"change that one (`hotline members edit {existing.id}`), or pass "
            "--allow-duplicate for a namesake",
            zh=f"已有委员 #{existing.id} {existing.name}（{existing.sector}），{reason_zh}；"
            "如确是同名的另一位委员，请选择“允许重名”",
        )


def contact_key(contact: str) -> str:
    """A contact as compared for duplicates: no spaces, dashes or brackets, lower case."""
    return re.sub(r"[\s\-()（）]", "", contact or "").lower()


def same_member(
    candidates: list[Member], *, name: str, sector: str, contact: str
) -> tuple[Member, str, str] | None:
    """The first of ``candidates`` that a new member would duplicate, with the reason.

    Same name and the same contact; or same name and sector where either has no contact.
    """
    key = contact_key(contact)
    for other in candidates:
        if other.name != name:
            continue
        other_key = contact_key(other.contact)
        if key and other_key == key:
            return other, "name and contact", "姓名和联系方式相同"
        if other.sector == sector and not (key and other_key):
            return other, "name and sector and no contact to tell them apart", "姓名和界别相同"
    return None


def find_duplicate(
    session: Session, *, name: str, sector: str, contact: str = ""
) -> tuple[Member, str, str] | None:
    """The member already in the station that this one would duplicate, if any."""
    named = list(session.exec(select(Member).where(Member.name == name).order_by(Member.id)))
    return same_member(named, name=name, sector=sector, contact=contact)


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
    allow_duplicate: bool = False,
) -> Member:
    """Add a member after checking sector, level, text limits and duplicates.

    Raises:
        DuplicateMember: a member with the same name and contact, or the same name and
            sector where either has no contact, exists (unless ``allow_duplicate``).
    """
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
    if not allow_duplicate:
        found = find_duplicate(
            session, name=values["name"], sector=values["sector"], contact=values["contact"]
        )
        if found is not None:
            raise DuplicateMember(*found)
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
        raise InvalidInput(f"member #{target.id}: nothing to change", zh="没有要修改的内容")
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


def deactivate_member(*, session: Session, member: str | int) -> tuple[Member, list[int]]:
    """Mark a member as no longer serving; return the member and the episodes (numbers)
    where they still have an open booking (invited or confirmed) to come.

    The bookings are left as they are: the desk decides whether to cancel them.
    """
    target = get_member(session, member)
    if not target.active:
        raise Conflict(
            f"member #{target.id} {target.name} is already inactive",
            zh=f"委员 #{target.id} {target.name} 已是离任状态",
        )
    target.active = False
    session.add(target)
    session.flush()
    upcoming = session.exec(
        select(Episode.number)
        .join(Booking, Booking.episode_id == Episode.id)
        .where(Booking.member_id == target.id)
        .where(col(Booking.status).in_([BookingStatus.invited, BookingStatus.confirmed]))
        .where(Episode.air_start > utcnow())
        .order_by(Episode.air_start)
    ).all()
    return target, list(upcoming)


# --- CSV import -------------------------------------------------------------------------


class ImportRefused(InvalidInput):
    """A CSV import refused as a whole; ``problems`` holds one ``FILE:LINE: reason`` per bad row."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        rows = "row" if len(problems) == 1 else "rows"
        summary = f"{source}: {len(problems)} bad {rows}; nothing imported"
        super().__init__(
            "\n".join([summary, *problems]),
            zh=f"{source}：{len(problems)} 行有误，未导入任何委员；第一处：{problems[0]}",
        )


@dataclass(frozen=True)
class SkippedRow:
    """A row of an import that was not added: it names a member already there."""

    line: int
    name: str
    existing: int | None
    """The id of the member in the station it repeats, or None for an earlier row."""
    reason: str


@dataclass
class MemberImport:
    """What an import did: the members added and the rows skipped as duplicates."""

    added: list[Member] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    encoding: str = "utf-8"


def _parse_active(value: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(f"active {value!r} is not yes/no")


def _records(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """CSV records with the lines each starts and ends on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for record in reader:
        yield start, reader.line_num, record
        start = reader.line_num + 1


def parse_members_csv(
    data: bytes, *, source: str, encoding: str | None = None
) -> tuple[list[tuple[int, dict[str, Any]]], str]:
    """Validate every row of a members CSV; return (line, row) pairs and the encoding used,
    or raise ``ImportRefused``.

    Columns: name, sector (required), level, affiliation, district, contact, active. The
    encoding is detected (UTF-8 with or without BOM, UTF-16, GB18030, Big5) unless
    ``encoding`` names it. Each bad row is reported as ``FILE:LINE: reason``.
    """
    decoded = decode_csv(data, source=source, encoding=encoding)
    problems: list[str] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    records = _records(decoded.text)
    try:
        header_line, _, header = next(records, (1, 1, []))
    except csv.Error as exc:
        raise ImportRefused(source, [f"{source}:1: not valid CSV: {exc}"]) from None
    if header_line in decoded.bad_lines:
        raise ImportRefused(source, [f"{source}:1: {decoded.bad_lines[header_line]}"])
    columns = [c.strip().lower() for c in header]
    for bad in [c for c in columns if c not in IMPORT_COLUMNS]:
        problems.append(f"{source}:{header_line}: unknown column {bad!r}")
    for missing in [c for c in REQUIRED_COLUMNS if c not in columns]:
        problems.append(f"{source}:{header_line}: missing column {missing!r}")
    if problems:
        raise ImportRefused(source, problems)
    try:
        for line, last, record in records:
            where = f"{source}:{line}"
            bad = [n for n in range(line, last + 1) if n in decoded.bad_lines]
            if bad:
                problems.extend(f"{source}:{n}: {decoded.bad_lines[n]}" for n in bad)
                continue
            if not any(cell.strip() for cell in record):
                continue  # blank lines are not rows
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
                rows.append((line, _clean_fields(values)))
            except InvalidInput as exc:
                problems.append(f"{where}: {exc}")
    except csv.Error as exc:
        problems.append(f"{source}: not valid CSV: {exc}")
    if problems:
        raise ImportRefused(source, problems)
    return rows, decoded.encoding


def import_members(
    *,
    session: Session,
    path: Path,
    encoding: str | None = None,
    allow_duplicate: bool = False,
    source: str | None = None,
) -> MemberImport:
    """Import members from a CSV file: all good rows or, if any row is bad, none.

    A row naming a member already in the station (or an earlier row of the file) by the
    rules of ``add_member`` is skipped and reported, so importing a file twice adds
    nothing the second time; ``allow_duplicate`` adds every row. ``source`` is how
    messages name the file (default: ``path``).
    """
    name = source or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{name}: cannot read: {exc.strerror}") from exc
    rows, used = parse_members_csv(data, source=name, encoding=encoding)
    result = MemberImport(encoding=used)
    names = {row["name"] for _, row in rows}
    existing = list(
        session.exec(select(Member).where(col(Member.name).in_(names)).order_by(Member.id))
    )
    earlier: list[tuple[int, Member]] = []
    for line, row in rows:
        member = Member(**row)
        if not allow_duplicate:
            contact = row.get("contact", "")
            found = same_member(existing, name=member.name, sector=member.sector, contact=contact)
            if found is not None:
                other, reason, _ = found
                result.skipped.append(SkippedRow(line, member.name, other.id, reason))
                continue
            repeat = same_member(
                [m for _, m in earlier], name=member.name, sector=member.sector, contact=contact
            )
            if repeat is not None:
                first = next(n for n, m in earlier if m is repeat[0])
                result.skipped.append(SkippedRow(line, member.name, None, f"repeats line {first}"))
                continue
        earlier.append((line, member))
        result.added.append(member)
    session.add_all(result.added)
    session.flush()
    return result

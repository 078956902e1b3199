"""Departments questions are referred (转办) to: a managed list, found by id or by name.

A department's contact is private, like a listener's: lists mask it, ``--json`` leaves it
out unless asked, and nothing published ever carries it. A name that matches no
department is refused with the near names, since 市住建局 is usually typed for
市住房和城乡建设管理委员会.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.models import Department, Referral, ReferralStatus, table_of
from hotline.text import clean_text
from hotline.timeutil import utcnow

NAME_LIMIT = 100
CONTACT_LIMIT = 200
NOTE_LIMIT = 200
IMPORT_COLUMNS = ("name", "contact", "note", "active")
NEAR_NAMES = 3
_TRUE = {"", "1", "yes", "y", "true", "是", "在用"}
_FALSE = {"0", "no", "n", "false", "否", "停用"}


def _closeness(typed: str, name: str) -> float:
    """How near ``typed`` is to ``name``, 0–1.

    Abbreviations are the usual miss (住建委 for 住房和城乡建设管理委员会), so besides the
    ordinary similarity the share of the typed characters found in the name counts.
    """
    from difflib import SequenceMatcher  # only a miss needs it

    ratio = SequenceMatcher(None, typed, name).ratio()
    pool = list(name)
    found = 0
    for ch in typed:
        if ch in pool:
            pool.remove(ch)
            found += 1
    return max(ratio, 0.9 * found / len(typed)) if typed else 0.0


def near_names(names: list[str], typed: str, limit: int = NEAR_NAMES) -> list[str]:
    """The names nearest to ``typed``, best first; none when nothing is near."""
    scored = sorted(((_closeness(typed, n), n) for n in names), key=lambda s: (-s[0], s[1]))
    return [name for score, name in scored[:limit] if score >= 0.55]


def get_department(session: Session, ref: str | int) -> Department:
    """A department by id (``3``, ``#3``) or exact name; a miss names the near ones."""
    text = clean_text(str(ref), field="department", max_length=NAME_LIMIT, required=True)
    bare = text.removeprefix("#")
    if bare.isdigit():
        found = session.get(Department, int(bare))
        if found is None:
            raise NotFound(f"department {bare} does not exist", zh=f"没有编号为 {bare} 的部门")
        return found
    found = session.exec(select(Department).where(Department.name == text)).first()
    if found is not None:
        return found
    names = list(session.connection().execute(sa.select(table_of(Department).c.name)).scalars())
    near = near_names(names, text)
    hint = f"; did you mean {', '.join(near)}?" if near else "; `hotline departments list`"
    hint_zh = f"，是不是：{'、'.join(near)}？" if near else "，请先添加该部门"
    raise NotFound(f"no department named {text!r}{hint}", zh=f"没有名为“{text}”的部门{hint_zh}")


def _name(value: str) -> str:
    return clean_text(value, field="department name", max_length=NAME_LIMIT, required=True)


def _contact(value: str) -> str:
    return clean_text(value, field="department contact", max_length=CONTACT_LIMIT)


def _note(value: str) -> str:
    return clean_text(value, field="department note", max_length=NOTE_LIMIT)


def _refuse_taken(session: Session, name: str, *, other_than: int | None = None) -> None:
    taken = session.exec(select(Department).where(Department.name == name)).first()
    if taken is not None and taken.id != other_than:
        raise Conflict(
            f"department {name!r} already exists (#{taken.id})", zh=f"部门“{name}”已存在"
        )


def add_department(*, session: Session, name: str, contact: str = "", note: str = "") -> Department:
    """Add a department; its name must be new."""
    department = Department(name=_name(name), contact=_contact(contact), note=_note(note))
    _refuse_taken(session, department.name)
    session.add(department)
    session.flush()
    return department


def edit_department(
    *,
    session: Session,
    department: str | int,
    name: str | None = None,
    contact: str | None = None,
    note: str | None = None,
    active: bool | None = None,
) -> Department:
    """Change a department's name, contact, note or whether it still takes referrals."""
    found = get_department(session, department)
    if name is not None:
        renamed = _name(name)
        _refuse_taken(session, renamed, other_than=found.id)
        found.name = renamed
    if contact is not None:
        found.contact = _contact(contact)
    if note is not None:
        found.note = _note(note)
    if active is not None:
        found.active = active
    found.updated_at = utcnow()
    session.add(found)
    session.flush()
    return found


@dataclass(frozen=True)
class DepartmentRow:
    """A department with its open and overdue referrals, for lists."""

    department: Department
    open: int
    overdue: int


def list_departments(
    *, session: Session, search: str | None = None, now: datetime | None = None
) -> list[DepartmentRow]:
    """Every department, by name, with how many referrals it has open and overdue."""
    now = now or utcnow()
    query = select(Department).order_by(Department.name)
    if search and search.strip():
        needle = clean_text(search, field="search", max_length=NAME_LIMIT)
        query = query.where(Department.name.contains(needle, autoescape=True))
    departments = session.exec(query).all()
    referral = table_of(Referral).c
    counts = {
        dept: (int(open_), int(overdue or 0))
        for dept, open_, overdue in session.connection().execute(
            sa.select(
                referral.department_id,
                sa.func.count(),
                sa.func.sum(sa.case((referral.due_at <= now, 1), else_=0)),
            )
            .where(referral.status == ReferralStatus.open)
            .group_by(referral.department_id)
        )
    }
    return [DepartmentRow(d, *counts.get(d.id, (0, 0))) for d in departments]


# --- CSV import -------------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentImport:
    """What an import did."""

    added: list[Department]
    updated: list[Department]


def _active(value: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(f"active {value!r} is not yes/no")


def import_departments(
    *, session: Session, path: Path, encoding: str | None = None
) -> DepartmentImport:
    """Add the departments of a CSV file (name, contact, note, active); all rows or none.

    A name already on the list updates that department's contact and note (a column left
    out of the file leaves the field as it is), so the office's yearly contact sheet can
    be imported again. Every bad row is named ``FILE:LINE: reason``.
    """
    from hotline.encodings import decode_text  # only imports need it

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc.strerror}") from exc
    text = decode_text(data, name=str(path), encoding=encoding).text
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [c.strip().lower() for c in next(reader, [])]
    problems: list[str] = []
    if "name" not in header:
        problems.append(f"{path}:1: missing column 'name'")
    problems += [f"{path}:1: unknown column {c!r}" for c in header if c not in IMPORT_COLUMNS]
    if problems:
        raise _refused(path, problems)
    rows: list[tuple[str, dict[str, object]]] = []
    seen: dict[str, int] = {}
    start = 2
    for record in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        where = f"{path}:{line}"
        if len(record) != len(header):
            problems.append(f"{where}: {len(record)} fields, the header has {len(header)}")
            continue
        cells = dict(zip(header, record, strict=True))
        try:
            values: dict[str, object] = {"name": _name(cells["name"])}
            if "contact" in cells:
                values["contact"] = _contact(cells["contact"])
            if "note" in cells:
                values["note"] = _note(cells["note"])
            if "active" in cells:
                values["active"] = _active(cells["active"])
        except InvalidInput as exc:
            problems.append(f"{where}: {exc}")
            continue
        name = str(values["name"])
        if name in seen:
            problems.append(f"{where}: department {name!r} also on line {seen[name]}")
            continue
        seen[name] = line
        rows.append((where, values))
    if problems:
        raise _refused(path, problems)
    existing = {d.name: d for d in session.exec(select(Department)).all()}
    added, updated = [], []
    for _, values in rows:
        found = existing.get(str(values["name"]))
        if found is None:
            department = Department(**values)  # type: ignore[arg-type]
            session.add(department)
            added.append(department)
            continue
        for key, value in values.items():
            setattr(found, key, value)
        if session.is_modified(found):
            found.updated_at = utcnow()
            updated.append(found)
    session.flush()
    return DepartmentImport(added, updated)


def _refused(path: Path, problems: list[str]) -> InvalidInput:
    rows = "row" if len(problems) == 1 else "rows"
    return InvalidInput(
        "\n".join([f"{path}: {len(problems)} bad {rows}; nothing imported", *problems])
    )

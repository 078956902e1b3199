"""``hotline departments …``: the departments questions are referred (转办) to.

A department's contact is private, like a listener's: tables mask it (021****4567),
``--json`` leaves it out unless ``--include-private``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from episodes import departments as domain
from hotline import privacy
from hotline.cli.common import JSON_OPTION, echo, emit_json, print_table, station_from
from hotline.models import Department
from hotline.text import mask_contact

departments_app = typer.Typer(
    help="Departments questions are referred (转办) to.", no_args_is_help=True
)

PRIVATE_OPTION = typer.Option(
    False, "--include-private", help="Include the department's contact (private)."
)
DEPARTMENT_ARGUMENT = typer.Argument(..., help="Department id (3 or #3) or exact name.")


def department_json(
    department: Department,
    *,
    include_private: bool,
    open_: int | None = None,
    overdue: int | None = None,
) -> dict[str, Any]:
    """Stable keys for one department; its contact only when asked for."""
    data: dict[str, Any] = {
        "id": department.id,
        "name": department.name,
        "note": department.note,
        "active": department.active,
    }
    if open_ is not None:
        data |= {"open_referrals": open_, "overdue_referrals": overdue}
    if include_private:
        data["contact"] = department.contact
    return data


def contact_text(department: Department, *, include_private: bool) -> str:
    """The contact as a table shows it: whole when asked for, else masked; empty for a
    user who may not read it (the attribute was never loaded)."""
    if include_private:
        return department.contact
    return mask_contact(privacy.shown(department, "contact"))


@departments_app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="Full name, e.g. 市住房和城乡建设管理委员会."),
    contact: str = typer.Option("", "--contact", help="Phone or e-mail of its office (private)."),
    note: str = typer.Option("", "--note", help="Who to ask for, hours, …"),
) -> None:
    """Add a department."""
    with station_from(ctx).session() as session:
        department = domain.add_department(session=session, name=name, contact=contact, note=note)
    echo(f"added department #{department.id} {department.name}")


@departments_app.command("list")
def list_(
    ctx: typer.Context,
    search: str | None = typer.Option(None, "--search", help="Only names containing this."),
    as_json: bool = JSON_OPTION,
    include_private: bool = PRIVATE_OPTION,
) -> None:
    """List departments by name, with their open and overdue referrals (contact masked).

    A database user who may not read contacts (staff) gets the list without them."""
    with station_from(ctx).session() as session:
        if include_private:
            privacy.require_private(session)
        rows = domain.list_departments(session=session, search=search)
    if as_json:
        emit_json(
            [
                department_json(
                    r.department, include_private=include_private, open_=r.open, overdue=r.overdue
                )
                for r in rows
            ]
        )
        return
    if not rows:
        echo("no departments; add one with `hotline departments add --name …`")
        return
    print_table(
        ["id", "部门", "联系方式", "备注", "在用", "待复", "逾期"],
        [
            [
                r.department.id,
                r.department.name,
                contact_text(r.department, include_private=include_private),
                r.department.note,
                "是" if r.department.active else "否",
                r.open,
                r.overdue,
            ]
            for r in rows
        ],
        max_width=30,
    )
    echo(f"{len(rows)} departments")


@departments_app.command("edit")
def edit(
    ctx: typer.Context,
    department: str = DEPARTMENT_ARGUMENT,
    name: str | None = typer.Option(None, "--name", help="New name."),
    contact: str | None = typer.Option(None, "--contact", help="New contact (private)."),
    note: str | None = typer.Option(None, "--note", help="New note."),
    active: bool | None = typer.Option(
        None, "--active/--inactive", help="Takes referrals, or no longer does."
    ),
) -> None:
    """Change a department's name, contact, note or whether it takes referrals."""
    with station_from(ctx).session() as session:
        changed = domain.edit_department(
            session=session,
            department=department,
            name=name,
            contact=contact,
            note=note,
            active=active,
        )
    state = "" if changed.active else " (inactive)"
    echo(f"updated department #{changed.id} {changed.name}{state}")


@departments_app.command("import")
def import_(
    ctx: typer.Context,
    csv_file: Path = typer.Argument(..., help="CSV with a header: name, contact, note, active."),
    encoding: str | None = typer.Option(
        None, "--encoding", help="The file's encoding (default: detected: UTF-8, GB18030, …)."
    ),
) -> None:
    """Import departments from CSV: new names are added, known ones updated; one bad row
    imports nothing."""
    with station_from(ctx).session() as session:
        result = domain.import_departments(session=session, path=csv_file, encoding=encoding)
    echo(f"imported {csv_file}: {len(result.added)} added, {len(result.updated)} updated")


def register(app: typer.Typer) -> None:
    """Add ``hotline departments …`` to the root app."""
    app.add_typer(departments_app, name="departments")

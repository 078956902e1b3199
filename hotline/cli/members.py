"""``hotline members …``: add, list, show, edit, import, merge, deactivate and history of
members (政协委员)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer

from episodes import members as domain
from episodes.member_merge import MergePlan, merge_members
from hotline import privacy
from hotline.cli.common import (
    JSON_OPTION,
    YES_OPTION,
    confirmed,
    echo,
    emit_json,
    expand_home,
    plural,
    print_table,
    station_from,
)
from hotline.models import Member
from hotline.text import mask_contact
from hotline.timeutil import local_iso, local_text
from hotline.vocab import sectors

members_app = typer.Typer(help="Members (政协委员): who can be booked.", no_args_is_help=True)

PRIVATE_OPTION = typer.Option(False, "--include-private", help="Include contact details (private).")
REF_ARGUMENT = typer.Argument(..., help="Member id (42 or #42) or unique name.")
ALLOW_DUPLICATE_OPTION = typer.Option(
    False,
    "--allow-duplicate",
    help="Add a namesake: same name as a member already there, a different person.",
)


def member_json(member: Member, *, include_private: bool) -> dict[str, Any]:
    """Stable keys for one member; contact only when asked for."""
    data: dict[str, Any] = {
        "id": member.id,
        "name": member.name,
        "sector": member.sector,
        "level": member.level,
        "affiliation": member.affiliation,
        "district": member.district,
        "active": member.active,
    }
    if include_private:
        data["contact"] = member.contact
    return data


def _history_json(row: domain.HistoryRow, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "episode": row.episode,
        "air_start": local_iso(row.air_start, tz),
        "title": row.title,
        "role": row.role,
        "status": row.status,
    }


@members_app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="Full name, e.g. 王伟."),
    sector: str = typer.Option(..., "--sector", help="Sector (界别); see `members sectors`."),
    level: str = typer.Option("市", "--level", help="全国, 省, 市 or 区."),
    affiliation: str = typer.Option("", "--affiliation", help="Work unit and post."),
    district: str = typer.Option("", "--district", help="District (区县)."),
    contact: str = typer.Option("", "--contact", help="Phone or e-mail (private)."),
    inactive: bool = typer.Option(False, "--inactive", help="Add as no longer serving."),
    allow_duplicate: bool = ALLOW_DUPLICATE_OPTION,
) -> None:
    """Add a member (refused when one with the same name and contact is there)."""
    station = station_from(ctx)
    with station.session() as session:
        member = domain.add_member(
            session=session,
            name=name,
            sector=sector,
            level=level,
            affiliation=affiliation,
            district=district,
            contact=contact,
            active=not inactive,
            allow_duplicate=allow_duplicate,
        )
    echo(f"added member #{member.id} {member.name} ({member.sector}, {member.level})")


@members_app.command("list")
def list_(
    ctx: typer.Context,
    search: str | None = typer.Option(None, "--search", help="Text in name/sector/affiliation."),
    sector: str | None = typer.Option(None, "--sector", help="Only this sector."),
    active: bool | None = typer.Option(
        None, "--active/--inactive", help="Only serving or only former members."
    ),
    as_json: bool = JSON_OPTION,
    include_private: bool = PRIVATE_OPTION,
) -> None:
    """List members with how often each has appeared."""
    station = station_from(ctx)
    with station.session(write=False) as session:
        if include_private:
            privacy.require_private(session)
        found = domain.list_members(session=session, search=search, sector=sector, active=active)
    if as_json:
        emit_json(
            [
                member_json(s.member, include_private=include_private)
                | {"appearances": s.appearances}
                for s in found
            ]
        )
        return
    headers = ["id", "姓名", "界别", "级别", "单位", "区", "在任", "出场"]
    if include_private:
        headers.append("联系方式")
    rows = []
    for s in found:
        m = s.member
        row = [m.id, m.name, m.sector, m.level, m.affiliation, m.district]
        row += ["是" if m.active else "否", s.appearances]
        if include_private:
            row.append(m.contact)
        rows.append(row)
    print_table(headers, rows, max_width=24)
    echo(plural(len(found), "member"))


@members_app.command("show")
def show(
    ctx: typer.Context,
    member: str = REF_ARGUMENT,
    as_json: bool = JSON_OPTION,
    include_private: bool = PRIVATE_OPTION,
) -> None:
    """Show one member: details, bookings by status, last appearance, upcoming bookings."""
    station = station_from(ctx)
    tz = station.tz
    with station.session(write=False) as session:
        if include_private:
            privacy.require_private(session)
        detail = domain.member_detail(session=session, member=member)
    m = detail.member
    if as_json:
        last = detail.last_appearance
        emit_json(
            member_json(m, include_private=include_private)
            | {
                "appearances": detail.appearances,
                "bookings": detail.status_counts,
                "last_appearance": _history_json(last, tz) if last else None,
                "upcoming": [_history_json(r, tz) for r in detail.upcoming],
            }
        )
        return
    contact = m.contact if include_private else mask_contact(privacy.shown(m, "contact"))
    echo(f"#{m.id} {m.name}  {m.sector} · {m.level}{'' if m.active else ' · 离任'}")
    for label, value in (("单位", m.affiliation), ("区", m.district), ("联系方式", contact)):
        if value:
            echo(f"  {label}: {value}")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(detail.status_counts.items()))
    echo(f"  出场 {detail.appearances} 次" + (f" (bookings: {counts})" if counts else ""))
    if detail.last_appearance:
        last = detail.last_appearance
        echo(f"  last appeared: episode {last.episode} {local_text(last.air_start, tz)}")
    for row in detail.upcoming:
        echo(f"  upcoming: episode {row.episode} {local_text(row.air_start, tz)} ({row.status})")


@members_app.command("edit")
def edit(
    ctx: typer.Context,
    member: str = REF_ARGUMENT,
    name: str | None = typer.Option(None, "--name", help="New name."),
    sector: str | None = typer.Option(None, "--sector", help="New sector (界别)."),
    level: str | None = typer.Option(None, "--level", help="全国, 省, 市 or 区."),
    affiliation: str | None = typer.Option(None, "--affiliation", help="Work unit and post."),
    district: str | None = typer.Option(None, "--district", help="District (区县)."),
    contact: str | None = typer.Option(None, "--contact", help="Phone or e-mail (private)."),
    active: bool | None = typer.Option(
        None, "--active/--inactive", help="Serving, or no longer serving."
    ),
) -> None:
    """Change a member's details (only the options given)."""
    station = station_from(ctx)
    with station.session() as session:
        changed = domain.edit_member(
            session=session,
            member=member,
            name=name,
            sector=sector,
            level=level,
            affiliation=affiliation,
            district=district,
            contact=contact,
            active=active,
        )
    echo(f"updated member #{changed.id} {changed.name} ({changed.sector}, {changed.level})")


@members_app.command("import")
def import_(
    ctx: typer.Context,
    csv_file: Path = typer.Argument(
        ...,
        help="CSV: name, sector, level, affiliation, district, contact, active.",
        callback=expand_home,
    ),
    encoding: str | None = typer.Option(
        None, "--encoding", help="The file's encoding (default: detected; e.g. gb18030, big5)."
    ),
    allow_duplicate: bool = ALLOW_DUPLICATE_OPTION,
) -> None:
    """Import members from CSV: every row is checked first; one bad row imports nothing.

    Rows naming a member already in the station are skipped and listed, so importing
    the same file again adds nothing.
    """
    station = station_from(ctx)
    with station.session() as session:
        result = domain.import_members(
            session=session, path=csv_file, encoding=encoding, allow_duplicate=allow_duplicate
        )
    skipped = result.skipped
    note = f"; {plural(len(skipped), 'row')} already in the station, skipped" if skipped else ""
    echo(f"imported {plural(len(result.added), 'member')} from {csv_file}{note}")
    for row in skipped[:10]:
        which = f"member #{row.existing}" if row.existing is not None else "an earlier row"
        echo(f"  {csv_file}:{row.line}: {row.name} is {which} ({row.reason})")
    if len(skipped) > 10:
        echo(f"  … and {len(skipped) - 10} more")


@members_app.command("merge")
def merge(
    ctx: typer.Context,
    keep: str = typer.Argument(..., help="The member to keep (id or unique name)."),
    other: str = typer.Argument(..., help="The duplicate to merge into it and remove (id)."),
    yes: bool = YES_OPTION,
) -> None:
    """Merge a duplicate: OTHER's bookings, appearances and answers move to KEEP; OTHER goes."""
    station = station_from(ctx)

    def run(confirm: bool) -> MergePlan:
        with station.session() as session:
            return merge_members(session=session, keep=keep, other=other, confirm=confirm)

    plan = confirmed(run, yes=yes)
    kept, gone = plan.keep, plan.other
    echo(
        f"merged member #{gone.id} {gone.name} into #{kept.id} {kept.name}: "
        f"{plural(len(plan.moved), 'booking')} and {plural(plan.answers, 'answer')} moved; "
        f"#{gone.id} removed"
    )


@members_app.command("deactivate")
def deactivate(ctx: typer.Context, member: str = REF_ARGUMENT) -> None:
    """Mark a member as no longer serving (they cannot be booked again)."""
    station = station_from(ctx)
    with station.session() as session:
        changed, upcoming = domain.deactivate_member(session=session, member=member)
    echo(f"member #{changed.id} {changed.name} is now inactive")
    if upcoming:
        episodes = ", ".join(str(n) for n in upcoming)
        echo(
            f"  still booked on episode{'s' if len(upcoming) != 1 else ''} {episodes}: "
            "cancel with `hotline bookings cancel N MEMBER` if they will not come"
        )


@members_app.command("history")
def history(ctx: typer.Context, member: str = REF_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """A member's bookings and appearances, oldest first."""
    station = station_from(ctx)
    tz = station.tz
    with station.session(write=False) as session:
        rows = domain.member_history(session=session, member=member)
    if as_json:
        emit_json([_history_json(r, tz) for r in rows])
        return
    print_table(
        ["期", "播出", "标题", "角色", "状态"],
        [[r.episode, local_text(r.air_start, tz), r.title, r.role, r.status] for r in rows],
    )
    appeared = sum(1 for r in rows if r.status == "appeared")
    echo(f"{plural(len(rows), 'booking')}, {plural(appeared, 'appearance')}")


@members_app.command("sectors")
def sectors_(as_json: bool = JSON_OPTION) -> None:
    """The 31 sectors (界别) a member can belong to."""
    if as_json:
        emit_json(list(sectors()))
        return
    for number, name in enumerate(sectors(), start=1):
        echo(f"{number:2d}  {name}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(members_app, name="members")

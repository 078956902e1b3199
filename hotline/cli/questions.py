"""``hotline questions …``: log listener questions (听众来信/来电), move them through the lifecycle.

Listener contact details are private: tables always show them masked (138****5678);
``--json`` leaves them out unless ``--include-private``; only
``show Q --include-private`` prints them in full in a table.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import typer

from episodes import questions as domain
from episodes import referrals
from hotline import privacy
from hotline.cli.common import (
    JSON_OPTION,
    YES_OPTION,
    confirmed,
    echo,
    emit_json,
    print_table,
    station_from,
)
from hotline.models import Callback, CallbackOutcome, Channel, Question
from hotline.text import mask_contact
from hotline.timeutil import local_iso, local_text

questions_app = typer.Typer(
    help="Listener questions (听众来信/来电): log, screen, route, answer.", no_args_is_help=True
)

CHANNELS = ", ".join(c.value for c in Channel)
OUTCOMES = ", ".join(o.value for o in CallbackOutcome)
PRIVATE_OPTION = typer.Option(
    False, "--include-private", help="Include the listener's contact (private)."
)
QUESTION_ARGUMENT = typer.Argument(..., help="Question id.")


def question_json(view: domain.QuestionView, tz: ZoneInfo, *, include_private: bool) -> dict:
    """Stable keys for one question; the listener's contact only when asked for."""
    q, member = view.question, view.member
    data: dict[str, Any] = {
        "id": q.id,
        "received_at": local_iso(q.received_at, tz),
        "channel": q.channel,
        "listener_name": q.listener_name,
        "district": q.district,
        "topic": q.topic,
        "public_title": q.public_title,
        "text": q.text,
        "status": q.status,
        "episode": view.episode_number,
        "member": (
            {"id": member.id, "name": member.name, "sector": member.sector} if member else None
        ),
        "answer_offset": q.answer_offset,
        "answer_at": domain.offset_text(q.answer_offset),
        "referral_department": q.referral_department,
        "duplicate_of": q.duplicate_of,
        "reject_reason": q.reject_reason,
    }
    if include_private:
        data["listener_contact"] = q.listener_contact
    return data


@questions_app.command("add")
def add(
    ctx: typer.Context,
    text: str = typer.Option(..., "--text", help="The question as the listener put it."),
    channel: str = typer.Option(..., "--channel", help=f"How it came in: {CHANNELS}."),
    name: str = typer.Option("", "--name", help="Listener's name."),
    contact: str = typer.Option("", "--contact", help="Phone or e-mail (private)."),
    district: str = typer.Option("", "--district", help="District (区县)."),
    topic: str = typer.Option("", "--topic", help="Topic, e.g. 教育, 医保."),
) -> None:
    """Log a new question; says which open questions it may duplicate."""
    station = station_from(ctx)
    with station.session() as session:
        question, hints = domain.add_question(
            session=session,
            text=text,
            channel=channel,
            listener_name=name,
            listener_contact=contact,
            district=district,
            topic=topic,
        )
    echo(f"added question {question.id} ({question.channel})")
    if hints:
        echo("may duplicate open question(s) (check, then `hotline questions duplicate Q --of P`):")
        for hint in hints:
            echo(f"  {hint.id}  similarity {hint.similarity:.2f}  {hint.snippet}")


@questions_app.command("list")
def list_(
    ctx: typer.Context,
    status: str = typer.Option(None, "--status", help="Only this status, e.g. new, assigned."),
    episode: int = typer.Option(None, "--episode", help="Only questions for episode N."),
    channel: str = typer.Option(None, "--channel", help=f"Only this channel: {CHANNELS}."),
    search: str = typer.Option(None, "--search", help="Only questions whose text contains this."),
    limit: int = typer.Option(
        domain.DEFAULT_LIMIT, "--limit", help="At most K, newest first; 0 = all."
    ),
    as_json: bool = JSON_OPTION,
    include_private: bool = PRIVATE_OPTION,
) -> None:
    """List questions, newest first (listener contact masked)."""
    station = station_from(ctx)
    with station.session(write=False) as session:
        if include_private:
            privacy.require_private(session)
        views = domain.list_questions(
            session=session,
            status=status,
            episode=episode,
            channel=channel,
            search=search,
            limit=limit,
        )
    tz = station.tz
    if as_json:
        emit_json([question_json(v, tz, include_private=include_private) for v in views])
        return
    if not views:
        echo("no questions match")
        return
    print_table(
        ["id", "received", "channel", "status", "ep", "listener", "contact", "topic", "text"],
        (
            [
                v.question.id,
                local_text(v.question.received_at, tz),
                v.question.channel,
                v.question.status,
                v.episode_number or "",
                v.question.listener_name,
                mask_contact(privacy.shown(v.question, "listener_contact")),
                v.question.topic,
                " ".join(v.question.text.split()),
            ]
            for v in views
        ),
        max_width=30,
    )


@questions_app.command("show")
def show(
    ctx: typer.Context,
    question: int = QUESTION_ARGUMENT,
    as_json: bool = JSON_OPTION,
    include_private: bool = PRIVATE_OPTION,
) -> None:
    """Show one question in full (contact masked unless --include-private)."""
    station = station_from(ctx)
    tz = station.tz
    with station.session(write=False) as session:
        if include_private:
            privacy.require_private(session)
        view = domain.question_view(session=session, question=question)
        follow = referrals.follow_through(session=session, question=question, tz=tz)
    if as_json:
        emit_json(
            question_json(view, tz, include_private=include_private)
            | _follow_through_json(follow, tz)
        )
        return
    q = view.question
    contact = (
        q.listener_contact
        if include_private
        else mask_contact(privacy.shown(q, "listener_contact"))
    )
    member = view.member
    lines = [
        ("question", str(q.id)),
        ("status", q.status),
        ("moves", ", ".join(domain.allowed_moves(q.status)) or "none (final)"),
        ("received", local_text(q.received_at, station.tz)),
        ("channel", q.channel),
        ("listener", q.listener_name),
        ("contact", contact),
        ("district", q.district),
        ("topic", q.topic),
        ("public title", q.public_title),
        ("episode", str(view.episode_number or "")),
        ("member", f"#{member.id} {member.name} ({member.sector})" if member else ""),
        ("answer at", domain.offset_text(q.answer_offset) or ""),
        ("referred to", q.referral_department),
        ("duplicate of", str(q.duplicate_of or "")),
        ("reject reason", q.reject_reason),
    ]
    for label, value in lines:
        if value:
            echo(f"{label:<14}{value}")
    echo("")
    echo(q.text)
    _print_follow_through(follow, tz)


def _follow_through_json(follow: referrals.FollowThrough, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "referrals": [
            {
                "id": r.id,
                "department": r.department,
                "sent_at": local_iso(r.sent_at, tz),
                "due": referrals.due_day(r.due_at, tz).isoformat(),
                "status": r.status,
                "replied_at": local_iso(r.replied_at, tz),
                "reply": r.reply_text,
                "close_reason": r.close_reason,
            }
            for r in follow.referrals
        ],
        "callbacks": [_callback_json(c, tz) for c in follow.callbacks],
    }


def _callback_json(callback: Callback, tz: ZoneInfo) -> dict[str, Any]:
    """One call-back; its note (private) only for a user who may read it."""
    data: dict[str, Any] = {
        "id": callback.id,
        "referral": callback.referral_id,
        "outcome": callback.outcome,
        "made_by": callback.made_by,
        "made_at": local_iso(callback.made_at, tz),
    }
    note = privacy.shown(callback, "note")
    if note is not None:
        data["note"] = note
    return data


def _print_follow_through(follow: referrals.FollowThrough, tz: ZoneInfo) -> None:
    for r in follow.referrals:
        echo("")
        echo(
            f"referral {r.id} → {r.department}: sent {local_text(r.sent_at, tz)}, "
            f"due {referrals.due_day(r.due_at, tz)}, {r.status}"
        )
        if r.replied_at is not None:
            echo(f"  reply {local_text(r.replied_at, tz)}: {r.reply_text}")
        if r.close_reason:
            echo(f"  closed: {r.close_reason}")
    for c in follow.callbacks:
        note = privacy.shown(c, "note")
        note = f": {note}" if note else ""
        echo(f"call-back {local_text(c.made_at, tz)} by {c.made_by}: {c.outcome}{note}")


@questions_app.command("edit")
def edit(
    ctx: typer.Context,
    question: int = QUESTION_ARGUMENT,
    public_title: str = typer.Option(
        None,
        "--public-title",
        help="What listeners see (chapter title, description); empty: use the topic.",
    ),
    topic: str = typer.Option(None, "--topic", help="Topic, e.g. 教育, 医保."),
) -> None:
    """Set a question's public title or topic: never the listener's own words in public."""
    from episodes.question_edit import edit_question

    with station_from(ctx).session() as session:
        found = edit_question(
            session=session, question=question, public_title=public_title, topic=topic
        )
    shown = found.public_title or (f"{found.topic} (the topic)" if found.topic else "听众提问")
    echo(f"question {found.id}: listeners see {shown!r}")


def _moved(question: Question, detail: str = "") -> None:
    moves = ", ".join(domain.allowed_moves(question.status)) or "none, final"
    echo(f"question {question.id} → {question.status}{detail} (next: {moves})")


@questions_app.command("screen")
def screen(ctx: typer.Context, question: int = QUESTION_ARGUMENT) -> None:
    """Mark a new question as screened."""
    with station_from(ctx).session() as session:
        moved = domain.screen(session=session, question=question)
    _moved(moved)


@questions_app.command("assign")
def assign(
    ctx: typer.Context,
    question: int = QUESTION_ARGUMENT,
    episode: int = typer.Argument(..., help="Episode number that takes the question on air."),
    yes: bool = YES_OPTION,
) -> None:
    """Route a screened question to episode N (or re-route it); asks first if N has aired."""
    station = station_from(ctx)

    def run(confirm: bool) -> Question:
        with station.session() as session:
            return domain.assign(
                session=session, question=question, episode=episode, confirm=confirm
            )

    _moved(confirmed(run, yes=yes), f" for episode {episode}")


@questions_app.command("answer")
def answer(
    ctx: typer.Context,
    question: int = QUESTION_ARGUMENT,
    member: str = typer.Option(..., "--member", help="Member id (42 or #42) or unique name."),
    at: str = typer.Option(None, "--at", help="When in the show: MM:SS or HH:MM:SS."),
    episode: int = typer.Option(None, "--episode", help="Episode (default: the assigned one)."),
) -> None:
    """Record that a member booked on the episode answered the question on air."""
    with station_from(ctx).session() as session:
        moved = domain.answer(
            session=session, question=question, member=member, at=at, episode=episode
        )
    when = (
        f" at {domain.offset_text(moved.answer_offset)}" if moved.answer_offset is not None else ""
    )
    _moved(moved, when)


@questions_app.command("refer")
def refer(
    ctx: typer.Context,
    question: int = QUESTION_ARGUMENT,
    to: str = typer.Option(
        ..., "--to", help="Department (id or name, `hotline departments list`), e.g. 市民政局."
    ),
    due: str | None = typer.Option(
        None,
        "--due",
        help="Reply due by YYYY-MM-DD (default: referrals.working_days working days on).",
    ),
) -> None:
    """Pass the question on (转办) to a department, with a due date for its reply."""
    station = station_from(ctx)
    with station.session() as session:
        opened = domain.refer(
            session=session, settings=station.settings, question=question, department=to, due=due
        )
    if opened.warning:
        typer.echo(f"hotline: warning: {opened.warning}", err=True)
    due_day = referrals.due_day(opened.referral.due_at, station.tz)
    _moved(
        opened.question,
        f" to {opened.department.name} (referral {opened.referral.id}, due {due_day})",
    )


@questions_app.command("callback")
def callback(
    ctx: typer.Context,
    question: int = QUESTION_ARGUMENT,
    outcome: str = typer.Option(..., "--outcome", help=f"How it went: {OUTCOMES}."),
    note: str = typer.Option("", "--note", help="What the listener said."),
    by: str | None = typer.Option(
        None, "--by", help="Who called (default: you, as the history records you)."
    ),
) -> None:
    """Record the call-back to the listener (回访); one that reaches them closes the question."""
    with station_from(ctx).session() as session:
        done = domain.callback(
            session=session, question=question, outcome=outcome, note=note, made_by=by
        )
    echo(
        f"call-back {done.callback.id} on question {done.question.id} by {done.callback.made_by}: "
        f"{done.callback.outcome}"
    )
    if done.closed:
        _moved(done.question, " (办结)")


@questions_app.command("resolve")
def resolve(
    ctx: typer.Context,
    question: int = QUESTION_ARGUMENT,
    reason: str | None = typer.Option(
        None, "--reason", help="Why a referred question closes before its reply and call-back."
    ),
) -> None:
    """Close an answered or referred question (办结)."""
    with station_from(ctx).session() as session:
        moved = domain.resolve(session=session, question=question, reason=reason)
    _moved(moved)


@questions_app.command("reject")
def reject(
    ctx: typer.Context,
    question: int = QUESTION_ARGUMENT,
    reason: str = typer.Option(..., "--reason", help="Why, e.g. 不属于本节目范围."),
) -> None:
    """Turn a new or screened question down, saying why."""
    with station_from(ctx).session() as session:
        moved = domain.reject(session=session, question=question, reason=reason)
    _moved(moved)


@questions_app.command("duplicate")
def duplicate(
    ctx: typer.Context,
    question: int = QUESTION_ARGUMENT,
    of: int = typer.Option(..., "--of", help="The open question it repeats."),
) -> None:
    """Mark a question as a duplicate of an open one."""
    with station_from(ctx).session() as session:
        moved = domain.mark_duplicate(session=session, question=question, of=of)
    _moved(moved, f" of {of}")


def register(app: typer.Typer) -> None:
    """Add ``hotline questions …`` to the root app."""
    app.add_typer(questions_app, name="questions")

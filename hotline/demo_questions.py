"""The demo's listener questions: sent in for episodes, in every status of the lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hotline import demo_data as data
from hotline.demo_data import topic_named, topics
from hotline.demo_steps import DemoContext, DemoEpisode, insert_rows
from hotline.models import Channel, Question, QuestionStatus

RECENT_EPISODES = 130
OLDER_EPISODES = 40
UPCOMING_WITH_QUESTIONS = 4
NEW_QUESTIONS = 40
SCREENED_QUESTIONS = 30
CHANNEL_WEIGHTS = {
    Channel.phone: 30,
    Channel.wechat: 25,
    Channel.web: 15,
    Channel.sms: 8,
    Channel.email: 7,
    Channel.letter: 5,
}
# What became of the questions sent in for an episode that has aired.
PAST_OUTCOMES = {
    QuestionStatus.answered: 40,
    QuestionStatus.resolved: 22,
    QuestionStatus.referred: 16,
    QuestionStatus.rejected: 12,
    QuestionStatus.duplicate: 10,
}


@dataclass
class _Draft:
    """A question before insertion; ``copies`` is the index of the draft it duplicates."""

    row: dict[str, Any]
    template: str = ""
    copies: int | None = None


class _QuestionWriter:
    """Drafts listener questions with consistent channel, contact, district and text."""

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("questions")
        self.drafts: list[_Draft] = []

    def draft(
        self,
        *,
        topic: str,
        received: datetime,
        status: QuestionStatus,
        channel: Channel | None = None,
        template: str | None = None,
        **fields: Any,
    ) -> _Draft:
        rng = self.rng
        if channel is None:
            channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
        district = rng.choice(data.DISTRICTS)
        source = topic_named(topic) if topic else rng.choice(topics())
        template = template or rng.choice(source.questions)
        if channel == Channel.email:
            contact = data.email(rng)
        elif channel == Channel.letter:
            contact = data.address(rng, district)
        else:
            contact = data.mobile(rng)
        row = {
            "received_at": received,
            "channel": channel.value,
            "listener_name": data.listener_name(rng),
            "listener_contact": contact,
            "district": district,
            "topic": topic,
            "text": data.question_text(rng, template, district),
            "status": status.value,
            "episode_id": None,
            "member_id": None,
            "answer_offset": None,
            "referral_department": "",
            "reject_reason": "",
            "updated_at": received,
        } | fields
        row["updated_at"] = min(max(row["updated_at"], received), self.ctx.day_start)
        draft = _Draft(row, template)
        self.drafts.append(draft)
        return draft

    def for_aired(self, episode: DemoEpisode) -> None:
        """Two to four questions sent in for ``episode``, and what became of each."""
        rng = self.rng
        air = episode.air_start
        # answers fall between the opening and the last two minutes of the show
        last_answer = self.ctx.station.settings.schedule.duration_minutes * 60 - 120
        guests = self.ctx.guests.get(episode.number, [])
        originals: list[_Draft] = []
        for _ in range(rng.randint(2, 4)):
            topic = episode.topic if rng.random() < 0.8 else rng.choice(topics()).name
            outcome = rng.choices(list(PAST_OUTCOMES), weights=list(PAST_OUTCOMES.values()))[0]
            if outcome == QuestionStatus.duplicate and not originals:
                outcome = QuestionStatus.answered
            answered = outcome == QuestionStatus.answered or (
                outcome == QuestionStatus.resolved and rng.random() < 0.6
            )
            if answered and not guests:
                outcome, answered = QuestionStatus.referred, False
            received = air - timedelta(minutes=rng.randint(30, 6 * 24 * 60))
            if outcome == QuestionStatus.duplicate:
                original = rng.choice(originals)
                first = original.row["received_at"]
                later = timedelta(minutes=rng.randint(1, (air - first) // timedelta(minutes=1)))
                self.draft(
                    topic=original.row["topic"],
                    received=first + later,
                    status=outcome,
                    template=original.template,
                ).copies = self.drafts.index(original)
                continue
            if outcome == QuestionStatus.rejected:
                self.draft(
                    topic=topic,
                    received=received,
                    status=outcome,
                    reject_reason=rng.choice(data.REJECT_REASONS),
                    updated_at=received + timedelta(hours=rng.randint(1, 24)),
                )
                continue
            fields: dict[str, Any] = {"episode_id": episode.id}
            channel = None
            if answered:
                offset = float(rng.randint(300, last_answer))
                fields |= {
                    "member_id": rng.choice(guests),
                    "answer_offset": offset,
                    "updated_at": air + timedelta(seconds=offset),
                }
                if rng.random() < 0.15:  # a caller put through during the show
                    channel = Channel.on_air
                    received = air + timedelta(seconds=offset - rng.randint(60, 240))
            else:
                fields |= {
                    "referral_department": topic_named(topic).department,
                    "updated_at": air + timedelta(days=rng.randint(1, 3)),
                }
            if outcome == QuestionStatus.resolved:
                fields["updated_at"] = air + timedelta(days=rng.randint(4, 30))
            draft = self.draft(
                topic=topic, received=received, status=outcome, channel=channel, **fields
            )
            if channel != Channel.on_air:
                originals.append(draft)

    def for_upcoming(self, episode: DemoEpisode) -> None:
        """Questions already received and assigned to an episode that has not aired."""
        for _ in range(self.rng.randint(3, 5)):
            received = self.ctx.day_start - timedelta(minutes=self.rng.randint(60, 240 * 60))
            topic = episode.topic
            self.draft(
                topic=topic,
                received=received,
                status=QuestionStatus.assigned,
                episode_id=episode.id,
                updated_at=received + timedelta(minutes=self.rng.randint(60, 12 * 60)),
            )

    def waiting(self, status: QuestionStatus, count: int, days: int) -> None:
        """Questions received in the last ``days`` days and not yet placed on an episode."""
        for _ in range(count):
            received = self.ctx.day_start - timedelta(minutes=self.rng.randint(12, days * 24 * 60))
            known = status != QuestionStatus.new or self.rng.random() < 0.5
            self.draft(
                topic=self.rng.choice(topics()).name if known else "",
                received=received,
                status=status,
                updated_at=received + timedelta(minutes=self.rng.randint(30, 24 * 60)),
            )


def add_questions(ctx: DemoContext) -> None:
    """Listener questions in every status of the lifecycle, oldest first."""
    writer = _QuestionWriter(ctx)
    aired = [e for e in ctx.episodes if e.aired]
    older = aired[:-RECENT_EPISODES]
    sample = sorted(writer.rng.sample(older, min(OLDER_EPISODES, len(older))), key=_number)
    for episode in sample + aired[-RECENT_EPISODES:]:
        writer.for_aired(episode)
    upcoming = [e for e in ctx.episodes if not e.aired]
    for episode in upcoming[:UPCOMING_WITH_QUESTIONS]:
        writer.for_upcoming(episode)
    writer.waiting(QuestionStatus.screened, SCREENED_QUESTIONS, days=12)
    writer.waiting(QuestionStatus.new, NEW_QUESTIONS, days=3)
    # Ids follow the order questions came in; duplicates point back once ids exist.
    order = sorted(range(len(writer.drafts)), key=lambda i: writer.drafts[i].row["received_at"])
    ids = insert_rows(ctx.session, Question, [writer.drafts[i].row for i in order])
    new_id = {draft_index: ids[position] for position, draft_index in enumerate(order)}
    links = [
        {"b_id": new_id[i], "b_of": new_id[d.copies]}
        for i, d in enumerate(writer.drafts)
        if d.copies is not None
    ]
    if links:
        table = Question.__table__  # type: ignore[attr-defined]
        ctx.session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values(duplicate_of=sa.bindparam("b_of")),
            links,
        )


def _number(episode: DemoEpisode) -> int:
    return episode.number

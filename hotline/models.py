"""The whole schema: episodes, members, bookings, questions, referrals, transcripts, jobs,
the live desk and the history of changes.

Status values are plain strings in the database (portable between SQLite and
PostgreSQL, easy to migrate); the ``StrEnum`` classes here are the vocabulary.
Times are aware datetimes in UTC (``UTCDateTime`` enforces it at the column).

No ``from __future__ import annotations`` here: pydantic and SQLAlchemy would evaluate
every field's annotation string again at import, about 13 ms of every command's start-up.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel
from sqlmodel.sql.sqltypes import AutoString


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC; refuses naive datetimes on the way in."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class _Table(SQLModel):
    # Rows come from the database or from domain code that checks its own input, never
    # from pydantic validation, so pydantic's schema is built on first use instead of
    # at import: most commands never need it.
    model_config = {"defer_build": True}


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table behind a model, for list queries that need no ORM objects.

    Selecting ``table_of(Episode).c.number`` rather than ``Episode.number`` skips the
    ORM's compile step and the one-time configuration of every mapper, which a short
    command would otherwise pay for on its first query.
    """
    return model.__table__  # type: ignore[attr-defined,return-value]


def _now() -> datetime:
    return datetime.now(UTC)


def _time(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


PRIVATE = {"private": True}
"""Column ``info`` of a private column (a contact, a call-back's note): the ORM loads it only
for a database user who may read it (``hotline.privacy``); ``hotline db grant`` keeps staff
from it."""


def _private(max_length: int) -> Any:
    return Field(default="", max_length=max_length, sa_column_kwargs={"info": PRIVATE})


class EpisodeStatus(StrEnum):
    planned = "planned"
    confirmed = "confirmed"
    aired = "aired"  # went out; the archive has no recording of it (yet)
    recorded = "recorded"
    mastered = "mastered"
    transcribed = "transcribed"
    published = "published"
    cancelled = "cancelled"


class Level(StrEnum):
    national = "全国"
    provincial = "省"
    municipal = "市"
    district = "区"


class Role(StrEnum):
    guest = "guest"
    expert = "expert"
    official = "official"


class BookingStatus(StrEnum):
    invited = "invited"
    confirmed = "confirmed"
    appeared = "appeared"
    declined = "declined"
    cancelled = "cancelled"
    no_show = "no_show"


class Channel(StrEnum):
    phone = "phone"
    wechat = "wechat"
    sms = "sms"
    email = "email"
    letter = "letter"
    web = "web"
    on_air = "on_air"


class QuestionStatus(StrEnum):
    new = "new"
    screened = "screened"
    assigned = "assigned"
    answered = "answered"
    referred = "referred"
    resolved = "resolved"
    rejected = "rejected"
    duplicate = "duplicate"


class JobKind(StrEnum):
    master = "master"
    transcribe = "transcribe"
    publish = "publish"


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    skipped = "skipped"
    failed = "failed"
    cancelled = "cancelled"


class ReferralStatus(StrEnum):
    open = "open"
    """Sent to the department, no reply yet (overdue once its due date has passed)."""
    replied = "replied"
    """The department answered; the listener is still to be called back."""
    closed = "closed"
    """Done with: the question closed (办结), after a reply or with a reason."""


class CallbackOutcome(StrEnum):
    satisfied = "satisfied"
    partly = "partly"
    unsatisfied = "unsatisfied"
    unreachable = "unreachable"


class CallStatus(StrEnum):
    waiting = "waiting"
    screened = "screened"
    on_air = "on_air"
    done = "done"
    dropped = "dropped"


class Episode(_Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True, index=True, ge=1)
    title: str = Field(max_length=200)
    topic: str = Field(default="", max_length=200)
    air_start: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    duration_minutes: int = Field(default=60, ge=1)
    status: str = Field(default=EpisodeStatus.planned, max_length=20, index=True)
    hosts: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    description: str = Field(default="", max_length=4000)
    # Audio facts, filled by ingest and mastering.
    raw_path: str | None = Field(default=None, max_length=500)
    raw_sha256: str | None = Field(default=None, max_length=64)
    audio_path: str | None = Field(default=None, max_length=500)
    audio_bytes: int | None = None
    audio_seconds: float | None = None
    master_fingerprint: str | None = Field(default=None, max_length=64)
    master_offset: float | None = None
    """Where the recording's time 0 lies in the master (intro in, dead air trimmed): a moment
    ``t`` of the recording is at ``t + master_offset`` in the master; None when unknown."""
    tags_fingerprint: str | None = Field(default=None, max_length=64)
    """Hash of the ID3 tags written into the master (episodes.master_tags), so a change of
    title, description, chapters or cover re-tags it without encoding again."""
    # Publishing: guid is fixed at first publish and never changes afterwards.
    guid: str | None = Field(default=None, max_length=200, unique=True)
    release_at: datetime | None = _time()
    published_at: datetime | None = _time()
    withdrawn_at: datetime | None = _time()
    """When the episode was withdrawn from every feed (``hotline episodes withdraw``); None
    while feeds may list it. A withdrawn episode keeps its guid for its reinstatement."""
    withdrawal_reason: str = Field(default="", max_length=500)
    """Why it was last withdrawn or reinstated, as the producer said (kept for the history)."""
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, nullable=False)


class Member(_Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, index=True)
    sector: str = Field(max_length=50, index=True)
    level: str = Field(default=Level.municipal, max_length=10)
    affiliation: str = Field(default="", max_length=200)
    district: str = Field(default="", max_length=50)
    contact: str = _private(200)
    active: bool = True
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, nullable=False)


class Booking(_Table, table=True):
    __table_args__ = (sa.UniqueConstraint("episode_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="episode.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True)
    role: str = Field(default=Role.guest, max_length=20)
    status: str = Field(default=BookingStatus.invited, max_length=20, index=True)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, nullable=False)


class Question(_Table, table=True):
    # The inbox is read newest first within a status: one index serves filter and order.
    __table_args__ = (sa.Index("ix_question_status_received", "status", "received_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = Field(
        default_factory=_now, sa_type=UTCDateTime, nullable=False, index=True
    )
    channel: str = Field(max_length=20)
    listener_name: str = Field(default="", max_length=50)
    listener_contact: str = _private(200)
    district: str = Field(default="", max_length=50)
    topic: str = Field(default="", max_length=100)
    public_title: str = Field(default="", max_length=100)
    """What listeners see for this question (chapter title, description line), written by a
    producer; the topic stands in when empty, the listener's own text never does."""
    text: str = Field(max_length=2000)
    status: str = Field(default=QuestionStatus.new, max_length=20, index=True)
    episode_id: int | None = Field(default=None, foreign_key="episode.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    answer_offset: float | None = None
    referral_department: str = Field(default="", max_length=100)
    duplicate_of: int | None = Field(default=None, foreign_key="question.id")
    reject_reason: str = Field(default="", max_length=200)
    updated_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, nullable=False)


class Department(_Table, table=True):
    """A government department questions are referred (转办) to."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True, index=True)
    contact: str = _private(200)
    note: str = Field(default="", max_length=200)
    active: bool = True
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, nullable=False)


class Referral(_Table, table=True):
    """A question passed on (转办) to a department, followed until its reply and closing."""

    # The overdue list and the morning reminder read open referrals by due time.
    __table_args__ = (sa.Index("ix_referral_status_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True, ondelete="CASCADE")
    department_id: int = Field(foreign_key="department.id", index=True)
    sent_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    """The end of the due day in the station's zone (the next local midnight): a reply
    before this instant is on time; an open referral is overdue from it on."""
    status: str = Field(default=ReferralStatus.open, max_length=20)
    reply_text: str = Field(default="", max_length=4000)
    replied_at: datetime | None = _time()
    close_reason: str = Field(default="", max_length=200)
    updated_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, nullable=False)


class Callback(_Table, table=True):
    """A call back to the listener (回访) after an answer or a department's reply."""

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True, ondelete="CASCADE")
    referral_id: int | None = Field(
        default=None, foreign_key="referral.id", index=True, ondelete="CASCADE"
    )
    outcome: str = Field(max_length=20)
    note: str = Field(default="", max_length=500, sa_column_kwargs={"info": PRIVATE})
    """What the listener said (回访记录): the programme's dealings with them, private like a
    contact; the history records it by value, and shows staff the entry without it."""
    made_by: str = Field(max_length=100)
    made_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


# The change history (hotline.history writes it, at every flush). A Core table, not a model
# class: it is only ever inserted into and read with Core statements, and a table class
# would cost every command its construction at import. No foreign keys: the record
# outlives what it describes. ``episode_id``, ``member_id``, ``question_id`` and
# ``department_id`` say whose history a change belongs to (a booking to its episode and its
# member, a referral to its question and its department). The application only appends;
# migration 0009 adds triggers that refuse UPDATE and DELETE.
history_table = sa.Table(
    "history",
    SQLModel.metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", AutoString(length=100), nullable=False),
    sa.Column("entity", AutoString(length=20), nullable=False),
    sa.Column("entity_id", sa.Integer, nullable=False),
    sa.Column("action", AutoString(length=10), nullable=False),
    sa.Column("episode_id", sa.Integer, nullable=True, index=True),
    sa.Column("member_id", sa.Integer, nullable=True, index=True),
    sa.Column("question_id", sa.Integer, nullable=True, index=True),
    sa.Column("department_id", sa.Integer, nullable=True, index=True),
    # Field name → [before, after]; private fields as "***" (set) or "" (empty).
    sa.Column("changes", sa.JSON, nullable=False),
)


class Transcript(_Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="episode.id", unique=True, ondelete="CASCADE")
    source: str = Field(default="whisper", max_length=20)  # whisper | import
    model: str = Field(default="", max_length=200)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    language: str = Field(default="zh", max_length=10)
    chunks_done: int = 0
    chunks_total: int = 0
    complete: bool = False
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, nullable=False)


class Segment(_Table, table=True):
    __table_args__ = (sa.Index("ix_segment_episode_start", "episode_id", "start"),)

    id: int | None = Field(default=None, primary_key=True)
    transcript_id: int = Field(foreign_key="transcript.id", index=True, ondelete="CASCADE")
    episode_id: int = Field(foreign_key="episode.id")
    start: float
    end: float
    text: str  # as heard
    text_norm: str  # simplified script, for search and display
    # Word timings over ``text``: compact JSON, three integers a word (transcripts.words).
    words: str | None = Field(default=None, sa_type=sa.Text)


class Job(_Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)
    episode_id: int | None = Field(default=None, foreign_key="episode.id", index=True)
    status: str = Field(default=JobStatus.queued, max_length=20, index=True)
    progress: float = 0.0
    message: str = Field(default="", max_length=500)
    attempts: int = 0
    error: str = Field(default="", max_length=4000)
    worker: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, nullable=False)
    started_at: datetime | None = _time()
    heartbeat_at: datetime | None = _time()
    finished_at: datetime | None = _time()


class ShowClock(_Table, table=True):
    """When the live desk started the show clock for an episode."""

    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="episode.id", unique=True)
    started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Call(_Table, table=True):
    """A caller in the live desk's queue."""

    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="episode.id", index=True)
    caller_name: str = Field(default="", max_length=50)
    district: str = Field(default="", max_length=50)
    summary: str = Field(default="", max_length=200)
    status: str = Field(default=CallStatus.waiting, max_length=20)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    question_id: int | None = Field(default=None, foreign_key="question.id")
    on_air_offset: float | None = None
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, nullable=False)


class StationRecord(_Table, table=True):
    """The station this database belongs to (one row; ``hotline.station`` keeps it)."""

    __tablename__ = "station"

    id: str = Field(primary_key=True, max_length=36)
    """The station id, also in each attached folder's ``hotline.toml``."""
    settings: str = ""
    """The station's shared settings as TOML: what ``hotline init --attach`` gives a folder."""
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, nullable=False)
    moved_to: str = Field(default="", max_length=500)
    """Set on an embedded database whose station ``hotline db copy`` moved to a server."""


# --- Search index (transcripts/index.py keeps these in step with Segment) -------------------
# An inverted index in plain tables, portable between SQLite and PostgreSQL (BLOB / bytea):
# every single character and every overlapping character bigram of a segment's normalised
# text is a token, and one row holds one token's positions in one episode.


class SearchEpisode(_Table, table=True):
    """An indexed episode: the number its postings were keyed by, its size and its segments."""

    __tablename__ = "search_episode"

    # No foreign key on purpose: if an episode vanishes without the index being told, this row
    # still says which postings to drop (transcripts.index.rebuild_index repairs).
    episode_id: int = Field(
        primary_key=True, sa_type=sa.Integer, sa_column_kwargs={"autoincrement": False}
    )
    number: int = Field(unique=True, index=True)  # hits and lengths are looked up by number
    segments: int = 0
    chars: int = Field(default=0, sa_type=sa.BigInteger)
    # Blobs last: SQLite reads a row's overflow pages only for the columns asked for.
    segment_ids: bytes = Field(default=b"", sa_type=sa.LargeBinary)
    """Segment ids by ordinal (time order), little-endian int64."""
    lengths: bytes = Field(default=b"", sa_type=sa.LargeBinary)
    """Normalised length of each segment by ordinal, little-endian uint16."""


class SearchToken(_Table, table=True):
    """Per-token statistics: segments containing the token and episodes containing it."""

    __tablename__ = "search_token"

    token: str = Field(primary_key=True, max_length=2)
    segments: int = 0
    episodes: int = 0


class SearchPosting(_Table, table=True):
    """One token's occurrences in one episode, read newest episode first.

    ``episode_key`` = 2**31 − episode number; ``keys`` is a sorted little-endian uint32 array
    of ordinal · 2**12 + character position, one per occurrence (transcripts.index).
    """

    __tablename__ = "search_posting"
    # SQLite keeps the rows in the primary-key b-tree itself, so a token's rows are
    # neighbours; other databases ignore the option.
    __table_args__ = {"sqlite_with_rowid": False}

    token: str = Field(primary_key=True, max_length=2)
    episode_key: int = Field(
        primary_key=True, sa_type=sa.Integer, sa_column_kwargs={"autoincrement": False}
    )
    segments: int = 0
    """Segments of the episode containing the token (totals without reading ``keys``)."""
    keys: bytes = Field(default=b"", sa_type=sa.LargeBinary)


class SearchBitmap(_Table, table=True):
    """Which segments of one episode contain a token, for a token in many of them.

    ``bits``: bit ``o % 8`` of byte ``o // 8`` is set when the segment of ordinal ``o``
    contains the token (transcripts.bitmaps). Written where it is no larger than a list of
    those segments would be; multi-term queries intersect these instead of positions.
    """

    __tablename__ = "search_bitmap"
    __table_args__ = {"sqlite_with_rowid": False}

    token: str = Field(primary_key=True, max_length=2)
    episode_key: int = Field(
        primary_key=True, sa_type=sa.Integer, sa_column_kwargs={"autoincrement": False}
    )
    bits: bytes = Field(default=b"", sa_type=sa.LargeBinary)


def private_columns(table: sa.Table) -> list[sa.Column]:
    """The columns of ``table`` marked private (``PRIVATE``; see ``hotline.privacy``)."""
    return [column for column in table.columns if column.info.get("private")]


# Every ORM session of a process that loads the schema records changes of the tracked
# models (hotline.history); importing it here means no session can miss it.
from hotline import history as _history  # noqa: E402, F401

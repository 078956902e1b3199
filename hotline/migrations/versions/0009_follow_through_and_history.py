"""follow-through and history: departments, referrals (转办), call-backs (回访), the change history

Revision ID: 0009
Revises: 0007

Each question already referred keeps its department name in ``question.referral_department``;
the upgrade makes those names departments and gives every referred or resolved question
that names one a referral row (sent at the question's last change, due five weekdays later
in China Standard Time: the old rows never had a due date), open for a referred
question and closed for a resolved one, so the overdue list starts from the real backlog.

The history table is append-only: triggers refuse UPDATE and DELETE on it.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hotline.models

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

_APPEND_ONLY_SQLITE = (
    "CREATE TRIGGER history_append_only_{verb} BEFORE {verb} ON history "
    "BEGIN SELECT RAISE(ABORT, 'history is append-only'); END"
)
_APPEND_ONLY_FUNCTION = """
CREATE FUNCTION history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'history is append-only';
END $$
"""
_APPEND_ONLY_POSTGRES = (
    "CREATE TRIGGER history_append_only_{verb} BEFORE {verb} ON history "
    "FOR EACH ROW EXECUTE FUNCTION history_append_only()"
)
# A frozen copy of the rule at the time of this migration: five weekdays after sending,
# in the zone of the mainland (a migration cannot read the station's settings).
_LEGACY_WORKING_DAYS = 5
_LEGACY_ZONE = ZoneInfo("Asia/Shanghai")


def _create_tables() -> None:
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", hotline.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hotline.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_department_name"), ["name"], unique=True)

    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", hotline.models.UTCDateTime(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_history_department_id"), ["department_id"])
        batch_op.create_index(batch_op.f("ix_history_episode_id"), ["episode_id"])
        batch_op.create_index(batch_op.f("ix_history_member_id"), ["member_id"])
        batch_op.create_index(batch_op.f("ix_history_question_id"), ["question_id"])

    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", hotline.models.UTCDateTime(), nullable=False),
        sa.Column("due_at", hotline.models.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reply_text", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("replied_at", hotline.models.UTCDateTime(), nullable=True),
        sa.Column("close_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("updated_at", hotline.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_department_id"), ["department_id"])
        batch_op.create_index(batch_op.f("ix_referral_question_id"), ["question_id"])
        batch_op.create_index(batch_op.f("ix_referral_sent_at"), ["sent_at"])
        batch_op.create_index("ix_referral_status_due", ["status", "due_at"])

    op.create_table(
        "callback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("made_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("made_at", hotline.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callback_question_id"), ["question_id"])
        batch_op.create_index(batch_op.f("ix_callback_referral_id"), ["referral_id"])


def _append_only() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_APPEND_ONLY_FUNCTION)
        for verb in ("UPDATE", "DELETE"):
            op.execute(_APPEND_ONLY_POSTGRES.format(verb=verb))
    elif dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(_APPEND_ONLY_SQLITE.format(verb=verb))


def _weekdays_after(moment: datetime, days: int) -> datetime:
    """The midnight (as UTC) ending the ``days``-th weekday after ``moment``'s local date."""
    day = moment.astimezone(_LEGACY_ZONE).date()
    while days:
        day += timedelta(days=1)
        days -= day.weekday() < 5
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=_LEGACY_ZONE)
    return end.astimezone(UTC)


def _backfill() -> None:
    """Departments and referral rows for the questions referred before this revision."""
    conn = op.get_bind()
    question = sa.table(
        "question",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("referral_department", sa.String),
        sa.column("updated_at", hotline.models.UTCDateTime()),
    )
    department = sa.table(
        "department",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("contact", sa.String),
        sa.column("note", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("created_at", hotline.models.UTCDateTime()),
        sa.column("updated_at", hotline.models.UTCDateTime()),
    )
    referral = sa.table(
        "referral",
        sa.column("question_id", sa.Integer),
        sa.column("department_id", sa.Integer),
        sa.column("sent_at", hotline.models.UTCDateTime()),
        sa.column("due_at", hotline.models.UTCDateTime()),
        sa.column("status", sa.String),
        sa.column("reply_text", sa.String),
        sa.column("close_reason", sa.String),
        sa.column("updated_at", hotline.models.UTCDateTime()),
    )
    rows = conn.execute(
        sa.select(
            question.c.id, question.c.status, question.c.referral_department, question.c.updated_at
        )
        .where(question.c.referral_department != "")
        .where(question.c.status.in_(["referred", "resolved"]))
        .order_by(question.c.id)
    ).all()
    if not rows:
        return
    now = datetime.now(UTC)
    names = sorted({name for _, _, name, _ in rows})
    conn.execute(
        sa.insert(department),
        [
            {
                "name": n,
                "contact": "",
                "note": "",
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for n in names
        ],
    )
    ids = dict(conn.execute(sa.select(department.c.name, department.c.id)).all())
    conn.execute(
        sa.insert(referral),
        [
            {
                "question_id": qid,
                "department_id": ids[name],
                "sent_at": changed,
                "due_at": _weekdays_after(changed, _LEGACY_WORKING_DAYS),
                "status": "open" if status == "referred" else "closed",
                "reply_text": "",
                "close_reason": "" if status == "referred" else "办结于转办跟踪之前",
                "updated_at": changed,
            }
            for qid, status, name, changed in rows
        ],
    )


def upgrade() -> None:
    _create_tables()
    _append_only()
    _backfill()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"DROP TRIGGER IF EXISTS history_append_only_{verb} ON history"
            if dialect == "postgresql"
            else f"DROP TRIGGER IF EXISTS history_append_only_{verb}"
        )
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS history_append_only()")
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_referral_id"))
        batch_op.drop_index(batch_op.f("ix_callback_question_id"))
    op.drop_table("callback")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_status_due")
        batch_op.drop_index(batch_op.f("ix_referral_sent_at"))
        batch_op.drop_index(batch_op.f("ix_referral_question_id"))
        batch_op.drop_index(batch_op.f("ix_referral_department_id"))
    op.drop_table("referral")
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_history_question_id"))
        batch_op.drop_index(batch_op.f("ix_history_member_id"))
        batch_op.drop_index(batch_op.f("ix_history_episode_id"))
        batch_op.drop_index(batch_op.f("ix_history_department_id"))
    op.drop_table("history")
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_name"))
    op.drop_table("department")

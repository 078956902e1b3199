"""segments: word timings, one compact JSON array per segment

Revision ID: 0007
Revises: 0003

Three integers a word (characters covered, gap and duration in centiseconds; see
transcripts.words), NULL for segments stored before word timings or imported without them.
A column on the segment rather than a table with a row per word: measured in SQLite at
about 8 bytes a word, against 43 for a row per word and 68 for whisper's word objects as
JSON (benchmarks/bench_transcribe.py --part words).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segment") as batch:
        batch.add_column(sa.Column("words", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("segment") as batch:
        batch.drop_column("words")

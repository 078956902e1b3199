"""station identity: the one row saying which station a database belongs to

Revision ID: 0010
Revises: 0006

The row itself is written by ``hotline.station`` (``hotline init``, or ``hotline db
upgrade`` for a station from before ids), which knows the folder's id and settings.
"""

import sqlalchemy as sa
from alembic import op

import hotline.models

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "station",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("settings", sa.String(), nullable=False),
        sa.Column("created_at", hotline.models.UTCDateTime(), nullable=False),
        sa.Column("moved_to", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("station")

"""an episode withdrawn from every feed: when, and why

Revision ID: 0012
Revises: 0011

``episode.withdrawn_at`` marks an episode ``hotline episodes withdraw`` took out of every
feed (NULL while feeds may list it); ``episode.withdrawal_reason`` is the reason given
for the last withdrawal or reinstatement. Existing episodes are not withdrawn.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hotline.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", hotline.models.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "withdrawal_reason",
                sqlmodel.sql.sqltypes.AutoString(length=500),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.drop_column("withdrawal_reason")
        batch_op.drop_column("withdrawn_at")

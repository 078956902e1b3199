"""public titles of questions; the master's time offset and tag fingerprint

Revision ID: 0006
Revises: 0009

``question.public_title`` is what listeners see for a question (never its raw text).
``episode.master_offset`` and ``episode.tags_fingerprint`` let one function place chapters
on the master's timeline and let a metadata change re-tag a master without re-encoding.
Masters made before this revision have neither (NULL): the next master job redoes them.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "public_title",
                sqlmodel.sql.sqltypes.AutoString(length=100),
                nullable=False,
                server_default="",
            )
        )
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.add_column(sa.Column("master_offset", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "tags_fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.drop_column("tags_fingerprint")
        batch_op.drop_column("master_offset")
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_column("public_title")

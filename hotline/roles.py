"""Who may see what on a station server: PostgreSQL roles for producers, staff and workers.

``grant(engine, role, kind)`` creates the login role (or updates it) and sets its
privileges from scratch, so running it again with another kind moves the role over:

- **producer**: reads and writes every table.
- **staff**: reads every table but never a private column (``hotline.models.PRIVATE``:
  members', listeners' and departments' contacts, call-backs' notes): the server refuses
  those columns to them, whatever program they run. The history they read through a view
  that leaves call-back notes out of its recorded changes (``hotline.history``).
- **worker**: reads every table but the private columns; writes jobs, transcripts,
  segments and the search index, and only the audio and publication facts of episodes.

Every table of the schema must appear in ``POLICY`` (a test checks), so a new table gets
a decision rather than a silent default; tables the schema does not know (the job
engine's on PostgreSQL) are for producers and workers only. Producers also get every
table a later ``hotline db upgrade`` adds (default privileges); staff and workers get
new tables and columns when ``grant`` runs again, which ``hotline db upgrade`` does for
every role granted on the database (``grant_again``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hotline.errors import InvalidInput
from hotline.history import SHARED_VIEW, shared_view_sql
from hotline.models import SQLModel, private_columns


class Kind(StrEnum):
    producer = "producer"
    staff = "staff"
    worker = "worker"


ALL = "*"
"""A worker may write every column of the table (insert, update, delete)."""


@dataclass(frozen=True)
class TablePolicy:
    """Whether staff read a table, and which of its columns workers may update.

    ``worker_writes``: empty for read-only, ``ALL`` for the whole table, else the columns
    (update only).
    """

    staff_reads: bool
    worker_writes: str | tuple[str, ...] = ()


EPISODE_FACTS = (
    "status",
    "audio_path",
    "audio_bytes",
    "audio_seconds",
    "master_fingerprint",
    "master_offset",
    "tags_fingerprint",
    "guid",
    "published_at",
    "updated_at",
)
"""What the pipeline's stages record on an episode: its master, status, publication."""

POLICY: dict[str, TablePolicy] = {
    "station": TablePolicy(staff_reads=True),
    "episode": TablePolicy(staff_reads=True, worker_writes=EPISODE_FACTS),
    "member": TablePolicy(staff_reads=True),
    "booking": TablePolicy(staff_reads=True),
    "question": TablePolicy(staff_reads=True),
    "transcript": TablePolicy(staff_reads=True, worker_writes=ALL),
    "segment": TablePolicy(staff_reads=True, worker_writes=ALL),
    "search_episode": TablePolicy(staff_reads=True, worker_writes=ALL),
    "search_token": TablePolicy(staff_reads=True, worker_writes=ALL),
    "search_posting": TablePolicy(staff_reads=True, worker_writes=ALL),
    "search_bitmap": TablePolicy(staff_reads=True, worker_writes=ALL),
    # The 制作 tab and `jobs list`: staff see what the pipeline does, and change nothing.
    "job": TablePolicy(staff_reads=True, worker_writes=ALL),
    # The 直播台: a call holds a name, a district and a summary, never a phone number.
    "showclock": TablePolicy(staff_reads=True),
    "call": TablePolicy(staff_reads=True),
    # Follow-through: staff see where a referral stands and how call-backs went; a
    # call-back's note (what the listener said) is private (hotline.models.PRIVATE).
    "department": TablePolicy(staff_reads=True),
    "referral": TablePolicy(staff_reads=True),
    "callback": TablePolicy(staff_reads=True),
    # Every process that changes a tracked row writes its history (workers move episodes
    # and jobs along); the table refuses updates and deletes itself (hotline.history).
    # Its ``changes`` hold call-back notes by value: staff read the history through the
    # view ``hotline.history.SHARED_VIEW``, which leaves them out, never the table.
    "history": TablePolicy(staff_reads=False, worker_writes=ALL),
}
"""Every table of the schema; ``alembic_version`` is read by all (the schema check)."""


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def unlisted_tables() -> list[str]:
    """Tables of the schema with no policy (a test keeps this empty)."""
    return sorted(t.name for t in SQLModel.metadata.sorted_tables if t.name not in POLICY)


def _readable(connection: Connection, table: sa.Table) -> str:
    hidden = {c.name for c in private_columns(table)}
    names = [_quote(connection, c.name) for c in table.columns if c.name not in hidden]
    return f"SELECT ({', '.join(names)})" if hidden else "SELECT"


def statements(connection: Connection, role: str, kind: Kind) -> list[str]:
    """The SQL that gives ``role`` exactly ``kind``'s privileges on this database."""
    who = _quote(connection, role)
    database = _quote(connection, connection.exec_driver_sql("SELECT current_database()").scalar())
    present = set(sa.inspect(connection).get_table_names())
    ours = {t.name: t for t in SQLModel.metadata.sorted_tables if t.name in present}
    others = sorted(present - set(ours) - {"alembic_version"})
    sql = [
        # From scratch: a role moved from producer to staff must lose what it had.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {who}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {who}",
        f"GRANT CONNECT ON DATABASE {database} TO {who}",
        f"GRANT USAGE ON SCHEMA public TO {who}",
        f"GRANT SELECT ON alembic_version TO {who}",
    ]
    if kind is Kind.producer:
        sql += [
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {who}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {who}",
            # Tables a later upgrade adds (made by whoever runs this: the station's owner).
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE "
            f"ON TABLES TO {who}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE "
            f"ON SEQUENCES TO {who}",
        ]
        return sql
    for name, table in ours.items():
        policy = POLICY.get(name, TablePolicy(staff_reads=False))
        quoted = _quote(connection, name)
        if kind is Kind.staff:
            if policy.staff_reads:
                sql.append(f"GRANT {_readable(connection, table)} ON {quoted} TO {who}")
            continue
        sql.append(f"GRANT {_readable(connection, table)} ON {quoted} TO {who}")
        if policy.worker_writes == ALL:
            sql.append(f"GRANT INSERT, UPDATE, DELETE ON {quoted} TO {who}")
        elif policy.worker_writes:
            columns = ", ".join(_quote(connection, c) for c in policy.worker_writes)
            sql.append(f"GRANT UPDATE ({columns}) ON {quoted} TO {who}")
    if kind is Kind.staff and "history" in ours:
        view = _quote(connection, SHARED_VIEW)
        # Made (or remade, after an upgrade) by whoever grants: the station's owner, whose
        # rights the view reads the table with.
        sql += [shared_view_sql(), f"GRANT SELECT ON {view} TO {who}"]
    if kind is Kind.worker:
        for name in others:  # the job engine's tables
            sql.append(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON {_quote(connection, name)} TO {who}"
            )
        sql.append(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {who}")
    return sql


ROLE_NAME = re.compile(r"[^\W\d_]\w*")
"""A plain identifier: a letter first, then letters, digits and ``_`` (Chinese included)."""


def check_role_name(role: str) -> None:
    """Refuse a role name that is not a plain identifier of at most 63 bytes."""
    if not ROLE_NAME.fullmatch(role) or len(role.encode()) > 63 or role.startswith("pg_"):
        raise InvalidInput(
            f"role name {role!r}: letters, digits and _ only, starting with a letter, "
            "at most 63 bytes, not starting with pg_"
        )


def grant(engine: Engine, role: str, kind: Kind, *, password: str | None = None) -> bool:
    """Create or update the login ``role`` with ``kind``'s privileges; True if created."""
    if engine.dialect.name != "postgresql":
        raise InvalidInput(
            "roles are PostgreSQL's: this station's database is its own SQLite file, which "
            "whoever can read the folder can read whole"
        )
    check_role_name(role)
    with engine.begin() as connection:
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}
        ).first()
        who = _quote(connection, role)
        verb = "ALTER" if exists else "CREATE"
        if password is None:
            connection.exec_driver_sql(f"{verb} ROLE {who} LOGIN")
        else:
            # Not a bind parameter (DDL takes none): quoted as a literal by the driver.
            literal = sa.literal(password).compile(
                dialect=connection.dialect, compile_kwargs={"literal_binds": True}
            )
            connection.exec_driver_sql(f"{verb} ROLE {who} LOGIN PASSWORD {literal}")
        for statement in statements(connection, role, kind):
            connection.exec_driver_sql(statement)
    return not exists


# Every role ``grant`` gave rights reads alembic_version by a grant of its own (the
# table's owner and superusers read it without one). Its kind is what it may do: only
# producers hold default privileges (for tables to come), only producers and workers
# write anything. Signs that a migration remaking a table or two cannot erase.
_GRANTED = """
SELECT r.rolname,
       EXISTS (SELECT 1 FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) x
               WHERE x.grantee = r.oid) AS producer,
       EXISTS (SELECT 1 FROM pg_class t
               JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
               CROSS JOIN LATERAL aclexplode(t.relacl) x
               WHERE x.grantee = r.oid AND x.privilege_type IN ('INSERT', 'UPDATE', 'DELETE'))
           AS writer
FROM pg_class c
CROSS JOIN LATERAL aclexplode(c.relacl) a
JOIN pg_roles r ON r.oid = a.grantee
WHERE c.oid = 'alembic_version'::regclass AND a.privilege_type = 'SELECT'
  AND a.grantee <> c.relowner AND NOT r.rolsuper
ORDER BY r.rolname
"""


def granted_roles(connection: Connection) -> dict[str, Kind]:
    """The roles granted rights on this database, each with the kind its rights say."""
    kinds: dict[str, Kind] = {}
    for role, producer, writer in connection.exec_driver_sql(_GRANTED):
        kinds[role] = Kind.producer if producer else Kind.worker if writer else Kind.staff
    return kinds


def grant_again(connection: Connection) -> dict[str, Kind]:
    """Give every granted role its kind's rights again, on the tables and columns there are
    now (after an upgrade: what it added, and the staff's history view remade)."""
    kinds = granted_roles(connection)
    for role, kind in kinds.items():
        for statement in statements(connection, role, kind):
            connection.exec_driver_sql(statement)
    return kinds

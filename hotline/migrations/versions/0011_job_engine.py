"""job engine: procrastinate's schema, on PostgreSQL stations only

Revision ID: 0011
Revises: 0010

On PostgreSQL the pipeline's jobs are run by procrastinate (``hotline.engine_pg``); its
tables, functions and triggers (``procrastinate_*``) live beside ours. The schema is
procrastinate 3.10's own ``schema.sql``, copied next to this file so the migration keeps
its meaning whatever procrastinate is installed later (a test checks the copy against the
installed package; moving to another procrastinate version is a new migration that
applies procrastinate's own migration scripts). An embedded SQLite station runs jobs
with hotline's own runner: nothing changes there.
"""

from pathlib import Path

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SCHEMA = Path(__file__).with_name("0011_procrastinate_3_10.sql")


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _run_script(script: str) -> None:
    """Run a multi-statement script on the migration's connection (in its transaction).

    Through psycopg itself, without parameters: SQLAlchemy would hand the driver an empty
    parameter list, and psycopg would then read the % in PL/pgSQL bodies as placeholders.
    """
    op.get_bind().connection.driver_connection.execute(script)


def upgrade() -> None:
    if not _on_postgresql():
        return
    _run_script(SCHEMA.read_text(encoding="utf-8"))


def downgrade() -> None:
    if not _on_postgresql():
        return
    _run_script(
        """
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers,
            procrastinate_jobs, procrastinate_workers CASCADE;
        DO $$
        DECLARE f record;
        BEGIN
            FOR f IN SELECT oid::regprocedure AS signature FROM pg_proc
                     WHERE proname LIKE 'procrastinate\\_%' LOOP
                EXECUTE 'DROP FUNCTION IF EXISTS ' || f.signature || ' CASCADE';
            END LOOP;
        END $$;
        DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
            procrastinate_job_status CASCADE;
        """
    )

"""The job engine's footing: procrastinate's schema from ``hotline db upgrade`` on PostgreSQL
only, and the tickets behind queued rows (one waiting per row, an episode's in stage order,
withdrawn on cancel, taken over from a dead worker, given to rows that lack one)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from importlib import metadata, resources
from pathlib import Path

import pytest
import sqlalchemy as sa

from hotline import db, jobs
from hotline.engine_pg import tickets, upkeep
from hotline.models import Episode, Job, JobKind
from hotline.pipeline.registry import queue_pipeline
from hotline.station import Station

SCHEMA_COPY = Path(db.MIGRATIONS_DIR) / "versions" / "0011_procrastinate_3_10.sql"


def test_the_migration_s_schema_is_the_installed_procrastinate_s_own() -> None:
    """Moving procrastinate to another version needs a migration: this says when."""
    version = metadata.version("procrastinate")
    assert version.startswith("3.10."), f"procrastinate {version}: add a migration for it"
    installed = resources.files("procrastinate.sql").joinpath("schema.sql").read_text("utf-8")
    assert SCHEMA_COPY.read_text(encoding="utf-8") == installed


def engine_tables(station: Station) -> list[str]:
    names = sa.inspect(station.engine).get_table_names()
    return sorted(name for name in names if name.startswith("procrastinate"))


@pytest.mark.both_databases
def test_db_upgrade_installs_the_engine_on_postgresql_only(station: Station) -> None:
    assert db.current_revision(station.engine) == db.SCHEMA_HEAD
    expected = ["procrastinate_events", "procrastinate_jobs", "procrastinate_periodic_defers"]
    expected.append("procrastinate_workers")
    assert engine_tables(station) == (expected if station.url.startswith("postgresql") else [])


def add_episode(station: Station, number: int) -> int:
    with station.session() as session:
        episode = Episode(
            number=number, title="养老服务进社区", air_start=datetime(2022, 8, 6, 3, tzinfo=UTC)
        )
        session.add(episode)
        session.flush()
        queue_pipeline(session=session, episode=episode)
        assert episode.id is not None
        return episode.id


def waiting(station: Station) -> list[tuple[str, int, int]]:
    """(queue, row, priority) of the waiting tickets, in the order the engine takes them."""
    with station.session(write=False) as session:
        rows = session.connection().exec_driver_sql(
            "SELECT queue_name, args, priority FROM procrastinate_jobs "
            "WHERE status = 'todo' ORDER BY priority DESC, id"
        )
        return [(queue, args["job_id"], priority) for queue, args, priority in rows]


def test_queued_rows_get_one_ticket_each_in_stage_order(pg_station: Station) -> None:
    station = pg_station
    add_episode(station, 999)
    assert waiting(station) == [("master", 1, 0), ("transcribe", 2, 0), ("publish", 3, 0)]
    with station.session() as session:
        assert jobs.try_claim(session=session, job_id=1, worker="录音间:1")
        assert jobs.finish(session=session, job_id=1, worker="录音间:1")
        # Ingested again: a new master, and the stages still waiting reused...
        for kind in jobs.STAGE_ORDER:
            jobs.enqueue(session=session, kind=kind, episode_id=1)
    # ... the new master's ticket goes ahead of theirs (the first master's ticket was
    # never run here, so it stays waiting: its row is done, it will end doing nothing).
    assert [row for _, row, _ in waiting(station)] == [1, 4, 2, 3]
    with station.session() as session:
        jobs.cancel(session=session, job_id=4)
    assert [row for _, row, _ in waiting(station)] == [1]
    with station.session() as session:
        jobs.retry(session=session, job_id=4)
    assert [row for _, row, _ in waiting(station)] == [1, 4, 2, 3]


def test_one_episode_s_tickets_can_be_put_first(pg_station: Station) -> None:
    station = pg_station
    add_episode(station, 998)
    add_episode(station, 999)
    with station.session() as session:
        assert tickets.prioritise(session, 2) == 3
    assert waiting(station) == [
        ("master", 4, 1),
        ("transcribe", 5, 1),
        ("publish", 6, 1),
        ("master", 1, 0),
        ("transcribe", 2, 0),
        ("publish", 3, 0),
    ]


def test_upkeep_gives_tickets_to_runnable_rows_that_lack_one(pg_station: Station) -> None:
    station = pg_station
    add_episode(station, 999)
    with station.session() as session:  # as a copy from an embedded station leaves them
        session.connection().exec_driver_sql("DELETE FROM procrastinate_jobs")
    done = upkeep.upkeep(station)
    assert done.ticketed == [1]  # the later stages wait for the master's end
    assert waiting(station) == [("master", 1, 0)]


@pytest.fixture
def long_running_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server has answered for longer than any silence these tests set up (the test
    server may have started a minute ago: a silence is judged from its start)."""
    monkeypatch.setattr(upkeep, "_server_up_for", lambda session: math.inf)


def silent_for(station: Station, job_id: int, worker: str, silence: timedelta) -> None:
    """Row ``job_id`` running on ``worker``, whose last heartbeat was ``silence`` ago."""
    with station.session() as session:
        assert jobs.try_claim(session=session, job_id=job_id, worker=worker)
        job = session.get(Job, job_id)
        assert job is not None
        job.heartbeat_at = datetime.now(UTC) - silence
        session.add(job)


def test_upkeep_takes_back_a_dead_worker_s_row(
    pg_station: Station, long_running_server: None
) -> None:
    station = pg_station
    add_episode(station, 999)
    silent_for(station, 1, "另一台机器:4242:1", jobs.STALE_AFTER + timedelta(seconds=1))
    done = upkeep.upkeep(station)
    assert done.recovered == [1]
    with station.session() as session:
        job = jobs.get_job(session, 1)
        assert (job.status, job.message) == (
            "queued",
            "requeued: worker 另一台机器:4242:1 stopped during attempt 1",
        )
    assert JobKind.master in [queue for queue, _, _ in waiting(station)]


def test_a_worker_back_from_an_outage_takes_nobody_for_dead_by_their_silence_during_it(
    pg_station: Station, long_running_server: None
) -> None:
    # The database was away for minutes: every worker's heartbeats stopped, the living
    # ones' too. The first worker to get through must not take their jobs: it judges a
    # silence only over the time the database has answered it.
    from hotline.engine_pg.runner import _Upkeep

    station = pg_station
    add_episode(station, 999)
    silent_for(station, 1, "另一台机器:4242:1", jobs.STALE_AFTER + timedelta(minutes=1))
    said: list[str] = []
    keeper = _Upkeep(station, said.append, lambda: [])
    keeper._gone(ConnectionError("服务器重启中"))  # noqa: SLF001 (what a lost round does)
    assert keeper.round(ride_out=True) == []  # back now: the other worker may beat yet
    assert said[-1] == "the database answers again; taking jobs"
    assert keeper.round(ride_out=True) == []  # seconds later: still within its grace
    with station.session(write=False) as session:
        assert jobs.get_job(session, 1).status == "running"
    # Silent all the time the database has answered since: dead after all.
    keeper.back_at -= jobs.STALE_AFTER.total_seconds() + 1
    assert keeper.round(ride_out=True) == [1]
    assert said[-1] == "job 1: its worker died; queued again"


def test_upkeep_right_after_the_server_started_takes_nobody_for_dead_by_heartbeat(
    pg_station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `hotline process` started just after the server came back knows of no outage; the
    # server's own start says since when a worker could beat.
    station = pg_station
    add_episode(station, 999)
    silent_for(station, 1, "另一台机器:4242:1", jobs.STALE_AFTER + timedelta(minutes=1))
    monkeypatch.setattr(upkeep, "_server_up_for", lambda session: 5.0)
    assert upkeep.upkeep(station).recovered == []
    monkeypatch.setattr(upkeep, "_server_up_for", lambda session: 600.0)
    assert upkeep.upkeep(station).recovered == [1]

"""The job queue: atomic claims, stage order, heartbeats, failure, retry, cancel, recovery."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from hotline import jobs
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.models import Episode, Job, JobKind, JobStatus
from hotline.station import Station

ROOT = Path(__file__).resolve().parents[2]


def make_episode(station: Station, number: int = 999, title: str = "医保改革面对面") -> int:
    with station.session() as session:
        episode = Episode(
            number=number, title=title, air_start=datetime(2022, 8, 13, 3, 0, tzinfo=UTC)
        )
        session.add(episode)
        session.flush()
        assert episode.id is not None
        return episode.id


def enqueue(station: Station, kind: JobKind, episode_id: int | None) -> int:
    with station.session() as session:
        job = jobs.enqueue(session=session, kind=kind, episode_id=episode_id)
        assert job.id is not None
        return job.id


def job(station: Station, job_id: int) -> Job:
    with station.session() as session:
        return jobs.get_job(session, job_id)


def claim(station: Station, worker: str = "w", **filters: object) -> Job | None:
    return jobs.claim_next(station.session, worker=worker, **filters)  # type: ignore[arg-type]


def test_enqueue_reuses_a_waiting_job_and_requeues_a_failed_one(station: Station) -> None:
    episode = make_episode(station)
    first = enqueue(station, JobKind.master, episode)
    assert enqueue(station, JobKind.master, episode) == first
    claimed = claim(station, "w1")
    assert claimed is not None and claimed.id == first
    with station.session() as session:
        jobs.fail(session=session, job_id=first, worker="w1", error="解码失败")
    assert enqueue(station, JobKind.master, episode) == first
    assert job(station, first).status == JobStatus.queued
    assert job(station, first).error == ""


def test_a_running_or_done_job_gets_a_new_job_queued_beside_it(station: Station) -> None:
    episode = make_episode(station)
    first = enqueue(station, JobKind.master, episode)
    claim(station, "w1")
    second = enqueue(station, JobKind.master, episode)
    assert second != first
    # The second master waits while the first is running: one file, one writer.
    assert claim(station, "w2") is None
    with station.session() as session:
        jobs.finish(session=session, job_id=first, worker="w1")
    claimed = claim(station, "w2")
    assert claimed is not None and claimed.id == second


def test_claim_is_atomic_only_one_worker_wins(station: Station) -> None:
    job_id = enqueue(station, JobKind.master, make_episode(station))
    with station.session() as session:
        assert jobs.try_claim(session=session, job_id=job_id, worker="甲")
    with station.session() as session:
        assert not jobs.try_claim(session=session, job_id=job_id, worker="乙")
    claimed = job(station, job_id)
    assert (claimed.status, claimed.worker, claimed.attempts) == (JobStatus.running, "甲", 1)
    assert claimed.started_at is not None and claimed.heartbeat_at is not None


def test_stages_of_one_episode_run_in_order(station: Station) -> None:
    episode = make_episode(station)
    transcribe = enqueue(station, JobKind.transcribe, episode)  # queued first on purpose
    master = enqueue(station, JobKind.master, episode)
    claimed = claim(station, "w1")
    assert claimed is not None and claimed.id == master
    assert claim(station, "w2") is None  # transcribe waits for master
    with station.session() as session:
        jobs.finish(session=session, job_id=master, worker="w1", message="mastered")
    claimed = claim(station, "w2")
    assert claimed is not None and claimed.id == transcribe


def test_a_failed_earlier_stage_blocks_the_later_one_until_retried(station: Station) -> None:
    episode = make_episode(station)
    master = enqueue(station, JobKind.master, episode)
    transcribe = enqueue(station, JobKind.transcribe, episode)
    claim(station, "w1")
    with station.session() as session:
        jobs.fail(session=session, job_id=master, worker="w1", error="jingle missing")
    assert claim(station, "w1") is None
    with station.session() as session:
        detail = jobs.job_detail(session=session, job_id=transcribe)
    assert detail.waiting_for is not None and detail.waiting_for.id == master
    with station.session() as session:
        jobs.retry(session=session, job_id=master)
    claimed = claim(station, "w1")
    assert claimed is not None and claimed.id == master


def test_jobs_of_other_episodes_do_not_wait(station: Station) -> None:
    first, second = make_episode(station, 998), make_episode(station, 999)
    enqueue(station, JobKind.master, first)
    enqueue(station, JobKind.transcribe, first)
    other = enqueue(station, JobKind.transcribe, second)
    claim(station, "w1")
    claimed = claim(station, "w2")
    assert claimed is not None and claimed.id == other


def test_claim_filters_by_kind_and_episode(station: Station) -> None:
    first, second = make_episode(station, 998), make_episode(station, 999)
    enqueue(station, JobKind.master, first)
    wanted = enqueue(station, JobKind.master, second)
    assert claim(station, kinds=["transcribe"]) is None
    claimed = claim(station, episode_id=second)
    assert claimed is not None and claimed.id == wanted


def test_failure_keeps_one_line_for_users_and_the_full_traceback(station: Station) -> None:
    job_id = enqueue(station, JobKind.master, make_episode(station))
    claim(station, "w1")
    try:
        raise InvalidInput("jingle audio/intro.wav (audio.intro) does not exist")
    except InvalidInput as exc:
        error = exc
    with station.session() as session:
        assert jobs.fail(session=session, job_id=job_id, worker="w1", error=error)
    failed = job(station, job_id)
    assert failed.status == JobStatus.failed
    assert failed.message == "jingle audio/intro.wav (audio.intro) does not exist"
    assert failed.error.startswith(failed.message + "\n\nTraceback")
    assert "InvalidInput" in failed.error
    assert failed.finished_at is not None


def test_a_huge_traceback_is_cut_to_the_column_keeping_its_end(station: Station) -> None:
    job_id = enqueue(station, JobKind.master, make_episode(station))
    claim(station, "w1")
    try:
        raise RuntimeError("失败" + "x" * 9000)
    except RuntimeError as exc:
        with station.session() as session:
            jobs.fail(session=session, job_id=job_id, worker="w1", error=exc)
    failed = job(station, job_id)
    assert len(failed.error) <= jobs.ERROR_LIMIT
    assert len(failed.message) <= jobs.MESSAGE_LIMIT
    assert failed.error.rstrip().endswith("x")


def test_retry_requeues_failed_and_cancelled_only(station: Station) -> None:
    episode = make_episode(station)
    job_id = enqueue(station, JobKind.master, episode)
    with station.session() as session, pytest.raises(Conflict, match="queued"):
        jobs.retry(session=session, job_id=job_id)
    with station.session() as session:
        jobs.cancel(session=session, job_id=job_id)
    with station.session() as session:
        assert jobs.retry(session=session, job_id=job_id).job.status == JobStatus.queued
    claim(station, "w1")
    with station.session() as session:
        jobs.finish(session=session, job_id=job_id, worker="w1")
    with station.session() as session, pytest.raises(Conflict, match="done"):
        jobs.retry(session=session, job_id=job_id)
    with station.session() as session, pytest.raises(Conflict, match="done"):
        jobs.cancel(session=session, job_id=job_id)
    with station.session() as session, pytest.raises(NotFound, match="job 404"):
        jobs.retry(session=session, job_id=404)


def test_a_cancelled_running_job_tells_its_worker_at_the_next_beat(station: Station) -> None:
    job_id = enqueue(station, JobKind.master, make_episode(station))
    claim(station, "w1")
    with station.session() as session:
        assert jobs.heartbeat(
            session=session, job_id=job_id, worker="w1", progress=0.4, message="loudness"
        )
    assert (job(station, job_id).progress, job(station, job_id).message) == (0.4, "loudness")
    with station.session() as session:
        jobs.cancel(session=session, job_id=job_id)
    with station.session() as session:
        assert not jobs.heartbeat(session=session, job_id=job_id, worker="w1", progress=0.5)
        assert not jobs.finish(session=session, job_id=job_id, worker="w1")
    assert job(station, job_id).status == JobStatus.cancelled


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_job_whose_process_died_on_this_host_is_requeued_at_once(station: Station) -> None:
    job_id = enqueue(station, JobKind.master, make_episode(station))
    dead = f"{socket.gethostname()}:{_dead_pid()}:1"
    claim(station, dead)
    with station.session() as session:
        recovered = jobs.recover_stale(session=session)
    assert [j.id for j in recovered] == [job_id]
    requeued = job(station, job_id)
    assert (requeued.status, requeued.worker, requeued.attempts) == (JobStatus.queued, "", 1)
    assert "requeued" in requeued.message
    claimed = claim(station, "w2")
    assert claimed is not None and claimed.attempts == 2


def test_a_live_worker_is_left_alone_and_a_silent_one_is_recovered(station: Station) -> None:
    episode = make_episode(station)
    mine = enqueue(station, JobKind.master, episode)
    elsewhere = enqueue(station, JobKind.master, make_episode(station, 1000))
    claim(station, f"{socket.gethostname()}:{os.getppid()}:1", episode_id=episode)
    claim(station, "广播机房-2:4242:1")  # another machine: only its heartbeat tells
    with station.session() as session:
        assert jobs.recover_stale(session=session) == []
    later = datetime.now(UTC) + jobs.STALE_AFTER + timedelta(seconds=5)
    with station.session() as session:
        recovered = jobs.recover_stale(session=session, now=later)
    assert {j.id for j in recovered} == {mine, elsewhere}


def test_a_job_that_keeps_killing_its_worker_fails_in_the_end(station: Station) -> None:
    job_id = enqueue(station, JobKind.master, make_episode(station))
    for _ in range(jobs.MAX_ATTEMPTS):
        claim(station, f"{socket.gethostname()}:{_dead_pid()}:1")
        with station.session() as session:
            jobs.recover_stale(session=session)
    final = job(station, job_id)
    assert final.status == JobStatus.failed
    assert f"after {jobs.MAX_ATTEMPTS} attempts" in final.message


def test_threads_with_their_own_sessions_claim_each_job_exactly_once(station: Station) -> None:
    for number in range(1, 13):
        enqueue(station, JobKind.master, make_episode(station, number))
    claimed: list[int] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while (got := claim(station, name)) is not None:
            with lock:
                claimed.append(got.id or 0)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == list(range(1, 13))


CLAIMER = """
import sys
from hotline.jobs import claim_next
from hotline.station import open_station
from pathlib import Path
station = open_station(Path(sys.argv[1]))
while (job := claim_next(station.session, worker=sys.argv[2])) is not None:
    print(job.id, flush=True)
"""


def test_processes_claim_each_job_exactly_once(station: Station) -> None:
    for number in range(1, 25):
        enqueue(station, JobKind.master, make_episode(station, number))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(station.root), f"进程{i}"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for i in range(3)
    ]
    claimed = [int(line) for proc in procs for line in proc.communicate()[0].split()]
    assert all(proc.returncode == 0 for proc in procs)
    assert sorted(claimed) == list(range(1, 25))
    with station.session() as session:
        workers = {j.worker for j in session.exec(select(Job)).all()}
    assert workers <= {f"进程{i}" for i in range(3)}


def test_list_jobs_filters_and_shows_episode_numbers(station: Station) -> None:
    first, second = make_episode(station, 998), make_episode(station, 999)
    enqueue(station, JobKind.master, first)
    enqueue(station, JobKind.master, second)
    enqueue(station, JobKind.transcribe, second)
    with station.session() as session:
        rows = jobs.list_jobs(session=session, episode=999)
        assert [(r.job.kind, r.episode_number) for r in rows] == [
            ("transcribe", 999),
            ("master", 999),
        ]
        assert len(jobs.list_jobs(session=session, kind="master")) == 2
        with pytest.raises(InvalidInput, match="unknown job status"):
            jobs.list_jobs(session=session, status="暂停")


OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["claim", "finish", "fail", "retry", "cancel"]), st.integers(0, 2)),
    max_size=25,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_any_sequence_of_operations_keeps_the_queue_consistent(
    station: Station, operations: list[tuple[str, int]]
) -> None:
    """Stage order holds at every claim; a job runs exactly while one worker holds it."""
    with station.session() as session:
        for old in session.exec(select(Job)).all():
            session.delete(old)
    episode = (
        make_episode(station, 999)
        if not station_has_episode(station)
        else episode_id_of(station, 999)
    )
    ids = [enqueue(station, kind, episode) for kind in jobs.STAGE_ORDER]
    holders: dict[int, str] = {}
    for step, (operation, index) in enumerate(operations):
        target = ids[index]
        with station.session() as session:
            if operation == "claim":
                got = jobs.claim_next(station.session, worker=f"w{step}")
                if got is not None:
                    holders[got.id or 0] = f"w{step}"
                    # Claimed only when every earlier stage is done or cancelled.
                    for earlier in ids[: ids.index(got.id or 0)]:
                        status = jobs.get_job(session, earlier).status
                        assert status in (JobStatus.done, JobStatus.cancelled)
            elif operation in ("finish", "fail") and target in holders:
                end = jobs.finish if operation == "finish" else jobs.fail
                kwargs = {} if operation == "finish" else {"error": "坏了"}
                assert end(session=session, job_id=target, worker=holders.pop(target), **kwargs)
            elif operation == "retry":
                with contextlib.suppress(Conflict):
                    jobs.retry(session=session, job_id=target)
            elif operation == "cancel":
                try:
                    jobs.cancel(session=session, job_id=target)
                    holders.pop(target, None)
                except Conflict:
                    pass
        with station.session() as session:
            rows = {j.id: j for j in session.exec(select(Job)).all()}
        running = {job_id for job_id, row in rows.items() if row.status == JobStatus.running}
        assert running == set(holders)
        assert all(rows[job_id].worker == holders[job_id] for job_id in running)


def station_has_episode(station: Station) -> bool:
    with station.session() as session:
        return session.exec(select(Episode)).first() is not None


def episode_id_of(station: Station, number: int) -> int:
    with station.session() as session:
        episode = session.exec(select(Episode).where(Episode.number == number)).one()
        assert episode.id is not None
        return episode.id


def test_a_skipped_job_keeps_its_reason_and_is_queued_again_by_a_new_ingest(
    station: Station,
) -> None:
    episode = make_episode(station)
    job_id = enqueue(station, JobKind.transcribe, episode)
    claim(station, "w1")
    with station.session() as session:
        assert not jobs.skip(session=session, job_id=job_id, worker="w2", reason="不是它的")
        assert jobs.skip(session=session, job_id=job_id, worker="w1", reason="没有 whisper 模型")
    skipped = job(station, job_id)
    assert (skipped.status, skipped.message) == (JobStatus.skipped, "没有 whisper 模型")
    with station.session() as session, pytest.raises(Conflict, match="was skipped"):
        jobs.cancel(session=session, job_id=job_id)
    assert enqueue(station, JobKind.transcribe, episode) == job_id  # reused, not piled up
    assert job(station, job_id).status == JobStatus.queued


def test_cancel_takes_the_queued_later_stages_with_it_and_retry_brings_them_back(
    station: Station,
) -> None:
    episode = make_episode(station)
    other = make_episode(station, 1000)
    master, transcribe, publish = (enqueue(station, k, episode) for k in jobs.STAGE_ORDER)
    elsewhere = enqueue(station, JobKind.transcribe, other)
    with station.session() as session:
        change = jobs.cancel(session=session, job_id=master)
        assert (change.was, [j.id for j in change.later]) == ("queued", [transcribe, publish])
    assert job(station, transcribe).message == f"cancelled with master job {master}"
    assert job(station, elsewhere).status == JobStatus.queued  # another episode's
    with station.session() as session:  # a later stage retried on its own stays alone
        assert jobs.retry(session=session, job_id=publish).later == []
    with station.session() as session:
        change = jobs.retry(session=session, job_id=master)
        assert (change.was, [j.id for j in change.later]) == ("cancelled", [transcribe])
    assert {job(station, i).status for i in (master, transcribe, publish)} == {JobStatus.queued}


def test_only_the_worker_of_a_cancelled_job_notes_that_it_stopped_it(station: Station) -> None:
    job_id = enqueue(station, JobKind.master, make_episode(station))
    claim(station, "w1")
    with station.session() as session:
        assert not jobs.note_stopped(session=session, job_id=job_id, worker="w1", message="早了")
        jobs.cancel(session=session, job_id=job_id)
    with station.session() as session:
        assert not jobs.note_stopped(session=session, job_id=job_id, worker="w2", message="别人")
        assert jobs.note_stopped(session=session, job_id=job_id, worker="w1", message="已停下")
    assert (job(station, job_id).status, job(station, job_id).message) == ("cancelled", "已停下")


@pytest.mark.parametrize(
    ("worker", "place"),
    [
        ("vm:16501:1", "vm:16501"),
        ("转写机:4711", "转写机:4711"),
        ("gpu01.station.local:88:2", "gpu01.station.local:88"),
        ("", ""),
    ],
)
def test_a_workers_place_is_its_host_and_pid(worker: str, place: str) -> None:
    assert jobs.worker_place(worker) == place

"""Workers on a PostgreSQL station: throughput with one and two workers, takeover after a
SIGKILL, and how fast an idle worker picks up a new job.

Every worker is a real ``hotline worker`` process on a station whose database lives on a
PostgreSQL server (``HOTLINE_TEST_PG_URL``, or a throwaway durable one started here).

- Throughput: 24 episodes, each with a short recording ingested; the figure is the time
  from the first master's start to the last one's end (the ``job`` rows' own times, so
  process start-up is not counted), with one worker and with two, median of ``RUNS``.
- Takeover: a worker runs a master whose ffmpeg hangs and is killed with SIGKILL; the
  figure is the time from the kill to the job running again under the surviving worker,
  ``KILLS`` times. The dead worker runs as if on another machine (a host name of its own),
  so only the engine's heartbeats tell that it died; the same-host figure (the dead pid
  is seen at once) is measured too.
- Pick-up: an idle worker; a master job is queued by another process (committed); the
  figure is the time from the commit to the job's start as the worker records it.
- The work's own ceiling: the same 24 masters run by one and by two plain processes calling
  the mastering function, with no worker, engine or database, and how many cores one
  master keeps busy (its process and its ffmpeg children, CPU ÷ wall). Two workers can go
  no faster than two of these processes, and no faster than 2 ÷ that figure on two cores.

    .venv/bin/python benchmarks/bench_workers.py
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).resolve().parent)]

import audio_fixtures as fx  # noqa: E402
import pg_server  # noqa: E402
from common import markdown_table, median, write_result  # noqa: E402
from process_fixtures import hotline_run, hung_ffmpeg, poll, recorded_pids  # noqa: E402
from sqlmodel import select  # noqa: E402
from worker_fixtures import (  # noqa: E402
    first_line,
    kill_group,
    other_machine_possible,
    start_worker,
    stop_worker,
)

from hotline import jobs  # noqa: E402
from hotline.config import save_settings  # noqa: E402
from hotline.ffmpeg import FFMPEG_ENV  # noqa: E402
from hotline.models import Episode, Job, JobKind, JobStatus  # noqa: E402
from hotline.station import Station, init_station  # noqa: E402
from hotline.timeutil import as_utc, utcnow  # noqa: E402

EPISODES = 24
RECORDING_SECONDS = 20.0
RUNS = 3
KILLS = 5
PICKUPS = 10
LIMIT = 600.0  # a guard, not a figure


def load() -> float:
    return round(os.getloadavg()[0], 2)


@contextmanager
def fresh_station(server: str, work: Path, name: str) -> Iterator[Station]:
    """A new station on a new database of ``server``; dropped afterwards."""
    url = pg_server.create_database(server, "hotline_bench")
    os.environ["HOTLINE_DATABASE_URL"] = url
    station, _ = init_station(work / name)
    try:
        yield station
    finally:
        station.engine.dispose()
        pg_server.drop_database(url)


def add_episodes(station: Station, count: int, recording: Path | None) -> None:
    """Episodes 1…count, each with ``recording`` ingested (its master queued only)."""
    from datetime import UTC, datetime

    from hotline.pipeline import ingest

    for number in range(1, count + 1):
        with station.session() as session:
            session.add(
                Episode(
                    number=number,
                    title="医保改革面对面",
                    air_start=datetime(2022, 8, 6, 3, tzinfo=UTC),
                )
            )
        if recording is not None:
            with station.session() as session:
                ingest(station=station, session=session, number=number, source=recording)
    cancel(station, kind_not=JobKind.master)  # only the masters: the figures are about workers


def cancel(station: Station, *, kind_not: str | None = None) -> None:
    """Cancel every queued job (but those of kind ``kind_not``)."""
    with station.session() as session:
        query = select(Job).where(Job.status == JobStatus.queued)
        if kind_not is not None:
            query = query.where(Job.kind != kind_not)
        for row in session.exec(query).all():
            assert row.id is not None
            if session.get(Job, row.id).status == JobStatus.queued:  # type: ignore[union-attr]
                jobs.cancel(session=session, job_id=row.id)


def requeue(station: Station, job_id: int) -> None:
    with station.session() as session:
        jobs.retry(session=session, job_id=job_id)


def rows(station: Station, kind: str = "master") -> list[Job]:
    with station.session(write=False) as session:
        return list(session.exec(select(Job).where(Job.kind == kind).order_by(Job.id)).all())


def drain_seconds(station: Station, workers: int) -> float:
    procs = [start_worker(station, "--queues", "master") for _ in range(workers)]
    try:
        for proc in procs:
            first_line(proc)
        done = poll(lambda: all(j.status == JobStatus.done for j in rows(station)), within=LIMIT)
        assert done, [(j.id, j.status, j.message) for j in rows(station)]
    finally:
        for proc in procs:
            stop_worker(proc)
    masters = rows(station)
    first = min(as_utc(j.started_at) for j in masters if j.started_at)
    last = max(as_utc(j.finished_at) for j in masters if j.finished_at)
    return (last - first).total_seconds()


def bare_child(recording: Path, count: int, folder: Path) -> None:
    """Master ``recording`` ``count`` times in this process; print when and at what CPU."""
    from episodes.audio import master
    from hotline.config import AudioSettings

    settings = AudioSettings()
    started, before = time.time(), _cpu()
    for index in range(count):
        master(source=recording, dest=folder / f"{os.getpid()}-{index}.mp3", settings=settings)
    print(json.dumps({"start": started, "end": time.time(), "cpu": _cpu() - before}))


def _cpu() -> float:
    """CPU seconds of this process and its waited-for children (the ffmpeg it ran)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bare_seconds(work: Path, recording: Path, processes: int) -> tuple[float, float]:
    """(wall s, CPU s) of EPISODES masters shared by ``processes`` plain processes."""
    folder = Path(tempfile.mkdtemp(dir=work))
    argv = [sys.executable, __file__, "--bare", str(recording), str(EPISODES // processes)]
    children = [
        subprocess.Popen([*argv, str(folder)], stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    reports = [json.loads(child.communicate()[0]) for child in children]
    assert all(child.returncode == 0 for child in children)
    wall = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    return wall, sum(r["cpu"] for r in reports)


def bare(work: Path, recording: Path) -> dict[str, object]:
    """The masters' own scaling: one and two plain processes, no worker, no database."""
    seconds: dict[int, list[float]] = {1: [], 2: []}
    cores: list[float] = []
    for run in range(RUNS):
        for processes in (1, 2):
            wall, cpu = bare_seconds(work, recording, processes)
            seconds[processes].append(wall)
            if processes == 1:
                cores.append(cpu / wall)
            print(f"  run {run + 1}: {processes} process(es) {wall:.1f} s", flush=True)
    one, two = median(seconds[1]), median(seconds[2])
    return {
        "seconds": seconds,
        "one_s": one,
        "two_s": two,
        "speed_up": one / two,
        "cores_of_one": median(cores),
    }


def throughput(server: str, work: Path, recording: Path) -> dict[str, object]:
    seconds: dict[int, list[float]] = {1: [], 2: []}
    for run in range(RUNS):
        for workers in (1, 2):
            with fresh_station(server, work, f"drain-{run}-{workers}") as station:
                add_episodes(station, EPISODES, recording)
                seconds[workers].append(drain_seconds(station, workers))
                print(
                    f"  run {run + 1}: {workers} worker(s) {seconds[workers][-1]:.1f} s, "
                    f"load {load()}",
                    flush=True,
                )
    one, two = median(seconds[1]), median(seconds[2])
    return {"seconds": seconds, "one_s": one, "two_s": two, "speed_up": one / two}


def takeover(server: str, work: Path, recording: Path, *, other_host: bool) -> list[float]:
    """Seconds from each SIGKILL to the job running again under the survivor."""
    with fresh_station(server, work, f"takeover-{other_host}") as station:
        station.settings.jobs.timeout_floor = 3600.0  # only a kill stops these
        save_settings(station.settings, station.settings_path)
        add_episodes(station, KILLS, recording)
        cancel(station)  # one master at a time: each round queues its own again
        script, pids = hung_ffmpeg(work)
        env = {FFMPEG_ENV: str(script)}
        figures = []
        for round_ in range(KILLS):
            job_id = rows(station)[round_].id
            assert job_id is not None
            requeue(station, job_id)
            pids.unlink(missing_ok=True)
            host = f"worker-{round_}" if other_host else None
            doomed = start_worker(station, "--queues", "master", env=env, host=host)
            survivor = None
            try:
                first_line(doomed)
                assert poll(lambda: len(recorded_pids(pids)) == 2, within=LIMIT)
                survivor = start_worker(station, "--queues", "master", env=env)
                first_line(survivor)
                time.sleep(6.0)  # past its start: only what it does while running counts
                doomed.send_signal(signal.SIGKILL)
                killed = time.perf_counter()
                doomed.wait()

                def again(job_id: int = job_id, survivor: object = survivor) -> bool:
                    with station.session(write=False) as session:
                        row = session.get(Job, job_id)
                        assert row is not None
                        pid = str(survivor.pid)  # type: ignore[attr-defined]
                        return row.status == "running" and row.worker.split(":")[1] == pid

                assert poll(again, within=LIMIT), "never taken over"
                figures.append(time.perf_counter() - killed)
                print(f"  kill {round_ + 1}: {figures[-1]:.1f} s, load {load()}", flush=True)
                assert hotline_run(station.root, "jobs", "cancel", str(job_id)).returncode == 0
            finally:
                kill_group(doomed)
                if survivor is not None:
                    stop_worker(survivor)
                for pid in recorded_pids(pids):  # the dead worker's ffmpeg outlived it
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        return figures


def pickup(server: str, work: Path, recording: Path) -> list[float]:
    """Seconds from a job's commit to its start on an idle worker."""
    with fresh_station(server, work, "pickup") as station:
        add_episodes(station, PICKUPS, recording)
        cancel(station)  # nothing waiting: the worker starts idle
        worker = start_worker(station, "--queues", "master")
        figures = []
        try:
            first_line(worker)
            time.sleep(5.0)  # registered and listening
            for row in rows(station):
                assert row.id is not None
                requeue(station, row.id)
                committed = utcnow()
                assert poll(lambda r=row.id: bool(rows_started(station, r)), within=LIMIT)
                started = rows_started(station, row.id)
                assert started is not None
                figures.append((started - committed).total_seconds())
                assert poll(lambda r=row.id: rows_status(station, r) != "running", within=LIMIT)
        finally:
            stop_worker(worker)
        return figures


def rows_started(station: Station, job_id: int) -> object:
    with station.session(write=False) as session:
        row = session.get(Job, job_id)
        if row is None or row.status == "queued" or row.started_at is None:
            return None
        return as_utc(row.started_at)


def rows_status(station: Station, job_id: int) -> str:
    with station.session(write=False) as session:
        row = session.get(Job, job_id)
        return row.status if row is not None else ""


def main() -> None:
    server = pg_server.start_server(durable=True)
    if isinstance(server, str):
        print(f"bench_workers skipped: {server}")
        return
    loads = {"start": load()}
    try:
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            for key in ("XDG_CACHE_HOME", "HOTLINE_WHISPER_DIR"):
                os.environ[key] = str(work / "no-models")
            recording = fx.recording(work / "录音.wav", RECORDING_SECONDS)
            print(f"throughput: {EPISODES} masters of {RECORDING_SECONDS:g} s", flush=True)
            drained = throughput(server.url, work, recording)
            loads["throughput"] = load()
            print("the same masters by plain processes (no worker, no database)", flush=True)
            plain = bare(work, recording)
            loads["bare"] = load()
            short = fx.recording(work / "短录音.wav", 6.0)
            cross = other_machine_possible()
            print(f"takeover ({'another machine' if cross else 'same machine'})", flush=True)
            kills = {
                "another machine" if cross else "same machine": takeover(
                    server.url, work, short, other_host=cross
                )
            }
            if cross:
                print("takeover (same machine)", flush=True)
                kills["same machine"] = takeover(server.url, work, short, other_host=False)
            loads["takeover"] = load()
            print("pick-up", flush=True)
            picked = pickup(server.url, work, short)
            loads["pickup"] = load()
    finally:
        server.stop()

    print()
    print(
        markdown_table(
            ("workers", f"{EPISODES} masters, median s", "jobs / s", "speed-up (target ≥ 1.7×)"),
            [
                ("1", f"{drained['one_s']:.1f}", f"{EPISODES / drained['one_s']:.2f}", "1.00×"),
                (
                    "2",
                    f"{drained['two_s']:.1f}",
                    f"{EPISODES / drained['two_s']:.2f}",
                    f"{drained['speed_up']:.2f}×",
                ),
            ],
        )
    )
    print()
    print(
        markdown_table(
            ("plain processes, no worker", f"{EPISODES} masters, median s", "speed-up"),
            [
                ("1", f"{plain['one_s']:.1f}", "1.00×"),
                ("2", f"{plain['two_s']:.1f}", f"{plain['speed_up']:.2f}×"),
            ],
        )
    )
    cores = float(plain["cores_of_one"])  # type: ignore[arg-type]
    share = float(drained["speed_up"]) / float(plain["speed_up"])  # type: ignore[arg-type]
    print(
        f"one master keeps {cores:.2f} cores busy, so two go at most {2 / cores:.2f}× as fast "
        f"on two cores; the workers reach {share:.0%} of the plain processes' speed-up"
    )
    print()
    print(
        markdown_table(
            ("SIGKILL, dead worker on", "kills", "min s", "median s", "max s (target ≤ 60)"),
            [
                (where, str(len(s)), f"{min(s):.1f}", f"{median(s):.1f}", f"{max(s):.1f}")
                for where, s in kills.items()
            ],
        )
    )
    print()
    print(
        markdown_table(
            ("pick-up of a new job, idle worker", "jobs", "median s", "max s (target ≤ 1)"),
            [("LISTEN/NOTIFY", str(len(picked)), f"{median(picked):.3f}", f"{max(picked):.3f}")],
        )
    )
    print(f"load average: {loads}")
    write_result(
        "workers",
        {
            "episodes": EPISODES,
            "recording_seconds": RECORDING_SECONDS,
            "throughput": drained,
            "bare": plain,
            "takeover_s": kills,
            "pickup_s": picked,
            "load": loads,
        },
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--bare"]:
        bare_child(Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
    else:
        main()

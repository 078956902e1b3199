"""``hotline ingest``, ``process``, ``jobs`` and ``tags show`` through the real CLI.

Processing runs with ``--kind master``: later stages (publish, transcribe) register
themselves in ``hotline.pipeline`` and have tests of their own.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable
from pathlib import Path

import audio_fixtures as fx
import pytest
from sqlmodel import select

from hotline.config import save_settings
from hotline.models import Booking, Episode, Job
from hotline.station import Station

Cli = Callable[..., "object"]


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated recordings shared by the tests of this module (generating takes a while)."""
    folder = tmp_path_factory.mktemp("audio")
    fx.recording(folder / "good.wav", 8.0, lead_silence=1.5, tail_silence=1.5)
    fx.recording(folder / "short.wav", 2.0)
    fx.text_as_mp3(folder / "text.mp3")
    fx.empty_file(folder / "empty.mp3")
    fx.truncated_mp3(folder / "truncated.mp3")
    fx.silence(folder / "silent.wav", 8.0)
    fx.six_channel(folder / "six.wav", 8.0)
    fx.tone(folder / "intro.wav", 2.0)
    odd = folder / "录音 文件夹" / "sub"
    odd.mkdir(parents=True)
    fx.recording(folder / "录音 文件夹" / "第 999 期 录音 (final).mp3", 7.0, seed=3)
    return folder


@pytest.fixture
def episode(cli: Cli) -> int:
    r = cli(
        "episodes",
        "add",
        "--number",
        "999",
        "--title",
        "医保改革面对面",
        "--air",
        "2022-08-06 11:00",
        "--past",
    )
    assert r.exit_code == 0, r.stderr
    return 999


def db_episode(station: Station, number: int = 999) -> Episode:
    with station.session() as session:
        return session.exec(select(Episode).where(Episode.number == number)).one()


def raw_files(station: Station) -> list[str]:
    return sorted(p.name for p in station.raw_dir.iterdir())


def all_jobs(station: Station) -> list[Job]:
    with station.session() as session:
        return list(session.exec(select(Job)).all())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------- ingest


def test_ingest_archives_the_recording_and_queues_mastering(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    source = audio / "good.wav"
    r = cli("ingest", episode, source)
    assert r.exit_code == 0, r.stderr
    digest = sha256(source)
    name = f"0999-{digest[:8]}.wav"
    assert f"audio/raw/{name}" in r.stdout
    assert "queued: master (job 1)" in r.stdout  # then any later stages registered
    assert raw_files(station) == [name]
    assert sha256(station.raw_dir / name) == digest
    ep = db_episode(station)
    assert (ep.status, ep.raw_path, ep.raw_sha256) == ("recorded", f"audio/raw/{name}", digest)
    listed = cli("jobs", "list", "--kind", "master", "--json").json()
    assert [(j["id"], j["kind"], j["episode"], j["status"]) for j in listed] == [
        (1, "master", 999, "queued")
    ]


def test_a_name_with_spaces_chinese_and_dotdot_does_not_matter(
    cli: Cli, station: Station, episode: int, audio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(audio / "录音 文件夹" / "sub")
    r = cli("ingest", episode, "../第 999 期 录音 (final).mp3", "--json")
    assert r.exit_code == 0, r.stderr
    result = r.json()
    digest = sha256(audio / "录音 文件夹" / "第 999 期 录音 (final).mp3")
    assert result["raw_path"] == f"audio/raw/0999-{digest[:8]}.mp3"
    assert result["format"] == "mp3" and result["copied"] is True
    assert raw_files(station) == [f"0999-{digest[:8]}.mp3"]


def test_ingesting_the_same_file_again_copies_nothing_and_queues_once(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    assert cli("ingest", episode, audio / "good.wav").exit_code == 0
    r = cli("ingest", episode, audio / "good.wav")
    assert r.exit_code == 0
    assert "already in the archive" in r.stdout
    assert len(raw_files(station)) == 1
    assert [j.kind for j in all_jobs(station)].count("master") == 1


def test_a_recording_another_episode_already_has_is_taken_with_a_warning(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    assert "also the recording" not in cli("ingest", episode, audio / "good.wav").stderr
    r = cli("episodes", "add", "--title", "下一期：养老服务", "--air", "2022-08-13 11:00", "--past")
    assert r.exit_code == 0, r.stderr
    r = cli("ingest", "1000", audio / "good.wav", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["also_of"] == [999]
    r = cli("ingest", "1000", audio / "good.wav")
    assert r.exit_code == 0, r.stderr
    assert f"{audio / 'good.wav'} is also the recording of episode 999" in r.stderr
    assert db_episode(station, 1000).raw_sha256 == db_episode(station, 999).raw_sha256


def test_six_channel_audio_is_accepted(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    r = cli("ingest", episode, audio / "six.wav", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["format"] == "wav"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing.wav", "no such file"),
        ("录音 文件夹", "not a regular file"),
        ("empty.mp3", "the file is empty"),
        ("text.mp3", "not an audio file"),
        ("truncated.mp3", "truncated"),
        ("short.wav", "the minimum is 5 s"),
    ],
)
def test_bad_recordings_are_refused_and_nothing_changes(
    cli: Cli, station: Station, episode: int, audio: Path, name: str, reason: str
) -> None:
    before = db_episode(station)
    r = cli("ingest", episode, audio / name)
    assert r.exit_code == 1
    assert r.stderr.startswith("hotline: error: ")
    assert name in r.stderr and reason in r.stderr
    assert raw_files(station) == []
    after = db_episode(station)
    assert (after.status, after.raw_path, after.updated_at) == (
        before.status,
        None,
        before.updated_at,
    )
    assert all_jobs(station) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_is_refused(
    cli: Cli, station: Station, episode: int, tmp_path: Path
) -> None:
    locked = fx.recording(tmp_path / "锁定.wav", 6.0)
    locked.chmod(0)
    r = cli("ingest", episode, locked)
    assert r.exit_code == 1 and "cannot be read" in r.stderr
    assert raw_files(station) == []


def test_an_unknown_episode_or_a_cancelled_one_is_refused(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    r = cli("ingest", 1234, audio / "good.wav")
    assert r.exit_code == 1 and "episode 1234 does not exist" in r.stderr
    ahead = ("--number", "1234", "--title", "停播", "--air", "2099-01-03 11:00")
    assert cli("episodes", "add", *ahead).exit_code == 0
    assert cli("episodes", "cancel", 1234).exit_code == 0
    r = cli("ingest", 1234, audio / "good.wav")
    assert r.exit_code == 1 and "cancelled" in r.stderr
    assert raw_files(station) == [] and all_jobs(station) == []


def test_tags_of_a_delivered_file_are_reported_and_applied_on_request(
    cli: Cli, station: Station, episode: int, tmp_path: Path
) -> None:
    from mutagen.id3 import COMM, ID3, TDRC, TIT2

    tagged = fx.recording(tmp_path / "back-catalogue.mp3", 6.0, seed=5)
    tags = ID3()
    tags.add(TIT2(encoding=3, text="第12期 政协委员谈义务教育"))
    tags.add(TDRC(encoding=3, text="2000-05-13"))
    tags.add(COMM(encoding=3, lang="chi", desc="", text="委员回答家长的来信。"))
    tags.save(tagged)
    r = cli("ingest", episode, tagged)
    assert r.exit_code == 0, r.stderr
    assert "tags found: " in r.stdout
    assert "第12期 政协委员谈义务教育" in r.stdout and "2000-05-13" in r.stdout
    assert db_episode(station).title == "医保改革面对面"
    r = cli("ingest", episode, tagged, "--use-tags")
    assert r.exit_code == 0, r.stderr
    assert "applied to the episode: title, description" in r.stdout
    taken = db_episode(station)
    assert (taken.title, taken.description) == ("政协委员谈义务教育", "委员回答家长的来信。")


# ------------------------------------------------------------------------ process + jobs


def test_process_masters_the_episode_and_a_second_run_is_a_no_op(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    assert cli("ingest", episode, audio / "good.wav").exit_code == 0
    r = cli("process", "--kind", "master")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "job 1 master 第999期: started (attempt 1)" in r.stdout
    assert "job 1 master 第999期: 100%" in r.stdout
    assert "1 done" in r.stdout
    ep = db_episode(station)
    master = station.master_dir / "0999.mp3"
    assert ep.status == "mastered"
    assert ep.audio_path == "audio/master/0999.mp3"
    assert ep.audio_bytes == master.stat().st_size
    assert ep.audio_seconds is not None and 7.0 < ep.audio_seconds < 9.5
    assert [p.name for p in station.master_dir.iterdir()] == ["0999.mp3"]

    assert "no queued jobs to run" in cli("process", "--kind", "master").stdout
    assert cli("ingest", episode, audio / "good.wav").exit_code == 0  # queues master again
    r = cli("process", "--kind", "master")
    assert r.exit_code == 0
    assert "master is current" in r.stdout
    assert db_episode(station).master_fingerprint == ep.master_fingerprint


def test_changing_a_setting_remasters(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    assert cli("ingest", episode, audio / "good.wav").exit_code == 0
    assert cli("process", "--kind", "master").exit_code == 0
    first = db_episode(station)
    station.settings.audio.target_lufs = -19.0
    save_settings(station.settings, station.settings_path)
    assert cli("ingest", episode, audio / "good.wav").exit_code == 0
    r = cli("process", "--kind", "master")
    assert r.exit_code == 0, r.stdout
    assert "mastered 0999.mp3" in r.stdout and "-19.0 LUFS" in r.stdout
    assert db_episode(station).master_fingerprint != first.master_fingerprint


def test_a_missing_jingle_fails_the_job_and_retry_runs_it_again(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    station.settings.audio.intro = "jingles/片头.wav"
    save_settings(station.settings, station.settings_path)
    assert cli("ingest", episode, audio / "good.wav").exit_code == 0
    r = cli("process", "--kind", "master")
    assert r.exit_code == 1
    assert "jingle jingles/片头.wav (audio.intro) does not exist" in r.stdout
    assert "1 failed" in r.stdout
    shown = cli("jobs", "show", 1, "--json").json()
    assert shown["status"] == "failed" and shown["attempts"] == 1
    assert shown["message"] == "jingle jingles/片头.wav (audio.intro) does not exist"
    assert "Traceback" in shown["error"]
    listed = cli("jobs", "list", "--kind", "master", "--json").json()
    assert listed[0]["error"] == shown["message"]
    assert not (station.master_dir / "0999.mp3").exists()

    (station.root / "jingles").mkdir()
    (station.root / "jingles" / "片头.wav").write_bytes((audio / "intro.wav").read_bytes())
    r = cli("jobs", "retry", 1)
    assert r.exit_code == 0 and "queued again" in r.stdout
    r = cli("process", "--kind", "master")
    assert r.exit_code == 0, r.stdout
    shown = cli("jobs", "show", 1, "--json").json()
    assert (shown["status"], shown["attempts"], shown["error"]) == ("done", 2, "")
    assert db_episode(station).audio_seconds > 9.0  # the intro is in


def test_a_silent_recording_fails_mastering_with_a_reason(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    assert cli("ingest", episode, audio / "silent.wav").exit_code == 0
    r = cli("process", "--kind", "master")
    assert r.exit_code == 1
    shown = cli("jobs", "show", 1, "--json").json()
    assert "silent" in shown["message"] and "-inf" in shown["message"].replace("−", "-")


def test_jobs_cancel_and_retry_refuse_what_makes_no_sense(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    assert cli("ingest", episode, audio / "good.wav").exit_code == 0
    r = cli("jobs", "retry", 1)
    assert r.exit_code == 1 and "job 1 is queued" in r.stderr
    r = cli("jobs", "cancel", 1)
    assert r.exit_code == 0 and "cancelled" in r.stdout
    assert cli("jobs", "show", 1, "--json").json()["status"] == "cancelled"
    assert "no queued jobs to run" in cli("process", "--kind", "master").stdout
    assert cli("jobs", "retry", 1).exit_code == 0
    assert cli("process", "--episode", episode, "--kind", "master").exit_code == 0
    r = cli("jobs", "cancel", 1)
    assert r.exit_code == 1 and "job 1 is done" in r.stderr
    r = cli("jobs", "show", 77)
    assert r.exit_code == 1 and "job 77 does not exist" in r.stderr


def test_jobs_list_and_show_print_tables_and_stable_json(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    assert cli("ingest", episode, audio / "good.wav").exit_code == 0
    table = cli("jobs", "list")
    assert table.exit_code == 0
    assert "master" in table.stdout and "queued" in table.stdout and "999" in table.stdout
    listed = cli("jobs", "list", "--status", "queued", "--kind", "master", "--json").json()
    assert list(listed[0]) == [
        "id",
        "kind",
        "episode",
        "status",
        "progress",
        "message",
        "attempts",
        "worker",
        "error",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
    ]
    assert listed[0]["created_at"].endswith("+08:00")
    assert cli("jobs", "list", "--status", "done", "--json").json() == []
    assert cli("jobs", "list", "--episode", 1000, "--json").json() == []
    shown = cli("jobs", "show", 1, "--json").json()
    assert shown["waiting_for"] is None
    text = cli("jobs", "show", 1)
    assert "kind: master" in text.stdout and "status: queued" in text.stdout
    r = cli("jobs", "list", "--status", "paused")
    assert r.exit_code == 1 and "unknown job status 'paused'" in r.stderr


def test_jobs_list_names_the_worker_of_each_job_that_ran(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    assert cli("ingest", episode, audio / "good.wav").exit_code == 0
    assert cli("process", "--kind", "master").exit_code == 0
    ran = cli("jobs", "show", 1, "--json").json()["worker"]
    host, pid = ran.split(":")[:2]  # host:pid, and the worker's slot when it has several
    assert (host, pid) == (socket.gethostname(), str(os.getpid()))  # the CLI ran in-process
    lines = cli("jobs", "list").stdout.splitlines()
    assert lines[0].split() == [
        "job", "kind", "期号", "status", "progress", "tries", "worker", "created", "message"
    ]  # fmt: skip
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["1"].split()[6] == f"{host}:{pid}"  # done: who ran it, without the slot
    assert f"{host}:" not in rows["2"]  # the transcription is still queued: no worker


def test_process_refuses_unknown_kinds_and_episodes(cli: Cli, episode: int) -> None:
    r = cli("process", "--kind", "编码")
    assert r.exit_code == 1 and "unknown job kind" in r.stderr
    r = cli("process", "--episode", 4321)
    assert r.exit_code == 1 and "episode 4321 does not exist" in r.stderr
    r = cli("process", "--workers", 0)
    assert r.exit_code != 0


def test_process_with_several_workers_masters_several_episodes(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    assert cli("episodes", "add", "--number", "1000", "--title", "养老服务进社区").exit_code == 0
    assert cli("ingest", episode, audio / "good.wav").exit_code == 0
    assert cli("ingest", 1000, audio / "six.wav").exit_code == 0
    r = cli("process", "--kind", "master", "--workers", 2)
    assert r.exit_code == 0, r.stdout
    assert "2 done" in r.stdout
    assert sorted(p.name for p in station.master_dir.iterdir()) == ["0999.mp3", "1000.mp3"]


# ------------------------------------------------------------------------------- tags


def test_tags_show_prints_what_a_player_sees(
    cli: Cli, station: Station, episode: int, audio: Path
) -> None:
    r = cli("tags", "show", episode)
    assert r.exit_code == 1 and "episode 999 has no master yet" in r.stderr
    member = cli("members", "add", "--name", "张伟", "--sector", "中国共产党")
    assert member.exit_code == 0, member.stderr
    with station.session() as session:  # test data: 张伟 was on the show
        session.add(Booking(episode_id=db_episode(station).id, member_id=1, status="appeared"))
    for topic in ("医保", "养老"):
        q = cli(
            "questions", "add", "--text", f"{topic}怎么办？", "--channel", "phone", "--topic", topic
        )
        assert q.exit_code == 0, q.stderr
    for question, at in ((1, "00:01"), (2, "00:04")):
        assert cli("questions", "screen", question).exit_code == 0
        assert cli("questions", "assign", question, episode, "--yes").exit_code == 0
        answered = cli("questions", "answer", question, "--member", "张伟", "--at", at)
        assert answered.exit_code == 0, answered.stderr
    assert cli("ingest", episode, audio / "good.wav").exit_code == 0
    assert cli("process", "--kind", "master").exit_code == 0
    tags = cli("tags", "show", episode, "--json").json()
    assert tags["title"] == "第999期 医保改革面对面"
    assert tags["album"] == tags["artist"] == "政协热线"
    assert tags["track"] in (999, "999")
    assert tags["genre"] == "Podcast"
    assert tags["date"] == "2022-08-06"
    # good.wav starts with 1.5 s of dead air: mastering trims 1.4 s of it (keeping 0.1 s),
    # so the answer at 00:01 opens the master and the one at 00:04 comes 2.6 s in.
    chapters = tags["chapters"]
    assert [c["title"] for c in chapters] == ["医保", "养老"]
    assert chapters[0]["start"] == 0.0 and abs(chapters[1]["start"] - 2.6) < 0.3
    assert chapters[0]["end"] == chapters[1]["start"]
    assert abs(chapters[1]["end"] - tags["seconds"]) < 0.1
    text = cli("tags", "show", episode)
    assert "第999期 医保改革面对面" in text.stdout and "医保" in text.stdout

"""Publishing: who is listed when, guids that never change, quiet and atomic writes, failures."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from episodes.lookup import get_episode
from feeds import files
from feeds.publish import publish
from feeds.release import set_release
from hotline.errors import InvalidInput
from hotline.models import Episode, EpisodeStatus
from hotline.station import Station

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from feeds_fixtures import NOW, add_episode, use_cover  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ("generic", "apple", "spotify", "xiaoyuzhou", "ximalaya")


@pytest.fixture
def ready(station: Station) -> Station:
    use_cover(station)
    with station.session() as session:
        for number in (1, 2, 3):
            add_episode(station, session, number)
    return station


def feed(station: Station, name: str = "generic") -> etree._Element:
    return etree.fromstring((station.public_dir / f"feeds/{name}.xml").read_bytes())


def guids(station: Station, name: str = "generic") -> dict[str, str]:
    root = feed(station, name)
    return {i.findtext("{*}episode"): i.findtext("guid") for i in root.iter("item")}


def stored(station: Station, number: int) -> Episode:
    with station.session() as session:
        episode = get_episode(session, number)
        session.expunge(episode)
        return episode


def test_only_mastered_and_released_episodes_are_listed(ready: Station) -> None:
    with ready.session() as session:
        add_episode(ready, session, 4, master=False)  # no master file
        add_episode(ready, session, 5, air=NOW + timedelta(days=3))  # airs later
        add_episode(ready, session, 6, air=NOW - timedelta(minutes=30))  # on air now
        add_episode(ready, session, 7, status=EpisodeStatus.cancelled)
    report = publish(station=ready, now=NOW)
    assert report.ok
    assert report.listed == [1, 2, 3]
    assert [n for n, _ in report.waiting] == [5, 6]
    assert sorted(guids(ready)) == ["1", "2", "3"]
    assert stored(ready, 5).guid is None and stored(ready, 4).guid is None
    assert stored(ready, 1).status == EpisodeStatus.published
    assert stored(ready, 1).published_at == NOW
    assert stored(ready, 5).status == EpisodeStatus.mastered


def test_an_explicit_release_time_holds_an_episode_back_until_it_comes(ready: Station) -> None:
    later = NOW + timedelta(days=2)
    with ready.session() as session:
        set_release(session=session, number=3, at=later)
    assert publish(station=ready, now=NOW).listed == [1, 2]
    report = publish(station=ready, now=later + timedelta(minutes=1))
    assert report.listed == [1, 2, 3] and report.newly_published == [3]
    item = feed(ready).find("channel/item")
    assert item.findtext("pubDate") == "Sat, 03 Jan 2026 08:00:00 +0800"


def test_guids_never_change_with_title_number_file_or_base_url(ready: Station) -> None:
    publish(station=ready, now=NOW)
    first = guids(ready)
    channel_guid = feed(ready).findtext("channel/{*}guid")
    with ready.session() as session:
        episode = get_episode(session, 2)
        episode.title = "改过的标题"
        episode.number = 20
    (ready.master_dir / "0001.mp3").write_bytes(b"ID3" + b"\x00" * 9000)
    with ready.session() as session:
        get_episode(session, 1).audio_bytes = 9003
    publish(station=ready, base_url="https://cdn.example.org/hotline/", now=NOW)
    after = guids(ready)
    assert after["1"] == first["1"] and after["20"] == first["2"] and after["3"] == first["3"]
    root = feed(ready)
    assert root.findtext("channel/{*}guid") == channel_guid  # kept in hotline.toml
    urls = root.xpath("//enclosure/@url")
    assert all(u.startswith("https://cdn.example.org/hotline/audio/") for u in urls)
    item = root.xpath("//item[guid=$g]", g=first["1"])[0]
    assert item.find("enclosure").get("length") == "9003"


def test_an_unchanged_feed_is_not_rewritten_and_keeps_its_last_build_date(ready: Station) -> None:
    publish(station=ready, now=NOW)
    path = ready.public_dir / "feeds/generic.xml"
    before, stamp = path.read_bytes(), path.stat().st_mtime_ns
    report = publish(station=ready, now=NOW + timedelta(hours=5))
    assert {f.status for f in report.feeds} == {"unchanged"}
    assert report.files_written == {}
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stamp
    with ready.session() as session:
        get_episode(session, 2).title = "新标题 & 更正"
    report = publish(station=ready, now=NOW + timedelta(hours=6))
    assert {f.status for f in report.feeds} == {"written"}
    assert "新标题 & 更正" in feed(ready).xpath("//item/title/text()")
    assert feed(ready).findtext("channel/lastBuildDate") == "Thu, 01 Jan 2026 14:00:00 +0800"


def test_masters_are_hard_linked_and_a_quiet_publish_writes_no_generation(
    ready: Station,
) -> None:
    first = publish(station=ready, now=NOW)
    master, public = ready.master_dir / "0001.mp3", ready.public_dir / "audio/0001.mp3"
    assert os.path.samefile(master, public)
    assert ready.public_dir.is_symlink() and first.switched
    again = publish(station=ready, now=NOW)
    assert not again.switched and again.generation == first.generation
    assert again.files_written == {}


def test_a_failing_feed_stops_the_whole_publish_and_lists_every_problem(ready: Station) -> None:
    publish(station=ready, now=NOW)
    good = {name: (ready.public_dir / f"feeds/{name}.xml").read_bytes() for name in PROFILES}
    shown = os.readlink(ready.public_dir)
    use_cover(ready, size=800)  # too small for Apple, fine for Spotify (640)
    with ready.session() as session:
        get_episode(session, 1).title = "更新"
    report = publish(station=ready, now=NOW)
    assert not report.ok
    status = {f.profile: f.status for f in report.feeds}
    assert status == {
        "generic": "failed",
        "apple": "failed",
        "spotify": "held",
        "xiaoyuzhou": "failed",
        "ximalaya": "failed",
    }
    assert len(report.problems) == 4
    assert all("800×800" in p for p in report.problems)
    assert os.readlink(ready.public_dir) == shown  # not switched: every feed as it was
    for name in PROFILES:
        assert (ready.public_dir / f"feeds/{name}.xml").read_bytes() == good[name]
    assert [p.name for p in (ready.root / ".public").iterdir() if p.is_dir()] == [Path(shown).name]


def test_a_non_https_base_url_is_refused_before_anything_happens(ready: Station) -> None:
    with pytest.raises(InvalidInput, match="https://"):
        publish(station=ready, base_url="http://hotline.example.cn", now=NOW)
    assert not any((ready.public_dir / "feeds").iterdir())
    assert stored(ready, 1).guid is None


def test_a_base_url_in_chinese_is_published_as_ascii_and_is_not_a_move(ready: Station) -> None:
    import feedparser

    typed = "https://电台.中国/热线"
    report = publish(station=ready, base_url=typed, now=NOW)
    assert report.ok
    base = "https://xn--kpr178e.xn--fiqs8s/%E7%83%AD%E7%BA%BF"
    data = (ready.public_dir / "feeds/generic.xml").read_bytes()
    urls = feed(ready).xpath("//@url | //@href | //*[local-name()='url']/text()")
    assert urls and all(str(u).isascii() for u in urls), urls
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    for entry in parsed.entries:
        enclosure = entry.enclosures[0]
        assert enclosure.href.startswith(base + "/")
        served = ready.public_dir / enclosure.href.removeprefix(base + "/")
        assert served.stat().st_size == int(enclosure.length)
    # Published again at the same address, typed as before: not a move.
    with ready.session() as session:
        get_episode(session, 2).title = "第2期：改过"
    assert publish(station=ready, base_url=typed, now=NOW).ok
    assert b"new-feed-url" not in (ready.public_dir / "feeds/generic.xml").read_bytes()


def test_a_failure_while_writing_leaves_every_feed_old_and_is_cleaned_up_next_time(
    ready: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(station=ready, now=NOW)
    old = {name: (ready.public_dir / f"feeds/{name}.xml").read_bytes() for name in PROFILES}
    with ready.session() as session:
        get_episode(session, 3).title = "第二版"
    real, calls = files.write_new, []

    def failing(dest: Path, data: bytes, **kwargs: object) -> None:
        if dest.suffix == ".xml" and len(calls) == 2:
            raise OSError("disk full")
        calls.append(dest)
        real(dest, data, **kwargs)

    monkeypatch.setattr(files, "write_new", failing)
    with pytest.raises(OSError):
        publish(station=ready, now=NOW)
    assert [_old_or_new(ready, name, old) for name in PROFILES] == ["old"] * 5
    assert len([p for p in (ready.root / ".public").iterdir() if p.is_dir()]) == 2
    monkeypatch.setattr(files, "write_new", real)
    assert publish(station=ready, now=NOW).switched
    assert [_old_or_new(ready, name, old) for name in PROFILES] == ["new"] * 5
    assert len([p for p in (ready.root / ".public").iterdir() if p.is_dir()]) == 1


def _old_or_new(station: Station, name: str, old: dict[str, bytes]) -> str:
    data = (station.public_dir / f"feeds/{name}.xml").read_bytes()
    if data == old[name]:
        return "old"
    titles = etree.fromstring(data).xpath("//item/title/text()")  # parses: never half a file
    assert "第二版" in titles
    return "new"


KILLABLE = """
import sys, time
from pathlib import Path
from feeds import files
from feeds.publish import publish
from hotline.station import open_station

for name in ("write_new", "link_or_copy"):
    real = getattr(files, name)
    def slow(*args, real=real, **kwargs):
        time.sleep(0.01)
        real(*args, **kwargs)
    setattr(files, name, slow)
print("ready", flush=True)
publish(station=open_station(Path(sys.argv[1])))
"""


def test_killing_publish_at_random_moments_leaves_every_feed_old_or_every_feed_new(
    ready: Station,
) -> None:
    publish(station=ready, now=datetime.now(UTC))
    old = {name: (ready.public_dir / f"feeds/{name}.xml").read_bytes() for name in PROFILES}
    with ready.session() as session:
        get_episode(session, 3).title = "第二版"
    rng = random.Random(7)
    seen = set()
    for _ in range(6):
        child = subprocess.Popen(
            [sys.executable, "-c", KILLABLE, str(ready.root)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert child.stdout is not None
        child.stdout.readline()  # imports done
        time.sleep(rng.uniform(0.0, 0.6))
        child.send_signal(signal.SIGKILL)
        child.wait()
        states = {_old_or_new(ready, name, old) for name in PROFILES}
        assert len(states) == 1, states  # all old or all new, never a mix
        seen |= states
        if states == {"new"}:
            break
    report = publish(station=ready)  # a later run cleans up and finishes the job
    assert report.ok
    assert [_old_or_new(ready, name, old) for name in PROFILES] == ["new"] * 5
    store = [p.name for p in (ready.root / ".public").iterdir()]
    shown = os.readlink(ready.public_dir).split("/")[-1]
    assert sorted(store) == sorted(["publish.lock", shown, f"{shown}.validated.json"])
    assert not list(ready.root.glob(".public-switch-*"))


class _Quiet:
    def started(self, job: object) -> None: ...

    def progress(self, job: object, fraction: float, message: str) -> None: ...

    def finished(self, outcome: object) -> None: ...


def test_the_publish_stage_runs_after_mastering_and_publishes_the_episode(ready: Station) -> None:
    from hotline import jobs
    from hotline.models import JobKind
    from hotline.pipeline import STAGES, process

    assert "publish" in STAGES
    with ready.session() as session:
        job = jobs.enqueue(
            session=session, kind=JobKind.publish, episode_id=get_episode(session, 2).id
        )
    summary = process(station=ready, observer=_Quiet(), kind="publish")
    outcome = summary.outcomes[0]
    assert outcome.status == "done", outcome.message
    assert outcome.message == "published: 3 episodes in 5 feeds"
    assert stored(ready, 2).status == EpisodeStatus.published
    assert (ready.public_dir / "feeds/apple.xml").is_file()
    assert job.id is not None


def test_a_publish_job_that_meets_its_database_gone_publishes_once_it_is_back(
    ready: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    import feeds.publish
    from hotline import jobs, running
    from hotline.models import JobKind
    from hotline.pipeline import process

    real, calls = feeds.publish.publish, []

    def server_restarting_once(**kwargs: object) -> object:
        calls.append(kwargs)
        if len(calls) == 1:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(feeds.publish, "publish", server_restarting_once)
    monkeypatch.setattr(running, "RETRY_EVERY", 0.0)
    with ready.session() as session:
        jobs.enqueue(session=session, kind=JobKind.publish, episode_id=get_episode(session, 2).id)
    outcome = process(station=ready, observer=_Quiet(), kind="publish").outcomes[0]
    assert (outcome.status, outcome.message) == ("done", "published: 3 episodes in 5 feeds")
    assert len(calls) == 2 and stored(ready, 2).status == EpisodeStatus.published

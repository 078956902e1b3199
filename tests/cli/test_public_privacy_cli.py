"""Nothing private in public: contacts typed anywhere never reach public/ or a feed."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from hotline.config import save_settings
from hotline.models import Member, Question, QuestionStatus
from hotline.station import Station
from transcripts.formats import Cue
from transcripts.store import save_transcript

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from feeds_fixtures import add_episode, use_cover, write_transcripts  # noqa: E402

PHONE = "13711112222"
SPOKEN = "一三七一一一一二二二二"
SPACED = "137 1111 2222"
LANDLINE = "021-62345678"
ID_NUMBER = "11010119900307775X"
EMAIL = "zhang.lili@qq.com"
WECHAT = "wxid_lili1988"  # a listener's contact the patterns cannot know
SECRETS = (PHONE, SPOKEN, SPACED, "62345678", "1101011990030777", EMAIL, WECHAT)


def seeded(secret: str) -> str:
    return f"请联系{secret}谢谢"


@pytest.fixture
def leaky(station: Station) -> Station:
    """Contacts in every free-text field a listener could see a trace of."""
    use_cover(station)
    show = station.settings.show
    show.description = f"节目热线{PHONE}，邮箱{EMAIL}"
    show.hosts = ["李明", f"王芳{LANDLINE}"]
    save_settings(station.settings, station.settings_path)
    with station.session() as session:
        episode = add_episode(
            station,
            session,
            1,
            title=f"第1期：听众{SPACED}来电",
            topic=f"身份证{ID_NUMBER}",
            description=f"听众{WECHAT}说：{seeded(PHONE)}；座机{LANDLINE}",
            guests=(f"张委员{PHONE}",),
            questions=(),
            transcripts=False,
        )
        session.add(Member(name="李委员", sector="医药卫生界", contact=WECHAT))
        for offset, topic, text in (
            (60.0, "", f"我的电话{PHONE}请回电"),  # no topic: never the text
            (300.0, f"回电{PHONE}", "医保问题"),  # a topic typed with a number in it
            (600.0, "", f"邮件{EMAIL}"),
        ):
            session.add(
                Question(
                    channel="phone",
                    text=text,
                    topic=topic,
                    status=QuestionStatus.answered,
                    episode_id=episode.id,
                    answer_offset=offset,
                    listener_name="王女士",
                    listener_contact=WECHAT,
                    district=f"徐汇{PHONE}",
                    referral_department=f"区住建局{EMAIL}",
                )
            )
        add_episode(station, session, 2, questions=(), transcripts=False)
        # Episode 2's transcript is only in the database (imported, restored, the demo).
        save_transcript(
            session=session,
            episode=2,
            segments=[
                Cue(0.0, 5.0, f"我的电话是{SPOKEN}"),
                Cue(5.0, 9.0, f"身份证号{ID_NUMBER}，微信{WECHAT}"),
            ],
        )
    write_transcripts(
        station,
        1,
        [f"听众：我的手机是{PHONE}", f"号码是{SPOKEN}，再说一遍{SPACED}", f"邮箱{EMAIL}"],
    )
    return station


def public_files(station: Station) -> list[Path]:
    root = station.public_dir.resolve()
    return [p for p in root.rglob("*") if p.is_file()]


def test_nothing_private_reaches_public_or_any_feed(
    leaky: Station, cli: Callable[..., Any]
) -> None:
    r = cli("publish")
    assert r.exit_code == 0, r.stderr
    found = public_files(leaky)
    feeds = [p for p in found if p.suffix == ".xml"]
    assert len(feeds) == 5
    assert {p.name for p in found} >= {"0002.vtt", "0002.srt", "0002.json", "0001.json"}
    for path in found:
        if path.suffix == ".mp3":
            continue  # stand-in masters: the tags test masters and tags real audio
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret} in {path.name}"
    generic = etree.fromstring((leaky.public_dir / "feeds/generic.xml").read_bytes())
    # Masked, not removed: a listener sees that something was said there.
    assert "听众***********来电" in "".join(generic.xpath("//item/title/text()")).replace(" ", "")
    chapters = json.loads((leaky.public_dir / "chapters/0001.json").read_text("utf-8"))
    assert [c["title"] for c in chapters["chapters"]] == [
        "开场",
        "听众提问",
        "回电***********",
        "听众提问",
    ]
    vtt = (leaky.public_dir / "transcripts/0002.vtt").read_text("utf-8")
    assert "我的电话是***********" in vtt
    # The station's own copies keep what was said.
    assert SPOKEN in (leaky.transcripts_dir / "0002.json").read_text("utf-8")
    assert PHONE in (leaky.transcripts_dir / "0001.srt").read_text("utf-8")


def test_a_public_title_is_what_listeners_see_and_cannot_carry_a_number(
    leaky: Station, cli: Callable[..., Any]
) -> None:
    r = cli("questions", "edit", "1", "--public-title", f"回电{PHONE}")
    assert r.exit_code == 1
    assert "carries a phone number" in r.stderr
    r = cli("questions", "edit", "1", "--public-title", "江滨区幸福路12号漏水")
    assert r.exit_code == 1
    assert "carries a house address (路12号)" in r.stderr
    r = cli("questions", "edit", "1", "--topic", "3号楼2单元")
    assert r.exit_code == 1
    r = cli("questions", "edit", "1", "--public-title", "老楼加装电梯补贴")
    assert r.exit_code == 0, r.stderr
    assert "老楼加装电梯补贴" in r.stdout
    assert cli("questions", "show", "1", "--json").json()["public_title"] == "老楼加装电梯补贴"
    assert cli("publish").exit_code == 0
    chapters = json.loads((leaky.public_dir / "chapters/0001.json").read_text("utf-8"))
    assert chapters["chapters"][1]["title"] == "老楼加装电梯补贴"
    apple = (leaky.public_dir / "feeds/apple.xml").read_text("utf-8")
    assert "<li>[00:01:00] 老楼加装电梯补贴</li>" in apple


def test_the_database_and_its_wal_files_are_readable_by_their_owner_only(
    leaky: Station, cli: Callable[..., Any]
) -> None:
    assert cli("episodes", "list").exit_code == 0
    for name in ("hotline.db", "hotline.db-wal", "hotline.db-shm"):
        path = leaky.root / name
        if path.exists():
            assert path.stat().st_mode & 0o077 == 0, name

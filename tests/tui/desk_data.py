"""The small Chinese station the desk's tests run on: five episodes (two aired), four
members (one inactive), bookings, three departments and five questions, at a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from episodes import bookings, questions, schedule
from episodes.departments import add_department
from episodes.members import add_member
from hotline.models import Episode, EpisodeStatus
from hotline.station import Station

# Wednesday 2025-06-04 10:00 in Shanghai: episode 1000 (Saturday 06-07 11:00) is next.
NOW = datetime(2025, 6, 4, 2, 0, tzinfo=UTC)
EPISODES = (
    (998, "2025-05-24 11:00", "第998期：老旧小区加装电梯", "老旧小区", EpisodeStatus.published),
    (999, "2025-05-31 11:00", "第999期：医保异地结算", "医保", EpisodeStatus.published),
    (1000, "2025-06-07 11:00", "第1000期：暑期托管服务", "教育", EpisodeStatus.confirmed),
    (1001, "2025-06-14 11:00", "第1001期：垃圾分类", "环境", EpisodeStatus.planned),
    (1002, "2025-06-21 11:00", "第1002期：社区养老服务", "养老", EpisodeStatus.planned),
)
MEMBERS = (
    ("王伟", "教育界", "市", "13900001111", True),
    ("李娜", "医药卫生界", "省", "13900002222", True),
    ("张敏", "经济界", "市", "13900003333", False),
    ("陈静", "社会福利和社会保障界", "区", "chen@example.cn", True),
)
DEPARTMENTS = (
    ("区教育局", "021-62345678"),
    ("市医疗保障局", "yibao@example.cn"),
    ("市住房和城乡建设管理委员会", "021-23118888"),
)
QUESTIONS = (
    ("我家小区旁边的工地晚上十点以后还在施工，能不能管一管？", "phone", "王女士", "13812345678"),
    ("孩子暑假没人带，社区有没有托管班？", "wechat", "刘先生", "13698765432"),
    ("暑期托管班收费标准是多少？", "sms", "赵阿姨", "13511112222"),
    ("退休人员医保异地结算怎么办理？", "email", "孙先生", "sun@example.cn"),
    ("老旧小区加装电梯，一楼住户不同意怎么办？", "letter", "周女士", "13022223333"),
)


def fill(station: Station) -> None:
    """Five episodes (two aired), four members (one inactive), bookings, three departments,
    five questions."""
    tz, settings = station.tz, station.settings
    with station.session() as session:
        for number, air, title, topic, _ in EPISODES:
            schedule.add_episode(
                session=session,
                settings=settings,
                number=number,
                title=title,
                air=air,
                topic=topic,
                description=f"政协委员谈{topic}。",
                now=NOW - timedelta(days=60),  # scheduled well before any of them aired
            )
        for number, *_, status in EPISODES:
            episode = session.exec(select(Episode).where(Episode.number == number)).one()
            episode.status = status  # test data: skip the pipeline that would get it there
        for name, sector, level, contact, active in MEMBERS:
            add_member(
                session=session,
                name=name,
                sector=sector,
                level=level,
                contact=contact,
                affiliation=f"{sector}委员",
                active=active,
            )
        for name, contact in DEPARTMENTS:
            add_department(session=session, name=name, contact=contact)
        before = NOW - timedelta(days=20)
        common = {"session": session, "settings": settings}
        bookings.add_booking(**common, episode=999, member=2, now=before)
        bookings.confirm_booking(**common, episode=999, member=2, now=before)
        bookings.mark_appeared(**common, episode=999, member=2, now=NOW)
        bookings.add_booking(**common, episode=1000, member=1, now=NOW)
        bookings.confirm_booking(**common, episode=1000, member=1, now=NOW)
        for hours, (text, channel, name, contact) in enumerate(QUESTIONS, start=1):
            questions.add_question(
                session=session,
                text=text,
                channel=channel,
                listener_name=name,
                listener_contact=contact,
                received_at=NOW - timedelta(hours=10 - hours),
            )
        questions.screen(session=session, question=2)
        questions.screen(session=session, question=3)
        questions.assign(session=session, question=3, episode=1000, now=NOW)
        questions.screen(session=session, question=4)
        questions.assign(session=session, question=4, episode=999, confirm=True)
        questions.answer(session=session, question=4, member=2, at="12:30")
    assert tz is not None

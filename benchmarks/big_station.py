"""A large station for benchmarks, built fast with bulk inserts (SQLAlchemy core, not the CLI).

1200 weekly episodes (Saturdays 11:00 Asia/Shanghai, the last 52 still to come), 3000
members across the 31 sectors, 10 000 bookings and 50 000 listener questions in every
status, seeded so every build is the same. 10 000 of the questions were referred (转办)
to 60 departments over the twenty years: the resolved ones replied and called back, the
ones still referred mostly replied and waiting for the call-back, a tenth never answered
(overdue). The last ``FRESH`` upcoming episodes and members have no bookings, so a
benchmark can book each pair once and succeed.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hotline import models
from hotline.station import Station, init_station
from hotline.vocab import sectors

SHANGHAI = ZoneInfo("Asia/Shanghai")
EPISODES = 1200
UPCOMING = 52
MEMBERS = 3000
BOOKINGS = 10_000
QUESTIONS = 50_000
FRESH = 20  # upcoming episodes and members left without bookings, one pair per `bookings add`
DEPARTMENTS = 60
REFERRALS = 10_000

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌辉力宁海波晨雪梅琳鹏宇浩凯"
)
TOPICS = ("养老", "医保", "教育", "住房", "交通", "就业", "食品安全", "环境", "社区治理", "物业")
QUESTION_STATUS_WEIGHTS = {
    "new": 2,
    "screened": 3,
    "assigned": 5,
    "answered": 40,
    "referred": 15,
    "resolved": 25,
    "rejected": 7,
    "duplicate": 3,
}
PAST_BOOKING_STATUSES = ("appeared", "appeared", "appeared", "declined", "cancelled", "no_show")


@dataclass
class BuiltStation:
    station: Station
    fresh_episodes: list[int]  # episode numbers
    fresh_members: list[int]  # member ids
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _saturdays(count: int, upcoming: int) -> list[datetime]:
    """``count`` weekly Saturdays 11:00 Shanghai, the last ``upcoming`` of them after today."""
    today = datetime.now(SHANGHAI).date()
    next_saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    first = next_saturday - timedelta(weeks=count - upcoming)
    return [
        datetime.combine(first + timedelta(weeks=i), datetime.min.time(), SHANGHAI)
        .replace(hour=11)
        .astimezone(UTC)
        for i in range(count)
    ]


def _episodes(now: datetime) -> list[dict[str, Any]]:
    rows = []
    for number, air in enumerate(_saturdays(EPISODES, UPCOMING), 1):
        topic = TOPICS[number % len(TOPICS)]
        rows.append(
            {
                "id": number,
                "number": number,
                "title": f"第{number}期：{topic}问题面对面",
                "topic": topic,
                "air_start": air,
                "duration_minutes": 60,
                "status": "published" if air < now else "planned",
                "hosts": ["李明", "王芳"],
                "description": f"政协委员与听众一起聊{topic}。",
                "created_at": air - timedelta(days=30),
                "updated_at": air,
            }
        )
    return rows


def _members(rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    names = sectors()
    levels = [level.value for level in models.Level]
    return [
        {
            "id": i,
            "name": rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
            "sector": names[i % len(names)],
            "level": rng.choice(levels),
            "affiliation": f"{rng.choice(TOPICS)}研究会",
            "district": rng.choice(("黄浦区", "徐汇区", "浦东新区", "静安区", "闵行区")),
            "contact": f"139{i:08d}",
            "active": rng.random() > 0.05 or i > MEMBERS - FRESH,
            "created_at": now - timedelta(days=3000),
        }
        for i in range(1, MEMBERS + 1)
    ]


def _bookings(rng: random.Random, episodes: list[dict[str, Any]], now: datetime) -> list[dict]:
    regular = MEMBERS - FRESH  # the last FRESH members stay unbooked
    upcoming = [e for e in episodes if e["air_start"] >= now][: UPCOMING - FRESH]
    past = [e for e in episodes if e["air_start"] < now]
    pairs: set[tuple[int, int]] = set()
    rows: list[dict[str, Any]] = []

    def book(episode: dict[str, Any], status: str) -> None:
        member = rng.randint(1, regular)
        if (episode["id"], member) in pairs:
            return
        pairs.add((episode["id"], member))
        rows.append(
            {
                "id": len(rows) + 1,
                "episode_id": episode["id"],
                "member_id": member,
                "role": rng.choice(("guest", "guest", "expert", "official")),
                "status": status,
                "created_at": episode["air_start"] - timedelta(days=14),
                "updated_at": episode["air_start"],
            }
        )

    for episode in upcoming:
        book(episode, "invited")
    while len(rows) < BOOKINGS:
        book(rng.choice(past), rng.choice(PAST_BOOKING_STATUSES))
    return rows


def _questions(rng: random.Random, episodes: list[dict[str, Any]], now: datetime) -> list[dict]:
    past = [e for e in episodes if e["air_start"] < now]
    statuses = list(QUESTION_STATUS_WEIGHTS)
    weights = list(QUESTION_STATUS_WEIGHTS.values())
    start = past[0]["air_start"]
    span = (now - start).total_seconds()
    rows: list[dict[str, Any]] = []
    for i in range(1, QUESTIONS + 1):
        status = rng.choices(statuses, weights)[0]
        # Newer questions are more likely still open: "new" ones come from the last month.
        received = (
            now - timedelta(seconds=rng.uniform(0, 30 * 86400))
            if status in ("new", "screened")
            else start + timedelta(seconds=span * i / QUESTIONS)
        )
        topic = rng.choice(TOPICS)
        episode = rng.choice(past)["id"] if status in ("assigned", "answered") else None
        rows.append(
            {
                "id": i,
                "received_at": received,
                "channel": rng.choice([c.value for c in models.Channel]),
                "listener_name": rng.choice(SURNAMES) + rng.choice(("先生", "女士", "阿姨")),
                "listener_contact": f"138{rng.randint(0, 99_999_999):08d}",
                "district": rng.choice(("黄浦区", "徐汇区", "浦东新区")),
                "topic": topic,
                "text": f"关于{topic}，我想问一下：{rng.choice(GIVEN)}小区的情况什么时候能解决？",
                "status": status,
                "episode_id": episode,
                "member_id": rng.randint(1, MEMBERS - FRESH) if status == "answered" else None,
                "answer_offset": rng.uniform(60, 3500) if status == "answered" else None,
                "referral_department": "市民政局" if status == "referred" else "",
                "duplicate_of": rng.randint(1, i - 1) if status == "duplicate" and i > 1 else None,
                "reject_reason": "与节目无关" if status == "rejected" else "",
                "updated_at": received,
            }
        )
    return rows


def _departments(now: datetime) -> list[dict[str, Any]]:
    kinds = ("局", "委员会", "办公室", "街道办事处", "中心")
    return [
        {
            "id": i,
            "name": f"市第{i}{kinds[i % len(kinds)]}"
            if i % 7
            else f"{TOPICS[i % len(TOPICS)]}{i}办",
            "contact": f"021-6{i:07d}",
            "note": "",
            "active": True,
            "created_at": now - timedelta(days=8000),
            "updated_at": now - timedelta(days=8000),
        }
        for i in range(1, DEPARTMENTS + 1)
    ]


def _referrals(
    rng: random.Random, questions: list[dict[str, Any]], departments: list[dict[str, Any]]
) -> tuple[list[dict], list[dict]]:
    """Referrals for every referred question and the first resolved ones, up to REFERRALS;
    call-backs for the closed ones. Due five weekdays after sending (no holiday calendar:
    building the station must not depend on the years the calendar package knows)."""
    chosen = [q for q in questions if q["status"] == "referred"]
    chosen += [q for q in questions if q["status"] == "resolved"][: REFERRALS - len(chosen)]
    chosen.sort(key=lambda q: q["id"])
    referrals, callbacks = [], []
    for n, question in enumerate(chosen[:REFERRALS], 1):
        department = rng.choice(departments)
        question["referral_department"] = department["name"]
        sent = question["received_at"] + timedelta(days=rng.randint(1, 3))
        due = sent + timedelta(days=7)
        closed = question["status"] == "resolved"
        answered = closed or rng.random() < 0.9
        replied = sent + timedelta(days=rng.randint(1, 12)) if answered else None
        referrals.append(
            {
                "id": n,
                "question_id": question["id"],
                "department_id": department["id"],
                "sent_at": sent,
                "due_at": due,
                "status": "closed" if closed else ("replied" if answered else "open"),
                "reply_text": "已责成相关部门办理，办理结果已告知来信人。" if answered else "",
                "replied_at": replied,
                "close_reason": "",
                "updated_at": replied or sent,
            }
        )
        if closed:
            callbacks.append(
                {
                    "id": len(callbacks) + 1,
                    "question_id": question["id"],
                    "referral_id": n,
                    "outcome": rng.choice(("satisfied", "satisfied", "partly", "unsatisfied")),
                    "note": "",
                    "made_by": "张蕾",
                    "made_at": replied + timedelta(days=2),
                }
            )
    return referrals, callbacks


def build_station(root: Path, seed: int = 20220813) -> BuiltStation:
    """Create and fill the large station at ``root`` with bulk inserts."""
    started = time.perf_counter()
    station, _ = init_station(root)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    episodes = _episodes(now)
    members = _members(rng, now)
    bookings = _bookings(rng, episodes, now)
    questions = _questions(rng, episodes, now)
    departments = _departments(now)
    referrals, callbacks = _referrals(rng, questions, departments)
    tables: list[tuple[Any, list[dict[str, Any]]]] = [
        (models.Episode, episodes),
        (models.Member, members),
        (models.Booking, bookings),
        (models.Question, questions),
        (models.Department, departments),
        (models.Referral, referrals),
        (models.Callback, callbacks),
    ]
    with station.engine.begin() as conn:
        for model, rows in tables:
            conn.execute(model.__table__.insert(), rows)
    fresh_episodes = [e["number"] for e in episodes if e["air_start"] >= now][-FRESH:]
    return BuiltStation(
        station=station,
        fresh_episodes=fresh_episodes,
        fresh_members=list(range(MEMBERS - FRESH + 1, MEMBERS + 1)),
        counts={model.__tablename__: len(rows) for model, rows in tables},
        seconds=time.perf_counter() - started,
    )

"""Listener questions: the lifecycle, routing, bad input, filters and duplicate hints."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from episodes import duplicates
from episodes import questions as q
from hotline import db
from hotline.config import Settings
from hotline.errors import (
    Conflict,
    HotlineError,
    InvalidInput,
    InvalidTransition,
    NeedsConfirmation,
    NotFound,
)
from hotline.models import (
    Booking,
    Department,
    Episode,
    EpisodeStatus,
    Member,
    Question,
    QuestionStatus,
    ShowClock,
)

AIR = datetime(2022, 8, 13, 3, 0, tzinfo=UTC)  # episode 1000, 11:00 Asia/Shanghai
BEFORE = AIR - timedelta(days=1)  # routing happens before the show

NOISE = "我家小区旁边的工地每天晚上十点以后还在施工，噪音太大了，能不能管一管？"
NOISE_AGAIN = "小区旁边工地夜里十点后还在施工，噪音扰民，希望有关部门管管。"
SCHOOL = "孩子今年九月上小学，户口不在本区，入学需要准备哪些材料？"
SCHOOL_AGAIN = "户口不在本区的孩子九月上小学，入学要准备什么材料？"
MEDICAL = "退休人员异地就医，医保报销比例为什么比本地低？"
MEDICAL_AGAIN = "异地就医的退休人员医保报销比例比在本地低，这是为什么？"
LIFT = "老旧小区加装电梯，一楼住户不同意怎么办？"
LIFT_AGAIN = "我们是老旧小区，想加装电梯，但一楼的住户不同意，该怎么办？"
BUS = "公交12路车站撤了以后，老人出行很不方便，能否恢复？"
BUS_AGAIN = "12路公交站撤销后老年人出行不便，请求恢复站点"
MARKET = "菜市场门口占道经营严重，早高峰堵得走不动。"
MARKET_AGAIN = "菜市场门口占道经营，早高峰非常堵"
PARAPHRASES = [
    (NOISE, NOISE_AGAIN),
    (SCHOOL, SCHOOL_AGAIN),
    (MEDICAL, MEDICAL_AGAIN),
    (LIFT, LIFT_AGAIN),
    (BUS, BUS_AGAIN),
    (MARKET, MARKET_AGAIN),
    (
        "我家小区旁边的工地每天晚上十点以后还在施工，噪音太大了，邻居们都睡不好觉，"
        "孩子第二天还要上学，打了好几次投诉电话都没有用。",
        "工地夜间施工噪音扰民",
    ),
]
DIFFERENT = [
    (NOISE, "小区里的垃圾分类桶经常满了没人清理，味道很大。"),
    (SCHOOL, MEDICAL),
    (LIFT, "老旧小区改造什么时候能轮到我们小区？"),
    (BUS, "地铁3号线延长线什么时候开通？"),
    ("希望政府部门关注一下农村养老问题，现在老人看病难。", "希望有关部门关注一下城市停车难问题。"),
    ("社区医院能不能开通医保异地结算？", MEDICAL),
    ("小区停车难", NOISE),
]


DEPARTMENTS = ("区城管局", "区教育局", "区住建局")
SETTINGS = Settings()


def make_engine(path: Path) -> Engine:
    engine = db.make_engine(db.sqlite_url(path))
    SQLModel.metadata.create_all(engine)
    return engine


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(tmp_path / "questions.db")
    with Session(engine) as s:
        s.add(Episode(number=1000, title="城市更新", air_start=AIR))
        s.add(Episode(number=1001, title="教育", air_start=AIR + timedelta(days=7)))
        s.add(
            Episode(
                number=999,
                title="停播",
                air_start=AIR - timedelta(days=7),
                status=EpisodeStatus.cancelled,
            )
        )
        s.add(Member(name="王建国", sector="中国共产党"))
        s.add(Member(name="李秀英", sector="教育界"))
        s.add(Member(name="赵敏", sector="医药卫生界"))  # booked on neither
        s.flush()
        book_guests(s)
        s.add_all(Department(name=name) for name in DEPARTMENTS)
        s.commit()
        yield s


def book_guests(s: Session) -> None:
    """王建国 and 李秀英 are confirmed guests of episodes 1000 and 1001."""
    for number in (1000, 1001):
        episode = s.exec(select(Episode).where(Episode.number == number)).one()
        for name in ("王建国", "李秀英"):
            member = s.exec(select(Member).where(Member.name == name)).one()
            s.add(Booking(episode_id=episode.id, member_id=member.id, status="confirmed"))
    s.flush()


def add(session: Session, text: str = NOISE, **kwargs: object) -> Question:
    kwargs.setdefault("channel", "phone")
    question, _ = q.add_question(session=session, text=text, **kwargs)
    return question


def assigned(session: Session, text: str = NOISE, episode: int = 1000) -> Question:
    question = add(session, text)
    q.screen(session=session, question=question.id)
    return q.assign(session=session, question=question.id, episode=episode, now=BEFORE)


# The lifecycle table


def test_every_status_is_reachable_from_new_and_finals_have_no_moves() -> None:
    seen, todo = {QuestionStatus.new}, [QuestionStatus.new]
    while todo:
        for target in q.LIFECYCLE[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen == set(QuestionStatus)
    for final in (QuestionStatus.resolved, QuestionStatus.rejected, QuestionStatus.duplicate):
        assert q.LIFECYCLE[final] == ()
    assert set(q.VERBS) == set(QuestionStatus) - {QuestionStatus.new}


def test_the_whole_way_through_with_chinese_text(session: Session) -> None:
    question = add(session, "  请问社区养老食堂\x07什么时候开？\x1b ", listener_name="张阿姨")
    assert question.text == "请问社区养老食堂什么时候开？"
    assert question.status == "new"
    q.screen(session=session, question=question.id)
    q.assign(session=session, question=question.id, episode=1000, now=BEFORE)
    q.answer(session=session, question=question.id, member="王建国", at="12:34")
    assert question.status == "answered"
    assert question.answer_offset == 754
    assert (
        question.episode_id == session.exec(select(Episode.id).where(Episode.number == 1000)).one()
    )
    q.resolve(session=session, question=question.id)
    assert session.get(Question, question.id).status == "resolved"


def test_a_move_outside_the_lifecycle_names_the_allowed_moves(session: Session) -> None:
    question = add(session)
    with pytest.raises(
        InvalidTransition, match=r"is new: cannot answer it; allowed: screen, reject, duplicate"
    ):
        q.answer(session=session, question=question.id, member="王建国")
    q.reject(session=session, question=question.id, reason="不属于本节目范围")
    with pytest.raises(InvalidTransition, match="rejected: cannot screen it; it is final"):
        q.screen(session=session, question=question.id)


def test_reject_needs_a_reason_and_only_from_new_or_screened(session: Session) -> None:
    question = add(session)
    with pytest.raises(InvalidInput, match="reject reason must not be empty"):
        q.reject(session=session, question=question.id, reason="  ")
    assert session.get(Question, question.id).status == "new"
    later = assigned(session, SCHOOL)
    with pytest.raises(InvalidTransition, match="allowed: assign, answer, refer, duplicate"):
        q.reject(session=session, question=later.id, reason="重复")


def test_refer_from_screened_and_after_an_answer(session: Session) -> None:
    street = add(session, "我们楼下的路灯坏了一个月了")
    q.screen(session=session, question=street.id)
    q.refer(session=session, settings=SETTINGS, question=street.id, department="区城管局")
    assert street.status == "referred" and street.referral_department == "区城管局"
    q.resolve(session=session, question=street.id, reason="路灯已修好，听众来电告知")
    answered = assigned(session, SCHOOL)
    q.answer(session=session, question=answered.id, member="李秀英")
    q.refer(session=session, settings=SETTINGS, question=answered.id, department="区教育局")
    assert answered.member_id is not None and answered.status == "referred"
    with pytest.raises(InvalidInput, match="department must not be empty"):
        q.refer(
            session=session,
            settings=SETTINGS,
            question=assigned(session, MEDICAL).id,
            department="",
        )


def test_reassign_to_another_episode_but_never_a_cancelled_one(session: Session) -> None:
    question = assigned(session)
    q.assign(session=session, question=question.id, episode=1001, now=BEFORE)
    assert question.status == "assigned"
    with pytest.raises(Conflict, match="episode 999 is cancelled"):
        q.assign(session=session, question=question.id, episode=999, now=BEFORE)
    with pytest.raises(NotFound, match="episode 4242 does not exist"):
        q.assign(session=session, question=question.id, episode=4242, now=BEFORE)
    assert session.get(Episode, question.episode_id).number == 1001


def test_each_move_stamps_updated_at(session: Session) -> None:
    question = add(session)
    before = question.updated_at
    q.screen(session=session, question=question.id)
    assert question.updated_at > before


# Answering


@pytest.mark.parametrize(
    ("at", "seconds"), [("05:07", 307), ("1:02:03", 3723), ("59:59", 3599), (None, None)]
)
def test_answer_offsets(session: Session, at: str | None, seconds: float | None) -> None:
    question = assigned(session)
    # A two-hour special, so HH:MM:SS fits.
    session.get(Episode, question.episode_id).duration_minutes = 120
    q.answer(session=session, question=question.id, member="#1", at=at)
    assert question.answer_offset == seconds


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("12:75", "not a time offset"),
        ("abc", "not a time offset"),
        ("-1:00", "not a time offset"),
        ("nan", "not a time offset"),
        ("75:00", "past the end of episode 1000 \\(01:00:00\\)"),
    ],
)
def test_bad_answer_offsets_are_refused(session: Session, at: str, message: str) -> None:
    question = assigned(session)
    with pytest.raises(InvalidInput, match=message):
        q.answer(session=session, question=question.id, member="王建国", at=at)
    assert question.status == "assigned" and question.member_id is None


def test_answer_in_another_episode_and_unknown_member(session: Session) -> None:
    question = assigned(session)
    with pytest.raises(NotFound, match="no member named '赵无名'"):
        q.answer(session=session, question=question.id, member="赵无名")
    q.answer(session=session, question=question.id, member="李秀英", episode=1001)
    assert session.get(Episode, question.episode_id).number == 1001


# Duplicates


def test_mark_duplicate_of_an_open_question(session: Session) -> None:
    original, again = add(session, NOISE), add(session, NOISE_AGAIN)
    with pytest.raises(InvalidInput, match="cannot be a duplicate of itself"):
        q.mark_duplicate(session=session, question=again.id, of=again.id)
    with pytest.raises(NotFound, match="question 999 \\(the original\\) does not exist"):
        q.mark_duplicate(session=session, question=again.id, of=999)
    q.mark_duplicate(session=session, question=again.id, of=original.id)
    assert again.status == "duplicate" and again.duplicate_of == original.id
    third = add(session, NOISE)
    with pytest.raises(Conflict, match=f"question {again.id} is duplicate: a duplicate must point"):
        q.mark_duplicate(session=session, question=third.id, of=again.id)


def test_duplicates_of_a_question_that_becomes_a_duplicate_follow_it(session: Session) -> None:
    first, second, third = add(session, NOISE), add(session, NOISE_AGAIN), add(session, NOISE)
    q.mark_duplicate(session=session, question=third.id, of=second.id)
    q.mark_duplicate(session=session, question=second.id, of=first.id)
    session.expire_all()
    assert session.get(Question, third.id).duplicate_of == first.id
    assert session.get(Question, second.id).duplicate_of == first.id


@pytest.mark.parametrize(("first", "second"), PARAPHRASES)
def test_paraphrases_are_hinted(session: Session, first: str, second: str) -> None:
    original = add(session, first)
    add(session, MEDICAL if first != MEDICAL else SCHOOL)  # an unrelated open question
    _, hints = q.add_question(session=session, text=second, channel="wechat")
    assert [h.id for h in hints] == [original.id]
    assert hints[0].similarity >= duplicates.THRESHOLD
    assert first.startswith(hints[0].snippet.rstrip("…"))


@pytest.mark.parametrize(("first", "second"), DIFFERENT)
def test_different_questions_are_not_hinted(session: Session, first: str, second: str) -> None:
    add(session, first)
    _, hints = q.add_question(session=session, text=second, channel="sms")
    assert hints == []


def test_only_open_and_recent_questions_are_hinted(session: Session) -> None:
    closed = add(session, NOISE)
    q.reject(session=session, question=closed.id, reason="已转12345热线")
    stale = add(session, NOISE, received_at=datetime.now(UTC) - timedelta(days=400))
    screened = add(session, NOISE)
    q.screen(session=session, question=screened.id)
    _, hints = q.add_question(session=session, text=NOISE_AGAIN, channel="phone")
    assert [h.id for h in hints] == [screened.id]
    assert stale.id not in [h.id for h in hints]


def test_hints_stay_right_among_thousands_of_open_questions(session: Session) -> None:
    topics = ["垃圾分类", "停车收费", "养老服务", "医保报销", "学区划分", "物业管理"]
    start = datetime.now(UTC) - timedelta(days=30)
    for i in range(3000):
        session.add(
            Question(
                channel="web",
                text=f"第{i}号来信：关于{topics[i % 6]}的意见，编号{i * 7919 % 10007}。",
                received_at=start + timedelta(minutes=i),
            )
        )
    original = add(session, LIFT)
    _, hints = q.add_question(session=session, text=LIFT_AGAIN, channel="letter")
    assert [h.id for h in hints] == [original.id]


def test_similarity_is_symmetric_and_bounded() -> None:
    a, b = duplicates.bigrams(NOISE), duplicates.bigrams(NOISE_AGAIN)
    assert duplicates.similarity(a, b) == duplicates.similarity(b, a)
    assert duplicates.similarity(a, a) == 1.0
    assert duplicates.similarity(a, frozenset()) == 0.0
    assert duplicates.normalise("１２路，公交！") == "12路公交"


# Bad input on add


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": ""}, "question text must not be empty"),
        ({"text": " \x00\x07 "}, "question text must not be empty"),
        ({"text": "问" * 2001}, "question text is 2001 characters long; the limit is 2000"),
        ({"channel": "telegram"}, "unknown channel 'telegram'; use one of phone, wechat, sms"),
        ({"listener_name": "名" * 51}, "listener name is 51 characters long"),
        ({"received_at": datetime(2024, 1, 1)}, "aware datetime"),
    ],
)
def test_bad_input_on_add_changes_nothing(
    session: Session, kwargs: dict[str, object], message: str
) -> None:
    kwargs = {"text": NOISE, "channel": "phone", **kwargs}
    with pytest.raises(InvalidInput, match=message):
        q.add_question(session=session, **kwargs)
    assert session.exec(select(Question)).all() == []


def test_the_longest_text_is_accepted(session: Session) -> None:
    assert len(add(session, "问" * 2000).text) == 2000


# Listing


def test_list_filters_newest_first_with_limit(session: Session) -> None:
    base = datetime(2024, 3, 1, tzinfo=UTC)
    one = add(session, NOISE, received_at=base)
    two = add(session, SCHOOL, channel="wechat", received_at=base + timedelta(hours=1))
    three = add(
        session, "100%满意？学区_划分", channel="letter", received_at=base + timedelta(hours=2)
    )
    q.screen(session=session, question=two.id)
    q.assign(session=session, question=two.id, episode=1001, now=BEFORE)

    def ids(**filters: object) -> list[int]:
        return [v.question.id for v in q.list_questions(session=session, **filters)]

    assert ids() == [three.id, two.id, one.id]
    assert ids(limit=2) == [three.id, two.id]
    assert ids(limit=0) == [three.id, two.id, one.id]
    assert ids(status="new") == [three.id, one.id]
    assert ids(episode=1001) == [two.id]
    assert ids(channel="WeChat") == [two.id]
    assert ids(search="施工") == [one.id]
    assert ids(search="%") == [three.id]  # a literal percent sign, not a wildcard
    assert ids(search="区_划") == [three.id]
    assert ids(search="_") == [three.id]
    view = q.list_questions(session=session, episode=1001)[0]
    assert view.episode_number == 1001 and view.member is None
    with pytest.raises(InvalidInput, match="unknown question status 'open'"):
        q.list_questions(session=session, status="open")
    with pytest.raises(NotFound, match="episode 5 does not exist"):
        q.list_questions(session=session, episode=5)
    with pytest.raises(InvalidInput, match="limit -1"):
        q.list_questions(session=session, limit=-1)


def test_a_common_status_lists_the_same_newest_rows(session: Session) -> None:
    # A LIMIT page of a large status is the head of the full newest-first listing.
    start = datetime(2024, 1, 1, tzinfo=UTC)
    statuses = ["new", "new", "screened"]
    for i in range(2000):
        session.add(
            Question(
                channel="web",
                text=f"关于供暖的第{i}封来信",
                status=statuses[i % 3],
                received_at=start + timedelta(minutes=i // 2),  # pairs share a time
            )
        )
    session.flush()
    everything = q.list_questions(session=session, status="new", limit=0)
    newest = q.list_questions(session=session, status="new", limit=7)
    assert len(everything) > 1000
    assert [v.question.id for v in newest] == [v.question.id for v in everything[:7]]
    assert all(v.question.status == "new" for v in newest)


# Property: random sequences of operations only ever follow the lifecycle.

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            ["screen", "assign", "answer", "refer", "resolve", "reject", "duplicate", "add"]
        ),
        st.integers(min_value=1, max_value=4),  # question
        st.integers(min_value=1, max_value=4),  # other question / episode choice
        st.sampled_from(["", "  ", "区住建局", "10:00", "99:00", "12:75"]),
    ),
    max_size=20,
)


def apply(session: Session, op: str, question: int, other: int, value: str) -> None:
    episode = [999, 1000, 1001, 4242][other - 1]
    if op == "add":
        q.add_question(session=session, text=value or NOISE, channel="phone")
    elif op == "screen":
        q.screen(session=session, question=question)
    elif op == "assign":
        q.assign(session=session, question=question, episode=episode, confirm=other % 2 == 0)
    elif op == "answer":
        q.answer(session=session, question=question, member=other % 3 or "王建国", at=value or None)
    elif op == "refer":
        q.refer(session=session, settings=SETTINGS, question=question, department=value)
    elif op == "resolve":
        q.resolve(session=session, question=question, reason=value or None)
    elif op == "reject":
        q.reject(session=session, question=question, reason=value)
    else:
        q.mark_duplicate(session=session, question=question, of=other)


Row = tuple[str, int | None, int | None, int | None, float | None, str, str]


def snapshot(engine: Engine) -> dict[int, Row]:
    """Every question's status and routing fields, by id."""
    with Session(engine) as s:
        return {
            row.id: (
                row.status,
                row.episode_id,
                row.member_id,
                row.duplicate_of,
                row.answer_offset,
                row.reject_reason,
                row.referral_department,
            )
            for row in s.exec(select(Question))
        }


def check_invariants(rows: dict[int, Row]) -> None:
    """What every status implies about the other fields."""
    for qid, (status, episode, member, duplicate_of, _, reason, department) in rows.items():
        if status in ("assigned", "answered"):
            assert episode is not None
        if status == "answered":
            assert member is not None
        if status == "rejected":
            assert reason.strip()
        if department:
            assert status in ("referred", "resolved")
        if status == "duplicate":
            assert duplicate_of in rows and duplicate_of != qid
            # The original was open when marked, so it is never itself a duplicate.
            assert rows[duplicate_of][0] != "duplicate"
        else:
            assert duplicate_of is None


@settings(max_examples=40, deadline=None)
@given(operations=OPERATIONS)
def test_random_operations_only_follow_the_lifecycle(operations: list) -> None:
    # In memory (one pooled connection per thread), so each example starts empty and fast.
    engine = db.make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with db.transaction(engine) as s:
        s.add(Episode(number=1000, title="城市更新", air_start=AIR))
        s.add(Episode(number=1001, title="教育", air_start=AIR))
        s.add(Episode(number=999, title="停播", air_start=AIR, status=EpisodeStatus.cancelled))
        s.add(Member(name="王建国", sector="中国共产党"))
        s.add(Member(name="李秀英", sector="教育界"))
        s.flush()
        book_guests(s)
        s.add(Department(name="区住建局"))
        for text in (NOISE, NOISE_AGAIN, SCHOOL):
            q.add_question(session=s, text=text, channel="phone")
    before = snapshot(engine)
    for op, question, other, value in operations:
        try:
            with db.transaction(engine) as s:
                apply(s, op, question, other, value)
        except HotlineError:
            event("refused")
            assert snapshot(engine) == before  # a refused command changes nothing
            continue
        event(f"done: {op}")
        after = snapshot(engine)
        for qid, row in after.items():
            old = before.get(qid, ("new",))[0]
            assert old == row[0] or QuestionStatus(row[0]) in q.LIFECYCLE[QuestionStatus(old)]
        check_invariants(after)
        before = after
    engine.dispose()


# The show's rules: who can answer, when, and routing to an episode that has aired


def test_an_answer_needs_the_episode_on_air_or_aired(session: Session) -> None:
    question = assigned(session)
    with pytest.raises(Conflict, match="episode 1000 has not gone on air yet") as refused:
        q.answer(session=session, question=question.id, member="王建国", now=BEFORE)
    assert refused.value.zh == "第1000期尚未播出，还不能记录回答"
    assert session.get(Question, question.id).status == "assigned"
    episode = session.exec(select(Episode).where(Episode.number == 1000)).one()
    session.add(ShowClock(episode_id=episode.id, started_at=AIR - timedelta(minutes=5)))
    session.flush()  # the show went live five minutes early: answers can come in
    live = AIR - timedelta(minutes=2)
    q.answer(session=session, question=question.id, member="王建国", at="01:00", now=live)
    assert session.get(Question, question.id).status == "answered"


@pytest.mark.parametrize(
    ("status", "english", "chinese"),
    [
        (None, "赵敏 \\(#3\\) is not booked on it", "赵敏（#3）在第1000期未受邀"),
        ("invited", "is invited on it", "尚未确认出席"),
        ("declined", "is declined on it", "已婉拒"),
        ("cancelled", "is cancelled on it", "的邀请已取消"),
        ("no_show", "is no_show on it", "未到场"),
    ],
)
def test_an_answer_needs_the_member_confirmed_or_appeared(
    session: Session, status: str | None, english: str, chinese: str
) -> None:
    question = assigned(session)
    if status is not None:
        episode = session.exec(select(Episode).where(Episode.number == 1000)).one()
        session.add(Booking(episode_id=episode.id, member_id=3, status=status))
        session.flush()
    with pytest.raises(Conflict, match=english) as refused:
        q.answer(session=session, question=question.id, member="赵敏")
    assert chinese in (refused.value.zh or "")
    assert session.get(Question, question.id).member_id is None


def test_a_member_who_appeared_can_answer(session: Session) -> None:
    question = assigned(session)
    booking = session.exec(select(Booking).where(Booking.member_id == 1)).first()
    booking.status = "appeared"
    session.flush()
    assert q.answer(session=session, question=question.id, member="王建国").member_id == 1


def test_assigning_to_an_episode_that_aired_asks_first(session: Session) -> None:
    question = add(session)
    q.screen(session=session, question=question.id)
    after_show = AIR + timedelta(hours=2)
    with pytest.raises(NeedsConfirmation, match="episode 1000 has aired") as asked:
        q.assign(session=session, question=question.id, episode=1000, now=after_show)
    assert "第1000期已播出" in (asked.value.zh or "")
    assert session.get(Question, question.id).status == "screened"
    during_show = AIR + timedelta(minutes=20)  # routing a question to the live show is normal
    q.assign(session=session, question=question.id, episode=1000, now=during_show)
    published = session.exec(select(Episode).where(Episode.number == 1001)).one()
    published.status = "published"
    session.flush()
    with pytest.raises(NeedsConfirmation, match="episode 1001 is published"):
        q.assign(session=session, question=question.id, episode=1001, now=BEFORE)
    q.assign(session=session, question=question.id, episode=1001, confirm=True, now=BEFORE)
    assert session.get(Question, question.id).episode_id == published.id


def test_refusals_at_the_desk_speak_chinese(session: Session) -> None:
    question = add(session)
    with pytest.raises(InvalidTransition) as refused:
        q.answer(session=session, question=question.id, member="王建国")
    assert refused.value.for_desk == "问题 #1 新来信，不能记为已回答；可以：审核、拒绝、标为重复"
    with pytest.raises(NotFound) as missing:
        q.screen(session=session, question=99)
    assert missing.value.for_desk == "问题 #99 不存在"

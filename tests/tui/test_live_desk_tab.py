"""The 直播台 tab: start the clock, queue a caller, screen, put on air with a stamped offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from textual.widgets import DataTable, Label, TabbedContent

from hotline.models import Booking, Call, Member, Question, ShowClock
from hotline.station import Station
from tui.app import HotlineApp, make_app
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.history_dialog import HistoryDialog
from tui.dialogs.member_picker import MemberPicker

SIZE = (140, 40)
AIR_1000 = datetime(2025, 6, 7, 3, 0, tzinfo=UTC)  # Saturday 11:00 in Shanghai


class FakeClock:
    """The app's clock, moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(AIR_1000 - timedelta(seconds=30))


@pytest.fixture
def live_app(desk: Station, clock: FakeClock) -> HotlineApp:
    return make_app(desk, clock=clock)


def tab_key(app: HotlineApp, pane_id: str) -> str:
    return str([p.PANE_ID for p in app.panes].index(pane_id) + 1)


def text_of(app: HotlineApp, selector: str) -> str:
    return str(app.query_one(selector, Label).content)


async def open_desk(pilot, settle) -> None:  # noqa: ANN001 - pilot and fixture
    await settle(pilot)
    await pilot.press(tab_key(pilot.app, "live"))
    await settle(pilot)
    assert pilot.app.query_one(TabbedContent).active == "live"


async def test_a_caller_from_queue_to_on_air_with_the_offset_stamped(
    live_app: HotlineApp, desk: Station, clock: FakeClock, settle, type_text
) -> None:
    async with live_app.run_test(size=SIZE) as pilot:
        await open_desk(pilot, settle)
        assert "第1000期" in text_of(live_app, "#live-episode")  # today's episode
        assert text_of(live_app, "#live-clock") == "--:--:--"

        clock.advance(30)  # 11:00:00: on air
        await pilot.press("s")
        await settle(pilot)
        assert "开始计时" in text_of(live_app, "#status-message")
        assert text_of(live_app, "#live-clock") == "00:00:00"

        await pilot.press("n")
        await type_text(pilot, "王女士")
        await pilot.press("enter")
        await type_text(pilot, "海淀区")
        await pilot.press("enter")
        await type_text(pilot, "暑期托管班几点放学")
        await pilot.press("enter")
        await settle(pilot)
        table = live_app.query_one("#live-table", DataTable)
        assert table.row_count == 1
        assert table.get_row_at(0)[1:4] == ["等候", "王女士", "海淀区"]
        await pilot.press("h")  # no question yet: says why there is no history
        await settle(pilot)
        assert text_of(live_app, "#status-message") == (
            "来电 #1 还没有上直播，尚未记为听众问题，没有修改记录"
        )

        await pilot.press("v")
        await settle(pilot)
        assert table.get_row_at(0)[1] == "已审核"

        clock.advance(12 * 60 + 5)
        live_app.query_one("#live").tick()
        assert text_of(live_app, "#live-clock") == "00:12:05"
        await pilot.press("o")  # the offset is taken now …
        await pilot.pause()
        clock.advance(20)  # … not after the producer took 20 s to choose the member
        await pilot.press("enter")  # the first booked guest: 王伟
        await settle(pilot)

        assert table.get_row_at(0)[1] == "直播中"
        assert table.get_row_at(0)[4:6] == ["12:05", "王伟"]
        assert "已记为问题" in text_of(live_app, "#status-message")
        await pilot.press("h")  # on air: the history of the question it became
        await settle(pilot)
        assert isinstance(live_app.screen, HistoryDialog)
        assert live_app.screen.title_text.startswith("修改记录：问题 #")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert table.get_row_at(0)[1] == "已结束"

    with desk.session() as session:
        call = session.exec(select(Call)).one()
        assert (call.status, call.on_air_offset) == ("done", 725.0)
        question = session.get(Question, call.question_id)
        member = session.get(Member, question.member_id)
        assert (question.channel, question.status, question.answer_offset) == (
            "on_air",
            "answered",
            725.0,
        )
        assert question.text == "暑期托管班几点放学"
        assert member.name == "王伟"


async def test_refusals_show_the_domain_reason_and_change_nothing(
    live_app: HotlineApp, desk: Station, clock: FakeClock, settle, type_text
) -> None:
    async with live_app.run_test(size=SIZE) as pilot:
        await open_desk(pilot, settle)
        await pilot.press("n")
        await pilot.press("enter", "enter")
        await pilot.press("ctrl+s")  # empty summary: the form will not close
        assert str(live_app.screen.query_one("#error-summary").content) == "问题摘要不能为空"
        await type_text(pilot, "垃圾分类怎么分")
        await pilot.press("enter")
        await settle(pilot)

        await pilot.press("d")  # a waiting caller cannot be ended: not offered, says why
        await settle(pilot)
        assert text_of(live_app, "#status-message") == "来电 #1 等候，不能结束通话"
        # Nor put on air before it is screened: refused before the picker opens.
        await pilot.press("o")
        await settle(pilot)
        assert not isinstance(live_app.screen, MemberPicker)
        assert text_of(live_app, "#status-message") == "来电 #1 等候，不能上直播"

        await pilot.press("v")
        await settle(pilot)
        await pilot.press("o")  # the clock has not started: said before the picker opens
        await settle(pilot)
        assert not isinstance(live_app.screen, MemberPicker)
        assert text_of(live_app, "#status-message") == "第1000期还没开始计时：先按 s 开始计时"

        await pilot.press("s")
        await settle(pilot)
        await pilot.press("s")  # a second start asks first; n keeps the first start
        assert isinstance(live_app.screen, ConfirmDialog)
        assert live_app.screen.question.endswith("已上直播的时间点不变。")
        await pilot.press("n")
        await settle(pilot)

    with desk.session() as session:
        assert session.exec(select(Call)).one().status == "screened"
        assert session.exec(select(Question).where(Question.channel == "on_air")).all() == []
        assert session.exec(select(ShowClock)).one().started_at == clock()


async def test_another_member_typed_by_name_and_episode_chosen_by_number(
    live_app: HotlineApp, desk: Station, clock: FakeClock, settle, type_text
) -> None:
    with desk.session() as session:  # test data: 陈静 confirmed for the week after
        session.add(Booking(episode_id=4, member_id=4, status="confirmed"))
    async with live_app.run_test(size=SIZE) as pilot:
        await open_desk(pilot, settle)
        clock.advance(7 * 24 * 3600)  # a week later, episode 1001 is about to go on air
        await pilot.press("e")
        await pilot.press("ctrl+a", "ctrl+k")  # clear the field
        await type_text(pilot, "1001")
        await pilot.press("enter")
        await settle(pilot)
        assert "第1001期" in text_of(live_app, "#live-episode")
        await pilot.press("s", "n")
        await type_text(pilot, "刘先生")
        await pilot.press("enter", "enter")
        await type_text(pilot, "小区垃圾桶满了没人清")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("o", "tab")  # past the guest list (no guests booked) to the input
        await type_text(pilot, "陈静")
        await pilot.press("enter")
        await settle(pilot)
        row = live_app.query_one("#live-table", DataTable).get_row_at(0)
        assert row[1] == "直播中" and row[5] == "陈静"

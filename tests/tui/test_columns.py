"""Columns sized by display width: whole values when the terminal has room, "…" when it
has not (never a silent cut), the full value under the table for the row under the
cursor; columns fitted once the tab is shown, whatever size the terminal had before;
j/k/g/G in every table."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from screen_text import region_text
from sqlmodel import select
from textual.widgets import DataTable, Label

from episodes import bookings, live_desk
from episodes.members import add_member
from hotline import jobs
from hotline.models import Episode
from hotline.station import Station
from tui.app import HotlineApp
from tui.widgets.desk_table import FLOOR, Col, fit_widths

AFFILIATION = "中国农工民主党中央委员会社会服务部副部长兼北京市政协委员"


@settings(max_examples=300, deadline=None)
@given(
    naturals=st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=9),
    keeps=st.lists(st.booleans(), min_size=9, max_size=9),
    room=st.integers(min_value=0, max_value=200),
)
def test_widths_fit_the_room_and_give_way_widest_first(
    naturals: list[int], keeps: list[bool], room: int
) -> None:
    cols = [Col(f"列{i}", keep=keep) for i, keep in zip(range(len(naturals)), keeps, strict=False)]
    widths = fit_widths(cols, naturals, room)
    floors = [min(n, max(FLOOR, 3)) for n in naturals]  # "列N" is 3 cells
    assert all(f <= w <= n for w, n, f in zip(widths, naturals, floors, strict=True))
    if sum(naturals) <= room:
        assert widths == naturals  # room for everything: nothing is cut
    elif sum(floors) <= room:
        assert sum(widths) <= room
        free = [i for i, c in enumerate(cols) if not c.keep]
        kept_whole = all(widths[i] == naturals[i] for i, c in enumerate(cols) if c.keep)
        free_floors = sum(floors[i] for i in free)
        kept = sum(n for i, n in enumerate(naturals) if i not in free)
        if free and kept + free_floors <= room:
            assert kept_whole  # numbers, dates and statuses give way last
    else:
        assert widths == floors


def row_text(app: HotlineApp, table: DataTable, key: str) -> str:
    index = table.get_row_index(key)
    y = table.region.y + table.header_height + index - int(table.scroll_y)
    region = table.region._replace(y=y, height=1)
    return region_text(app, region)


def with_long_member(desk: Station) -> None:
    with desk.session() as session:
        add_member(
            session=session,
            name="欧阳明远",
            sector="社会福利和社会保障界",
            level="全国",
            affiliation=AFFILIATION,
        )


async def test_wide_terminal_shows_whole_values(app: HotlineApp, desk: Station, settle) -> None:
    with_long_member(desk)
    async with app.run_test(size=(220, 50)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        table = app.query_one("#members-table", DataTable)
        drawn = row_text(app, table, "5")
        assert "社会福利和社会保障界" in drawn and AFFILIATION in drawn and "…" not in drawn


async def test_narrow_terminal_ends_cut_values_with_an_ellipsis_and_shows_them_below(
    app: HotlineApp, desk: Station, settle
) -> None:
    with_long_member(desk)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        table = app.query_one("#members-table", DataTable)
        table.move_cursor(row=table.get_row_index("5"))
        await settle(pilot)
        drawn = row_text(app, table, "5")
        assert "欧阳明远" in drawn and "…" in drawn and AFFILIATION not in drawn
        assert drawn.split()[0] == "5"  # the id is whole: it is kept, the long text gives way
        detail = str(app.query_one("#members-detail", Label).content)
        assert "社会福利和社会保障界" in detail and AFFILIATION in detail


async def test_production_columns_survive_a_resize_before_the_first_visit(
    app: HotlineApp, desk: Station, settle
) -> None:
    with desk.session() as session:
        episode = session.exec(select(Episode).where(Episode.number == 1001)).one()
        jobs.enqueue(session=session, kind="transcribe", episode_id=episode.id)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)  # 制作 is built (hidden) and read ahead by now
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        table = app.query_one("#jobs-table", DataTable)
        header = region_text(app, table.region._replace(height=1))
        assert header.split() == [
            "任务", "类型", "期号", "状态", "进度", "尝试", "机器", "创建", "消息"
        ]  # fmt: skip
        row = row_text(app, table, table.coordinate_to_cell_key((0, 0)).row_key.value)
        assert "转写" in row and "1001" in row and "排队" in row and "…" not in row


async def test_the_machine_of_a_jobs_worker_shows_within_80_columns(
    app: HotlineApp, desk: Station, settle
) -> None:
    # A worker on a machine with a long name: its host is shortened, its pid kept whole,
    # and the job's row still fits the terminal with its message in view.
    with desk.session() as session:
        episode = session.exec(select(Episode).where(Episode.number == 1001)).one()
        running = jobs.enqueue(session=session, kind="master", episode_id=episode.id)
        waiting = jobs.enqueue(session=session, kind="transcribe", episode_id=episode.id)
        assert running.id is not None and waiting.id is not None
        worker = "transcription-box-07.station.example:16501:1"
        assert jobs.try_claim(session=session, job_id=running.id, worker=worker)
        jobs.heartbeat(session=session, job_id=running.id, worker=worker, message="响度归一化")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        table = app.query_one("#jobs-table", DataTable)
        header = region_text(app, table.region._replace(height=1))
        assert "机器" in header.split()
        assert table.virtual_size.width <= table.size.width  # no column off the screen
        shown = row_text(app, table, str(running.id))
        assert "transcr…" in shown and "响度归一化" in shown and "…" not in shown.split()[-1]
        assert table.get_row(str(waiting.id))[6] == ""  # queued: no worker yet
        table.move_cursor(row=table.get_row_index(str(running.id)))
        await settle(pilot)
        detail = str(app.query_one("#jobs-detail", Label).content)
        assert "机器 transcription-box-07.station.example:16501" in detail  # whole, with its pid


async def test_j_k_g_and_G_in_the_bookings_and_live_desk_tables(
    app: HotlineApp, desk: Station, now, settle
) -> None:
    with desk.session() as session:
        for number in (1001, 1002):
            bookings.add_booking(
                session=session, settings=desk.settings, episode=number, member=1, now=now
            )
        for name in ("王女士", "李先生", "赵阿姨", "孙先生"):
            live_desk.add_caller(
                session=session, episode=1000, name=name, district="浦东", summary="电梯"
            )
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        booked = app.query_one("#bookings-table", DataTable)
        booked.focus()
        await pilot.press("g")
        assert booked.cursor_row == 0
        await pilot.press("j")
        assert booked.cursor_row == 1
        await pilot.press("G")
        assert booked.cursor_row == booked.row_count - 1 == 2
        await pilot.press("k")
        assert booked.cursor_row == 1

        await pilot.press("4")
        await settle(pilot)
        calls = app.query_one("#live-table", DataTable)
        assert app.focused is calls and calls.row_count == 4
        await pilot.press("j", "j")
        assert calls.cursor_row == 2
        await pilot.press("g")
        assert calls.cursor_row == 0
        await pilot.press("G")
        assert calls.cursor_row == 3
        await pilot.press("pageup")
        assert calls.cursor_row == 0


async def test_G_reads_the_rest_of_a_long_list(app: HotlineApp, desk: Station, settle) -> None:
    from episodes import questions

    with desk.session() as session:
        for n in range(260):
            questions.add_question(session=session, text=f"第{n}个问题：小区停车难", channel="web")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        inbox = app.query_one("#questions-table", DataTable)
        assert inbox.row_count < inbox.total == 265
        await pilot.press("G")
        await settle(pilot)
        assert inbox.row_count == 265 and inbox.cursor_row == 264
        assert inbox.coordinate_to_cell_key((264, 0)).row_key.value == "1"  # the oldest
        await pilot.press("g")
        assert inbox.cursor_row == 0

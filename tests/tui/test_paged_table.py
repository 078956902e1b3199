"""``PagedTable`` re-reads its rows in a thread; a move the user makes meanwhile stands.

The source here waits for the test to let it answer, so the key press lands exactly while
the re-read is under way (what another desk's change does to a producer scrolling the
inbox: the echo arrives, the desk reads again, the producer presses ``j``).
"""

from __future__ import annotations

import threading

from textual.app import App, ComposeResult

from tui.messages import TableRow
from tui.widgets.desk_table import Col
from tui.widgets.paged_table import PagedTable

QUESTIONS = [(str(n), (str(n), f"问题{n}：小区加装电梯怎么申请", "待办")) for n in range(5, 0, -1)]


class GatedSource:
    """Rows read by a worker thread that answers only once ``answer`` is set."""

    def __init__(self, rows: list[TableRow]) -> None:
        self.rows = rows
        self.answer = threading.Event()
        self.answer.set()
        self.asked = threading.Event()

    def __call__(self, offset: int, limit: int) -> tuple[list[TableRow], int]:
        self.asked.set()
        assert self.answer.wait(30), "the test never let the read answer"
        return self.rows[offset : offset + limit], len(self.rows)


class TableApp(App[None]):
    def __init__(self, source: GatedSource) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        yield PagedTable([Col("编号", keep=True), Col("问题"), Col("状态", keep=True)], id="t")

    def on_mount(self) -> None:
        table = self.query_one(PagedTable)
        table.focus()
        table.load(self.source)


async def _asked(source: GatedSource, pilot) -> None:
    """Wait (letting the app run, which starts the read's thread) until the read began."""
    for _ in range(3000):  # a guard against hanging, far beyond any machine's wait
        if source.asked.is_set():
            return
        await pilot.pause(0.01)
    raise AssertionError("the table never began to read its rows again")


async def _settled(app: TableApp, pilot) -> PagedTable:
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.query_one(PagedTable)


async def test_a_key_pressed_while_the_rows_are_read_again_is_not_undone() -> None:
    source = GatedSource(QUESTIONS)
    app = TableApp(source)
    async with app.run_test(size=(80, 12)) as pilot:
        table = await _settled(app, pilot)
        assert table.selected_key == "5"
        source.answer.clear()
        source.asked.clear()
        table.reload()  # a change elsewhere: read the rows again, the cursor where it is
        await _asked(source, pilot)
        await pilot.press("down")  # meanwhile the producer goes on to the next question
        assert table.selected_key == "4"
        source.answer.set()
        await _settled(app, pilot)
        assert table.selected_key == "4"
        await pilot.press("down")
        assert table.selected_key == "3"


async def test_a_re_read_with_changed_rows_keeps_the_row_the_user_went_to() -> None:
    source = GatedSource(QUESTIONS)
    app = TableApp(source)
    async with app.run_test(size=(80, 12)) as pilot:
        table = await _settled(app, pilot)
        source.answer.clear()
        source.asked.clear()
        # Another desk added question 6 and answered question 3: different rows come back.
        source.rows = [("6", ("6", "问题6：公交线路调整", "待办"))] + [
            (key, (key, text, "已答复" if key == "3" else state))
            for key, (_, text, state) in QUESTIONS
        ]
        table.reload(select="5")  # asked for while the cursor was on 5
        await _asked(source, pilot)
        await pilot.press("down", "down")
        assert table.selected_key == "3"
        source.answer.set()
        await _settled(app, pilot)
        assert table.row_keys() == ["6", "5", "4", "3", "2", "1"]
        assert table.selected_key == "3"
        assert table.get_row("3")[2] == "已答复"


async def test_with_no_move_meanwhile_the_re_read_puts_the_cursor_where_asked() -> None:
    source = GatedSource(QUESTIONS)
    app = TableApp(source)
    async with app.run_test(size=(80, 12)) as pilot:
        table = await _settled(app, pilot)
        source.rows = [("6", ("6", "问题6：公交线路调整", "待办")), *QUESTIONS]
        table.reload(select="6")  # the desk's own change: the new question is selected
        await _settled(app, pilot)
        assert table.selected_key == "6"

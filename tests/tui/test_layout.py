"""Every screen and dialog of the desk at 80×24 and at 160×45: the status bar above the
footer, each tab's table on screen, every dialog's buttons on screen, its own keys in
the footer, each field scrolled into view when it takes the keyboard, and every warning
shown to its last character."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from screen_text import compact, on_screen, region_text
from sqlmodel import select
from textual.widgets import Button, DataTable, Input

from episodes import live_desk
from hotline import jobs
from hotline.models import Episode
from hotline.station import Station
from transcripts.formats import Cue
from transcripts.store import save_transcript
from tui.app import HotlineApp, make_app
from tui.dialogs.base import DeskDialog
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.ingest_dialog import IngestDialog
from tui.dialogs.member_picker import MemberPicker
from tui.dialogs.prompt import PromptDialog
from tui.dialogs.sector_report import SectorReportDialog
from tui.dialogs.text_view import TextViewDialog
from tui.screens.transcript import TranscriptScreen
from tui.widgets.status_bar import StatusBar

SIZES = [(80, 24), (160, 45)]
LONG_LINE = "，".join(f"第{n}点：老旧小区加装电梯，一楼住户的采光和噪音都要考虑" for n in range(6))


@pytest.fixture
def full_desk(desk: Station, now: datetime) -> Station:
    """The small station plus what every dialog needs: a screened caller on a running
    clock, a failed job, a transcript."""
    with desk.session() as session:
        live_desk.start_clock(session=session, tz=desk.tz, episode=1000, now=now, confirm=True)
        call = live_desk.add_caller(
            session=session, episode=1000, name="王女士", district="浦东", summary="电梯"
        )
        live_desk.screen_caller(session=session, call=call.id)
        episode = session.exec(select(Episode).where(Episode.number == 1001)).one()
        job_id = jobs.enqueue(session=session, kind="master", episode_id=episode.id).id
        cues = [Cue(0.0, 8.0, "欢迎收听。"), Cue(10.0, 40.0, LONG_LINE + "。")]
        save_transcript(session=session, episode=998, segments=cues, source="import")
    jobs.claim_next(desk.session, worker="test:1", kinds=["master"])
    with desk.session() as session:
        jobs.fail(session=session, job_id=job_id, worker="test:1", error=RuntimeError("解码失败"))
    return desk


class Desk:
    """Drives the app and checks what is on screen."""

    def __init__(self, app: HotlineApp, pilot, settle) -> None:  # noqa: ANN001
        self.app, self.pilot, self.settle = app, pilot, settle

    async def press(self, *keys: str) -> None:
        await self.pilot.press(*keys)
        await self.settle(self.pilot)
        await self.pilot.pause()

    def check_tab(self, table_id: str) -> None:
        app = self.app
        bar = app.query_one(StatusBar)
        footer = app.query_one("KeyFooter")
        assert on_screen(app, bar), f"the status bar is not on screen on {table_id}"
        assert bar.region.bottom <= footer.region.y, "the footer covers the status bar"
        table = app.query_one(f"#{table_id}", DataTable)
        assert table.region.height >= 3 and app.screen.region.contains_region(table.region)

    def check_dialog(self, kind: type, *, keys: set[str]) -> DeskDialog:
        app = self.app
        dialog = app.screen
        assert isinstance(dialog, kind), f"expected {kind.__name__}, got {dialog}"
        for button in dialog.query(Button):
            assert on_screen(app, button), f"{button.label} is off screen in {kind.__name__}"
        shown = {k.key for k in dialog.query("FooterKey")}
        assert keys <= shown, f"{kind.__name__}'s footer shows {shown}, not {keys}"
        for text_id in ("#confirm-text", "#form-warning"):
            for label in dialog.query(text_id):
                full = compact(str(label.content))
                drawn = compact(region_text(app, label.region))
                assert on_screen(app, label), f"{text_id} is cut off in {kind.__name__}"
                assert drawn == full, f"{kind.__name__} shows {drawn!r} of {full!r}"
        return dialog

    async def check_form(self, kind: type = PromptDialog) -> None:
        """Every field, when it takes the keyboard, is in view; then Esc closes the form."""
        form = self.check_dialog(kind, keys={"escape", "ctrl+s"})
        for field in form.query(Input):
            field.focus()
            await self.pilot.pause()
            await self.pilot.pause()
            assert on_screen(self.app, field), f"{field.id} is not scrolled into view"
        await self.press("escape")
        assert not isinstance(self.app.screen, kind)

    async def close(self) -> None:
        await self.press("escape")
        assert not isinstance(self.app.screen, DeskDialog)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_screen_and_dialog_fits(
    full_desk: Station, now: datetime, size, settle
) -> None:  # noqa: ANN001
    app = make_app(full_desk, clock=lambda: now + timedelta(minutes=5))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        desk = Desk(app, pilot, settle)

        # 排期
        desk.check_tab("schedule-table")
        await desk.press("n")
        await desk.check_form()
        await desk.press("e")
        await desk.check_form()
        await desk.press("c")
        desk.check_dialog(ConfirmDialog, keys={"y", "escape"})
        await desk.press("n")
        for key in ("r", "colon", "t"):
            await desk.press(key)
            await desk.check_form()

        # 嘉宾
        await desk.press("2")
        desk.check_tab("members-table")
        desk.check_tab("bookings-table")
        await desk.press("b")
        await desk.check_form()
        await desk.press("r")
        desk.check_dialog(SectorReportDialog, keys={"escape"})
        assert on_screen(app, app.screen.query_one("#sector-table"))
        await desk.close()

        # 听众: #5 new, #2 screened, #4 answered, #3 assigned
        await desk.press("3")
        desk.check_tab("questions-table")
        await desk.press("n")
        await desk.check_form()
        for row, keys in ((0, ("x", "u")), (3, ("a", "f")), (2, ("w",))):
            app.query_one("#questions-table", DataTable).move_cursor(row=row)
            await desk.press()
            for key in keys:
                await desk.press(key)
                await desk.check_form()
        app.query_one("#questions-table", DataTable).move_cursor(row=1)
        await desk.press("c")
        desk.check_dialog(ConfirmDialog, keys={"y", "escape"})
        await desk.press("n")

        # 直播台
        await desk.press("4")
        desk.check_tab("live-table")
        for key in ("n", "e"):
            await desk.press(key)
            await desk.check_form()
        await desk.press("s")  # the clock runs: restarting asks
        desk.check_dialog(ConfirmDialog, keys={"y", "escape"})
        await desk.press("n")
        await desk.press("o")
        desk.check_dialog(MemberPicker, keys={"escape"})
        await desk.close()

        # 制作
        await desk.press("5")
        desk.check_tab("jobs-table")
        await desk.press("i")
        desk.check_dialog(IngestDialog, keys={"escape", "ctrl+s"})
        await desk.close()
        await desk.press("l")
        desk.check_dialog(TextViewDialog, keys={"escape"})
        await desk.close()

        # 检索, and the transcript around a hit
        await desk.press("6")
        desk.check_tab("search-table")
        app.query_one("#search-input", Input).value = "采光"
        await desk.press()
        await desk.press("enter", "enter")
        screen = app.screen
        assert isinstance(screen, TranscriptScreen)
        lines = screen.query_one("#transcript-table", DataTable)
        assert on_screen(app, lines)
        assert "escape" in {k.key for k in screen.query("FooterKey")}
        await desk.press("escape")

        # 发布
        await desk.press("7")
        desk.check_tab("feeds-table")
        await desk.press("p")
        desk.check_dialog(ConfirmDialog, keys={"y", "escape"})
        await desk.press("n")
        assert not app.failures

"""Keys that arrive faster than the desk handles them (a fast typist, an input method
committing a phrase, a terminal under load) are applied in the order they were typed:
a backspace or ctrl+u in the middle of a burst edits what was typed before it, never
what came after it, and ctrl+s saves the form as it was when it was pressed."""

from __future__ import annotations

from datetime import date

from textual import events
from textual.keys import _character_to_key

from episodes.referrals import due_day
from hotline.models import Question, Referral
from hotline.station import Station
from tui.app import HotlineApp
from tui.dialogs.prompt import PromptDialog

SIZE = (80, 24)


def burst(app: HotlineApp, keys: list[str]) -> None:
    """Hand ``keys`` to the desk all at once, as a terminal does when they come in one read."""
    for key in keys:
        if len(key) == 1:
            app.post_message(events.Key(_character_to_key(key), key))
        else:
            app.post_message(events.Key(key, None))


async def test_a_burst_with_backspace_and_ctrl_u_is_typed_in_order(
    app: HotlineApp, desk: Station, settle
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        while app.query_one("#questions-table").selected_key != "2":  # screened
            await pilot.press("j")
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, PromptDialog)
        # 区教x⌫育局, to the next field, ctrl+u (clear it first), 2025-06-1x⌫2
        burst(app, [*"区教x", "backspace", *"育局", "tab", "ctrl+u", *"2025-06-1x"])
        burst(app, ["backspace", "2"])
        await settle(pilot)
        values = app.screen.values()
        assert values == {"to": "区教育局", "due": "2025-06-12"}
        burst(app, ["ctrl+s", "j"])  # saved as it was when ctrl+s came, whatever follows
        await settle(pilot)
        assert not isinstance(app.screen, PromptDialog)
    with desk.session() as session:
        question = session.get(Question, 2)
        referral = session.query(Referral).filter(Referral.question_id == 2).one()
        due = due_day(referral.due_at, desk.tz)
    assert question.referral_department == "区教育局"
    assert due == date(2025, 6, 12)

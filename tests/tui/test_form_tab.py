"""Tab and Shift+Tab in the desk's forms: the next / previous field or button, as in any
form, even when the keys come in one burst (a terminal hands a quick typist's keys, or a
busy desk's backlog, to the app together): what is typed after Tab goes to the next field,
never on the end of the one before."""

from __future__ import annotations

from sqlmodel import select
from textual import events
from textual.pilot import Pilot
from textual.widgets import Button, Input

from hotline.models import Call
from hotline.station import Station
from tui.app import HotlineApp
from tui.dialogs.prompt import PromptDialog

SIZE = (100, 30)


async def burst(pilot: Pilot, keys: list[str]) -> None:
    """Hand the app ``keys`` all at once, as a terminal delivers keys read together."""
    named = {"tab": "\t", "enter": "\r"}
    for key in keys:
        pilot.app.post_message(events.Key(key, key if len(key) == 1 else named.get(key)))
    await pilot.pause()


def typed(text: str) -> list[str]:
    return list(text)


async def test_tab_moves_through_the_callers_fields_even_in_one_burst(
    app: HotlineApp, desk: Station, settle
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PromptDialog)
        await burst(
            pilot,
            [*typed("Wang"), "tab", *typed("Haidian"), "tab", *typed("ask"), "shift+tab", "X"],
        )
        await settle(pilot)
        # Shift+Tab back into a field selects its text (as any form does): X replaces it.
        assert form.values() == {"name": "Wang", "district": "X", "summary": "ask"}

        await burst(pilot, ["tab", "tab"])  # past the last field: the buttons
        assert isinstance(app.focused, Button) and app.focused.id == "ok"
        await burst(pilot, ["tab"])
        assert isinstance(app.focused, Button) and app.focused.id == "cancel"
        await burst(pilot, ["shift+tab", "shift+tab"])
        assert isinstance(app.focused, Input) and app.focused.id == "field-summary"
        await pilot.press("ctrl+s")
        await settle(pilot)
    with desk.session() as session:
        call = session.exec(select(Call)).one()
    assert (call.caller_name, call.district, call.summary) == ("Wang", "X", "ask")

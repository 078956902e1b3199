"""Moves the domain wants a person to approve (``NeedsConfirmation``): the desk asks with the
domain's Chinese words and repeats the very same call with ``confirm=True`` on yes; on no,
nothing changes, and a form the move came from stays open with what was typed.

Starting the clock days before the slot is one of the domain's own (issue 13's rules);
where the domain has none to offer, a small fake asks first unless ``confirm=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from episodes import live_desk
from hotline.errors import NeedsConfirmation
from hotline.models import Call, ShowClock
from hotline.station import Station
from tui.app import HotlineApp
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.prompt import PromptDialog

SIZE = (100, 30)
ASKED = "第1000期 2025-06-07 11:00 播出，还有 3 天。现在开始第1000期的计时？"


def asking(real: Callable[..., Any], question: str, calls: list[dict[str, Any]]):  # noqa: ANN201
    """``real``, except that without ``confirm=True`` it asks ``question`` and does nothing."""

    def fake(**kwargs: Any) -> Any:
        calls.append(dict(kwargs))
        if not kwargs.pop("confirm", False):
            raise NeedsConfirmation("outside the slot: confirm to go ahead", zh=question)
        return real(**kwargs)

    return fake


def recording(real: Callable[..., Any], calls: list[dict[str, Any]]):  # noqa: ANN201
    """``real`` as it is, each call's arguments kept in ``calls``."""

    def spy(**kwargs: Any) -> Any:
        calls.append(dict(kwargs))
        return real(**kwargs)

    return spy


@pytest.fixture
def calls() -> list[dict[str, Any]]:
    return []


async def open_live_desk(pilot, settle) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)


async def test_yes_repeats_the_call_with_confirm(
    app: HotlineApp, desk: Station, settle, calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_desk, "start_clock", recording(live_desk.start_clock, calls))
    async with app.run_test(size=SIZE) as pilot:
        await open_live_desk(pilot, settle)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert app.screen.question == ASKED  # the domain's words, whole
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert [c.get("confirm") for c in calls] == [None, True]
        assert app.status_bar.message.startswith("第1000期开始计时")
    with desk.session() as session:
        assert session.exec(select(ShowClock)).one() is not None


async def test_no_changes_nothing(
    app: HotlineApp, desk: Station, settle, calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_desk, "start_clock", recording(live_desk.start_clock, calls))
    async with app.run_test(size=SIZE) as pilot:
        await open_live_desk(pilot, settle)
        await pilot.press("s", "n")
        await settle(pilot)
        assert len(calls) == 1
        assert app.status_bar.message == "未执行：选择了“否”"
    with desk.session() as session:
        assert session.exec(select(ShowClock)).all() == []


async def test_a_form_waits_under_the_question_and_keeps_what_was_typed(
    app: HotlineApp, desk: Station, settle, calls, type_text, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "第1000期已播出。仍然登记这位来电人？"
    monkeypatch.setattr(live_desk, "add_caller", asking(live_desk.add_caller, question, calls))
    async with app.run_test(size=SIZE) as pilot:
        await open_live_desk(pilot, settle)
        await pilot.press("n")
        await type_text(pilot, "王女士")
        await pilot.press("enter")
        await type_text(pilot, "浦东")
        await pilot.press("enter")
        await type_text(pilot, "电梯加装")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog) and app.screen.question == question
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PromptDialog)  # still open, everything typed still there
        assert form.values() == {"name": "王女士", "district": "浦东", "summary": "电梯加装"}
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, PromptDialog)
        assert app.status_bar.message == "来电 #1 王女士 已登记（等候）"
        assert [c.get("confirm") for c in calls] == [None, None, True]
    with desk.session() as session:
        assert [c.caller_name for c in session.exec(select(Call)).all()] == ["王女士"]


async def test_a_move_that_cannot_be_confirmed_is_a_refusal(
    app: HotlineApp, desk: Station, settle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A work that does not take ``confirm`` cannot repeat the call: the question is shown
    # as a refusal, never as a yes/no that would do nothing.
    def refuse(**_: Any) -> None:
        raise NeedsConfirmation("needs approval", zh="需要确认")

    monkeypatch.setattr(live_desk, "screen_caller", refuse)
    with desk.session() as session:
        live_desk.add_caller(
            session=session, episode=1000, name="李先生", district="", summary="停车"
        )
    async with app.run_test(size=SIZE) as pilot:
        await open_live_desk(pilot, settle)
        await pilot.press("v")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert app.status_bar.message == "需要确认" and app.status_bar.is_error

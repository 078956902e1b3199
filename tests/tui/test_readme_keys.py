"""The README's key table is the desk's: it is what ``scripts/readme_keys.py`` writes from
the bindings, and every key it lists is bound where it says, in the running app."""

from __future__ import annotations

import re
from pathlib import Path

from textual.binding import Binding
from textual.screen import Screen

from hotline.station import Station
from tui.app import HotlineApp
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.prompt import Field, PromptDialog
from tui.keys import desk_key_rows, markdown
from tui.screens.base import HotlinePane
from tui.screens.transcript import TranscriptScreen
from tui.widgets.desk_table import DeskTable

ROOT = Path(__file__).resolve().parents[2]
SIZE = (120, 36)
KEY_NAMES = {"/": "slash", ":": "colon", "Esc": "escape", "Enter": "enter"}


def readme_table() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("<!-- keys -->\n", 1)[1].split("\n<!-- /keys -->", 1)[0]


def readme_rows() -> list[tuple[str, list[str]]]:
    """(where, Textual key names) for each row of the README's key table."""
    rows = []
    for line in readme_table().splitlines()[2:]:
        where, keys, _ = (cell.strip() for cell in line.strip().strip("|").split("|"))
        names = []
        for shown in re.findall(r"`([^`]+)`", keys):
            name = KEY_NAMES.get(shown, shown)
            names.append(next(iter(Binding.make_bindings([Binding(name, "x")]))).key)
        rows.append((where, names))
    return rows


def bound_keys(screen: Screen) -> set[str]:
    """Every key bound from the focused widget up to the app (whatever the row allows)."""
    return {key for _, bindings in screen._modal_binding_chain for key in bindings.key_to_bindings}


def test_the_readme_table_is_written_from_the_bindings() -> None:
    assert readme_table() == markdown(desk_key_rows()), "run scripts/readme_keys.py"


async def test_every_key_in_the_readme_is_bound_on_its_tab(
    app: HotlineApp, desk: Station, settle
) -> None:
    rows = readme_rows()
    assert len(rows) > 40
    where_to = {pane.LABEL: str(n) for n, pane in enumerate(app.panes, start=1)}
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        checked = set()
        for where, keys in rows:
            if where in where_to:  # a tab: its keys, with the keyboard on its main widget
                app.active_pane.query(DeskTable).first().focus()  # (not a text field)
                await pilot.press(where_to[where])
                await settle(pilot)
                pane = app.active_pane
                assert isinstance(pane, HotlinePane) and where == pane.LABEL
                pane.focus_main()
                await pilot.pause()
                missing = set(keys) - bound_keys(app.screen)
            elif where == "everywhere":  # on every tab, from its table (a text field
                missing = set()  # takes printable keys as text: Esc leaves it first)
                for n in where_to.values():
                    app.active_pane.query(DeskTable).first().focus()
                    await pilot.press(n)
                    await settle(pilot)
                    app.active_pane.query(DeskTable).first().focus()
                    await pilot.pause()
                    missing |= set(keys) - bound_keys(app.screen)
            elif where == "every table":
                tables = list(app.query(DeskTable))
                assert len(tables) >= 7
                missing = {k for t in tables for k in keys if k not in t._bindings.key_to_bindings}
            else:
                dialogs = {
                    "every form": lambda: PromptDialog("表单", [Field("a", "一栏")]),
                    "every question": lambda: ConfirmDialog("确定？"),
                    "检索 transcript": lambda: TranscriptScreen(desk, 0, []),
                }
                await app.push_screen(dialogs[where]())
                await settle(pilot)
                missing = set(keys) - bound_keys(app.screen)
                app.pop_screen()
                await settle(pilot)
            assert not missing, f"{where}: {sorted(missing)} not bound"
            checked.add(where)
        assert set(where_to) <= checked

"""``SteadyTable`` keeps its drawn lines across focus changes and draws exactly what a
table drawing afresh would, including after the theme changes."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import Input

from tui.widgets.steady_table import SteadyTable

ROWS = [(n, f"第{n}期", "社区养老服务" * (n % 3 + 1), "已确认") for n in range(1000, 1030)]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Input(id="field")
        yield SteadyTable(id="table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(SteadyTable)
        table.add_columns("期号", "标题", "话题", "状态")
        table.add_rows(ROWS)


def drawn(table: SteadyTable) -> list[Strip]:
    width, height = table.size
    return table.render_lines(Region(0, 0, width, height))


def drawn_afresh(table: SteadyTable) -> list[Strip]:
    table._clear_caches()  # what DataTable itself would draw, nothing remembered
    return drawn(table)


def table_lines(table: SteadyTable) -> list[Strip]:
    """The table's own lines (before Textual applies the widget's styles to them)."""
    drawn(table)  # sets the state the lines are looked up for
    return [table.render_line(y) for y in range(table.size.height)]


async def test_lines_drawn_while_focused_are_kept_and_match_a_fresh_drawing() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 20)) as pilot:
        table = app.query_one(SteadyTable)
        table.focus()
        await pilot.pause()
        focused = table_lines(table)
        app.query_one("#field").focus()
        await pilot.pause()
        blurred = table_lines(table)
        table.focus()
        await pilot.pause()
        again = table_lines(table)
        assert all(a is b for a, b in zip(again, focused, strict=True))  # kept, not redrawn
        assert drawn(table) == drawn_afresh(table)
        app.query_one("#field").focus()
        await pilot.pause()
        assert blurred != focused  # the cursor row is drawn differently without focus
        assert drawn(table) == drawn_afresh(table)


async def test_a_new_theme_redraws_every_state() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 20)) as pilot:
        table = app.query_one(SteadyTable)
        table.focus()
        await pilot.pause()
        dark = drawn(table)
        app.query_one("#field").focus()
        await pilot.pause()
        drawn(table)
        app.theme = "textual-light"
        await pilot.pause()
        assert drawn(table) == drawn_afresh(table)
        table.focus()
        await pilot.pause()
        light = drawn(table)
        assert light != dark
        assert light == drawn_afresh(table)


async def test_showing_the_table_again_keeps_its_rows_and_a_new_width_redraws_them() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 20)) as pilot:
        table = app.query_one(SteadyTable)
        table.focus()
        await pilot.pause()
        before = table_lines(table)
        table.display = False  # as a tab being hidden; shown again it gets a resize
        await pilot.pause()
        table.display = True
        table.focus()
        await pilot.pause()
        again = table_lines(table)
        assert all(a is b for a, b in zip(again, before, strict=True))  # kept, not redrawn
        assert drawn(table) == drawn_afresh(table)
        await pilot.resize_terminal(100, 20)
        await pilot.pause()
        width = table.size.width
        assert width > 80
        assert all(line.cell_length == width for line in table_lines(table))
        assert drawn(table) == drawn_afresh(table)


async def test_rows_read_ahead_while_hidden_draw_as_a_fresh_table_would() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 20)) as pilot:
        table = app.query_one(SteadyTable)
        table.display = False
        await pilot.pause()
        table.clear()
        table.add_rows(reversed(ROWS))
        table.read_rows_ahead(10)
        assert len(table._row_renderable_cache) >= 10
        table.display = True
        table.focus()
        await pilot.pause()
        assert drawn(table) == drawn_afresh(table)
        assert str(table.get_row_at(0)[0]) == str(ROWS[-1][0])

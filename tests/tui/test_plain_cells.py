"""Plain cells are laid out exactly as Rich lays them out inside DataTable, or left to Rich."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.padding import Padding
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.renderables.styled import Styled
from textual.widgets import DataTable

from tui.shown import fit
from tui.widgets.plain_cells import plain_cell_line
from tui.widgets.steady_table import SteadyTable

CONSOLE = Console(width=200, color_system="truecolor")
STYLES = st.sampled_from(
    [
        Style.null(),
        Style(color="#e0e0e0", bgcolor="#1c1c1c", meta={"row": 3, "column": 1}),
        Style(color="#ddedf9", bgcolor="#0178d4", bold=True, meta={"row": 0, "column": 0}),
        Style(italic=True),
    ]
)
TEXT = st.text(st.sampled_from("abc 123-:期号社区养老服务，？。é\u3000"), max_size=30)


def rich_lines(cell: Text, width: int, padding: int, pre: Style, post: Style) -> list[list[object]]:
    """What DataTable draws for a one-line cell: the same renderables and options."""
    options = CONSOLE.options.update_dimensions(width, 1).update(no_wrap=True)
    return CONSOLE.render_lines(
        Styled(Padding(cell, (0, padding)), pre_style=pre, post_style=post), options
    )


@settings(max_examples=300, deadline=None)
@given(
    text=TEXT,
    width=st.integers(min_value=1, max_value=40),
    padding=st.integers(min_value=0, max_value=2),
    pre=STYLES,
    post=STYLES,
)
def test_a_plain_cell_is_laid_out_as_rich_lays_it_out(
    text: str, width: int, padding: int, pre: Style, post: Style
) -> None:
    cell = Text(text, no_wrap=True, end="")
    lines = plain_cell_line(cell, width, padding, pre, post)
    if lines is not None:
        assert lines == rich_lines(cell, width, padding, pre, post)


@settings(max_examples=300, deadline=None)
@given(
    text=TEXT,
    width=st.integers(min_value=1, max_value=40),
    padding=st.integers(min_value=0, max_value=2),
    pre=STYLES,
    post=STYLES,
)
def test_a_cell_too_wide_for_its_column_ends_with_an_ellipsis_as_rich_cuts_it(
    text: str, width: int, padding: int, pre: Style, post: Style
) -> None:
    cell = Text(text, no_wrap=True, overflow="ellipsis", end="")
    lines = plain_cell_line(cell, width, padding, pre, post)
    if lines is not None:
        assert lines == rich_lines(cell, width, padding, pre, post)
        drawn = "".join(segment.text for segment in lines[0])
        if cell_len(text) > width - 2 * padding:
            assert drawn.rstrip().endswith("…")


def test_a_cut_never_splits_a_wide_character() -> None:
    style = Style(color="red")
    cell = Text("社会福利和社会保障界", no_wrap=True, overflow="ellipsis", end="")
    (line,) = plain_cell_line(cell, 10, 1, style, style)
    assert "".join(segment.text for segment in line) == " 社会福 … "
    assert fit("社会福利和社会保障界", 9) == "社会福利…"
    assert fit("短", 9) == "短"


def test_text_that_does_not_fit_or_is_not_plain_is_left_to_rich() -> None:
    style = Style(color="red")
    assert plain_cell_line(Text("社区养老服务"), 14, 1, style, style) is not None
    assert plain_cell_line(Text("社区养老服务"), 13, 1, style, style) is None  # too wide
    assert plain_cell_line(Text.from_markup("[b]粗[/b]"), 20, 1, style, style) is None
    assert plain_cell_line(Text("a\tb"), 20, 1, style, style) is None
    assert plain_cell_line(Text("a\nb"), 20, 1, style, style) is None
    assert plain_cell_line(Text("x", style="bold"), 20, 1, style, style) is None
    assert plain_cell_line(Text("x", justify="right"), 20, 1, style, style) is None
    assert plain_cell_line("x", 20, 1, style, style) is None  # not a Text


CELLS = [
    (1000, "第1000期：暑期托管服务", "", None, 3.14159, "[b]加粗[/b]", "很长" * 30, "a\tb"),
    (1001, "2025-06-14 11:00", "王伟", "已确认", 0.5, "[not markup", "短", "x"),
    (1002, "", "  前后空格  ", "Ω", -1, ":smile: 表情", "医保", "end"),
]


class CellsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield SteadyTable(id="table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(SteadyTable)
        labels = ("编号", "标题", "嘉宾", "[i]状态[/i]", "数", "标记", "长", "制表")
        for n, label in enumerate(labels):
            table.add_column(label, width=12 if n == 6 else None)
        table.add_rows(CELLS)


async def test_the_table_draws_every_cell_as_datatable_draws_it() -> None:
    app = CellsApp()
    async with app.run_test(size=(160, 12)) as pilot:
        table = app.query_one(SteadyTable)
        table.focus()
        await pilot.pause()
        table.render_lines(table.region.reset_offset)  # sets the state cells are drawn in
        base = table.rich_style
        for row in range(-1, len(CELLS)):
            for column, spec in enumerate(table.ordered_columns):
                for cursor, hover in ((False, False), (True, False), (True, True)):
                    args = (row, column, base, spec.get_render_width(table), cursor, hover)
                    ours = table._render_cell(*args)
                    table._cell_render_cache.clear()
                    assert ours == DataTable._render_cell(table, *args), (row, column)
                    table._cell_render_cache.clear()

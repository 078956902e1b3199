"""Data as text: control characters shown as pictures, offsets kept, markup left alone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from tui.shown import fit, lines, one_line, plain


def test_control_characters_are_shown_not_obeyed() -> None:
    assert one_line("第1000期\x1b[31m红\x07") == "第1000期␛[31m红␇"
    assert one_line("换\n行\t制表\r\n") == "换 行 制表  "
    assert lines("第一行\r\n第二行\x00") == "第一行\n第二行␀"
    assert one_line("\x9b") == "\ufffd"  # a C1 control has no picture


def test_markup_is_plain_text() -> None:
    shown = plain("[bold red]红[/] [@click=app.quit]退出")
    assert shown.plain == "[bold red]红[/] [@click=app.quit]退出" and not shown.spans


@given(st.text(max_size=40))
def test_one_line_keeps_every_offset(text: str) -> None:
    shown = one_line(text)
    assert len(shown) == len(text) and "\n" not in shown


@given(st.text(st.sampled_from("社区养老abc，…é"), max_size=30), st.integers(0, 30))
def test_fit_never_passes_its_width_and_marks_a_cut(text: str, width: int) -> None:
    shown = fit(text, width)
    assert cell_len(shown) <= width
    if cell_len(text) <= width:
        assert shown == text
    elif width:
        assert shown.endswith("…") and cell_len(shown) == width

"""``chapter_marks``: one function places every chapter on the master's timeline."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from episodes.chapters import OPENING, Answer, chapter_marks

ANSWERS = st.lists(
    st.builds(Answer, st.floats(-30, 4000, allow_nan=False), st.text("医保养老教育", min_size=1)),
    max_size=12,
)


@given(
    answers=ANSWERS,
    offset=st.floats(-20, 20, allow_nan=False),
    length=st.floats(10, 3600, allow_nan=False),
)
def test_chapters_tile_the_master_from_zero_to_the_end(
    answers: list[Answer], offset: float, length: float
) -> None:
    chapters = chapter_marks(answers, offset=offset, length=length)
    if not chapters:
        return
    assert chapters[0].start == 0.0
    assert chapters[-1].end == length
    for chapter, after in zip(chapters, chapters[1:], strict=False):
        assert chapter.start < chapter.end == after.start
        assert after.start - chapter.start >= 1.0
    assert all(c.title for c in chapters)
    assert all(c.start < length - 1.0 or c.start == 0.0 for c in chapters)


def test_marks_move_with_the_master_and_drop_what_lies_beyond_it() -> None:
    answers = [Answer(2.0, "医保"), Answer(14.0, "养老"), Answer(90.0, "教育")]
    # 4 s of dead air trimmed, a 3 s intro less its 0.5 s crossfade: +2.5 − 4 = −1.5.
    chapters = chapter_marks(answers, offset=-1.5, length=60.0)
    assert [(c.start, c.end, c.title, c.question) for c in chapters] == [
        (0.0, 12.5, "医保", True),  # answered in the dead air: the programme opens with it
        (12.5, 60.0, "养老", True),
    ]
    later = chapter_marks([Answer(30.0, "养老")], offset=0.0, length=60.0)
    assert [(c.start, c.title, c.question) for c in later] == [
        (0.0, OPENING, False),
        (30.0, "养老", True),
    ]
    assert chapter_marks([Answer(59.5, "太晚")], offset=0.0, length=60.0) == []

"""``QuestionForm``: log a listener question in one go (``n`` in 听众), with the duplicate
hint: open questions this one may repeat are looked up as the text is typed.

The lookup (``episodes.duplicates.find_possible_duplicates``) runs in a thread worker
through the ``hints`` callable the questions tab passes in, so typing never waits on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Input, Label

from episodes.duplicates import PossibleDuplicate
from episodes.question_edit import check_public_text
from episodes.questions import check_channel
from hotline.text import clean_text
from tui.dialogs.prompt import Field, PromptDialog, Save
from tui.labels import CHANNEL
from tui.shown import one_line
from tui.widgets.data_label import DataLabel

CHANNEL_BY_LABEL = {label: value for value, label in CHANNEL.items()}
Hints = Callable[[str], Sequence[PossibleDuplicate]]


def channel_value(text: str) -> str:
    """The channel typed (Chinese label or English value) as the value the domain expects."""
    text = text.strip()
    return check_channel(CHANNEL_BY_LABEL.get(text, text)).value


def hint_text(hints: Sequence[PossibleDuplicate]) -> str:
    if not hints:
        return ""
    lines = [f"  #{h.id}  相似度 {h.similarity:.2f}  {one_line(h.snippet)}" for h in hints]
    return "\n".join(["可能重复的未办问题（保存后可按 u 标为重复）：", *lines])


class QuestionForm(PromptDialog):
    """Returns the typed values (text, channel, name, contact, district, topic, public title)
    or None."""

    def __init__(self, hints: Hints, *, on_save: Save | None = None) -> None:
        super().__init__(
            "登记听众来信/来电",
            [
                Field(
                    "text",
                    "问题",
                    "",
                    "听众的原话",
                    lambda t: clean_text(
                        t, field="question text", max_length=2000, multiline=True, required=True
                    ),
                    ("question text",),
                ),
                Field(
                    "channel",
                    "渠道（电话/微信/短信/邮件/来信/网站/直播）",
                    CHANNEL["phone"],
                    "",
                    channel_value,
                    ("channel",),
                ),
                Field(
                    "name",
                    "听众",
                    "",
                    "王女士",
                    lambda t: clean_text(t, field="listener name", max_length=50),
                ),
                Field(
                    "contact",
                    "联系方式（保密）",
                    "",
                    "13812345678",
                    lambda t: clean_text(t, field="listener contact", max_length=200),
                ),
                Field(
                    "district",
                    "区县",
                    "",
                    "徐汇区",
                    lambda t: clean_text(t, field="district", max_length=50),
                ),
                Field(
                    "topic",
                    "话题",
                    "",
                    "养老",
                    lambda t: clean_text(t, field="topic", max_length=100),
                ),
                Field(
                    "public_title",
                    "公开标题（章节与节目介绍用，勿含联系方式）",
                    "",
                    "老楼加装电梯补贴",
                    check_public_text,
                ),
            ],
            submit_label="登记",
            on_save=on_save,
        )
        self.hints = hints

    def compose_extra(self) -> ComposeResult:
        yield DataLabel("", id="duplicate-hint")

    @on(Input.Changed, "#field-text")
    def _text_changed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self._look_up(event.value)
        else:
            self.query_one("#duplicate-hint", Label).update("")

    @work(thread=True, exclusive=True, group="hints")
    def _look_up(self, text: str) -> None:
        found = self.hints(text)
        self.app.call_from_thread(self._show_hints, list(found))

    def _show_hints(self, hints: list[PossibleDuplicate]) -> None:
        self.query_one("#duplicate-hint", Label).update(hint_text(hints))

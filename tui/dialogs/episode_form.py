"""``EpisodeForm``: add or edit an episode; each field is checked as it is typed with the
checks ``hotline episodes add/edit/reschedule`` apply, and refused with the same words.

What only the database can tell (a taken number, an overlapping air time) is checked when
the form is saved; the form stays open with the refusal under the field it concerns.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from episodes.schedule import air_time, check_duration, check_number, clean_hosts
from hotline.errors import InvalidInput
from hotline.text import clean_text
from tui.dialogs.prompt import Field, PromptDialog, Save

_HOST_SEPARATORS = re.compile(r"[、,，;；\s]+")


def split_hosts(text: str) -> list[str]:
    """Hosts typed on one line, separated by 、 , ； or spaces."""
    return [name for name in _HOST_SEPARATORS.split(text) if name]


def parse_int(value: str, *, what: str) -> int:
    """A whole number typed in a field, or ``InvalidInput`` naming the field."""
    text = value.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise InvalidInput(f"{what} {value!r} is not a whole number", zh=f"“{value}”不是整数")
    return int(text)


def episode_fields(tz: ZoneInfo, values: dict[str, str] | None = None, *, new: bool) -> list[Field]:
    """The form's fields, filled with ``values``; ``new`` adds the episode number."""
    v = values or {}

    def number(text: str) -> None:
        if text.strip():  # blank: one past the highest, as the CLI's default
            check_number(parse_int(text, what="episode number"))

    def air(text: str) -> None:
        if text.strip() or not new:  # blank on a new episode: the next free slot
            air_time(text, tz)

    fields = [
        Field(
            "title",
            "标题",
            v.get("title", ""),
            "第1001期：…",
            lambda t: clean_text(t, field="title", max_length=200, required=True),
            ("title",),
        ),
        Field(
            "topic",
            "话题",
            v.get("topic", ""),
            "养老、医保…",
            lambda t: clean_text(t, field="topic", max_length=200),
            ("topic",),
        ),
        Field(
            "hosts",
            "主持（用、分隔）",
            v.get("hosts", ""),
            "李明、王芳",
            lambda t: clean_hosts(split_hosts(t)),
            ("host",),
        ),
        Field(
            "air",
            "播出时间",
            v.get("air", ""),
            "YYYY-MM-DD HH:MM（空 = 下一个空档）",
            air,
            ("air time", "rescheduled", "aired"),
        ),
        Field(
            "duration",
            "时长（分钟）",
            v.get("duration", ""),
            "60",
            lambda t: t.strip() and check_duration(parse_int(t, what="duration")),
            ("duration",),
        ),
        Field(
            "description",
            "简介",
            v.get("description", ""),
            "",
            lambda t: clean_text(t, field="description", max_length=4000, multiline=True),
            ("description",),
        ),
    ]
    if new:
        fields.insert(
            0,
            Field(
                "number",
                "期号（空 = 下一期）",
                v.get("number", ""),
                "",
                number,
                ("episode number", "already exists", "numbers would pass"),
            ),
        )
    return fields


class EpisodeForm(PromptDialog):
    """The episode form; returns the typed values (``dict``) or None when cancelled."""

    def __init__(
        self,
        tz: ZoneInfo,
        values: dict[str, str] | None = None,
        *,
        new: bool,
        on_save: Save | None = None,
    ) -> None:
        title = "新建节目" if new else f"编辑第{(values or {}).get('number', '')}期"
        fields = episode_fields(tz, values, new=new)
        super().__init__(title, fields, submit_label="保存", on_save=on_save)

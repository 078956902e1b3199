"""``BookingDialog``: invite a member onto an episode — episode number and role.

The role may be typed in Chinese (嘉宾/专家/官员) or as the CLI spells it (guest/expert/
official). Overlaps, the guest limit and inactive members are refused by the domain when
the booking is saved, with the CLI's message; the dialog stays open to try another episode.
"""

from __future__ import annotations

from episodes.bookings import check_role
from tui.dialogs.episode_form import parse_int
from tui.dialogs.prompt import Field, PromptDialog, Save
from tui.labels import ROLE

ROLE_BY_LABEL = {label: value for value, label in ROLE.items()}


def role_value(text: str) -> str:
    """The role typed (Chinese label or English value) as the value the domain expects."""
    text = text.strip()
    return check_role(ROLE_BY_LABEL.get(text, text)).value


class BookingDialog(PromptDialog):
    """Returns ``{"episode": …, "role": …}`` as typed, or None."""

    def __init__(self, member_text: str, episode: str = "", *, on_save: Save | None = None) -> None:
        super().__init__(
            f"邀请 {member_text} 上节目",
            [
                Field(
                    "episode",
                    "期号",
                    episode,
                    "1001",
                    lambda t: parse_int(t, what="episode number"),
                    ("episode",),
                ),
                Field("role", "角色（嘉宾/专家/官员）", ROLE["guest"], "", role_value, ("role",)),
            ],
            submit_label="邀请",
            on_save=on_save,
        )

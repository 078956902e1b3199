"""``IngestDialog``: which episode and which recording; a path typed, or picked from a tree.

The fields check as you type (a whole number; a file that exists); everything else
(decodable audio, minimum length, cancelled episode) is the domain's to refuse, with its
own message, shown in the dialog, which stays open (``on_save``). Without ``on_save`` it
returns ``(episode number, path)``, or None when closed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text, TextType
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Button, DirectoryTree, Input, Label

from hotline.errors import InvalidInput
from tui.dialogs.base import DeskDialog
from tui.dialogs.episode_form import parse_int
from tui.shown import plain
from tui.widgets.data_label import DataLabel
from tui.widgets.desk_input import DeskInput
from tui.widgets.domain_check import DomainCheck
from tui.wording import in_chinese

Ingest = Callable[["IngestDialog", int, Path], None]
AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".m4a", ".aac", ".ogg", ".opus", ".amr", ".aiff"}


def check_file(text: str) -> Path:
    """The path typed, if it names a file."""
    path = Path(text.strip()).expanduser()
    if not text.strip():
        raise InvalidInput("give the recording's path", zh="请给出录音文件的路径")
    if not path.is_file():
        raise InvalidInput(f"{text.strip()} is not a file", zh=f"{text.strip()} 不是文件")
    return path


class AudioTree(DirectoryTree):
    """Folders and audio files only, their names shown as text (a file may be "[b].wav")."""

    def process_label(self, label: TextType) -> Text:
        return plain(label) if isinstance(label, str) else label

    def filter_paths(self, paths):  # noqa: ANN001, ANN201 - DirectoryTree's signature
        return [
            p
            for p in paths
            if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() in AUDIO_SUFFIXES)
        ]


class IngestDialog(DeskDialog[tuple[int, Path] | None]):
    """Ingest a recording into an episode."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "取消"),
        Binding("ctrl+s", "submit", "导入"),
    ]
    DIALOG_CLASSES = "wide"
    SCROLLS = False

    def __init__(
        self, *, episode: str = "", folder: Path | None = None, on_save: Ingest | None = None
    ) -> None:
        super().__init__("导入录音")
        self.episode = episode
        self.folder = folder or Path.cwd()
        self.on_save = on_save
        self.saving = False

    def compose_body(self) -> ComposeResult:
        yield Label("期号", classes="field-label")
        yield DeskInput(
            self.episode,
            id="ingest-episode",
            validators=[DomainCheck(lambda t: parse_int(t, what="episode number"))],
            compact=True,
        )
        yield Label("录音文件（输入路径，或在下面选择）", classes="field-label")
        yield DeskInput(id="ingest-path", validators=[DomainCheck(check_file)], compact=True)
        yield DataLabel("", id="ingest-error", classes="field-error")
        yield AudioTree(self.folder, id="ingest-tree")

    def compose_buttons(self) -> ComposeResult:
        yield Label("", classes="buttons-spacer")
        yield Button("导入 (ctrl+s)", variant="primary", id="ok", compact=True)
        yield Button("取消 (Esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        first = "#ingest-path" if self.episode else "#ingest-episode"
        self.query_one(first, Input).focus()

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#ingest-path", Input).value = str(event.path)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "ingest-episode":
            self.query_one("#ingest-path", Input).focus()
        else:
            self.action_submit()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_close()

    def action_submit(self) -> None:
        if self.saving:
            return
        episode = self.query_one("#ingest-episode", Input).value
        path = self.query_one("#ingest-path", Input).value
        try:
            chosen = (parse_int(episode, what="episode number"), check_file(path))
        except InvalidInput as exc:
            self.query_one("#ingest-error", Label).update(in_chinese(exc))
            return
        if self.on_save is None:
            self.dismiss(chosen)
            return
        self.saving = True
        self.query_one("#ingest-error", Label).update("导入中…")
        self.on_save(self, *chosen)

    def saved(self) -> None:
        self.saving = False
        if self.is_attached:
            self.dismiss(None)

    def refused(self, error: BaseException | None, text: str) -> None:
        self.saving = False
        if self.is_attached:
            self.query_one("#ingest-error", Label).update(f"未导入：{text}")

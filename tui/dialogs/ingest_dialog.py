"""``IngestDialog``: which episode and which recording; a path typed, or picked from a tree.

Returns ``(episode number, path)`` or None when cancelled. The fields check as you type
(a whole number; a file that exists); everything else (decodable audio, minimum length,
cancelled episode) is the domain's to refuse, with its own message.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Label

from hotline.errors import InvalidInput
from tui.dialogs.episode_form import parse_int
from tui.widgets.domain_check import DomainCheck

AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".m4a", ".aac", ".ogg", ".opus", ".amr", ".aiff"}


def check_file(text: str) -> Path:
    """The path typed, if it names a file."""
    path = Path(text.strip()).expanduser()
    if not text.strip():
        raise InvalidInput("give the recording's path")
    if not path.is_file():
        raise InvalidInput(f"{text.strip()} is not a file")
    return path


class AudioTree(DirectoryTree):
    """Folders and audio files only."""

    def filter_paths(self, paths):  # noqa: ANN001, ANN201 - DirectoryTree's signature
        return [
            p
            for p in paths
            if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() in AUDIO_SUFFIXES)
        ]


class IngestDialog(ModalScreen[tuple[int, Path] | None]):
    """Ingest a recording into an episode."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "取消"),
        Binding("ctrl+s", "submit", "导入"),
    ]

    def __init__(self, *, episode: str = "", folder: Path | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.episode = episode
        self.folder = folder or Path.cwd()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("导入录音", classes="dialog-title")
            yield Label("期号", classes="field-label")
            yield Input(
                self.episode,
                id="ingest-episode",
                validators=[DomainCheck(lambda t: parse_int(t, what="episode number"))],
            )
            yield Label("录音文件（输入路径，或在下面选择）", classes="field-label")
            yield Input(id="ingest-path", validators=[DomainCheck(check_file)])
            yield Label("", id="ingest-error", classes="field-error", markup=False)
            yield AudioTree(self.folder, id="ingest-tree")
            with Horizontal(classes="dialog-buttons"):
                yield Button("导入", variant="primary", id="ok")
                yield Button("取消", id="cancel")

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
        self.action_cancel()

    def action_submit(self) -> None:
        episode = self.query_one("#ingest-episode", Input).value
        path = self.query_one("#ingest-path", Input).value
        try:
            chosen = (parse_int(episode, what="episode number"), check_file(path))
        except InvalidInput as exc:
            self.query_one("#ingest-error", Label).update(str(exc))
            return
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)

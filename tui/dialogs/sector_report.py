"""``SectorReportDialog``: the sector report (界别出场统计) as a table, least represented first."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from episodes.reports import SectorReport


class SectorReportDialog(ModalScreen[None]):
    """Shows a ``SectorReport``; Escape or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "关闭")]

    def __init__(self, report: SectorReport) -> None:
        super().__init__(classes="dialog-screen")
        self.report = report

    def compose(self) -> ComposeResult:
        scope = f"{self.report.year}年" if self.report.year else "全部年份"
        with Vertical(classes="dialog wide"):
            yield Label(
                f"界别出场统计（{scope}，共 {self.report.total_appearances} 次出场，少者在前）",
                classes="dialog-title",
                markup=False,
            )
            table: DataTable[str] = DataTable(id="sector-table", cursor_type="row")
            yield table

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("界别", "委员", "在任", "出场", "占比")
        for r in self.report.rows:
            table.add_row(
                r.sector,
                str(r.members),
                str(r.active_members),
                str(r.appearances),
                f"{r.share:.1%}",
                key=r.sector,
            )
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)

"""``SectorReportDialog``: the sector report (界别出场统计) as a table, least represented first."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType

from episodes.reports import SectorReport
from tui.dialogs.base import DeskDialog
from tui.widgets.desk_table import Col, DeskTable


class SectorReportDialog(DeskDialog[None]):
    """Shows a ``SectorReport``; Esc or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "关闭")]
    DIALOG_CLASSES = "wide"
    SCROLLS = False

    def __init__(self, report: SectorReport) -> None:
        scope = f"{report.year}年" if report.year else "全部年份"
        super().__init__(f"界别出场统计（{scope}，共 {report.total_appearances} 次出场，少者在前）")
        self.report = report

    def compose_body(self) -> ComposeResult:
        yield DeskTable(
            [
                Col("界别"),
                Col("委员", keep=True),
                Col("在任", keep=True),
                Col("出场", keep=True),
                Col("占比", keep=True),
            ],
            id="sector-table",
        )

    def on_mount(self) -> None:
        table = self.query_one(DeskTable)
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

"""``DepartmentReportDialog``: the department report (转办统计), the most overdue first."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from episodes.department_report import DepartmentReport, DepartmentStats
from hotline.models import CallbackOutcome


def _cells(row: DepartmentStats) -> tuple[str, ...]:
    on_time = f"{row.on_time / row.received:.0%}" if row.received else "–"
    reached = [row.callbacks.get(o, 0) for o in ("satisfied", "partly", "unsatisfied")]
    return (
        row.name,
        str(row.received),
        str(row.replied),
        f"{row.on_time}（{on_time}）",
        str(row.overdue_now),
        "–" if row.median_days is None else f"{row.median_days:g}",
        "/".join(str(n) for n in reached),
        str(row.callbacks.get(CallbackOutcome.unreachable, 0)),
        "–" if row.satisfaction is None else f"{row.satisfaction:.0%}",
    )


class DepartmentReportDialog(ModalScreen[None]):
    """Shows a ``DepartmentReport``; Escape or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "关闭")]

    def __init__(self, report: DepartmentReport) -> None:
        super().__init__(classes="dialog-screen")
        self.report = report

    def compose(self) -> ComposeResult:
        scope = f"{self.report.year}年" if self.report.year else "全部年份"
        with Vertical(classes="dialog wide"):
            yield Label(
                f"转办统计（{scope}，共 {self.report.total.received} 件，逾期未复者在前）",
                classes="dialog-title",
                markup=False,
            )
            yield DataTable(id="department-report-table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(
            "部门",
            "转办",
            "已复",
            "按期答复",
            "逾期未复",
            "答复天数",
            "满意/基本/不满意",
            "未接通",
            "满意率",
        )
        for row in self.report.rows:
            table.add_row(*_cells(row), key=str(row.department_id))
        table.add_row(*_cells(self.report.total), key="total")
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)

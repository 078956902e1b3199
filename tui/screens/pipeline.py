"""The 制作 tab: pipeline jobs with live progress bars; ingest, run, retry, cancel, logs.

Jobs run in a Textual thread worker through the same runner as ``hotline process``
(``hotline.pipeline.process``); its observer posts
``JobStarted``/``JobProgress``/``JobFinished`` messages, so the UI thread only draws and
the app stays responsive while an hour of audio masters. Leaving the app stops the
running job's processes and puts the job back in the queue.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.cells import cell_len, set_cell_size
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Label, ProgressBar
from textual.worker import Worker

from hotline import jobs
from hotline.errors import HotlineError
from hotline.runs import OUTCOMES, JobOutcome, JobView, RunSummary
from hotline.station import Station
from hotline.timeutil import local_text
from tui.dialogs.ingest_dialog import IngestDialog
from tui.dialogs.text_view import TextViewDialog
from tui.keys import Key
from tui.labels import JOB_KIND, JOB_STATUS, label
from tui.messages import JobFinished, JobProgress, JobStarted, RunEnded
from tui.screens.base import HotlinePane
from tui.widgets.data_label import DataLabel
from tui.widgets.desk_table import Col, DeskTable
from tui.wording import job_message

JOB_ROWS = 500
"""The newest jobs shown (a station accumulates three per episode)."""
PROGRESS_EVERY = 0.1
"""At most ten progress messages a second per job reach the UI."""
STATUS_COLUMN, PROGRESS_COLUMN, MESSAGE_COLUMN = 3, 4, 8
RETRYABLE = ("failed", "cancelled", "skipped")
"""Statuses ``t`` is offered for (the job queue says the last word)."""
FINISHED = ("done", "cancelled", "skipped")
"""Statuses ``c`` is not offered for: nothing left to cancel."""
HOST_CELLS = 8
"""The most of a worker's host name the 机器 column shows: with it the table fits 80
columns and keeps room for the message (the detail line under it names the whole)."""


def job_label(kind: str, episode: int | None) -> str:
    name = label(JOB_KIND, kind)
    return f"{name} 第{episode}期" if episode is not None else name


def worker_cell(worker: str) -> str:
    """The 机器 cell of a job: the host its worker runs or last ran on, cut to its first
    name and ``HOST_CELLS`` cells ("" for a job no worker took)."""
    host = jobs.worker_place(worker).partition(":")[0]
    host = host.split(".", 1)[0] or host
    if cell_len(host) > HOST_CELLS:
        host = set_cell_size(host, HOST_CELLS - 1) + "…"
    return host


def created_cell(moment: datetime | None, tz: ZoneInfo, now: datetime) -> str:
    """When a job was queued: month, day and time within this year, else the date (short,
    for the table to fit 80 columns)."""
    if moment is None:
        return ""
    this_year = local_text(moment, tz, "%Y") == local_text(now, tz, "%Y")
    return local_text(moment, tz, "%m-%d %H:%M" if this_year else "%Y-%m-%d")


class PostingObserver:
    """The runner's observer: turns job events into messages posted to the pane (any thread)."""

    def __init__(self, pane: PipelinePane) -> None:
        self.pane = pane
        self.lock = threading.Lock()
        self.last: dict[int, float] = {}

    def started(self, job: JobView) -> None:
        self.pane.post_message(JobStarted(job.job_id, job_label(job.kind, job.episode_number)))

    def progress(self, job: JobView, fraction: float, message: str) -> None:
        with self.lock:
            now = time.monotonic()
            if fraction < 1.0 and now - self.last.get(job.job_id, 0.0) < PROGRESS_EVERY:
                return
            self.last[job.job_id] = now
        self.pane.post_message(JobProgress(job.job_id, fraction, message))

    def finished(self, outcome: JobOutcome) -> None:
        self.pane.post_message(JobFinished(outcome.job_id, outcome.status, outcome.message))


def run_queue(
    *,
    station: Station,
    observer: PostingObserver,
    stop: threading.Event,
    kind: str | None = None,
    episode: int | None = None,
) -> RunSummary:
    """``hotline process`` for the TUI: the same runner and stages, plus a stop event."""
    from hotline.pipeline import process

    return process(station=station, observer=observer, kind=kind, episode=episode, stop=stop)


def summary_text(summary: RunSummary) -> str:
    if not summary.outcomes:
        return "没有可运行的任务"
    counts = [
        f"{label(JOB_STATUS, status)} {summary.count(status)}"
        for status in OUTCOMES
        if summary.count(status)
    ]
    return "运行结束：" + "，".join(counts)


class PipelinePane(HotlinePane):
    """制作: the pipeline jobs."""

    LABEL = "制作"
    PANE_ID = "pipeline"
    TABLES = frozenset({"job", "episode"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Key(
            "i", "ingest", "导入录音", doc="ingest a recording (file picker or path) for an episode"
        ),
        Key(
            "r",
            "run_queue",
            "运行队列",
            doc="run the job queue in a worker (progress bars stay live)",
        ),
        Key("o", "run_selected", "只运行所选", doc="run only the selected job"),
        Key("t", "retry", "重试", doc="retry / cancel the selected job"),
        Key("c", "cancel_job", "取消任务", doc="retry / cancel the selected job"),
        Key("l", "show_log", "错误日志", doc="the selected job's log"),
        Key("f5", "refresh", "刷新", doc="read the job list again"),
    ]

    def __init__(self, *, key: str = "") -> None:
        super().__init__(key=key)
        self.loaded = False
        self.rows: dict[str, jobs.JobRow] = {}
        self.runner: Worker[None] | None = None
        self.stop = threading.Event()

    def compose_tab(self) -> ComposeResult:
        yield DataLabel("空闲", id="pipeline-summary", classes="search-summary")
        yield Vertical(id="job-progress")
        yield DeskTable(
            [
                Col("任务", keep=True),
                Col("类型", keep=True),
                Col("期号", keep=True),
                Col("状态", keep=True),
                Col("进度", keep=True),
                Col("尝试", keep=True),
                Col("机器", keep=True),
                Col("创建", keep=True),
                Col("消息"),
            ],
            id="jobs-table",
        )
        yield DataLabel("", id="jobs-detail", classes="detail")

    def on_unmount(self) -> None:
        self.stop.set()  # a running job goes back to the queue at its next beat

    @property
    def table(self) -> DeskTable:
        return self.query_one("#jobs-table", DeskTable)

    @property
    def running(self) -> bool:
        return self.runner is not None and self.runner.is_running

    # ------------------------------------------------------------ the table

    def main_widget(self) -> Widget:
        return self.table

    def activated(self) -> None:
        self.table.focus()
        if not self.loaded:
            self.loaded = True
            self.reload()

    def reload(self, select: str | None = None) -> None:
        self.read(
            lambda session: jobs.list_jobs(session=session, limit=JOB_ROWS),
            lambda rows: self.show(rows, select),
        )

    def show(self, rows: list[jobs.JobRow], select: str | None = None) -> None:
        tz, now = self.station.tz, self.now()
        self.rows = {str(row.job.id): row for row in rows}
        cells = [
            (
                key,
                (
                    key,
                    label(JOB_KIND, row.job.kind),
                    str(row.episode_number or ""),
                    label(JOB_STATUS, row.job.status),
                    f"{row.job.progress:.0%}",
                    str(row.job.attempts),
                    worker_cell(row.job.worker),
                    created_cell(row.job.created_at, tz, now),
                    job_message(row.job.message),
                ),
            )
            for key, row in self.rows.items()
        ]
        # Read again (a worker's progress, here or on another machine): changed cells only.
        self.table.show_rows(cells, select)
        self.hotline.show_count(self.count_text(), pane=self)
        self.state_changed()

    def count_text(self) -> str:
        queued = sum(1 for r in self.rows.values() if r.job.status == "queued")
        return f"排队 {queued} / 最近 {len(self.rows)} 个任务"

    def selected_key(self) -> str | None:
        return self.table.selected_key

    def selected(self) -> jobs.JobRow | None:
        key = self.selected_key()
        return self.rows.get(key) if key else None

    def _set_cell(self, job_id: int, column: int, value: str) -> None:
        key = str(job_id)
        if key in self.rows:
            self.table.update_cell_at((self.table.get_row_index(key), column), value)

    @on(DataTable.RowHighlighted, "#jobs-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        row = self.rows.get(str(event.row_key.value))
        text = ""
        if row is not None:
            job = row.job
            text = (
                f"任务 {job.id} {job_label(job.kind, row.episode_number)} "
                f"{label(JOB_STATUS, job.status)}：{job_message(job.message)}"
            )
            if job.worker:
                text += f"\n机器 {jobs.worker_place(job.worker)}"
            if job.error:
                text += f"\n{job.error.splitlines()[0]}（按 l 看完整日志）"
        self.query_one("#jobs-detail", Label).update(text)

    # ------------------------------------------------------------ progress from the runner

    def on_job_started(self, message: JobStarted) -> None:
        bar = ProgressBar(total=1.0, show_eta=False, id=f"job-bar-{message.job_id}")
        row = Horizontal(DataLabel(message.label), bar, classes="job-bar")
        row.id = f"job-row-{message.job_id}"
        self.query_one("#job-progress", Vertical).mount(row)
        self._set_cell(message.job_id, STATUS_COLUMN, label(JOB_STATUS, "running"))
        self.query_one("#pipeline-summary", Label).update(f"运行中：{message.label}")

    def on_job_progress(self, message: JobProgress) -> None:
        bars = self.query(f"#job-bar-{message.job_id}")
        if bars:
            bars.first(ProgressBar).update(progress=message.fraction)
        self._set_cell(message.job_id, PROGRESS_COLUMN, f"{message.fraction:.0%}")
        self._set_cell(message.job_id, MESSAGE_COLUMN, job_message(message.text))

    def on_job_finished(self, message: JobFinished) -> None:
        for row in self.query(f"#job-row-{message.job_id}"):
            row.remove()
        word = label(JOB_STATUS, message.status)
        self.hotline.report(
            f"任务 {message.job_id}：{word} {job_message(message.text)}",
            error=message.status == "failed",
        )
        self.reload()

    def on_run_ended(self, message: RunEnded) -> None:
        self.query_one("#pipeline-summary", Label).update(message.text)
        self.hotline.report(message.text, error=message.error)
        self.reload()

    # ------------------------------------------------------------ actions

    def why_not(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        if action in ("run_queue", "run_selected") and self.running:
            return "已有任务在运行：等它结束，或取消它"
        if action not in ("run_selected", "retry", "cancel_job", "show_log"):
            return None
        row = self.selected()
        if row is None:
            return "没有选中的任务"
        status = row.job.status
        shown = f"任务 {row.job.id} {label(JOB_STATUS, status)}"
        if action == "run_selected" and status != "queued":
            return f"{shown}：只有排队的任务可以运行（按 t 重试）"
        if action == "retry" and status not in RETRYABLE:
            return f"{shown}：只有失败或已取消的任务可以重试"
        if action == "cancel_job" and status in FINISHED:
            return f"{shown}：已经结束，没有可取消的"
        return None

    def _run(self, kind: str | None = None, episode: int | None = None) -> None:
        if self.running:
            self.hotline.report("已有任务在运行：等它结束，或取消它", error=True)
            return
        station, observer, stop = self.station, PostingObserver(self), self.stop
        self.query_one("#pipeline-summary", Label).update("开始运行…")

        def work() -> None:
            try:
                summary = run_queue(
                    station=station, observer=observer, stop=stop, kind=kind, episode=episode
                )
            except HotlineError as exc:
                self.post_message(RunEnded(str(exc), error=True))
            else:
                self.post_message(RunEnded(summary_text(summary), error=summary.failed))

        self.runner = self.run_worker(work, thread=True, group="pipeline", name="pipeline")

    def action_run_queue(self) -> None:
        self._run()

    def action_run_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self._run(kind=row.job.kind, episode=row.episode_number)

    def action_ingest(self) -> None:
        row = self.selected()
        default = str(row.episode_number or "") if row else ""
        self.app.push_screen(IngestDialog(episode=default, on_save=self._ingest))

    def _ingest(self, form: IngestDialog, number: int, source: Path) -> None:
        station = self.station

        def work(session: Session) -> str:
            from hotline.pipeline import ingest

            result = ingest(station=station, session=session, number=number, source=source)
            queued = "、".join(label(JOB_KIND, kind) for _, kind in result.queued)
            said = f"第{number}期录音已导入 {result.raw_path}；已排队：{queued or '无'}"
            if result.also_of:
                others = "、".join(f"第{n}期" for n in result.also_of)
                said += f"。注意：这也是{others}的录音，发布前请核对"
            return said

        self.change(work, form=form)

    def _job_change(self, work, verb: str) -> None:  # noqa: ANN001 - (session, id) -> Job
        row = self.selected()
        if row is None:
            return
        job_id = row.job.id
        assert job_id is not None
        what = f"任务 {job_id} {job_label(row.job.kind, row.episode_number)}：{verb}"
        self.change(lambda session: work(session=session, job_id=job_id) and what)

    def action_retry(self) -> None:
        self._job_change(jobs.retry, "已重新排队（按 r 运行）")

    def action_cancel_job(self) -> None:
        self._job_change(jobs.cancel, "已取消")

    def action_refresh(self) -> None:
        self.reload()
        self.hotline.report("任务列表已刷新")

    def action_show_log(self) -> None:
        row = self.selected()
        if row is None:
            return
        job_id = row.job.id
        assert job_id is not None

        def show(detail: jobs.JobRow) -> None:
            job = detail.job
            text = job.error or f"（任务 {job_id} 没有错误日志：{job.message or job.status}）"
            title = f"任务 {job_id} {job_label(job.kind, detail.episode_number)} 的日志"
            self.app.push_screen(TextViewDialog(title, text))

        self.read(lambda session: jobs.job_detail(session=session, job_id=job_id), show)

"""The 发布 tab: each platform's feed, its validation state and problems; publish; where.

Opening the tab validates every feed on disk in a worker (the same checks as ``hotline
feeds validate``). ``p`` first previews the publish (``hotline publish --dry-run``, in a
worker: per feed the items added, removed and changed, the files, every problem) and
asks with that summary; on yes it publishes (``hotline publish``, in a worker): a
feed that fails its platform's rules is not written, the last good one stays, and the
tab shows that feed as failed with every problem. ``v`` validates again.

A publish made elsewhere (another desk, ``hotline publish``, a worker's publish stage)
changes episodes; the tab, when shown, then validates again quietly: the rows change in
place, the cursor stays on its feed, and this desk's last publish's failures stay marked
until ``v`` or the next publish.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widget import Widget
from textual.widgets import DataTable, Label

from hotline.errors import HotlineError
from tui.changes import describe, failure_line
from tui.keys import Key
from tui.messages import FeedsChecked
from tui.publish_preview import preview_lines
from tui.screens.base import HotlinePane
from tui.widgets.data_label import DataLabel
from tui.widgets.desk_table import Col, DeskTable

if TYPE_CHECKING:
    from feeds.preview import PublishPreview
    from feeds.publish import PublishReport
    from feeds.status import FeedFile

STATE_OK, STATE_BAD, STATE_NEW, STATE_FAILED = "通过", "有问题", "未发布", "发布失败"


@dataclass
class FeedRow:
    """One platform's feed as the tab shows it."""

    profile: str
    label: str
    path: str
    items: int
    size: int
    last_build: str
    state: str
    problems: list[str] = field(default_factory=list)


def feed_rows(feeds: list[FeedFile], report: PublishReport | None = None) -> list[FeedRow]:
    """Rows from the validated files, with a publish's failures (and their reasons) on top."""
    failed = {f.profile: f for f in (report.feeds if report else []) if f.status == "failed"}
    rows = []
    for f in feeds:
        state = STATE_NEW if not f.exists else STATE_BAD if f.problems else STATE_OK
        problems = list(f.problems)
        if f.profile in failed:
            state = STATE_FAILED
            problems = [*failed[f.profile].problems, "（未写入：保留上一版订阅源）"]
        rows.append(
            FeedRow(f.profile, f.label, f.path, f.items, f.bytes, f.last_build, state, problems)
        )
    return rows


def size_text(n: int) -> str:
    return "" if not n else f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def report_text(report: PublishReport) -> str:
    text = f"已发布：{len(report.listed)} 期在订阅源中"
    if report.newly_published:
        text += f"；新发布 第{'、'.join(map(str, report.newly_published))}期"
    if report.missing:
        text += f"；{len(report.missing)} 期母带缺失或损坏，未列入"
    if not report.ok:
        text = f"{len(report.problems)} 个问题：失败的订阅源未写入，保留上一版；" + text
    return text


class PublishPane(HotlinePane):
    """发布: the platform feeds."""

    LABEL = "发布"
    PANE_ID = "publish"
    TABLES = frozenset({"episode"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Key(
            "p",
            "publish",
            "发布",
            doc="publish (previews first: items added, removed, changed per feed, then asks)",
        ),
        Key(
            "v",
            "validate",
            "重新检查",
            doc="check every platform feed again (validation and problems)",
        ),
    ]

    def __init__(self, *, key: str = "") -> None:
        super().__init__(key=key)
        self.loaded = False
        self.busy = False
        self.rows: list[FeedRow] = []
        self._report: PublishReport | None = None
        """This desk's last publish, whose refused feeds stay marked on quiet re-reads."""
        self._checking_quietly = False
        self._asked = 0
        """Work asked for so far: a quiet check's result is dropped if the user asked since."""

    def compose_tab(self) -> ComposeResult:
        yield DataLabel("", id="feeds-where", classes="feeds-where")
        yield DeskTable(
            [
                Col("平台"),
                Col("文件"),
                Col("节目", keep=True),
                Col("大小", keep=True),
                Col("更新时间", keep=True),
                Col("状态", keep=True),
            ],
            id="feeds-table",
        )
        yield DataLabel("", id="feed-problems")

    def tab_built(self) -> None:
        settings = self.station.settings.feeds
        self.query_one("#feeds-where", Label).update(
            f"订阅源文件：{self.station.public_dir / 'feeds'}\n"
            f"公开地址：{settings.base_url.rstrip('/')}/feeds/…（public/ 由网站或 CDN 提供）"
        )

    @property
    def table(self) -> DeskTable:
        return self.query_one("#feeds-table", DeskTable)

    def main_widget(self) -> Widget:
        return self.table

    def activated(self) -> None:
        self.table.focus()
        if not self.loaded:
            self.loaded = True
            self.action_validate()

    def count_text(self) -> str:
        good = sum(1 for r in self.rows if r.state == STATE_OK)
        return f"{good} / {len(self.rows)} 个订阅源通过检查" if self.rows else ""

    # ------------------------------------------------------------ work in workers

    def reload(self, select: str | None = None) -> None:
        self._work(publish=False, quiet=True)

    def _begin(self, *, quiet: bool) -> int | None:
        """Start a piece of work: its number, or None if it must not start now.

        The user's own work (check, preview, publish) is one at a time; a quiet check
        never stands in its way: one asked for meanwhile waits, one under way is dropped.
        """
        if quiet:
            if self.busy or self._checking_quietly:
                self.stale = True  # read again once the work under way is done
                return None
            self._checking_quietly = True
        elif self.busy:
            self.hotline.report("正在发布或检查，请稍候", error=True)
            return None
        else:
            self.busy = True
        self._asked += 1
        return self._asked

    def _work(self, publish: bool, *, quiet: bool = False) -> None:
        asked = self._begin(quiet=quiet)
        if asked is None:
            return
        station, now = self.station, self.now()
        kept = self._report if quiet else None

        def run() -> None:
            from feeds.publish import publish as run_publish
            from feeds.status import validate_feeds

            try:
                report = run_publish(station=station, now=now) if publish else None
                feeds = validate_feeds(station=station)
            except HotlineError as exc:
                self.post_message(FeedsChecked(asked, text=describe(exc), error=True, quiet=quiet))
                return
            except Exception as exc:  # logged with its traceback; the desk goes on
                line = failure_line(exc, where=station.where, context="desk: 发布")
                self.post_message(FeedsChecked(asked, text=line, error=True, quiet=quiet))
                return
            rows = feed_rows(feeds, report or kept)
            if report is not None:
                text = report_text(report)
                self.post_message(
                    FeedsChecked(asked, rows, text, error=not report.ok, report=report)
                )
            else:
                bad = sum(1 for r in rows if r.state != STATE_OK)
                text = f"检查完毕：{bad} 个订阅源需要处理"
                self.post_message(FeedsChecked(asked, rows, text, quiet=quiet, report=kept))

        if not quiet:
            self.query_one("#feed-problems", Label).update("发布中…" if publish else "检查中…")
            self.state_changed()
        self.run_worker(run, thread=True, group="quiet-check" if quiet else "publish")

    def on_feeds_checked(self, message: FeedsChecked) -> None:
        if message.quiet:
            self._checking_quietly = False
            if message.asked != self._asked:  # the user asked for work since: theirs counts
                return
        else:
            self.busy = False
        self._read_at = time.monotonic()  # what this check read need not be read again at once
        if not message.quiet or message.error:
            self.hotline.report(message.text, error=message.error)
        if message.feeds or not message.error:
            self._report = message.report
            self.show(message.feeds)
        self.state_changed()
        if self.stale and self.showing:  # a change came in while this work was under way
            self.follow()

    def show(self, rows: list[FeedRow]) -> None:
        self.rows = rows
        table = self.table
        cells = [
            (
                r.profile,
                (
                    r.label,
                    f"public/{r.path}",
                    str(r.items) if r.items else "",
                    size_text(r.size),
                    r.last_build,
                    r.state,
                ),
            )
            for r in rows
        ]
        table.show_rows(cells)  # the same feeds: changed in place, the cursor on its feed
        if rows:
            self._show_problems(table.cursor_row)
        self.hotline.show_count(self.count_text(), pane=self)

    @on(DataTable.RowHighlighted, "#feeds-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_problems(event.cursor_row)

    def _show_problems(self, index: int) -> None:
        label = self.query_one("#feed-problems", Label)
        if not 0 <= index < len(self.rows):
            label.update("")
            return
        row = self.rows[index]
        where = self.station.public_dir / row.path
        lines = [f"{row.label}：{where}"]
        lines += [f"• {p}" for p in row.problems] or ["没有问题"]
        label.update("\n".join(lines))
        label.set_class(bool(row.problems), "-bad")

    # ------------------------------------------------------------ keys

    def why_not(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        if action in ("publish", "validate") and self.busy:
            return "正在发布或检查，请稍候"
        return None

    def action_validate(self) -> None:
        self._work(publish=False)

    def action_publish(self) -> None:
        # What the publish would do first (a dry run, writing nothing), then the question.
        asked = self._begin(quiet=False)
        if asked is None:
            return
        station, now = self.station, self.now()

        def run() -> None:
            from feeds.preview import preview_publish

            try:
                preview = preview_publish(station=station, now=now)
            except HotlineError as exc:
                self.post_message(FeedsChecked(asked, text=describe(exc), error=True))
                return
            except Exception as exc:  # logged with its traceback; the desk goes on
                line = failure_line(exc, where=station.where, context="desk: 发布预览")
                self.post_message(FeedsChecked(asked, text=line, error=True))
                return
            self.app.call_from_thread(self._ask, preview)

        self.query_one("#feed-problems", Label).update("预览中…")
        self.state_changed()
        self.run_worker(run, thread=True, group="publish", exclusive=True)

    def _ask(self, preview: PublishPreview) -> None:
        self.busy = False
        self.state_changed()
        lines = preview_lines(preview)
        summary = self.query_one("#feed-problems", Label)
        summary.update("\n".join(["发布预览（尚未写入）：", *lines]))
        summary.set_class(not preview.ok, "-bad")
        if not preview.changes_anything and preview.ok:
            self.hotline.report("没有需要发布的改动：各订阅源和 public/ 保持不变")
            return
        question = "\n".join(
            [
                f"发布到 {self.station.public_dir}：",
                *preview_lines(preview, short=True),
                "新发布的节目会出现在听众的播客应用里。",
            ]
        )
        self.confirm(question, lambda: self._work(publish=True), yes="发布")

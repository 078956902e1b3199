"""What a publish would do, in the desk's words: the 发布 tab shows it before asking.

The same facts as ``hotline publish --dry-run`` (``feeds.preview.PublishPreview``): per
platform feed the items that would be added, removed and changed (with which fields),
the files of ``public/`` that would come, change and go, and every problem that would
stop the publish. Platforms whose feeds change alike are named together, as the CLI does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feeds.diff import FeedDiff, ItemRef
    from feeds.preview import PublishPreview

NAMED = 5
"""Items named per list; the rest are counted."""
FIRST_PROBLEM = 100
"""Characters of the first problem a short summary quotes."""


def _named(items: list[str]) -> str:
    shown = "、".join(items[:NAMED])
    return shown + (f" 等 {len(items)} 期" if len(items) > NAMED else "")


def _item(item: ItemRef, short: bool) -> str:
    if item.number is None:
        return f"《{item.title}》"
    return f"第{item.number}期" if short else f"第{item.number}期《{item.title}》"


def diff_text(diff: FeedDiff, *, short: bool = False) -> str:
    """One feed's changes in a line: ``新增 第4期《…》；删除 …；修改 第1期《…》（title）``.

    ``short`` names episodes by number only.
    """
    parts = []
    if diff.added:
        parts.append(f"新增 {_named([_item(i, short) for i in diff.added])}")
    if diff.removed:
        parts.append(f"删除 {_named([_item(i, short) for i in diff.removed])}")
    if diff.changed:
        changed = [f"{_item(c.item, short)}（{', '.join(c.fields)}）" for c in diff.changed]
        parts.append(f"修改 {_named(changed)}")
    if diff.channel:
        parts.append(f"节目信息（{', '.join(diff.channel)}）")
    return "；".join(parts)


def preview_lines(preview: PublishPreview, *, short: bool = False) -> list[str]:
    """The summary, one line per group of feeds, then files, withdrawals and problems.

    ``short`` (for the question, which must fit a small terminal): episodes by number,
    "every platform" when all feeds change alike, and the first problem only.
    """
    groups: dict[str, list[str]] = {}
    for feed in preview.feeds:
        text = diff_text(feed.diff, short=short)
        if text:
            groups.setdefault(text, []).append(feed.label)
    lines = []
    for text, labels in groups.items():
        alike = short and len(labels) == len(preview.feeds) > 1
        names = f"各平台订阅源（{len(labels)} 个）" if alike else "、".join(labels)
        lines.append(f"{names}：{text}")
    if not lines:
        lines.append("各订阅源的节目不变")
    files = (
        len(preview.files_added),
        len(preview.files_changed),
        len(preview.files_removed),
    )
    if any(files):
        lines.append(f"public/ 文件：新增 {files[0]}，修改 {files[1]}，删除 {files[2]}")
    if preview.withdrawn:
        numbers = "、".join(map(str, preview.withdrawn))
        lines.append(f"已撤下、不列入订阅源：第{numbers}期")
    if preview.problems and short:
        first = preview.problems[0]
        first = first if len(first) <= FIRST_PROBLEM else first[: FIRST_PROBLEM - 1] + "…"
        lines.append(f"{len(preview.problems)} 个问题会使这次发布被拒绝（详见发布页），如：{first}")
    elif preview.problems:
        lines.append(f"{len(preview.problems)} 个问题会使这次发布被拒绝：")
        lines += [f"• {p}" for p in preview.problems]
    return lines

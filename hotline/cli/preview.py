"""``hotline publish --dry-run``: the preview of a publish, as a table and lists or as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer

from hotline.cli.common import echo, emit_json, plural, print_table
from hotline.timeutil import local_iso, local_text

if TYPE_CHECKING:
    from feeds.diff import FeedDiff, ItemRef
    from feeds.preview import PublishPreview
    from hotline.station import Station

SHOWN = 20
"""Items or files listed per list in the text form (``--json`` lists every one)."""


def _item_json(item: ItemRef) -> dict[str, Any]:
    return {"episode": item.number, "guid": item.guid, "title": item.title}


def preview_json(preview: PublishPreview, station: Station) -> dict[str, Any]:
    """The stable ``--json`` form of a preview."""
    return {
        "dry_run": True,
        "ok": preview.ok,
        "changes_anything": preview.changes_anything,
        "base_url": preview.base_url,
        "feeds": [
            {
                "platform": f.profile,
                "label": f.label,
                "path": f"public/{f.path}",
                "status": f.status,
                "items": f.items,
                "added": [_item_json(i) for i in f.diff.added],
                "removed": [_item_json(i) for i in f.diff.removed],
                "changed": [
                    {**_item_json(c.item), "fields": list(c.fields)} for c in f.diff.changed
                ],
                "channel": f.diff.channel,
                "problems": f.problems,
            }
            for f in preview.feeds
        ],
        "files": {
            "added": [f"public/{p}" for p in preview.files_added],
            "changed": [f"public/{p}" for p in preview.files_changed],
            "removed": [f"public/{p}" for p in preview.files_removed],
        },
        "problems": preview.problems,
        "withdrawn": preview.withdrawn,
        "retag": preview.retag,
        "waiting": [
            {"episode": n, "release_at": local_iso(when, station.tz)} for n, when in preview.waiting
        ],
        "missing_masters": preview.missing,
        "notes": preview.notes,
    }


def _capped(lines: Sequence[str]) -> list[str]:
    if len(lines) <= SHOWN:
        return list(lines)
    return [*lines[:SHOWN], f"… and {len(lines) - SHOWN} more (--json lists every one)"]


def _name(item: ItemRef) -> str:
    return f"{item.number} {item.title}" if item.number is not None else item.title


def diff_lines(diff: FeedDiff) -> list[str]:
    """A feed's changes, one line per item: ``+`` added, ``−`` removed, ``~`` changed."""
    lines = _capped([f"+ {_name(i)}" for i in diff.added])
    lines += _capped([f"− {_name(i)}" for i in diff.removed])
    lines += _capped([f"~ {_name(c.item)}: {', '.join(c.fields)}" for c in diff.changed])
    if diff.channel:
        lines.append(f"~ channel: {', '.join(diff.channel)}")
    return lines


def show_preview(
    station: Station, *, base_url: str | None, allow_drop: bool, as_json: bool
) -> None:
    """Preview a publish of ``station`` and print it; exit 1 when the publish would fail."""
    from feeds.preview import preview_publish

    preview = preview_publish(station=station, base_url=base_url, allow_drop=allow_drop)
    if as_json:
        emit_json(preview_json(preview, station))
    else:
        _print(preview, station)
    if not preview.ok:
        for problem in preview.problems:
            typer.echo(f"hotline: error: {problem}", err=True)
        typer.echo(
            f"hotline: error: {plural(len(preview.problems), 'problem')}: `hotline publish` "
            "would publish nothing now (dry run: nothing was written)",
            err=True,
        )
        raise typer.Exit(1)


def _print(preview: PublishPreview, station: Station) -> None:
    print_table(
        ("平台", "文件", "变化", "节目", "新增", "删除", "修改"),
        (
            (
                f.label,
                f"public/{f.path}",
                f.status,
                f.items,
                len(f.diff.added),
                len(f.diff.removed),
                len(f.diff.changed) + (1 if f.diff.channel else 0),
            )
            for f in preview.feeds
        ),
    )
    # Platforms mostly share their items: feeds with the same changes are listed once.
    groups: dict[tuple[str, ...], list[str]] = {}
    for feed in preview.feeds:
        lines = tuple(diff_lines(feed.diff))
        if lines:
            groups.setdefault(lines, []).append(f"public/{feed.path}")
    for lines, paths in groups.items():
        echo(f"{', '.join(paths)}:")
        for line in lines:
            echo(f"  {line}")
    counts = (
        f"{len(preview.files_added)} added, {len(preview.files_changed)} changed, "
        f"{len(preview.files_removed)} removed"
    )
    echo(f"files in public/: {counts}")
    for mark, files in (
        ("+", preview.files_added),
        ("~", preview.files_changed),
        ("−", preview.files_removed),
    ):
        for line in _capped([f"{mark} {f}" for f in files]):
            echo(f"  {line}")
    if preview.retag:
        echo(f"masters re-tagged first: {', '.join(map(str, preview.retag))}")
    if preview.withdrawn:
        echo(f"withdrawn, not listed: {', '.join(map(str, preview.withdrawn))}")
    for number, when in preview.waiting:
        echo(f"episode {number} is released at {local_text(when, station.tz)}")
    for line in preview.missing:
        echo(f"not listed: {line}")
    for note in preview.notes:
        echo(f"note: {note}")
    verdict = "would change" if preview.changes_anything else "would change nothing"
    echo(f"dry run: nothing was written; `hotline publish` {verdict}")

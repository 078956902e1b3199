"""What the desk draws, as text: the rows of the screen, or of one widget's region.

Read from the compositor's last frame (what a terminal would show), so a test can tell a
widget that exists from one a producer can see: cut off by the screen's edge, hidden
under the footer, or pushed out of its dialog.
"""

from __future__ import annotations

from textual.app import App
from textual.geometry import Region
from textual.widget import Widget


def screen_rows(app: App) -> list[str]:
    """Every row of the screen as drawn (a dialog with the desk dimmed behind it)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def region_text(app: App, region: Region) -> str:
    """The text drawn inside ``region`` (in cells), row by row, each row stripped."""
    strips = app.screen._compositor.render_strips()
    rows = []
    for y in range(max(region.y, 0), min(region.bottom, len(strips))):
        rows.append(strips[y].crop(region.x, region.right).text.strip())
    return "\n".join(rows)


def compact(text: str) -> str:
    """``text`` without any white space: wrapped text compares equal to the original."""
    return "".join(text.split())


def on_screen(app: App, widget: Widget) -> bool:
    """``widget`` lies wholly inside the screen and above the footer, and is not scrolled
    out of the containers around it."""
    screen = app.screen.region
    footers = [f.region for f in app.screen.query("Footer") if f.display]
    region = widget.region
    if not region or not screen.contains_region(region):
        return False
    if any(region.overlaps(footer) for footer in footers):
        return False
    return all(
        ancestor.scrollable_content_region.contains_region(region)
        for ancestor in widget.ancestors
        if isinstance(ancestor, Widget) and ancestor.is_scrollable and ancestor.region
    )

"""The demo's cover art, and the line that says where its feeds are.

The demo's ~1200 aired episodes are marked published but have no audio (a demo cannot
ship 1200 hours of recordings), and a feed lists only episodes whose master file
exists: the demo's feeds carry the one episode that ``hotline.demo_recording`` gives a
generated recording; any other appears after ``hotline ingest N FILE`` and
``hotline process``.
"""

from __future__ import annotations

from hotline.config import save_settings
from hotline.demo_steps import DemoContext

COVER = "art/cover.png"
COVER_PX = 1400


def make_demo_cover(ctx: DemoContext) -> None:
    """A plain square cover in the station, made with Pillow, named in ``show.cover``."""
    from PIL import Image, ImageDraw

    station = ctx.station
    path = station.root / COVER
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (COVER_PX, COVER_PX), (178, 34, 34))
    draw = ImageDraw.Draw(image)
    draw.ellipse((300, 300, 1100, 1100), outline=(255, 215, 0), width=40)
    draw.rectangle((640, 420, 760, 980), fill=(255, 215, 0))
    image.save(path, format="PNG")
    station.settings.show.cover = COVER
    save_settings(station.settings, station.settings_path)


def feeds_summary(station_root: str) -> str:
    """One line for the demo summary: where the feed is and why it starts empty."""
    return (
        f"feeds         {station_root}/public/feeds/generic.xml (one per platform); "
        "only episodes with a mastered recording are listed"
    )

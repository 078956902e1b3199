"""Save the README's screenshot of the desk: the app headless on a demo station → docs/tui.svg.

    python scripts/screenshot.py [--out docs/tui.svg] [--tab 1] [--station DIR]

Builds the demo station (``hotline.demo.build_demo``) in a temporary folder unless
``--station`` names one, opens the desk at 140×40 with ``App.run_test``, waits for the
rows to load and writes Textual's SVG screenshot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

ROOT = Path(__file__).resolve().parents[1]
SIZE = (140, 40)


async def shoot(station_root: Path, out: Path, tab: str) -> None:
    from hotline.station import open_station
    from tui.app import FOLLOW_GROUP, make_app

    app = make_app(open_station(station_root))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(tab)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            await pilot.pause()
            table = app.active_pane.query("PagedTable")
            busy = any(w.is_running and w.group != FOLLOW_GROUP for w in app.workers)
            if table and table.first().row_count and not busy:
                break
        await pilot.pause()
        out.parent.mkdir(parents=True, exist_ok=True)
        app.save_screenshot(filename=out.name, path=str(out.parent))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "tui.svg")
    parser.add_argument("--tab", default="1", help="Number key of the tab to show (1 = 排期).")
    parser.add_argument("--station", type=Path, help="An existing station (default: a demo).")
    args = parser.parse_args(argv)
    scratch = None
    root = args.station
    if root is None:
        from hotline.demo import build_demo

        scratch = Path(tempfile.mkdtemp(prefix="hotline-shot-"))
        root = scratch / "demo"
        build_demo(root)
    try:
        asyncio.run(shoot(root, args.out, args.tab))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

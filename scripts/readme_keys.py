"""Write the README's key table from the desk's bindings (``tui.keys``).

    python scripts/readme_keys.py [--check]

Replaces the lines between ``<!-- keys -->`` and ``<!-- /keys -->`` in README.md with
the table ``tui.keys.desk_key_rows`` builds; ``--check`` only says whether it is current
(exit 1 if not).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START, END = "<!-- keys -->", "<!-- /keys -->"


def with_table(readme: str, table: str) -> str:
    """``readme`` with the text between the markers replaced by ``table``."""
    before, start, rest = readme.partition(START)
    _, end, after = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"README.md has no {START} … {END} markers")
    return f"{before}{START}\n{table}\n{END}{after}"


def main(argv: list[str] | None = None) -> int:
    from tui.keys import desk_key_rows, markdown

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Only check that it is current.")
    args = parser.parse_args(argv)
    path = ROOT / "README.md"
    readme = path.read_text(encoding="utf-8")
    updated = with_table(readme, markdown(desk_key_rows()))
    if args.check:
        current = updated == readme
        print("the key table is current" if current else "the key table is out of date")
        return 0 if current else 1
    path.write_text(updated, encoding="utf-8")
    print(f"wrote the key table in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``hotline`` console script: the CLI, started the way a short command should start.

Loading SQLAlchemy, pydantic, typer and our schema allocates a few hundred thousand
objects, none of them garbage; the cyclic collector would walk the growing heap again
and again while they load, which costs a command about 15 % of its start-up. So
collection waits until the command's modules are loaded (:func:`modules_loaded`), and
what loaded is then frozen out of later collections. Everything else (tests, the TUI
started from Python, library use) keeps the interpreter's defaults: only this entry
point pauses the collector.
"""

from __future__ import annotations

import gc

_paused = False


def main() -> None:
    """Console-script entry point (``hotline = "hotline.console:main"``)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True
    try:
        from hotline.cli import main as cli_main

        cli_main()
    finally:
        modules_loaded()


def modules_loaded() -> None:
    """Resume collection once start-up has loaded the modules the command needs.

    A no-op unless :func:`main` paused the collector, so calling it from the CLI is
    harmless when the CLI runs inside another program.
    """
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


if __name__ == "__main__":
    main()

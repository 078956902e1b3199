"""Layering: nothing outside tui/ imports textual; everyday commands load no torch, whisper or
procrastinate."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADLESS_PACKAGES = ("hotline", "episodes", "transcripts", "feeds")


def headless_modules() -> list[str]:
    names = []
    for package in HEADLESS_PACKAGES:
        names.append(package)
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            if ".migrations" not in info.name:
                names.append(info.name)
    return names


def loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return set(out.split())


def test_no_headless_module_imports_textual() -> None:
    modules = headless_modules()
    assert "hotline.cli" in modules
    imports = "\n".join(f"import {name}" for name in modules)
    loaded = loaded_after(imports)
    assert "textual" not in loaded
    assert "rich" not in loaded or "textual" not in loaded


def test_the_cli_starts_without_torch_whisper_textual_alembic_or_the_job_engine() -> None:
    loaded = loaded_after("import hotline.cli")
    for heavy in ("torch", "whisper", "textual", "alembic", "pydub", "feedgen", "procrastinate"):
        assert heavy not in loaded, heavy


def test_the_queue_and_the_job_list_load_no_job_engine() -> None:
    """procrastinate is loaded by the commands that run or write jobs on PostgreSQL only."""
    loaded = loaded_after("import hotline.jobs, hotline.engine_pg, hotline.engine_pg.tickets")
    assert "procrastinate" not in loaded

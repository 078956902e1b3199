"""Reference data shipped with the package: the 31 sectors (界别) and the member levels."""

from __future__ import annotations

from functools import cache
from importlib import resources

from hotline.errors import InvalidInput
from hotline.models import Level


def _data_lines(name: str) -> list[str]:
    text = resources.files("hotline").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@cache
def sectors() -> tuple[str, ...]:
    """The 31 sectors in protocol order."""
    return tuple(_data_lines("sectors.txt"))


def check_sector(value: str) -> str:
    """Return the sector named by ``value``, or refuse it naming a few close ones."""
    name = value.strip()
    if name in sectors():
        return name
    close = [s for s in sectors() if name and (name in s or s in name)]
    hint = f"; did you mean {'、'.join(close[:3])}?" if close else "; see `hotline members sectors`"
    raise InvalidInput(f"unknown sector {value!r}{hint}")


def check_level(value: str) -> str:
    """Accept 全国/省/市/区 (or national/provincial/municipal/district)."""
    for level in Level:
        if value.strip() in (level.value, level.name):
            return level.value
    allowed = "/".join(level.value for level in Level)
    raise InvalidInput(f"unknown level {value!r}: use {allowed}")

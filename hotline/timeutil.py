"""Times: parsing what producers type, storing UTC, showing the station's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.errors import InvalidInput

AIR_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` for ``name``, or ``InvalidInput`` saying the zone is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {name!r}") from exc


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def parse_local_datetime(value: str, tz: ZoneInfo, *, field: str = "air time") -> datetime:
    """Parse ``YYYY-MM-DD HH:MM`` (or ISO 8601 with offset) as station-local; return aware UTC.

    Refuses times that do not exist or are ambiguous in ``tz`` (DST gaps and folds).
    """
    text = (value or "").strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
        for fmt in AIR_TIME_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None or len(text) <= len("YYYY-MM-DD"):  # a date alone is not an air time
        raise InvalidInput(f"{field} {value!r} is not a time: use YYYY-MM-DD HH:MM")
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    local = parsed.replace(tzinfo=tz)
    roundtrip = local.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if roundtrip != parsed:
        raise InvalidInput(f"{field} {value!r} does not exist in {tz.key}")
    return local.astimezone(UTC)


def parse_date(value: str, *, field: str = "date") -> date:
    """Parse ``YYYY-MM-DD`` strictly."""
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise InvalidInput(f"{field} {value!r} is not a date: use YYYY-MM-DD") from exc


def as_utc(moment: datetime) -> datetime:
    """Treat a naive datetime as UTC (how the database returns it) and convert aware ones."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local_iso(moment: datetime | None, tz: ZoneInfo) -> str | None:
    """ISO 8601 in the station's zone with its offset, for ``--json`` output."""
    if moment is None:
        return None
    return as_utc(moment).astimezone(tz).isoformat()


def local_text(moment: datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Short human form in the station's zone, for tables."""
    if moment is None:
        return ""
    return as_utc(moment).astimezone(tz).strftime(fmt)


def parse_offset(value: str, *, field: str = "offset") -> float:
    """Parse ``MM:SS``, ``HH:MM:SS`` or plain seconds into seconds."""
    text = (value or "").strip()
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError:
        parts = []
    if not parts or len(parts) > 3 or any(p < 0 for p in parts):
        raise InvalidInput(f"{field} {value!r} is not a time offset: use MM:SS or HH:MM:SS")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def format_offset(seconds: float | None) -> str:
    """Seconds → ``HH:MM:SS``."""
    if seconds is None:
        return ""
    whole = int(seconds)
    return str(timedelta(seconds=whole)).rjust(8, "0")

"""Station settings: the typed contents of ``hotline.toml``, with a default for every field."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import date, time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from hotline.errors import InvalidInput
from hotline.files import write_atomic

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass
class ShowSettings:
    name: str = "政协热线"
    """The programme's name, used in titles, tags and feeds."""
    author: str = "政协热线节目组"
    """Who makes the show (ID3 artist, itunes:author)."""
    owner_name: str = "政协热线节目组"
    """Feed owner's name (itunes:owner)."""
    owner_email: str = "hotline@example.cn"
    """Feed owner's e-mail: Spotify and Apple verify ownership through it."""
    hosts: list[str] = field(default_factory=lambda: ["李明", "王芳"])
    """Regular hosts, credited on each new episode."""
    language: str = "zh-cn"
    """Language of the show (feeds, ID3, transcription)."""
    timezone: str = "Asia/Shanghai"
    """Times are stored in UTC and shown in this zone."""
    description: str = "政协委员走进直播间，现场回答听众的来信来电。"
    """One-paragraph description of the show."""
    website: str = "https://hotline.example.cn"
    """The show's web page."""
    cover: str = ""
    """Cover art (JPEG/PNG, square, 1400–3000 px), a path relative to the station."""
    studio: str = "政协热线直播室"
    """Where guests come for the show: the location of their calendar invitations."""


@dataclass
class ScheduleSettings:
    weekday: str = "saturday"
    """Day of the weekly slot."""
    time: str = "11:00"
    """Local start time of the weekly slot (HH:MM)."""
    duration_minutes: int = 60
    """Length of the slot; used for overlap checks between bookings."""
    blackout: list[str] = field(default_factory=list)
    """Local dates (YYYY-MM-DD) with no show: Spring Festival, 两会, holidays."""

    def weekday_index(self) -> int:
        return WEEKDAYS.index(self.weekday)

    def start_time(self) -> time:
        return time.fromisoformat(self.time)

    def blackout_dates(self) -> set[date]:
        return {date.fromisoformat(d) for d in self.blackout}


@dataclass
class BookingSettings:
    guest_limit: int = 3
    """Most members booked on one episode (invited, confirmed and appeared all count)."""
    arrive_minutes: int = 30
    """Guests are asked to arrive this many minutes before the show goes on air."""


@dataclass
class ReferralSettings:
    working_days: int = 5
    """A referred department's reply is due this many mainland working days after sending
    (holidays and make-up workdays, 调休, counted), unless ``--due`` says otherwise."""
    remind_days: int = 2
    """``referrals remind`` also lists replies due within this many days."""


@dataclass
class LiveSettings:
    lines: int = 1
    """Callers the studio can have on air at once (phone lines into the desk)."""
    start_window_minutes: int = 120
    """Starting the show clock further than this from the slot's start asks first."""


@dataclass
class AudioSettings:
    target_lufs: float = -16.0
    """Integrated loudness of masters (−16 for podcasts; mono shows often use −19)."""
    true_peak_db: float = -1.0
    """Ceiling for the true peak of masters, in dBTP."""
    channels: int = 1
    """Channels of the master: 1 mono, 2 stereo."""
    sample_rate: int = 44100
    """Sample rate of the master."""
    bitrate_kbps: int = 0
    """MP3 bitrate; 0 picks 96 for mono and 128 for stereo."""
    silence_threshold_db: float = -50.0
    """Level below which the ends of a recording count as dead air (dBFS)."""
    silence_min_seconds: float = 1.0
    """Dead air shorter than this is kept."""
    min_recording_seconds: float = 5.0
    """Recordings shorter than this are refused at ingest."""
    intro: str = ""
    """Intro jingle, relative to the station; empty for none."""
    outro: str = ""
    """Outro jingle, relative to the station; empty for none."""
    crossfade_ms: int = 500
    """Crossfade between jingles and the programme."""
    true_peak_margin_db: float = 2.0
    """The limiter aims this far below ``true_peak_db``: MP3 encoding raises true peaks a little."""
    max_jingle_seconds: float = 120.0
    """Jingles longer than this are refused (they are held in memory while mastering)."""


@dataclass
class TranscribeSettings:
    model: str = "small"
    """Whisper model name (tiny, base, small, medium, large-v3, …), a checkpoint path (.pt) or
    a CTranslate2 model folder (``hotline models convert`` makes one from a checkpoint)."""
    backend: str = "auto"
    """openai-whisper (the reference), faster-whisper (CTranslate2, about 4× faster on CPU) or
    auto: faster-whisper when the model is a CTranslate2 folder or a converted one of that
    name is on disk, openai-whisper otherwise."""
    device: str = "auto"
    """auto (CUDA when present), cpu or cuda."""
    compute_type: str = "auto"
    """faster-whisper's arithmetic: auto is float16 on CUDA and int8 on CPU; or int8, float16,
    float32, int8_float16, int8_float32, bfloat16."""
    threads: int = 0
    """CPU threads for faster-whisper; 0 is one per core."""
    batch_size: int = 0
    """faster-whisper's batched pipeline: windows decoded together. 0 picks 8, on a GPU and
    on a CPU (measured faster on both, ``bench_transcribe.py --part engines``); 1 is
    sequential."""
    word_timestamps: bool = True
    """Store when each word starts and ends (search lands on the word; costs some speed)."""
    language: str = "zh"
    """Language passed to whisper."""
    beam_size: int = 5
    """Beam size for decoding; 0 uses greedy decoding."""
    temperatures: list[float] = field(default_factory=lambda: [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    """Temperature fallback ladder."""
    chunk_seconds: float = 600.0
    """Long audio is cut at pauses into chunks of about this length."""
    skip_silence: bool = True
    """Pauses longer than ``min_silence_seconds`` are not sent to the model (offsets are kept)."""
    min_silence_seconds: float = 0.5
    """Shorter pauses stay in the audio whisper hears; longer ones are cut out."""
    speech_pad_seconds: float = 0.25
    """Of each pause cut out, this much is kept on either side (word onsets, a break to hear).
    0.25 measured: on real speech (tests/unit/test_real_speech.py) 0.15 raised the word error
    rate over ungated audio by two words in a hundred, 0.25 did not."""
    max_window_tokens: int = 0
    """Most tokens whisper writes per 30-second window; 0 keeps whisper's limit (224)."""


@dataclass
class FeedSettings:
    base_url: str = "https://hotline.example.cn"
    """Where ``public/`` is served; every URL in a feed starts with it (https)."""
    explicit: bool = False
    """itunes:explicit."""
    category: str = "Government"
    """itunes:category."""
    platforms: list[str] = field(
        default_factory=lambda: ["generic", "apple", "spotify", "xiaoyuzhou", "ximalaya"]
    )
    """Platform profiles to publish a feed for."""
    podcast_guid: str = ""
    """The show's podcast:guid; set at first publish from the feed URL and kept from then on,
    so a new base URL does not make the show look like a new podcast."""
    max_drop_percent: float = 10.0
    """A publish that would remove more than this share of the items in the feeds now is
    refused (``hotline publish --allow-drop`` overrides): masters lost, not episodes retired."""
    moved_from: list[str] = field(default_factory=list)
    """Base URLs the feeds were published at before; set by publish when ``base_url`` changes.
    While it is not empty every feed carries ``itunes:new-feed-url`` (see the README for the
    redirects to keep from these addresses)."""


@dataclass
class JobSettings:
    timeout_floor: float = 60.0
    """Seconds any external process a job starts (ffmpeg) may take, whatever its input; a
    process still running past its limit is killed and its job fails with the reason."""
    timeout_factor: float = 0.5
    """Seconds such a process may take on top of the floor per second of audio it handles
    (0.5: two hours of audio may take an hour more). ffmpeg runs 20–500× faster than real
    time, so only a hung process ever reaches the limit."""


@dataclass
class StationSettings:
    id: str = ""
    """This station's identity, recorded in its database too: a folder whose id is not its
    database's is refused. Written by ``hotline init`` (or ``hotline db upgrade`` for a
    station from before ids); never edit it."""


@dataclass
class DatabaseSettings:
    url: str = ""
    """The station's database on a server, ``postgresql://USER@HOST/DB``; empty for the
    folder's own ``hotline.db``. Never a password: libpq reads it from ``PGPASSWORD`` or
    ``~/.pgpass``; ``HOTLINE_DATABASE_URL`` (password allowed) overrides this."""
    busy_timeout_seconds: float = 10.0
    """How long a command waits for another one's lock before it gives up with one line."""


FOLDER_SECTIONS = ("station", "database")
"""Sections that belong to one folder (its identity, how it reaches the database); every
other section is the station's and is what the database keeps for folders attaching."""


@dataclass
class Settings:
    station: StationSettings = field(default_factory=StationSettings)
    show: ShowSettings = field(default_factory=ShowSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    bookings: BookingSettings = field(default_factory=BookingSettings)
    live: LiveSettings = field(default_factory=LiveSettings)
    referrals: ReferralSettings = field(default_factory=ReferralSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    transcribe: TranscribeSettings = field(default_factory=TranscribeSettings)
    feeds: FeedSettings = field(default_factory=FeedSettings)
    jobs: JobSettings = field(default_factory=JobSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)

    def validate(self) -> None:
        """Raise ``InvalidInput`` for settings that cannot work."""
        if self.schedule.weekday not in WEEKDAYS:
            raise InvalidInput(f"schedule.weekday {self.schedule.weekday!r} is not a weekday")
        try:
            self.schedule.start_time()
        except ValueError as exc:
            raise InvalidInput(f"schedule.time {self.schedule.time!r} is not HH:MM") from exc
        try:
            self.schedule.blackout_dates()
        except ValueError as exc:
            raise InvalidInput(f"schedule.blackout has a bad date: {exc}") from exc
        if self.schedule.duration_minutes <= 0:
            raise InvalidInput("schedule.duration_minutes must be positive")
        if self.bookings.guest_limit < 1:
            raise InvalidInput("bookings.guest_limit must be at least 1")
        if self.jobs.timeout_floor <= 0 or self.jobs.timeout_factor < 0:
            raise InvalidInput(
                "jobs.timeout_floor must be above 0 and jobs.timeout_factor at least 0 (seconds)"
            )
        if not 0 < self.database.busy_timeout_seconds <= 3600:
            raise InvalidInput("database.busy_timeout_seconds must be above 0 and at most 3600")
        if self.live.lines < 1:
            raise InvalidInput("live.lines must be at least 1")
        if self.live.start_window_minutes < 0:
            raise InvalidInput("live.start_window_minutes must be 0 or more")
        if not 0 <= self.bookings.arrive_minutes <= 24 * 60:
            raise InvalidInput("bookings.arrive_minutes must be 0 to 1440")
        if not 1 <= self.referrals.working_days <= 250:
            raise InvalidInput("referrals.working_days must be 1 to 250")
        if not 0 <= self.referrals.remind_days <= 60:
            raise InvalidInput("referrals.remind_days must be 0 to 60")
        if not 0 <= self.feeds.max_drop_percent <= 100:
            raise InvalidInput("feeds.max_drop_percent must be between 0 and 100")
        if url_has_password(self.database.url):
            raise InvalidInput(
                "[database] url holds a password: remove it from hotline.toml and give it in "
                "PGPASSWORD or ~/.pgpass (or the whole URL in HOTLINE_DATABASE_URL)"
            )


def url_has_password(url: str) -> bool:
    """Whether a database URL carries a password (``user:secret@host`` or ``?password=``)."""
    parts = urlsplit(url)
    try:
        inline = parts.password
    except ValueError:  # a malformed port: not ours to judge here
        inline = None
    return bool(inline) or any(
        key.lower() == "password" for key, _ in parse_qsl(parts.query, keep_blank_values=True)
    )


def without_password(url: str) -> str:
    """``url`` with any password removed (inline or as a query parameter)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}@{host}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = parts.query
    if any(key.lower() == "password" for key, _ in pairs):
        query = urlencode([(k, v) for k, v in pairs if k.lower() != "password"], safe="/")
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing to remove: the URL exactly as given
    # Not urlunsplit: it drops the "//" of a URL without a host (postgresql:///hotline?host=
    # /run/postgresql, a Unix socket), which no driver then reads as a URL.
    text = f"{parts.scheme}://{netloc}{parts.path}"
    return text + (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise InvalidInput(f"{where}: unknown setting {key!r}")
        default = getattr(cls(), key)
        if is_dataclass(default):
            if not isinstance(value, dict):
                raise InvalidInput(f"{where}: [{key}] must be a table")
            kwargs[key] = _build(type(default), value, f"{where} [{key}]")
        else:
            if (
                isinstance(default, float)
                and isinstance(value, int)
                and not isinstance(value, bool)
            ):
                value = float(value)
            if type(value) is not type(default):
                raise InvalidInput(
                    f"{where}: {key} should be {type(default).__name__}, not {value!r}"
                )
            kwargs[key] = value
    return cls(**kwargs)


def load_settings(path: Path) -> Settings:
    """Read and validate ``hotline.toml``; a missing file means all defaults."""
    if not path.exists():
        return Settings()
    try:
        return parse_settings(path.read_text(encoding="utf-8"), str(path))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not valid TOML: {exc}") from exc


def parse_settings(text: str, where: str) -> Settings:
    """Settings from TOML text (``where`` names it in errors), validated."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{where}: not valid TOML: {exc}") from exc
    settings = _build(Settings, data, where)
    try:
        settings.validate()
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc}") from exc
    return settings


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def dump_settings(settings: Settings, *, shared_only: bool = False) -> str:
    """Settings as TOML text, one table per section.

    ``shared_only`` leaves out the folder's own sections (``FOLDER_SECTIONS``): what the
    database keeps as the station's settings.
    """
    lines = ["# 政协热线 Hotline station settings. Every key is optional.", ""]
    for name, section in asdict(settings).items():
        if shared_only and name in FOLDER_SECTIONS:
            continue
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in section.items())
        lines.append("")
    return "\n".join(lines)


def save_settings(settings: Settings, path: Path) -> None:
    """Write settings to ``path`` atomically."""
    write_atomic(path, dump_settings(settings))

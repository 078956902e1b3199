"""Demo step: the producers' inbox, the files the README's tour imports.

A real station receives files to import: the archive office's typed-up register of old
episodes, the CPPCC office's list of new members (saved by Excel on a mainland desk, so
GB18030), a transcript made elsewhere for an old episode. The demo makes them:

- ``inbox/back-catalogue.csv``: a stretch of episodes from 2001 whose register was found
  late. The build sets them aside (their rows and guest appearances are removed) so the
  tour's ``hotline episodes import inbox/back-catalogue.csv --past`` brings them back;
- ``inbox/members.csv``: new members, and one already on the station, which the import
  skips and names;
- ``inbox/0800.srt``: a transcript of episode 800, which the demo holds no transcript of.

Everything is a function of the seed, like the rest of the demo.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter

import sqlalchemy as sa
from sqlmodel import col, select

from hotline.demo_data import affiliation, mobile
from hotline.demo_steps import DemoContext, DemoEpisode
from hotline.demo_transcripts import _lines, _segments
from hotline.models import Booking, BookingStatus, Call, Episode, Member, Question, Transcript
from hotline.timeutil import local_text
from transcripts.formats import write_srt

INBOX = "inbox"
SET_ASIDE = 12
"""How many consecutive episodes the late-found register holds."""
FIRST_CANDIDATE = 41
"""Where the search for that stretch starts: the show's second year."""
OLD_TRANSCRIPT = 800
NEW_MEMBERS = (
    ("欧阳晓东", "医药卫生界", "市", "东城区"),
    ("司马文静", "教育界", "区", "西城区"),
    ("上官建华", "经济界", "省", "高新区"),
    ("诸葛丽娜", "社会福利和社会保障界", "市", "江滨区"),
)


def add_inbox(ctx: DemoContext) -> None:
    """Set aside the late-found episodes and write the inbox files.

    A demo built for a day early in the show's history (tests do that) has fewer
    episodes: the files that need what it lacks are left out.
    """
    folder = ctx.station.root / INBOX
    folder.mkdir(exist_ok=True)
    stretch = _stretch(ctx)
    if stretch:
        (folder / "back-catalogue.csv").write_bytes(_set_aside(ctx, stretch))
    (folder / "members.csv").write_bytes(_members_csv(ctx))
    if any(e.number == OLD_TRANSCRIPT for e in ctx.episodes):
        (folder / f"{OLD_TRANSCRIPT:04d}.srt").write_text(_old_transcript(ctx), encoding="utf-8")


def _stretch(ctx: DemoContext) -> list[DemoEpisode]:
    """The first run of ``SET_ASIDE`` aired episodes with nothing but guests attached, whose
    guests' names are each one member's (the import finds guests by name)."""
    names = Counter(m.name for m in ctx.members)
    name_of = {m.id: m.name for m in ctx.members}
    attached = set(
        ctx.session.exec(select(Question.episode_id).where(col(Question.episode_id).is_not(None)))
    )
    attached |= set(ctx.session.exec(select(Transcript.episode_id)))
    attached |= set(ctx.session.exec(select(Call.episode_id)))
    by_number = {e.number: e for e in ctx.episodes if e.aired}
    start = FIRST_CANDIDATE
    while start + SET_ASIDE in by_number:
        run = [by_number.get(n) for n in range(start, start + SET_ASIDE)]
        if all(
            e is not None
            and e.id not in attached
            and all(names[name_of[g]] == 1 for g in ctx.guests.get(e.number, []))
            for e in run
        ):
            return [e for e in run if e is not None]
        start += 1
    return []


def _set_aside(ctx: DemoContext, stretch: list[DemoEpisode]) -> bytes:
    """Remove ``stretch`` from the station; return it as the archive typed it up."""
    ids = [e.id for e in stretch]
    titles = dict(
        ctx.session.exec(select(Episode.id, Episode.title).where(col(Episode.id).in_(ids))).all()
    )
    name_of = {m.id: m.name for m in ctx.members}
    appeared = {
        episode_id: [member_id for _, member_id in rows]
        for episode_id, rows in _group(
            ctx.session.exec(
                select(Booking.episode_id, Booking.member_id)
                .where(col(Booking.episode_id).in_(ids))
                .where(Booking.status == BookingStatus.appeared)
                .order_by(Booking.id)
            ).all()
        ).items()
    }
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # as Excel writes it
    writer.writerow(["number", "air", "title", "topic", "guests"])
    for episode in stretch:
        guests = "、".join(name_of[m] for m in appeared.get(episode.id, []))
        air = local_text(episode.air_start, ctx.station.tz)
        writer.writerow([episode.number, air, titles[episode.id], episode.topic, guests])
    # Those episodes never were on this station (the register is how they arrive): taken
    # out below the ORM, so the history records no deletion that did not happen.
    connection = ctx.session.connection()
    connection.execute(sa.delete(Booking).where(col(Booking.episode_id).in_(ids)))
    connection.execute(sa.delete(Episode).where(col(Episode.id).in_(ids)))
    kept = {e.number for e in stretch}
    ctx.episodes = [e for e in ctx.episodes if e.number not in kept]
    for number in kept:
        ctx.guests.pop(number, None)
    # Excel's "CSV UTF-8" puts a byte-order mark first.
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def _group(rows: list[tuple[int, int]]) -> dict[int, list[tuple[int, int]]]:
    grouped: dict[int, list[tuple[int, int]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return grouped


def _members_csv(ctx: DemoContext) -> bytes:
    """New members from the CPPCC office, and one the station already has, in GB18030."""
    rng = ctx.rng("inbox")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "sector", "level", "affiliation", "district", "contact", "active"])
    for name, sector, level, district in NEW_MEMBERS:
        writer.writerow(
            [name, sector, level, affiliation(rng, sector, district), district, mobile(rng), "是"]
        )
    known = next(m for m in ctx.members if m.last_year >= ctx.today.year)
    existing = ctx.session.get(Member, known.id)
    assert existing is not None  # made by the members step
    writer.writerow(
        [
            existing.name,
            existing.sector,
            existing.level,
            existing.affiliation,
            existing.district,
            existing.contact,
            "是",
        ]
    )
    return out.getvalue().encode("gb18030")


def _old_transcript(ctx: DemoContext) -> str:
    """Episode 800 as a subtitle file made elsewhere (a volunteer's SRT)."""
    rng = ctx.rng("inbox transcript")
    episode = next(e for e in ctx.episodes if e.number == OLD_TRANSCRIPT)
    hosts = ctx.session.exec(select(Episode.hosts).where(Episode.id == episode.id)).one()
    names = {m.id: m.name for m in ctx.members}
    guests = [names[i] for i in ctx.guests.get(episode.number, []) if i in names]
    return write_srt(_segments(rng, _lines(rng, episode, list(hosts or []), guests)))

"""A small station's worth of rows in every kind of table, for tests of whole-station moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from episodes.members import add_member
from episodes.questions import add_question
from hotline.cli import app
from hotline.models import Booking, Episode
from hotline.station import Station

TRANSCRIPTS = {
    998: ["今天谈谈养老服务", "社区養老和居家养老", "还有医保报销"],
    999: ["医保异地结算怎么办", "委员说：养老金会按时发放"],
}


def hotline(*args: object) -> tuple[int, str, str]:
    """``hotline ARGS…`` through typer's runner: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def fill(station: Station, tmp_path: Path) -> None:
    """Episodes, a booked member, questions with contacts, transcripts and their index."""
    first = datetime(2022, 7, 30, 3, 0, tzinfo=UTC)
    with station.session() as session:
        member = add_member(session=session, name="王建国", sector="教育界", contact="13812345678")
        for i, number in enumerate(sorted(TRANSCRIPTS)):
            episode = Episode(
                number=number, title=f"第{number}期", air_start=first + timedelta(7 * i)
            )
            session.add(episode)
            session.flush()
            session.add(Booking(episode_id=episode.id, member_id=member.id, status="appeared"))
        for text in ("小区电梯加装补贴怎么申请？", "养老金什么时候调整？"):
            add_question(
                session=session, text=text, channel="phone", listener_contact="13900001111"
            )
    for number, texts in TRANSCRIPTS.items():
        srt = "\n".join(
            f"{i + 1}\n00:0{i}:00,000 --> 00:0{i}:05,000\n{text}\n" for i, text in enumerate(texts)
        )
        path = tmp_path / f"{number}.srt"
        path.write_text(srt, encoding="utf-8")
        code, _, err = hotline("-s", station.root, "transcripts", "import", number, path)
        assert code == 0, err

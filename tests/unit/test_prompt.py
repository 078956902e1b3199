"""Whisper's initial prompt: vocabulary, hosts and booked guests, simplified, within budget."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.models import Booking, Episode, Member
from hotline.station import Station
from transcripts.prompt import (
    OPENING,
    PROMPT_TOKENS,
    build_prompt,
    episode_prompt,
    vocabulary,
    whisper_tokens,
)


def test_vocabulary_file_has_the_show_words() -> None:
    words = vocabulary()
    for word in ("政协", "委员", "提案", "界别", "社情民意", "协商", "履职"):
        assert word in words
    assert not any(w.startswith("#") for w in words)


def test_people_come_first_in_simplified_script() -> None:
    prompt = build_prompt(hosts=["李明", "王芳"], guests=["張偉", "陳靜", "王芳"])
    assert prompt.startswith(OPENING + "主持人：李明、王芳。嘉宾：张伟、陈静。关键词：政协热线、")
    assert whisper_tokens(prompt) <= PROMPT_TOKENS


def test_vocabulary_is_cut_to_the_budget() -> None:
    prompt = build_prompt(words=["养老"] * 0 + [f"词{i}" for i in range(100)], budget=40,
                          count_tokens=len)  # fmt: skip
    assert len(prompt) <= 40
    assert prompt.endswith("。") and "词0" in prompt and "词99" not in prompt


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.text(alphabet="張王李赵陈欧阳司马明芳伟静", min_size=2, max_size=4), max_size=60)
)
def test_any_guest_list_fits_whispers_budget(guests: list[str]) -> None:
    assert whisper_tokens(build_prompt(hosts=["李明"], guests=guests)) <= PROMPT_TOKENS


def test_episode_prompt_names_hosts_and_booked_guests(station: Station) -> None:
    with station.session() as session:
        episode = Episode(
            number=999,
            title="养老服务",
            air_start=datetime(2022, 8, 6, 3, tzinfo=UTC),
            hosts=["李明", "王芳"],
        )
        session.add(episode)
        members = [
            Member(name=name, sector="教育界")
            for name in ("刘德华", "歐陽靜", "周婉婷", "孙立", "钱卫国")
        ]
        session.add_all(members)
        session.flush()
        for member, status in zip(
            members, ("appeared", "confirmed", "declined", "cancelled", "invited"), strict=True
        ):
            session.add(Booking(episode_id=episode.id, member_id=member.id, status=status))
    with station.session() as session:
        prompt = episode_prompt(session=session, number=999)
    assert "主持人：李明、王芳。" in prompt
    assert "嘉宾：刘德华、欧阳静、钱卫国。" in prompt
    assert "周婉婷" not in prompt and "孙立" not in prompt

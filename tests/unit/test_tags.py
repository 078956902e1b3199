"""ID3v2.4 tags of masters, read back with mutagen, and tags found in delivered files."""

from __future__ import annotations

import io
from pathlib import Path

import audio_fixtures as fx
import pytest
from mutagen.id3 import ID3, CTOCFlags
from PIL import Image

from episodes.tags import EpisodeTags, existing_tags, read_tags, write_tags
from hotline.errors import InvalidInput

CHAPTERS = [(0.0, 2.5, "开场"), (2.5, 5.0, "养老金调整"), (5.0, 7.9, "医保异地结算")]


def image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(out, format=kind)
    return out.getvalue()


@pytest.fixture(scope="module")
def mp3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.recording(tmp_path_factory.mktemp("tags") / "plain.mp3", 8.0)


@pytest.fixture
def master(mp3: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "0999.mp3"
    copy.write_bytes(mp3.read_bytes())
    return copy


def tags(**changes: object) -> EpisodeTags:
    values: dict[str, object] = {
        "title": "第999期 养老服务与医保：委员答听众问",
        "show": "政协热线",
        "episode_number": 999,
        "date": "2024-03-02",
        "language": "zh-cn",
        "description": "本期邀请三位政协委员，回答听众关于养老和医保的来信来电。",
        "cover": image("PNG"),
        "chapters": CHAPTERS,
    }
    return EpisodeTags(**(values | changes))  # type: ignore[arg-type]


def test_tags_round_trip_as_a_player_sees_them(master: Path) -> None:
    write_tags(master, tags())
    seen = read_tags(master)
    assert seen["title"] == "第999期 养老服务与医保：委员答听众问"
    assert (seen["artist"], seen["album"], seen["track"]) == ("政协热线", "政协热线", "999")
    assert (seen["date"], seen["genre"], seen["language"]) == ("2024-03-02", "Podcast", "zho")
    assert seen["description"].startswith("本期邀请三位政协委员")
    assert seen["has_cover"] and seen["cover_mime"] == "image/png"
    assert seen["id3_version"] == "2.4"
    assert [(c["start"], c["end"], c["title"]) for c in seen["chapters"]] == CHAPTERS


def test_mutagen_sees_id3v24_frames_and_an_ordered_toc(master: Path) -> None:
    write_tags(master, tags(cover=image("JPEG"), artist="政协热线节目组"))
    tag = ID3(master)
    assert tag.version[:2] == (2, 4)
    assert str(tag["TPE1"]) == "政协热线节目组" and str(tag["TALB"]) == "政协热线"
    assert tag.getall("APIC")[0].mime == "image/jpeg" and tag.getall("APIC")[0].type == 3
    toc = tag.getall("CTOC")[0]
    assert toc.flags & CTOCFlags.TOP_LEVEL and toc.flags & CTOCFlags.ORDERED
    chaps = {c.element_id: c for c in tag.getall("CHAP")}
    assert [str(chaps[i].sub_frames["TIT2"]) for i in toc.child_element_ids] == [
        title for _, _, title in CHAPTERS
    ]
    assert [chaps[i].start_time for i in toc.child_element_ids] == [0, 2500, 5000]


def test_writing_again_replaces_the_old_tag(master: Path) -> None:
    write_tags(master, tags())
    write_tags(master, tags(description="", cover=None, chapters=[], title="第999期 改名"))
    seen = read_tags(master)
    assert seen["title"] == "第999期 改名"
    assert (seen["description"], seen["has_cover"], seen["chapters"]) == (None, False, [])
    assert not list(master.parent.glob(".*"))  # no temp copy left


def test_tagging_keeps_the_audio(master: Path) -> None:
    before = read_tags(master)["seconds"]
    write_tags(master, tags())
    assert read_tags(master)["seconds"] == before


def test_an_untagged_master_reads_as_empty(master: Path) -> None:
    seen = read_tags(master)
    assert seen["title"] is None and seen["chapters"] == [] and not seen["has_cover"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"cover": b"GIF89a not allowed"}, "neither JPEG nor PNG"),
        ({"cover_mime": "image/jpeg"}, "is image/png, not image/jpeg"),
        ({"chapters": [(0.0, 5.0, "一"), (4.0, 7.0, "二")]}, "before the previous one ends"),
        ({"chapters": [(3.0, 2.0, "倒了")]}, "before its end"),
        ({"chapters": [(0.0, 5.0, "一"), (9.0, 12.0, "片尾之后")]}, "after the end"),
        ({"date": "2024-13-40"}, "not YYYY-MM-DD"),
    ],
    ids=["gif", "mime", "overlap", "backwards", "past-end", "date"],
)
def test_bad_tags_are_refused_and_the_file_untouched(
    master: Path, changes: dict[str, object], reason: str
) -> None:
    before = master.read_bytes()
    with pytest.raises(InvalidInput, match=reason):
        write_tags(master, tags(**changes))
    assert master.read_bytes() == before


def test_tagging_a_file_that_is_not_mp3_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not an MP3"):
        write_tags(fx.text_as_mp3(tmp_path / "文本.mp3"), tags())
    with pytest.raises(InvalidInput, match="no such file"):
        write_tags(tmp_path / "缺.mp3", tags())


def test_existing_tags_of_a_back_catalogue_mp3(master: Path) -> None:
    write_tags(master, tags())
    assert existing_tags(master) == {
        "title": "第999期 养老服务与医保：委员答听众问",
        "artist": "政协热线",
        "date": "2024-03-02",
        "comment": "本期邀请三位政协委员，回答听众关于养老和医保的来信来电。",
    }


def test_existing_tags_of_m4a_and_flac(tmp_path: Path) -> None:
    from mutagen.flac import FLAC
    from mutagen.mp4 import MP4

    m4a = fx.recording(tmp_path / "a.m4a", 3.0)
    audio = MP4(m4a)
    audio["\xa9nam"] = ["第88期 菜篮子"]
    audio["\xa9day"] = ["2009-05-16"]
    audio.save()
    assert existing_tags(m4a) == {"title": "第88期 菜篮子", "date": "2009-05-16"}

    flac = fx.recording(tmp_path / "a.flac", 3.0)
    audio = FLAC(flac)
    audio["title"] = "第7期 公交线路"
    audio["description"] = "听众反映公交站点太远。"
    audio.save()
    assert existing_tags(flac) == {"title": "第7期 公交线路", "comment": "听众反映公交站点太远。"}


def test_files_without_tags_offer_nothing(tmp_path: Path) -> None:
    assert existing_tags(fx.recording(tmp_path / "a.wav", 2.0)) == {}
    assert existing_tags(fx.text_as_mp3(tmp_path / "b.mp3")) == {}

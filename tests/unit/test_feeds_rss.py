"""Feeds as podcast apps read them: XPath over the parsed XML; text that survives anything;
the Podcasting 2.0 item tags, written as text, exactly what lxml would write."""

from __future__ import annotations

import html
import json
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feeds.items import FeedEpisode, ShowInfo, TranscriptLink
from feeds.platforms import NAMESPACES, PROFILES
from feeds.podcast_ns import fill_items, xml_attribute, xml_text
from feeds.publish import publish
from feeds.rss import RenderedItems, build_feed
from feeds.text import AnsweredQuestion, cut_html, description_html, plain
from hotline.station import Station
from transcripts.formats import read_transcript

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from feeds_fixtures import NOW, add_episode, use_cover  # noqa: E402

NS = NAMESPACES
PODCAST_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


@pytest.fixture
def published(station: Station) -> tuple[Station, Any]:
    use_cover(station)
    with station.session() as session:
        add_episode(station, session, 1)
        add_episode(station, session, 2, guests=("赵委员", "钱委员", "孙委员"))
        add_episode(station, session, 3, guests=(), questions=(), transcripts=False)
    report = publish(station=station, now=NOW)
    assert report.ok, report.problems
    root = etree.fromstring((station.public_dir / "feeds/generic.xml").read_bytes())
    return station, root


def x(node: Any, path: str) -> list[Any]:
    return node.xpath(path, namespaces=NS)


def test_the_channel_carries_itunes_and_podcasting_tags(published: tuple[Station, Any]) -> None:
    _, root = published
    channel = x(root, "/rss/channel")[0]
    assert x(channel, "itunes:category/@text") == ["Government"]
    assert x(channel, "itunes:explicit/text()") == ["false"]
    assert x(channel, "itunes:type/text()") == ["episodic"]
    assert x(channel, "itunes:author/text()") == ["政协热线节目组"]
    assert x(channel, "itunes:owner/itunes:name/text()") == ["政协热线节目组"]
    assert x(channel, "itunes:owner/itunes:email/text()") == ["hotline@example.cn"]
    assert x(channel, "itunes:image/@href")[0].startswith("https://hotline.example.cn/images/")
    assert x(channel, "podcast:locked/@owner") == ["hotline@example.cn"]
    assert x(channel, "podcast:locked/text()") == ["yes"]
    expected = uuid.uuid5(PODCAST_NAMESPACE, "hotline.example.cn/feeds/generic.xml")
    assert x(channel, "podcast:guid/text()") == [str(expected)]
    assert x(channel, "podcast:person[@role='host']/text()") == ["李明", "王芳"]
    assert x(channel, "atom:link[@rel='self']/@href") == [
        "https://hotline.example.cn/feeds/generic.xml"
    ]


def test_items_newest_first_with_enclosure_guid_and_itunes_tags(
    published: tuple[Station, Any],
) -> None:
    station, root = published
    items = x(root, "/rss/channel/item")
    assert [x(i, "string(itunes:episode)") for i in items] == ["3", "2", "1"]
    item = items[-1]
    assert x(item, "enclosure/@url") == ["https://hotline.example.cn/audio/0001.mp3"]
    assert x(item, "enclosure/@type") == ["audio/mpeg"]
    size = (station.public_dir / "audio/0001.mp3").stat().st_size
    assert x(item, "enclosure/@length") == [str(size)] == ["4096"]
    assert x(item, "guid/@isPermaLink") == ["false"]
    assert x(item, "itunes:duration/text()") == ["3600"]
    assert x(item, "itunes:episodeType/text()") == ["full"]
    assert x(item, "itunes:explicit/text()") == ["false"]
    assert x(item, "podcast:episode/text()") == ["1"]
    date = parsedate_to_datetime(x(item, "string(pubDate)"))
    assert date.utcoffset().total_seconds() == 8 * 3600  # station time zone
    assert date == datetime(2024, 1, 6, 4, 0, tzinfo=UTC)  # the end of the air slot


def test_transcripts_chapters_and_guests(published: tuple[Station, Any]) -> None:
    station, root = published
    item = x(root, "/rss/channel/item[itunes:episode='2']")[0]
    types = {t.get("type"): t.get("url") for t in x(item, "podcast:transcript")}
    assert types == {
        "text/vtt": "https://hotline.example.cn/transcripts/0002.vtt",
        "application/x-subrip": "https://hotline.example.cn/transcripts/0002.srt",
        "application/json": "https://hotline.example.cn/transcripts/0002.json",
    }
    assert set(x(item, "podcast:transcript/@language")) == {"zh-cn"}
    assert x(item, "podcast:chapters/@type") == ["application/json+chapters"]
    assert x(item, "podcast:person[@role='guest']/text()") == ["赵委员", "钱委员", "孙委员"]
    assert x(item, "podcast:person[@role='host']/text()") == ["李明", "王芳"]
    chapters = json.loads((station.public_dir / "chapters/0002.json").read_text("utf-8"))
    assert chapters["version"] == "1.2.0"
    assert [(c["startTime"], c["title"]) for c in chapters["chapters"]] == [
        (0, "开场"),
        (120.0, "医保报销比例"),
        (900.0, "异地就医结算"),
    ]
    transcript = json.loads((station.public_dir / "transcripts/0002.json").read_text("utf-8"))
    assert transcript["version"] == "1.0.0"
    assert transcript["segments"][0] == {
        "startTime": 0.0,
        "endTime": 9.0,
        "body": "主持人：欢迎收听政协热线。",
    }
    for ext in ("srt", "vtt"):  # the station's text as heard, in each format
        public = read_transcript(station.public_dir / f"transcripts/0002.{ext}")
        assert public.cues == read_transcript(station.transcripts_dir / f"0002.{ext}").cues
    bare = x(root, "/rss/channel/item[itunes:episode='3']")[0]
    assert x(bare, "podcast:transcript") == [] and x(bare, "podcast:chapters") == []
    assert x(bare, "podcast:person") == []  # the channel's hosts apply


def test_description_names_topic_guests_and_questions_not_listeners(
    published: tuple[Station, Any],
) -> None:
    station, root = published
    description = x(root, "string(/rss/channel/item[itunes:episode='1']/description)")
    html = lxml.html.fromstring(description)
    text = html.text_content()
    for expected in (
        "委员与听众面对面。",
        "话题：医疗保障",
        "嘉宾：张委员、李委员",
        "医保报销比例",
    ):
        assert expected in text
    assert "王先生" not in description and "13812345678" not in description
    assert b"<description><![CDATA[<p>" in (station.public_dir / "feeds/apple.xml").read_bytes()


def test_feedparser_reads_every_feed_without_bozo(published: tuple[Station, Any]) -> None:
    station, _ = published
    for profile in PROFILES:
        parsed = feedparser.parse((station.public_dir / f"feeds/{profile}.xml").read_bytes())
        assert not parsed.bozo, profile
        assert len(parsed.entries) == 3


# ---------------------------------------------------------------- text safety

SHOW = ShowInfo(
    title="政协热线",
    description="节目",
    website="https://hotline.example.cn",
    language="zh-cn",
    author="节目组",
    owner_name="节目组",
    owner_email="hotline@example.cn",
    category="Government",
    explicit=False,
    image_url=None,
    public_base="https://hotline.example.cn",
    podcast_guid="x",
    hosts=("李明",),
)
ANYTHING = st.text(
    st.characters(blacklist_categories=("Cs",)) | st.sampled_from("&<>\"'<b>]]>\x00\x07\ufffe"),
    max_size=80,
)


def _episode(title: str, summary: str, guest: str, question: str) -> FeedEpisode:
    return FeedEpisode(
        number=7,
        guid="guid-7",
        title=plain(title) or "第7期",
        description_html=description_html(
            summary=plain(summary, multiline=True),
            topic="",
            guests=[g for g in [plain(guest)] if g],
            questions=[AnsweredQuestion(60.0, plain(question))],
        ),
        released=datetime(2025, 1, 1, tzinfo=UTC),
        audio_url="https://hotline.example.cn/audio/0007.mp3",
        audio_bytes=1,
        audio_path="audio/0007.mp3",
        seconds=60,
        hosts=("李明",),
        guests=tuple(g for g in [plain(guest)] if g),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=ANYTHING, summary=ANYTHING, guest=ANYTHING, question=ANYTHING)
def test_anything_typed_gives_a_well_formed_feed_showing_the_same_text(
    title: str, summary: str, guest: str, question: str
) -> None:
    episode = _episode(title, summary, guest, question)
    data = build_feed(SHOW, [episode], PROFILES["generic"], last_build=datetime.now(UTC))
    root = etree.fromstring(data)  # well-formed, or this raises
    item = x(root, "/rss/channel/item")[0]
    assert x(item, "string(title)") == episode.title  # the text, escaped once
    description = lxml.html.fragment_fromstring(x(item, "string(description)"), create_parent="div")
    visible = description.text_content()
    for typed in (plain(summary, multiline=True).replace("\n", ""), plain(question)):
        assert "".join(typed.split()) in "".join(visible.split())
    assert x(item, "podcast:person[@role='guest']/text()") == list(episode.guests)
    assert not feedparser.parse(data).bozo


def test_control_characters_are_stripped_and_markup_is_shown_as_typed() -> None:
    episode = _episode("A & B <b>粗体</b>\x07\x1b 😀", "", "", "")
    root = etree.fromstring(build_feed(SHOW, [episode], PROFILES["generic"], last_build=NOW))
    assert x(root, "string(/rss/channel/item/title)") == "A & B <b>粗体</b> 😀"
    raw = build_feed(SHOW, [episode], PROFILES["generic"], last_build=NOW)
    assert b"&amp;amp;" not in raw and b"&lt;b&gt;" in raw


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(ANYTHING.map(plain), min_size=1, max_size=30),
    limit=st.integers(min_value=20, max_value=1500),
)
def test_descriptions_are_cut_cleanly_within_the_byte_limit(texts: list[str], limit: int) -> None:
    full = description_html(
        summary=texts[0],
        topic=texts[-1],
        guests=texts[1:3],
        questions=[AnsweredQuestion(float(i), t) for i, t in enumerate(texts)],
    )
    cut = cut_html(full, limit)
    assert len(cut.encode()) <= max(limit, 0) or cut == full
    if len(full.encode()) <= limit:
        assert cut == full
    parsed = etree.fromstring(f"<div>{cut}</div>".encode())  # every tag closed, no half entity
    shown = "".join(parsed.itertext()).removesuffix("…")
    whole = "".join(etree.fromstring(f"<div>{full}</div>".encode()).itertext())
    assert whole.startswith(shown)


def test_apple_cut_keeps_4000_bytes_of_a_long_description() -> None:
    long = "政协委员回答听众问题。" * 400
    episode = _episode("标题", long, "张委员", "问题")
    for name in ("apple", "ximalaya"):
        profile = PROFILES[name]
        root = etree.fromstring(build_feed(SHOW, [episode], profile, last_build=NOW))
        description = x(root, "string(/rss/channel/item/description)")
        assert len(description.encode()) <= profile.description_bytes
        assert description.endswith("…</p>")


# ------------------------------------------- Podcasting 2.0 item tags, written as text

LINKED = replace(
    _episode("第7期", "", "张委员", ""),
    transcripts=(TranscriptLink("https://hotline.example.cn/t/0007.vtt", "text/vtt", "zh"),),
    chapters_url="https://hotline.example.cn/chapters/0007.json",
)
# Whatever a producer or a settings file could hold, XML-invalid characters included.
RAW = st.text(
    st.characters() | st.sampled_from("&<>\"'\t\n\r\r\n]]>\x00\x07\x85\ufffe😀 \u3000"),
    min_size=1,
    max_size=40,
)


def as_lxml_writes(value: str) -> str:
    """What the extension did before: escape, parse as a tag, let lxml write it."""
    escaped = html.escape(value)
    return etree.tostring(etree.fromstring(f'<x a="{escaped}">{escaped}</x>'), encoding="unicode")


@settings(max_examples=400, deadline=None)
@given(value=RAW)
def test_values_are_written_as_lxml_writes_them_or_refused_as_it_refuses(value: str) -> None:
    try:
        expected = as_lxml_writes(value)
    except (etree.XMLSyntaxError, ValueError) as error:
        with pytest.raises(type(error)):
            xml_attribute(value) + xml_text(value)
        return
    assert f'<x a="{xml_attribute(value)}">{xml_text(value)}</x>' == expected


# What XML can hold, markup characters and what a parser folds most of all.
HOLDABLE = st.text(
    st.sampled_from("&<>\"'\t\n\r]]>😀 \u3000\x85")
    | st.characters(blacklist_categories=("Cs", "Cc")),
    max_size=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(guest=HOLDABLE, url=HOLDABLE, language=HOLDABLE, host=HOLDABLE)
def test_a_feed_is_byte_for_byte_what_lxml_writes(
    guest: str, url: str, language: str, host: str
) -> None:
    guest, host = plain(guest) or "张委员", plain(host) or "李明"
    episode = replace(
        LINKED,
        hosts=(host,),
        guests=(guest, "钱委员"),
        transcripts=(
            TranscriptLink(f"https://hotline.example.cn/{url}", "text/vtt", language),
            TranscriptLink("https://hotline.example.cn/t/0007.srt", "application/x-subrip", ""),
        ),
        chapters_url=f"https://hotline.example.cn/{url}.json",
    )
    data = build_feed(SHOW, [episode, replace(LINKED, guid="g2")], PROFILES["generic"])
    # lxml writing back what it read gives the same bytes: every tag is written as lxml
    # writes it, in its place, and no marker is left.
    root = etree.fromstring(data, etree.XMLParser(strip_cdata=False))
    assert etree.tostring(root, encoding="UTF-8", xml_declaration=True) == data
    item = x(root, "/rss/channel/item")[0]
    assert x(item, "podcast:person/text()") == [host, guest, "钱委员"]
    written = etree.fromstring(as_lxml_writes(f"https://hotline.example.cn/{url}"))
    assert x(item, "podcast:transcript/@url")[0] == written.get("a")


def test_item_tags_come_in_a_fixed_order_after_feedgens_own() -> None:
    episode = replace(LINKED, guests=("O'Brien & <李>",))
    data = build_feed(SHOW, [episode], PROFILES["generic"], last_build=NOW)
    item = x(etree.fromstring(data), "/rss/channel/item")[0]
    ours = ["explicit", "transcript", "chapters", "person", "person", "episode"]
    feedgens = ["title", "description", "guid", "enclosure", "pubDate"]
    feedgens += ["duration", "episode", "episodeType"]
    assert [etree.QName(child).localname for child in item] == feedgens + ours
    assert "O'Brien &amp; &lt;李&gt;</podcast:person>".encode() in data


def test_items_shared_between_feeds_get_their_tags_in_each() -> None:
    episodes = [replace(LINKED, number=n, guid=f"guid-{n}", guests=(f"委员{n}",)) for n in (1, 2)]
    rendered = RenderedItems()
    for profile in PROFILES.values():
        data = build_feed(SHOW, episodes, profile, last_build=NOW, rendered=rendered)
        guests = x(etree.fromstring(data), "/rss/channel/item/podcast:person[@role='guest']")
        assert [g.text for g in guests] == ["委员2", "委员1"], profile.name


def test_a_value_xml_cannot_hold_fails_the_build() -> None:
    episode = replace(LINKED, guests=("张\x00委员",))
    with pytest.raises(etree.XMLSyntaxError):
        build_feed(SHOW, [episode], PROFILES["generic"], last_build=NOW)


def test_filling_checks_there_is_one_marker_per_item() -> None:
    with pytest.raises(RuntimeError, match="0 item markers in the feed for 1 items"):
        fill_items(b"<rss/>", [b"<podcast:episode>1</podcast:episode>"])

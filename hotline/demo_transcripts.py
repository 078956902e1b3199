"""Demo step: transcripts for the newest aired episodes, and the demo recording through whisper.

The back catalogue's transcripts are generated from each episode's topic (its titles and
listener questions in ``data/demo_topics.toml``), hosts and guests, and stored through
``transcripts.store`` as imported transcripts, so search works on the demo station
(``hotline search 养老``). The newest aired episode is left to the pipeline: it gets a
generated recording after the build, which whisper transcribes when a model is on disk.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

from sqlmodel import col, select

from hotline.demo_data import DISTRICTS, question_text, topic_named
from hotline.demo_steps import DemoContext, DemoEpisode
from hotline.models import Episode
from transcripts.formats import Cue

TRANSCRIBED_EPISODES = 100
"""The newest aired episodes get a transcript."""
CHARS_PER_SECOND = 4.5  # Mandarin on air: about four to five characters a second

_ANSWERS = (
    "这个问题很有代表性，关于{kw}，我们在今年的提案里专门提到过。",
    "我在调研中也发现了类似的情况，{kw}方面的政策还需要进一步落实到基层。",
    "首先感谢这位听众的关心。{title}，这是我们政协委员一直在协商议政的重点。",
    "具体的办理流程，建议您先到所在街道的便民服务中心咨询，那里有专门的窗口。",
    "我们会把这条意见作为社情民意信息报送上去，请有关职能部门给予答复。",
    "从我们界别的角度看，{kw}不只是一个部门的事，需要多个部门协同推进。",
    "去年市里已经出台了相关的实施细则，很多听众可能还不太了解，我简单介绍一下。",
    "您反映的情况我记下来了，节目结束以后我们会转办到相关部门，请您留意回复。",
)
_ELDERLY = (
    "说到底，{kw}和养老一样，都是老百姓家门口的事。",
    "我们界别的委员联名提交过一件关于社区养老服务的提案，有关部门已经作了答复。",
    "家里有老人的听众都知道，养老服务离不开社区的支持。",
)
_PROMPTS = (
    "{guest}委员，您怎么看？",
    "这条来信很具体，请{guest}委员来回答一下。",
    "我们再接进一位听众的电话。",
    "导播这边提示，又有不少听众发来短信。",
)


def _lines(
    rng: random.Random, episode: DemoEpisode, hosts: list[str], guests: list[str]
) -> Iterator[str]:
    """What is said in one programme, line by line, in broadcast order."""
    topic = topic_named(episode.topic)
    host = hosts[0] if hosts else "主持人"
    guest = guests[0] if guests else "嘉宾"
    title = rng.choice(topic.titles)
    kw = topic.name if topic.name != "民生综合" else "民生"
    fill = {"kw": kw, "title": title, "guest": guest}
    yield f"各位听众朋友，大家好！欢迎收听政协热线，我是主持人{host}。"
    names = "、".join(guests) if guests else "政协委员"
    yield f"今天我们的话题是{title}，做客直播间的是{names}。"
    yield "主持人好，各位听众朋友大家好，很高兴再次来到政协热线。"
    for question in rng.sample(topic.questions, k=min(4, len(topic.questions))):
        yield rng.choice(_PROMPTS).format(**fill)
        yield "我们来看一条听众来信：" + question_text(rng, question, rng.choice(DISTRICTS))
        for template in rng.sample(_ANSWERS, k=3):
            yield template.format(**fill)
        if topic.name == "养老" or rng.random() < 0.35:
            yield rng.choice(_ELDERLY).format(**fill)
    yield f"感谢{guest}委员做客政协热线，也感谢各位听众的来信来电。我们下周同一时间再见。"


def _segments(rng: random.Random, lines: Iterator[str]) -> list[Cue]:
    cues, clock = [], rng.uniform(2.0, 6.0)
    for line in lines:
        length = round(len(line) / CHARS_PER_SECOND + rng.uniform(0.2, 1.0), 2)
        cues.append(Cue(round(clock, 2), round(clock + length, 2), line))
        clock += length + rng.uniform(0.3, 1.5)
        if rng.random() < 0.15:
            clock += rng.uniform(20.0, 90.0)  # a caller on the line, music, the news at noon
    return cues


def add_transcripts(ctx: DemoContext) -> None:
    """Import generated transcripts for the newest aired episodes but the very newest."""
    from transcripts.store import save_transcript

    rng = ctx.rng("transcripts")
    names = {m.id: m.name for m in ctx.members}
    # The newest aired episode gets a real recording after the build (demo_recording),
    # and whisper's transcript when a model is available: not a generated one.
    aired = [e for e in ctx.episodes if e.aired][-TRANSCRIBED_EPISODES - 1 : -1]
    rows = ctx.session.exec(
        select(Episode.number, Episode.hosts).where(
            col(Episode.number).in_([e.number for e in aired])
        )
    ).all()
    hosts = {number: hosts for number, hosts in rows}
    for episode in aired:
        guests = [names[i] for i in ctx.guests.get(episode.number, []) if i in names]
        cues = _segments(rng, _lines(rng, episode, list(hosts.get(episode.number) or []), guests))
        transcript = save_transcript(
            session=ctx.session,
            episode=episode.number,
            segments=cues,
            model="demo",
            settings={"generated": "hotline demo"},
            source="import",
        )
        # Stamped from the schedule, not the clock, so every build is identical.
        transcript.created_at = episode.air_start + timedelta(days=2)
        ctx.session.add(transcript)

"""``in_chinese``: the desk's line for a domain refusal, in Chinese, when the domain gave none.

A domain error raised where a producer can meet it carries its Chinese line (``zh``). The
checks every field shares (``hotline.text.clean_text``, ``hotline.timeutil``) do not: they
name a field in English ("title must not be empty", "district is 380 characters long;
the limit is 50", "air time '明天' is not a time: use YYYY-MM-DD HH:MM") and the CLI
prints them as they are. The desk says them in Chinese by their shape, with the field
named as the forms label it; a message of another shape is shown as the domain wrote it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from hotline.errors import HotlineError

FIELDS_ZH = {
    "title": "标题",
    "topic": "话题",
    "description": "简介",
    "host": "主持人",
    "air time": "播出时间",
    "air": "播出时间",
    "question text": "问题",
    "listener name": "听众",
    "listener contact": "联系方式",
    "public title": "公开标题",
    "district": "区县",
    "caller name": "来电人",
    "summary": "问题摘要",
    "reason": "理由",
    "reject reason": "理由",
    "member": "回答的委员",
    "answer time": "节目中的时间",
    "department": "转办部门",
    "department name": "部门名称",
    "department contact": "部门联系方式",
    "department note": "部门备注",
    "due date": "答复期限",
    "reply text": "部门答复",
    "reply date": "答复日期",
    "call-back note": "回访记录",
    "caller": "回访人",
    "search": "搜索内容",
    "query": "检索内容",
    "start date": "开始日期",
}
"""The domain's field names (``clean_text(field=…)``) → what the desk's forms call them."""

_VALUE = r"(?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
"""A value as the domain quotes it (``{value!r}``)."""


def _field(match: re.Match[str]) -> str:
    name = match["field"]
    return FIELDS_ZH.get(name, name)


def _value(match: re.Match[str]) -> str:
    try:
        return str(ast.literal_eval(match["value"]))
    except (ValueError, SyntaxError):
        return match["value"]


_SHAPES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"(?P<field>.+) must not be empty"), lambda m: f"{_field(m)}不能为空"),
    (
        re.compile(r"(?P<field>.+) is (?P<n>\d+) characters long; the limit is (?P<limit>\d+)"),
        lambda m: f"{_field(m)}有 {m['n']} 个字，最多 {m['limit']} 个字",
    ),
    (
        re.compile(rf"(?P<field>.+) {_VALUE} is not a time: use YYYY-MM-DD HH:MM"),
        lambda m: f"{_field(m)}“{_value(m)}”不是时间：请按 YYYY-MM-DD HH:MM 填写",
    ),
    (
        re.compile(rf"(?P<field>.+) {_VALUE} is not a date: use YYYY-MM-DD"),
        lambda m: f"{_field(m)}“{_value(m)}”不是日期：请按 YYYY-MM-DD 填写",
    ),
    (
        re.compile(rf"(?P<field>.+) {_VALUE} is not a time offset: use MM:SS or HH:MM:SS"),
        lambda m: f"{_field(m)}“{_value(m)}”格式不对：请按 分:秒 或 时:分:秒 填写",
    ),
    (
        re.compile(rf"(?P<field>.+) {_VALUE} does not exist in (?P<zone>\S+)"),
        lambda m: f"{_field(m)}“{_value(m)}”在 {m['zone']} 时区不存在（夏令时切换），请换一个时间",
    ),
)


def in_chinese(error: HotlineError) -> str:
    """The desk's line for ``error``: its own Chinese line, else its shape said in Chinese,
    else its message as it is."""
    if error.zh:
        return error.zh
    text = str(error)
    for shape, say in _SHAPES:
        match = shape.fullmatch(text)
        if match is not None:
            return say(match)
    return text


JOB_PHRASES_ZH = {
    "queued": "排队中",
    "queued again": "重新排队",
    "retry requested": "已要求重试",
    "started": "已开始",
    "analysing": "分析响度",
    "encoding": "编码",
    "writing tags": "写入标签",
    "mastered": "母带完成",
    "master is current": "母带已是最新",
    "re-tagged": "已重写标签",
    "loading model": "加载模型",
    "measuring levels": "测量音量",
    "writing files": "写入文件",
    "transcribed": "转写完成",
    "transcript is current": "文字稿已是最新",
    "publishing": "发布中",
    "published": "已发布",
}
"""The fixed words the pipeline's stages report a job's progress in."""

_JOB_SHAPES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"chunk (?P<n>\d+)/(?P<of>\d+)"), lambda m: f"第 {m['n']}/{m['of']} 段"),
    (
        re.compile(r"queued again with (?P<kind>\w+) job (?P<id>\d+)"),
        lambda m: f"随{JOB_KINDS_ZH.get(m['kind'], m['kind'])}任务 {m['id']} 重新排队",
    ),
    (re.compile(r"requeued: (?P<why>.+)"), lambda m: f"重新排队：{m['why']}"),
)
JOB_KINDS_ZH = {"master": "母带制作", "transcribe": "转写", "publish": "发布"}


def job_message(text: str) -> str:
    """A job's message as the 制作 tab shows it: the stages' fixed words in Chinese; what
    else a job says (an error, a file name, a summary) as it is."""
    if text in JOB_PHRASES_ZH:
        return JOB_PHRASES_ZH[text]
    for shape, say in _JOB_SHAPES:
        match = shape.fullmatch(text)
        if match is not None:
            return say(match)
    return text


HISTORY_PHRASES_ZH = {
    "withdrawn from every feed": "已从所有订阅源撤下",
    "listed in the feeds again": "已重新列入订阅源",
    "deleted": "已删除",
}
"""The fixed words a history line (``episodes.history_view.summary``) starts with."""


def history_summary(text: str) -> str:
    """A history line as the desk shows it: its fixed opening words in Chinese, the fields
    and values changed as they are."""
    for phrase, said in HISTORY_PHRASES_ZH.items():
        if text == phrase or text.startswith(f"{phrase}: ") or text.startswith(f"{phrase}; "):
            rest = text[len(phrase) :]
            return said + ("：" + rest[2:] if rest.startswith(": ") else rest)
    return text

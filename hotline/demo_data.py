"""Reference data for the demo station: its blackout calendar, names, affiliations and texts.

Everything here is either a constant or a pure function of a ``random.Random`` it is given,
so the demo built from it is the same on every run.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources

SATURDAY = 5


def _data_text(name: str) -> str:
    return resources.files("hotline").joinpath("data", name).read_text(encoding="utf-8")


# ---------------------------------------------------------------- the calendar


@cache
def spring_festivals() -> dict[int, date]:
    """春节 (lunar new year's day) by year, from ``hotline/data/spring_festival.txt``."""
    days = [
        date.fromisoformat(line.strip())
        for line in _data_text("spring_festival.txt").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return {day.year: day for day in days}


def weekly(first: date, last: date, weekday: int = SATURDAY) -> Iterator[date]:
    """Every ``weekday`` from ``first`` to ``last`` inclusive."""
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    while day <= last:
        yield day
        day += timedelta(days=7)


def blackout_days(year: int, weekday: int = SATURDAY) -> set[date]:
    """The slot days of ``year`` with no show.

    - 春节: from the week before 除夕 to 元宵节 (the team is off, listeners are away);
    - the local 两会 (the municipal CPPCC and people's congress meet in the second week of
      January, and the members are in session);
    - the national 两会 (CPPCC National Committee from 3 March, about twelve days);
    - the golden weeks: 国庆 (1–7 October) and, while it lasted (to 2007), 劳动节 (1–7 May);
    - 2020: suspended from 春节 to the end of March during the COVID-19 outbreak.
    """
    days: set[date] = set()
    festival = spring_festivals().get(year)
    if festival is not None:
        days.update(weekly(festival - timedelta(days=6), festival + timedelta(days=14), weekday))
    days.update(weekly(date(year, 1, 8), date(year, 1, 14), weekday))
    days.update(weekly(date(year, 3, 3), date(year, 3, 14), weekday))
    days.update(weekly(date(year, 10, 1), date(year, 10, 7), weekday))
    if year <= 2007:
        days.update(weekly(date(year, 5, 1), date(year, 5, 7), weekday))
    if year == 2020:
        days.update(weekly(date(2020, 1, 25), date(2020, 3, 31), weekday))
    return days


def blackout_calendar(weekday: int = SATURDAY) -> list[date]:
    """Every blackout day for the years the Spring Festival table covers, in order."""
    days: set[date] = set()
    for year in spring_festivals():
        days |= blackout_days(year, weekday)
    return sorted(days)


# ---------------------------------------------------------------- topics


@dataclass(frozen=True)
class Topic:
    name: str
    department: str
    sectors: tuple[str, ...]
    titles: tuple[str, ...]
    questions: tuple[str, ...]


@cache
def topics() -> tuple[Topic, ...]:
    """The demo's topics, from ``hotline/data/demo_topics.toml``."""
    data = tomllib.loads(_data_text("demo_topics.toml"))
    return tuple(
        Topic(
            name=t["name"],
            department=t["department"],
            sectors=tuple(t["sectors"]),
            titles=tuple(t["titles"]),
            questions=tuple(t["questions"]),
        )
        for t in data["topic"]
    )


def topic_named(name: str) -> Topic:
    return next(t for t in topics() if t.name == name)


# ---------------------------------------------------------------- people and places

# The most common surnames, most common first; the weights follow that order.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛")
_SURNAME_WEIGHTS = [1 / (rank + 6) for rank in range(len(SURNAMES))]

GIVEN_SINGLE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁峰芳娜敏静丽艳娟霞玲燕婷雪慧红梅琳颖洁倩"
GIVEN_FIRST = "建志国文晓俊海永春秋玉丽秀美子浩思雨嘉欣家德立振学新卫红爱宏金桂佳一"
GIVEN_SECOND = "华明平强军英兰芳萍红梅霞东林涛宇轩涵琪怡辰阳杰刚伟峰敏颖婷慧洁"

DISTRICTS = (
    "东城区",
    "西城区",
    "南湖区",
    "北塘区",
    "江滨区",
    "临江区",
    "青山区",
    "白云区",
    "新城区",
    "高新区",
    "经开区",
    "清河县",
)
STREETS = ("人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "文化路", "胜利路", "长江路")

LEVEL_WEIGHTS = {"全国": 3, "省": 12, "市": 45, "区": 40}

_GENERIC_AFFILIATIONS = (
    "市律师协会副会长",
    "{district}人民医院主任医师",
    "市师范大学教授",
    "市理工大学副校长",
    "市社会科学院研究员",
    "{district}实验小学校长",
    "市会计师事务所合伙人",
    "市规划设计研究院总工程师",
    "{district}政协副主席",
    "市财经学院副教授",
)
AFFILIATIONS: dict[str, tuple[str, ...]] = {
    "医药卫生界": (
        "市第一人民医院副院长",
        "市中医医院主任医师",
        "{district}疾病预防控制中心主任",
        "市妇幼保健院院长",
        "市医科大学附属医院教授",
        "{district}社区卫生服务中心主任",
    ),
    "教育界": (
        "市实验中学校长",
        "市师范大学教授",
        "{district}教育学院院长",
        "市第二中学特级教师",
        "市职业技术学院副院长",
        "{district}中心幼儿园园长",
    ),
    "经济界": (
        "市城市建设投资集团董事长",
        "市农商银行行长",
        "{district}商会会长",
        "市财经学院教授",
        "市港务集团总经理",
    ),
    "中华全国工商业联合会": (
        "{district}民营企业家协会会长",
        "市食品有限公司董事长",
        "市新材料科技股份有限公司总经理",
        "市连锁超市集团董事长",
    ),
    "农业界": (
        "市农业科学院研究员",
        "{district}农业技术推广中心主任",
        "清河县果蔬专业合作社理事长",
        "市种业公司总农艺师",
    ),
    "科学技术界": (
        "市科学技术研究院院长",
        "市理工大学教授",
        "市信息技术研究所所长",
        "高新区软件企业首席技术官",
    ),
    "文化艺术界": (
        "市歌舞剧院院长",
        "市美术家协会主席",
        "市图书馆馆长",
        "市博物馆研究馆员",
        "市作家协会副主席",
    ),
    "新闻出版界": ("市广播电视台副台长", "市日报社总编辑", "市出版集团副总经理"),
    "体育界": ("市体育运动学校校长", "市全民健身中心主任", "市足球协会副主席"),
    "社会科学界": ("市社会科学院研究员", "市委党校教授", "市法学会副会长"),
    "社会福利和社会保障界": (
        "市社会福利院院长",
        "市慈善总会秘书长",
        "{district}养老服务中心主任",
        "市残疾人联合会副理事长",
    ),
    "中华全国总工会": ("市总工会副主席", "市纺织集团工会主席", "{district}总工会主席"),
    "中华全国妇女联合会": ("市妇联副主席", "{district}妇联主席", "市家庭教育研究会会长"),
    "中国共产主义青年团": ("团市委副书记", "{district}团委书记", "市青年创业协会会长"),
    "中华全国青年联合会": ("市青联副主席", "市青年企业家协会会长"),
    "宗教界": ("市佛教协会副会长", "市基督教两会主席", "市伊斯兰教协会会长"),
    "少数民族界": ("市民族宗教事务委员会副主任", "{district}民族小学校长"),
    "对外友好界": ("市人民对外友好协会副会长", "市外事翻译中心主任"),
    "中华全国台湾同胞联谊会": ("市台联副会长", "市台资企业协会秘书长"),
    "中华全国归国华侨联合会": ("市侨联副主席", "市归国留学人员联谊会会长"),
}


def affiliation(rng: random.Random, sector: str, district: str) -> str:
    return rng.choice(AFFILIATIONS.get(sector, _GENERIC_AFFILIATIONS)).format(district=district)


def surname(rng: random.Random) -> str:
    if rng.random() < 0.01:
        return rng.choice(COMPOUND_SURNAMES)
    return rng.choices(SURNAMES, weights=_SURNAME_WEIGHTS)[0]


def person_name(rng: random.Random) -> str:
    """A realistic name: surname and a one- or two-character given name."""
    if rng.random() < 0.3:
        return surname(rng) + rng.choice(GIVEN_SINGLE)
    return surname(rng) + rng.choice(GIVEN_FIRST) + rng.choice(GIVEN_SECOND)


def mobile(rng: random.Random) -> str:
    """A made-up mobile number (11 digits, 13x–19x)."""
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
_PINYIN = ("wang", "li", "zhang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu", "xu")


def email(rng: random.Random) -> str:
    """A made-up e-mail address on the reserved example domains."""
    user = f"{rng.choice(_PINYIN)}{rng.choice(_PINYIN)}{rng.randrange(1960, 2006)}"
    return f"{user}@{rng.choice(_EMAIL_DOMAINS)}"


def address(rng: random.Random, district: str) -> str:
    return f"{district}{rng.choice(STREETS)}{rng.randrange(1, 400)}号"


def listener_name(rng: random.Random) -> str:
    """How listeners sign: full names, 王先生, 李阿姨, a nickname, or nothing."""
    roll = rng.random()
    if roll < 0.3:
        return person_name(rng)
    if roll < 0.7:
        return surname(rng) + rng.choice(("先生", "女士", "先生", "女士", "阿姨", "师傅", "老师"))
    if roll < 0.85:
        return rng.choice(("老听众", "热心听众", "一位退休教师", "小区居民", "上班族"))
    return ""


_OPENINGS = (
    "",
    "",
    "主持人好，",
    "委员您好，",
    "你们好，",
    "我是{district}的居民，",
    "我是一名老听众，",
    "我是退休职工，",
)
_CLOSINGS = ("", "", "谢谢！", "希望委员帮忙反映一下。", "盼望早日解决。", "请委员给予解答。")


def question_text(rng: random.Random, template: str, district: str) -> str:
    """A listener's question: a topic template dressed with an opening and a closing."""
    text = rng.choice(_OPENINGS) + template + rng.choice(_CLOSINGS)
    return text.format(district=district)


REJECT_REASONS = (
    "与节目主题无关",
    "反映内容不具体，无法核实",
    "含有不文明用语",
    "属于广告推销信息",
    "涉及他人隐私，不宜在节目中讨论",
    "已进入司法程序，节目不作评论",
)


def hosts_for(year: int, current: list[str]) -> list[str]:
    """Who presented the show in ``year``: the current hosts since 2018."""
    if year < 2010:
        return ["张华"]
    if year < 2018:
        return ["张华", "王芳"]
    return list(current)

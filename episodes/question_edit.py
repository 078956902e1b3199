"""Editing what a question is called: its topic and the public title listeners see.

A question's text is the listener's own words and may carry their phone number; what
goes out in chapters and descriptions is the public title (or, without one, the topic),
so neither may carry a phone number, ID number, e-mail address or house address itself.
"""

from __future__ import annotations

import re

from sqlmodel import Session

from episodes.lookup import get_question
from episodes.public_text import mask_patterns
from hotline.errors import InvalidInput
from hotline.models import Question
from hotline.text import clean_text
from hotline.timeutil import utcnow

PUBLIC_TITLE_LIMIT = 100
_NUMERAL = "0-9０-９零〇一二三四五六七八九十百"
# A house number after a street (幸福路12号), or a building, entrance or flat (3号楼, 2单元,
# 501室): where someone lives. "1号线" (a metro line) and "8月13号" (a date) are not.
_HOUSE = re.compile(
    rf"[路街巷弄道村里]\s*[{_NUMERAL}]+\s*号|[{_NUMERAL}]+\s*(?:号楼|号院|单元|室)(?![a-z])"
)


def check_public_text(value: str, field: str = "public title") -> str:
    """``value`` cleaned, or ``InvalidInput`` when it carries a contact listeners would see."""
    text = clean_text(value, field=field, max_length=PUBLIC_TITLE_LIMIT)
    if mask_patterns(text) != text:
        raise InvalidInput(
            f"{field} {text!r} carries a phone number, ID number or e-mail address; "
            "listeners see it: leave those out",
            zh="公开标题不能含电话号码、身份证号或邮箱（听众会看到），请删去",
        )
    house = _HOUSE.search(text)
    if house is not None:
        raise InvalidInput(
            f"{field} {text!r} carries a house address ({house.group(0)}); "
            "listeners see it: leave it out",
            zh="公开标题不能含门牌地址（听众会看到），请删去",
        )
    return text


def edit_question(
    *,
    session: Session,
    question: int,
    public_title: str | None = None,
    topic: str | None = None,
) -> Question:
    """Set question ``question``'s public title and/or topic (None leaves one as it is).

    An empty public title means "use the topic". The next publish (and master stage)
    puts the new title in chapters, descriptions and the master's tags.
    """
    found = get_question(session, question)
    if public_title is None and topic is None:
        raise InvalidInput("nothing to change: give --public-title or --topic")
    if public_title is not None:
        found.public_title = check_public_text(public_title, "public title")
    if topic is not None:
        found.topic = check_public_text(topic, "topic")
    found.updated_at = utcnow()
    session.add(found)
    session.flush()
    return found

"""What may go public: contacts masked wherever they were typed or said, dates and amounts kept."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from episodes.public_text import Redactor, mask_patterns, public_question_title


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ("电话13812345678", "电话***********"),
        ("打138 1234 5678找我", "打*** **** ****找我"),
        ("座机021-62345678", "座机***-********"),
        ("号码是一三八一二三四五六七八", "号码是***********"),
        ("幺三八幺二三四五六七八", "***********"),
        ("身份证11010119900307775X", "身份证******************"),
        ("1 3 8 1 2 3 4 5 6 7 8", "* * * * * * * * * * *"),
        ("写信到 wang.li@example.cn 吧", "写信到 ***@*** 吧"),
        ("简介 +86 138 1234 5678 联系", "简介 +** *** **** **** 联系"),
        ("手机 +86-138-1234-5678", "手机 +**-***-****-****"),
        ("+1 415 555 2671", "+* *** *** ****"),
        ("(0571)8765-4321", "(****)****-****"),
        ("座机（010）12345678", "座机（***）********"),
        ("我的电话是幺三八，幺二三四，五六七八", "我的电话是***，****，****"),
        ("一三八，一二三四，五六七八", "***，****，****"),
        ("138、1234、5678", "***、****、****"),
        ("壹叁捌壹贰叁肆伍陆柒捌", "***********"),
        ("zhang＠qq．com", "***@***"),
        ("张三@公司.中国", "***@***"),
    ],
)
def test_contacts_are_masked_written_or_spoken(said: str, shown: str) -> None:
    assert mask_patterns(said) == shown


@pytest.mark.parametrize(
    "kept",
    [
        "2022-08-13 上午11点",
        "2022年8月13日",
        "2020-2023年",
        "补贴1200万元",
        "12,000,000 元",
        "第1000期",
        "10:30 开始",
        "一二三四五六",
        "第138、139、140期",
        "2019、2020、2021年",
        "第一、二、三、四、五、六、七条",
        "1、2、3、4、5、6、7",
    ],
)
def test_dates_amounts_and_short_numbers_stay(kept: str) -> None:
    assert mask_patterns(kept) == kept


def test_known_contacts_are_masked_even_when_no_pattern_knows_them() -> None:
    redact = Redactor.with_contacts(["wxid_lili1988", "13812345678", "", "QQ 号 lili88 请加"])
    assert redact.handles == frozenset({"wxid_lili1988"})  # the phone is a pattern already
    assert redact("加我 wxid_lili1988 谢谢") == "加我 ************* 谢谢"
    assert redact("原话：QQ 号 lili88 请加") == "原话：" + "*" * len("QQ 号 lili88 请加")
    assert redact("wxid_lili19889") == "wxid_lili19889"  # another handle, not hers


def test_a_question_is_never_shown_by_its_text() -> None:
    assert public_question_title(public_title="加装电梯", topic="住房") == "加装电梯"
    assert public_question_title(public_title="", topic="住房") == "住房"
    assert public_question_title(public_title=" ", topic="") == "听众提问"


AROUND = st.text(st.sampled_from("0123456789 -.年号码是x"), max_size=6) | st.text(max_size=20)


MOBILE = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
SPOKEN = dict(zip("0123456789", "零幺二三四五六七八九", strict=True))


@given(
    AROUND,
    MOBILE,
    st.sampled_from(["", " ", "-", "，", "、"]),
    st.sampled_from(["", "+86 ", "+86-", "＋86 "]),
    st.booleans(),
    AROUND,
)
def test_a_mobile_number_grouped_or_spoken_never_survives(
    before: str, phone: str, separator: str, country: str, spoken: bool, after: str
) -> None:
    # However it was typed or transcribed: 138 1234 5678, +86-138-…, 幺三八，幺二三四，…
    said = "".join(SPOKEN[d] for d in phone) if spoken else phone
    grouped = separator.join([said[:3], said[3:7], said[7:]])
    shown = mask_patterns(f"{before}{country}{grouped}{after}")
    assert grouped not in shown
    assert shown.count("*") >= 11 + before.count("*") + after.count("*")


@given(AROUND, MOBILE, AROUND)
def test_a_mobile_number_never_survives_whatever_surrounds_it(
    before: str, phone: str, after: str
) -> None:
    assert phone not in mask_patterns(f"{before}{phone}{after}")


CUE_PIECES = st.lists(
    st.text(st.sampled_from("0123456789０１一三八幺 -.@x_wxidlQ号请加电话是委员\n\x00"), max_size=4)
    | st.sampled_from(["wxid_lili1988", "QQ 号 lili88 请加", "li@ex.cn", "13812345678"]),
    max_size=4,
).map("".join)
KNOWN = ["wxid_lili1988", "QQ 号 lili88 请加", "lili88\x00请"]


@settings(max_examples=300)
@given(st.lists(CUE_PIECES, max_size=8), st.booleans())
@example(["加我wxid_lili1988", "x"], True)  # a handle, then a cue that would lengthen it
def test_a_transcript_masked_at_once_is_masked_as_each_cue_alone(
    cues: list[str], with_contacts: bool
) -> None:
    # One pass over the whole transcript decides "nothing to mask": it must never miss
    # what a cue alone would have masked, whatever ends one cue and starts the next.
    contacts = KNOWN if with_contacts else []
    each = Redactor.with_contacts(contacts).each(cues)
    assert each == [Redactor.with_contacts(contacts)(cue) for cue in cues]


def test_a_transcript_without_contacts_comes_back_as_it_is() -> None:
    cues = ["各位听众朋友，欢迎收听", "今天请到两位委员", "2022-08-13 上午11点"]
    assert Redactor.with_contacts(["wxid_lili1988"]).each(cues) is cues
    said = [*cues, "我的电话是一三八一二三四五六七八", "加我wxid_lili1988"]
    assert Redactor.with_contacts(["wxid_lili1988"]).each(said)[3:] == [
        "我的电话是***********",
        "加我*************",
    ]

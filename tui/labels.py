"""Chinese labels for the vocabularies the database stores in English (statuses, roles, channels).

The database keeps the portable English values; every screen shows these labels. A value
without a label is shown as it is, so a status added later never breaks a table.
"""

from __future__ import annotations

EPISODE_STATUS = {
    "planned": "计划中",
    "confirmed": "已确认",
    "recorded": "已录制",
    "mastered": "已制作",
    "transcribed": "已转写",
    "published": "已发布",
    "cancelled": "已取消",
    "withdrawn": "已撤下",
}
BOOKING_STATUS = {
    "invited": "已邀请",
    "confirmed": "已确认",
    "appeared": "已出场",
    "declined": "已婉拒",
    "cancelled": "已取消",
    "no_show": "未到场",
}
QUESTION_STATUS = {
    "new": "新来信",
    "screened": "已审核",
    "assigned": "已分配",
    "answered": "已回答",
    "referred": "已转办",
    "resolved": "已办结",
    "rejected": "已拒绝",
    "duplicate": "重复",
}
REFERRAL_STATUS = {"open": "待复", "replied": "已答复", "closed": "已关闭"}
CALLBACK_OUTCOME = {
    "satisfied": "满意",
    "partly": "基本满意",
    "unsatisfied": "不满意",
    "unreachable": "未接通",
}
ROLE = {"guest": "嘉宾", "expert": "专家", "official": "官员"}
CHANNEL = {
    "phone": "电话",
    "wechat": "微信",
    "sms": "短信",
    "email": "邮件",
    "letter": "来信",
    "web": "网站",
    "on_air": "直播",
}
CALL_STATUS = {
    "waiting": "等候",
    "screened": "已审核",
    "on_air": "直播中",
    "done": "已结束",
    "dropped": "已放弃",
}
JOB_STATUS = {
    "queued": "排队",
    "running": "运行中",
    "done": "完成",
    "skipped": "已跳过",
    "failed": "失败",
    "cancelled": "已取消",
    "requeued": "重新排队",
    "waiting": "等待前序",
}
JOB_KIND = {"master": "母带制作", "transcribe": "转写", "publish": "发布"}
ALL = "全部"


def label(vocabulary: dict[str, str], value: str | None) -> str:
    """The Chinese label of ``value`` in ``vocabulary`` (the value itself when unknown)."""
    if value is None:
        return ""
    return vocabulary.get(value, value)

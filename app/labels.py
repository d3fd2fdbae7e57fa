"""Codes and their Chinese labels. One place, used by forms, imports and templates."""

from __future__ import annotations

UNIT_KINDS = {"office": "办公室", "department": "科室", "community": "社区", "team": "执法队"}
ESTABLISHMENTS = {
    "civil_servant": "行政编制",
    "public_institution": "事业编制",
    "contract": "合同制",
    "temporary": "临时聘用",
    "auxiliary": "协管人员",
    "seconded": "借调人员",
}
EDUCATIONS = {
    "postgraduate": "研究生",
    "bachelor": "本科",
    "college": "大专",
    "secondary": "中专及以下",
}
EMPLOYMENT_STATUSES = {
    "active": "在职",
    # 调出: left the organisation (docs/domain.md); imports still accept 调离 (EMPLOYMENT_STATUS_ALIASES)
    "transferred": "调出",
    "retired": "退休",
    "resigned": "辞职",
    "dismissed": "辞退",
    "deceased": "死亡",
}
# Older spellings a file may carry, read as the status they meant
EMPLOYMENT_STATUS_ALIASES = {"调离": "transferred"}
# 离岗 recorded on the officer page (app/officers/departures.py): the 在职状态 each sets
DEPARTURES = {"transferred": "调出", "resigned": "辞职", "dismissed": "辞退", "retired": "退休", "deceased": "死亡"}
GENDERS = {"M": "男", "F": "女"}
# 原法定退休年龄 of a woman (the basis the 2025 law raises; app/retirement.py): 55 unless recorded
RETIREMENT_BASES = {"55": "55岁", "50": "50岁"}
CERT_KINDS = {"enforcement": "行政执法证", "supervision": "行政执法监督证"}
CERT_STATUSES = {
    "applying": "申领中",
    "valid": "有效",
    "suspended": "暂扣",
    "cancelled": "注销",
    "revoked": "吊销",
    "lost": "遗失",
    "replaced": "已换证",
}
# Certificate lifecycle actions: code -> (label, from states, to state)
CERT_ACTIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "issue": ("发证", ("applying",), "valid"),
    "withdraw": ("撤回申领", ("applying",), "cancelled"),
    "suspend": ("暂扣", ("valid",), "suspended"),
    "restore": ("发还", ("suspended",), "valid"),
    "revoke": ("吊销", ("valid", "suspended"), "revoked"),
    "cancel": ("注销", ("valid", "suspended"), "cancelled"),
    "lose": ("挂失", ("valid",), "lost"),
    "replace": ("换证", ("valid",), "replaced"),
}
CERT_EVENT_KINDS = {
    "create": "登记",
    "apply": "申领",
    **{code: label for code, (label, _f, _t) in CERT_ACTIONS.items()},
    "override": "无考试发证确认",
}
FINAL_STATUSES = ("cancelled", "revoked", "lost", "replaced")
# 申请审批 (app/applications, docs/domain.md)
APPLICATION_KINDS = {"new": "申领", "renew": "换证", "replace": "补证", "cancel": "注销"}
APPLICATION_STEPS = {"unit_review": "单位初审", "legal_review": "法制审核", "approval": "审批",
                     "issuing": "制证发证"}
APPLICATION_STATES = {"awaiting_exam": "待考试", **APPLICATION_STEPS, "returned": "退回补正",
                      "rejected": "不予批准", "done": "办结"}
APPLICATION_DECISIONS = {"submit": "提交申请", "approve": "同意", "return": "退回补正", "reject": "不予批准",
                         "resubmit": "补正后重新提交", "exam_passed": "考试合格，进入审核", "issue": "制证发证",
                         "cancel": "注销证件"}

TRAINING_CATEGORIES = {
    "general_law": "通用法律知识",
    "specialist_law": "专门法律知识",
    "refresher": "法律知识更新",
    "off_post": "离岗培训",
    "lecture": "法治讲座",
    "court_observation": "旁听庭审",
    "political": "政治理论",
}
TRAINING_MODES = {"offline": "线下", "online": "线上"}  # 培训方式 (TrainingSession.online)
ATTENDANCE_STATUSES = {"registered": "已报名", "attended": "出席", "absent": "缺席", "excused": "请假"}
EXAM_KINDS = {"qualification": "资格考试", "specialist": "专业法律考试", "annual": "年度法治理论考试"}
QUESTION_TYPES = {"single": "单选", "multiple": "多选", "true_false": "判断"}
REVIEW_RESULTS = {"pending": "待审", "pass": "通过", "fail": "不通过"}
ROLES = {"admin": "系统管理员", "clerk": "人事专员", "viewer": "查阅"}
# An officer's own account (app/me): not a staff role, never given on the users page.
OFFICER_ROLE = "officer"
ACCOUNT_ROLES = {**ROLES, OFFICER_ROLE: "执法人员本人"}
CLAIM_STATUSES = {"pending": "待审核", "approved": "已通过", "returned": "已退回"}
CHANGE_FIELDS = {"phone": "联系电话", "photo": "照片"}

FLAGS = {
    "UNLICENSED": "未持证上岗",
    "EXPIRING": "证件即将到期",
    "SHOULD_CANCEL": "应收回注销",
    "INELIGIBLE": "不符合持证条件",
    "TRAINING_SHORTFALL": "年度学时不足",
    "NEEDS_REISSUE": "需换证",
    "UNIT_UNDERSTAFFED": "持证人数不足",
}
FLAG_REASONS = {
    "none": "无执法证",
    "expired": "证件已过期",
    "not_yet_valid": "证件尚未生效",
    "not_active": "已不在职",
    "off_post": "已离开执法岗位",
    "shortfall": "上年度学时不足",
    "at_risk": "本年度进度落后",
    "fields_not_covered": "证件执法类别未覆盖单位执法类别",
    **{k: v for k, v in CERT_STATUSES.items()},
    **ESTABLISHMENTS,
}

AUDIT_ACTIONS = {
    "create": "新增",
    "update": "修改",
    "delete": "删除",
    "status": "状态变更",
    "import": "导入",
    "export": "导出",
    "print": "打印",
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "settings": "设置",
    "verify": "验证",
    "remind": "发送提醒",
    "search": "搜索",
    "undo_import": "撤销导入",
    "merge": "合并",
    "late_entry": "补录已截止年度",
}


def lookup(mapping: dict[str, str], value: str | None) -> str | None:
    """Accept a code or its Chinese label (case-insensitive for codes); return the code or None."""
    if value is None:
        return None
    v = str(value).strip()
    if v in mapping:
        return v
    low = v.lower()
    if low in mapping:
        return low
    for code, label in mapping.items():
        if label == v:
            return code
    return None

# The case check (docs/domain.md 案件核查): why a case's officers were not both certified on its dates.
CASE_REASONS = {
    "unknown": "证号不存在",
    "not_yet_valid": "尚未生效",
    "expired": "已过期",
    "applying": "申领中",
    "suspended": "暂扣期间",
    "revoked": "已吊销",
    "cancelled": "已注销",
    "lost": "已挂失",
    "replaced": "已换证",
    "supervision": "仅有监督证",
    "outdated_number": "证号已更新",
    "same_officer": "同一人",
    "fewer_than_two": "不足两名持证人员",
}
CASE_VERDICTS = {"ok": "符合", "not_ok": "不符合"}

# What the audit log's entity types and recorded field names read as (app/audit/display.py).
ENTITY_TYPES = {
    "officer": "执法人员",
    "unit": "单位",
    "certificate": "证件",
    "exam": "考试",
    "exam_result": "考试成绩",
    "training_session": "培训",
    "attendance": "培训出勤",
    "annual_review": "年审",
    "user": "用户",
    "api_token": "API 令牌",
    "setting": "设置",
    "reminders": "到期提醒",
    "reminder_run": "提醒发送",
    "report": "报表",
    "case": "案件",
    "demo": "演示数据",
    "document": "文书",
    "exam_sitting": "在线考试考生",
    "question": "试题",
    "import_batch": "导入批次",
    "database": "数据库",
    "audit": "审计日志",
    "training": "培训",
    "training_rule": "年度学时要求",
    "application": "证件申请",
}
FIELD_LABELS = {
    "name": "名称",
    "state": "办理状态",
    "submitted_on": "收件日期",
    "calendar": "工作日历",
    "label": "令牌名称",
    "replaces_result": "机考成绩替换原成绩",
    "document_withdrawn_reason": "文书撤回原因",
    "revoked_at": "撤销时间",
    "user": "用户",
    "id_number": "身份证号",
    "gender": "性别",
    "birth_date": "出生日期",
    "employee_no": "工号",
    "unit_id": "单位",
    "unit": "单位",
    "parent_id": "上级单位",
    "reminder_recipients": "提醒接收人",
    "position": "职务",
    "establishment": "编制类型",
    "education": "学历",
    "on_enforcement_post": "在执法岗位",
    "employment_status": "在职状态",
    "status_changed_on": "状态变更日期",
    "post_since": "任执法岗位日期",
    "from_on": "调动日期",
    "document_no": "文号",
    "enforcement_fields": "执法类别",
    "retirement_basis": "原法定退休年龄",
    "phone": "联系电话",
    "notes": "备注",
    "note": "备注",
    "photo": "照片",
    "claim": "学时申报",
    "invite": "账号邀请",
    "kind": "类型",
    "sort_order": "排序",
    "number": "证件编号",
    "issuing_authority": "发证机关",
    "issued_on": "发证日期",
    "expires_on": "有效期至",
    "categories": "执法类别",
    "area": "执法区域",
    "status": "状态",
    "title": "名称",
    "category": "类别",
    "held_on": "日期",
    "hours": "学时",
    "location": "地点",
    "organiser": "组织单位",
    "lecturer": "授课人",
    "online": "培训方式（线上）",
    "total": "年度总学时",
    "minimums": "内容类别最低学时",
    "online_max": "线上学时上限",
    "source": "依据",
    "closes_on": "记录截止日期",
    "reason": "理由",
    "max_score": "满分",
    "pass_score": "合格分数",
    "makeup_of_id": "补考对应考试",
    "role": "角色",
    "active": "启用",
    "display_name": "显示名称",
    "password": "密码",
    "case_no": "案号",
    "opened_on": "立案日期",
    "decided_on": "决定日期",
    "officer_names": "执法人员",
    "outcome": "处理结果",
    "file": "文件",
    "filters": "筛选条件",
    "certificates": "证件",
    "result": "结果",
    "override": "确认原因",
    "certificate_numbers": "执法证号",
    "attachment": "附件",
    "target": "调整为",
    "exam": "考试",
    "training_session": "培训",
    "score": "得分",
    "answer": "答案",
    "item": "试题编号",
    "extra_minutes": "延长时间（分钟）",
    "retired": "停用",
    "type": "题型",
    "stem": "题干",
    "options": "选项",
    "points": "分值",
    "basis": "依据",
    "merged_from": "合并来源",
    "moved": "转移的记录",
}
# Import batches' states, as the audit log shows a batch being undone.
IMPORT_BATCH_STATUSES = {"imported": "已导入", "undone": "已撤销"}

"""Realistic demo data: a street office like the seed report's (departments and 11 communities)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from stdnum.cn import ric

from app.audit.services import record
from app.cases.demo import seed_cases
from app.certificates.services import create_certificate
from app.extensions import db
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingSession
from app.officers.services import get_or_create_unit, save_officer

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
            "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅志强海燕玉兰俊峰晓东春梅丹辉"
         "鹏飞文斌瑶婷雪琳浩然子轩")
DEPARTMENTS = ["党政办公室", "平安法治办公室", "城市管理科", "社区事务办公室", "综合行政执法队"]
COMMUNITIES = ["海棠溪社区", "烟雨社区", "罗家坝社区", "四公里社区", "福德社区", "上海城社区",
               "学府社区", "南坪社区", "回龙湾社区", "东原社区", "万寿社区"]
POSITIONS = ["科员", "副科长", "科长", "执法队员", "副队长", "社区专干", "四级主任科员", "一级科员"]
CATEGORIES = ["城市管理", "市场监管", "安全生产", "环境保护", "规划建设", "应急管理"]
COUNTIES = ["500108", "500103", "500112", "500106", "500105"]


def make_id_number(rng: random.Random, birth: date, gender: str) -> str:
    seq = rng.randint(0, 49) * 2 + (1 if gender == "M" else 0)
    body = f"{rng.choice(COUNTIES)}{birth:%Y%m%d}{rng.randint(0, 9)}{seq:02d}"
    return body + ric.calc_check_digit(body + "0")


def _name(rng: random.Random, used: set[str]) -> str:
    while True:
        n = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if n not in used:
            used.add(n)
            return n


# Each officer gets a scenario by position, so every flag shows in the demo whatever the seed.
SCENARIOS = (["ok"] * 14 + ["expiring"] * 3 + ["expired", "none", "suspended", "applying", "contract",
             "retired", "off_post"])


def seed(*, count: int, seed: int, today: date) -> str:
    rng = random.Random(seed)
    units = [get_or_create_unit(n, kind="team" if "队" in n else "department") for n in DEPARTMENTS]
    units += [get_or_create_unit(n, kind="community") for n in COMMUNITIES]
    for i, u in enumerate(units):
        u.sort_order = i
    # Most enforcement work sits in the departments and the team; communities get a few officers.
    weights = [6, 3, 8, 3, 10] + [1] * len(COMMUNITIES)
    used: set[str] = set()
    ids: set[str] = set()
    officers = []
    certs = 0
    for i in range(count):
        scenario = SCENARIOS[i % len(SCENARIOS)] if count <= 1000 else rng.choice(SCENARIOS)
        gender = rng.choice("MF")
        birth = date(rng.randint(1966, 1998), rng.randint(1, 12), rng.randint(1, 28))
        number = make_id_number(rng, birth, gender)
        while number in ids:
            number = make_id_number(rng, birth, gender)
        ids.add(number)
        unit = rng.choices(units, weights=weights)[0]
        officer = save_officer(None, {
            "name": _name(rng, used), "id_number": number, "unit": unit,
            "position": rng.choice(POSITIONS),
            "establishment": "contract" if scenario == "contract" else (
                "civil_servant" if rng.random() < 0.75 else "public_institution"),
            "education": rng.choice(["postgraduate", "bachelor", "bachelor", "college"]),
            "on_enforcement_post": scenario != "off_post",
            "employment_status": "retired" if scenario == "retired" else "active",
            "phone": f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
            "employee_no": f"HT{i + 1:04d}",
        }, today=today)
        officers.append((officer, scenario))
        if scenario == "none":
            continue
        if scenario == "expiring":
            expires = today + timedelta(days=rng.choice([5, 25, 50, 80]))
        elif scenario == "expired":
            expires = today - timedelta(days=rng.randint(10, 200))
        else:
            expires = today + timedelta(days=rng.randint(200, 1700))
        issued = date(expires.year - 5, expires.month, min(expires.day, 28)) + timedelta(days=1)
        status = {"suspended": "suspended", "applying": "applying"}.get(scenario, "valid")
        create_certificate(officer, {
            "kind": "enforcement", "number": f"50010823{i + 1:06d}",
            "issuing_authority": "重庆市人民政府", "issued_on": issued, "expires_on": expires,
            "categories": "、".join(rng.sample(CATEGORIES, 2)), "area": "南岸区海棠溪街道",
        }, status=status, today=today, reason="违规执法，暂扣待查" if status == "suspended" else "")
        certs += 1
    sessions = _training_and_exams(rng, [o for o, s in officers if s != "retired"], today)
    seed_cases(count=count, seed=seed, today=today)
    record("create", "demo", None, f"生成演示数据：{count} 名执法人员、{certs} 张证件、{sessions} 次培训")
    return f"已生成 {count} 名执法人员、{len(units)} 个单位、{certs} 张证件、{sessions} 次培训"


def _training_and_exams(rng: random.Random, officers: list, today: date) -> int:
    """Last year's and this year's training (the seed report's lectures, court hearing, exam)."""
    plan = [
        ("行政执法人员离岗培训", "off_post", 40.0, (3, 12)),
        ("行政处罚法专题培训", "general_law", 16.0, (5, 20)),
        ("全体职工法律知识讲座（一）", "lecture", 2.0, (2, 28)),
        ("全体职工法律知识讲座（二）", "lecture", 2.0, (6, 16)),
        ("全体职工法律知识讲座（三）", "lecture", 2.0, (10, 18)),
        ("旁听法院庭审", "court_observation", 4.0, (9, 7)),
    ]
    count = 0
    for year in (today.year - 1, today.year):
        for title, category, hours, (month, day) in plan:
            held = date(year, month, day)
            if held > today:
                continue
            session = TrainingSession(title=title, category=category, held_on=held, hours=hours,
                                      location="街道会议室", organiser="平安法治办公室", lecturer="")
            db.session.add(session)
            db.session.flush()
            count += 1
            for officer in officers:
                roll = rng.random()
                status = "attended" if roll < 0.9 else ("excused" if roll < 0.96 else "absent")
                db.session.add(Attendance(session_id=session.id, officer_id=officer.id, status=status,
                                          credited_hours=hours if status == "attended" else 0.0))
        held = date(year, 11, 20)
        if held <= today:
            exam = Exam(title=f"{year}年度法治理论考试", kind="annual", held_on=held, max_score=100,
                        pass_score=60)
            db.session.add(exam)
            db.session.flush()
            for officer in officers:
                absent = rng.random() < 0.03
                db.session.add(ExamResult(exam_id=exam.id, officer_id=officer.id, absent=absent,
                                          score=None if absent else float(rng.randint(52, 98))))
    db.session.flush()
    return count

"""Realistic demo data: a street office like the seed report's (departments and 11 communities)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from stdnum.cn import ric

from app.certificates.services import create_certificate
from app.officers.services import get_or_create_unit, save_officer

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅志强海燕玉兰俊峰晓东春梅丹辉鹏飞文斌瑶婷雪琳浩然子轩"
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


def seed(*, count: int, seed: int, today: date) -> str:
    rng = random.Random(seed)
    units = [get_or_create_unit(n, kind="team" if "队" in n else "department") for n in DEPARTMENTS]
    units += [get_or_create_unit(n, kind="community") for n in COMMUNITIES]
    for i, u in enumerate(units):
        u.sort_order = i
    used: set[str] = set()
    ids: set[str] = set()
    certs = 0
    for i in range(count):
        gender = rng.choice("MF")
        birth = date(rng.randint(1966, 1998), rng.randint(1, 12), rng.randint(1, 28))
        number = make_id_number(rng, birth, gender)
        while number in ids:
            number = make_id_number(rng, birth, gender)
        ids.add(number)
        # Most officers are in order; a few carry each flag.
        roll = rng.random()
        establishment = "civil_servant" if rng.random() < 0.75 else "public_institution"
        on_post, status = True, "active"
        if roll < 0.05:
            establishment = rng.choice(["contract", "auxiliary", "seconded"])
        elif roll < 0.09:
            status = rng.choice(["retired", "transferred"])
        elif roll < 0.12:
            on_post = False
        unit = units[i % len(units)] if i < len(units) * 2 else rng.choice(units)
        officer = save_officer(None, {
            "name": _name(rng, used), "id_number": number, "unit": unit,
            "position": rng.choice(POSITIONS), "establishment": establishment,
            "education": rng.choice(["postgraduate", "bachelor", "bachelor", "college"]),
            "on_enforcement_post": on_post, "employment_status": status,
            "phone": f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
            "employee_no": f"HT{i + 1:04d}",
        }, today=today)
        cert_roll = rng.random()
        if cert_roll < 0.06:
            continue  # no certificate at all: UNLICENSED (none)
        if cert_roll < 0.16:
            issued = today - timedelta(days=5 * 365 - rng.randint(1, 85))  # expiring within 90 days
        elif cert_roll < 0.2:
            issued = today - timedelta(days=5 * 365 + rng.randint(10, 300))  # expired
        else:
            issued = today - timedelta(days=rng.randint(30, 4 * 365))
        expires = date(issued.year + 5, issued.month, min(issued.day, 28)) - timedelta(days=1)
        create_certificate(officer, {
            "kind": "enforcement", "number": f"50010823{i + 1:06d}",
            "issuing_authority": "重庆市人民政府", "issued_on": issued, "expires_on": expires,
            "categories": "、".join(rng.sample(CATEGORIES, 2)), "area": "南岸区海棠溪街道",
        }, status="suspended" if 0.2 <= cert_roll < 0.22 else "valid", today=today,
            reason="违规执法，暂扣待查" if 0.2 <= cert_roll < 0.22 else "")
        certs += 1
    return f"已生成 {count} 名执法人员、{len(units)} 个单位、{certs} 张证件"

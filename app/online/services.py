"""Online exam rules: paper rules and draws, access codes, the window, answering, scoring, results.

Times are naive UTC (`app.models_base.utcnow`); `now` is a parameter of every rule. A candidate's
time ends at the window's end plus any extension granted to them. Once a candidate's time is up
(or the exam is closed) the paper is submitted with what it holds and nothing can change it.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app import scope
from app.audit.services import record
from app.clock import from_local
from app.documents.services import certificate_number
from app.errors import DomainError
from app.exams.services import CLOSE_CHECKS, add_candidates
from app.extensions import db
from app.formatting import cn_datetime
from app.idnumber import mask
from app.labels import QUESTION_TYPES, lookup
from app.models.exams import Exam, ExamResult
from app.models.officers import Officer, Unit
from app.models.online import OnlineExam, PaperItem, Question, Sitting
from app.models_base import utcnow
from app.online.bank import read_answer
from app.paging import page_of

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 8


def parse_beijing(text: str) -> datetime:
    """ "2024-03-01 09:00" (or the browser's "2024-03-01T09:00"), local (Beijing) time → naive UTC."""
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"):
        try:
            return from_local(datetime.strptime((text or "").strip(), fmt))
        except ValueError:
            continue
    raise DomainError(f"时间“{text}”格式不对，应为 2024-03-01 09:00（北京时间）")


class Conflict(DomainError):
    """The paper can no longer change (submitted, time up, exam closed): HTTP 409."""


class Forbidden(DomainError):
    """Login outside the window or after submission: HTTP 403."""


# --- rules ---------------------------------------------------------------------------------------

_RULE = re.compile(r"^\s*([^:：=]+?)\s*(?:[:：]\s*([^=]+?)\s*)?=\s*(\d+)\s*[x×X*]\s*(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Rule:
    type: str
    category: str
    count: int
    points: float

    @property
    def label(self) -> str:
        name = f"{QUESTION_TYPES[self.type]}题"
        return f"{name}（{self.category}）" if self.category else name

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "category": self.category, "count": self.count, "points": self.points}


def parse_rule(text: str) -> Rule:
    m = _RULE.match(text or "")
    if not m:
        raise DomainError(f"规则“{text}”格式不对，应写成 单选=20x2 或 单选:公共法律知识=10x2")
    qtype = lookup(QUESTION_TYPES, m.group(1))
    if qtype is None:
        raise DomainError(f"规则“{text}”中的题型“{m.group(1)}”未知，可选：单选、多选、判断")
    count, points = int(m.group(3)), float(m.group(4))
    if count <= 0 or points <= 0:
        raise DomainError(f"规则“{text}”的题数和每题分值都应大于0")
    return Rule(qtype, (m.group(2) or "").strip(), count, points)


def _available(qtype: str, category: str) -> int:
    q = select(func.count()).select_from(Question).where(Question.type == qtype, Question.retired.is_(False))
    if category:
        q = q.where(Question.category == category)
    return db.session.scalar(q) or 0


def check_rules(exam: Exam, rules: list[Rule]) -> list[str]:
    """Every reason the rules cannot make a paper for this exam (empty when they can)."""
    problems: list[str] = []
    if not rules:
        return ["至少需要一条组卷规则，例如 --rule 单选=20x2"]
    total = sum(r.count * r.points for r in rules)
    if abs(total - exam.max_score) > 1e-6:
        detail = " + ".join(f"{r.label}{r.count}×{r.points:g}" for r in rules)
        problems.append(f"各规则合计 {total:g} 分（{detail}），与考试满分 {exam.max_score:g} 分不符")
    seen: set[tuple[str, str]] = set()
    for r in rules:
        if (r.type, r.category) in seen:
            problems.append(f"{r.label}的规则写了两次")
            continue
        seen.add((r.type, r.category))
    for r in rules:
        have = _available(r.type, r.category)
        # A rule without category draws from what the category rules of the same type leave.
        reserved = 0 if r.category else sum(o.count for o in rules if o.type == r.type and o.category)
        if r.count + reserved > have:
            where = f"“{r.category}”类的{QUESTION_TYPES[r.type]}题" if r.category else f"{QUESTION_TYPES[r.type]}题"
            extra = f"（其中 {reserved} 道已由分类规则抽取）" if reserved else ""
            problems.append(f"{r.label}要 {r.count} 道，但题库中可用的{where}只有 {have} 道{extra}")
    return problems


def _draw(rules: list[Rule], rng: random.Random) -> list[Question]:
    chosen: list[Question] = []
    taken: set[int] = set()
    ordered = sorted(rules, key=lambda r: (not r.category,))  # category rules first
    picks: dict[Rule, list[Question]] = {}
    for r in ordered:
        q = select(Question).where(Question.type == r.type, Question.retired.is_(False)).order_by(Question.id)
        if r.category:
            q = q.where(Question.category == r.category)
        pool = [x for x in db.session.scalars(q) if x.id not in taken]
        if len(pool) < r.count:
            raise DomainError(f"{r.label}要 {r.count} 道，但题库中只剩 {len(pool)} 道可用")
        pick = rng.sample(pool, r.count)
        taken.update(x.id for x in pick)
        picks[r] = pick
    for r in rules:  # on the paper in the order the rules were given
        chosen.extend(picks[r])
    return chosen


def online_of(exam: Exam, create: bool = False) -> OnlineExam | None:
    online = db.session.scalar(select(OnlineExam).where(OnlineExam.exam_id == exam.id))
    if online is None and create:
        online = OnlineExam(exam=exam, fixed=False, room="", show_score=True)
        db.session.add(online)
        db.session.flush()
    return online


def rules_of(online: OnlineExam) -> list[Rule]:
    return [Rule(r["type"], r.get("category") or "", int(r["count"]), float(r["points"]))
            for r in (online.rules or [])]


def set_paper(exam: Exam, rules: list[Rule], *, fixed: bool, now: datetime) -> OnlineExam:
    problems = check_rules(exam, rules)
    if problems:
        raise DomainError("；".join(problems))
    online = online_of(exam, create=True)
    assert online is not None
    if online.closed_at or (online.opens_at and online.opens_at <= now):
        raise DomainError("考试已开始或已结束，不能再修改组卷规则")
    drawn = db.session.scalar(select(func.count()).select_from(PaperItem).join(Sitting)
                              .where(Sitting.exam_id == exam.id))
    if drawn:  # rules changed before the window opens: draw again
        for s in db.session.scalars(select(Sitting).where(Sitting.exam_id == exam.id)):
            s.items.clear()
    online.rules = [r.as_dict() for r in rules]
    online.fixed = fixed
    online.fixed_questions = [q.id for q in _draw(rules, random.Random(secrets.randbits(64)))] if fixed else None
    db.session.flush()
    record("update", "exam", exam.id, f"考试 {exam.title} 设置组卷规则"
           f"（{'统一试卷' if fixed else '每人随机抽题'}）："
           + "，".join(f"{r.label}{r.count}×{r.points:g}" for r in rules))
    return online


def _items_for(questions: list[Question], rules: list[Rule], *, shuffle: bool, rng: random.Random
               ) -> list[PaperItem]:
    points: dict[int, float] = {}
    i = 0
    for r in rules:
        for q in questions[i:i + r.count]:
            points[q.id] = r.points
        i += r.count
    items = []
    for pos, q in enumerate(questions, start=1):
        opts = sorted((q.options or {}).items())
        if shuffle and q.type != "true_false":
            rng.shuffle(opts)
        shown = [[chr(65 + k), orig, text] for k, (orig, text) in enumerate(opts)]
        to_shown = {orig: letter for letter, orig, _ in shown}
        key = q.answer if q.type == "true_false" else "".join(sorted(to_shown[c] for c in q.answer))
        items.append(PaperItem(position=pos, question_id=q.id, question_version=q.version or 1, type=q.type,
                               stem=q.stem, options=shown, key=key, points=points[q.id],
                               category=q.category or ""))
    return items


def draw_paper(online: OnlineExam, sitting: Sitting) -> None:
    """Freeze this candidate's paper (a copy of each question) unless it already has one."""
    if sitting.items:
        return
    if not online.rules:
        raise DomainError("此考试还没有组卷规则（flask exams paper）")
    rules = rules_of(online)
    if online.fixed:
        by_id = {q.id: q for q in db.session.scalars(select(Question).where(
            Question.id.in_(online.fixed_questions or [])))}
        questions = [by_id[i] for i in online.fixed_questions or [] if i in by_id]
        items = _items_for(questions, rules, shuffle=False, rng=random.Random(0))
    else:
        rng = random.Random(secrets.randbits(64))
        items = _items_for(_draw(rules, rng), rules, shuffle=True, rng=rng)
    sitting.items.extend(items)
    db.session.flush()


def preview_items(exam: Exam) -> list[PaperItem]:
    """A paper for preview/printing (not saved): the fixed paper, or one random draw."""
    online = online_of(exam)
    if online is None or not online.rules:
        raise DomainError("此考试还没有组卷规则")
    rules = rules_of(online)
    if online.fixed:
        by_id = {q.id: q for q in db.session.scalars(select(Question).where(
            Question.id.in_(online.fixed_questions or [])))}
        return _items_for([by_id[i] for i in online.fixed_questions or [] if i in by_id], rules,
                          shuffle=False, rng=random.Random(0))
    rng = random.Random(exam.id)
    return _items_for(_draw(rules, rng), rules, shuffle=False, rng=rng)


# --- who sees the answer key ----------------------------------------------------------------------

def in_progress(online: OnlineExam | None) -> bool:
    """Opened (now or at a set time) and not yet closed: its papers are drawn and being answered."""
    return online is not None and online.opens_at is not None and online.closed_at is None


def questions_on_open_papers(question_ids: list[int]) -> set[int]:
    """Those of `question_ids` on a paper of an exam in progress (drawn, or the fixed paper)."""
    if not question_ids:
        return set()
    open_exams = (OnlineExam.opens_at.is_not(None), OnlineExam.closed_at.is_(None))
    drawn = set(db.session.scalars(
        select(PaperItem.question_id).distinct().join(Sitting, Sitting.id == PaperItem.sitting_id)
        .join(OnlineExam, OnlineExam.exam_id == Sitting.exam_id)
        .where(*open_exams, PaperItem.question_id.in_(question_ids))))
    wanted = set(question_ids)
    for fixed in db.session.scalars(select(OnlineExam.fixed_questions).where(*open_exams,
                                                                                OnlineExam.fixed.is_(True))):
        drawn.update(wanted.intersection(fixed or []))
    return drawn


def answers_hidden_for(role: str, question_ids: list[int]) -> set[int] | None:
    """Whose answers `role` may not see: None = none at all (viewers), else the ids withheld
    (a clerk: the questions on the paper of an exam in progress; an admin: none)."""
    if role == "admin":
        return set()
    if role == "clerk":
        return questions_on_open_papers(question_ids)
    return None


# --- a result already recorded vs the online sitting ----------------------------------------------

def _num(value: float | None) -> float | int | None:
    """78.5 stays, 30.0 becomes 30 (as a person writes it, in the audit log too)."""
    return int(value) if value is not None and float(value).is_integer() else value


def outcome_text(score: float | None, absent: bool) -> str:
    return "缺考" if absent else ("未登记" if score is None else f"{_num(score)}分")


def _has_result() -> Any:
    return or_(ExamResult.score.is_not(None), ExamResult.absent.is_(True))


def _recorded_select(exam: Exam):
    return (select(ExamResult, Officer, Sitting).join(Officer, Officer.id == ExamResult.officer_id)
            .outerjoin(Sitting, and_(Sitting.exam_id == ExamResult.exam_id,
                                     Sitting.officer_id == ExamResult.officer_id))
            .where(ExamResult.exam_id == exam.id, _has_result(),
                   or_(Sitting.id.is_(None), Sitting.submitted_at.is_(None))))


RECORDED_ORDER = (Officer.unit_id, Officer.name, Officer.id)


def _recorded_row(exam: Exam, r: ExamResult, o: Officer, sitting: Sitting | None) -> dict[str, Any]:
    passed = not r.absent and r.score is not None and r.score >= exam.pass_score
    document = None
    if r.document_issued_at is not None:
        document = {"number": certificate_number("exam", r.id, exam.held_on.year),
                    "withdrawn": r.document_withdrawn_at is not None,
                    "reason": r.document_withdrawn_reason or ""}
    return {"result_id": r.id, "officer_id": o.id, "name": o.name, "id_number": o.id_number,
            "id_masked": mask(o.id_number), "score": r.score, "absent": r.absent, "passed": passed,
            "outcome": outcome_text(r.score, r.absent), "document": document,
            "replacing": bool(sitting is not None and sitting.replaces_result),
            "reason": (sitting.replace_reason or "") if sitting is not None else ""}


def recorded_candidates(exam: Exam) -> list[dict[str, Any]]:
    """Candidates whose result in the exam was recorded before (or apart from) its online sitting:
    held back from the sitting (`replacing` False) unless an administrator let the online result
    replace it (`replacing` True). A result the sitting itself produced is not one of these."""
    online = online_of(exam)
    if online is not None and online.closed_at is not None:
        return []
    rows = db.session.execute(_recorded_select(exam).order_by(*RECORDED_ORDER))
    return [_recorded_row(exam, r, o, sitting) for r, o, sitting in rows]


def recorded_page(exam: Exam, online: OnlineExam | None, page: int,
                  per_page: int = 50) -> tuple[list[dict[str, Any]], int, int]:
    """One page of recorded_candidates (same rows, same order) for the exam's page (`online`: its
    online_of): (rows, total, page shown) — an exam of 16,000 recorded results is not one table of
    16,000 forms."""
    if online is not None and online.closed_at is not None:
        return [], 0, 1
    ids = _recorded_select(exam).with_only_columns(ExamResult.id)
    keys, total, shown = page_of(ids, RECORDED_ORDER, page, per_page)
    if not keys:
        return [], total, shown
    rows = {r.id: (r, o, sitting) for r, o, sitting in db.session.execute(
        _recorded_select(exam).where(ExamResult.id.in_([k.id for k in keys]))
        .execution_options(**scope.PER_ROW_OPTION))}  # the page's rows by id (app/scope.py PER_ROW)
    return [_recorded_row(exam, *rows[k.id]) for k in keys], total, shown


def held_back(exam: Exam) -> list[dict[str, Any]]:
    return [c for c in recorded_candidates(exam) if not c["replacing"]]


def held_message(held: list[dict[str, Any]]) -> str:
    who = "、".join(f"{c['name']}（{c['id_masked']}，{c['outcome']}"
                   f"{'，合格' if c['passed'] else ''}）" for c in held)
    return f"以下考生在本考试已有成绩，不参加机考（已有成绩保留）：{who}"


def document_to_withdraw(c: dict[str, Any]) -> str | None:
    """The number of the issued, still valid 考试合格证明 that replacing this result withdraws."""
    doc = c["document"]
    return doc["number"] if c["passed"] and doc is not None and not doc["withdrawn"] else None


def allow_replace(exam: Exam, officer_id: int, reason: str, *, withdraw_document: bool, now: datetime) -> Sitting:
    """An administrator lets the online result replace the result recorded for this candidate
    (with a reason). A passing result whose 考试合格证明 was issued: only with
    `withdraw_document`, and the document is withdrawn with the same reason."""
    online = online_of(exam)
    if online is not None and online.closed_at is not None:
        raise DomainError("考试已结束，不能再更改")
    found = next((c for c in recorded_candidates(exam) if c["officer_id"] == officer_id), None)
    if found is None:
        raise DomainError("该考生在本考试没有已登记的成绩，无需替换")
    name = found["name"]
    if found["replacing"]:
        raise DomainError(f"已允许 {name} 以机考成绩替换已有成绩")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(f"请填写允许 {name} 以机考成绩替换已有成绩（{found['outcome']}）的原因")
    if len(reason) > 500:
        raise DomainError("原因不能超过500个字")
    number = document_to_withdraw(found)
    if number and not withdraw_document:
        raise DomainError(f"{name} 的考试合格证明（编号 {number}）已出具：以机考成绩替换前须确认撤回该证明"
                          f"（撤回后扫码验证显示“已撤回”及原因）")
    r = db.session.get(ExamResult, found["result_id"])
    assert r is not None
    if number:
        r.document_withdrawn_at, r.document_withdrawn_reason = now, reason
        record("update", "exam_result", r.id, f"撤回考试合格证明 {number}（{name}，{exam.title}）：{reason}",
               {"document_withdrawn_reason": [None, reason]})
    sitting = db.session.scalar(select(Sitting).where(Sitting.exam_id == exam.id, Sitting.officer_id == officer_id))
    if sitting is None:
        taken = db.session.execute(select(Sitting.code, Sitting.seat).where(Sitting.exam_id == exam.id)).all()
        codes = {c for c, _ in taken}
        code = new_code()
        while code in codes:
            code = new_code()
        sitting = Sitting(exam_id=exam.id, officer_id=officer_id, code=code,
                          seat=max((seat for _, seat in taken), default=0) + 1, extra_minutes=0)
        db.session.add(sitting)
    sitting.replaces_result, sitting.replace_reason = True, reason
    db.session.flush()
    old = "缺考" if found["absent"] else _num(found["score"])
    record("update", "exam_sitting", sitting.id,
           f"允许 {name} 以机考成绩替换已有成绩（{found['outcome']}）：{reason}",
           {"replaces_result": [False, True], "score": [old, old]})
    return sitting


def _replacements(exam: Exam, replace: list[str], reason: str, *, withdraw_document: bool, now: datetime) -> None:
    """allow_replace for the given ID numbers (the CLI's --replace)."""
    if not replace:
        return
    wanted = [x.strip().upper() for x in replace]
    officers = {o.id_number: o for o in db.session.scalars(select(Officer).where(Officer.id_number.in_(wanted)))}
    unknown = [x for x in wanted if x not in officers]
    if unknown:
        raise DomainError(f"--replace：没有这些身份证号的人员：{'、'.join(mask(x) for x in unknown)}")
    for x in wanted:
        allow_replace(exam, officers[x].id, reason, withdraw_document=withdraw_document, now=now)


CLI_HINT = ("如确需以机考成绩替换已有成绩，请加 --replace 身份证号 --reason 原因"
            "（可重复 --replace；已出具考试合格证明的还须加 --withdraw-document）；"
            "或加 --keep-recorded：保留其已有成绩，不参加机考")


# --- candidates, codes ---------------------------------------------------------------------------

def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def ensure_sittings(exam: Exam) -> list[Sitting]:
    """A sitting (seat and access code) for every candidate on the exam's list; seat order by unit
    and name. Returns all sittings in seat order."""
    sittings = list(db.session.scalars(select(Sitting).where(Sitting.exam_id == exam.id)))
    have = {s.officer_id for s in sittings}
    codes = {s.code for s in sittings}
    seat = max((s.seat for s in sittings), default=0)
    missing = db.session.scalars(
        select(Officer).join(ExamResult, ExamResult.officer_id == Officer.id)
        .where(ExamResult.exam_id == exam.id, ~_has_result())  # a recorded result: not admitted
        .order_by(Officer.unit_id, Officer.name, Officer.id))
    added = 0
    for officer in missing:
        if officer.id in have:
            continue
        code = new_code()
        while code in codes:
            code = new_code()
        codes.add(code)
        seat += 1
        s = Sitting(exam_id=exam.id, officer_id=officer.id, code=code, seat=seat, extra_minutes=0)
        db.session.add(s)
        sittings.append(s)
        added += 1
    if added:
        db.session.flush()
        record("update", "exam", exam.id, f"考试 {exam.title} 生成 {added} 个准考证号/登录码")
    return sorted(sittings, key=lambda s: s.seat)


def code_rows(exam: Exam) -> list[dict[str, Any]]:
    return [{"id_number": s.officer.id_number, "name": s.officer.name, "seat": s.seat, "code": s.code}
            for s in ensure_sittings(exam)]


def enrol(exam: Exam, *, all_on_post: bool = False, unit: str | None = None,
          id_numbers: list[str] | None = None, replace: list[str] | None = None, reason: str = "",
          withdraw_document: bool = False, keep_recorded: bool = False, now: datetime | None = None) -> int:
    """Put officers on the exam's list for its online sitting. One who already has a result in
    the exam is refused by name (nothing written) unless `replace` lists them (the online result
    replaces it, for `reason`) or `keep_recorded` (they keep it and do not sit)."""
    q = select(Officer).where(Officer.employment_status == "active")
    if all_on_post:
        q = q.where(Officer.on_enforcement_post.is_(True))
    elif unit:
        u = db.session.scalar(select(Unit).where(Unit.name == unit))
        if u is None:
            raise DomainError(f"没有名为“{unit}”的单位")
        q = q.where(Officer.unit_id == u.id)
    elif id_numbers:
        wanted = [x.strip().upper() for x in id_numbers]
        q = select(Officer).where(Officer.id_number.in_(wanted))
        unknown = sorted(set(wanted) - set(db.session.scalars(select(Officer.id_number).where(
            Officer.id_number.in_(wanted)))))
        if unknown:
            raise DomainError(f"没有这些身份证号的人员：{'、'.join(mask(x) for x in unknown)}")
    else:
        raise DomainError("请指定 --all-on-post、--unit 或 --id-number")
    officers = list(db.session.scalars(q.order_by(Officer.id)))
    chosen = {o.id for o in officers}
    replacing = {x.strip().upper() for x in replace or []}
    held = [c for c in held_back(exam) if c["officer_id"] in chosen and c["id_number"] not in replacing]
    if held and not keep_recorded:
        raise DomainError(f"{held_message(held)}。{CLI_HINT}")
    added = add_candidates(exam, officers)
    _replacements(exam, list(replace or []), reason, withdraw_document=withdraw_document, now=now or utcnow())
    return added


# --- the window ----------------------------------------------------------------------------------

def open_exam(exam: Exam, minutes: int, *, at: datetime, now: datetime, keep_recorded: bool = False,
              replace: list[str] | None = None, reason: str = "", withdraw_document: bool = False) -> OnlineExam:
    """Open the window. Candidates who already have a result are not admitted: refused by name
    unless `keep_recorded` (they keep it and do not sit — the exam page lists them above its open
    button) or `replace` lets the online result replace theirs (for `reason`)."""
    if minutes <= 0 or minutes > 24 * 60:
        raise DomainError(f"考试时长应在1到1440分钟之间（现为{minutes}）")
    online = online_of(exam)
    if online is None or not online.rules:
        raise DomainError("请先设置组卷规则（flask exams paper）")
    if online.closed_at:
        raise DomainError("考试已结束，不能再开放")
    _replacements(exam, list(replace or []), reason, withdraw_document=withdraw_document, now=now)
    held = held_back(exam)
    if held and not keep_recorded:
        raise DomainError(f"{held_message(held)}。{CLI_HINT}")
    kept_out = {c["officer_id"] for c in held}
    sittings = [s for s in ensure_sittings(exam) if s.officer_id not in kept_out]
    if not sittings:
        raise DomainError("考生均已有成绩，没有参加机考的考生" if kept_out else "考试还没有考生（flask exams enrol）")
    for s in sittings:
        draw_paper(online, s)
    online.opens_at = at
    online.ends_at = at + timedelta(minutes=minutes)
    db.session.flush()

    record("update", "exam", exam.id, f"开放考试 {exam.title}：{cn_datetime(at)} 起 {minutes} 分钟")
    return online


def ends_at(online: OnlineExam, sitting: Sitting) -> datetime:
    assert online.ends_at is not None
    end = online.ends_at + timedelta(minutes=sitting.extra_minutes or 0)
    if online.closed_at and online.closed_at < end:
        return online.closed_at
    return end


def _result(sitting: Sitting) -> ExamResult:
    r = db.session.scalar(select(ExamResult).where(ExamResult.exam_id == sitting.exam_id,
                                                   ExamResult.officer_id == sitting.officer_id))
    if r is None:  # removed from the list after the codes were printed: put back
        r = ExamResult(exam_id=sitting.exam_id, officer_id=sitting.officer_id, absent=False)
        db.session.add(r)
    return r


def item_score(item: PaperItem) -> float:
    return item.points if item.answer is not None and item.answer == item.key else 0.0


def submit(sitting: Sitting, *, by: str, now: datetime, ip: str | None = None) -> float:
    """Score the paper with what it holds and put the score into the exam's result.

    The state change is one conditional statement (UPDATE … WHERE submitted_at IS NULL): of two
    submissions at once only one changes the row, the other gets Conflict — on SQLite too, where
    SELECT … FOR UPDATE is a no-op. From that statement on this transaction holds the sitting (the
    row lock on PostgreSQL, the write lock on SQLite), so the answers read next are the final ones:
    an answer save is conditional on the same column (`save_answer`)."""
    done = db.session.execute(
        update(Sitting).where(Sitting.id == sitting.id, Sitting.submitted_at.is_(None))
        .values(submitted_at=now, submitted_by=by).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("已交卷，不能重复交卷")
    set_committed_value(sitting, "submitted_at", now)
    set_committed_value(sitting, "submitted_by", by)
    items = db.session.scalars(select(PaperItem).where(PaperItem.sitting_id == sitting.id)
                               .execution_options(populate_existing=True)).all()
    score = round(sum(item_score(i) for i in items), 4)
    # An answer whose request began after this one but was saved first is on the paper: the
    # submission is not dated before it.
    last = max((i.answered_at for i in items if i.answered_at is not None), default=now)
    if last > now:
        sitting.submitted_at = last
    sitting.score = score
    r = _result(sitting)
    old = "缺考" if r.absent else _num(r.score)
    r.score, r.absent = score, False
    db.session.flush()
    how = {"candidate": "考生交卷", "timeout": "时间到自动交卷", "close": "结束考试时自动交卷",
           "force": "监考强制交卷"}[by]
    record("update", "exam_sitting", sitting.id, f"{how}：{sitting.officer.name} 得分 {score:g}",
           {"score": [old, _num(score)]}, actor=_actor(sitting) if by == "candidate" else None, ip=ip)
    return score


def close_exam(exam: Exam, *, now: datetime, reason: str = "close") -> dict[str, int]:
    """End the window: every started paper is submitted; who never logged in is absent."""
    online = online_of(exam)
    if online is None or online.opens_at is None:
        raise DomainError("此考试还没有开放")
    if online.closed_at:
        raise DomainError("考试已经结束")
    # Conditional like `submit`: of two closings at once (two pages finding the time up) one ends it.
    done = db.session.execute(update(OnlineExam).where(OnlineExam.id == online.id, OnlineExam.closed_at.is_(None))
                              .values(closed_at=now).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("考试已经结束")
    set_committed_value(online, "closed_at", now)
    submitted = absent = 0
    sittings = {s.officer_id: s for s in db.session.scalars(
        select(Sitting).where(Sitting.exam_id == exam.id).with_for_update())}
    for s in sittings.values():
        if s.submitted_at is None and s.first_login_at is not None:
            try:
                submit(s, by="timeout" if reason == "timeout" else "close", now=now)
            except Conflict:  # the candidate submitted at this very moment
                continue
            submitted += 1
    # Who never logged in is absent — unless a result was recorded apart from the sitting: it stays.
    for r in db.session.scalars(select(ExamResult).where(ExamResult.exam_id == exam.id, ~_has_result())):
        s = sittings.get(r.officer_id)
        if s is None or s.first_login_at is None:
            r.score, r.absent = None, True
            absent += 1
    if online.ends_at is None or online.ends_at > now:
        online.ends_at = now
    db.session.flush()
    record("update", "exam", exam.id, f"考试 {exam.title} 结束：自动交卷 {submitted} 人，缺考 {absent} 人")
    return {"submitted": submitted, "absent": absent}


def finish_if_due(exam: Exam, now: datetime) -> bool:
    """Close an exam whose window (with every extension) has passed. True when it did."""
    online = online_of(exam)
    if online is None or online.closed_at or online.ends_at is None:
        return False
    extra = db.session.scalar(select(func.max(Sitting.extra_minutes)).where(Sitting.exam_id == exam.id)) or 0
    if now < online.ends_at + timedelta(minutes=extra):
        return False
    try:
        close_exam(exam, now=now, reason="timeout")
    except Conflict:  # closed by another request at this very moment
        return False
    return True


CLOSE_CHECKS.append(finish_if_due)  # the exam page closes an online exam whose time is up


def state(online: OnlineExam | None, now: datetime) -> str:
    if online is None or not online.rules:
        return "draft"
    if online.closed_at:
        return "closed"
    if online.opens_at is None:
        return "ready"
    if now < online.opens_at:
        return "scheduled"
    if online.ends_at and now >= online.ends_at:
        return "ending"
    return "open"


STATE_LABELS = {"draft": "未组卷", "ready": "已组卷，未开放", "scheduled": "已定时开放", "open": "考试中",
                "ending": "时间已到（延时考生作答中）", "closed": "已结束"}


def extend(sitting: Sitting, minutes: int, reason: str, *, now: datetime) -> None:
    online = db.session.scalar(select(OnlineExam).where(OnlineExam.exam_id == sitting.exam_id))
    reason = (reason or "").strip()
    if online is None or online.ends_at is None:
        raise DomainError("考试还没有开放")
    if online.closed_at:
        raise Conflict("考试已结束，不能延时")
    if sitting.submitted_at:
        raise Conflict(f"{sitting.officer.name} 已交卷，不能延时")
    if minutes <= 0 or minutes > 240:
        raise DomainError("延长时间应在1到240分钟之间")
    if not reason:
        raise DomainError("请填写延时原因")
    old = sitting.extra_minutes or 0
    sitting.extra_minutes = old + minutes
    db.session.flush()
    record("update", "exam_sitting", sitting.id, f"为考生 {sitting.officer.name} 延长 {minutes} 分钟：{reason}",
           {"extra_minutes": [old, sitting.extra_minutes]})


def force_submit(sitting: Sitting, *, now: datetime) -> float:
    online = db.session.scalar(select(OnlineExam).where(OnlineExam.exam_id == sitting.exam_id))
    if online is None or online.closed_at:
        raise Conflict("考试已结束")
    if sitting.submitted_at:
        raise Conflict(f"{sitting.officer.name} 已交卷")
    if sitting.first_login_at is None:
        raise DomainError(f"{sitting.officer.name} 还没有登录，无法交卷")
    return submit(sitting, by="force", now=now)


# --- the candidate side --------------------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _actor(sitting: Sitting) -> str:
    return f"考生:{mask(sitting.officer.id_number)}"


def login(id_number: str, code: str, *, now: datetime, ip: str) -> tuple[str, Sitting, OnlineExam]:
    """Check the pair and the window; a new token (an earlier one stops working). Raises
    DomainError (401), Forbidden (403)."""
    idn = (id_number or "").strip().upper()
    code = re.sub(r"\s+", "", code or "").upper()
    found = list(db.session.scalars(select(Sitting).join(Officer, Officer.id == Sitting.officer_id)
                                    .where(Officer.id_number == idn, Sitting.code == code)))
    if not found:
        record("login_failed", "exam_sitting", None, f"考生登录失败：{mask(idn) if idn else '（空）'}",
               actor=f"考生:{mask(idn) if len(idn) == 18 else '?'}", ip=ip)
        raise DomainError("身份证号或登录码不正确")
    pairs = [(s, db.session.scalar(select(OnlineExam).where(OnlineExam.exam_id == s.exam_id))) for s in found]
    pairs.sort(key=lambda p: (p[1] is None or p[1].closed_at is not None, -(p[0].id)))
    sitting, online = pairs[0]
    return enter(sitting, online, now=now, ip=ip)


def enter(sitting: Sitting, online: OnlineExam | None, *, now: datetime, ip: str) -> tuple[str, Sitting, OnlineExam]:
    """The candidate of `sitting` enters the room (after the code, or signed in with their own
    account: app/me): the window checked, the paper drawn, a new token. Raises Forbidden (403)."""
    if online is None or online.opens_at is None or now < online.opens_at:
        raise Forbidden("考试尚未开始")
    if sitting.submitted_at is not None:
        raise Forbidden("您已交卷，不能再次登录")
    if not sitting.replaces_result:
        r = db.session.scalar(select(ExamResult).where(ExamResult.exam_id == sitting.exam_id,
                                                       ExamResult.officer_id == sitting.officer_id))
        if r is not None and (r.absent or r.score is not None):
            raise Forbidden(f"您在本考试已有成绩（{outcome_text(r.score, r.absent)}），不参加机考；"
                            "如有疑问，请联系监考人员")
    if online.closed_at is not None or now >= ends_at(online, sitting):
        if online.closed_at is None and sitting.first_login_at is not None:
            try:
                submit(sitting, by="timeout", now=now)
            except Conflict:  # submitted at this very moment
                pass
        raise Forbidden("考试已结束")
    draw_paper(online, sitting)
    token = secrets.token_urlsafe(32)
    again = sitting.first_login_at is not None
    sitting.token_hash = _hash(token)
    sitting.first_login_at = sitting.first_login_at or now
    sitting.last_seen_at = now
    db.session.flush()
    record("login", "exam_sitting", sitting.id, f"考生{'再次' if again else ''}登录：{sitting.officer.name}"
           f"（座位 {sitting.seat}）", actor=_actor(sitting), ip=ip)
    return token, sitting, online


def by_token(token: str, *, lock: bool = False) -> tuple[Sitting, OnlineExam] | None:
    if not token:
        return None
    # One statement: the sitting (locked, so a save and a submission of the same candidate take
    # turns), its exam's window and the candidate (for the audit rows).
    q = (select(Sitting, OnlineExam).join(OnlineExam, OnlineExam.exam_id == Sitting.exam_id)
         .options(joinedload(Sitting.officer, innerjoin=True)).where(Sitting.token_hash == _hash(token)))
    if lock:
        q = q.with_for_update(of=Sitting)
    row = db.session.execute(q).first()
    return (row[0], row[1]) if row is not None else None


def ensure_writable(sitting: Sitting, online: OnlineExam, now: datetime) -> None:
    """Conflict once the paper is submitted, the exam closed or the candidate's time up (then the
    paper is submitted with what it holds)."""
    if sitting.submitted_at is not None:
        raise Conflict("已交卷，答案不能再修改")
    if online.closed_at is not None:
        raise Conflict("考试已结束")
    if now >= ends_at(online, sitting):
        submit(sitting, by="timeout", now=now)
        raise Conflict("考试时间已到，已按保存的答案自动交卷")


def paper_json(sitting: Sitting, online: OnlineExam) -> dict[str, Any]:
    """What the candidate's browser gets: never the key, in any form."""
    return {
        "questions": [{"id": i.id, "type": i.type, "stem": i.stem,
                       "options": {letter: text for letter, _orig, text in i.options},
                       "points": i.points} for i in sitting.items],
        "answers": {str(i.id): i.answer for i in sitting.items if i.answer is not None},
        "ends_at": iso(ends_at(online, sitting)),
    }


def iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def save_answer(sitting: Sitting, online: OnlineExam, item_id: int, raw: Any, *, now: datetime, ip: str
                ) -> None:
    """Validate and save one answer at once (None or "" clears it). DomainError → 400,
    Conflict → 409, LookupError → 404."""
    ensure_writable(sitting, online, now)
    item = db.session.scalar(select(PaperItem).where(PaperItem.id == item_id, PaperItem.sitting_id == sitting.id))
    if item is None:
        raise LookupError(item_id)
    if raw is not None and not isinstance(raw, str):
        raise DomainError("答案应为文字，例如 \"B\"、\"ABD\" 或 \"对\"")
    if raw is None or not raw.strip():
        value = None
    elif item.type == "true_false":
        if raw.strip() not in ("对", "错"):
            raise DomainError("判断题的答案应为“对”或“错”")
        value = raw.strip()
    else:
        value = read_answer(item.type, raw, "".join(letter for letter, _o, _t in item.options))
    old = item.answer
    if old == value:
        return
    # Conditional on the paper still being open, in the statement itself (see `submit`): an answer
    # racing a submission either lands before it is scored or is refused.
    still_open = (select(Sitting.id).join(OnlineExam, OnlineExam.exam_id == Sitting.exam_id)
                  .where(Sitting.id == sitting.id, Sitting.submitted_at.is_(None), OnlineExam.closed_at.is_(None))
                  .exists())
    saved = db.session.execute(
        update(PaperItem).where(PaperItem.id == item.id, PaperItem.sitting_id == sitting.id, still_open)
        .values(answer=value, answered_at=now).execution_options(synchronize_session=False))
    if saved.rowcount != 1:
        raise Conflict("已交卷，答案不能再修改")
    set_committed_value(item, "answer", value)
    set_committed_value(item, "answered_at", now)
    record("update", "exam_sitting", sitting.id, f"作答第 {item.position} 题",
           {"answer": [old, value], "item": [None, item.id]}, actor=_actor(sitting), ip=ip)


def submit_by_candidate(sitting: Sitting, online: OnlineExam, *, now: datetime, ip: str) -> dict[str, Any]:
    if sitting.submitted_at is not None:
        raise Conflict("已交卷，不能重复交卷")
    ensure_writable(sitting, online, now)
    score = submit(sitting, by="candidate", now=now, ip=ip)
    exam = db.session.get(Exam, sitting.exam_id)
    assert exam is not None
    shown = online.show_score
    return {"score": score if shown else None, "max_score": exam.max_score,
            "passed": (score >= exam.pass_score) if shown else None}


# --- results, monitor, statistics ----------------------------------------------------------------

def results(exam: Exam) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(ExamResult, Officer).join(Officer, Officer.id == ExamResult.officer_id)
        .where(ExamResult.exam_id == exam.id).order_by(Officer.unit_id, Officer.name, Officer.id))
    return [{"id_number": o.id_number, "name": o.name, "score": r.score, "passed": r.passed,
             "absent": r.absent} for r, o in rows]


def monitor(exam: Exam, now: datetime) -> list[dict[str, Any]]:
    online = online_of(exam)
    counts = dict(db.session.execute(
        select(PaperItem.sitting_id, func.count(PaperItem.answer)).join(Sitting)
        .where(Sitting.exam_id == exam.id).group_by(PaperItem.sitting_id)).all())
    totals = dict(db.session.execute(
        select(PaperItem.sitting_id, func.count()).join(Sitting)
        .where(Sitting.exam_id == exam.id).group_by(PaperItem.sitting_id)).all())
    recorded = set(db.session.scalars(select(ExamResult.officer_id).where(ExamResult.exam_id == exam.id,
                                                                          _has_result())))
    rows = []
    for s in db.session.scalars(select(Sitting).where(Sitting.exam_id == exam.id).order_by(Sitting.seat)):
        if s.submitted_at:
            status = "submitted"
        elif s.officer_id in recorded and not s.replaces_result:
            status = "held"
        elif s.first_login_at:
            status = "in"
        else:
            status = "absent" if online and online.closed_at else "waiting"
        left = None
        if online and online.ends_at and status == "in":
            left = max(0, int((ends_at(online, s) - now).total_seconds()))
        rows.append({"sitting": s, "id": s.id, "seat": s.seat, "name": s.officer.name,
                     "id_masked": mask(s.officer.id_number), "status": status,
                     "answered": counts.get(s.id, 0), "total": totals.get(s.id, 0), "seconds_left": left,
                     "extra_minutes": s.extra_minutes, "score": s.score, "last_seen_at": s.last_seen_at})
    return rows


MONITOR_STATUS = {"held": "不参加机考（已有成绩）", "waiting": "未登录", "in": "作答中", "submitted": "已交卷",
                  "absent": "缺考"}


def statistics(exam: Exam) -> list[dict[str, Any]]:
    """Per question: how many answered it, the correct rate, the most chosen wrong option (in the
    question's own letters, whatever order each candidate saw)."""
    items = db.session.scalars(select(PaperItem).join(Sitting).where(
        Sitting.exam_id == exam.id, Sitting.submitted_at.is_not(None)).order_by(PaperItem.position))
    stats: dict[Any, dict[str, Any]] = {}
    for i in items:
        key = (i.question_id, i.question_version) if i.question_id else ("stem", i.stem)
        st = stats.setdefault(key, {"stem": i.stem, "type": i.type, "seen": 0, "correct": 0, "blank": 0,
                                    "wrong": {}, "position": i.position,
                                    "options": {orig: text for _l, orig, text in i.options}})
        st["seen"] += 1
        if i.answer is None:
            st["blank"] += 1
        elif i.answer == i.key:
            st["correct"] += 1
        else:
            if i.type == "true_false":
                orig = i.answer
            else:
                to_orig = {letter: o for letter, o, _t in i.options}
                orig = "".join(sorted(to_orig.get(c, c) for c in i.answer))
            st["wrong"][orig] = st["wrong"].get(orig, 0) + 1
    out = []
    for st in stats.values():
        wrong = max(st["wrong"].items(), key=lambda kv: (kv[1], kv[0]), default=None)
        out.append({"stem": st["stem"], "type": st["type"], "seen": st["seen"], "correct": st["correct"],
                    "blank": st["blank"], "rate": st["correct"] / st["seen"] if st["seen"] else 0.0,
                    "wrong_choice": wrong[0] if wrong else None, "wrong_count": wrong[1] if wrong else 0})
    out.sort(key=lambda s: s["rate"])
    return out


def answer_sheet(sitting: Sitting, exam: Exam) -> dict[str, Any]:
    """Plain data for the answer sheet PDF (only for a submitted paper)."""
    return {"exam": exam.title, "held_on": exam.held_on, "name": sitting.officer.name,
            "id_masked": mask(sitting.officer.id_number), "seat": sitting.seat, "score": sitting.score,
            "max_score": exam.max_score, "submitted_at": sitting.submitted_at,
            "submitted_by": sitting.submitted_by,
            "items": [{"position": i.position, "type": i.type, "stem": i.stem,
                       "options": [(letter, text) for letter, _o, text in i.options],
                       "answer": i.answer, "key": i.key, "points": i.points, "score": item_score(i)}
                      for i in sitting.items]}

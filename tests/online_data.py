"""A small question bank and an online exam ready to open, shared by the online exam tests."""

from __future__ import annotations

import csv
import io

HEADERS = ["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "分值", "类别", "依据"]
BANK = [
    ["单选", "行政处罚由几名执法人员实施？", "一名", "两名以上", "三名", "不限", "B", "2", "公共法律知识",
     "行政处罚法第42条"],
    ["单选", "执法证件的有效期一般为几年？", "一年", "三年", "五年", "十年", "C", "2", "公共法律知识", ""],
    ["多选", "下列哪些属于行政处罚？", "警告", "罚款", "记过", "没收违法所得", "ABD", "4", "专门法律知识", ""],
    ["判断", "执法人员可以不出示证件。", "", "", "", "", "错", "1", "公共法律知识", ""],
    ["判断", "当事人有权陈述和申辩。", "", "", "", "", "对", "1", "公共法律知识", ""],
]
# The right answers of the fixed paper drawn from BANK by RULES, by stem.
KEY = {row[1]: row[6] for row in BANK}
RULES = ["单选=2x2", "多选=1x4", "判断=2x1"]  # 4 + 4 + 2 = 10


def csv_bytes(rows: list[list[str]], headers: list[str] = HEADERS) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(headers)
    w.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def exam_with_bank(app, runner, tmp_path, officers: int, *, fixed: bool = True, minutes: int = 60,
                   open_now: bool = True):
    """Import BANK, create an exam (max 10, pass 6), enrol `officers` new officers, set the paper,
    open it. Returns (exam_id, [{"id_number", "name", "seat", "code"}])."""
    import json

    from app.extensions import db
    from tests.factories import OfficerFactory, UnitFactory

    path = tmp_path / "bank.csv"
    path.write_bytes(csv_bytes(BANK))
    res = runner.invoke(args=["exams", "import-questions", str(path)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(args=["exams", "create", "法治理论考试", "--date", "2026-06-15", "--kind", "annual",
                              "--max-score", "10", "--pass-score", "6"])
    assert res.exit_code == 0, res.output
    exam_id = int(res.output.strip().splitlines()[-1])
    with app.app_context():
        unit = UnitFactory(name="机考测试科")
        ids = [OfficerFactory(unit=unit, name=f"考生{i}").id_number for i in range(officers)]
        db.session.commit()
    args = ["exams", "enrol", str(exam_id)]
    for x in ids:
        args += ["--id-number", x]
    res = runner.invoke(args=args)
    assert res.exit_code == 0, res.output
    args = ["exams", "paper", str(exam_id)] + [a for r in RULES for a in ("--rule", r)]
    res = runner.invoke(args=args + (["--fixed"] if fixed else []))
    assert res.exit_code == 0, res.output
    res = runner.invoke(args=["exams", "codes", str(exam_id), "--format", "json"])
    assert res.exit_code == 0, res.output
    codes = json.loads(res.output)
    if open_now:
        res = runner.invoke(args=["exams", "open", str(exam_id), "--minutes", str(minutes)])
        assert res.exit_code == 0, res.output
    return exam_id, codes

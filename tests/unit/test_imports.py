"""Imports of officers and certificates (docs/domain.md 导入): all or nothing, every problem with its row
and column, Chinese or English headers, .xlsx or .csv."""

from __future__ import annotations

import csv
from datetime import date, datetime

import openpyxl
import pytest
from sqlalchemy import func, select

from app.importing import readers
from app.importing.readers import ImportRefused
from app.imports.services import import_certificates, import_officers, template_workbook
from app.models.audit import AuditEvent
from app.models.certificates import Certificate, CertificateEvent
from app.models.officers import Officer, Unit
from app.rules import compliance
from tests.conftest import TODAY
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory, id_number

OFFICER_HEAD = ["姓名", "身份证号", "单位", "职务", "编制类型", "学历", "执法岗位", "在职状态", "联系电话", "工号"]
CERT_HEAD = ["身份证号", "证件类型", "证件编号", "发证机关", "发证日期", "有效期至", "执法类别", "执法区域", "状态",
             "状态日期"]


def xlsx(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def csv_file(path, rows, bom=True):
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def counts(db):
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Officer, Certificate, Unit, CertificateEvent, AuditEvent))


def refused(db, fn, path, **kw):
    """Run an import that must be refused; assert nothing at all was written; return the problems."""
    before = counts(db)
    with pytest.raises(ImportRefused) as info:
        fn(path, path.name, today=TODAY, **kw)
    db.session.rollback()
    assert counts(db) == before
    return info.value.problems


def has(problems, row, column, text):
    assert any(p.row == row and p.column == column and text in p.message for p in problems), \
        [str(p) for p in problems]


# --- officers ------------------------------------------------------------------------------------


def test_officers_with_chinese_headers(db, tmp_path):
    a, b = id_number(gender="M"), id_number(gender="F")
    path = xlsx(tmp_path / "o.xlsx", [
        OFFICER_HEAD,
        ["张三", a, "城市管理科", "科员", "行政编制", "本科", "是", "在职", 13800000000, "A001"],
        ["李四", b.lower(), "南坪社区", "", "合同制", "", "否", "退休", "023-1234567", None],
    ])
    result = import_officers(path, path.name, today=TODAY)
    db.session.commit()
    assert (result.created, result.updated) == (2, 0)
    assert result.units_created == ["城市管理科", "南坪社区"]
    zhang = db.session.scalar(select(Officer).where(Officer.id_number == a))
    assert (zhang.name, zhang.unit.name, zhang.gender, zhang.phone, zhang.employee_no) == (
        "张三", "城市管理科", "M", "13800000000", "A001")
    assert zhang.birth_date == date(int(a[6:10]), int(a[10:12]), int(a[12:14]))
    li = db.session.scalar(select(Officer).where(Officer.name == "李四"))
    assert (li.establishment, li.on_enforcement_post, li.employment_status, li.gender) == (
        "contract", False, "retired", "F")
    assert li.id_number == b.upper()
    assert db.session.scalar(select(Unit.kind).where(Unit.name == "南坪社区")) == "community"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
    assert event.summary.startswith("导入执法人员 2 条（新增 2，更新 0）")
    assert event.entity_type == "officer"


def test_officers_with_english_headers_in_any_order_and_codes(db, tmp_path):
    a = id_number()
    path = xlsx(tmp_path / "o.xlsx", [
        ["unit", "employee_no", "ID_Number", "name", "establishment", "on_enforcement_post"],
        ["综合执法队", "B7", a, "王五", "public_institution", "yes"],
    ])
    result = import_officers(path, path.name, today=TODAY)
    assert result.created == 1
    wang = db.session.scalar(select(Officer).where(Officer.id_number == a))
    assert (wang.name, wang.unit.name, wang.establishment, wang.employee_no, wang.employment_status) == (
        "王五", "综合执法队", "public_institution", "B7", "active")


def test_officers_csv_with_bom_and_without(db, tmp_path):
    a, b = id_number(), id_number()
    path = csv_file(tmp_path / "o.csv", [["姓名", "身份证号", "单位", "执法岗位"], ["赵六", a, "城市管理科", "1"]])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert import_officers(path, path.name, today=TODAY).created == 1
    plain = csv_file(tmp_path / "p.csv", [["姓名", "身份证号", "单位"], ["钱七", b, "城市管理科"]], bom=False)
    assert import_officers(plain, plain.name, today=TODAY).created == 1
    assert set(db.session.scalars(select(Officer.name))) == {"赵六", "钱七"}
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 1


def test_existing_id_updates_that_officer(db, tmp_path):
    officer = OfficerFactory(name="张三", position="科员", employee_no="A1", establishment="public_institution")
    db.session.commit()
    version = officer.version
    path = xlsx(tmp_path / "o.xlsx", [
        ["姓名", "身份证号", "单位", "职务", "在职状态"],
        ["张三", officer.id_number.lower(), "新单位", "科长", "调离"],
    ])
    result = import_officers(path, path.name, today=TODAY)
    db.session.commit()
    assert (result.created, result.updated) == (0, 1)
    db.session.refresh(officer)
    assert (officer.position, officer.unit.name, officer.employment_status) == ("科长", "新单位", "transferred")
    assert officer.status_changed_on == TODAY
    # columns not in the file keep their values
    assert (officer.employee_no, officer.establishment) == ("A1", "public_institution")
    assert officer.version == version + 1
    assert db.session.scalar(select(func.count()).select_from(Officer)) == 1
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update",
                                                        AuditEvent.entity_id == officer.id))
    assert update.changes["position"] == ["科员", "科长"]
    # the same file again changes nothing
    again = import_officers(path, path.name, today=TODAY)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_wrong_check_character_refused_with_row_and_column(db, tmp_path):
    good = id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    UnitFactory(name="已有科室")
    db.session.commit()
    path = xlsx(tmp_path / "o.xlsx", [
        ["姓名", "身份证号", "单位", "编制类型"],
        ["张三", id_number(), "全新单位", "行政编制"],
        ["李四", bad, "已有科室", "行政编制"],
        ["", id_number(), "已有科室", "编外"],
    ])
    problems = refused(db, import_officers, path)
    has(problems, 3, "身份证号", "校验位")
    # every problem is listed, not just the first
    has(problems, 4, "姓名", "姓名不能为空")
    has(problems, 4, "编制类型", "未知的编制类型“编外”")
    assert [p.row for p in problems] == [3, 4, 4]  # in file order
    assert str(problems[0]).startswith("第 3 行，列“身份证号”：身份证号校验位错误")
    assert db.session.scalar(select(Unit).where(Unit.name == "全新单位")) is None


def test_duplicate_id_in_file_is_an_error_on_the_second_row(db, tmp_path):
    a = id_number()
    path = xlsx(tmp_path / "o.xlsx", [
        ["姓名", "身份证号", "单位"], ["张三", a, "甲科"], ["王五", id_number(), "甲科"], ["张三", a.lower(), "乙科"],
    ])
    problems = refused(db, import_officers, path)
    assert len(problems) == 1
    has(problems, 4, "身份证号", "与第 2 行重复")


def test_employee_number_unique_in_file_and_database(db, tmp_path):
    OfficerFactory(name="老员工", employee_no="E1")
    db.session.commit()
    path = xlsx(tmp_path / "o.xlsx", [
        ["姓名", "身份证号", "单位", "工号"],
        ["甲", id_number(), "科", "E1"], ["乙", id_number(), "科", "E2"], ["丙", id_number(), "科", "E2"],
    ])
    problems = refused(db, import_officers, path)
    has(problems, 2, "工号", "已被“老员工”使用")
    has(problems, 4, "工号", "与第 3 行重复")


def test_missing_column_refused_naming_the_columns_not_recognised(db, tmp_path):
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "爱好"], ["张三", id_number(), "钓鱼"]])
    problems = refused(db, import_officers, path)
    assert [str(p) for p in problems] == [
        "第 1 行：缺少必填的列“单位”（或 unit）；文件中未识别的列：爱好"]


def test_values_in_several_spellings(db, tmp_path):
    a, b, c = id_number(), id_number(), id_number()
    path = xlsx(tmp_path / "o.xlsx", [
        ["name", "id_number", "unit", "on_enforcement_post", "employment_status", "education", "phone"],
        ["甲", a, "科", "TRUE", "active", "研究生", 13800000000.0],
        ["乙", b, "科", 0, "在职", "bachelor", "13900000000"],
        ["丙", c, "科", True, "辞职", "大专", None],
    ])
    import_officers(path, path.name, today=TODAY)
    got = {o.name: o for o in db.session.scalars(select(Officer))}
    assert got["甲"].on_enforcement_post is True and got["甲"].phone == "13800000000"
    assert got["甲"].education == "postgraduate"
    assert got["乙"].on_enforcement_post is False and got["乙"].id_number == b
    assert got["丙"].employment_status == "resigned" and got["丙"].on_enforcement_post is True


def test_id_number_stored_as_excel_number_is_explained(db, tmp_path):
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], ["甲", int(id_number()[:17] + "1"), "科"]])
    problems = refused(db, import_officers, path)
    has(problems, 2, "身份证号", "文本")


def test_bad_yes_no_value(db, tmp_path):
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位", "执法岗位"], ["甲", id_number(), "科", "也许"]])
    has(refused(db, import_officers, path), 2, "执法岗位", "应为 是/否")


def test_dry_run_writes_nothing_but_reports(db, tmp_path):
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位"], ["甲", id_number(), "新科室"]])
    before = counts(db)
    result = import_officers(path, path.name, today=TODAY, dry_run=True)
    db.session.commit()
    assert counts(db) == before
    assert (result.created, result.units_created) == (1, ["新科室"])
    assert "未写入" in result.summary()


# --- files ---------------------------------------------------------------------------------------


def test_text_file_named_xlsx(db, tmp_path):
    path = tmp_path / "名单.xlsx"
    path.write_text("姓名,身份证号\n张三,1\n", encoding="utf-8")
    problems = refused(db, import_officers, path)
    assert [p.message for p in problems] == ["文件不是有效的 Excel (.xlsx) 文件"]


def test_zip_that_is_not_a_workbook(db, tmp_path):
    import zipfile

    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    assert [p.message for p in refused(db, import_officers, path)] == ["文件不是有效的 Excel (.xlsx) 文件"]


def test_empty_sheet_and_header_only(db, tmp_path):
    empty = xlsx(tmp_path / "empty.xlsx", [])
    assert "文件是空的" in refused(db, import_officers, empty)[0].message
    header = xlsx(tmp_path / "header.xlsx", [OFFICER_HEAD])
    assert "只有表头" in refused(db, import_officers, header)[0].message
    blank_csv = tmp_path / "b.csv"
    blank_csv.write_bytes(b"\xef\xbb\xbf")
    assert "文件是空的" in refused(db, import_certificates, blank_csv)[0].message


def test_unsupported_extension(db, tmp_path):
    path = tmp_path / "old.numbers"
    path.write_bytes(b"PK\x03\x04")
    assert "不支持的文件类型“.numbers”" in refused(db, import_officers, path)[0].message
    broken = tmp_path / "old.xls"
    broken.write_bytes(b"\xd0\xcf\x11\xe0")  # .xls is read now; a broken one is refused
    assert refused(db, import_officers, broken)[0].message == "文件不是有效的 Excel 97-2003 (.xls) 文件"


def test_gbk_csv_from_chinese_excel_is_read(db, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(f"姓名,身份证号,单位\n张三,{id_number()},城市管理科\n".encode("gbk"))
    assert import_officers(path, path.name, today=TODAY).created == 1
    assert db.session.scalar(select(Officer.name)) == "张三"


def test_workbook_reader_values(tmp_path):
    """The library reader (python-calamine) gives what the cells hold: text, whole numbers without
    '.0', dates (also in a Chinese date format), booleans; columns stay where they are."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["文本", "整数", "小数", "日期", "布尔", "空"])
    ws.append(["张三", 13800000000, 1.5, datetime(2024, 3, 1), True, None])
    ws.append([None, None, None, None, None, None])
    ws.append(["李四", -3, 2e20, date(2024, 2, 29), False, "x"])
    ws["H5"] = "远处的格子"
    ws["D6"] = datetime(2024, 3, 1)
    ws["D6"].number_format = 'yyyy"年"m"月"d"日"'
    wb.save(tmp_path / "m.xlsx")
    rows = list(readers.raw_rows(tmp_path / "m.xlsx", "m.xlsx"))
    assert [readers.to_text(v) for v in rows[1][:5]] == ["张三", "13800000000", "1.5", "2024-03-01", "是"]
    assert readers.to_date(rows[3][3]) == date(2024, 2, 29)
    assert rows[4][7] == "远处的格子"
    assert readers.to_date(rows[5][3]) == date(2024, 3, 1)


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-03-01", date(2024, 3, 1)), ("2024/3/1", date(2024, 3, 1)), ("2024年3月1日", date(2024, 3, 1)),
    ("2024.3.1", date(2024, 3, 1)), ("20240301", date(2024, 3, 1)), ("2024-03-01 00:00:00", date(2024, 3, 1)),
    (datetime(2024, 3, 1), date(2024, 3, 1)), (None, None), ("", None),
])
def test_date_spellings(text, expected):
    assert readers.to_date(text) == expected


@pytest.mark.parametrize(("text", "message"), [("2024-02-30", "不存在"), ("2023年2月29日", "不存在"),
                                               ("明天", "不是有效日期"), ("3/1/2024", "不是有效日期")])
def test_bad_dates(text, message):
    with pytest.raises(readers.CellError, match=message):
        readers.to_date(text)


def test_templates_import_back(db):
    import io

    def filled(data: bytes, cell: str, value) -> bytes:
        """The template with one example cell changed, as a person fills it in."""
        wb = openpyxl.load_workbook(io.BytesIO(data))
        wb.active[cell] = value
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    officers = template_workbook("officers")
    wb = openpyxl.load_workbook(io.BytesIO(officers))
    assert [c.value for c in wb.active[1]] == [*OFFICER_HEAD, "任执法岗位日期", "原法定退休年龄"]
    assert import_officers(filled(officers, "A2", "李四"), "t.xlsx", today=TODAY).created == 1
    result = import_certificates(filled(template_workbook("certificates"), "C2", "11010024000002"),
                                 "t.xlsx", today=TODAY)
    assert result.created == 1
    cert = db.session.scalar(select(Certificate))
    assert (cert.number, cert.issued_on, cert.officer.name) == ("11010024000002", date(2024, 3, 1), "李四")


# --- certificates --------------------------------------------------------------------------------


def cert_row(id_no, number, issued="2024-01-01", expires="2029-12-31", status="", status_date=None, kind=""):
    return [id_no, kind, number, "重庆市人民政府", issued, expires, "市容", "渝中区", status, status_date]


def test_certificates_with_history_and_flags(db, tmp_path):
    held, suspended = OfficerFactory(name="持证人"), OfficerFactory(name="被暂扣")
    db.session.commit()
    path = xlsx(tmp_path / "c.xlsx", [
        CERT_HEAD,
        cert_row(held.id_number, "A-1", issued=datetime(2024, 1, 1), expires=datetime(2029, 12, 31)),
        cert_row(suspended.id_number, "A-2", status="暂扣", status_date="2026年5月1日"),
        cert_row(held.id_number, "S-1", kind="行政执法监督证", issued="2024/3/1", expires="2026/8/1"),
    ])
    result = import_certificates(path, path.name, today=TODAY)
    db.session.commit()
    assert (result.created, result.updated) == (3, 0)
    a2 = db.session.scalar(select(Certificate).where(Certificate.number == "A-2"))
    assert a2.status == "suspended"
    assert [(e.kind, e.to_status, e.effective_on) for e in a2.events] == [
        ("issue", "valid", date(2024, 1, 1)), ("suspend", "suspended", date(2026, 5, 1))]
    a1 = db.session.scalar(select(Certificate).where(Certificate.number == "A-1"))
    assert [(e.kind, e.effective_on) for e in a1.events] == [("issue", date(2024, 1, 1))]
    assert a1.issuing_authority == "重庆市人民政府" and a1.area == "渝中区"
    s1 = db.session.scalar(select(Certificate).where(Certificate.number == "S-1"))
    assert s1.kind == "supervision"
    flags = compliance.list_flags(compliance.Params(today=TODAY, include_training=False))
    mine = {(f["name"], f["flag"], f["reason"]) for f in flags if f["officer_id"] in (held.id, suspended.id)}
    assert mine == {("被暂扣", "UNLICENSED", "suspended")}
    assert db.session.scalar(select(AuditEvent.summary).where(AuditEvent.action == "import")) == \
        "导入证件 3 条（新增 3，更新 0）"


def test_status_date_defaults_to_import_day(db, tmp_path):
    o = OfficerFactory()
    db.session.commit()
    path = xlsx(tmp_path / "c.xlsx", [CERT_HEAD, cert_row(o.id_number, "X1", status="cancelled")])
    import_certificates(path, path.name, today=TODAY)
    cert = db.session.scalar(select(Certificate))
    assert [(e.kind, e.effective_on) for e in cert.events] == [("issue", date(2024, 1, 1)), ("cancel", TODAY)]


def test_existing_certificate_key_updates_its_fields(db, tmp_path):
    cert = CertificateFactory(number="K-1", area="旧区域")
    db.session.commit()
    path = xlsx(tmp_path / "c.xlsx", [CERT_HEAD, cert_row(cert.officer.id_number, "K-1", issued="2024-01-01",
                                                         expires="2030-06-30")])
    result = import_certificates(path, path.name, today=TODAY)
    db.session.commit()
    assert (result.created, result.updated) == (0, 1)
    db.session.refresh(cert)
    assert (cert.area, cert.expires_on) == ("渝中区", date(2030, 6, 30))
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_impossible_date_refused(db, tmp_path):
    o = OfficerFactory()
    db.session.commit()
    path = xlsx(tmp_path / "c.xlsx", [CERT_HEAD, cert_row(o.id_number, "D1", issued="2024-02-30")])
    problems = refused(db, import_certificates, path)
    has(problems, 2, "发证日期", "日期“2024-02-30”不存在")


def test_expiry_before_issue_refused(db, tmp_path):
    o = OfficerFactory()
    db.session.commit()
    path = xlsx(tmp_path / "c.xlsx", [CERT_HEAD, cert_row(o.id_number, "D1"),
                                      cert_row(o.id_number, "D2", issued="2024-05-01", expires="2024-04-30")])
    has(refused(db, import_certificates, path), 3, "有效期至", "早于发证日期")


def test_certificate_for_unknown_officer_refused(db, tmp_path):
    o = OfficerFactory()
    db.session.commit()
    stranger = id_number()
    path = xlsx(tmp_path / "c.xlsx", [CERT_HEAD, cert_row(o.id_number, "D1"), cert_row(stranger, "D2")])
    problems = refused(db, import_certificates, path)
    has(problems, 3, "身份证号", "没有身份证号为")
    assert stranger not in str(problems)  # masked


def test_duplicate_certificate_number_refused(db, tmp_path):
    o, other = OfficerFactory(), OfficerFactory(name="别人")
    CertificateFactory(officer=other, number="TAKEN")
    db.session.commit()
    path = xlsx(tmp_path / "c.xlsx", [
        CERT_HEAD, cert_row(o.id_number, "N1"), cert_row(o.id_number, "N1"), cert_row(o.id_number, "TAKEN"),
        cert_row(o.id_number, "N1", kind="行政执法监督证"),  # same number, other kind: fine
    ])
    problems = refused(db, import_certificates, path)
    has(problems, 3, "证件编号", "与第 2 行重复")
    has(problems, 4, "证件编号", "已登记给“别人”")
    assert len(problems) == 2


def test_certificate_status_date_in_future_refused(db, tmp_path):
    o = OfficerFactory()
    db.session.commit()
    path = xlsx(tmp_path / "c.xlsx", [CERT_HEAD, cert_row(o.id_number, "F1", status="吊销",
                                                         status_date="2026-07-01"),
                                      cert_row(o.id_number, "F2", status="作废")])
    problems = refused(db, import_certificates, path)
    has(problems, 2, "状态日期", "不能晚于今天")
    has(problems, 3, "状态", "未知的证件状态“作废”")


def test_certificates_dry_run(db, tmp_path):
    o = OfficerFactory()
    db.session.commit()
    path = xlsx(tmp_path / "c.xlsx", [CERT_HEAD, cert_row(o.id_number, "R1", status="暂扣")])
    before = counts(db)
    result = import_certificates(path, path.name, today=TODAY, dry_run=True)
    db.session.commit()
    assert counts(db) == before and result.created == 1


def test_officer_import_reads_the_retirement_basis(db, tmp_path):
    a, b = id_number(date(1976, 5, 20), gender="F"), id_number(date(1977, 5, 20), gender="F")
    path = xlsx(tmp_path / "o.xlsx", [
        ["姓名", "身份证号", "单位", "原法定退休年龄"],
        ["褚丑", a, "城市管理科", 50],
        ["韩巳", b, "城市管理科", "55岁"],
    ])
    import_officers(path, path.name, today=TODAY)
    db.session.commit()
    got = {o.name: (o.retirement_basis, o.retirement_date) for o in db.session.scalars(select(Officer))}
    assert got == {"褚丑": (50, date(2027, 2, 20)), "韩巳": (55, date(2034, 4, 20))}
    again = import_officers(path, path.name, today=TODAY)  # the same file again: nothing changes
    assert again.unchanged == 2
    db.session.commit()
    bad = xlsx(tmp_path / "bad.xlsx", [["姓名", "身份证号", "单位", "原法定退休年龄"], ["褚丑", a, "城市管理科", 60]])
    has(refused(db, import_officers, bad), 2, "原法定退休年龄", "未知的原法定退休年龄“60”")

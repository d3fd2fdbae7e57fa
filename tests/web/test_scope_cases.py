"""Cases under the unit scope: a case belongs to the branch of the officers its numbers name (or of
its 承办单位), read from the stored case_unit; a case spanning two branches is seen by both and
judged whole, as its stored verdict was."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db as _db
from tests.conftest import TODAY, token
from tests.web.test_scope import scoped_login, tree  # noqa: F401  (the fixture)


def _case(app, case_no: str, unit: str, numbers: list[str]) -> None:
    from app.cases import services

    with app.app_context():
        services.save_case(None, {"case_no": case_no, "title": "", "decided_on": TODAY - timedelta(days=10),
                                  "opened_on": None, "unit": unit, "certificate_numbers": numbers})
        _db.session.commit()


def test_a_case_spanning_two_branches_is_seen_by_both_and_judged_whole(app, client, tree):  # noqa: F811
    _case(app, "罚〔2026〕1号", "", [tree["certs"]["赵甲"][1], tree["certs"]["孙乙"][1]])
    _case(app, "罚〔2026〕2号", "", [tree["certs"]["孙乙"][1], tree["certs"]["李丙"][1]])
    scoped_login(client, app, "jia", "viewer", "甲局")
    html = client.get("/cases").get_data(as_text=True)
    assert "罚〔2026〕1号" in html and "罚〔2026〕2号" not in html
    row = html[html.index("罚〔2026〕1号"):]
    row = row[:row.index("</tr>")]
    assert "证号不存在" not in row and "不足两名" not in row  # 孙乙's card, in another branch, counts
    assert '<span id="cases-bad" class="text-danger">0</span>' in html


def test_a_case_follows_the_branch_its_officer_moves_to(app, client, tree):  # noqa: F811
    from app.models.officers import Officer

    _case(app, "罚〔2026〕3号", "", [tree["certs"]["孙乙"][1]])
    with app.app_context():
        _db.session.get(Officer, tree["officers"]["孙乙"]).unit_id = tree["units"]["甲局"]
        _db.session.commit()
    scoped_login(client, app, "jia", "viewer", "甲局")
    assert "罚〔2026〕3号" in client.get("/cases").get_data(as_text=True)


def test_the_audit_rows_about_a_case_follow_its_branches(app, client, tree):  # noqa: F811
    """audit_subject: a row about a case spanning two branches is seen by both; a row about a case
    whose officer moves into the branch follows the case (case_unit rewritten → its rows)."""
    from app.models.officers import Officer

    _case(app, "罚〔2026〕4号", "", [tree["certs"]["赵甲"][1], tree["certs"]["孙乙"][1]])
    _case(app, "罚〔2026〕5号", "", [tree["certs"]["孙乙"][1]])
    for login, unit, seen, unseen in (("jia", "甲局", ["4号"], ["5号"]), ("yi", "乙局", ["4号", "5号"], []),
                                      ("bing", "丙局", [], ["4号", "5号"])):
        scoped_login(client, app, login, "admin", unit)
        page = client.get("/audit").get_data(as_text=True)
        assert all(f"登记案件 罚〔2026〕{n}" in page for n in seen), login
        assert not any(f"登记案件 罚〔2026〕{n}" in page for n in unseen), login
        client.post("/logout", data={"csrf_token": token(client, "/")})
    with app.app_context():
        _db.session.get(Officer, tree["officers"]["孙乙"]).unit_id = tree["units"]["甲局"]
        _db.session.commit()
    scoped_login(client, app, "jia2", "admin", "甲局")
    page = client.get("/audit").get_data(as_text=True)
    assert "登记案件 罚〔2026〕4号" in page and "登记案件 罚〔2026〕5号" in page

"""Cases under the unit scope: a case belongs to the branch of the officers its numbers name (or of
its 承办单位), read from the stored case_unit; a case spanning two branches is seen by both and
judged whole, as its stored verdict was."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db as _db
from tests.conftest import TODAY
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

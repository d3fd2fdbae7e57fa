"""Hostile JSON bodies on the exam room's API: malformed, over-deep, wrong types, odd encodings.

Every one answers 400 with the API's error shape ({"error": "…"}), never a 500."""

from __future__ import annotations

import pytest

from tests.online_data import exam_with_bank

DEEP = 1000

BODIES = [
    pytest.param(b"[" * DEEP, id="1000-open-brackets"),
    pytest.param(b"[" * DEEP + b"]" * DEEP, id="1000-nested-lists"),
    pytest.param(b'{"a":' * DEEP + b"1" + b"}" * DEEP, id="1000-nested-objects"),
    pytest.param(b"[" * 100_000, id="100000-open-brackets"),
    pytest.param(b'{"id_number": "1", "code": ' + b"[" * DEEP + b"]" * DEEP + b"}", id="deep-value"),
    pytest.param(b'{"answer": ' + b"[" * DEEP + b"]" * DEEP + b"}", id="deep-answer"),
    pytest.param(b"{", id="truncated"),
    pytest.param(b"", id="empty"),
    pytest.param(b"\xff\xfe\x00{", id="bad-utf8"),
    pytest.param(b"NaN", id="nan"),
    pytest.param(b"1e999999", id="huge-number"),
    pytest.param(b'"just a string"', id="string"),
    pytest.param(b"null", id="null"),
    pytest.param(b"[1, 2]", id="list"),
    pytest.param(b'{"id_number": "\\ud800", "code": "x"}', id="lone-surrogate"),
    pytest.param(b"\x00" * 64, id="nul-bytes"),
]


def _assert_api_error(resp, status=400):
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.is_json
    body = resp.get_json()
    assert set(body) == {"error"} and body["error"], body


@pytest.mark.parametrize("body", BODIES)
def test_login_body(client, body):
    resp = client.post("/exam/api/login", data=body, content_type="application/json")
    _assert_api_error(resp)


@pytest.fixture
def candidate_token(app, runner, client, tmp_path):
    _exam_id, codes = exam_with_bank(app, runner, tmp_path, 1)
    resp = client.post("/exam/api/login", json={"id_number": codes[0]["id_number"], "code": codes[0]["code"]})
    assert resp.status_code == 200
    token = resp.get_json()["token"]
    paper = client.get("/exam/api/paper", headers={"Authorization": f"Bearer {token}"}).get_json()
    return token, paper["questions"][0]["id"]


def test_answer_bodies(client, candidate_token):
    token, qid = candidate_token
    headers = {"Authorization": f"Bearer {token}"}
    for param in BODIES:
        body = param.values[0]
        resp = client.put(f"/exam/api/answers/{qid}", data=body, content_type="application/json",
                          headers=headers)
        _assert_api_error(resp)
    # the paper is untouched and still answerable
    assert client.put(f"/exam/api/answers/{qid}", json={"answer": "A"}, headers=headers).status_code == 204
    paper = client.get("/exam/api/paper", headers=headers).get_json()
    assert paper["answers"] == {str(qid): "A"}

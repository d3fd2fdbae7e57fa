"""The exam room (no staff login): the page at /exam and the JSON API it uses.

Authenticated by a Bearer token (a random token whose hash is kept on the candidate's sitting), so
the API is exempt from CSRF (no cookie is involved). Rate-limited per address and per candidate.
"""

from __future__ import annotations

import hashlib
import json

from flask import jsonify, render_template, request

from app.errors import DomainError
from app.extensions import config_limit, csrf, db, limiter
from app.models_base import utcnow
from app.online import bp
from app.online import services as svc
from app.uow import commit


def _json_error(status: int, message: str):
    return jsonify({"error": message}), status


def _body():
    """The request's JSON, or None when it is not JSON at all, malformed, nested too deep for the
    parser (a RecursionError, which Flask's silent mode does not catch) or holding text that is not
    Unicode (a lone surrogate such as "\\ud800"). Flask keeps a parsed body on the request."""
    try:
        data = request.get_json(silent=True)
        json.dumps(data, ensure_ascii=False).encode()
    except (RecursionError, ValueError):  # UnicodeEncodeError is a ValueError
        return None
    return data


def _candidate_key() -> str:
    """Per-candidate bucket: the ID number on login, the token afterwards."""
    if request.endpoint == "online.api_login":
        data = _body()
        who = str(data.get("id_number") or "").strip().upper() if isinstance(data, dict) else ""
    else:
        who = _bearer()
    return "cand:" + hashlib.sha256(who.encode()).hexdigest()[:32]


def _address_key() -> str:
    return request.remote_addr or "?"


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


login_per_address = limiter.limit(config_limit("EXAM_LOGIN_RATE_LIMIT"), key_func=_address_key)
login_per_candidate = limiter.limit(config_limit("EXAM_LOGIN_CANDIDATE_LIMIT"), key_func=_candidate_key)
api_per_address = limiter.shared_limit(config_limit("EXAM_API_RATE_LIMIT"), scope="exam-api",
                                       key_func=_address_key)
api_per_candidate = limiter.shared_limit(config_limit("EXAM_API_CANDIDATE_LIMIT"), scope="exam-api-cand",
                                         key_func=_candidate_key)


@bp.errorhandler(429)
def too_many(error):
    if request.path.startswith("/exam/api/"):
        return _json_error(429, "请求过于频繁，请稍后再试")
    return render_template("errors.html", code=429, message="请求过于频繁，请稍后再试"), 429


@bp.route("/exam")
def exam_page():
    return render_template("online/room.html")


def _authenticated(lock: bool = False):
    found = svc.by_token(_bearer(), lock=lock)
    if found is None:
        return None
    return found


@bp.route("/exam/api/login", methods=["POST"])
@csrf.exempt
@login_per_address
@login_per_candidate
def api_login():
    data = _body()
    if not isinstance(data, dict):
        return _json_error(400, "请求应为 JSON：{\"id_number\", \"code\"}")
    try:
        token, sitting, online = svc.login(str(data.get("id_number") or ""), str(data.get("code") or ""),
                                           now=utcnow(), ip=request.remote_addr or "")
    except svc.Forbidden as exc:
        commit()  # a time-out submission made on the way stays
        return _json_error(403, str(exc))
    except DomainError as exc:
        commit()  # the failed login is audited
        return _json_error(401, str(exc))
    return jsonify({"token": token, "exam": {"id": online.exam.id, "title": online.exam.title},
                    "ends_at": svc.iso(svc.ends_at(online, sitting))})


@bp.route("/exam/api/paper")
@api_per_address
@api_per_candidate
def api_paper():
    found = _authenticated()
    if found is None:
        return _json_error(401, "请先登录")
    sitting, online = found
    try:
        svc.ensure_writable(sitting, online, utcnow())
    except svc.Conflict as exc:
        commit()
        return _json_error(409, str(exc))
    body = svc.paper_json(sitting, online)
    db.session.rollback()
    return jsonify(body)


@bp.route("/exam/api/answers/<int:item_id>", methods=["PUT"])
@csrf.exempt
@api_per_address
@api_per_candidate
def api_answer(item_id: int):
    found = _authenticated(lock=True)
    if found is None:
        return _json_error(401, "请先登录")
    sitting, online = found
    data = _body()
    if not isinstance(data, dict) or "answer" not in data:
        db.session.rollback()
        return _json_error(400, "请求应为 JSON：{\"answer\": \"B\"}")
    try:
        svc.save_answer(sitting, online, item_id, data["answer"], now=utcnow(), ip=request.remote_addr or "")
    except svc.Conflict as exc:
        commit()
        return _json_error(409, str(exc))
    except DomainError as exc:
        db.session.rollback()
        return _json_error(400, str(exc))
    except LookupError:
        db.session.rollback()
        return _json_error(404, "试卷中没有这道题")
    return "", 204


@bp.route("/exam/api/submit", methods=["POST"])
@csrf.exempt
@api_per_address
@api_per_candidate
def api_submit():
    found = _authenticated(lock=True)
    if found is None:
        return _json_error(401, "请先登录")
    sitting, online = found
    try:
        body = svc.submit_by_candidate(sitting, online, now=utcnow(), ip=request.remote_addr or "")
    except svc.Conflict as exc:
        commit()
        return _json_error(409, str(exc))
    return jsonify(body)

"""/verify/<token>: public, no login, rate-limited per client address (VERIFY_RATE_LIMIT).

Every request is counted (verify_hit: one row per token per day); the first lookup of a token
each day is also written to the audit log, so anonymous traffic cannot grow it without bound."""

from __future__ import annotations

from flask import render_template

from app import clock
from app.audit.services import record
from app.extensions import config_limit, limiter
from app.public.hits import count_hit
from app.public.services import enabled as public_list_enabled
from app.uow import commit
from app.verify import bp
from app.verify.services import verify as lookup
from app.web.tokens import read_token


@bp.route("/verify/<path:token>")
@limiter.limit(config_limit("VERIFY_RATE_LIMIT"))
def verify(token: str):
    parsed = read_token(token) if len(token) <= 500 else None
    day = clock.today()
    result = lookup(*parsed, day) if parsed else None
    first = count_hit(*(parsed or ("invalid", 0)), day)
    if result is None:
        why = "签名无效（伪造或被篡改）" if parsed is None else "记录不存在"
        if first:
            record("verify", "", None, f"证书验证失败：{why}（当日首次，之后只计数）")
        commit()
        return render_template("verify/invalid.html", reason=why, public_list=public_list_enabled()), 404
    kind, row_id = parsed
    ok = result["document"]["valid"] and result["certificate"]["effective"]
    if first:
        record("verify", "attendance" if kind == "training" else "exam_result", row_id,
               f"证书验证：{result['officer']['name']}，{result['document']['title']}"
               f"（{'有效' if ok else '存在问题'}；当日首次，之后只计数）")
    return render_template("verify/result.html", r=result, public_list=public_list_enabled())

"""/verify/<token>: public, no login. Every request is counted in the audit log."""

from __future__ import annotations

from datetime import date

from flask import render_template

from app.audit.services import record
from app.extensions import db
from app.verify import bp
from app.verify.services import verify as lookup
from app.verify.tokens import read_token


def today() -> date:
    return date.today()


@bp.route("/verify/<path:token>")
def verify(token: str):
    parsed = read_token(token) if len(token) <= 500 else None
    result = lookup(*parsed, today()) if parsed else None
    if result is None:
        why = "签名无效（伪造或被篡改）" if parsed is None else "记录不存在"
        record("verify", "", None, f"证书验证失败：{why}")
        db.session.commit()
        return render_template("verify/invalid.html", reason=why), 404
    kind, row_id = parsed
    ok = result["document"]["valid"] and result["certificate"]["effective"]
    record("verify", "attendance" if kind == "training" else "exam_result", row_id,
           f"证书验证：{result['officer']['name']}，{result['document']['title']}"
           f"（{'有效' if ok else '存在问题'}）")
    db.session.commit()
    return render_template("verify/result.html", r=result)

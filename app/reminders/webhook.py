"""One POST to a group-robot webhook (WeCom 企业微信 / DingTalk 钉钉 text message format)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from app.reminders.mail import DeliveryError

# WeCom refuses text content over 2048 bytes (UTF-8); DingTalk allows more. Stay under both.
MAX_CONTENT_BYTES = 2000


def body(content: str) -> dict:
    return {"msgtype": "text", "text": {"content": content}}


def redact(url: str) -> str:
    """The URL without its query: robot URLs carry their secret key in it (key=, access_token=)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path,
                                    "…" if parts.query else "", ""))


def post(url: str, payload: dict, timeout: float = 10.0) -> None:
    """POST JSON; a non-2xx answer or a robot's errcode ≠ 0 raises DeliveryError."""
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    where = f"Webhook {redact(url)}"
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            answer = resp.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"群机器人消息未发送：{where} 返回 HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DeliveryError(f"群机器人消息未发送：{where} 不可用（{reason}）") from exc
    try:
        result = json.loads(answer.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return  # a plain 2xx receiver
    if isinstance(result, dict) and result.get("errcode") not in (None, 0):
        raise DeliveryError(f"群机器人消息未发送：{where} 拒绝（errcode {result.get('errcode')}："
                            f"{result.get('errmsg', '')}）")


def fit(lines: list[str], header: str, footer: str) -> str:
    """Header, the lines, footer — cut to MAX_CONTENT_BYTES with "……另有 N 个" when too long."""
    full = "\n".join([header, *lines, footer])
    if len(full.encode()) <= MAX_CONTENT_BYTES:
        return full
    more = "……另有 {} 个，详见系统“证件到期提醒”页面"
    budget = MAX_CONTENT_BYTES - len("\n".join([header, more.format(len(lines)), footer]).encode()) - 1
    kept: list[str] = []
    for line in lines:
        size = len(line.encode()) + 1
        if size > budget:
            break
        kept.append(line)
        budget -= size
    return "\n".join([header, *kept, more.format(len(lines) - len(kept)), footer])

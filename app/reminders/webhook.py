"""One POST to a group-robot webhook (WeCom 企业微信 / DingTalk 钉钉 text message format)."""

from __future__ import annotations

import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request

from flask import current_app

from app.reminders.mail import DeliveryError
from app.settings import services as settings

# The robot is elsewhere: this server itself (loopback) and link-local addresses (169.254.x.x —
# cloud metadata services — and fe80::) are refused, so the setting cannot be used to make the
# server call its own local services. Private intranet ranges (10/8, 172.16/12, 192.168/16) are
# allowed: on 政务内网 that is where the robots live.
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _local(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_loopback or address.is_link_local or address.is_unspecified


def address_problem(url: str, *, resolve: bool = True) -> str | None:
    """Why `url` may not be a robot's address (a message), or None. With `resolve` a host name is
    looked up and every address it resolves to is checked."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").strip().lower().rstrip(".")
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "群机器人地址格式不正确"
    if not host:
        return "群机器人地址缺少主机名"
    if current_app and current_app.config.get("WEBHOOK_ALLOW_LOCAL"):
        return None
    refused = (f"群机器人地址不能指向本机或链路本地地址（{host}）：127.0.0.1、localhost、::1、"
               "169.254.x.x、0.0.0.0、fe80:: 等均不允许，请填写机器人服务的内网或公网地址")
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return refused
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if not resolve:
            return None
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return None  # not resolvable here: sending will say so
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if any(_local(a) for a in addresses):
        return refused
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A robot answers, it does not redirect: following one could lead to a refused address."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"重定向到 {redact(newurl)}（不跟随）", headers, fp)


_opener = urllib.request.build_opener(_NoRedirect)

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
    if problem := address_problem(url):
        raise DeliveryError(f"群机器人消息未发送：{problem}")
    try:
        with _opener.open(req, timeout=timeout) as resp:
            answer = resp.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"群机器人消息未发送：{where} 返回 HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DeliveryError(f"群机器人消息未发送：{where} 不可用（{reason}）") from exc
    try:
        result = json.loads(answer.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return  # a plain 2xx receiver (or an answer too deeply nested to read)
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


# the robot's address is checked when it is saved (a host name is resolved: not on every read)
settings.add_check("webhook_url", lambda url: address_problem(url) if url else None)

"""Webhook bodies in each platform's incoming-webhook format.

* ``json``: the event message as is (``events.Event.message``).
* ``slack``: ``{"text": …}`` (Slack's incoming webhooks, mrkdwn).
* ``feishu``: ``{"msg_type": "text", "content": {"text": …}}``; with a secret, ``timestamp``
  (seconds) and ``sign`` = base64 of HMAC-SHA256 keyed by ``"<timestamp>\\n<secret>"`` over nothing.
* ``dingtalk``: ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; with a secret,
  ``timestamp`` (milliseconds) and ``sign`` = base64 of HMAC-SHA256 keyed by the secret over
  ``"<timestamp>\\n<secret>"``, added to the URL's query.
* ``wecom``: ``{"msgtype": "markdown", "markdown": {"content": …}}``.

Feishu, DingTalk and WeCom answer HTTP 200 with a non-zero ``code``/``errcode`` when they refuse
a message; ``refusal`` reads that so the dispatcher retries it like an HTTP error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote_plus


def plain_text(message: dict[str, Any]) -> str:
    lines = [f"[{message['level']}] {message['title']}", message["text"]]
    run = message["run"]
    lines.append(f"run: {run['entity']}/{run['project']}/{run['run_id']}")
    if message.get("url"):
        lines.append(message["url"])
    return "\n".join(line for line in lines if line)


def markdown(message: dict[str, Any]) -> str:
    run = message["run"]
    path = f"{run['entity']}/{run['project']}/{run['run_id']}"
    where = f"[{path}]({message['url']})" if message.get("url") else path
    return f"### [{message['level']}] {message['title']}\n\n{message['text']}\n\nrun: {where}"


def _hmac_b64(key: bytes, data: bytes) -> str:
    return base64.b64encode(hmac.new(key, data, hashlib.sha256).digest()).decode()


def render(target: dict[str, Any], message: dict[str, Any], now: float) -> tuple[str, dict[str, Any]]:
    """The URL to POST to and the JSON body, for ``target`` ({"url", "format", "secret"?})."""
    url, kind, secret = target["url"], target.get("format", "json"), target.get("secret")
    if kind == "slack":
        return url, {"text": plain_text(message)}
    if kind == "feishu":
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": plain_text(message)}}
        if secret:
            stamp = str(int(now))
            body.update(timestamp=stamp, sign=_hmac_b64(f"{stamp}\n{secret}".encode(), b""))
        return url, body
    if kind == "dingtalk":
        body = {"msgtype": "markdown", "markdown": {"title": message["title"], "text": markdown(message)}}
        if secret:
            stamp = str(int(now * 1000))
            sign = quote_plus(_hmac_b64(secret.encode(), f"{stamp}\n{secret}".encode()))
            url += ("&" if "?" in url else "?") + f"timestamp={stamp}&sign={sign}"
        return url, body
    if kind == "wecom":
        return url, {"msgtype": "markdown", "markdown": {"content": markdown(message)}}
    return url, message


def refusal(kind: str, answer: Any) -> str | None:
    """The platform's reason when a 200 answer still refused the message, else None."""
    if kind not in ("feishu", "dingtalk", "wecom") or not isinstance(answer, dict):
        return None
    code = answer.get("code", answer.get("StatusCode")) if kind == "feishu" else answer.get("errcode")
    if code in (None, 0):
        return None
    return (
        f"{kind} refused the message: code {code}: {answer.get('msg') or answer.get('errmsg') or ''}".strip()
    )

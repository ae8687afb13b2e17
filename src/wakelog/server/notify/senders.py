"""Sending one outbox row: an e-mail over SMTP, or a webhook POST. Each raises ``DeliveryFailed``
with the reason when the target did not take it (the dispatcher retries)."""

from __future__ import annotations

import functools
import json
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import httpx

from wakelog._http import client_options
from wakelog.errors import Error
from wakelog.server.config import ServerConfig
from wakelog.server.notify import formats


class DeliveryFailed(Error):
    """An e-mail or webhook call the target did not take; the message says why."""


def send_webhook(config: ServerConfig, target: dict[str, Any], message: dict[str, Any], now: float) -> None:
    url, body = formats.render(target, message, now)
    try:
        answer = httpx.post(
            url, json=body, timeout=config.webhook_timeout, follow_redirects=False, **client_options(url)
        )
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}"[:1000]) from None
    except ValueError as exc:  # a CA bundle variable naming no bundle
        raise DeliveryFailed(str(exc)) from None
    if answer.status_code >= 300:
        raise DeliveryFailed(f"HTTP {answer.status_code}: {answer.text[:500]}")
    try:
        parsed = answer.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        parsed = None
    reason = formats.refusal(target.get("format", "json"), parsed)
    if reason:
        raise DeliveryFailed(reason[:1000])


def email_message(config: ServerConfig, address: str, message: dict[str, Any]) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = f"[wakelog] {message['title']}"[:200]
    mail["From"] = config.smtp_sender
    mail["To"] = address
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain="wakelog")
    mail.set_content(formats.plain_text(message) + "\n")
    return mail


def send_email(config: ServerConfig, target: dict[str, Any], message: dict[str, Any], now: float) -> None:
    if not config.smtp_host:
        raise DeliveryFailed("no SMTP server is set (wakelog server --smtp-host)")
    mail = email_message(config, target["address"], message)
    timeout, name = config.webhook_timeout, helo_name()
    try:
        if config.smtp_security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                config.smtp_host,
                config.smtp_port,
                local_hostname=name,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(config.smtp_host, config.smtp_port, local_hostname=name, timeout=timeout)
        with smtp:
            if config.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password or "")
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(
            f"SMTP {config.smtp_host}:{config.smtp_port}: {type(exc).__name__}: {exc}"[:1000]
        ) from None


@functools.cache
def helo_name() -> str:
    """The name this server greets SMTP servers with, as smtplib works it out (the machine's
    fully qualified name, else its address), once per process: smtplib looks it up for every
    connection, and a slow resolver delayed every mail by as much."""
    with smtplib.SMTP() as unconnected:  # no host: it connects to nothing, and only names itself
        return unconnected.local_hostname


SENDERS = {"email": send_email, "webhook": send_webhook}

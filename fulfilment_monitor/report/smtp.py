"""SMTP settings (explicit, as the DAG passes its connection's, or from the environment) and delivery.

Environment: FULFILMENT_SMTP_HOST (required), FULFILMENT_SMTP_PORT [25, 465 with SSL],
FULFILMENT_SMTP_USER, FULFILMENT_SMTP_PASSWORD, FULFILMENT_SMTP_STARTTLS [false],
FULFILMENT_SMTP_SSL [false], FULFILMENT_SMTP_TIMEOUT [30 s]. Addresses, whichever the settings:
FULFILMENT_REPORT_FROM (or the connection's sender) and FULFILMENT_REPORT_TO (comma-separated),
defaulting to the failure alerts' addresses.
"""
from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from typing import Mapping

from fulfilment_monitor.errors import UserError

DEFAULT_SENDER = "fulfilment-monitor@localhost"
DEFAULT_RECIPIENTS = "fulfilment-ops@localhost"


class DeliveryFailed(Exception):
    """The SMTP server could not be reached or refused the message."""


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "false").strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise UserError(f"{name}={value!r} is not true or false")
    return value in ("true", "1", "yes")


def _number(value, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UserError(f"{name}={value!r} is not a whole number") from None


def _settings(host, port, use_ssl: bool, port_name: str, **rest) -> Settings:
    return Settings(host=host, port=_number(port, port_name) if port else (465 if use_ssl else 25),
                    ssl=use_ssl, **rest)


def from_env(environ: Mapping[str, str] = os.environ) -> Settings:
    host = environ.get("FULFILMENT_SMTP_HOST", "").strip()
    if not host:
        raise UserError("FULFILMENT_SMTP_HOST is not set: say which SMTP server sends the report")
    return _settings(host, environ.get("FULFILMENT_SMTP_PORT"), _flag(environ, "FULFILMENT_SMTP_SSL"),
                     "FULFILMENT_SMTP_PORT", user=environ.get("FULFILMENT_SMTP_USER") or None,
                     password=environ.get("FULFILMENT_SMTP_PASSWORD") or None,
                     starttls=_flag(environ, "FULFILMENT_SMTP_STARTTLS"),
                     timeout=_number(environ.get("FULFILMENT_SMTP_TIMEOUT", "30"), "FULFILMENT_SMTP_TIMEOUT"))


def from_dict(smtp: Mapping) -> Settings:
    if not smtp.get("host"):
        raise UserError("the SMTP settings have no host")
    return _settings(smtp["host"], smtp.get("port"), bool(smtp.get("ssl")), "SMTP port",
                     user=smtp.get("user") or None, password=smtp.get("password") or None,
                     starttls=bool(smtp.get("starttls")), timeout=_number(smtp.get("timeout") or 30, "SMTP timeout"))


def settings(smtp: Mapping | None, environ: Mapping[str, str] = os.environ) -> Settings:
    return from_dict(smtp) if smtp is not None else from_env(environ)


def addresses(smtp: Mapping | None, environ: Mapping[str, str] = os.environ) -> tuple[str, list[str]]:
    """(sender, recipients): the report goes where FULFILMENT_REPORT_TO says, else where alerts go."""
    sender = ((smtp or {}).get("sender") or environ.get("FULFILMENT_REPORT_FROM")
              or environ.get("FULFILMENT_ALERT_FROM") or DEFAULT_SENDER)
    to = environ.get("FULFILMENT_REPORT_TO") or environ.get("FULFILMENT_ALERT_TO") or DEFAULT_RECIPIENTS
    recipients = [a.strip() for a in to.split(",") if a.strip()]
    if not recipients:
        raise UserError("FULFILMENT_REPORT_TO names no recipient")
    return sender, recipients


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        text = f"{exc.smtp_code} {error}"
    return " ".join((text or type(exc).__name__).split())


def _connect(config: Settings) -> smtplib.SMTP:
    if config.ssl:
        return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                context=ssl.create_default_context())
    return smtplib.SMTP(config.host, config.port, timeout=config.timeout)


def deliver(config: Settings, sender: str, recipients: list[str], data: bytes) -> list[str]:
    """Send the message bytes as they are; returns the recipients the server refused (the others
    got it). Raises DeliveryFailed with a one-line reason when nobody got it."""
    try:
        client = _connect(config)
        try:
            if config.starttls and not config.ssl:
                client.starttls(context=ssl.create_default_context())
            if config.user:
                client.login(config.user, config.password or "")
            refused = client.sendmail(sender, recipients, data)
        except BaseException:
            client.close()
            raise
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {_one_line(exc)}") from exc
    try:  # the server accepted the message: a failing goodbye must not make us send it again
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()
    return sorted(refused)

"""SMTP settings (explicit, as the DAG passes its connection's, or the FULFILMENT_SMTP_* ones of
fulfilment_monitor.settings) and delivery. Addresses, whichever the server: FULFILMENT_REPORT_FROM
(or the connection's sender) and FULFILMENT_REPORT_TO, defaulting to the failure alerts' addresses.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from typing import Mapping

from fulfilment_monitor import settings as configuration  # `settings` is a function here
from fulfilment_monitor.errors import UserError


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


def _number(value, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UserError(f"{name}={value!r} is not a whole number") from None


def from_dict(smtp: Mapping) -> Settings:
    if not smtp.get("host"):
        raise UserError("the SMTP settings have no host")
    use_ssl = bool(smtp.get("ssl"))
    return Settings(host=smtp["host"], port=_number(smtp.get("port") or configuration.smtp_port(use_ssl), "SMTP port"),
                    user=smtp.get("user") or None, password=smtp.get("password") or None,
                    starttls=bool(smtp.get("starttls")), ssl=use_ssl,
                    timeout=_number(smtp.get("timeout") or configuration.SMTP_TIMEOUT_SECONDS, "SMTP timeout"))


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    return from_dict(configuration.smtp(environ))


def settings(smtp: Mapping | None, environ: Mapping[str, str] | None = None) -> Settings:
    return from_dict(smtp) if smtp is not None else from_env(environ)


def addresses(smtp: Mapping | None, environ: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """(sender, recipients): the report goes where FULFILMENT_REPORT_TO says, else where alerts go."""
    sender = (smtp or {}).get("sender") or configuration.report_sender(environ)
    return sender, configuration.report_recipients(environ)


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

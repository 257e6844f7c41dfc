"""Mail to people: the one module that imports smtplib and email.

With SMTP configured (``VWAZA_SMTP_*`` or config.toml), a message goes through the server:
implicit TLS (``ssl``) or STARTTLS, verified against the system's CAs, then a login when a user
is set. Without, each message is written to the outbox folder in the data dir as one ``.eml``
file (mode 0600, written atomically), so a single-machine user is never stuck.

``rehearse`` does the work of ``send`` and delivers nothing. A password reset for an unknown
email uses it so that it costs what a real one costs: the same SMTP session up to the recipient,
then as many round trips as the message would have taken; or the same file written and fsynced,
then removed instead of moved into the outbox.
"""

from __future__ import annotations

import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from vwaza_cli import clock
from vwaza_cli.errors import InvalidInput, MailUnavailable
from vwaza_cli.settings import Settings, SmtpSettings, ensure_private_dir

SMTP_TIMEOUT_SECONDS = 15.0
OUTBOX_SENDER = "vwaza@localhost"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class Delivery:
    """How a message went: ``smtp`` or ``outbox`` (with the file, when one was kept)."""

    transport: str
    path: Path | None = None


def compose(settings: Settings, *, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from the configured sender, with Date and Message-ID."""
    sender = settings.smtp.sender if settings.smtp else OUTBOX_SENDER
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(clock.now())
    # An explicit domain: make_msgid would otherwise ask DNS for this machine's name.
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    # 7bit/8bit keeps every line intact (quoted-printable would break a long command line).
    message.set_content(body, cte="7bit" if body.isascii() else "8bit")
    return message


def send(settings: Settings, message: EmailMessage) -> Delivery:
    """Deliver through SMTP when configured, else into the outbox. Raises MailUnavailable."""
    if settings.smtp is None:
        return Delivery("outbox", _write_outbox(settings, message, keep=True))
    _smtp_transaction(settings.smtp, message, deliver=True)
    return Delivery("smtp")


def rehearse(settings: Settings, message: EmailMessage) -> Delivery:
    """Do what ``send`` would do, deliver nothing. Fails the way ``send`` fails up to the
    recipient (same server, same login), so such failures say nothing about who it was for."""
    if settings.smtp is None:
        _write_outbox(settings, message, keep=False)
        return Delivery("outbox")
    _smtp_transaction(settings.smtp, message, deliver=False)
    return Delivery("smtp")


# --- SMTP ------------------------------------------------------------------------------------


def _smtp_transaction(smtp: SmtpSettings, message: EmailMessage, *, deliver: bool) -> None:
    # The recipient is the bare address ``compose`` put in To; re-parsing could change it.
    sender, recipient = _address(smtp.sender), str(message["To"])
    try:
        with _session(smtp) as client:
            options = _mail_options(client, sender, recipient)
            _envelope(client, sender, recipient, options)
            if deliver:
                _data(client, message, utf8=bool(options))
            else:
                # DATA and the message take two round trips: spend the same two.
                client.rset()
                client.noop()
    except (OSError, smtplib.SMTPException) as exc:  # ssl.SSLError and timeouts are OSErrors
        raise MailUnavailable(
            f"cannot send mail through {smtp.host}:{smtp.port} ({_reason(exc)}): "
            "check the VWAZA_SMTP_* settings, or retry later"
        ) from exc


def check_connection(smtp: SmtpSettings) -> None:
    """Connect, encrypt and log in as configured, then quit (`vwaza doctor`)."""
    try:
        with _session(smtp) as client:
            client.noop()
    except (OSError, smtplib.SMTPException) as exc:
        raise MailUnavailable(
            f"cannot reach SMTP at {smtp.host}:{smtp.port} ({_reason(exc)})"
        ) from exc


def _session(smtp: SmtpSettings) -> smtplib.SMTP:
    """Connected, encrypted as configured, logged in. Never falls back to plain text."""
    if smtp.user and smtp.security == "none" and smtp.host.lower() not in LOOPBACK_HOSTS:
        raise InvalidInput(
            f"refusing to send the SMTP password unencrypted to {smtp.host}: "
            "set VWAZA_SMTP_SECURITY to starttls or ssl"
        )
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if smtp.security == "ssl":
        client = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        client.ehlo()
        if smtp.security == "starttls":
            client.starttls(context=context)  # raises if the server does not offer it
            client.ehlo()
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
    except BaseException:
        client.close()
        raise
    return client


def _mail_options(client: smtplib.SMTP, sender: str, recipient: str) -> list[str]:
    if f"{sender}{recipient}".isascii():
        return []
    if not client.has_extn("smtputf8"):
        raise smtplib.SMTPNotSupportedError("the server cannot carry non-ASCII addresses")
    return ["SMTPUTF8", "BODY=8BITMIME"]


def _envelope(client: smtplib.SMTP, sender: str, recipient: str, options: list[str]) -> None:
    code, reply = client.mail(sender, options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = client.rcpt(recipient)
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})


def _data(client: smtplib.SMTP, message: EmailMessage, *, utf8: bool) -> None:
    policy = message.policy
    if not isinstance(policy, EmailPolicy):  # compose() gives email.policy.default
        raise TypeError(f"a message with the {type(policy).__name__} policy has no utf8 flag")
    payload = message.as_bytes(policy=policy.clone(utf8=utf8, linesep="\r\n"))
    code, reply = client.data(payload)
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else error or ""
        return f"{exc.smtp_code} {text}".strip()
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
        return f"recipient refused: {code} {reply.decode('utf-8', 'replace')}"
    return str(exc) or type(exc).__name__


def _address(header: str) -> str:
    """The bare address of ``Name <a@b>`` (the envelope wants no display name)."""
    return parseaddr(header)[1] or header


def _domain(sender: str) -> str:
    return _address(sender).rpartition("@")[2] or "localhost"


# --- outbox ----------------------------------------------------------------------------------


def _write_outbox(settings: Settings, message: EmailMessage, *, keep: bool) -> Path | None:
    """Write, fsync and either move into place (atomic) or remove: the same work either way."""
    try:
        folder = ensure_private_dir(settings.outbox_dir)
        name = f"{clock.now():%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.eml"
        temp = folder / f".{name}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(message.as_bytes())
                fh.flush()
                os.fsync(fh.fileno())
            if keep:
                os.replace(temp, folder / name)
                return folder / name
        finally:
            temp.unlink(missing_ok=True)
    except OSError as exc:
        raise MailUnavailable(
            f"cannot write to the outbox {settings.outbox_dir} ({exc.strerror or exc}): "
            "check the data dir's permissions and free space"
        ) from exc
    return None

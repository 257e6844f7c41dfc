"""Password reset by email, through a real SMTP server on loopback (aiosmtpd), on both engines.

Every token used here is read from a received message: the reset path must work from the mail.
"""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import Cli, Outcome, forget_saved_login, sign_up

SENDER = "Vwaza <noreply@vwaza.test>"
NEW_PASSWORD = "a brand new password"
OLD_PASSWORD = "correct horse"  # sign_up's
RESET_SUBJECT = "Your Vwaza password reset token"
CHANGED_SUBJECT = "Your Vwaza password was changed"
TOKEN_IN_MAIL = re.compile(r"^ {4}vwaza auth password reset --token (vwr_[A-Za-z0-9_-]+)\r?$", re.M)
SMTP_USER, SMTP_PASSWORD = "vwaza", "smtp secret"


# --- a real SMTP server on loopback ----------------------------------------------------------


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps every message and the transaction commands it saw."""

    messages: list[EmailMessage] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    logged_in: list[bool] = field(default_factory=list)  # per message: was its session?
    port: int = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        self.commands.append("MAIL")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        self.commands.append("RCPT")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_RSET(self, server, session, envelope) -> str:
        self.commands.append("RSET")
        return "250 OK"

    async def handle_NOOP(self, server, session, envelope, arg) -> str:
        self.commands.append("NOOP")
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.commands.append("DATA")
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        self.logged_in.append(bool(session.authenticated))
        return "250 Message accepted for delivery"

    def with_subject(self, subject: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["Subject"] == subject]


class LoopbackController(Controller):
    """aiosmtpd on 127.0.0.1 on a port the OS picks (Controller itself wants a fixed one)."""

    def __init__(self, handler: Mailbox, **kwargs: Any) -> None:
        super().__init__(
            handler, hostname="127.0.0.1", port=0, server_hostname="smtp.test", **kwargs
        )

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = LoopbackController(box)
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


def use_smtp(monkeypatch: pytest.MonkeyPatch, port: int, security: str = "none") -> None:
    monkeypatch.setenv("VWAZA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("VWAZA_SMTP_PORT", str(port))
    monkeypatch.setenv("VWAZA_SMTP_SECURITY", security)
    monkeypatch.setenv("VWAZA_SMTP_FROM", SENDER)


@pytest.fixture
def mail_cli(initialised: Cli, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> Cli:
    use_smtp(monkeypatch, mailbox.port)
    return initialised


# --- helpers ----------------------------------------------------------------------------------


def request_reset(cli: Cli, email: str, *, json: bool = True) -> Outcome:
    args = ["auth", "password", "reset-request", "--email", email]
    return cli(*args, "--json") if json else cli(*args)


def reset(cli: Cli, token: str, password: str = NEW_PASSWORD) -> Outcome:
    return cli(
        "auth", "password", "reset", "--token", token, "--password-stdin", "--json",
        input=password + "\n",
    )  # fmt: skip


def login(cli: Cli, email: str, password: str) -> Outcome:
    return cli(
        "auth", "login", "--email", email, "--password-stdin", "--json", input=password + "\n"
    )


def token_from(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = TOKEN_IN_MAIL.search(body.get_content())
    assert found, "the mail must show the command to run"
    return found.group(1)


def mailed_token(cli: Cli, mailbox: Mailbox, email: str) -> str:
    before = len(mailbox.with_subject(RESET_SUBJECT))
    assert request_reset(cli, email).exit_code == 0
    mails = mailbox.with_subject(RESET_SUBJECT)
    assert len(mails) == before + 1
    return token_from(mails[-1])


def in_minutes(minutes: int) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the reset path -------------------------------------------------------------------------


def test_the_mailed_token_resets_the_password_and_the_old_one_stops_working(
    mail_cli: Cli, mailbox: Mailbox
) -> None:
    sign_up(mail_cli, "ada@example.com", "Ada")
    token = mailed_token(mail_cli, mailbox, "ada@example.com")

    outcome = reset(mail_cli, token)

    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.json()["email"] == "ada@example.com"
    assert login(mail_cli, "ada@example.com", OLD_PASSWORD).exit_code == 4
    assert login(mail_cli, "ada@example.com", NEW_PASSWORD).exit_code == 0
    [notice] = mailbox.with_subject(CHANGED_SUBJECT)
    assert notice["To"] == "ada@example.com"
    assert "vwr_" not in notice.get_content()


def test_the_mail_has_proper_headers_and_says_what_to_run_and_when_it_expires(
    mail_cli: Cli, mailbox: Mailbox, mocker
) -> None:
    sign_up(mail_cli, "ada@example.com", "Ada")
    asked_at = datetime(2031, 5, 4, 13, 7, 30, tzinfo=UTC)
    mocker.patch("vwaza_cli.clock.now", return_value=asked_at)

    request_reset(mail_cli, "ada@example.com")

    [mail] = mailbox.messages
    assert mail["From"] == SENDER
    assert mail["To"] == "ada@example.com"
    assert mail["X-Envelope-To"] == "ada@example.com"
    assert mail["Subject"] == RESET_SUBJECT
    assert parsedate_to_datetime(mail["Date"]) == asked_at
    assert re.fullmatch(r"<[^@<>]+@vwaza\.test>", mail["Message-ID"])
    text = mail.get_content().replace("\r\n", "\n")
    assert f"vwaza auth password reset --token {token_from(mail)}\n" in text
    assert "expires at 2031-05-04 14:07 UTC" in text
    assert "vwaza auth login --email ada@example.com" in text


def test_a_token_works_only_once(mail_cli: Cli, mailbox: Mailbox) -> None:
    sign_up(mail_cli, "ada@example.com", "Ada")
    token = mailed_token(mail_cli, mailbox, "ada@example.com")
    assert reset(mail_cli, token).exit_code == 0

    again = reset(mail_cli, token, password="yet another password")

    assert again.exit_code == 4
    assert again.error()["type"] == "permission"
    assert "unknown, already used or expired" in again.error()["message"]
    assert login(mail_cli, "ada@example.com", NEW_PASSWORD).exit_code == 0


def test_a_token_is_refused_after_an_hour(mail_cli: Cli, mailbox: Mailbox, mocker) -> None:
    sign_up(mail_cli, "ada@example.com", "Ada")
    token = mailed_token(mail_cli, mailbox, "ada@example.com")
    mocker.patch("vwaza_cli.clock.now", return_value=in_minutes(61))

    outcome = reset(mail_cli, token)

    assert outcome.exit_code == 4
    assert "unknown, already used or expired" in outcome.error()["message"]
    assert login(mail_cli, "ada@example.com", OLD_PASSWORD).exit_code == 0


def test_a_token_still_works_just_before_the_hour_is_up(
    mail_cli: Cli, mailbox: Mailbox, mocker
) -> None:
    sign_up(mail_cli, "ada@example.com", "Ada")
    token = mailed_token(mail_cli, mailbox, "ada@example.com")
    mocker.patch("vwaza_cli.clock.now", return_value=in_minutes(59))

    assert reset(mail_cli, token).exit_code == 0


def test_a_token_resets_only_the_account_it_was_sent_for(mail_cli: Cli, mailbox: Mailbox) -> None:
    sign_up(mail_cli, "ada@example.com", "Ada")
    bo_session = sign_up(mail_cli, "bo@example.com", "Bo")
    bo_token = mailed_token(mail_cli, mailbox, "bo@example.com")
    ada_token = mailed_token(mail_cli, mailbox, "ada@example.com")

    assert reset(mail_cli, ada_token).json()["email"] == "ada@example.com"

    assert login(mail_cli, "bo@example.com", NEW_PASSWORD).exit_code == 4
    assert mail_cli("auth", "whoami", token=bo_session).exit_code == 0
    assert reset(mail_cli, bo_token, password="bo's new password").json()["email"] == (
        "bo@example.com"
    )
    assert login(mail_cli, "ada@example.com", "bo's new password").exit_code == 4


def test_a_reset_ends_every_session_and_voids_the_other_tokens(
    mail_cli: Cli, mailbox: Mailbox
) -> None:
    first_session = sign_up(mail_cli, "ada@example.com", "Ada")
    forget_saved_login()  # the second session on another machine: this login keeps the first
    second_session = login(mail_cli, "ada@example.com", OLD_PASSWORD).json()["token"]
    older = mailed_token(mail_cli, mailbox, "ada@example.com")
    newer = mailed_token(mail_cli, mailbox, "ada@example.com")

    assert reset(mail_cli, newer).json()["sessions_ended"] == 2

    for session in (first_session, second_session):
        assert mail_cli("auth", "whoami", "--json", token=session).exit_code == 4
    assert reset(mail_cli, older, password="another new password").exit_code == 4


def test_the_new_password_follows_the_registration_rules_and_a_refusal_keeps_the_token(
    mail_cli: Cli, mailbox: Mailbox
) -> None:
    sign_up(mail_cli, "ada@example.com", "Ada")
    token = mailed_token(mail_cli, mailbox, "ada@example.com")

    too_short = reset(mail_cli, token, password="short")
    too_long = reset(mail_cli, token, password="é" * 37)  # 74 bytes

    assert too_short.exit_code == too_long.exit_code == 6
    assert login(mail_cli, "ada@example.com", OLD_PASSWORD).exit_code == 0
    assert reset(mail_cli, token).exit_code == 0


def test_the_token_is_stored_only_as_its_sha256_hash(
    mail_cli: Cli, mailbox: Mailbox, store_url: str
) -> None:
    from sqlalchemy.orm import Session

    from vwaza_cli.db.engine import get_engine
    from vwaza_cli.db.models import PasswordResetToken

    sign_up(mail_cli, "ada@example.com", "Ada")
    token = mailed_token(mail_cli, mailbox, "ada@example.com")

    with Session(get_engine(store_url)) as session:
        [row] = session.scalars(sa.select(PasswordResetToken)).all()
    assert len(token.removeprefix("vwr_")) >= 43  # 32 random bytes, base64url: 256 bits
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {str(value) for value in row.model_dump().values()}
    assert row.expires_at - row.created_at == timedelta(hours=1)
    assert row.used is False


def test_the_mail_goes_to_the_address_on_the_account_not_the_one_typed(
    mail_cli: Cli, mailbox: Mailbox
) -> None:
    sign_up(mail_cli, "Ada@Example.com", "Ada")

    request_reset(mail_cli, "ADA@EXAMPLE.COM")

    [mail] = mailbox.messages
    assert mail["To"] == mail["X-Envelope-To"] == "Ada@Example.com"


# --- no enumeration -------------------------------------------------------------------------


def test_the_answer_is_the_same_whether_or_not_the_account_exists(
    mail_cli: Cli, mailbox: Mailbox
) -> None:
    asks = [("ada@example.com", True), ("bo@example.com", False)]  # --json, and for people
    unknown = [request_reset(mail_cli, email, json=json) for email, json in asks]
    sign_up(mail_cli, "ada@example.com", "Ada")
    sign_up(mail_cli, "bo@example.com", "Bo")
    known = [request_reset(mail_cli, email, json=json) for email, json in asks]

    assert unknown == known
    assert known[0].exit_code == known[1].exit_code == 0
    assert known[0].json()["message"].startswith("If an account exists for ada@example.com,")
    assert "If an account exists for bo@example.com," in known[1].stderr
    assert len(mailbox.messages) == 2


def test_an_unknown_email_takes_the_same_smtp_steps_but_nothing_is_sent(
    mail_cli: Cli, mailbox: Mailbox
) -> None:
    sign_up(mail_cli, "ada@example.com", "Ada")

    request_reset(mail_cli, "ada@example.com")
    known_steps = list(mailbox.commands)
    mailbox.commands.clear()
    request_reset(mail_cli, "nobody@example.com")
    unknown_steps = list(mailbox.commands)

    assert known_steps == ["MAIL", "RCPT", "DATA"]
    assert unknown_steps == ["MAIL", "RCPT", "RSET", "NOOP"]  # the same round trips, no message
    assert len(mailbox.messages) == 1


def test_requests_are_limited_per_email_without_saying_so(
    mail_cli: Cli, mailbox: Mailbox, mocker
) -> None:
    sign_up(mail_cli, "ada@example.com", "Ada")
    sign_up(mail_cli, "bo@example.com", "Bo")

    ada = [request_reset(mail_cli, "ADA@example.com") for _ in range(4)]
    unknown = [request_reset(mail_cli, "nobody@example.com") for _ in range(4)]

    assert len(mailbox.messages) == 3
    assert len({(o.exit_code, o.stdout, o.stderr) for o in ada}) == 1
    assert len({(o.exit_code, o.stdout, o.stderr) for o in unknown}) == 1
    mailed_token(mail_cli, mailbox, "bo@example.com")  # another email is not held back
    mocker.patch("vwaza_cli.clock.now", return_value=in_minutes(61))
    mailed_token(mail_cli, mailbox, "ada@example.com")  # and an hour later ada gets one again


def test_an_unreachable_smtp_server_fails_alike_for_known_and_unknown_emails(
    initialised: Cli, monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    use_smtp(monkeypatch, free_port())

    known = request_reset(initialised, "ada@example.com")
    unknown = request_reset(initialised, "nobody@example.com")

    assert known.exit_code == unknown.exit_code == 7
    assert known.error() == unknown.error()
    assert "cannot send mail through 127.0.0.1" in known.error()["message"]
    assert not (home / "data" / "outbox").exists()  # no token left on this machine's disk


def test_starttls_is_never_skipped_when_the_server_does_not_offer_it(
    initialised: Cli, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    use_smtp(monkeypatch, mailbox.port, security="starttls")  # this server has no TLS at all

    known = request_reset(initialised, "ada@example.com")
    unknown = request_reset(initialised, "nobody@example.com")

    assert known.exit_code == unknown.exit_code == 7
    assert known.error() == unknown.error()
    assert "STARTTLS" in known.error()["message"]
    assert mailbox.commands == []  # not even MAIL FROM went over the plain connection


def test_a_login_over_plain_text_to_another_host_is_refused(
    initialised: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VWAZA_SMTP_HOST", "smtp.example.invalid")
    monkeypatch.setenv("VWAZA_SMTP_SECURITY", "none")
    monkeypatch.setenv("VWAZA_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("VWAZA_SMTP_PASSWORD", SMTP_PASSWORD)

    outcome = request_reset(initialised, "nobody@example.com")

    assert outcome.exit_code == 6
    assert "refusing to send the SMTP password unencrypted" in outcome.error()["message"]


def test_a_reset_still_succeeds_when_the_notice_cannot_be_sent(
    mail_cli: Cli, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_up(mail_cli, "ada@example.com", "Ada")
    token = mailed_token(mail_cli, mailbox, "ada@example.com")
    use_smtp(monkeypatch, free_port())

    outcome = reset(mail_cli, token)

    assert outcome.exit_code == 0
    [warning] = outcome.json()["warnings"]
    assert warning.startswith("the password was reset, but the notice mail was not sent")
    assert login(mail_cli, "ada@example.com", NEW_PASSWORD).exit_code == 0


# --- encrypted SMTP with a login ------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture
def tls_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TlsFiles:
    """A throwaway CA and a certificate for 127.0.0.1, trusted by the client via SSL_CERT_FILE."""
    pytest.importorskip("cryptography")
    files = _write_tls_files(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(files.ca))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return files


def _write_tls_files(folder: Path) -> TlsFiles:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir()
    start = datetime.now(UTC) - timedelta(minutes=5)
    end = start + timedelta(days=1)

    def certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool, extensions=()):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
            )
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    ca_cert = certificate(
        "test CA", ca_key, "test CA", ca_key, ca=True, extensions=[(ca_usage, True)]
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = x509.SubjectAlternativeName(
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    )
    usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    cert = certificate(
        "127.0.0.1", key, "test CA", ca_key, ca=False, extensions=[(names, False), (usage, False)]
    )
    files = TlsFiles(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _check_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture(params=["starttls", "ssl"])
def secure_mailbox(
    request: pytest.FixtureRequest, tls_files: TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Mailbox]:
    """aiosmtpd that insists on TLS (STARTTLS, or implicit TLS) and on a login."""
    box = Mailbox()
    if request.param == "starttls":
        options = {"tls_context": tls_files.server_context(), "require_starttls": True}
        options |= {"auth_required": True}
    else:
        # aiosmtpd only counts STARTTLS as TLS: on an implicit-TLS port it must be told that
        # AUTH without STARTTLS is fine (and cannot then insist on AUTH without a warning).
        options = {"ssl_context": tls_files.server_context(), "auth_require_tls": False}
    controller = LoopbackController(box, authenticator=_check_login, **options)
    controller.start()
    box.port = controller.port
    use_smtp(monkeypatch, box.port, security=request.param)
    monkeypatch.setenv("VWAZA_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("VWAZA_SMTP_PASSWORD", SMTP_PASSWORD)
    yield box
    controller.stop()


def test_mail_goes_through_tls_with_a_login(initialised: Cli, secure_mailbox: Mailbox) -> None:
    sign_up(initialised, "ada@example.com", "Ada")

    token = mailed_token(initialised, secure_mailbox, "ada@example.com")

    assert secure_mailbox.logged_in == [True]
    assert reset(initialised, token).exit_code == 0


def test_a_wrong_smtp_password_fails_alike_for_known_and_unknown_emails(
    initialised: Cli, secure_mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    monkeypatch.setenv("VWAZA_SMTP_PASSWORD", "wrong")

    known = request_reset(initialised, "ada@example.com")
    unknown = request_reset(initialised, "nobody@example.com")

    assert known.exit_code == unknown.exit_code == 7
    assert known.error() == unknown.error()
    assert "535" in known.error()["message"]
    assert secure_mailbox.messages == []


def test_an_untrusted_certificate_is_refused(
    initialised: Cli, secure_mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    other_ca = _write_tls_files(tmp_path / "other").ca
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))

    outcome = request_reset(initialised, "ada@example.com")

    assert outcome.exit_code == 7
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.error()["message"]
    assert secure_mailbox.messages == []

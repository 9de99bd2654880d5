"""Outbound email (`ports.Mailer`): sign-in links and the weekly digest.

Callers build the whole MIME message (From, To, Subject, List-Unsubscribe, …); a mailer only
delivers it. `SesMailer` sends through Amazon SES v2 (moto's SES when AWS_ENDPOINT_URL points
there); `OutboxMailer` writes each message into a directory for local runs and tests;
`TeeMailer` does both for the demo; `MemoryMailer` is the fake for unit tests.

Errors are one line and never carry the body: it may hold a sign-in link.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from micromoments.ports import Mailer, MailError

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sesv2.type_defs import EmailContentTypeDef

REQUIRED_HEADERS = ("From", "To", "Subject")


def recipients(message: EmailMessage) -> list[str]:
    """The addresses of the message's To header(s), as written."""
    return [address for _, address in getaddresses(message.get_all("To", [])) if address]


def _first_recipient(message: EmailMessage) -> str:
    """The first To address; MailError when From, To or Subject is missing."""
    missing = [name for name in REQUIRED_HEADERS if not message.get(name)]
    if missing:
        raise MailError(f"the message has no {' or '.join(missing)} header")
    addresses = recipients(message)
    if not addresses:
        raise MailError("the message's To header holds no address")
    return addresses[0]


def _one_line(text: str) -> str:
    return " ".join(text.split())


class SesMailer:
    """Amazon SES v2 ``SendEmail`` with the raw message; SES reads the sender and recipients
    from its headers. Throttling and transient faults are retried by botocore's standard
    retry mode; what still fails is a `MailError`."""

    def __init__(
        self, client: SESV2Client | None = None, configuration_set: str | None = None
    ) -> None:
        self._client = client
        self.configuration_set = configuration_set
        self._lock = threading.Lock()

    @property
    def client(self) -> SESV2Client:
        with self._lock:  # creating a client from the default session is not thread-safe
            if self._client is None:
                import boto3
                from botocore.config import Config

                self._client = boto3.client("sesv2", config=Config(retries={"mode": "standard"}))
            return self._client

    def send(self, message: EmailMessage) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        to = _first_recipient(message)
        # SES asks for 7-bit content: non-ASCII parts go out base64 or quoted-printable
        # (the message itself is left as the caller built it). CRLF as on the wire.
        raw = message.as_bytes(policy=message.policy.clone(cte_type="7bit", linesep="\r\n"))
        content: EmailContentTypeDef = {"Raw": {"Data": raw}}
        try:
            if self.configuration_set:
                answer = self.client.send_email(
                    Content=content, ConfigurationSetName=self.configuration_set
                )
            else:
                answer = self.client.send_email(Content=content)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, text = error.get("Code", "Error"), error.get("Message", "")
            raise MailError(_one_line(f"SES refused the message to {to}: {code}: {text}")) from None
        except BotoCoreError as exc:
            raise MailError(
                _one_line(f"cannot send the message to {to} through SES: {exc}")
            ) from None
        return answer["MessageId"]


_NAME = re.compile(r"^(\d{8}T\d{6})-(\d+)-")


def _slug(address: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", address.lower()).strip("-")[:64] or "unknown"


def _order(path: Path) -> tuple[str, int] | None:
    """(timestamp, sequence number) of an outbox file name; None for other files."""
    match = _NAME.match(path.name)
    return (match[1], int(match[2])) if match else None


def _part(message: EmailMessage, subtype: str) -> str | None:
    """The decoded text/<subtype> body of the message, if it has one."""
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_type() != f"text/{subtype}":
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None


def _parse(data: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(data)


class OutboxMailer:
    """Writes each message into ``directory`` as ``<YYYYmmddTHHMMSS>-<n>-<slug of To>.eml``
    (UTC), plus the decoded ``.html`` and ``.txt`` bodies when it has them; the stem is the
    message id. ``n`` rises across sends (and across runs: it continues after the highest
    number in the directory), so names never collide, even with several threads or
    processes writing at once. A ``.eml`` appears whole or not at all."""

    def __init__(
        self, directory: Path, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.directory = Path(directory)
        self._now = now
        self._lock = threading.Lock()
        self._last: int | None = None

    def _next_number(self) -> int:
        with self._lock:
            if self._last is None:
                found = (_order(path) for path in self.directory.glob("*.eml"))
                self._last = max((key[1] for key in found if key), default=0)
            self._last += 1
            return self._last

    def send(self, message: EmailMessage) -> str:
        to = _first_recipient(message)
        html, text = _part(message, "html"), _part(message, "plain")
        slug = _slug(to)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            draft = self.directory / f".{uuid.uuid4().hex}.tmp"
            draft.write_bytes(message.as_bytes())
            try:
                while True:
                    stem = (
                        f"{self._now().astimezone(UTC):%Y%m%dT%H%M%S}-{self._next_number()}-{slug}"
                    )
                    try:
                        os.link(draft, self.directory / f"{stem}.eml")  # fails if taken
                        break
                    except FileExistsError:
                        continue  # another process wrote this name first
            finally:
                draft.unlink(missing_ok=True)
            if html is not None:
                (self.directory / f"{stem}.html").write_text(html, encoding="utf-8")
            if text is not None:
                (self.directory / f"{stem}.txt").write_text(text, encoding="utf-8")
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise MailError(
                _one_line(f"cannot write the message to {to} into {self.directory}: {reason}")
            ) from None
        return stem

    def messages(self) -> list[Path]:
        """The ``.eml`` files, oldest first."""
        if not self.directory.is_dir():
            return []
        named = [(key, path) for path in self.directory.glob("*.eml") if (key := _order(path))]
        return [path for _, path in sorted(named)]

    def latest(self, to: str) -> EmailMessage | None:
        """The newest message whose To header holds ``to`` (case-insensitive), or None."""
        wanted = parseaddr(to)[1].lower()
        suffix = f"-{_slug(wanted)}.eml"
        for path in self.messages()[::-1]:
            if not path.name.endswith(suffix):
                continue
            message = _parse(path.read_bytes())
            if wanted in (address.lower() for address in recipients(message)):
                return message
        return None


class TeeMailer:
    """Sends through each mailer in turn and returns the first one's id. A failure stops
    the tee: later mailers (the outbox) only record what the first one accepted."""

    def __init__(self, *mailers: Mailer) -> None:
        if not mailers:
            raise ValueError("TeeMailer needs at least one mailer")
        self.mailers = mailers

    def send(self, message: EmailMessage) -> str:
        ids = [mailer.send(message) for mailer in self.mailers]
        return ids[0]


class MemoryMailer:
    """The fake for unit tests: ``sent`` holds every accepted message; set ``fail_next`` to
    make the next send raise `MailError` with that text (once)."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail_next: str | None = None
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> str:
        _first_recipient(message)
        with self._lock:
            if self.fail_next is not None:
                reason, self.fail_next = self.fail_next, None
                raise MailError(reason)
            self.sent.append(message)
            return f"memory-{len(self.sent)}"

    def latest(self, to: str) -> EmailMessage | None:
        """The last message sent to ``to`` (case-insensitive), or None."""
        wanted = parseaddr(to)[1].lower()
        for message in self.sent[::-1]:
            if wanted in (address.lower() for address in recipients(message)):
                return message
        return None

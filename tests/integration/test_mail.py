"""Outbound email: SES v2 on moto (in-process and its HTTP server), the outbox directory,
the tee of both, the in-memory fake and the wiring."""

from __future__ import annotations

import email
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import RawMessage, ses_backends

from micromoments import wiring
from micromoments.adapters.mail import MemoryMailer, OutboxMailer, SesMailer, TeeMailer
from micromoments.config import config
from micromoments.ports import Mailer, MailError

pytestmark = pytest.mark.integration

SENDER = "micromoments@example.com"
SECRET_LINK = "https://micromoments.example.com/sign-in?token=s3cr3t-t0ken"


def message(
    to: str = "Zoë Ada <ada@example.com>",
    *,
    sender: str = f"Micromoments <{SENDER}>",
    subject: str = "Your week: 3 breathers, 1 coffee ☕",
    html: bool = True,
) -> EmailMessage:
    """A sign-in / digest-like message: multipart/alternative, non-ASCII, list headers."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["List-Unsubscribe"] = "<https://micromoments.example.com/unsubscribe?t=abc>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(f"Hallo Zoë,\n\nsign in: {SECRET_LINK}\n")
    if html:
        msg.add_alternative(f'<p>Hallo Zoë, <a href="{SECRET_LINK}">sign in</a></p>\n', "html")
    return msg


def ses_sent() -> list[RawMessage]:
    """What moto's SES recorded (SES v2 raw sends land in the v1 backend's list)."""
    region = boto3.Session().region_name  # the aws_env fixture's
    return list(ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages)


@pytest.fixture
def ses() -> Iterator[Any]:
    """moto in-process with the sender's identity verified; yields an sesv2 client."""
    with mock_aws():
        client = boto3.client("sesv2")
        client.create_email_identity(EmailIdentity=SENDER)
        yield client


# -- SES -----------------------------------------------------------------------------------


def test_ses_sends_the_raw_multipart_message(ses: Any) -> None:
    message_id = SesMailer(ses).send(message())

    [sent] = ses_sent()
    assert sent.id == message_id
    assert sent.source == SENDER  # SES read it from the From header
    assert any("ada@example.com" in destination for destination in sent.destinations)
    assert sent.raw_data.isascii()  # 7-bit on the wire: non-ASCII parts are encoded
    got = email.message_from_string(sent.raw_data, policy=policy.default)
    assert isinstance(got, EmailMessage)
    assert got["Subject"] == "Your week: 3 breathers, 1 coffee ☕"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got.get_content_type() == "multipart/alternative"
    plain, html = got.get_body(("plain",)), got.get_body(("html",))
    assert plain is not None and html is not None
    assert SECRET_LINK in plain.get_content() and "Zoë" in plain.get_content()
    assert f'href="{SECRET_LINK}"' in html.get_content()


def test_ses_passes_the_configuration_set_and_no_destination(ses: Any) -> None:
    captured: list[dict[str, Any]] = []
    ses.meta.events.register(
        "provide-client-params.sesv2.SendEmail", lambda params, **_: captured.append(params)
    )
    original = message()
    SesMailer(ses, configuration_set="micromoments-mail").send(original)

    [sent] = captured
    assert sent["ConfigurationSetName"] == "micromoments-mail"
    assert "Destination" not in sent and "FromEmailAddress" not in sent
    assert isinstance(sent["Content"]["Raw"]["Data"], bytes)
    assert b"Content-Transfer-Encoding: 8bit" in original.as_bytes()  # caller's copy untouched


def test_ses_unverified_sender_is_one_clear_line(ses: Any) -> None:
    with pytest.raises(MailError) as caught:
        SesMailer(ses).send(message(sender="stranger@elsewhere.example"))

    text = str(caught.value)
    assert text.startswith("SES refused the message to ada@example.com: MessageRejected: ")
    assert "stranger@elsewhere.example" in text
    assert "\n" not in text and "Traceback" not in text
    assert SECRET_LINK not in text and "s3cr3t" not in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert ses_sent() == []


def test_ses_unreachable_endpoint_is_one_clear_line() -> None:
    client = boto3.client(
        "sesv2",
        endpoint_url="http://127.0.0.1:9",
        config=BotoConfig(retries={"total_max_attempts": 1}, connect_timeout=2),
    )
    with pytest.raises(MailError) as caught:
        SesMailer(client).send(message())

    text = str(caught.value)
    assert text.startswith("cannot send the message to ada@example.com through SES: ")
    assert "\n" not in text and SECRET_LINK not in text
    assert caught.value.__cause__ is None


def test_ses_default_client_uses_standard_retries_and_aws_endpoint_url(
    moto_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built lazily from the standard AWS settings: AWS_ENDPOINT_URL reaches moto's server."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    sender = "digest@mail-test.example.com"
    boto3.client("sesv2").create_email_identity(EmailIdentity=sender)
    quota = boto3.client("ses")
    before = quota.get_send_quota()["SentLast24Hours"]

    mailer = SesMailer()
    assert mailer._client is None  # nothing built until the first send
    assert mailer.send(message(sender=sender))
    assert mailer.client.meta.config.retries == {"mode": "standard"}
    assert quota.get_send_quota()["SentLast24Hours"] == before + 1


# -- the outbox ------------------------------------------------------------------------------


def test_outbox_writes_eml_html_and_txt(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox" / "nested"  # created on the first send
    sent = message()
    stem = OutboxMailer(outbox).send(sent)

    assert re.fullmatch(r"\d{8}T\d{6}-1-ada-example-com", stem)
    assert sorted(p.name for p in outbox.iterdir()) == [
        f"{stem}.eml",
        f"{stem}.html",
        f"{stem}.txt",
    ]
    assert (outbox / f"{stem}.eml").read_bytes() == sent.as_bytes()
    html = (outbox / f"{stem}.html").read_text(encoding="utf-8")
    assert html == f'<p>Hallo Zoë, <a href="{SECRET_LINK}">sign in</a></p>\n'
    text = (outbox / f"{stem}.txt").read_text(encoding="utf-8")
    assert text == f"Hallo Zoë,\n\nsign in: {SECRET_LINK}\n"


def test_outbox_plain_text_message_has_no_html_file(tmp_path: Path) -> None:
    stem = OutboxMailer(tmp_path).send(message(html=False))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{stem}.eml", f"{stem}.txt"]


def test_outbox_names_use_the_utc_second(tmp_path: Path) -> None:
    clock = datetime(2025, 3, 30, 1, 59, 59, tzinfo=UTC)
    stem = OutboxMailer(tmp_path, now=lambda: clock).send(message())
    assert stem == "20250330T015959-1-ada-example-com"


def test_outbox_latest_round_trips_headers_and_parts(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path)
    first = message(subject="first")
    mailer.send(first)
    mailer.send(message("a.da@example.com", subject="same slug, other person"))
    mailer.send(message("bob@example.com", subject="someone else"))
    newest = message(subject="newest")
    newest["Reply-To"] = "team@example.com"
    mailer.send(newest)
    mailer.send(message("a-da@example.com", subject="same slug again"))

    got = mailer.latest("ADA@example.com")
    assert got is not None
    assert got["Subject"] == "newest"
    assert got["To"] == "Zoë Ada <ada@example.com>"
    assert got["From"] == f"Micromoments <{SENDER}>"
    assert got["Reply-To"] == "team@example.com"
    assert got["List-Unsubscribe"] == "<https://micromoments.example.com/unsubscribe?t=abc>"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain, html = got.get_body(("plain",)), got.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content() == f"Hallo Zoë,\n\nsign in: {SECRET_LINK}\n"
    assert SECRET_LINK in html.get_content()

    assert mailer.latest("Zoë Ada <ada@example.com>") is not None
    found = mailer.latest("a.da@example.com")
    assert found is not None and found["Subject"] == "same slug, other person"
    assert mailer.latest("nobody@example.com") is None
    assert OutboxMailer(tmp_path / "missing").latest("ada@example.com") is None


def test_outbox_numbering_continues_across_runs(tmp_path: Path) -> None:
    clock = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    first_run = OutboxMailer(tmp_path, now=lambda: clock)
    for _ in range(10):
        first_run.send(message(subject="old"))
    second_run = OutboxMailer(tmp_path, now=lambda: clock)  # same second, fresh process
    stem = second_run.send(message(subject="new"))

    assert stem == "20250106T090000-11-ada-example-com"
    got = second_run.latest("ada@example.com")
    assert got is not None and got["Subject"] == "new"  # 11 sorts after 9 and 10


def test_outbox_names_never_collide_across_50_threads(tmp_path: Path) -> None:
    clock = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)  # every send in the same second
    mailers = [OutboxMailer(tmp_path, now=lambda: clock) for _ in range(2)]  # two "processes"
    start = threading.Barrier(50)
    stems: list[str] = []
    errors: list[BaseException] = []

    def send(index: int) -> None:
        try:
            start.wait()
            stems.append(mailers[index % 2].send(message(f"user{index}@example.com")))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(stems)) == 50
    assert len(list(tmp_path.glob("*.eml"))) == 50
    assert not list(tmp_path.glob(".*"))  # no drafts left behind
    for index in range(50):
        got = mailers[0].latest(f"user{index}@example.com")
        assert got is not None and got["To"] == f"user{index}@example.com"


def test_outbox_unwritable_directory_is_a_mail_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(MailError, match=r"^cannot write the message to ada@example\.com into "):
        OutboxMailer(blocker / "outbox").send(message())


# -- the tee, the fake, the header checks ----------------------------------------------------


def test_tee_sends_through_ses_and_the_outbox(ses: Any, tmp_path: Path) -> None:
    outbox = OutboxMailer(tmp_path)
    message_id = TeeMailer(SesMailer(ses), outbox).send(message())

    [sent] = ses_sent()
    assert message_id == sent.id
    got = outbox.latest("ada@example.com")
    assert got is not None and got["Subject"] == "Your week: 3 breathers, 1 coffee ☕"


def test_tee_stops_when_ses_refuses(ses: Any, tmp_path: Path) -> None:
    outbox = OutboxMailer(tmp_path)
    with pytest.raises(MailError, match="MessageRejected"):
        TeeMailer(SesMailer(ses), outbox).send(message(sender="stranger@elsewhere.example"))
    assert outbox.latest("ada@example.com") is None


def test_tee_needs_a_mailer() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TeeMailer()


def test_memory_mailer_records_and_fails_once() -> None:
    mailer = MemoryMailer()
    assert mailer.send(message()) == "memory-1"
    mailer.fail_next = "SES refused the message to bob@example.com: Throttling: slow down"
    with pytest.raises(MailError, match=r"^SES refused the message to bob@example\.com"):
        mailer.send(message("bob@example.com"))
    assert mailer.fail_next is None
    assert mailer.send(message("bob@example.com", subject="again")) == "memory-2"
    assert [m["Subject"] for m in mailer.sent] == ["Your week: 3 breathers, 1 coffee ☕", "again"]
    got = mailer.latest("BOB@example.com")
    assert got is not None and got["Subject"] == "again"
    assert mailer.latest("carol@example.com") is None


@pytest.mark.parametrize("header", ["From", "To", "Subject"])
@pytest.mark.parametrize("kind", ["memory", "outbox", "ses"])
def test_a_message_missing_a_required_header_is_refused(
    header: str, kind: str, tmp_path: Path
) -> None:
    incomplete = message()
    del incomplete[header]
    with mock_aws():
        mailers: dict[str, Mailer] = {
            "memory": MemoryMailer(),
            "outbox": OutboxMailer(tmp_path),
            "ses": SesMailer(boto3.client("sesv2")),
        }
        with pytest.raises(MailError, match=rf"^the message has no {header} header$"):
            mailers[kind].send(incomplete)
    assert list(tmp_path.iterdir()) == []


# -- wiring ----------------------------------------------------------------------------------


@pytest.fixture
def fresh_wiring() -> Iterator[None]:
    config.cache_clear()
    wiring.mailer.cache_clear()
    yield
    config.cache_clear()
    wiring.mailer.cache_clear()


@pytest.mark.usefixtures("fresh_wiring")
def test_wiring_mailer_is_ses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MICROMOMENTS_OUTBOX_DIR", raising=False)
    mailer = wiring.mailer()
    assert isinstance(mailer, SesMailer)
    assert wiring.mailer() is mailer


@pytest.mark.usefixtures("fresh_wiring")
def test_wiring_mailer_tees_into_the_outbox_when_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MICROMOMENTS_OUTBOX_DIR", str(tmp_path / "outbox"))
    mailer = wiring.mailer()
    assert isinstance(mailer, TeeMailer)
    ses, outbox = mailer.mailers
    assert isinstance(ses, SesMailer)
    assert isinstance(outbox, OutboxMailer) and outbox.directory == tmp_path / "outbox"
    with mock_aws():
        boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
        assert mailer.send(message()) == ses_sent()[0].id
    assert len(outbox.messages()) == 1

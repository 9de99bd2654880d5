"""The one seam between the code and the outside (STYLE.md 4, 14, 15): every port in
`ports.py`; `wiring` hands out ports; each function checks its own settings at cold start
with one line; every handler takes its dependencies as an argument; the queue workers share
one batch skeleton; handler modules stay small."""

from __future__ import annotations

import ast
import inspect
import json
import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import micromoments
from micromoments import ports, wiring
from micromoments.config import Config, ConfigError

ROOT = Path(micromoments.__file__).parent
HANDLERS = sorted(p for p in (ROOT / "handlers").glob("*.py") if p.name != "__init__.py")


def _protocols(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(
            getattr(base, "id", getattr(base, "attr", None)) == "Protocol" for base in node.bases
        )
    ]


def test_every_port_is_in_ports_py() -> None:
    """Services, the site and the handlers define no Protocol of their own (the scan queue
    was defined twice in services, the digest queue once)."""
    for folder in ("services", "web", "email", "handlers", "domain"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            assert _protocols(path) == [], f"{path.relative_to(ROOT)} defines a port"
    assert {"Store", "CalendarGateway", "Mailer", "ScanQueue", "DigestQueue"} <= set(
        _protocols(ROOT / "ports.py")
    )


@pytest.mark.parametrize(
    "name", ["store", "calendar_gateway", "default_calendar_gateway", "scan_queue",
             "digest_queue", "mailer"],
)  # fmt: skip
def test_wiring_hands_out_ports_not_adapters(name: str) -> None:
    returned = inspect.signature(getattr(wiring, name)).return_annotation
    assert returned in vars(ports) and _protocols(ROOT / "ports.py").count(returned) == 1, (
        name,
        returned,
    )


# -- each function's settings -----------------------------------------------------------------

FULL = Config(
    table_name="t",
    scan_queue_url="https://sqs.example/scan",
    digest_queue_url="https://sqs.example/digest",
    signing_key_secret="mm/signing",
    public_base_url="https://mm.example.com",
    sender_address="mm@example.com",
)


@pytest.mark.parametrize(
    ("model", "needs"),
    [
        ("ScanSettings", {"MICROMOMENTS_TABLE_NAME"}),
        ("DispatchSettings", {"MICROMOMENTS_TABLE_NAME", "MICROMOMENTS_SCAN_QUEUE_URL"}),
        ("PairSettings", {"MICROMOMENTS_TABLE_NAME", "MICROMOMENTS_SCAN_QUEUE_URL",
                        "MICROMOMENTS_SIGNING_KEY_SECRET"}),
        ("DigestDispatchSettings", {"MICROMOMENTS_TABLE_NAME", "MICROMOMENTS_DIGEST_QUEUE_URL"}),
        ("DigestSendSettings", {"MICROMOMENTS_TABLE_NAME", "MICROMOMENTS_SIGNING_KEY_SECRET",
                              "MICROMOMENTS_PUBLIC_BASE_URL", "MICROMOMENTS_SENDER_ADDRESS"}),
        ("SiteSettings", {"MICROMOMENTS_TABLE_NAME", "MICROMOMENTS_SCAN_QUEUE_URL",
                        "MICROMOMENTS_SIGNING_KEY_SECRET", "MICROMOMENTS_PUBLIC_BASE_URL",
                        "MICROMOMENTS_SENDER_ADDRESS"}),
    ],
)  # fmt: skip
def test_each_function_names_every_missing_setting_in_one_line(model: str, needs: set[str]) -> None:
    from micromoments import config

    function_settings = config.function_settings
    settings = getattr(config, model)
    assert function_settings(settings, FULL).table_name == "t"
    with pytest.raises(ConfigError) as raised:
        function_settings(settings, Config())
    line = str(raised.value)
    assert "\n" not in line
    named = {part.split(" is not set")[0] for part in line.split("; ")}
    assert named == needs
    assert all(" is not set: " in part for part in line.split("; "))  # each says why


def test_the_digest_dispatch_waits_for_the_site_url_rather_than_failing() -> None:
    from micromoments.config import DigestDispatchSettings, function_settings

    unset = FULL.model_copy(update={"public_base_url": None})
    assert function_settings(DigestDispatchSettings, unset).ready is False
    assert function_settings(DigestDispatchSettings, FULL).ready is True


class Context:
    function_name = "seam"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:seam"
    aws_request_id = "req-1"


@pytest.mark.parametrize(
    ("module", "entry", "event"),
    [("scan", "handler", {"Records": []}), ("dispatch", "handler", {}), ("pair", "handler", {}),
     ("digest", "dispatch_handler", {}), ("digest_send", "handler", {"Records": []})],
)  # fmt: skip
def test_a_function_without_its_settings_fails_at_the_start_with_one_line(
    monkeypatch: pytest.MonkeyPatch, module: str, entry: str, event: dict[str, Any]
) -> None:
    import importlib

    from micromoments.config import config

    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    for name in [n for n in os.environ if n.startswith("MICROMOMENTS_")]:
        monkeypatch.delenv(name)
    config.cache_clear()
    handler = getattr(importlib.import_module(f"micromoments.handlers.{module}"), entry)
    try:
        with pytest.raises(ConfigError, match=r"^MICROMOMENTS_TABLE_NAME is not set: "):
            handler(event, Context())
    finally:
        config.cache_clear()


# -- dependencies are arguments -----------------------------------------------------------------


def _entry_points() -> list[tuple[str, Callable[..., Any]]]:
    import importlib

    found = []
    for path in HANDLERS:
        module = importlib.import_module(f"micromoments.handlers.{path.stem}")
        for name, value in vars(module).items():
            if callable(value) and (name == "handler" or name.endswith("_handler")):
                found.append((f"{path.stem}.{name}", value))
    return found


def test_every_handler_takes_its_dependencies_as_an_optional_argument() -> None:
    entries = _entry_points()
    names = {name for name, _ in entries}
    assert {"scan.handler", "dispatch.handler", "pair.handler", "web.handler",
            "digest.dispatch_handler", "digest_send.handler"} <= names  # fmt: skip
    for name, entry in entries:
        deps = inspect.signature(inspect.unwrap(entry)).parameters.get("deps")
        assert deps is not None and deps.default is None, name


def test_every_handler_module_is_under_80_lines() -> None:
    for path in HANDLERS:
        assert len(path.read_text().splitlines()) < 80, path.name


# -- the queue workers' skeleton ----------------------------------------------------------------


def _record(body: str) -> dict[str, Any]:
    return {"messageId": uuid.uuid4().hex, "receiptHandle": "rh", "body": body,
            "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
            "md5OfBody": "", "eventSource": "aws:sqs", "awsRegion": "eu-west-1",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:q"}  # fmt: skip


class Unreadable(Exception):
    pass


def _read(body: str) -> str:
    try:
        return str(json.loads(body)["who"])
    except (ValueError, KeyError, TypeError):
        raise Unreadable("not a request") from None


def test_the_batch_skeleton_drops_unreadable_records_and_returns_failed_ones_alone() -> None:
    from micromoments.queue_batch import process_batch

    good, bad, unreadable = (_record('{"who": "a"}'), _record('{"who": "b"}'),
                             _record("{not json"))  # fmt: skip
    seen: list[Mapping[str, str]] = []
    handled: list[str] = []

    def work(requests: Mapping[str, str]) -> Callable[[str], None]:
        seen.append(dict(requests))  # the whole batch at once, so its I/O may overlap

        def one(who: str) -> None:
            handled.append(who)
            if who == "b":
                raise RuntimeError("failed")

        return one

    event = {"Records": [good, bad, unreadable]}
    answer = process_batch(event, None, _read, (Unreadable,), work)
    assert answer == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]}]}
    assert seen == [{good["messageId"]: "a", bad["messageId"]: "b"}]
    assert sorted(handled) == ["a", "b"]


def test_a_site_without_its_settings_answers_503_and_health_still_answers(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from micromoments.config import config
    from micromoments.handlers import web
    from micromoments.local.web_bridge import call

    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    for name in [n for n in os.environ if n.startswith("MICROMOMENTS_")]:
        monkeypatch.delenv(name)
    config.cache_clear()
    try:
        assert call(web.handler, "GET", "/health").status == 200
        assert call(web.handler, "GET", "/preferences").status == 503
    finally:
        config.cache_clear()
    (logged,) = [r for r in caplog.records if r.getMessage() == "site misconfigured"]
    reason = str(getattr(logged, "reason", ""))
    assert "MICROMOMENTS_TABLE_NAME is not set" in reason
    assert "MICROMOMENTS_SIGNING_KEY_SECRET is not set" in reason

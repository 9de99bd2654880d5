"""The operator commands take the deployed stack's settings (issue 14, "Deploy traps").

A stack is made in moto's server through CloudFormation with a minimal template whose
outputs name what the real template's do (TableName, the queues, the two secrets, SiteUrl,
HttpApiId); the commands then run as separate processes with only ``--stack NAME``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest

from micromoments.adapters.dynamo import create_table

CLI = str(Path(sys.executable).with_name("micromoments"))
# A region of its own in the shared moto server: other tests' `init` without a stack must
# not meet these stacks.
REGION = "ca-central-1"


def _template(outputs: dict[str, str]) -> str:
    """A stack with one harmless resource and the given literal outputs."""
    return json.dumps(
        {
            "Resources": {"Marker": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
    )


@pytest.fixture
def base_env(moto_server_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MICROMOMENTS_"))}
    env.update(
        AWS_ENDPOINT_URL=moto_server_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
    )
    return env


def _client(service: str, url: str) -> object:
    return boto3.client(service, endpoint_url=url, region_name=REGION)


@pytest.fixture
def site() -> Iterator[str]:
    """A stand-in for the deployed site: /health answers 200, everything else 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def stack(moto_server_url: str, site: str) -> dict[str, str]:
    """A deployed 'stack': its table, queues, secrets and HTTP API exist in moto."""
    name = f"mm-{uuid.uuid4().hex[:8]}"
    url = moto_server_url
    table = f"{name}-table"
    assert create_table(_client("dynamodb", url), table)  # type: ignore[arg-type]
    sqs = _client("sqs", url)
    scan = sqs.create_queue(QueueName=f"{name}-scan")["QueueUrl"]  # type: ignore[attr-defined]
    digest = sqs.create_queue(QueueName=f"{name}-digest")["QueueUrl"]  # type: ignore[attr-defined]
    sm = _client("secretsmanager", url)
    signing = sm.create_secret(  # type: ignore[attr-defined]
        Name=f"{name}/signing-key", SecretString=uuid.uuid4().hex * 2
    )["ARN"]
    google = sm.create_secret(Name=f"{name}/google-key", SecretString="{}")["ARN"]  # type: ignore[attr-defined]
    api = _client("apigatewayv2", url)
    api_id = api.create_api(Name=name, ProtocolType="HTTP")["ApiId"]  # type: ignore[attr-defined]
    api.create_stage(  # type: ignore[attr-defined]
        ApiId=api_id,
        StageName="$default",
        DefaultRouteSettings={"ThrottlingBurstLimit": 50, "ThrottlingRateLimit": 20},
    )
    outputs = {
        "TableName": table,
        "ScanQueueUrl": scan,
        "DigestQueueUrl": digest,
        "SigningKeySecretArn": signing,
        "GoogleKeySecretArn": google,
        "SiteUrl": site,
        "HttpApiId": api_id,
    }
    _client("cloudformation", url).create_stack(  # type: ignore[attr-defined]
        StackName=name, TemplateBody=_template(outputs)
    )
    return {"name": name, **outputs}


def mm(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_stack_outputs_become_the_commands_settings(
    stack: dict[str, str], moto_server_url: str
) -> None:
    from micromoments.ops.stack import stack_settings

    settings = stack_settings(stack["name"], client=_client("cloudformation", moto_server_url))
    assert settings.environment == {
        "MICROMOMENTS_TABLE_NAME": stack["TableName"],
        "MICROMOMENTS_SCAN_QUEUE_URL": stack["ScanQueueUrl"],
        "MICROMOMENTS_DIGEST_QUEUE_URL": stack["DigestQueueUrl"],
        "MICROMOMENTS_GOOGLE_KEY_SECRET": stack["GoogleKeySecretArn"],
        "MICROMOMENTS_SIGNING_KEY_SECRET": stack["SigningKeySecretArn"],
        "MICROMOMENTS_PUBLIC_BASE_URL": stack["SiteUrl"],
    }


def test_env_prints_an_export_block_of_the_stacks_secrets(
    stack: dict[str, str], base_env: dict[str, str]
) -> None:
    done = mm(base_env, "--stack", stack["name"], "env")
    assert done.returncode == 0, done.stderr
    assert f"export MICROMOMENTS_SIGNING_KEY_SECRET={stack['SigningKeySecretArn']}" in done.stdout
    assert f"export MICROMOMENTS_TABLE_NAME={stack['TableName']}" in done.stdout
    assert "signing-key" in stack["SigningKeySecretArn"]

    missing = mm(base_env, "--stack", "no-such-stack", "env")
    assert missing.returncode == 1
    assert "cannot read stack 'no-such-stack'" in missing.stderr


def test_init_with_the_stack_uses_its_key_and_creates_no_second_one(
    stack: dict[str, str], base_env: dict[str, str], moto_server_url: str
) -> None:
    sm = _client("secretsmanager", moto_server_url)
    before = {s["Name"] for s in sm.list_secrets()["SecretList"]}  # type: ignore[attr-defined]

    done = mm(base_env, "--stack", stack["name"], "init")
    assert done.returncode == 0, done.stderr
    assert "the stack's" in done.stdout
    people = mm(base_env, "--stack", stack["name"], "people", "list", "--json")
    assert people.returncode == 0, people.stderr
    assert json.loads(people.stdout) == {"people": []}

    # The README's old example: a secret of its own, while a stack is deployed.
    own = base_env | {
        "MICROMOMENTS_TABLE_NAME": stack["TableName"],
        "MICROMOMENTS_SIGNING_KEY_SECRET": "micromoments/signing-key-of-my-own",
    }
    refused = mm(own, "init")
    assert refused.returncode == 1
    assert "has its own signing key" in refused.stderr
    mixed = mm(own, "--stack", stack["name"], "init")
    assert mixed.returncode == 1
    assert "MICROMOMENTS_SIGNING_KEY_SECRET is set to" in mixed.stderr

    after = {s["Name"] for s in sm.list_secrets()["SecretList"]}  # type: ignore[attr-defined]
    assert after == before


def test_doctor_with_the_stack_checks_the_http_api(
    stack: dict[str, str], base_env: dict[str, str]
) -> None:
    done = mm(base_env, "--stack", stack["name"], "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["health route"]["status"] == "ok", checks["health route"]
    assert checks["API throttling"]["status"] == "ok", checks["API throttling"]
    assert "burst 50" in checks["API throttling"]["detail"]


def test_doctor_fails_a_stage_without_throttling_and_a_dead_health_route(
    moto_server_url: str,
) -> None:
    from micromoments.ops import doctor

    api = _client("apigatewayv2", moto_server_url)
    api_id = api.create_api(Name="bare", ProtocolType="HTTP")["ApiId"]  # type: ignore[attr-defined]
    api.create_stage(ApiId=api_id, StageName="$default")  # type: ignore[attr-defined]
    bare = doctor.check_api_throttling(api, api_id)
    assert bare.status is doctor.Status.FAIL
    assert "no default throttling" in bare.detail

    down = doctor.check_health(lambda url: 503, "https://site.example/")
    assert down.status is doctor.Status.FAIL
    assert "https://site.example/health answered 503" in down.detail

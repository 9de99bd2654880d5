"""Store backends for the integration suite: in memory, moto in-process, moto's HTTP server.

Every DynamoDB table is created from the ``Table`` resource of template.yaml through
`create_table` (STYLE.md 9). Fake credentials and region are set for every test here, and
the standard endpoint variables are cleared, so nothing can reach real AWS.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from micromoments.adapters.dynamo import create_table, dynamo_store
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore

REGION = "eu-west-1"

# moto backends talk to real (in-process or loopback) servers: marked `integration`.
BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("moto", id="moto", marks=pytest.mark.integration),
    pytest.param("moto_server", id="moto_server", marks=pytest.mark.integration),
]


@pytest.fixture(scope="session")
def moto_server_url() -> Iterator[str]:
    """moto's HTTP server on a free loopback port, for the whole session."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fake credentials and region; no profile, config file or endpoint from the machine."""
    nowhere = tmp_path_factory.getbasetemp() / "no-aws-config"
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(nowhere))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


def table_name() -> str:
    return f"micromoments-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, aws_env: None) -> Iterator[TableStore]:
    """A fresh, empty Store on each backend.

    ``store.table`` is the backend's table: a `MemoryTable`, or a `DynamoTable` whose
    ``client`` and ``name`` tests use to read raw items or build a second store.
    """
    backend = request.param
    if backend == "memory":
        yield TableStore(MemoryTable())
    elif backend == "moto":
        with mock_aws():
            client = boto3.client("dynamodb")
            name = table_name()
            assert create_table(client, name)
            yield dynamo_store(name, client=client)
    else:
        url = request.getfixturevalue("moto_server_url")
        client = boto3.client("dynamodb", endpoint_url=url)
        name = table_name()
        assert create_table(client, name)
        try:
            yield dynamo_store(name, client=client)
        finally:
            client.delete_table(TableName=name)

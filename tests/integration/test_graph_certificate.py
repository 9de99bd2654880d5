"""Certificate credentials on the local Graph server over loopback: its token endpoint
checks a client assertion as Entra ID does (signature by a registered certificate, aud,
iss/sub, the time window, x5t, a jti used once), and the real transport gets a token with
one and calls Graph, from a certificate in the Graph secret too."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from micromoments import wiring
from micromoments.adapters.graph_calendar import (
    ClientCertificate,
    GraphCalendarGateway,
    GraphTransport,
)
from micromoments.adapters.secrets import SecretError
from micromoments.config import Config
from micromoments.domain.people import PersonStatus
from micromoments.local.graph_api import GraphServer
from micromoments.ports import CalendarCounters, CalendarError
from tests.certificates import self_signed

pytestmark = pytest.mark.integration

ADA = "ada@example.com"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def registered() -> tuple[str, str]:
    """The certificate uploaded to the app, and its key."""
    return self_signed("micromoments")


@pytest.fixture(scope="module")
def stranger() -> tuple[str, str]:
    """A certificate the app does not know, and its key."""
    return self_signed("someone else")


@pytest.fixture
def server(registered: tuple[str, str]) -> Iterator[GraphServer]:
    graph = GraphServer(certificates=[registered[0]]).start()
    graph.add_mailbox(ADA, timezone="W. Europe Standard Time")
    try:
        yield graph
    finally:
        graph.stop()


def token_url(server: GraphServer) -> str:
    return f"{server.authority}{server.tenant}/oauth2/v2.0/token"


def ask(server: GraphServer, **fields: str) -> tuple[int, dict[str, Any]]:
    form = {
        "grant_type": "client_credentials",
        "client_id": server.client_id,
        "scope": "https://graph.microsoft.com/.default",
        "client_assertion_type": ASSERTION_TYPE,
        **fields,
    }
    reply = requests.post(token_url(server), data=form, timeout=10)
    return reply.status_code, reply.json()


def test_a_good_assertion_gets_a_token_graph_accepts(
    server: GraphServer, registered: tuple[str, str]
) -> None:
    assertion = ClientCertificate(*registered).assertion(server.client_id, token_url(server))
    status, body = ask(server, client_assertion=assertion)
    assert status == 200 and body["token_type"] == "Bearer"
    reply = requests.get(
        f"{server.base_url}users/{ADA}/mailboxSettings",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert reply.status_code == 200


def refused(
    server: GraphServer, registered: tuple[str, str], stranger: tuple[str, str]
) -> dict[str, str]:
    """Assertions the endpoint must refuse, by what is wrong with them."""
    ours = ClientCertificate(*registered)
    forged = ClientCertificate(*stranger)
    url, client = token_url(server), server.client_id
    unknown = forged.assertion(client, url)
    forged.thumbprint = ours.thumbprint  # names our certificate, signed with another key
    used = ours.assertion(client, url)
    assert ask(server, client_assertion=used)[0] == 200
    return {
        "the signature does not verify": forged.assertion(client, url),
        "x5t names no certificate": unknown,
        "expired": ours.assertion(client, url, now=time.time() - 3600),
        "aud is not this token endpoint": ours.assertion(
            client, f"https://login.microsoftonline.com/{server.tenant}/oauth2/v2.0/token"
        ),
        "iss and sub must be the client id": ours.assertion("another-app", url),
        "used before": used,
        "not a JWT": "not.a.jwt",
    }


def test_a_wrong_assertion_is_refused_as_invalid_client(
    server: GraphServer, registered: tuple[str, str], stranger: tuple[str, str]
) -> None:
    for reason, assertion in refused(server, registered, stranger).items():
        status, body = ask(server, client_assertion=assertion)
        assert (status, body["error"]) == (401, "invalid_client"), reason
        assert reason in body["error_description"]


def test_an_assertion_for_another_client_id_or_with_a_secret_is_refused(
    server: GraphServer, registered: tuple[str, str]
) -> None:
    ours = ClientCertificate(*registered)
    good = ours.assertion(server.client_id, token_url(server))
    assert ask(server, client_assertion=good, client_id="another-app")[0] == 401
    both = ours.assertion(server.client_id, token_url(server))
    assert ask(server, client_assertion=both, client_secret=server.client_secret)[0] == 400
    other_type = ours.assertion(server.client_id, token_url(server))
    assert ask(server, client_assertion=other_type, client_assertion_type="saml")[0] == 400


def gateway(server: GraphServer, credential: ClientCertificate) -> GraphCalendarGateway:
    transport = GraphTransport(
        api_url=server.base_url,
        authority=server.authority,
        tenant=server.tenant,
        client_id=server.client_id,
        credential=credential,
        counters=CalendarCounters(),
    )
    return GraphCalendarGateway(
        transport, status_of=lambda email: PersonStatus.ACTIVE, ours=lambda email: set()
    )


def test_the_transport_gets_its_tokens_with_the_certificate(
    server: GraphServer, registered: tuple[str, str]
) -> None:
    graph = gateway(server, ClientCertificate(*registered))
    assert graph.timezone(ADA) == "Europe/Berlin"
    server.expire_tokens()  # the next token needs a new assertion (a jti is used once)
    assert graph.timezone(ADA) == "Europe/Berlin"
    assert graph.counters.oauth_round_trips == server.counters.oauth_round_trips == 2


def test_an_unknown_certificate_fails_clearly(
    server: GraphServer, stranger: tuple[str, str]
) -> None:
    graph = gateway(server, ClientCertificate(*stranger))
    with pytest.raises(CalendarError, match="Graph token: 401 invalid_client") as caught:
        graph.timezone(ADA)
    assert "PRIVATE" not in str(caught.value) and "CERTIFICATE" not in str(caught.value)


def test_wiring_reads_the_certificate_from_the_graph_secret(
    server: GraphServer, registered: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    settings = Config(
        graph_api_url=server.base_url,
        graph_authority=server.authority,
        graph_tenant_id=server.tenant,
        graph_client_id=server.client_id,
        graph_secret="mm/graph",
    )
    certificate_pem, key_pem = registered
    pems = {"certificate_pem": certificate_pem, "private_key_pem": key_pem}

    def built() -> Any:
        return wiring.graph_gateway(
            settings,
            status_of=lambda email: PersonStatus.ACTIVE,
            read_status_of=lambda email: PersonStatus.ACTIVE,
            ours=lambda email: set(),
            mirrored_holds=lambda email: [],
        )

    with mock_aws():
        secrets = boto3.client("secretsmanager")
        secrets.create_secret(Name="mm/graph", SecretString=json.dumps(pems))
        graph = built()
        secrets.put_secret_value(SecretId="mm/graph", SecretString=json.dumps({"pem": key_pem}))
        with pytest.raises(SecretError, match="'mm/graph' holds neither") as caught:
            built()
    assert key_pem.splitlines()[1] not in str(caught.value)
    assert graph.timezone(ADA) == "Europe/Berlin"
    assert server.counters.oauth_round_trips == 1

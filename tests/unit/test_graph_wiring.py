"""The org's ``calendar_provider`` picks the gateway `wiring.calendar_gateway` builds."""

from __future__ import annotations

import pytest

from micromoments import wiring
from micromoments.adapters.google_calendar import GoogleCalendarGateway
from micromoments.adapters.memory import memory_store
from micromoments.config import Config, ConfigError
from micromoments.domain.settings import OrgSettings


def test_google_is_the_default_provider() -> None:
    store = memory_store()
    assert isinstance(wiring.calendar_gateway(Config(), table=store), GoogleCalendarGateway)
    store.put_settings(OrgSettings())
    assert isinstance(wiring.calendar_gateway(Config(), table=store), GoogleCalendarGateway)


def test_a_microsoft_org_needs_its_app_registration() -> None:
    store = memory_store()
    store.put_settings(OrgSettings().updated({"calendar_provider": "microsoft"}))
    with pytest.raises(ConfigError, match="MICROMOMENTS_GRAPH_TENANT_ID"):
        wiring.calendar_gateway(Config(), table=store)


def test_graph_settings_come_from_the_environment() -> None:
    settings = Config.from_environ(
        {
            "MICROMOMENTS_GRAPH_API_URL": "http://127.0.0.1:9/v1.0",
            "MICROMOMENTS_GRAPH_TENANT_ID": "contoso.onmicrosoft.com",
            "MICROMOMENTS_GRAPH_CLIENT_ID": "app",
            "MICROMOMENTS_GRAPH_SECRET": "micromoments/graph",
        }
    )
    assert settings.graph_api_url == "http://127.0.0.1:9/v1.0/"
    assert settings.graph_authority == "https://login.microsoftonline.com/"
    with pytest.raises(ConfigError, match="MICROMOMENTS_GRAPH_AUTHORITY"):
        Config.from_environ({"MICROMOMENTS_GRAPH_AUTHORITY": "login.example"})

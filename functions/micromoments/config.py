"""Settings from the environment, validated once (DESIGN.md "Settings", STYLE.md 3).

Logic never reads ``os.environ``: it receives a `Config`. `config()` reads and caches it;
tests build their own with `Config.from_environ({...})`. AWS itself is configured through
the standard variables (AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, …) that boto3 reads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from micromoments.domain.errors import DomainError

DEFAULT_CALENDAR_API_URL = "https://www.googleapis.com/calendar/v3/"
DEFAULT_GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
DEFAULT_GOOGLE_AUTHORIZE_URI = "https://accounts.google.com/o/oauth2/v2/auth"
DEFAULT_GOOGLE_REVOKE_URI = "https://oauth2.googleapis.com/revoke"
DEFAULT_GRAPH_API_URL = "https://graph.microsoft.com/v1.0/"
DEFAULT_GRAPH_AUTHORITY = "https://login.microsoftonline.com/"
NOTIFY_ROUTE = "/calendar/notify"  # the HTTP API route of the notify function

_ENV = {
    "table_name": "MICROMOMENTS_TABLE_NAME",
    "calendar_api_url": "MICROMOMENTS_CALENDAR_API_URL",
    "google_token_uri": "MICROMOMENTS_GOOGLE_TOKEN_URI",
    "calendar_api_token": "MICROMOMENTS_CALENDAR_API_TOKEN",
    "google_key_secret": "MICROMOMENTS_GOOGLE_KEY_SECRET",
    "google_oauth_client_secret": "MICROMOMENTS_GOOGLE_OAUTH_CLIENT_SECRET",
    "grant_key_id": "MICROMOMENTS_GRANT_KEY_ID",
    "google_authorize_uri": "MICROMOMENTS_GOOGLE_AUTHORIZE_URI",
    "google_revoke_uri": "MICROMOMENTS_GOOGLE_REVOKE_URI",
    "signing_key_secret": "MICROMOMENTS_SIGNING_KEY_SECRET",
    "public_base_url": "MICROMOMENTS_PUBLIC_BASE_URL",
    "scan_queue_url": "MICROMOMENTS_SCAN_QUEUE_URL",
    "digest_queue_url": "MICROMOMENTS_DIGEST_QUEUE_URL",
    "sender_address": "MICROMOMENTS_SENDER_ADDRESS",
    "outbox_dir": "MICROMOMENTS_OUTBOX_DIR",
    "sign_in_per_source_per_hour": "MICROMOMENTS_SIGN_IN_PER_SOURCE_PER_HOUR",
    "push_window_seconds": "MICROMOMENTS_PUSH_WINDOW_SECONDS",
    "graph_api_url": "MICROMOMENTS_GRAPH_API_URL",
    "graph_authority": "MICROMOMENTS_GRAPH_AUTHORITY",
    "graph_tenant_id": "MICROMOMENTS_GRAPH_TENANT_ID",
    "graph_client_id": "MICROMOMENTS_GRAPH_CLIENT_ID",
    "graph_secret": "MICROMOMENTS_GRAPH_SECRET",
}


class ConfigError(DomainError):
    """A setting is missing or malformed (the message names the variable)."""


class Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    table_name: str | None = None
    calendar_api_url: str = DEFAULT_CALENDAR_API_URL
    google_token_uri: str = DEFAULT_GOOGLE_TOKEN_URI
    calendar_api_token: str | None = None
    google_key_secret: str | None = None
    # per-person OAuth (docs/google-access.md): the OAuth client's secret, the KMS key that
    # seals refresh tokens, and Google's authorization and revocation endpoints
    google_oauth_client_secret: str | None = None
    grant_key_id: str | None = None
    google_authorize_uri: str = DEFAULT_GOOGLE_AUTHORIZE_URI
    google_revoke_uri: str = DEFAULT_GOOGLE_REVOKE_URI
    signing_key_secret: str | None = None
    public_base_url: str | None = None
    scan_queue_url: str | None = None
    digest_queue_url: str | None = None
    sender_address: str | None = None
    # Local runs: every sent message is also written here as .eml (+ .html/.txt).
    outbox_dir: Path | None = None
    # Sign-in links one source (an IPv4 address or an IPv6 /64) may ask for in an hour,
    # every address together: an office behind one NAT signs in from one source on
    # rollout day (docs/decisions.md, "Sign-in rate limits").
    sign_in_per_source_per_hour: int = Field(500, ge=1, le=1_000_000)
    # Push notifications of one person within a window are one scan, started at the
    # window's end (docs/decisions.md, "One push scan per person a minute"); the demo
    # shortens it, and says so (docs/decisions.md, "The demo measures the push path").
    push_window_seconds: int = Field(60, ge=1, le=900)
    # Microsoft Graph (an org whose calendar_provider is microsoft): the API base, the
    # Entra ID authority, the tenant and app registration, and the Secrets Manager id of
    # the app's credential (a certificate and its key, or a client secret).
    graph_api_url: str = DEFAULT_GRAPH_API_URL
    graph_authority: str = DEFAULT_GRAPH_AUTHORITY
    graph_tenant_id: str | None = None
    graph_client_id: str | None = None
    graph_secret: str | None = None

    @field_validator("calendar_api_url", "graph_api_url", "graph_authority")
    @classmethod
    def _ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("sign_in_per_source_per_hour", "push_window_seconds", mode="before")
    @classmethod
    def _ascii_number(cls, value: object) -> object:
        if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,7}", value.strip()):
            raise ValueError("must be a whole number written with the digits 0-9")
        return value

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Config:
        values = {field: environ[name] for field, name in _ENV.items() if environ.get(name)}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            error = exc.errors()[0]
            name = _ENV.get(str(error["loc"][0]), str(error["loc"][0]))
            raise ConfigError(f"{name}: {error['msg']}") from None

    @property
    def notify_address(self) -> str | None:
        """Where Google sends push notifications: the notify route under the public base
        URL (docs/decisions.md "Push notifications"); None when no base URL is set."""
        if not self.public_base_url:
            return None
        return self.public_base_url.rstrip("/") + NOTIFY_ROUTE

    @property
    def push_window(self) -> timedelta:
        return timedelta(seconds=self.push_window_seconds)

    def require_table(self) -> str:
        if not self.table_name:
            raise ConfigError("MICROMOMENTS_TABLE_NAME is not set: name the DynamoDB table to use")
        return self.table_name


@cache
def config() -> Config:
    """The process's settings, read once."""
    return Config.from_environ(os.environ)


# -- each function's own settings (STYLE.md 14) ----------------------------------------------

_Needs = TypeVar("_Needs", bound="FunctionSettings")


class FunctionSettings(BaseModel):
    """What one Lambda function cannot run without: its required fields, each with the
    reason it is needed. `function_settings` checks them once per process (the cold start)
    and fails with one line naming every missing variable. A function checks one of these
    models: each builds its validator when first used, not when this module is imported."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    table_name: str = Field(min_length=1, description="name the DynamoDB table to use")


class ScanSettings(FunctionSettings):
    """The scan worker: the table (the signing key is optional: it keys the log hashes and
    erasures when set)."""

    signing_key_secret: str | None = None


class DispatchSettings(FunctionSettings):
    scan_queue_url: str = Field(min_length=1, description="name the scan queue")


class NotifySettings(DispatchSettings):
    """The push notifications: the table and the scan queue, no secret."""


class PairSettings(DispatchSettings):
    signing_key_secret: str = Field(min_length=1, description="pairing needs pseudonyms")


class DigestDispatchSettings(FunctionSettings):
    """The hourly digest dispatch. Without the site's URL and the sender nobody is queued
    yet (the first deploy has no URL), so those two are optional here."""

    digest_queue_url: str = Field(min_length=1, description="name the digest queue")
    public_base_url: str | None = None
    sender_address: str | None = None

    @property
    def ready(self) -> bool:
        """Whether an email could carry its links now (the site's URL and the sender set)."""
        return bool(self.public_base_url and self.sender_address)


class DigestSendSettings(FunctionSettings):
    signing_key_secret: str = Field(
        min_length=1, description="unsubscribe links are signed with it"
    )
    public_base_url: str = Field(min_length=1, description="emails link to the site")
    sender_address: str = Field(min_length=1, description="digests are sent from it")


class SiteSettings(FunctionSettings):
    scan_queue_url: str = Field(min_length=1, description="opting in and out queue scans")
    signing_key_secret: str = Field(min_length=1, description="the site needs its keys")
    public_base_url: str = Field(min_length=1, description="sign-in links point at the site")
    sender_address: str = Field(min_length=1, description="sign-in links are sent from it")
    sign_in_per_source_per_hour: int = 500


def function_settings(model: type[_Needs], settings: Config | None = None) -> _Needs:
    """``model`` read from the process's settings, checked once per process (and again
    only when the settings are read anew); `ConfigError` names every missing variable."""
    validated: _Needs = _validated(model, settings or config())
    return validated


@cache
def _validated(model: type[_Needs], settings: Config) -> _Needs:
    try:
        return model.model_validate(settings.model_dump())
    except ValidationError as exc:
        missing = []
        for error in exc.errors():
            field = str(error["loc"][0])
            why = model.model_fields[field].description or error["msg"]
            missing.append(f"{_ENV.get(field, field)} is not set: {why}")
        raise ConfigError("; ".join(missing)) from None

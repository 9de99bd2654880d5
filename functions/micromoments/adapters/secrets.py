"""Secrets Manager: the master signing key (sessions, CSRF, unsubscribe links, pseudonyms).

The secret holds at least 32 random bytes, hex-encoded; purposes get their own keys through
`domain.access.derive_key`. Deployed, SAM generates the secret; `micromoments init` creates
it when the named secret does not exist (local stand-ins).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from micromoments.ports import Unavailable

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

MIN_KEY_BYTES = 32


class SecretError(Unavailable):
    """The secret is missing, unreadable or too short."""


def _client(client: SecretsManagerClient | None) -> SecretsManagerClient:
    return client or boto3.client("secretsmanager")


def read_master_key(secret_id: str, *, client: SecretsManagerClient | None = None) -> bytes:
    try:
        value = _client(client).get_secret_value(SecretId=secret_id)["SecretString"]
        key = bytes.fromhex(value.strip())
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Error")
        raise SecretError(f"cannot read secret {secret_id!r}: {code}") from None
    except (BotoCoreError, KeyError, ValueError) as exc:
        raise SecretError(f"cannot read secret {secret_id!r}: {exc}") from None
    if len(key) < MIN_KEY_BYTES:
        raise SecretError(f"secret {secret_id!r} holds fewer than {MIN_KEY_BYTES} bytes")
    return key


def read_secret(secret_id: str, *, client: SecretsManagerClient | None = None) -> str:
    """A secret's string as stored (e.g. the Graph app's client secret); never logged."""
    try:
        value = _client(client).get_secret_value(SecretId=secret_id)["SecretString"].strip()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Error")
        raise SecretError(f"cannot read secret {secret_id!r}: {code}") from None
    except (BotoCoreError, KeyError) as exc:
        raise SecretError(f"cannot read secret {secret_id!r}: {type(exc).__name__}") from None
    if not value:
        raise SecretError(f"secret {secret_id!r} is empty")
    return value


def ensure_master_key(secret_id: str, *, client: SecretsManagerClient | None = None) -> bool:
    """Create the secret with a fresh random key unless it exists; True when created."""
    sm = _client(client)
    try:
        sm.create_secret(Name=secret_id, SecretString=secrets.token_hex(MIN_KEY_BYTES))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceExistsException":
            return False
        code = exc.response.get("Error", {}).get("Code", "Error")
        raise SecretError(f"cannot create secret {secret_id!r}: {code}") from None
    except BotoCoreError as exc:
        raise SecretError(f"cannot create secret {secret_id!r}: {exc}") from None
    return True


def read_secret_json(
    secret_id: str, client: SecretsManagerClient | None = None
) -> dict[str, object]:
    """A secret holding one JSON object (the OAuth client, docs/deploy.md)."""
    import json

    try:
        value = _client(client).get_secret_value(SecretId=secret_id)["SecretString"]
        data = json.loads(value)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Error")
        raise SecretError(f"cannot read secret {secret_id!r}: {code}") from None
    except (BotoCoreError, KeyError) as exc:
        raise SecretError(f"cannot read secret {secret_id!r}: {exc}") from None
    except ValueError:
        raise SecretError(f"secret {secret_id!r} is not a JSON object") from None
    if not isinstance(data, dict):
        raise SecretError(f"secret {secret_id!r} is not a JSON object")
    return data

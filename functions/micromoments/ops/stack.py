"""Use case: the operator commands take their settings from the deployed stack.

`stack_settings` reads a CloudFormation stack's outputs (DescribeStacks) and turns them
into the environment the commands read: the table, the queues, the secrets (as the
stack created them: there is one signing key, the stack's), the site's URL and, on a
Microsoft 365 stack, the Graph app's settings. `export_block` prints them for a shell
(``micromoments env --stack NAME``).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from micromoments.domain.errors import DomainError

# stack output -> the variable the commands read
OUTPUT_VARIABLES = {
    "TableName": "MICROMOMENTS_TABLE_NAME",
    "ScanQueueUrl": "MICROMOMENTS_SCAN_QUEUE_URL",
    "DigestQueueUrl": "MICROMOMENTS_DIGEST_QUEUE_URL",
    "GoogleKeySecretArn": "MICROMOMENTS_GOOGLE_KEY_SECRET",
    "SigningKeySecretArn": "MICROMOMENTS_SIGNING_KEY_SECRET",
    "OAuthClientSecretArn": "MICROMOMENTS_GOOGLE_OAUTH_CLIENT_SECRET",
    "GrantKeyId": "MICROMOMENTS_GRANT_KEY_ID",
    "SiteUrl": "MICROMOMENTS_PUBLIC_BASE_URL",
    # Microsoft 365 stacks only (GraphTenantId and GraphClientId given)
    "GraphTenantId": "MICROMOMENTS_GRAPH_TENANT_ID",
    "GraphClientId": "MICROMOMENTS_GRAPH_CLIENT_ID",
    "GraphClientSecretArn": "MICROMOMENTS_GRAPH_SECRET",
    "GraphApiUrl": "MICROMOMENTS_GRAPH_API_URL",
    "GraphAuthority": "MICROMOMENTS_GRAPH_AUTHORITY",
}
REQUIRED_OUTPUTS = ("TableName", "SigningKeySecretArn")


class StackError(DomainError):
    """The stack cannot be read, or is not a micromoments stack."""


@dataclass(frozen=True, slots=True)
class StackSettings:
    name: str
    outputs: Mapping[str, str]

    @property
    def environment(self) -> dict[str, str]:
        return {
            variable: self.outputs[output]
            for output, variable in OUTPUT_VARIABLES.items()
            if self.outputs.get(output)
        }

    @property
    def site_url(self) -> str | None:
        return self.outputs.get("SiteUrl") or None

    @property
    def http_api_id(self) -> str | None:
        return self.outputs.get("HttpApiId") or None


def stack_settings(name: str, *, client: Any = None) -> StackSettings:
    """The stack's outputs; `StackError` when it does not exist or lacks the table/key."""
    from botocore.exceptions import BotoCoreError, ClientError

    if client is None:
        import boto3

        client = boto3.client("cloudformation")
    try:
        stacks = client.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise StackError(
            f"cannot read stack {name!r}: {error.get('Message') or error.get('Code')}"
        ) from None
    except BotoCoreError as exc:
        raise StackError(f"cannot read stack {name!r}: {exc}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise StackError(
            f"stack {name!r} has no output {', '.join(missing)}: is it a micromoments stack "
            "that finished deploying?"
        )
    return StackSettings(name, outputs)


def stacks_with_signing_key(*, client: Any = None) -> list[str]:
    """Names of the region's stacks that output a signing-key secret (best effort: [] when
    CloudFormation cannot be asked)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if client is None:
        import boto3

        client = boto3.client("cloudformation")
    try:
        names = []
        for page in client.get_paginator("describe_stacks").paginate():
            for stack in page["Stacks"]:
                keys = {o["OutputKey"] for o in stack.get("Outputs", [])}
                if "SigningKeySecretArn" in keys:
                    names.append(stack["StackName"])
        return names
    except (ClientError, BotoCoreError):
        return []


def export_block(settings: StackSettings) -> str:
    """``export NAME=value`` lines for a POSIX shell."""
    lines = [f"# micromoments settings of stack {settings.name}"]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in settings.environment.items()]
    return "\n".join(lines)

"""The AWS side of keyless access: the signed GetCallerIdentity request google-auth's AWS
external-account credentials send as the STS subject token.

Google forwards that request to AWS STS and learns the caller's role from the answer. The
stand-in cannot ask AWS; it knows the AWS credentials it trusts and checks the Signature
Version 4 itself (with botocore's signer), which proves the same thing: the caller holds
that role's secret key.
"""

from __future__ import annotations

import hmac
import json
import re
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AWS4_REQUEST = "urn:ietf:params:aws:token-type:aws4_request"
_STS_HOST = re.compile(r"^sts(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com$")
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)
_MAX_SKEW_S = 15 * 60  # what AWS allows between x-amz-date and its clock


class SubjectTokenError(Exception):
    """The subject token is not a valid signed GetCallerIdentity request."""


@dataclass(frozen=True, slots=True)
class AwsCaller:
    """AWS credentials the stand-in trusts, and the role they belong to."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None
    role_arn: str  # arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION

    @property
    def account(self) -> str:
        return self.role_arn.split(":")[4]


def verify_caller(
    subject_token: str, *, audience: str, callers: dict[str, AwsCaller], now: float
) -> AwsCaller:
    """The caller whose signed GetCallerIdentity request ``subject_token`` serialises."""
    try:
        request: Any = json.loads(urllib.parse.unquote(subject_token))
        url, method = str(request["url"]), str(request["method"])
        headers = {str(h["key"]).lower(): str(h["value"]) for h in request["headers"]}
    except (ValueError, KeyError, TypeError) as error:
        raise SubjectTokenError("the subject token is not a serialised AWS request") from error
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    host = _STS_HOST.match(parts.hostname or "")
    if (
        parts.scheme != "https"
        or host is None
        or method != "POST"
        or query.get("Action") != ["GetCallerIdentity"]
    ):
        raise SubjectTokenError("the subject token is not an AWS STS GetCallerIdentity request")
    if headers.get("x-goog-cloud-target-resource") != audience:
        raise SubjectTokenError("the subject token names another workload identity provider")
    found = _AUTHORIZATION.match(headers.get("authorization", ""))
    if found is None or found["service"] != "sts" or found["region"] != host.group(1):
        raise SubjectTokenError("the subject token carries no valid AWS signature")
    caller = callers.get(found["key"])
    if caller is None:
        raise SubjectTokenError("the AWS access key is unknown")
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as error:
        raise SubjectTokenError("the signed request has no valid x-amz-date") from error
    if abs(signed_at.timestamp() - now) > _MAX_SKEW_S or not amz_date.startswith(found["date"]):
        raise SubjectTokenError("the signed request is too old or from the future")
    if caller.session_token is not None and headers.get("x-amz-security-token") != (
        caller.session_token
    ):
        raise SubjectTokenError("the session token does not match")
    signed = found["signed"].split(";")
    if "host" not in signed or any(name not in headers for name in signed if name != "host"):
        raise SubjectTokenError("the signed headers are incomplete")
    to_sign = {name: headers.get(name, parts.hostname or "") for name in signed}
    aws_request = AWSRequest(method=method, url=url, headers=to_sign, data=b"")
    aws_request.context["timestamp"] = amz_date
    signer = SigV4Auth(
        Credentials(caller.access_key_id, caller.secret_access_key, caller.session_token),
        "sts",
        found["region"],
    )
    canonical = signer.canonical_request(aws_request)
    expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
    if not hmac.compare_digest(expected, found["signature"]):
        raise SubjectTokenError("the AWS signature does not match")
    return caller

"""Security properties of template.yaml, read straight from the template.

checkov (`make security`) runs its generic checks; these are the ones specific to
micromoments: which role may read which secret, log retention, encryption, dead letters,
and that every check skipped for checkov says why.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from micromoments.adapters.dynamo_template import template_loader

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"

# Which secrets each function's role may read (DESIGN.md "Google access and its blast
# radius"): the Google key only where Google is called. A Microsoft 365 deployment
# (GraphTenantId and GraphClientId given) adds the Graph client secret where a calendar
# gateway is built, and nowhere else.
SECRETS_READ = {
    "DispatchFunction": set(),
    "ScanFunction": {"GoogleKeySecret", "SigningKeySecret", "OAuthClientSecret"},
    "PairFunction": {"GoogleKeySecret", "SigningKeySecret", "OAuthClientSecret"},
    "DigestDispatchFunction": set(),
    "DigestSendFunction": {"SigningKeySecret"},
    "WebFunction": {"SigningKeySecret", "OAuthClientSecret"},
    "NotifyFunction": set(),
}
GATEWAY_FUNCTIONS = {"ScanFunction", "PairFunction"}
SECRETS_READ_ON_GRAPH = {
    name: read | ({"GraphClientSecret"} if name in GATEWAY_FUNCTIONS else set())
    for name, read in SECRETS_READ.items()
}
SCHEDULED = {"DispatchFunction", "PairFunction", "DigestDispatchFunction"}
NO_VALUE = {"Ref": "AWS::NoValue"}


def deployed(value: Any, uses_graph: bool) -> Any:
    """The template as CloudFormation resolves it for a Google (`uses_graph` False) or a
    Microsoft 365 deployment: `UsesGraph` conditions decided, `AWS::NoValue` dropped."""
    if isinstance(value, list):
        kept = [deployed(v, uses_graph) for v in value]
        return [v for v in kept if v != NO_VALUE]
    if not isinstance(value, dict):
        return value
    if "Fn::If" in value:
        condition, when_true, when_false = value["Fn::If"]
        if condition == "UsesGraph":
            return deployed(when_true if uses_graph else when_false, uses_graph)
    kept = {k: deployed(v, uses_graph) for k, v in value.items()}
    return {k: v for k, v in kept.items() if v != NO_VALUE}


def load_resources(uses_graph: bool) -> dict[str, Any]:
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=template_loader())
    found: dict[str, Any] = deployed(template["Resources"], uses_graph)
    return {
        name: resource
        for name, resource in found.items()
        if resource.get("Condition") != "UsesGraph" or uses_graph
    }


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    """A Google deployment's resources (the parameters' defaults)."""
    return load_resources(uses_graph=False)


@pytest.fixture(scope="module")
def graph_resources() -> dict[str, Any]:
    """A Microsoft 365 deployment's resources (GraphTenantId and GraphClientId given)."""
    return load_resources(uses_graph=True)


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_of(function: dict[str, Any]) -> str:
    role = function["Properties"]["Role"]
    assert role["Fn::GetAtt"][1] == "Arn"
    name: str = role["Fn::GetAtt"][0]
    return name


def test_the_functions_are_the_ones_this_file_knows(resources: dict[str, Any]) -> None:
    assert set(of_type(resources, "AWS::Serverless::Function")) == set(SECRETS_READ)


@pytest.mark.parametrize(
    ("uses_graph", "expected"), [(False, SECRETS_READ), (True, SECRETS_READ_ON_GRAPH)]
)
def test_only_scan_and_pair_can_read_the_google_key_and_the_graph_secret(
    uses_graph: bool, expected: dict[str, set[str]]
) -> None:
    resources = load_resources(uses_graph)
    functions = of_type(resources, "AWS::Serverless::Function")
    for name, function in functions.items():
        read = set()
        for statement in statements(resources[role_of(function)]):
            actions = as_list(statement["Action"])
            assert not any(
                a.startswith("secretsmanager:") and a != "secretsmanager:GetSecretValue"
                for a in actions
            ), (name, actions)
            if "secretsmanager:GetSecretValue" in actions:
                read |= {r["Ref"] for r in as_list(statement["Resource"])}
        assert read == expected[name], name
    # No other role (the schedulers') touches a secret at all.
    lambda_roles = {role_of(f) for f in functions.values()}
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        if name not in lambda_roles:
            actions = [a for s in statements(role) for a in as_list(s["Action"])]
            assert not [a for a in actions if a.startswith("secretsmanager:")], name


def test_every_role_calling_google_is_an_output_for_the_keyless_setup(
    resources: dict[str, Any],
) -> None:
    """A keyless setup trusts the roles of the functions that call Google (scan, and pair
    for freeBusy): docs/google-access.md reads their ARNs from the stack outputs."""
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=template_loader())
    output_roles = {
        output["Value"]["Fn::GetAtt"][0]
        for output in template["Outputs"].values()
        if isinstance(output["Value"], dict) and "Fn::GetAtt" in output["Value"]
    }
    callers = {
        role_of(resources[name])
        for name, secrets in SECRETS_READ.items()
        if "GoogleKeySecret" in secrets
    }
    assert callers == {"ScanFunctionRole", "PairFunctionRole"}
    assert callers <= output_roles


# What each role may do with the key sealing people's refresh tokens (docs/google-access.md,
# "Per-person OAuth"): the site seals, only scan and pair open.
GRANT_KEY_ACTIONS = {
    "ScanFunction": {"kms:Decrypt"},
    "PairFunction": {"kms:Decrypt"},
    "WebFunction": {"kms:GenerateDataKey"},
}


def test_only_scan_and_pair_can_open_a_refresh_token(resources: dict[str, Any]) -> None:
    functions = of_type(resources, "AWS::Serverless::Function")
    for name, function in functions.items():
        allowed: set[str] = set()
        for statement in statements(resources[role_of(function)]):
            actions = {a for a in as_list(statement["Action"]) if a.startswith("kms:")}
            if not actions:
                continue
            assert statement["Resource"] == {"Fn::GetAtt": ["GrantKey", "Arn"]}, name
            condition = statement["Condition"]["StringEquals"]
            assert condition == {"kms:EncryptionContext:purpose": "google-refresh-token"}
            allowed |= actions
        assert allowed == GRANT_KEY_ACTIONS.get(name, set()), name
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        if name not in {role_of(f) for f in functions.values()}:
            assert not [a for s in statements(role) for a in as_list(s["Action"])
                        if a.startswith("kms:")], name  # fmt: skip
    assert resources["GrantKey"]["Properties"]["EnableKeyRotation"] is True


def test_the_stack_never_holds_the_google_key(graph_resources: dict[str, Any]) -> None:
    for secret in ("GoogleKeySecret", "OAuthClientSecret", "GraphClientSecret"):
        properties = graph_resources[secret]["Properties"]
        assert "SecretString" not in properties
        assert "GenerateSecretString" not in properties


def test_a_google_deployment_has_no_graph_secret_setting_or_permission(
    resources: dict[str, Any], graph_resources: dict[str, Any]
) -> None:
    """The Graph pieces exist only with GraphTenantId and GraphClientId; with them, only
    the functions that build a calendar gateway (scan and pair) get the Graph settings."""
    functions = Path(__file__).resolve().parents[2] / "functions"
    building = set()
    for name, function in of_type(resources, "AWS::Serverless::Function").items():
        module = function["Properties"]["Handler"].rsplit(".", 1)[0].replace(".", "/")
        if "calendar_gateway(" in (functions / f"{module}.py").read_text(encoding="utf-8"):
            building.add(name)
    assert building == GATEWAY_FUNCTIONS
    assert "GraphClientSecret" not in resources
    assert graph_resources["GraphClientSecret"]["Properties"]["Name"] == {
        "Fn::Sub": "${AWS::StackName}/graph-client-secret"
    }
    for uses_graph, found in ((False, resources), (True, graph_resources)):
        for name, function in of_type(found, "AWS::Serverless::Function").items():
            variables = function["Properties"].get("Environment", {}).get("Variables", {})
            graph = {k: v for k, v in variables.items() if k.startswith("MICROMOMENTS_GRAPH_")}
            if uses_graph and name in GATEWAY_FUNCTIONS:
                assert graph == {
                    "MICROMOMENTS_GRAPH_API_URL": {"Ref": "GraphApiUrl"},
                    "MICROMOMENTS_GRAPH_AUTHORITY": {"Ref": "GraphAuthority"},
                    "MICROMOMENTS_GRAPH_TENANT_ID": {"Ref": "GraphTenantId"},
                    "MICROMOMENTS_GRAPH_CLIENT_ID": {"Ref": "GraphClientId"},
                    "MICROMOMENTS_GRAPH_SECRET": {"Ref": "GraphClientSecret"},
                }, name
            else:
                assert graph == {}, (uses_graph, name)


def test_no_wildcard_but_x_ray(graph_resources: dict[str, Any]) -> None:
    for name, role in of_type(graph_resources, "AWS::IAM::Role").items():
        for statement in statements(role):
            assert statement["Effect"] == "Allow"
            actions = as_list(statement["Action"])
            assert not [a for a in actions if "*" in a], (name, actions)
            if "*" in as_list(statement["Resource"]):
                assert set(actions) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_roles_trust_one_service_and_schedulers_only_this_account(
    resources: dict[str, Any],
) -> None:
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        service = trust["Principal"]["Service"]
        assert service in ("lambda.amazonaws.com", "scheduler.amazonaws.com"), name
        if service == "scheduler.amazonaws.com":
            condition = trust["Condition"]["StringEquals"]["aws:SourceAccount"]
            assert condition == {"Ref": "AWS::AccountId"}, name


def test_every_function_logs_to_its_own_group_kept_30_days(resources: dict[str, Any]) -> None:
    log_groups = of_type(resources, "AWS::Logs::LogGroup")
    assert all(g["Properties"]["RetentionInDays"] == 30 for g in log_groups.values())
    for name, function in of_type(resources, "AWS::Serverless::Function").items():
        suffix = function["Properties"]["FunctionName"]["Fn::Sub"]
        group = log_groups[function["DependsOn"]]["Properties"]["LogGroupName"]["Fn::Sub"]
        assert group == f"/aws/lambda/{suffix}", name
        [logs] = [s for s in statements(resources[role_of(function)]) if s.get("Sid") == "Logs"]
        assert logs["Resource"] == {"Fn::GetAtt": [function["DependsOn"], "Arn"]}, name
        assert set(logs["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}, name


def test_data_at_rest_is_encrypted(resources: dict[str, Any]) -> None:
    table = resources["Table"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }
    queues = of_type(resources, "AWS::SQS::Queue")
    assert queues
    for name, queue in queues.items():
        assert queue["Properties"].get("SqsManagedSseEnabled") is True, name


def test_every_failure_has_somewhere_to_land(resources: dict[str, Any]) -> None:
    queues = of_type(resources, "AWS::SQS::Queue")
    dead_letter = {n for n in queues if n.endswith("DeadLetterQueue")}
    for name in set(queues) - dead_letter:
        target = queues[name]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]
        assert target["Fn::GetAtt"][0] in dead_letter, name
    for name, schedule in of_type(resources, "AWS::Scheduler::Schedule").items():
        target = schedule["Properties"]["Target"]
        assert target["DeadLetterConfig"]["Arn"] == {
            "Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]
        }, name
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1, name
    # The scheduler invokes asynchronously: a failing function's event lands in Lambda's
    # own dead-letter queue, which its role must be allowed to send to.
    for name in SCHEDULED:
        function = resources[name]
        dlq = function["Properties"]["DeadLetterQueue"]
        assert dlq == {
            "Type": "SQS",
            "TargetArn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]},
        }
        sends = [
            s["Resource"]
            for s in statements(resources[role_of(function)])
            if "sqs:SendMessage" in as_list(s["Action"])
        ]
        assert dlq["TargetArn"] in sends, name


def test_every_skipped_security_check_says_why(graph_resources: dict[str, Any]) -> None:
    skipped = 0
    for name, resource in graph_resources.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
            assert len(skip.get("comment", "").split()) >= 12, (name, skip["id"])
            skipped += 1
    assert skipped > 0  # the annotations are where checkov reads them

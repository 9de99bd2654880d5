"""Deployment properties of template.yaml and infra/samconfig.toml, read from the files.

What an operator meets on `sam deploy`: a working site on the first deploy (the URL comes
from the API or the custom domain, never from a second deploy), alarms that reach
someone, two stacks side by side in one account, versions to roll back to, data kept when
the stack goes, and regions refused before anything is created. The template's `Rules`
are evaluated here the way CloudFormation evaluates them, for given parameters and
region. (test_template_security.py holds the least-privilege properties.)
"""

from __future__ import annotations

import inspect
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from micromoments import config
from micromoments.adapters.dynamo_template import template_loader
from micromoments.handlers import digest
from micromoments.ops.stack import OUTPUT_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "infra" / "samconfig.toml"
EXAMPLE_PARAMETERS = ROOT / "infra" / "parameters.example.json"

# The functions whose links go out in emails, and so need the site's URL.
LINKING = ("WebFunction", "DigestDispatchFunction", "DigestSendFunction")
API_URL = {"Fn::Sub": "https://${WebApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"}
DOMAIN_URL = {"Fn::Sub": "https://${DomainName}/"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(
        TEMPLATE.read_text(encoding="utf-8"), Loader=template_loader()
    )
    return loaded


def of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == kind}


def refs(value: Any) -> set[str]:
    """Every name a value refers to (Ref, GetAtt, and ${...} inside Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref":
                found.add(str(inner).split(".")[0])
            elif key == "Fn::GetAtt":
                found.add(inner[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= {p.split("}")[0].split(".")[0] for p in text.split("${")[1:]}
                if not isinstance(inner, str):
                    found |= refs(inner[1])
            else:
                found |= refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs(inner)
    return found


# -- the template's Rules, evaluated as CloudFormation does ------------------------------


def evaluate(value: Any, parameters: dict[str, str], region: str) -> Any:
    if isinstance(value, list):
        return [evaluate(v, parameters, region) for v in value]
    if not isinstance(value, dict):
        return value
    [(function, argument)] = value.items()
    if function == "Ref":
        return region if argument == "AWS::Region" else parameters[argument]
    args = evaluate(argument, parameters, region)
    if function == "Fn::Equals":
        return args[0] == args[1]
    if function == "Fn::Not":
        return not args[0]
    if function == "Fn::And":
        return all(args)
    if function == "Fn::Or":
        return any(args)
    if function == "Fn::Contains":
        return args[1] in args[0]
    raise AssertionError(f"a rule uses {function}, which this evaluator does not know")


def refusals(template: dict[str, Any], region: str = "eu-west-1", **given: str) -> list[str]:
    """The messages of the assertions that fail for these parameters, as `sam deploy`
    would print them; [] when the stack may be created."""
    parameters = {n: str(p.get("Default", "")) for n, p in template["Parameters"].items()}
    parameters.update(given)
    failed = []
    for rule in template["Rules"].values():
        condition = rule.get("RuleCondition")
        if condition is not None and not evaluate(condition, parameters, region):
            continue
        for assertion in rule["Assertions"]:
            if not evaluate(assertion["Assert"], parameters, region):
                failed.append(assertion["AssertDescription"])
    return failed


MINIMAL = {"SenderAddress": "moments@example.com", "AlarmEmail": "ops@example.com"}


# -- 1. a working site on the first deploy -----------------------------------------------


def test_the_first_deploy_gives_every_linking_function_the_site_url(
    template: dict[str, Any],
) -> None:
    """No parameter to fill in after a first deploy: the URL is the API's own, or the
    custom domain's (the site answered 503 until PublicBaseUrl was set by a second one)."""
    assert "PublicBaseUrl" not in template["Parameters"]
    resources = template["Resources"]
    for name in LINKING:
        variables = resources[name]["Properties"]["Environment"]["Variables"]
        url = variables["MICROMOMENTS_PUBLIC_BASE_URL"]
        assert url == {"Fn::If": ["HasDomainName", DOMAIN_URL, API_URL]}, name
    assert template["Conditions"]["HasDomainName"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "DomainName"}, ""]}]
    }
    assert template["Outputs"]["SiteUrl"]["Value"] == {
        "Fn::If": ["HasDomainName", DOMAIN_URL, API_URL]
    }


def test_the_api_does_not_depend_on_the_function_that_learns_its_url(
    template: dict[str, Any],
) -> None:
    """The web function reads the API's id, so the API must not read the function: SAM's
    HttpApi events would write the function into the API's definition (a cycle)."""
    resources = template["Resources"]
    for name, function in of_type(template, "AWS::Serverless::Function").items():
        events = function["Properties"].get("Events", {}).values()
        assert not [e for e in events if e["Type"] in ("HttpApi", "Api")], name
    assert resources["WebApi"]["Type"] == "AWS::ApiGatewayV2::Api"
    assert refs(resources["WebApi"]["Properties"]) <= {"AWS::StackName"}
    integration = resources["WebIntegration"]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationUri"] == {"Ref": "WebFunction.Alias"}
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]["Target"]["Fn::Sub"]
        for r in of_type(template, "AWS::ApiGatewayV2::Route").values()
    }
    assert routes == {
        "ANY /": "integrations/${WebIntegration}",
        "ANY /{proxy+}": "integrations/${WebIntegration}",
        # Google's change notifications go to the notify function, which holds no secret
        "POST /calendar/notify": "integrations/${NotifyIntegration}",
    }
    notify = resources["NotifyIntegration"]["Properties"]
    assert notify["IntegrationUri"] == {"Ref": "NotifyFunction.Alias"}
    permissions = {
        p["Properties"]["FunctionName"]["Ref"]: p["Properties"]["SourceArn"]["Fn::Sub"]
        for p in of_type(template, "AWS::Lambda::Permission").values()
    }
    assert set(permissions) == {"WebFunction.Alias", "NotifyFunction.Alias"}
    assert "${WebApi}/*" in permissions["WebFunction.Alias"]
    assert permissions["NotifyFunction.Alias"].endswith("${WebApi}/*/*/calendar/notify")
    stage = resources["WebApiStage"]["Properties"]
    assert stage["StageName"] == "$default" and stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": 50,
        "ThrottlingRateLimit": 20,
    }
    assert "$context.path" in stage["AccessLogSettings"]["Format"]
    assert "querystring" not in stage["AccessLogSettings"]["Format"].lower()


def test_a_custom_domain_comes_with_its_certificate(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    domain = resources["SiteDomain"]
    assert domain["Type"] == "AWS::ApiGatewayV2::DomainName"
    assert domain["Condition"] == "HasDomainName"
    [configuration] = domain["Properties"]["DomainNameConfigurations"]
    assert configuration["CertificateArn"] == {"Ref": "CertificateArn"}
    assert configuration["EndpointType"] == "REGIONAL"
    assert configuration["SecurityPolicy"] == "TLS_1_2"
    mapping = resources["SiteDomainMapping"]
    assert mapping["Type"] == "AWS::ApiGatewayV2::ApiMapping"
    assert mapping["Condition"] == "HasDomainName"
    assert mapping["Properties"] == {
        "ApiId": {"Ref": "WebApi"},
        "DomainName": {"Ref": "SiteDomain"},
        "Stage": {"Ref": "WebApiStage"},
    }
    assert template["Outputs"]["SiteDomainTarget"]["Condition"] == "HasDomainName"
    # A domain without a certificate is refused before anything is created.
    assert refusals(template, **MINIMAL) == []
    [refused] = refusals(template, **MINIMAL, DomainName="moments.example.com")
    assert "CertificateArn" in refused
    certificate = "arn:aws:acm:eu-west-1:123456789012:certificate/0f4e-11aa"
    given = {**MINIMAL, "DomainName": "moments.example.com", "CertificateArn": certificate}
    assert refusals(template, **given) == []


# -- 2. alarms with a subscriber ----------------------------------------------------------


def test_alarms_are_refused_without_a_subscriber(template: dict[str, Any]) -> None:
    without = {"SenderAddress": "moments@example.com"}
    [refused] = refusals(template, **without)
    assert "AlarmEmail" in refused and "AlarmTopicArn" in refused
    assert refusals(template, **without, AlarmEmail="ops@example.com") == []
    topic = "arn:aws:sns:eu-west-1:123456789012:on-call"
    assert refusals(template, **without, AlarmTopicArn=topic) == []


def test_every_alarm_notifies_the_topic_someone_receives(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    topic = {"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 10
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [topic], name
    assert resources["AlarmTopic"]["Condition"] == "CreateAlarmTopic"
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == topic
    assert subscription["Properties"]["Protocol"] == "email"
    assert template["Outputs"]["AlarmTopicArn"]["Value"] == topic


def alarm_on(template: dict[str, Any], namespace: str, metric: str) -> dict[str, Any]:
    [alarm] = [
        a["Properties"]
        for a in of_type(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == namespace
        and a["Properties"].get("MetricName") == metric
    ]
    return alarm


def test_alarms_watch_the_site_the_digest_the_scans_and_throttles(
    template: dict[str, Any],
) -> None:
    web = alarm_on(template, "AWS/ApiGateway", "5xx")
    assert web["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "WebApi"}}]
    age = alarm_on(template, "AWS/SQS", "ApproximateAgeOfOldestMessage")
    assert age["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["ScanQueue", "QueueName"]}
    assert age["Threshold"] <= 3600  # the next hour's dispatch comes
    # Throttles of every function of the stack, summed.
    [throttles] = [
        a["Properties"]
        for a in of_type(template, "AWS::CloudWatch::Alarm").values()
        if "Metrics" in a["Properties"]
    ]
    watched = {
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for m in throttles["Metrics"]
        if "MetricStat" in m and m["MetricStat"]["Metric"]["MetricName"] == "Throttles"
    }
    assert watched == set(of_type(template, "AWS::Serverless::Function"))
    [result] = [m for m in throttles["Metrics"] if m.get("ReturnData", True)]
    assert result["Expression"] == "SUM(FILL(METRICS(), 0))"


def test_digest_send_errors_are_counted_from_this_stacks_log_lines(
    template: dict[str, Any],
) -> None:
    """A failed digest is a partial batch failure (the function's Errors stay 0): the
    alarm counts the line the send handler logs for each one, in this stack's group."""
    resources = template["Resources"]
    [metric_filter] = of_type(template, "AWS::Logs::MetricFilter").values()
    properties = metric_filter["Properties"]
    assert properties["LogGroupName"] == {"Ref": "DigestSendLogGroup"}
    assert properties["FilterPattern"] == '{ $.message = "digest not sent" }'
    # The line itself: tests/unit/test_digest_service.py checks it is logged per failure.
    assert 'logger.error("digest not sent"' in inspect.getsource(digest.send_batch)
    [transformation] = properties["MetricTransformations"]
    alarm = alarm_on(template, transformation["MetricNamespace"], transformation["MetricName"])
    assert transformation["MetricNamespace"] == {"Fn::Sub": "micromoments/${AWS::StackName}"}
    assert alarm["Threshold"] == 1
    assert resources["DigestSendLogGroup"]["Type"] == "AWS::Logs::LogGroup"


def test_ses_reputation_alarms_fire_before_ses_reviews_the_account(
    template: dict[str, Any],
) -> None:
    """SES reviews an account at a 5% bounce rate or a 0.1% complaint rate."""
    bounce = alarm_on(template, "AWS/SES", "Reputation.BounceRate")
    complaint = alarm_on(template, "AWS/SES", "Reputation.ComplaintRate")
    assert 0 < bounce["Threshold"] < 0.05
    assert 0 < complaint["Threshold"] < 0.001
    for alarm in (bounce, complaint):
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


# -- 3. two stacks in one account ---------------------------------------------------------


def test_two_stacks_in_one_account_name_nothing_alike(template: dict[str, Any]) -> None:
    table = template["Resources"]["Table"]["Properties"]
    assert template["Parameters"]["TableName"]["Default"] == ""
    assert table["TableName"] == {
        "Fn::If": ["HasTableName", {"Ref": "TableName"}, {"Ref": "AWS::NoValue"}]
    }
    named = {
        "FunctionName",
        "LogGroupName",
        "Name",
        "DomainName",
        "EmailIdentity",
    }
    for name, resource in template["Resources"].items():
        for key in named & set(resource.get("Properties", {})):
            value = resource["Properties"][key]
            if resource.get("Condition") in ("HasDomainName", "HasSenderDomain"):
                continue  # named by a parameter, created only when asked for
            if isinstance(value, dict) and "Ref" in value:
                continue  # another resource's name
            assert "AWS::StackName" in refs(value), (name, key, value)
    identity = template["Resources"]["SenderIdentity"]
    assert identity["Condition"] == "HasSenderDomain"
    assert template["Parameters"]["SenderDomain"]["Default"] == ""


def test_samconfig_has_a_staging_and_a_prod_stack(template: dict[str, Any]) -> None:
    config = tomllib.loads(SAMCONFIG.read_text(encoding="utf-8"))
    stacks = {env: config[env]["global"]["parameters"]["stack_name"] for env in ("staging", "prod")}
    assert len(set(stacks.values())) == 2
    overrides = {}
    for env in ("staging", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        assert deploy["capabilities"] == "CAPABILITY_IAM"
        assert deploy["s3_prefix"] == stacks[env]
        pairs = [p.split("=", 1) for p in deploy["parameter_overrides"].split()]
        overrides[env] = {k: v.strip('"') for k, v in pairs}
        assert set(overrides[env]) <= set(template["Parameters"]), env
        assert refusals(template, **overrides[env]) == [], env
    # One SES identity per account and region: prod owns it, staging sends through it.
    assert overrides["prod"].get("SenderDomain")
    assert not overrides["staging"].get("SenderDomain")
    assert "TableName" not in overrides["staging"] and "TableName" not in overrides["prod"]


def test_the_example_parameters_are_the_templates(template: dict[str, Any]) -> None:
    example = json.loads(EXAMPLE_PARAMETERS.read_text(encoding="utf-8"))
    assert set(example) <= set(template["Parameters"])
    assert refusals(template, **example) == []


# -- 4. upgrades, rollback and what deleting the stack keeps ------------------------------


def test_every_invocation_goes_through_the_live_alias(template: dict[str, Any]) -> None:
    assert template["Globals"]["Function"]["AutoPublishAlias"] == "live"
    resources = template["Resources"]
    for name, schedule in of_type(template, "AWS::Scheduler::Schedule").items():
        target = schedule["Properties"]["Target"]
        alias = target["Arn"]
        assert alias["Ref"].endswith(".Alias"), name
        role = resources[target["RoleArn"]["Fn::GetAtt"][0]]
        invokes = [
            s["Resource"]
            for p in role["Properties"]["Policies"]
            for s in p["PolicyDocument"]["Statement"]
            if s["Action"] == "lambda:InvokeFunction"
        ]
        assert invokes == [alias], name
    # SQS event sources of a function with AutoPublishAlias are attached to the alias by
    # SAM; the HTTP API's integration and permission name it here.
    assert resources["WebIntegration"]["Properties"]["IntegrationUri"] == {
        "Ref": "WebFunction.Alias"
    }


def test_the_table_and_the_secrets_outlive_the_stack(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    assert resources["Table"]["Properties"]["DeletionProtectionEnabled"] is True
    kept = ["Table", "GrantKey", *of_type(template, "AWS::SecretsManager::Secret")]
    assert len(kept) == 6  # the Graph client secret only on a Microsoft 365 deployment
    for name in kept:
        assert resources[name]["DeletionPolicy"] == "Retain", name
        assert resources[name]["UpdateReplacePolicy"] == "Retain", name


def test_a_microsoft_deployment_names_its_tenant_and_client_together(
    template: dict[str, Any],
) -> None:
    tenant = "0b6b9c4e-1f0a-4c55-9a3e-6d2f0e8a7c11"
    client = "5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
    assert refusals(template, **MINIMAL) == []  # Google: neither
    assert refusals(template, **MINIMAL, GraphTenantId=tenant, GraphClientId=client) == []
    for given in ({"GraphTenantId": tenant}, {"GraphClientId": client}):
        [refused] = refusals(template, **MINIMAL, **given)
        assert "GraphTenantId and GraphClientId together" in refused
    assert template["Conditions"]["UsesGraph"] == {
        "Fn::And": [
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "GraphTenantId"}, ""]}]},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "GraphClientId"}, ""]}]},
        ]
    }


def test_the_graph_parameters_default_to_microsofts_public_cloud(
    template: dict[str, Any],
) -> None:
    """The template's defaults are the settings' own, so a Microsoft 365 deployment needs
    only the tenant and the client; national clouds change the two URLs."""
    parameters = template["Parameters"]
    assert parameters["GraphApiUrl"]["Default"] == config.DEFAULT_GRAPH_API_URL
    assert parameters["GraphAuthority"]["Default"] == config.DEFAULT_GRAPH_AUTHORITY
    assert parameters["GraphTenantId"]["Default"] == ""
    assert parameters["GraphClientId"]["Default"] == ""


def test_the_operator_commands_get_the_graph_settings_the_functions_get(
    template: dict[str, Any],
) -> None:
    """`micromoments --stack NAME` reads the Graph settings from the stack's outputs: each
    is an output of the template, there on a Microsoft 365 stack only, with the value the
    scan and pair functions are given."""
    outputs = template["Outputs"]
    assert set(OUTPUT_VARIABLES) <= set(outputs)
    graph = {o: v for o, v in OUTPUT_VARIABLES.items() if v.startswith("MICROMOMENTS_GRAPH_")}
    assert set(graph.values()) == {v for v in config._ENV.values() if "_GRAPH_" in v}
    for name in ("ScanFunction", "PairFunction"):
        variables = template["Resources"][name]["Properties"]["Environment"]["Variables"]
        for output, variable in graph.items():
            assert outputs[output]["Condition"] == "UsesGraph", output
            condition, value, absent = variables[variable]["Fn::If"]
            assert (condition, absent) == ("UsesGraph", {"Ref": "AWS::NoValue"})
            assert outputs[output]["Value"] == value, (name, output)


# -- 5. regions -----------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1", "eu-central-1", "ap-southeast-2"])
def test_regions_with_ses_and_the_scheduler_are_accepted(
    template: dict[str, Any], region: str
) -> None:
    assert refusals(template, region, **MINIMAL, SenderDomain="example.com") == []


@pytest.mark.parametrize("region", ["ap-east-1", "cn-north-1", "cn-northwest-1"])
def test_regions_without_ses_are_refused_with_the_reason(
    template: dict[str, Any], region: str
) -> None:
    [refused] = refusals(template, region, **MINIMAL)
    assert "Amazon SES" in refused and "Regions" in refused


def test_regions_without_the_identity_resource_need_the_identity_made_by_hand(
    template: dict[str, Any],
) -> None:
    """SES sends in eu-south-2, but CloudFormation cannot create its identities there."""
    assert refusals(template, "eu-south-2", **MINIMAL) == []
    [refused] = refusals(template, "eu-south-2", **MINIMAL, SenderDomain="example.com")
    assert "AWS::SES::EmailIdentity" in refused and "SenderDomain" in refused

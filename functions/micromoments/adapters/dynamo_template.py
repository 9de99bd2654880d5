"""The table's definition, read once from the ``Table`` resource of template.yaml.

`table_definition` turns it into ``client.create_table`` kwargs (plus the TTL and
point-in-time recovery settings) for `adapters.dynamo.create_table`, so tests and
infrastructure cannot drift (STYLE.md 9). PyYAML is imported on first use only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from micromoments.ports import StoreError

TEMPLATE_ENV = "MICROMOMENTS_TEMPLATE"
TEMPLATE_RESOURCE = "Table"
# `table_definition` adds these two keys to the create_table kwargs.
TTL_KEY = "ttl_attribute"  # the TTL attribute name, or None when TTL is off
PITR_KEY = "point_in_time_recovery"  # whether point-in-time recovery is on

_CREATE_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
)
_INDEX_PROPERTIES = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")


def default_template_path() -> Path:
    """template.yaml at the repository root, or the file ``MICROMOMENTS_TEMPLATE`` names."""
    configured = os.environ.get(TEMPLATE_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "template.yaml"


def _intrinsic_in(value: Any) -> str | None:
    """The first CloudFormation function inside ``value``, if any."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" or str(key).startswith("Fn::"):
                return str(key)
            found = _intrinsic_in(inner)
            if found:
                return found
    if isinstance(value, list):
        for inner in value:
            found = _intrinsic_in(inner)
            if found:
                return found
    return None


def template_loader() -> type[Any]:
    """A SafeLoader that reads CloudFormation short-form tags (``!Ref``…) as plain values.
    Built on first use: PyYAML is needed only to create tables, not on a Lambda's path."""
    import yaml

    class _TemplateLoader(yaml.SafeLoader):
        """A safe loader that reads CloudFormation short-form tags (``!Ref``, ``!Sub``, …).

        A tagged node becomes its long form as plain values: ``!Ref X`` -> ``{"Ref": "X"}``,
        ``!Sub s`` -> ``{"Fn::Sub": "s"}``, ``!GetAtt A.B`` -> ``{"Fn::GetAtt": ["A", "B"]}``.
        """

    def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            assert isinstance(node, yaml.MappingNode)
            value = loader.construct_mapping(node, deep=True)
        if suffix in ("Ref", "Condition"):
            return {suffix: value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {f"Fn::{suffix}": value}

    _TemplateLoader.add_multi_constructor("!", _intrinsic)
    return _TemplateLoader


def table_definition(template_path: Path | None = None) -> dict[str, Any]:
    """The ``Table`` resource of template.yaml as ``client.create_table`` kwargs.

    TableName is left out (the caller names the table). Besides the create_table kwargs
    the dict holds `TTL_KEY` (the TTL attribute name, or None) and `PITR_KEY` (whether
    point-in-time recovery is on); `create_table` applies those after the table exists.
    """
    path = template_path or default_template_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StoreError(
            f"cannot read the table definition {path}: {exc.strerror or exc} "
            f"(set {TEMPLATE_ENV} to the path of template.yaml)"
        ) from None
    import yaml

    try:
        template = yaml.load(text, Loader=template_loader())
    except yaml.YAMLError as exc:
        raise StoreError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    resources = template.get("Resources") if isinstance(template, dict) else None
    resource = resources.get(TEMPLATE_RESOURCE) if isinstance(resources, dict) else None
    if not isinstance(resource, dict) or resource.get("Type") != "AWS::DynamoDB::Table":
        raise StoreError(
            f"{path} has no `{TEMPLATE_RESOURCE}` resource of type AWS::DynamoDB::Table"
        )
    properties = resource.get("Properties") or {}
    definition: dict[str, Any] = {}
    for name in _CREATE_PROPERTIES:
        if name not in properties:
            continue
        value = properties[name]
        if name in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            value = [{k: v for k, v in index.items() if k in _INDEX_PROPERTIES} for index in value]
        function = _intrinsic_in(value)
        if function:
            raise StoreError(
                f"{path}: {TEMPLATE_RESOURCE}.{name} uses {function}; "
                "the table definition needs plain values"
            )
        definition[name] = value
    for required in ("AttributeDefinitions", "KeySchema"):
        if required not in definition:
            raise StoreError(f"{path}: {TEMPLATE_RESOURCE} has no {required}")
    for name in ("TimeToLiveSpecification", "PointInTimeRecoverySpecification"):
        function = _intrinsic_in(properties.get(name))
        if function:
            raise StoreError(
                f"{path}: {TEMPLATE_RESOURCE}.{name} uses {function}; "
                "the table definition needs plain values"
            )
    ttl = properties.get("TimeToLiveSpecification") or {}
    definition[TTL_KEY] = ttl.get("AttributeName") if ttl.get("Enabled") is True else None
    pitr = properties.get("PointInTimeRecoverySpecification") or {}
    definition[PITR_KEY] = pitr.get("PointInTimeRecoveryEnabled") is True
    return definition
